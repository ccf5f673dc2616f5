//! The MockRouter as a process, for clients in other languages (the
//! cross-check in `scripts/cross-check.sh` runs Python clients against it).
//!
//! `cargo run --example mock-router -- [--legacy-login] [--empty-replies]
//! [--routeros6] [--user NAME:PASSWORD] [--monitor-interval-ms N]
//! [--replay TRANSCRIPT]`
//!
//! Prints `listening on 127.0.0.1:<port>` on its first line, then serves
//! until its standard input closes.

use std::io::{BufRead, Write};
use std::time::Duration;

use mikrotik_rs::testing::{MockRouter, Transcript};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = MockRouter::builder();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        builder = match arg.as_str() {
            "--legacy-login" => builder.legacy_login(true),
            "--empty-replies" => builder.empty_replies(true),
            "--routeros6" => builder.routeros6(true),
            "--user" => {
                let spec = value()?;
                let (name, password) = spec.split_once(':').unwrap_or((&spec, ""));
                builder.user(name, password)
            }
            "--monitor-interval-ms" => {
                let ms: u64 = value()?.parse()?;
                builder.monitor_interval(Duration::from_millis(ms))
            }
            "--replay" => builder.replay(Transcript::load(value()?)?),
            other => return Err(format!("unknown argument {other}").into()),
        };
    }
    let router = builder.try_start()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", router.address())?;
    stdout.flush()?;
    drop(stdout);
    // Serve until whoever started us closes our input.
    for line in std::io::stdin().lock().lines() {
        line?;
    }
    Ok(())
}
