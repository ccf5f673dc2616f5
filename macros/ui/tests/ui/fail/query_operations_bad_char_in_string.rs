use mikrotik_rs::command;

fn main() {
    let _cmd = command!("/interface/print", ?type = "ether", ?type = "vlan", ?# "or");
}
