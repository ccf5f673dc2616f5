use mikrotik_rs::command;

fn main() {
    let _cmd = command!("/interface/set", "mac address" = "02:00:00:00:00:01");
}
