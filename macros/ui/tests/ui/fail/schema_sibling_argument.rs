use mikrotik_rs::command;

fn main() {
    // `numbers` picks items for `set` and `remove`; `add` makes a new one.
    let _cmd = command!("/ip/address/add", numbers = "*1", address = "10.0.0.1/24");
    // `.id` likewise.
    let _cmd = command!("/ip/address/add", ".id" = "*1");
}
