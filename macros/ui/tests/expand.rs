//! Expansion tests: every accepted form of `command!` gives the bytes the builder gives.

use std::borrow::Cow;
use std::cell::Cell;

use mikrotik_rs::command;
use mikrotik_rs::protocol::command::{Cmd, Command, CommandBuilder, QueryOperator};

/// The words of a command without its last word, the `.tag=…` one (checked here).
fn words_without_tag(cmd: &Command) -> Vec<String> {
    let mut words: Vec<String> = cmd
        .words()
        .into_iter()
        .map(|w| String::from_utf8(w).unwrap())
        .collect();
    let tag = words.pop().expect("a command ends with its tag");
    assert_eq!(tag, format!(".tag={}", cmd.tag().hyphenated()));
    words
}

/// Asserts the macro's command equals the builder's, tag aside, and that its words are
/// `expected` (path first, tag left out).
#[track_caller]
fn assert_same(from_macro: Command, builder: CommandBuilder<Cmd>, expected: &[&str]) {
    let from_builder = builder.build();
    assert_eq!(
        words_without_tag(&from_macro),
        words_without_tag(&from_builder)
    );
    assert_eq!(words_without_tag(&from_macro), expected);
    // Given the same tag, the builder makes the very same bytes.
    let mut tagged = CommandBuilder::with_tag(from_macro.tag()).command(&from_macro.path());
    for word in &words_without_tag(&from_macro)[1..] {
        tagged = tagged.word(word.as_bytes());
    }
    assert_eq!(from_macro.as_bytes(), tagged.build().as_bytes());
}

#[test]
fn path_alone() {
    assert_same(
        command!("/interface/print"),
        CommandBuilder::new().command("/interface/print"),
        &["/interface/print"],
    );
}

#[test]
fn seed_example_ident_keys_with_and_without_value() {
    assert_same(
        command!("/interface/ethernet/monitor", numbers = "0,1", once),
        CommandBuilder::new()
            .command("/interface/ethernet/monitor")
            .attribute("numbers", Some("0,1"))
            .attribute("once", None),
        &["/interface/ethernet/monitor", "=numbers=0,1", "=once="],
    );
}

#[test]
fn string_literal_keys() {
    let iface = "ether1";
    assert_same(
        command!(
            "/ip/address/add",
            "address" = "10.0.0.1/24",
            "interface" = iface,
            ".proplist" = "name,mtu"
        ),
        CommandBuilder::new()
            .command("/ip/address/add")
            .attribute("address", Some("10.0.0.1/24"))
            .attribute("interface", Some(iface))
            .attribute(".proplist", Some("name,mtu")),
        &[
            "/ip/address/add",
            "=address=10.0.0.1/24",
            "=interface=ether1",
            "=.proplist=name,mtu",
        ],
    );
}

#[test]
fn dashed_and_raw_and_flag_keys() {
    assert_same(
        command!(
            // Names the tree lacks (`rx-1024-max` is a property, not an argument).
            unchecked "/interface/ethernet/set",
            ".id" = "*1",
            mac-address = "02:00:00:00:00:01",
            rx-1024-max = "x",
            r#type = "ether",
            loop = "no",
            "disabled",
        ),
        CommandBuilder::new()
            .command("/interface/ethernet/set")
            .attribute(".id", Some("*1"))
            .attribute("mac-address", Some("02:00:00:00:00:01"))
            .attribute("rx-1024-max", Some("x"))
            .attribute("type", Some("ether"))
            .attribute("loop", Some("no"))
            .attribute("disabled", None),
        &[
            "/interface/ethernet/set",
            "=.id=*1",
            "=mac-address=02:00:00:00:00:01",
            "=rx-1024-max=x",
            "=type=ether",
            "=loop=no",
            "=disabled=",
        ],
    );
}

