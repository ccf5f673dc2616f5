//! `hexadecimal string value, max length 16` counts bytes: MikroTik's MACsec manual
//! shows a router printing this key pair (a 16-byte CAK as 32 hexadecimal digits, a
//! 32-byte CKN as 64) and configures the peer with it; `command!` takes it.

use mikrotik_rs::command;

fn main() {
    let _ = command!(
        "/interface/macsec/add",
        interface = "ether1",
        cak = "71a7c363794da400dbde595d3926b0e9",
        ckn = "f2c4660060169391d29d8db8a1f06e5d4b84a128bad06ad43ea2bd4f7d21968f"
    );
}
