use mikrotik_rs::command;

fn main() {
    let _ = command!("/interface/print", ?);
    let _ = command!("/interface/print", ?type = "ether",, ?running);
    let _ = command!("/interface/set", mac- = "02:00:00:00:00:01");
    let _ = command!("/interface/set", 42 = "x");
    let _ = command!("/interface/set", name = "a"; "b");
    let _ = command!("/interface/print", ?type = "ether", ?type = "vlan", ?#(|));
    let _ = command!("/interface/print", ?<);
}
