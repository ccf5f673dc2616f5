//! Fuzz target `reply`: the check lives in `mikrotik_rs_protocol::fuzz::check_reply`,
//! which `protocol/tests/fuzz_corpus.rs` also runs on every file of `protocol/fuzz/corpus/reply/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mikrotik_rs_protocol::fuzz::check_reply(data);
});
