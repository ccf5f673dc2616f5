//! The fault matrix: a session of many concurrent commands (rows, a trap, an
//! empty answer, binary values, a listen) is captured once from the
//! MockRouter; then the connection is cut at every byte offset of the
//! router's output. Whatever the offset, every stream ends (completed, or
//! with the close error), none hangs, nothing a stream got differs from the
//! uncut session, the device reports the connection dead, and a new
//! connection works.
#![cfg(feature = "__fuzz")]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_io::Async;
use common::Item;
use common::tap::{Crossed, Tapped};
use futures_util::future::join_all;
use mikrotik_rs::protocol::command::{Command, CommandBuilder};
use mikrotik_rs::protocol::{CommandResponse, Decoder};
use mikrotik_rs::testing::fuzz::{Session, Step, check_outcome, run_session};
use mikrotik_rs::testing::{MockRouter, Reply, Script};
use mikrotik_rs::{Error, MikrotikDevice, ResponseStream};
use uuid::Uuid;

const PATHS: [&str; 8] = [
    "/interface/print",
    "/ip/address/print",
    "/fail",
    "/interface/listen",
    "/system/resource/print",
    "/bin",
    "/empty",
    "/user/print",
];
const LISTEN: usize = 3;

fn router() -> MockRouter {
    let every_byte: Vec<u8> = (0..=255u8).collect();
    MockRouter::builder()
        .script(
            "/fail",
            Reply::new()
                .row([("a", "1")])
                .trap(Some(1), "bad value")
                .into(),
        )
        .script(
            "/bin",
            Reply::new()
                .row([(&b"blob"[..], every_byte.clone())])
                .row([(&b"big"[..], every_byte.repeat(2))])
                .into(),
        )
        .script("/empty", Script::done())
        .start()
}

/// The session's commands; fixed tags make the router's output replayable.
fn commands(fixed_tags: bool) -> Vec<Command> {
    PATHS
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let builder = if fixed_tags {
                CommandBuilder::with_tag(Uuid::from_u128(0x1000 + i as u128))
            } else {
                CommandBuilder::new()
            };
            builder.command(path).build()
        })
        .collect()
}

fn describe(item: &Item) -> String {
    match item {
        Ok(CommandResponse::Reply(r)) => format!("!re {:?}", r.attributes_raw),
        Ok(CommandResponse::Trap(t)) => format!("!trap {t}"),
        Ok(CommandResponse::Done(d)) => format!("!done {:?}", d.attributes_raw),
        Ok(other) => other.reply_word().to_owned(),
        Err(e) => format!("error {e}"),
    }
}

async fn next(stream: &mut ResponseStream, items: &mut Vec<Item>) -> bool {
    match stream.recv().await {
        Some(item) => {
            items.push(item);
            true
        }
        None => false,
    }
}

/// Runs the session against `router`, makes the listen see three changes,
/// and returns what each stream got (the listen still open, so `None` for
/// it is not reached) once everything but the listen has finished.
async fn session(router: &MockRouter, device: &MikrotikDevice, fixed_tags: bool) -> Vec<Vec<Item>> {
    let mut streams = Vec::new();
    for command in commands(fixed_tags) {
        streams.push(device.send_command(command).await.unwrap());
    }
    let mut listen = streams.remove(LISTEN);
    let others = join_all(streams.into_iter().map(|mut s| async move {
        let mut items = Vec::new();
        while next(&mut s, &mut items).await {}
        items
    }));
    let changes = async {
        assert!(
            router
                .wait_for(
                    |log| log.iter().any(|s| s.path() == "/interface/listen"),
                    Duration::from_secs(10),
                )
                .await
        );
        let id = router
            .add_item("/interface", [("name", "cut-test"), ("type", "vlan")])
            .unwrap();
        router.set_item("/interface", &id, [("comment", "changed")]);
        router.remove_item("/interface", &id);
        let mut items = Vec::new();
        while items.len() < 3 && next(&mut listen, &mut items).await {}
        (listen, items)
    };
    let (mut results, (listen, listen_items)) = futures_util::future::join(others, changes).await;
    results.insert(LISTEN, listen_items);
    drop(listen);
    results
}

/// The router's output of one session, from the end of the login on, and
/// what each stream got from it.
fn capture() -> (Vec<u8>, Vec<Vec<String>>) {
    common::on_smol(async {
        let router = router();
        let log = Arc::new(Mutex::new(Vec::new()));
        let socket = Async::<std::net::TcpStream>::connect(router.addr())
            .await
            .unwrap();
        let device = MikrotikDevice::builder(router.address())
            .connect_stream(Tapped::new(socket, {
                let log = Arc::clone(&log);
                move |crossed| {
                    if let Crossed::Read(bytes) = crossed {
                        log.lock().unwrap().extend_from_slice(bytes);
                    }
                }
            }))
            .await
            .unwrap();
        let login_len = log.lock().unwrap().len();
        let results = session(&router, &device, true).await;
        let output = log.lock().unwrap()[login_len..].to_vec();
        let described = results
            .iter()
            .map(|items| items.iter().map(describe).collect())
            .collect();
        (output, described)
    })
}

