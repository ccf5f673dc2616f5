//! Issue 19.6: every value the builder takes compiles, including ones that create
//! temporaries, owned `String`s, and integer and `bool` literals.
use mikrotik_rs::command;

fn main() {
    let n = 3;
    let owned = String::from("ether1");
    let cmd = command!(
        "/interface/ethernet/set",
        numbers = &format!("ether{n}"),
        mac-address = format!("02:00:00:00:00:{n:02x}").as_str(),
        "comment" = owned.clone().as_str(),
        name = owned,
        mtu = 1500,
        disabled = false,
        ?<mtu = 9_000,
        ?"arp-timeout" = String::from("auto").as_str(),
    );
    assert_eq!(
        cmd.words()[1..],
        [
            &b"=numbers=ether3"[..],
            b"=mac-address=02:00:00:00:00:03",
            b"=comment=ether1",
            b"=name=ether1",
            b"=mtu=1500",
            b"=disabled=no",
            b"?<mtu=9000",
            b"?arp-timeout=auto",
            cmd.words().last().unwrap(),
        ]
    );
    assert_eq!(owned, "ether1", "borrowed, not moved");
}
