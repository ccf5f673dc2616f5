//! The handoff from the actor to each stream: replies travel in batches (one
//! lock and at most one wake-up per batch), and every guarantee of the
//! per-command buffer holds at a batch's edges.

mod common;

use std::time::Duration;

use common::{Item, cmd, drain, wait_until};
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::protocol::Sentence;
use mikrotik_rs::testing::{MockRouter, Script};
use mikrotik_rs::{BufferPolicy, Error};

/// `count` rows `=n=0` … `=n=count-1` with the command's tag, then `!done`.
fn numbered_rows(count: usize) -> Script {
    Script::custom(move |sentence: &Sentence| {
        let tag = sentence
            .words()
            .find(|w| w.starts_with(b".tag="))
            .unwrap_or_default()
            .to_vec();
        let mut out: Vec<Vec<Vec<u8>>> = (0..count)
            .map(|n| vec![b"!re".to_vec(), format!("=n={n}").into_bytes(), tag.clone()])
            .collect();
        out.push(vec![b"!done".to_vec(), tag]);
        out
    })
}

fn row_number(item: &Item) -> Option<usize> {
    match item {
        Ok(CommandResponse::Reply(row)) => row.get("n").and_then(|n| n.parse().ok()),
        _ => None,
    }
}

/// A stream dropped in the middle of a batch it has taken: the command is
/// cancelled, its route goes, and the connection carries on.
async fn a_batch_interrupted_by_a_drop() {
    let router = MockRouter::builder()
        .script("/rows", numbered_rows(20_000))
        .start();
    let device = common::connect(&router).await;
    let mut stream = device
        .send_command_with(cmd("/rows"), BufferPolicy::Unbounded)
        .await
        .unwrap();
    wait_until(|| stream.unread() >= 1_000, "a batch waits").await;
    // Takes the whole batch in one go, reads three of it, drops the rest.
    for expected in 0..3 {
        assert_eq!(row_number(&stream.recv().await.unwrap()), Some(expected));
    }
    drop(stream);
    wait_until(|| device.in_flight() == 0, "the route is gone").await;
    common::still_answers(&device).await;
    assert!(!device.is_closed());
}

/// An overflow in the middle of a batch: the rows before it arrive whole and
/// in order, the overflow is the last item, nothing follows.
async fn an_overflow_in_the_middle_of_a_batch() {
    let router = MockRouter::builder()
        .script("/rows", numbered_rows(20_000))
        .start();
    let device = common::connect(&router).await;
    let stream = device
        .send_command_with(cmd("/rows"), BufferPolicy::Bounded(1_000))
        .await
        .unwrap();
    wait_until(|| stream.unread() > 0, "rows arrive").await;
    wait_until(|| device.in_flight() == 0, "overflowed and cancelled").await;
    let items = drain(stream).await;
    let (last, rows) = items.split_last().unwrap();
    assert!(
        matches!(last, Err(Error::Overflow { capacity: 1_000 })),
        "{last:?}"
    );
    // Past the capacity (after the stall patience, on a slow machine) and
    // never past 8 × the capacity.
    assert!(
        (1_000..=8_000).contains(&rows.len()),
        "{} rows before the overflow",
        rows.len()
    );
    for (expected, row) in rows.iter().enumerate() {
        assert_eq!(row_number(row), Some(expected));
    }
    common::still_answers(&device).await;
}

/// The connection fails while a batch waits unread: the reader still gets
/// every row that arrived, then the error, last.
async fn a_connection_error_while_a_batch_waits_unread() {
    let router = MockRouter::builder()
        .script("/rows", numbered_rows(5_000))
        .script("/silent", Script::Silent)
        .start();
    let device = common::connect(&router).await;
    let mut listen = device
        .send_command_with(cmd("/silent"), BufferPolicy::Unbounded)
        .await
        .unwrap();
    let rows = device
        .send_command_with(cmd("/rows"), BufferPolicy::Unbounded)
        .await
        .unwrap();
    wait_until(|| rows.unread() == 5_001, "the rows are all in").await;
    router.drop_connections();
    wait_until(|| device.is_closed(), "the connection failed").await;
    let items = drain(rows).await;
    assert_eq!(items.len(), 5_001);
    assert!(matches!(items.last(), Some(Ok(CommandResponse::Done(_)))));
    let last = listen.recv().await;
    assert!(
        matches!(last, Some(Err(Error::ConnectionClosed { .. }))),
        "{last:?}"
    );
    assert!(listen.recv().await.is_none());
}

/// An unread stream holding a batch when the connection fails: the rows
/// first, then the error.
async fn a_connection_error_behind_unread_rows() {
    let router = common::silent_router();
    let device = common::connect(&router).await;
    let listen = device
        .send_command_with(cmd("/interface/listen"), BufferPolicy::Unbounded)
        .await
        .unwrap();
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/interface/listen"),
                Duration::from_secs(20)
            )
            .await
    );
    for n in 0..50 {
        router
            .add_item(
                "/interface",
                [("name", format!("handoff{n}")), ("type", "vlan".into())],
            )
            .unwrap();
    }
    wait_until(|| listen.unread() == 50, "the changes arrived").await;
    router.drop_connections();
    wait_until(|| device.is_closed(), "the connection failed").await;
    let items = drain(listen).await;
    assert_eq!(items.len(), 51, "{:?}", items.last());
    assert!(
        items[..50]
            .iter()
            .all(|i| matches!(i, Ok(CommandResponse::Reply(_))))
    );
    assert!(matches!(items[50], Err(Error::ConnectionClosed { .. })));
}

/// A reader on a worker thread of a multi-thread Tokio runtime (the actor on
/// another) receives 200,000 rows in order with the default policy and never
/// overflows.
#[test]
fn a_reader_on_another_thread_gets_every_row_in_order() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(common::bounded(async {
        let router = MockRouter::builder()
            .script("/rows", numbered_rows(200_000))
            .start();
        let device = common::connect(&router).await;
        let mut stream = device.send_command(cmd("/rows")).await.unwrap();
        let reader = tokio::spawn(async move {
            let mut next = 0;
            while let Some(item) = stream.recv().await {
                match row_number(&item) {
                    Some(n) => {
                        assert_eq!(n, next, "rows in order");
                        next += 1;
                    }
                    None => {
                        assert!(matches!(item, Ok(CommandResponse::Done(_))), "{item:?}");
                    }
                }
            }
            next
        });
        assert_eq!(reader.await.unwrap(), 200_000);
    }));
}

on_every_runtime![
    a_batch_interrupted_by_a_drop,
    an_overflow_in_the_middle_of_a_batch,
    a_connection_error_while_a_batch_waits_unread,
    a_connection_error_behind_unread_rows,
];
