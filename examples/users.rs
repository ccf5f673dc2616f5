//! Create, read, update and delete on a menu (`/user`).
//!
//! `cargo run --example users`

mod common;

use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::protocol::command::{Command, CommandBuilder};
use mikrotik_rs::{Error, MikrotikDevice};

/// Runs a command to its end: its rows, and the `=ret=` of its `!done`.
async fn run(
    device: &MikrotikDevice,
    command: Command,
) -> Result<(Vec<CommandResponse>, Option<String>), Error> {
    let mut replies = device.send_command(command).await?;
    let (mut rows, mut traps, mut ret) = (Vec::new(), Vec::new(), None);
    while let Some(reply) = replies.recv().await {
        match reply? {
            row @ CommandResponse::Reply(_) => rows.push(row),
            CommandResponse::Trap(trap) => traps.push(trap),
            CommandResponse::Done(done) => ret = done.ret().map(str::to_owned),
            _ => {}
        }
    }
    if traps.is_empty() {
        Ok((rows, ret))
    } else {
        Err(Error::Trap(traps.into()))
    }
}

async fn list(device: &MikrotikDevice) -> Result<(), Error> {
    let (rows, _) = run(
        device,
        CommandBuilder::new()
            .command("/user/print")
            .proplist([".id", "name", "group"])
            .build(),
    )
    .await?;
    for row in rows {
        if let CommandResponse::Reply(row) = row {
            println!(
                "  {:<4} {:<12} {}",
                row.get(".id").unwrap_or("?"),
                row.get("name").unwrap_or("?"),
                row.get("group").unwrap_or("?")
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let device =
        MikrotikDevice::connect(&target.address, &target.user, target.password.as_deref()).await?;

    let add = CommandBuilder::new()
        .command("/user/add")
        .attribute("name", Some("example-user"))
        .attribute("group", Some("read"))
        .attribute("password", Some("change-me"))
        .build();
    let (_, id) = run(&device, add).await?;
    let id = id.ok_or("the router returned no id")?;
    println!("added example-user as {id}");
    list(&device).await?;

    run(
        &device,
        CommandBuilder::new()
            .command("/user/set")
            .attribute(".id", Some(&id))
            .attribute("group", Some("write"))
            .build(),
    )
    .await?;
    println!("moved {id} to group write");
    list(&device).await?;

    run(
        &device,
        CommandBuilder::new()
            .command("/user/remove")
            .attribute(".id", Some(&id))
            .build(),
    )
    .await?;
    println!("removed {id}");
    list(&device).await?;

    // A trap becomes an error that carries the router's message.
    let missing = CommandBuilder::new()
        .command("/user/remove")
        .attribute(".id", Some("*FFFF"))
        .build();
    if let Err(error) = run(&device, missing).await {
        println!("removing a missing user fails as it should: {error}");
    }
    Ok(())
}
