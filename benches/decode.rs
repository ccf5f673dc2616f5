//! Decoder throughput beside a plain memcpy of the same bytes, in one run.
//!
//! `cargo bench --bench decode` — prints bytes/s and sentences/s for both, and the ratio.
//! Input: 20,000 `!re` sentences of 10 attributes with 16-byte values plus a `.tag`,
//! fed in 64 KiB reads as a socket would deliver them. Each figure is the median of
//! several rounds, and the two are measured alternately so machine noise hits both.

use std::hint::black_box;
use std::time::{Duration, Instant};

use mikrotik_rs::protocol::{CommandResponse, Decoder, encode_sentence};

const SENTENCES: usize = 20_000;
const READ: usize = 64 << 10;

fn stream() -> Vec<u8> {
    let tag = ".tag=6f1c0c2e-2b1d-4c3e-9a51-0d7e1f2a3b4c";
    let attributes: Vec<String> = (0..10)
        .map(|i| format!("=attribute-{i}=0123456789abcdef"))
        .collect();
    let mut words: Vec<&str> = vec!["!re", tag];
    words.extend(attributes.iter().map(String::as_str));
    let mut bytes = Vec::new();
    for _ in 0..SENTENCES {
        encode_sentence(&words, &mut bytes);
    }
    bytes
}

/// Decodes and parses every sentence into a `CommandResponse`, as the connection does.
fn decode(bytes: &[u8]) -> usize {
    let mut decoder = Decoder::default();
    let mut count = 0;
    for chunk in bytes.chunks(READ) {
        let mut input = chunk;
        while let Some(sentence) = decoder.decode(&mut input).expect("valid input") {
            let response = CommandResponse::parse(sentence).expect("valid reply");
            black_box(&response);
            count += 1;
        }
    }
    count
}

/// Copies the same bytes in the same chunks: the floor any decoder must pay.
fn memcpy(bytes: &[u8], scratch: &mut Vec<u8>) -> usize {
    scratch.clear();
    for chunk in bytes.chunks(READ) {
        scratch.extend_from_slice(black_box(chunk));
    }
    black_box(scratch.len())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick") || std::env::var_os("CI").is_some();
    let rounds = if quick { 3 } else { 31 };
    let bytes = stream();
    let mut scratch = Vec::with_capacity(bytes.len());
    let (mut decode_times, mut copy_times) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        assert_eq!(decode(&bytes), SENTENCES);
        decode_times.push(start.elapsed());
        let start = Instant::now();
        memcpy(&bytes, &mut scratch);
        copy_times.push(start.elapsed());
    }
    let (decode_time, copy_time) = (median(decode_times), median(copy_times));
    let mib = bytes.len() as f64 / (1 << 20) as f64;
    println!(
        "input: {SENTENCES} sentences, {:.1} MiB, read in {} KiB chunks, median of {rounds} rounds",
        mib,
        READ >> 10
    );
    for (name, time) in [("decode+parse", decode_time), ("memcpy", copy_time)] {
        let secs = time.as_secs_f64();
        println!(
            "{name:>12}: {:>8.1} MiB/s {:>12.0} sentences/s ({:?})",
            mib / secs,
            SENTENCES as f64 / secs,
            time
        );
    }
    println!(
        "ratio: decode+parse runs at {:.3}x memcpy speed",
        copy_time.as_secs_f64() / decode_time.as_secs_f64()
    );
}
