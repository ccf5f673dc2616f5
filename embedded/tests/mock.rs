//! The embedded client loop against the MockRouter, over a real TCP socket:
//! Tokio's, made an `embedded-io-async` stream by `embedded-io-adapters`.

use std::future::Future;
use std::time::Duration;

use embedded_io_adapters::tokio_1::FromTokio;
use mikrotik_rs::testing::{MockRouter, Script};
use mikrotik_rs_embedded::protocol::command::CommandBuilder;
use mikrotik_rs_embedded::protocol::{CommandResponse, TrapCategory};
use mikrotik_rs_embedded::{Client, CommandId, Error};
use tokio::net::TcpStream;

type Socket = FromTokio<TcpStream>;

/// Every test body runs on Tokio and is bounded: a hang is a failure.
fn run<F: Future<Output = ()>>(body: F) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(20), body)
                .await
                .expect("the test finished in time")
        });
}

async fn socket(router: &MockRouter) -> Socket {
    FromTokio::new(TcpStream::connect(router.address()).await.unwrap())
}

/// Every reply of `id` up to its `!done` (included).
async fn drain<const C: usize, const Q: usize>(
    client: &mut Client<'_, Socket, C, Q>,
    id: CommandId,
) -> Vec<CommandResponse> {
    let mut replies = Vec::new();
    while let Some(reply) = client.recv(id).await.unwrap() {
        replies.push(reply);
    }
    replies
}

#[test]
fn logs_in_with_the_plain_login() {
    run(async {
        let router = MockRouter::builder().user("admin", "secret").start();
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 2, 4> = Client::new(socket(&router).await, &mut buffer, 1);
        client.login("admin", "secret").await.unwrap();
        let id = send(&mut client, "/system/identity/print").await;
        let replies = drain(&mut client, id).await;
        assert!(matches!(&replies[0], CommandResponse::Reply(row) if row.get("name").is_some()));
        assert!(matches!(replies.last(), Some(CommandResponse::Done(_))));
        assert_eq!(client.in_flight(), 0, "the ended command's slot is free");
    });
}

#[test]
fn logs_in_with_the_md5_challenge_and_refuses_a_wrong_password() {
    run(async {
        let router = MockRouter::builder()
            .user("admin", "secret")
            .legacy_login(true)
            .start();
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 2, 4> = Client::new(socket(&router).await, &mut buffer, 2);
        client.login("admin", "secret").await.unwrap();
        let id = send(&mut client, "/system/identity/print").await;
        assert!(matches!(
            drain(&mut client, id).await.last(),
            Some(CommandResponse::Done(_))
        ));

        let mut buffer = [0u8; 256];
        let mut wrong: Client<_, 2, 4> = Client::new(socket(&router).await, &mut buffer, 3);
        assert!(matches!(
            wrong.login("admin", "nope").await,
            Err(Error::LoginRefused(_))
        ));

        let plain = MockRouter::builder().user("admin", "secret").start();
        let mut buffer = [0u8; 256];
        let mut wrong: Client<_, 2, 4> = Client::new(socket(&plain).await, &mut buffer, 4);
        assert!(matches!(
            wrong.login("admin", "nope").await,
            Err(Error::LoginRefused(_))
        ));
    });
}

/// Sends a command of just `path`.
async fn send<const C: usize, const Q: usize>(
    client: &mut Client<'_, Socket, C, Q>,
    path: &str,
) -> CommandId {
    let command = client.command(path).build();
    client.send(command).await.unwrap()
}

fn client_command<const C: usize, const Q: usize>(
    client: &mut Client<'_, Socket, C, Q>,
    path: &str,
) -> mikrotik_rs_embedded::protocol::command::Command {
    client.command(path).build()
}

