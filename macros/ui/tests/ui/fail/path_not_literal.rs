use mikrotik_rs::command;

fn main() {
    const PATH: &str = "/interface/print";
    let _cmd = command!(PATH);
}
