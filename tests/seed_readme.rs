//! Every example of the README this crate replaces, written as that README
//! has it, compiled and run against the MockRouter.

mod common;

use std::time::Duration;

use mikrotik_rs::testing::MockRouter;
use mikrotik_rs::{MikrotikDevice, command};

type BoxResult = Result<(), Box<dyn std::error::Error>>;

async fn device(router: &MockRouter) -> MikrotikDevice {
    MikrotikDevice::connect(&router.address(), "admin", None)
        .await
        .unwrap()
}

#[tokio::test]
async fn builder_and_macro_examples() -> BoxResult {
    use mikrotik_rs::protocol::command::CommandBuilder;
    let cmd = CommandBuilder::new()
        .command("/interface/ethernet/monitor")
        .attribute("numbers", Some("0,1"))
        .attribute("once", None)
        .build();
    let from_macro = command!("/interface/ethernet/monitor", numbers = "0,1", once);
    let strip_tag = |words: Vec<Vec<u8>>| words[..words.len() - 1].to_vec();
    assert_eq!(strip_tag(cmd.words()), strip_tag(from_macro.words()));
    // Simple command
    let cmd = command!("/interface/print");
    assert_eq!(cmd.path(), "/interface/print");
    Ok(())
}

#[tokio::test]
async fn matching_every_response_kind() -> BoxResult {
    let router = MockRouter::builder().empty_replies(true).start();
    let device = device(&router).await;
    use mikrotik_rs::protocol::CommandResponse;
    let cmd = command!("/interface/print");
    let mut kinds = Vec::new();
    let mut rx = device.send_command(cmd).await?;
    while let Some(result) = rx.recv().await {
        match result? {
            CommandResponse::Reply(reply) => {
                // Key-value data from the router
                println!("attributes: {:?}", reply.attributes);
                kinds.push("re");
            }
            CommandResponse::Done(_) => {
                println!("command completed");
                kinds.push("done");
            }
            CommandResponse::Trap(trap) => {
                // Router-side error (e.g., invalid command, permission denied)
                eprintln!("trap: {} (category: {:?})", trap.message, trap.category);
            }
            CommandResponse::Fatal(reason) => {
                // Fatal protocol error -- connection is dead
                eprintln!("fatal: {reason}");
            }
            CommandResponse::Empty(_) => {
                // RouterOS 7.18+: command had no data to return
            }
        }
    }
    assert_eq!(kinds.last(), Some(&"done"));
    assert!(kinds.len() > 2);
    Ok(())
}

#[tokio::test]
async fn continuous_output_until_the_channel_is_dropped() -> BoxResult {
    let router = MockRouter::builder()
        .monitor_interval(Duration::from_millis(20))
        .start();
    let device = device(&router).await;
    use mikrotik_rs::protocol::command::CommandBuilder;
    let monitor = CommandBuilder::new()
        .command("/interface/monitor-traffic")
        .attribute("interface", Some("ether1"))
        .build();
    let mut rx = device.send_command(monitor).await?;
    let mut updates = 0;
    // Receives updates continuously until the channel is dropped
    while let Some(result) = rx.recv().await {
        let reply = result?;
        println!("{:?}", reply);
        updates += 1;
        if updates == 3 {
            break;
        }
    }
    // Dropping `rx` automatically sends /cancel to the router
    drop(rx);
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/cancel"),
                Duration::from_secs(2)
            )
            .await
    );
    Ok(())
}

#[tokio::test]
async fn query_example() -> BoxResult {
    let router = MockRouter::start();
    let device = device(&router).await;
    use mikrotik_rs::protocol::command::{CommandBuilder, QueryOperator};
    let cmd = CommandBuilder::new()
        .command("/interface/print")
        .query_equal("type", "ether")
        .query_equal("running", "true")
        .query_operations([QueryOperator::And].into_iter())
        .build();
    let mut rx = device.send_command(cmd).await?;
    let mut rows = 0;
    while let Some(result) = rx.recv().await {
        if let mikrotik_rs::protocol::CommandResponse::Reply(row) = result? {
            assert_eq!(row.get("type"), Some("ether"));
            assert_eq!(row.get("running"), Some("true"));
            rows += 1;
        }
    }
    assert!(rows > 0);
    Ok(())
}

#[tokio::test]
async fn raw_attribute_example() -> BoxResult {
    let router = MockRouter::start();
    let device = device(&router).await;
    use mikrotik_rs::protocol::command::CommandBuilder;
    let cmd = CommandBuilder::new()
        .command("/file/print")
        .attribute_raw("contents", Some(&[0x00, 0xFF, 0xAB]))
        .build();
    let mut rx = device.send_command(cmd).await?;
    while rx.recv().await.is_some() {}
    let sent = router
        .received()
        .into_iter()
        .find(|s| s.path() == "/file/print")
        .unwrap();
    assert_eq!(sent.attribute("contents"), Some(&[0x00, 0xFF, 0xAB][..]));
    Ok(())
}
