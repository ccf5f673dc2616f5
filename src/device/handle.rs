//! `MikrotikDevice`: the cheap, cloneable handle to one router.

use std::fmt;
use std::sync::Mutex;

use super::DeviceBuilder;
use crate::connection::{BufferPolicy, ConnectionHandle, ResponseStream};
use crate::observe::Stats;
use crate::observe::trace::LoginTrace;
use crate::protocol::CommandResponse;
use crate::protocol::command::Command;
use crate::protocol::login;
use crate::{Error, Result};

/// A connection to one router, shared by every clone.
///
/// Cloning is cheap (two reference counts). Every command sent through any
/// clone runs concurrently with the others over the one connection. The
/// connection closes when every clone and every [`ResponseStream`] is dropped.
#[derive(Clone)]
pub struct MikrotikDevice {
    connection: ConnectionHandle,
}

impl From<ConnectionHandle> for MikrotikDevice {
    /// The device API over a connection made with
    /// [`connection::new`](crate::connection::new) (log in with
    /// [`login`](MikrotikDevice::login) before anything else).
    fn from(connection: ConnectionHandle) -> Self {
        Self { connection }
    }
}

impl fmt::Debug for MikrotikDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MikrotikDevice")
            .field("in_flight", &self.in_flight())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl MikrotikDevice {
    /// Connects to `address` (`"host:port"`; port 8728 when omitted) and logs in,
    /// on Tokio if a Tokio runtime is current, otherwise on async-io.
    ///
    /// For TLS, timeouts, keepalive and other options use [`builder`](Self::builder).
    pub async fn connect(address: &str, user: &str, password: Option<&str>) -> Result<Self> {
        Self::builder(address)
            .credentials(user, password)
            .connect()
            .await
    }

    /// A builder for a connection to `address`.
    pub fn builder(address: impl Into<String>) -> DeviceBuilder {
        DeviceBuilder::new(address.into())
    }

    /// Sends `command` and returns the stream of its replies.
    ///
    /// The command's tag is registered before its bytes are written, so no
    /// reply can arrive too early. Fails at once if the connection has ended,
    /// and with [`Error::InvalidCommand`] (nothing written, the connection
    /// unharmed) if the command's builder was misused
    /// ([`Command::invalid`]).
    pub async fn send_command(&self, command: Command) -> Result<ResponseStream> {
        let policy = self.connection.default_buffer();
        self.send_command_with(command, policy).await
    }

    /// Like [`send_command`](Self::send_command), with this command's own buffer policy.
    pub async fn send_command_with(
        &self,
        command: Command,
        policy: BufferPolicy,
    ) -> Result<ResponseStream> {
        self.connection.send(command, policy)
    }

    /// Logs in: the 6.43+ method first, then the MD5 challenge–response if the
    /// router answers with a challenge (pre-6.43).
    ///
    /// [`connect`](Self::connect) and the builder already do this; call it
    /// yourself only with [`connection::new`](crate::connection::new).
    pub async fn login(&self, user: &str, password: Option<&str>) -> Result<()> {
        self.login_noting_refusal(user, password, &Mutex::new(None))
            .await
    }

    /// [`login`](Self::login), leaving the router's refusal (a `!trap`
    /// message) in `refusal` as soon as it arrives, so that a caller whose
    /// deadline passes before the router's `!done` can still report it.
    pub(crate) async fn login_noting_refusal(
        &self,
        user: &str,
        password: Option<&str>,
        refusal: &Mutex<Option<String>>,
    ) -> Result<()> {
        // Traced by method, duration and outcome only: never a word of the
        // login commands.
        let mut trace = LoginTrace::start(self.connection.span());
        let result = self.login_steps(user, password, refusal, &mut trace).await;
        trace.finish(&result);
        result
    }

    async fn login_steps(
        &self,
        user: &str,
        password: Option<&str>,
        refusal: &Mutex<Option<String>>,
        trace: &mut LoginTrace,
    ) -> Result<()> {
        let password = password.unwrap_or_default();
        let challenge = self
            .login_step(login::login(user, password), refusal)
            .await?;
        if let Some(challenge) = challenge {
            trace.legacy();
            let response = login::legacy_login(user, password, &challenge)?;
            self.login_step(response, refusal).await?;
        }
        Ok(())
    }

    /// Runs one login command; returns the `=ret=` challenge if there was one.
    async fn login_step(
        &self,
        command: Command,
        refusal: &Mutex<Option<String>>,
    ) -> Result<Option<String>> {
        let mut replies = self
            .send_command_with(command, BufferPolicy::Unbounded)
            .await?;
        while let Some(reply) = replies.recv().await {
            match reply? {
                CommandResponse::Trap(trap) => {
                    *refusal.lock().unwrap_or_else(|e| e.into_inner()) = Some(trap.message);
                }
                CommandResponse::Done(done) => {
                    return match take_refusal(refusal) {
                        Some(message) => Err(Error::Authentication { message }),
                        None => Ok(done.ret().map(str::to_owned)),
                    };
                }
                CommandResponse::Fatal(reason) => {
                    return Err(Error::Authentication { message: reason });
                }
                CommandResponse::Reply(_) | CommandResponse::Empty(_) => {}
            }
        }
        Err(self.gone())
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.connection.is_closed()
    }

    /// Why the connection ended, once it has.
    pub fn closed_reason(&self) -> Option<Error> {
        self.connection.closed_reason()
    }

    fn gone(&self) -> Error {
        self.connection.gone()
    }

    /// Commands in flight on the connection, including internal ones
    /// (`/cancel`, keepalive probes) until the router finishes them.
    pub fn in_flight(&self) -> usize {
        self.connection.in_flight()
    }

    /// Cancelled (or internal) commands the router never finished within
    /// [`ConnectionOptions::cancel_patience`](crate::connection::ConnectionOptions::cancel_patience):
    /// their routes were given up on, so that [`in_flight`](Self::in_flight)
    /// returns to 0 even when a `/cancel` goes unanswered.
    pub fn abandoned(&self) -> u64 {
        self.connection.abandoned()
    }

    /// The connection's counters: bytes and sentences each way, commands
    /// started and how each ended, in flight, reconnects, the last error.
    /// Cheap (relaxed atomic loads); render with
    /// [`observe::prometheus_text`](crate::observe::prometheus_text).
    pub fn snapshot(&self) -> Stats {
        self.connection.snapshot()
    }
}

/// The router's refusal of a login, if one arrived (see
/// [`MikrotikDevice::login_noting_refusal`]).
pub(crate) fn take_refusal(refusal: &Mutex<Option<String>>) -> Option<String> {
    refusal.lock().unwrap_or_else(|e| e.into_inner()).take()
}
