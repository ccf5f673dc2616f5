//! Where the examples connect: the router named by `MIKROTIK_ADDR`,
//! `MIKROTIK_USER` and `MIKROTIK_PASSWORD`, or, when none is set, the built-in
//! MockRouter started in this process.
#![allow(dead_code)]

use std::time::Duration;

use mikrotik_rs::testing::{MockMenu, MockRouter};

/// The router to talk to, and the mock that serves it when there is no real one.
pub struct Target {
    pub address: String,
    pub user: String,
    pub password: Option<String>,
    /// Keeps the mock running as long as the example needs it.
    _mock: Option<MockRouter>,
}

impl Target {
    /// Whether the examples talk to the built-in mock (so they may change things freely).
    pub fn is_mock(&self) -> bool {
        self._mock.is_some()
    }
}

/// Reads the environment, or starts the mock, and says which on the first line.
pub fn target() -> Target {
    target_with(Vec::new())
}

/// [`target`], with these menus added to the mock when it is the mock.
pub fn target_with(menus: Vec<MockMenu>) -> Target {
    match std::env::var("MIKROTIK_ADDR") {
        Ok(address) => {
            let user = std::env::var("MIKROTIK_USER").unwrap_or_else(|_| "admin".into());
            let password = std::env::var("MIKROTIK_PASSWORD").ok();
            println!("Connecting to the router at {address} as {user}");
            Target {
                address,
                user,
                password,
                _mock: None,
            }
        }
        Err(_) => {
            let mut builder = MockRouter::builder().monitor_interval(Duration::from_millis(250));
            for menu in menus {
                builder = builder.menu(menu);
            }
            let mock = builder.start();
            println!(
                "MIKROTIK_ADDR is not set: running against the built-in mock router at {} \
                 (set MIKROTIK_ADDR, MIKROTIK_USER, MIKROTIK_PASSWORD to use a real one)",
                mock.address()
            );
            Target {
                address: mock.address(),
                user: "admin".into(),
                password: None,
                _mock: Some(mock),
            }
        }
    }
}
