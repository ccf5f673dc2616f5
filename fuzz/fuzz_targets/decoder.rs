//! Fuzz target `decoder`: the check lives in `mikrotik_rs::testing::fuzz::check_decoder`,
//! which `tests/fuzz_corpus.rs` also runs on every file of `fuzz/corpus/decoder/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mikrotik_rs::testing::fuzz::check_decoder(data);
});
