//! `MikrotikDevice`: the cheap, cloneable handle to one router.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Mutex;

use super::DeviceBuilder;
use super::peer::PeerAddr;
use crate::connection::{BufferPolicy, ConnectionHandle, ResponseStream};
use crate::observe::Stats;
use crate::observe::trace::LoginTrace;
use crate::protocol::CommandResponse;
use crate::protocol::command::Command;
use crate::protocol::login;
use crate::reconnect::{ConnectionState, StateChanges, Supervised};
use crate::{Error, Result};

/// A connection to one router, shared by every clone.
///
/// Cloning is cheap (two reference counts). Every command sent through any
/// clone runs concurrently with the others over the one connection. The
/// connection closes when every clone and every [`ResponseStream`] is dropped.
///
/// With a [`ReconnectPolicy`](crate::ReconnectPolicy) (see
/// [`DeviceBuilder::reconnect`]) it is a handle to the router rather than to
/// one connection: it stays valid across reconnects (see the crate docs,
/// "Reconnecting").
#[derive(Clone)]
pub struct MikrotikDevice {
    link: Link,
    peer: PeerAddr,
    /// With [`DeviceBuilder::check_commands`]: the router's release, each
    /// command is checked against before it is written.
    #[cfg(feature = "schema")]
    checks: Option<super::version_check::RouterVersion>,
}

/// What a device sends through: one connection (the default, exactly as
/// before reconnecting existed), or the supervisor of a router's connections.
#[derive(Clone)]
enum Link {
    Direct(ConnectionHandle),
    Supervised(Supervised),
}

