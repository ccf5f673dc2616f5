use mikrotik_rs::command;

fn main() {
    let _cmd = command!("/ip/address/add", adress = "192.168.88.1/24", interface = "ether1");
    let _cmd = command!("/interface/ethernet/set", numbers = "ether1", mac-adress = "02:00:00:00:00:01");
}
