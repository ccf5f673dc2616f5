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

/// Every sentence a client sent in the recorded and documented transcripts (real
/// RouterOS 7.24 traffic, MikroTik's manual) passes: the check never refuses what
/// routers were seen to take.
#[test]
fn every_sentence_of_the_transcripts_passes() {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/transcripts");
    let mut checked = 0;
    for entry in std::fs::read_dir(directory).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().filter(|line| line.starts_with("> ")) {
            // `> TIME TAG /path word word …`, words with spaces in double quotes.
            let sentence = line.splitn(4, ' ').nth(3).unwrap();
            let mut words = Vec::new();
            let mut rest = sentence;
            while !rest.is_empty() {
                let (word, after) = match rest.strip_prefix('"') {
                    Some(quoted) => quoted
                        .split_once("\" ")
                        .unwrap_or((quoted.trim_end_matches('"'), "")),
                    None => rest.split_once(' ').unwrap_or((rest, "")),
                };
                words.push(word);
                rest = after;
            }
            let mut builder = CommandBuilder::new().command(words[0]);
            for word in &words[1..] {
                builder = builder.word(word.as_bytes());
            }
            let cmd = builder.build();
            cmd.check()
                .unwrap_or_else(|error| panic!("{line}: {error}"));
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
}
