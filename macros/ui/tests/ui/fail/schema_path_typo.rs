use mikrotik_rs::command;

fn main() {
    // A typo in a menu, and one in a command.
    let _cmd = command!("/ip/adress/print");
    let _cmd = command!("/interface/bridge/pirnt");
}
