use mikrotik_rs::command;

fn main() {
    let _cmd = command!("/interface/set", mac - address = "x", mac - address = "y");
}
