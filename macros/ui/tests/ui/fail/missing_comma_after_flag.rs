use mikrotik_rs::command;

fn main() {
    let _cmd = command!("/interface/ethernet/monitor", once numbers = "0");
}
