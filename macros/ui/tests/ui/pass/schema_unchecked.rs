//! The way out: `unchecked` before the path skips the RouterOS tree check (RouterOS 6
//! paths, packages or releases the schema lacks); the syntax checks stay.

use mikrotik_rs::command;

fn main() {
    // RouterOS 6's BGP peers (v7 calls them `/routing/bgp/connection`).
    let cmd = command!(unchecked "/routing/bgp/peer/print", ?name = "upstream");
    assert_eq!(cmd.path(), "/routing/bgp/peer/print");
    let cmd = command!(unchecked "/ip/address/add", adress = "10.0.0.1/24", mtu = 1500);
    assert_eq!(cmd.words()[1], b"=adress=10.0.0.1/24");
}
