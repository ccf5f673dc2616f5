use mikrotik_rs::command;

fn main() {
    let _cmd = command!("/interface/print", ?"mac address" = "02:00:00:00:00:01");
}
