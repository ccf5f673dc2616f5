//! Create, read, update and delete on a menu (`/user`), with typed rows.
//!
//! `cargo run --example users`

mod common;

use mikrotik_rs::MikrotikDevice;
use serde::Deserialize;

/// One row of `/user/print`: `.id` becomes `id`, kebab-case keys snake_case.
#[derive(Debug, Deserialize)]
struct User {
    id: String,
    name: String,
    group: String,
    disabled: Option<bool>,
}

async fn list(users: &mikrotik_rs::Menu) -> mikrotik_rs::Result<()> {
    for user in users
        .print()
        .proplist([".id", "name", "group", "disabled"])
        .collect_typed::<User>()
        .await?
    {
        println!(
            "  {:<4} {:<12} {:<6} disabled={:?}",
            user.id, user.name, user.group, user.disabled
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let device =
        MikrotikDevice::connect(&target.address, &target.user, target.password.as_deref()).await?;
    let users = device.menu("/user");

    let id = users
        .add(&[
            ("name", "example-user"),
            ("group", "read"),
            ("password", "change-me"),
        ])
        .await?;
    println!("added example-user as {id}");
    list(&users).await?;

    users.set(&id, &[("group", "write")]).await?;
    println!("moved {id} to group write");
    list(&users).await?;

    users.remove(&id).await?;
    println!("removed {id}");
    list(&users).await?;

    // A trap becomes an error that carries the router's message.
    if let Err(error) = users.remove("*FFFF").await {
        println!("removing a missing user fails as it should: {error}");
    }
    Ok(())
}
