use mikrotik_rs::command;

fn main() {
    let mtu: u16 = 1500;
    let _cmd = command!("/interface/set", numbers = "0", mtu = mtu);
}