/// Cuts the replayed output at every offset: every stream ends, only with
/// what the uncut session gave it, then the close error.
#[test]
fn a_cut_at_every_byte_offset_ends_every_stream() {
    let (output, full) = capture();
    for (i, items) in full.iter().enumerate() {
        assert!(!items.is_empty(), "{}: {items:?}", PATHS[i]);
        assert!(items.iter().all(|i| !i.starts_with("error")), "{items:?}");
    }
    let started = Instant::now();
    let mut completed_at_some_cut = 0;
    for offset in 0..=output.len() {
        let mut decoder = Decoder::default();
        let mut input = &output[..offset];
        while decoder
            .decode(&mut input)
            .expect("the router's output is well-formed")
            .is_some()
        {}
        let mid_sentence = decoder.is_mid_sentence();
        let session = Session {
            commands: commands(true),
            steps: vec![Step::Bytes(output[..offset].to_vec())],
            chunk: [usize::MAX, 1, 7, 64][offset % 4],
            ..Session::new(0)
        };
        let outcome = run_session(session);
        check_outcome(&outcome);
        assert!(
            matches!(outcome.closed_reason, Some(Error::ConnectionClosed { mid_sentence: m }) if m == mid_sentence),
            "offset {offset}: {:?}",
            outcome.closed_reason
        );
        for (i, items) in outcome.items.iter().enumerate() {
            let got: Vec<String> = items.iter().map(describe).collect();
            let (last, before) = got.split_last().expect("every stream got its end");
            let whole = i != LISTEN
                && *last == full[i][full[i].len() - 1]
                && before == &full[i][..full[i].len() - 1];
            if whole {
                completed_at_some_cut += 1;
                continue;
            }
            assert!(
                matches!(items.last(), Some(Err(Error::ConnectionClosed { .. }))),
                "offset {offset}, {}: {got:?}",
                PATHS[i]
            );
            assert!(
                full[i].starts_with(before),
                "offset {offset}, {}: got {before:?}, the uncut session gave {:?}",
                PATHS[i],
                full[i]
            );
        }
    }
    assert!(completed_at_some_cut > 0);
    println!(
        "cut the {}-byte output at all {} offsets in {:?}",
        output.len(),
        output.len() + 1,
        started.elapsed()
    );
}

/// The same over real TCP with the MockRouter closing the socket after N
/// bytes, on a dense sample of offsets (every 8th byte): every stream ends,
/// the device says the connection is dead, and new connections work.
///
/// The sessions run side by side to keep the test short.
#[test]
fn a_tcp_cut_at_sampled_offsets_ends_every_stream_and_reconnects() {
    let (output, _) = capture();
    let offsets: Vec<u64> = (0..output.len() as u64).step_by(8).collect();
    common::on_smol(async {
        let started = Instant::now();
        let router = router();
        let mut sessions = Vec::new();
        for &offset in &offsets {
            // Read by each session when it starts, so set it before each connect.
            router.set_close_after_bytes(Some(offset));
            let device = MikrotikDevice::connect(&router.address(), "admin", None)
                .await
                .unwrap();
            // A cut right after login may close the connection before a
            // command is sent: then sending fails at once with the cause.
            let mut streams = Vec::new();
            for command in commands(false) {
                streams.push(device.send_command(command).await);
            }
            sessions.push((offset, device, streams));
        }
        router.set_close_after_bytes(None);
        let devices: Vec<MikrotikDevice> = sessions.iter().map(|(_, d, _)| d.clone()).collect();
        let drained = join_all(
            sessions
                .into_iter()
                .map(|(offset, device, streams)| async move {
                    let results = join_all(streams.into_iter().map(|sent| async move {
                        let mut items = Vec::new();
                        match sent {
                            Ok(mut s) => while next(&mut s, &mut items).await {},
                            Err(e) => items.push(Err(e)),
                        }
                        items
                    }))
                    .await;
                    (offset, device, results)
                }),
        );
        let changes = async {
            // Give every listen that is still open something to report, once
            // each is subscribed (a fixed pause misses late ones under load,
            // and a session cut in the listen's rows would then never end).
            // Sessions connected one by one, so mock session i + 1 is devices[i].
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let log = router.received();
                let subscribed = |i: usize| {
                    log.iter()
                        .any(|s| s.session == i as u64 + 1 && s.path() == "/interface/listen")
                };
                let ready = (0..devices.len()).all(|i| devices[i].is_closed() || subscribed(i));
                if ready {
                    break;
                }
                assert!(Instant::now() < deadline, "listens not subscribed in 30 s");
                async_io::Timer::after(Duration::from_millis(5)).await;
            }
            let id = router
                .add_item("/interface", [("name", "cut-test"), ("type", "vlan")])
                .unwrap();
            router.set_item("/interface", &id, [("comment", "changed")]);
            router.remove_item("/interface", &id);
        };
        let (results, ()) = futures_util::future::join(drained, changes).await;
        let mut completed = 0;
        for (offset, device, results) in &results {
            for (i, items) in results.iter().enumerate() {
                let last = items.last();
                let done = i != LISTEN && matches!(last, Some(Ok(CommandResponse::Done(_))));
                completed += usize::from(done);
                assert!(
                    done || matches!(last, Some(Err(Error::ConnectionClosed { .. }))),
                    "offset {offset}, {}: {items:?}",
                    PATHS[i]
                );
            }
            assert!(device.is_closed(), "offset {offset}");
            assert!(
                device
                    .send_command(commands(false).remove(0))
                    .await
                    .is_err()
            );
        }
        assert!(completed > 0);
        // New connections work, as many as were cut.
        let again = join_all(offsets.iter().map(|_| async {
            let device = MikrotikDevice::connect(&router.address(), "admin", None)
                .await
                .unwrap();
            let mut stream = device
                .send_command(commands(false).remove(4))
                .await
                .unwrap();
            let mut items = Vec::new();
            while next(&mut stream, &mut items).await {}
            matches!(items.last(), Some(Ok(CommandResponse::Done(_))))
        }))
        .await;
        assert!(again.iter().all(|ok| *ok), "every reconnect works");
        println!(
            "cut real TCP sessions at {} offsets (every 8th byte of {}) in {:?}",
            offsets.len(),
            output.len(),
            started.elapsed()
        );
    });
}
