//! Keeps a firewall address list in sync with a text file: one address per
//! line (`192.0.2.7`, `198.51.100.0/24`), optionally followed by `# comment`;
//! blank lines and lines starting with `#` are skipped.
//!
//! A dry run by default: it reads the list once and prints the plan (`+` to
//! add, `~` to change, `-` to remove). With `--apply` it applies the plan
//! and says what happened to each entry and whether the list now matches.
//! Only entries of that list are touched (`list=<name>`), never dynamic ones.
//!
//! `cargo run --example sync-address-list -- [--apply] [--list NAME] [FILE]`
//!
//! Without `MIKROTIK_ADDR` it runs against the built-in mock, whose list
//! starts with a few entries, and with a sample file when none is given.

mod common;

use mikrotik_rs::MikrotikDevice;
use mikrotik_rs::desired::{ApplyOptions, Desired, Managed, Outcome};
use mikrotik_rs::testing::{MockMenu, PropertyType};

const MENU: &str = "/ip/firewall/address-list";

const SAMPLE: &str = "\
# blocked by the abuse desk
192.0.2.7        # scanner
192.0.2.8/32     # brute force on ssh
198.51.100.0/24
";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut apply = false;
    let mut list = "blocklist".to_owned();
    let mut file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--apply" => apply = true,
            "--list" => list = args.next().ok_or("--list needs a name")?,
            _ => file = Some(arg),
        }
    }
    let text = match &file {
        Some(path) => std::fs::read_to_string(path)?,
        None => {
            println!("no file given: using the sample\n{SAMPLE}");
            SAMPLE.to_owned()
        }
    };

    let target = common::target_with(vec![sample_list(&list)]);
    let device =
        MikrotikDevice::connect(&target.address, &target.user, target.password.as_deref()).await?;

    // Identity: list + address. Managed: only entries of this list.
    let mut desired =
        Desired::new(MENU, ["list", "address"]).managed(Managed::all().equal("list", &list));
    for (number, line) in text.lines().enumerate() {
        let (entry, comment) = match line.split_once('#') {
            Some((entry, comment)) => (entry.trim(), comment.trim()),
            None => (line.trim(), ""),
        };
        if entry.is_empty() {
            continue;
        }
        if entry.contains(char::is_whitespace) {
            return Err(format!("line {}: one address per line: {line:?}", number + 1).into());
        }
        desired.push([
            ("list", list.as_str()),
            ("address", entry),
            ("comment", comment),
        ]);
    }

    let plan = desired.plan(&device).await?;
    print!("{plan}");
    if plan.is_empty() || !apply {
        if !plan.is_empty() {
            println!("dry run: nothing changed (run with --apply to apply)");
        }
        return Ok(());
    }
    let applied = plan.apply(&device, ApplyOptions::default()).await?;
    for item in &applied.items {
        if let Outcome::Failed(error) | Outcome::Unknown(error) = &item.outcome {
            println!("  {:?}: {error}", item.action);
        }
    }
    println!(
        "applied {}, failed {}, unknown {}, not attempted {}; the list matches: {:?}",
        applied.applied(),
        applied.failed(),
        applied.unknown(),
        applied.not_attempted(),
        applied.converged()
    );
    if applied.converged() != Some(true) {
        return Err("the list does not match the file yet: run again to retry".into());
    }
    Ok(())
}

/// The mock's address list: an entry to keep, one whose comment differs,
/// one no longer in the file, one of another list, and a dynamic one.
fn sample_list(list: &str) -> MockMenu {
    MockMenu::new(MENU)
        .required("list", PropertyType::Text)
        .required("address", PropertyType::Text)
        .property("comment", PropertyType::Text)
        .property("timeout", PropertyType::Text)
        .property("disabled", PropertyType::Bool)
        .row([
            ("list", list),
            ("address", "192.0.2.7"),
            ("comment", "scanner"),
        ])
        .row([
            ("list", list),
            ("address", "192.0.2.8"),
            ("comment", "old note"),
        ])
        .row([
            ("list", list),
            ("address", "203.0.113.5"),
            ("comment", "expired"),
        ])
        .row([
            ("list", "allowlist"),
            ("address", "10.0.0.1"),
            ("comment", ""),
        ])
        .row([
            ("list", list),
            ("address", "198.51.100.77"),
            ("dynamic", "true"),
        ])
}
