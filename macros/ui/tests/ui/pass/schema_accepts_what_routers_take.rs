//! Commands the check must let through: what real routers accept.

use mikrotik_rs::command;

fn main() {
    // `address` hints `A.B.C.D (IP address)`, yet every router takes a prefix length.
    let _ = command!("/ip/address/add", address = "192.168.88.1/24", interface = "ether1");
    // The API's own words beyond the console tree.
    let _ = command!("/interface/listen", ".proplist" = "name,running");
    let _ = command!("/ip/address/getall");
    let _ = command!("/cancel", tag = "7");
    let _ = command!("/login", name = "admin", password = "");
    let _ = command!("/quit");
    let _ = command!("/ip/address/set", ".id" = "*1", disabled = true);
    let _ = command!("/ip/address/remove", numbers = "*1,*2");
    // Query keys are properties (read-only ones too), never checked as arguments.
    let _ = command!("/interface/print", ?running = "true", ?actual-mtu, ?#|);
    // Names that exist in some covered releases only (`/app` since 7.21).
    let _ = command!("/app/print");
    // A value that is not a literal is checked by the router, not here.
    let address = String::from("10.0.0.1/24");
    let _ = command!("/ip/address/add", address = address, interface = "ether1");
    // `/ping address=` has an IP hint in some releases and none in others: unchecked.
    let _ = command!("/ping", address = "router.lan", count = 3);
}
