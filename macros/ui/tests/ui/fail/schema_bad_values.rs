use mikrotik_rs::command;

fn main() {
    // Not an IPv4 address (a prefix length is fine: routers take `192.168.88.1/24`).
    let _cmd = command!("/ip/address/add", address = "192.168.88.300/24", interface = "ether1");
    // Outside the hint's range, 4s..30s.
    let _cmd = command!("/interface/bridge/set", numbers = "bridge1", forward-delay = "45s");
    // `chop` is not one of pap|chap|mschap1|mschap2.
    let _cmd = command!("/interface/pppoe-server/server/add", service-name = "isp", authentication = "pap,chop");
    // Longer than the hint's 16 characters.
    let _cmd = command!("/interface/l2tp-ether/add", name = "l2", send-cookie = "0123456789abcdef0");
    // Not a MAC address.
    let _cmd = command!("/ip/arp/add", address = "10.0.0.2", mac-address = "02:00:00:00:00", interface = "ether1");
}
