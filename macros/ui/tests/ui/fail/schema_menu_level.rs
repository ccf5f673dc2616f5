use mikrotik_rs::command;

fn main() {
    // A menu without its command, and a command one menu too high.
    let _cmd = command!("/ip/address");
    let _cmd = command!("/ip/print");
}
