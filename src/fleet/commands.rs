//! The everyday fleet jobs: one command, or one menu print, on every router,
//! its rows collected per router.

use super::{Fleet, Run};
use crate::api::Collected;
use crate::protocol::ReplyResponse;
use crate::protocol::command::Command;

impl Fleet {
    /// Runs `command` on every router; each result holds that router's rows
    /// and `=ret=`. A `!trap` is that router's [`Error::Trap`](crate::Error::Trap).
    /// Takes what [`MikrotikDevice::collect`](crate::MikrotikDevice::collect)
    /// takes (a `Command`, a `CommandBuilder`, `command!(..)`).
    pub fn collect(&self, command: impl Into<Command>) -> Run<Collected> {
        let command = command.into();
        self.run(move |device| {
            let command = command.clone();
            async move { device.collect(command).await }
        })
    }

    /// Prints `menu` (e.g. `/interface`) on every router: its rows, raw.
    pub fn print(&self, menu: &str) -> Run<Vec<ReplyResponse>> {
        let menu = menu.to_owned();
        self.run(move |device| {
            let print = device.menu(menu.clone()).print();
            async move { print.collect().await }
        })
    }

    /// Prints `menu` on every router and decodes each row into `T`
    /// (feature `serde`; see [`from_reply`](crate::api::from_reply)).
    #[cfg(feature = "serde")]
    pub fn print_as<T>(&self, menu: &str) -> Run<Vec<T>>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        let menu = menu.to_owned();
        self.run(move |device| {
            let print = device.menu(menu.clone()).print();
            async move { print.collect_typed::<T>().await }
        })
    }
}
