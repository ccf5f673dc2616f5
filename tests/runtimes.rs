//! The same connection on every way of running it: async-std's executor,
//! a user's own spawner, and the hand-spawned driver of the generic layer.

mod common;

use std::sync::Arc;

use mikrotik_rs::connection::{self, ConnectionOptions};
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::runtime::{AsyncIoRuntime, Runtime};
use mikrotik_rs::testing::MockRouter;
use mikrotik_rs::{MikrotikDevice, Result};

async fn identity(device: &MikrotikDevice) -> Result<String> {
    let mut replies = device
        .send_command(
            CommandBuilder::new()
                .command("/system/identity/print")
                .build(),
        )
        .await?;
    let mut name = None;
    while let Some(reply) = replies.recv().await {
        if let CommandResponse::Reply(row) = reply? {
            name = row.get("name").map(str::to_owned);
        }
    }
    Ok(name.expect("identity has a name"))
}

#[test]
fn async_std_runs_the_async_io_runtime() {
    let router = MockRouter::start();
    async_std::task::block_on(common::bounded(async {
        let device = MikrotikDevice::connect(&router.address(), "admin", None)
            .await
            .unwrap();
        assert_eq!(identity(&device).await.unwrap(), "MikroTik");
    }));
}

#[test]
fn a_users_own_spawner_drives_the_connection() {
    let router = MockRouter::start();
    let executor = Arc::new(smol::Executor::new());
    let spawner = Arc::clone(&executor);
    smol::block_on(executor.run(common::bounded(async {
        let device = MikrotikDevice::builder(router.address())
            .spawner(move |future| spawner.spawn(future).detach())
            .connect()
            .await
            .unwrap();
        assert_eq!(identity(&device).await.unwrap(), "MikroTik");
    })));
}

#[test]
fn the_generic_layer_runs_over_any_stream() {
    let router = MockRouter::start();
    smol::block_on(common::bounded(async {
        let stream = smol::net::TcpStream::connect(router.addr()).await.unwrap();
        let runtime: Arc<dyn Runtime> = Arc::new(AsyncIoRuntime::new());
        let (handle, driver) =
            connection::new(stream, Arc::clone(&runtime), ConnectionOptions::default());
        let device = MikrotikDevice::from(handle);
        let driver = smol::spawn(driver);
        device.login("admin", None).await.unwrap();
        assert_eq!(identity(&device).await.unwrap(), "MikroTik");
        drop(device);
        // With every handle gone the driver finishes by itself.
        driver.await;
    }));
}

#[tokio::test]
async fn the_seed_quick_start_compiles_and_runs_under_tokio_main()
-> std::result::Result<(), Box<dyn std::error::Error>> {
    let router = MockRouter::builder().user("admin", "password").start();
    let address = router.address();
    let device = MikrotikDevice::connect(&address, "admin", Some("password")).await?;
    let cmd = CommandBuilder::new()
        .command("/system/resource/print")
        .build();
    let mut responses = device.send_command(cmd).await?;
    let mut seen = 0;
    while let Some(result) = responses.recv().await {
        println!("{:?}", result?);
        seen += 1;
    }
    assert_eq!(seen, 2);
    Ok(())
}