#[test]
fn concurrent_commands_get_their_own_replies_through_a_tiny_buffer() {
    run(async {
        let router = MockRouter::builder()
            .script("/one", Script::bulk(3, [("n", "one")]))
            .script("/two", Script::bulk(3, [("n", "two")]))
            .start();
        // 16 bytes: every sentence arrives over several reads.
        let mut buffer = [0u8; 16];
        let mut client: Client<_, 3, 8> = Client::new(socket(&router).await, &mut buffer, 5);
        client.login("admin", "").await.unwrap();
        let one = send(&mut client, "/one").await;
        let two = send(&mut client, "/two").await;
        // Read the second first: the first's replies wait in its queue.
        for (id, name) in [(two, "two"), (one, "one")] {
            let replies = drain(&mut client, id).await;
            assert_eq!(replies.len(), 4, "{name}: three rows and !done");
            for row in &replies[..3] {
                assert!(matches!(row, CommandResponse::Reply(r) if r.get("n") == Some(name)));
            }
        }
        assert_eq!(client.stray_replies(), 0);
    });
}

#[test]
fn commands_built_with_the_same_tag_still_get_their_own_replies() {
    run(async {
        let router = MockRouter::builder()
            .script("/one", Script::bulk(2, [("n", "one")]))
            .script("/two", Script::bulk(2, [("n", "two")]))
            .start();
        let mut buffer = [0u8; 64];
        let mut client: Client<_, 2, 4> = Client::new(socket(&router).await, &mut buffer, 12);
        client.login("admin", "").await.unwrap();
        // What a builder without `std` gives: the nil placeholder tag.
        let nil = mikrotik_rs_embedded::protocol::uuid::Uuid::nil();
        let build = |path| CommandBuilder::with_tag(nil).command(path).build();
        let one = client.send(build("/one")).await.unwrap();
        let two = client.send(build("/two")).await.unwrap();
        assert_ne!(one.tag(), two.tag());
        assert_ne!(one.tag(), nil);
        for (id, name) in [(two, "two"), (one, "one")] {
            let replies = drain(&mut client, id).await;
            assert_eq!(replies.len(), 3, "{name}: two rows and !done");
            for row in &replies[..2] {
                assert!(matches!(row, CommandResponse::Reply(r) if r.get("n") == Some(name)));
            }
        }
    });
}

#[test]
fn no_free_slot_is_refused_before_anything_is_written() {
    run(async {
        let router = MockRouter::builder()
            .script("/wait", Script::Silent)
            .start();
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 1, 4> = Client::new(socket(&router).await, &mut buffer, 6);
        client.login("admin", "").await.unwrap();
        let _held = send(&mut client, "/wait").await;
        let second = client_command(&mut client, "/system/identity/print");
        assert!(matches!(client.send(second).await, Err(Error::NoFreeSlot)));
    });
}

#[test]
fn cancel_ends_a_streaming_command_and_frees_both_slots() {
    run(async {
        let router = MockRouter::builder()
            .monitor_interval(Duration::from_millis(5))
            .start();
        let mut buffer = [0u8; 128];
        let mut client: Client<_, 2, 4> = Client::new(socket(&router).await, &mut buffer, 7);
        client.login("admin", "").await.unwrap();
        let monitor = client
            .command("/interface/monitor-traffic")
            .attribute("interface", Some("ether1"))
            .build();
        let monitor = client.send(monitor).await.unwrap();
        for _ in 0..3 {
            let reply = client.recv(monitor).await.unwrap();
            assert!(matches!(reply, Some(CommandResponse::Reply(_))));
        }
        client.cancel(monitor).await.unwrap();
        assert_eq!(
            client.recv(monitor).await.unwrap(),
            None,
            "cancelled: nothing more"
        );
        // Another command runs to its end; by then the cancel's replies are in.
        let id = send(&mut client, "/system/identity/print").await;
        drain(&mut client, id).await;
        assert_eq!(client.in_flight(), 0);
        assert_eq!(router.running_commands(), 0);
    });
}

#[test]
fn a_client_with_one_slot_cancels_its_stream_and_runs_the_next_command() {
    run(async {
        let router = MockRouter::builder()
            .monitor_interval(Duration::from_millis(5))
            .start();
        let mut buffer = [0u8; 128];
        let mut client: Client<_, 1, 4> = Client::new(socket(&router).await, &mut buffer, 8);
        client.login("admin", "").await.unwrap();
        let monitor = client
            .command("/interface/monitor-traffic")
            .attribute("interface", Some("ether1"))
            .build();
        let monitor = client.send(monitor).await.unwrap();
        assert!(matches!(
            client.recv(monitor).await.unwrap(),
            Some(CommandResponse::Reply(_))
        ));
        client.cancel(monitor).await.unwrap();
        assert_eq!(client.recv(monitor).await.unwrap(), None);
        assert_eq!(
            client.in_flight(),
            0,
            "the slot is free once both !done are in"
        );
        assert_eq!(
            client.stray_replies(),
            0,
            "the cancel's replies were expected"
        );
        let id = send(&mut client, "/system/identity/print").await;
        assert!(matches!(
            drain(&mut client, id).await.last(),
            Some(CommandResponse::Done(_))
        ));
        assert_eq!(router.running_commands(), 0);
    });
}

