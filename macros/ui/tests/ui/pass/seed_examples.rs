use mikrotik_rs::command;

fn main() {
    let cmd = command!("/interface/print");
    assert_eq!(cmd.path(), "/interface/print");

    let cmd = command!("/interface/ethernet/monitor", numbers = "0,1", once);
    assert_eq!(cmd.words()[1..3], [&b"=numbers=0,1"[..], b"=once="]);
}
