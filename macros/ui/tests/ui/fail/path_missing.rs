use mikrotik_rs::command;

fn main() {
    let _cmd = command!();
}