#[test]
fn empty_and_trap_reach_their_command_then_done() {
    run(async {
        let router = MockRouter::builder().empty_replies(true).start();
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 2, 4> = Client::new(socket(&router).await, &mut buffer, 8);
        client.login("admin", "").await.unwrap();
        let print = client
            .command("/ip/address/print")
            .query_equal("comment", "no such row")
            .build();
        let id = client.send(print).await.unwrap();
        let replies = drain(&mut client, id).await;
        assert!(matches!(
            replies[..],
            [CommandResponse::Empty(_), CommandResponse::Done(_)]
        ));

        let id = send(&mut client, "/no/such/menu").await;
        let replies = drain(&mut client, id).await;
        let CommandResponse::Trap(trap) = &replies[0] else {
            panic!("a trap first: {replies:?}")
        };
        assert_eq!(trap.category, Some(TrapCategory::MissingItemOrCommand));
        assert!(matches!(replies.last(), Some(CommandResponse::Done(_))));
    });
}

#[test]
fn a_full_queue_reports_overflow_instead_of_dropping_silently() {
    run(async {
        let router = MockRouter::builder()
            .script("/many", Script::bulk(10, [("n", "x")]))
            .script("/one", Script::bulk(1, [("n", "y")]))
            .start();
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 2, 2> = Client::new(socket(&router).await, &mut buffer, 9);
        client.login("admin", "").await.unwrap();
        let many = send(&mut client, "/many").await;
        let one = send(&mut client, "/one").await;
        // Reading `/one` to its end reads `/many`'s ten rows past its queue of two.
        drain(&mut client, one).await;
        let mut rows = 0;
        let dropped = loop {
            match client.recv(many).await {
                Ok(Some(CommandResponse::Reply(_))) => rows += 1,
                Err(Error::Overflow { dropped }) => break dropped,
                other => panic!("queued rows, then the overflow: {other:?}"),
            }
        };
        assert_eq!(rows, 2);
        assert_eq!(dropped, 9, "eight rows and the !done");
        assert_eq!(client.recv(many).await.unwrap(), None);
        assert_eq!(client.in_flight(), 0);
    });
}

#[test]
fn a_cut_connection_ends_every_command_with_an_error() {
    run(async {
        let router = MockRouter::builder()
            .script("/wait", Script::Silent)
            .start();
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 2, 4> = Client::new(socket(&router).await, &mut buffer, 10);
        client.login("admin", "").await.unwrap();
        let first = send(&mut client, "/wait").await;
        let second = send(&mut client, "/wait").await;
        router.drop_connections();
        assert!(matches!(
            client.recv(first).await,
            Err(Error::ConnectionClosed | Error::Io(_))
        ));
        assert!(matches!(
            client.recv(second).await,
            Err(Error::ConnectionLost)
        ));
        let late = client_command(&mut client, "/system/identity/print");
        assert!(matches!(
            client.send(late).await,
            Err(Error::ConnectionLost)
        ));
    });
}

#[test]
fn fatal_ends_the_connection_with_its_reason() {
    run(async {
        let router = MockRouter::builder()
            .script("/die", Script::Fatal("going-down".into()))
            .start();
        let mut buffer = [0u8; 256];
        let mut client: Client<_, 2, 4> = Client::new(socket(&router).await, &mut buffer, 11);
        client.login("admin", "").await.unwrap();
        let id = send(&mut client, "/die").await;
        assert!(
            matches!(client.recv(id).await, Err(Error::Fatal(reason)) if reason == "going-down")
        );
        assert!(matches!(client.recv(id).await, Err(Error::ConnectionLost)));
    });
}
