use mikrotik_rs::command;

fn main() {
    let _cmd = command!("/ip_address/print");
}
