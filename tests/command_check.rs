//! The RouterOS check outside the macro's own tests: the crate-wide way out, and the
//! run-time check on commands the builder and the menu helpers make.

use mikrotik_rs::command;
use mikrotik_rs::protocol::command::CommandBuilder;

/// With `unchecked-commands` (on in `--all-features` builds) names the tree lacks
/// compile: this file would not build if the feature did not reach the macro.
#[cfg(feature = "unchecked-commands")]
#[test]
fn the_feature_turns_the_compile_time_check_off() {
    let cmd = command!("/ip/adress/print", adress = "10.0.0.1/24");
    assert_eq!(cmd.path(), "/ip/adress/print");
}

/// Per call, `unchecked` does the same in every build.
#[test]
fn unchecked_calls_compile_in_every_build() {
    let cmd = command!(unchecked "/routing/bgp/peer/print", ?name = "upstream");
    assert_eq!(cmd.path(), "/routing/bgp/peer/print");
}

/// A path chosen at run time gets the same check and message as `command!`.
#[test]
fn run_time_paths_get_the_macros_message() {
    for (path, suggestion) in [
        ("/ip/adress/print", "did you mean `/ip/address/print`?"),
        (
            "/interface/wirelss/print",
            "did you mean `/interface/wireless/print`?",
        ),
        ("/ip/print", "e.g. `/ip/address/print`"),
    ] {
        let cmd = CommandBuilder::new().command(path).build();
        let error = cmd.check().unwrap_err();
        assert!(error.message().contains(suggestion), "{error}");
        assert_eq!(error.path(), path);
    }
    // What command! accepts, the run-time check accepts too.
    command!(
        "/ip/address/add",
        address = "192.168.88.1/24",
        interface = "ether1"
    )
    .check()
    .unwrap();
    command!("/interface/listen", ".proplist" = "name")
        .check()
        .unwrap();
}