#[test]
fn every_query_form() {
    assert_same(
        command!(
            "/interface/print",
            ?type = "ether",
            ?>mtu = "1500",
            ?<mtu = "9000",
            ?comment,
            ?-disabled,
            ?#|!&.,
            ?"mac-address" = "02:00:00:00:00:01",
            ?dst-address = "0.0.0.0/0",
            ?#1.12&,
            ?-"running",
        ),
        CommandBuilder::new()
            .command("/interface/print")
            .query_equal("type", "ether")
            .query_gt("mtu", "1500")
            .query_lt("mtu", "9000")
            .query_is_present("comment")
            .query_not_present("disabled")
            .query_operations(
                [
                    QueryOperator::Or,
                    QueryOperator::Not,
                    QueryOperator::And,
                    QueryOperator::Dot,
                ]
                .into_iter(),
            )
            .query_equal("mac-address", "02:00:00:00:00:01")
            .query_equal("dst-address", "0.0.0.0/0")
            .query_operations(
                [
                    QueryOperator::Index(1),
                    QueryOperator::Dot,
                    QueryOperator::Index(12),
                    QueryOperator::And,
                ]
                .into_iter(),
            )
            .query_not_present("running"),
        &[
            "/interface/print",
            "?type=ether",
            "?>mtu=1500",
            "?<mtu=9000",
            "?comment",
            "?-disabled",
            "?#|!&.",
            "?mac-address=02:00:00:00:00:01",
            "?dst-address=0.0.0.0/0",
            "?#1.12&",
            "?-running",
        ],
    );
}