impl From<ConnectionHandle> for MikrotikDevice {
    /// The device API over a connection made with
    /// [`connection::new`](crate::connection::new) (log in with
    /// [`login`](MikrotikDevice::login) before anything else).
    fn from(connection: ConnectionHandle) -> Self {
        Self {
            link: Link::Direct(connection),
            peer: PeerAddr::default(),
            #[cfg(feature = "schema")]
            checks: None,
        }
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
    /// The address is taken as [`builder`](Self::builder) takes it: `&str`,
    /// `String` or `&String`.
    ///
    /// Under `#[tokio::main]` without the `tokio` feature, nothing fails: the
    /// connection runs on async-io and the crate's background thread instead
    /// of Tokio. Enable `tokio` to run it on Tokio.
    pub async fn connect(
        address: impl Into<String>,
        user: &str,
        password: Option<&str>,
    ) -> Result<Self> {
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
        let policy = match &self.link {
            Link::Direct(connection) => connection.default_buffer(),
            Link::Supervised(supervised) => supervised.default_buffer(),
        };
        self.send_command_with(command, policy).await
    }

    /// Like [`send_command`](Self::send_command), with this command's own buffer policy.
    ///
    /// On a device built with `DeviceBuilder::check_commands` (feature
    /// `schema`), both first check the command against the router's release:
    /// a command it would refuse fails with `Error::CommandCheck`, unsent.
    pub async fn send_command_with(
        &self,
        command: Command,
        policy: BufferPolicy,
    ) -> Result<ResponseStream> {
        #[cfg(feature = "schema")]
        if let Some(checks) = &self.checks {
            checks.check(&command)?;
        }
        match &self.link {
            Link::Direct(connection) => connection.send(command, policy),
            Link::Supervised(supervised) => supervised.send(command, policy),
        }
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
        let span = match &self.link {
            Link::Direct(connection) => connection.span().clone(),
            Link::Supervised(_) => Default::default(),
        };
        let mut trace = LoginTrace::start(&span);
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
                        Some(message) => Err(Error::authentication(message)),
                        // Read as bytes: a challenge that is not text must
                        // fail as a challenge, not pass as no challenge.
                        None => Ok(done
                            .ret_raw()
                            .map(|ret| String::from_utf8_lossy(ret).into_owned())),
                    };
                }
                CommandResponse::Fatal(reason) => {
                    return Err(Error::authentication(reason));
                }
                CommandResponse::Reply(_) | CommandResponse::Empty(_) => {}
            }
        }
        Err(self.gone())
    }

    pub(crate) fn supervised(supervised: Supervised) -> Self {
        Self {
            link: Link::Supervised(supervised),
            peer: PeerAddr::default(),
            #[cfg(feature = "schema")]
            checks: None,
        }
    }

    /// This device, checking each command against the version its logins learn.
    #[cfg(feature = "schema")]
    pub(crate) fn with_checks(mut self, version: super::version_check::RouterVersion) -> Self {
        self.checks = Some(version);
        self
    }

    /// The router's RouterOS version as its latest login's
    /// `/system/resource/print` reported it (`7.16.2 (stable)`), on a device
    /// built with [`check_commands`](DeviceBuilder::check_commands); `None`
    /// otherwise, or if the router did not say.
    #[cfg(feature = "schema")]
    #[cfg_attr(docsrs, doc(cfg(feature = "schema")))]
    pub fn routeros_version(&self) -> Option<String> {
        self.checks.as_ref().and_then(|checks| checks.get())
    }

    /// This device, knowing where its connections go.
    pub(crate) fn with_peer(mut self, peer: PeerAddr) -> Self {
        self.peer = peer;
        self
    }

    /// The address of the router this device is connected to now (for a
    /// reconnecting device: its latest connection, which may be a fallback
    /// address); `None` for a device made with
    /// [`connect_stream`](DeviceBuilder::connect_stream) or from a
    /// [`ConnectionHandle`], which has no address of its own.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer.get()
    }

    /// Whether the connection has ended (for a reconnecting device: whether
    /// it stopped reconnecting, its state is [`ConnectionState::Closed`]).
    pub fn is_closed(&self) -> bool {
        match &self.link {
            Link::Direct(connection) => connection.is_closed(),
            Link::Supervised(supervised) => supervised.is_closed(),
        }
    }

    /// Why the connection ended, once it has (for a reconnecting device:
    /// why it stopped reconnecting).
    pub fn closed_reason(&self) -> Option<Error> {
        match &self.link {
            Link::Direct(connection) => connection.closed_reason(),
            Link::Supervised(supervised) => supervised.closed_reason(),
        }
    }

    /// Whether this device reconnects (it was built with a
    /// [`ReconnectPolicy`](crate::ReconnectPolicy)).
    pub fn reconnects(&self) -> bool {
        matches!(self.link, Link::Supervised(_))
    }

    /// The pause before retrying work on this device for the `level`-th
    /// time (0 first), as its reconnect policy spaces attempts; `None`
    /// without a policy (nothing is retried then).
    pub(crate) fn retry_pause(
        &self,
        level: u32,
    ) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
        match &self.link {
            Link::Supervised(supervised) => Some(supervised.pause(level)),
            Link::Direct(_) => None,
        }
    }

    /// The state of the link to the router now. A device without a
    /// reconnect policy is [`Connected`](ConnectionState::Connected) until
    /// its connection ends, then [`Closed`](ConnectionState::Closed).
    pub fn state(&self) -> ConnectionState {
        match &self.link {
            Link::Direct(connection) => match connection.is_closed() {
                false => ConnectionState::Connected,
                true => ConnectionState::Closed {
                    error: connection.gone(),
                },
            },
            Link::Supervised(supervised) => supervised.state(),
        }
    }

    /// The state now, then each change, ending after
    /// [`Closed`](ConnectionState::Closed). Holding it does not keep the
    /// connection open.
    pub fn state_changes(&self) -> StateChanges {
        match &self.link {
            Link::Direct(connection) => StateChanges::direct(connection.shared()),
            Link::Supervised(supervised) => supervised.state_changes(),
        }
    }

    /// Why a request found the connection gone.
    fn gone(&self) -> Error {
        match &self.link {
            Link::Direct(connection) => connection.gone(),
            Link::Supervised(supervised) => supervised.closed_reason().unwrap_or(Error::Closed),
        }
    }

    /// Closes the connection for every clone, and returns once it is closed.
    ///
    /// Commands already sent are written first; then `/quit` is written, the
    /// connection is closed, and every command still running ends with
    /// [`Error::Closed`] (their streams get it as their last item). Later
    /// commands fail at once with [`Error::Closed`]. Returns at once if the
    /// connection has already ended. Waits for the write of `/quit`: bound it
    /// with a timeout if the router may have stopped reading.
    ///
    /// On a device from [`connection::new`](crate::connection::new) it waits
    /// for the driver you spawned to finish. On a reconnecting device it stops
    /// the reconnecting too, and returns once that is requested.
    ///
    /// Without it, the connection closes when every clone and every stream
    /// is dropped.
    pub async fn close(&self) {
        self.close_now();
        if let Link::Direct(connection) = &self.link {
            connection.closed().await;
        }
    }

    /// [`close`](Self::close) without waiting: asks for the close and returns.
    pub(crate) fn close_now(&self) {
        // No new requests from any clone: the actor takes what is queued,
        // ends what still runs, then writes `/quit` and closes the stream.
        match &self.link {
            Link::Direct(connection) => connection.close(),
            Link::Supervised(supervised) => supervised.close(),
        }
    }

    /// Commands in flight on the connection, including internal ones
    /// (`/cancel`, keepalive probes) until the router finishes them. On a
    /// reconnecting device: on the current connection (0 while down).
    pub fn in_flight(&self) -> usize {
        match &self.link {
            Link::Direct(connection) => connection.in_flight(),
            Link::Supervised(supervised) => supervised.in_flight(),
        }
    }

    /// Cancelled (or internal) commands the router never finished within
    /// [`ConnectionOptions::cancel_patience`](crate::connection::ConnectionOptions::cancel_patience):
    /// their routes were given up on, so that [`in_flight`](Self::in_flight)
    /// returns to 0 even when a `/cancel` goes unanswered. On a
    /// reconnecting device: on the current connection.
    pub fn abandoned(&self) -> u64 {
        match &self.link {
            Link::Direct(connection) => connection.abandoned(),
            Link::Supervised(supervised) => supervised.abandoned(),
        }
    }

    /// The connection's counters: bytes and sentences each way, commands
    /// started and how each ended, in flight, reconnects, the last error.
    /// Cheap (relaxed atomic loads); render with
    /// [`observe::prometheus_text`](crate::observe::prometheus_text).
    pub fn snapshot(&self) -> Stats {
        match &self.link {
            Link::Direct(connection) => connection.snapshot(),
            Link::Supervised(supervised) => supervised.snapshot(),
        }
    }
}

/// The router's refusal of a login, if one arrived (see
/// [`MikrotikDevice::login_noting_refusal`]).
pub(crate) fn take_refusal(refusal: &Mutex<Option<String>>) -> Option<String> {
    refusal.lock().unwrap_or_else(|e| e.into_inner()).take()
}
