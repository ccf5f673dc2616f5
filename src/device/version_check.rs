//! The opt-in run-time check of every command a device sends (feature
//! `schema`, `DeviceBuilder::check_commands`): after each login the device
//! asks the router's version once, and each later command is checked against
//! that release's command tree before a byte of it is written.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::BufferPolicy;
use crate::connection::ConnectionHandle;
use crate::protocol::CommandResponse;
use crate::protocol::command::{Command, CommandBuilder};
use crate::runtime::{self, Runtime};
use crate::{Error, Result};

/// How long a login waits for the version when it has no login timeout.
const PATIENCE: Duration = Duration::from_secs(10);

/// The version the router reported at its latest login, shared by a device's
/// clones and the connector that logs in again after a reconnect (a router
/// may have been upgraded while it was down).
#[derive(Clone, Default)]
pub(crate) struct RouterVersion(Arc<Mutex<Learned>>);

/// What the latest login learned.
#[derive(Clone, Default)]
enum Learned {
    /// No login has asked yet.
    #[default]
    NotYet,
    /// The router did not say (a `!trap`, no `version` or no answer in time).
    Unknown,
    /// As `/system/resource/print` reports it: `7.16.2 (stable)`.
    Version(String),
}

impl RouterVersion {
    /// The version, once a login learned it.
    pub(crate) fn get(&self) -> Option<String> {
        match &*self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            Learned::Version(version) => Some(version.clone()),
            Learned::NotYet | Learned::Unknown => None,
        }
    }

    fn set(&self, learned: Learned) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = learned;
    }

    /// Checks `command` before it is sent: against the router's release, as
    /// [`Command::check_for_version`] does (nothing for RouterOS 6 or a release
    /// newer than the tree); against the whole tree, as [`Command::check`]
    /// does, when the router did not say its version. The crate's own
    /// commands (`/cancel`, probes) are never checked, nor anything before the
    /// first login asked.
    pub(crate) fn check(&self, command: &Command) -> Result<()> {
        if !command.is_counted() {
            return Ok(());
        }
        let learned = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let checked = match learned {
            Learned::NotYet => Ok(()),
            Learned::Unknown => command.check(),
            Learned::Version(version) => command.check_for_version(&version),
        };
        checked.map_err(Error::CommandCheck)
    }

    /// Asks the router's version right after a login (one internal
    /// `/system/resource/print`, not counted in [`Stats`](crate::Stats)),
    /// waiting at most `patience` (the login timeout) for it.
    pub(crate) async fn learn(
        &self,
        handle: &ConnectionHandle,
        runtime: &dyn Runtime,
        patience: Option<Duration>,
    ) {
        let command = CommandBuilder::new()
            .command("/system/resource/print")
            .attribute(".proplist", Some("version"))
            .build()
            .internal();
        let Ok(mut replies) = handle.send(command, BufferPolicy::Bounded(4)) else {
            self.set(Learned::Unknown);
            return;
        };
        let ask = async {
            let mut learned = Learned::Unknown;
            while let Some(Ok(reply)) = replies.recv().await {
                if let CommandResponse::Reply(row) = reply
                    && let Some(version) = row.attributes.get("version")
                {
                    learned = Learned::Version(version.to_owned());
                }
            }
            learned
        };
        let deadline = runtime::deadline_in(runtime, patience.unwrap_or(PATIENCE));
        let learned = runtime::with_deadline(runtime, deadline, ask, || Learned::Unknown).await;
        self.set(learned);
    }
}