#[test]
fn issue_query_example() {
    assert_same(
        command!("/interface/print", ?type = "ether", ?running = "true", ?#|),
        CommandBuilder::new()
            .command("/interface/print")
            .query_equal("type", "ether")
            .query_equal("running", "true")
            .query_operations([QueryOperator::Or].into_iter()),
        &["/interface/print", "?type=ether", "?running=true", "?#|"],
    );
}

#[test]
fn values_are_any_string_expression() {
    let borrowed: &str = "a";
    let owned = String::from("b");
    let reference = &owned;
    let cow: Cow<'_, str> = Cow::Borrowed("c");
    let n = 7;
    assert_same(
        command!(
            unchecked "/x/set",
            k1 = borrowed,
            k2 = owned.clone(),
            k3 = reference,
            k4 = cow,
            k5 = format!("{n}-{}", n + 1),
            k6 = n.to_string(),
            k7 = if n > 5 { "big" } else { "small" },
            k8 = &String::from("temporary"),
            k9 = owned,
            k10 = owned.clone() + "+" + borrowed,
            ?q = format!("{borrowed}{borrowed}"),
        ),
        CommandBuilder::new()
            .command("/x/set")
            .attribute("k1", Some("a"))
            .attribute("k2", Some("b"))
            .attribute("k3", Some("b"))
            .attribute("k4", Some("c"))
            .attribute("k5", Some("7-8"))
            .attribute("k6", Some("7"))
            .attribute("k7", Some("big"))
            .attribute("k8", Some("temporary"))
            .attribute("k9", Some("b"))
            .attribute("k10", Some("b+a"))
            .query_equal("q", "aa"),
        &[
            "/x/set",
            "=k1=a",
            "=k2=b",
            "=k3=b",
            "=k4=c",
            "=k5=7-8",
            "=k6=7",
            "=k7=big",
            "=k8=temporary",
            "=k9=b",
            "=k10=b+a",
            "?q=aa",
        ],
    );
}

#[test]
fn values_are_borrowed_not_moved() {
    let owned = String::from("kept");
    let cmd = command!(unchecked "/x", a = owned, ?b = owned);
    assert_eq!(owned, "kept", "still usable after the macro");
    assert_eq!(words_without_tag(&cmd), ["/x", "=a=kept", "?b=kept"]);
}

#[test]
fn query_operation_spellings() {
    let expected = ["/x", "?a", "?b", "?c", "?#2.1&|!"];
    let written_out = command!(unchecked "/x", ?a, ?b, ?c, ?#2.1&|!);
    let spaced = command!(unchecked "/x", ?a, ?b, ?c, ?#2 1 & | !);
    let quoted = command!(unchecked "/x", ?a, ?b, ?c, ?# "2.1&|!");
    let mixed = command!(unchecked "/x", ?a, ?b, ?c, ?#2 "1&" ||!);
    for cmd in [written_out, spaced, quoted] {
        assert_eq!(words_without_tag(&cmd), expected);
    }
    assert_eq!(
        words_without_tag(&mixed),
        ["/x", "?a", "?b", "?c", "?#2.1&||!"]
    );
}

#[test]
fn values_run_at_run_time_in_order() {
    let counter = Cell::new(0);
    let next = || {
        counter.set(counter.get() + 1);
        counter.get().to_string()
    };
    for round in 0..2 {
        let cmd = command!(unchecked "/x", a = next(), ?b = next(), c = next());
        let base = round * 3;
        assert_eq!(
            words_without_tag(&cmd),
            [
                "/x".to_owned(),
                format!("=a={}", base + 1),
                format!("?b={}", base + 2),
                format!("=c={}", base + 3),
            ]
        );
    }
}

#[test]
fn each_run_gets_a_fresh_tag() {
    let make = || command!("/interface/print");
    let (a, b) = (make(), make());
    assert_ne!(a.tag(), b.tag());
    assert_eq!(a.tag().get_version_num(), 4);
    assert_eq!(words_without_tag(&a), words_without_tag(&b));
}

#[test]
fn generated_bindings_do_not_capture_user_names() {
    // The expansion binds values to its own (hygienic) names; a caller's variables with
    // the same spelling stay untouched.
    let value0 = "mine";
    let value1 = "also mine";
    let cmd = command!(unchecked "/x", a = "first", b = value0, c = value1);
    assert_eq!(
        words_without_tag(&cmd),
        ["/x", "=a=first", "=b=mine", "=c=also mine"]
    );
}

#[test]
fn raw_string_path_and_escaped_names() {
    assert_same(
        command!(r"/interface/print", "\x2eproplist" = "name"),
        CommandBuilder::new()
            .command("/interface/print")
            .attribute(".proplist", Some("name")),
        &["/interface/print", "=.proplist=name"],
    );
}

macro_rules! through_macro_rules {
    ($path:literal, $value:expr) => {
        command!(unchecked $path, name = $value, ?name = $value)
    };
    (expr $path:expr) => {
        command!($path)
    };
}

#[test]
fn works_inside_macro_rules() {
    assert_same(
        through_macro_rules!("/interface/print", "ether1"),
        CommandBuilder::new()
            .command("/interface/print")
            .attribute("name", Some("ether1"))
            .query_equal("name", "ether1"),
        &["/interface/print", "=name=ether1", "?name=ether1"],
    );
    assert_same(
        through_macro_rules!(expr "/system/resource/print"),
        CommandBuilder::new().command("/system/resource/print"),
        &["/system/resource/print"],
    );
}

#[test]
fn values_that_make_temporaries_live_until_built() {
    // Issue 19.6: a `let` binding would drop these temporaries too early
    // ("temporary value dropped while borrowed"); the expansion matches on them instead.
    let n = 10;
    assert_same(
        command!(
            "/ip/address/add",
            "address" = &format!("10.0.0.{n}/24"),
            "interface" = format!("ether{}", n / 5).as_str(),
            ?comment = String::from("x").as_str(),
        ),
        CommandBuilder::new()
            .command("/ip/address/add")
            .attribute("address", Some("10.0.0.10/24"))
            .attribute("interface", Some("ether2"))
            .query_equal("comment", "x"),
        &[
            "/ip/address/add",
            "=address=10.0.0.10/24",
            "=interface=ether2",
            "?comment=x",
        ],
    );
}

#[test]
fn integer_and_bool_literals_are_sent_as_routeros_writes_them() {
    assert_same(
        command!(
            unchecked "/interface/set",
            mtu = 1500,
            l2mtu = 1_598,
            offset = -1,
            disabled = true,
            running = false,
            ?>mtu = 0
        ),
        CommandBuilder::new()
            .command("/interface/set")
            .attribute("mtu", Some("1500"))
            .attribute("l2mtu", Some("1598"))
            .attribute("offset", Some("-1"))
            .attribute("disabled", Some("yes"))
            .attribute("running", Some("no"))
            .query_gt("mtu", "0"),
        &[
            "/interface/set",
            "=mtu=1500",
            "=l2mtu=1598",
            "=offset=-1",
            "=disabled=yes",
            "=running=no",
            "?>mtu=0",
        ],
    );
}

#[test]
fn names_the_crate_through_dollar_crate() {
    // The wrapper passes `$crate`; called bare, the proc macro falls back to `::mikrotik_rs`.
    let via_wrapper = mikrotik_rs::command!(unchecked "/x", a = "1");
    let bare = mikrotik_rs::__command!(unchecked "/x", a = "1");
    assert_eq!(words_without_tag(&via_wrapper), words_without_tag(&bare));
}
