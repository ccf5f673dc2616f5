// A fleet job (or any function returning mikrotik_rs::Result) fails with an
// error of its own: a formatted message, a boxed error, or any error type.
use mikrotik_rs::fleet::Fleet;
use mikrotik_rs::{Error, Result};

fn parse_major(version: &str) -> Result<u32> {
    let major = version.split('.').next().unwrap_or_default();
    let major: u32 = major.parse().map_err(Error::user)?;
    if major < 7 {
        return Err(format!("outdated RouterOS {version}").into());
    }
    Ok(major)
}

#[allow(dead_code)]
fn start(fleet: &Fleet) {
    let _run = fleet.run(|device| async move {
        let rows = device.menu("/system/resource").print().collect().await?;
        let version = rows.first().and_then(|row| row.get("version")).ok_or("no version")?;
        let boxed: std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> = Ok(());
        boxed?;
        parse_major(version)
    });
}

fn main() {
    assert!(parse_major("6.49").is_err());
    assert_eq!(parse_major("7.15").unwrap(), 7);
    assert!(parse_major("x").is_err());
}
