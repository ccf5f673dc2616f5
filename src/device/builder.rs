//! `DeviceBuilder`: every option of a connection, then `connect`.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::address::Address;
use super::addressed;
use super::peer::PeerAddr;
use super::port_mixup::{KeepFirstBytes, explain_login_failure};
use super::{MikrotikDevice, Password};
use crate::connection::{self, BufferPolicy, ConnectionHandle, ConnectionOptions, Keepalive};
use crate::observe::trace::ConnectionSpan;
use crate::protocol::DecoderLimits;
use crate::reconnect::{self, ReconnectPolicy};
use crate::runtime::{self, AsyncStream, BoxedStream, Runtime, Spawn, WithSpawner};
use crate::{Error, Result, Stage, TimeoutKind};

/// The plain API port.
pub(crate) const API_PORT: u16 = 8728;
/// The API-SSL (TLS) port.
pub(crate) const API_SSL_PORT: u16 = 8729;

/// Options for a connection to one router. Made by [`MikrotikDevice::builder`].
///
/// ```no_run
/// # async fn demo() -> mikrotik_rs::Result<()> {
/// use std::time::Duration;
/// use mikrotik_rs::MikrotikDevice;
///
/// let device = MikrotikDevice::builder("192.168.88.1")
///     .credentials("admin", Some("password"))
///     .connect_timeout(Duration::from_secs(5))
///     .command_timeout(Duration::from_secs(30))
///     .keepalive(Duration::from_secs(30), Duration::from_secs(10))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
///
/// `Clone`, so that one set of options can open a connection again (a
/// fleet reopens a router's connection after closing it for idleness).
#[derive(Clone)]
pub struct DeviceBuilder {
    address: String,
    user: String,
    password: Option<Password>,
    runtime: Option<Arc<dyn Runtime>>,
    spawner: Option<Arc<dyn Spawn>>,
    connect_timeout: Option<Duration>,
    login_timeout: Option<Duration>,
    options: ConnectionOptions,
    #[cfg(feature = "_tls")]
    tls: Option<crate::tls::TlsOptions>,
    reconnect: Option<Reconnecting>,
    /// More addresses of the same router, tried after `address` in order.
    fallbacks: Vec<String>,
    /// Ask the router's name after login, for the connection's span.
    trace_identity: bool,
    /// A fleet's connect limit: every reconnect attempt holds one of its
    /// slots while it connects and logs in.
    reconnect_gate: Option<Arc<runtime::Limit>>,
    /// The fleet's connect slot the first connection is opened under.
    first_slot: Option<runtime::ConnectSlot>,
    /// With a policy: a failed first connect is retried under it.
    retry_first_connect: bool,
    /// Where the connect is, for a fleet job's deadline to report.
    stage: Option<super::StageTracker>,
    /// What every opened stream passes through (a recording).
    wrap: Option<Arc<dyn super::WrapStream>>,
    /// Check every command against the router's release before sending it.
    #[cfg(feature = "schema")]
    check_commands: bool,
    /// The release each login learns, with `check_commands`: new for each
    /// device `connect` makes, shared with its reconnects.
    #[cfg(feature = "schema")]
    router_version: Option<super::version_check::RouterVersion>,
}

impl fmt::Debug for DeviceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceBuilder")
            .field("address", &self.address)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("runtime", &self.runtime)
            .field("connect_timeout", &self.connect_timeout)
            .field("login_timeout", &self.login_timeout)
            .field("options", &self.options)
            .field("tls", &self.uses_tls())
            .field("reconnect", &self.reconnect.as_ref().map(|r| &r.policy))
            .field("fallbacks", &self.fallbacks)
            .field("trace_identity", &self.trace_identity)
            .field("check_commands", &self.checks_commands())
            .finish_non_exhaustive()
    }
}

impl DeviceBuilder {
    pub(crate) fn new(address: String) -> Self {
        Self {
            address,
            user: "admin".to_owned(),
            password: None,
            runtime: None,
            spawner: None,
            connect_timeout: Some(Duration::from_secs(10)),
            login_timeout: Some(Duration::from_secs(10)),
            options: ConnectionOptions::default(),
            #[cfg(feature = "_tls")]
            tls: None,
            reconnect: None,
            fallbacks: Vec::new(),
            trace_identity: false,
            reconnect_gate: None,
            first_slot: None,
            retry_first_connect: false,
            stage: None,
            wrap: None,
            #[cfg(feature = "schema")]
            check_commands: false,
            #[cfg(feature = "schema")]
            router_version: None,
        }
    }

    /// With the `schema` feature: checks every command sent through the
    /// device (`send_command`, the menu helpers, [`api`](crate::api), a
    /// fleet's jobs) against the router's own release before writing it, as
    /// [`Command::check_for_version`](crate::protocol::command::Command::check_for_version)
    /// does. A command the release would refuse fails with
    /// [`Error::CommandCheck`] (the same message as `command!`'s, "did you
    /// mean …") and nothing is sent. Off by default.
    ///
    /// Its cost: after each login (and each reconnect: routers get upgraded)
    /// one `/system/resource/print` for the version, not counted in
    /// [`Stats`](crate::Stats), waiting at most the login timeout (10 s if
    /// none); then a look-up in the tree per command (microseconds, no I/O).
    /// A router on RouterOS 6 or newer than the tree (7.24) is not checked;
    /// one that does not say its version is checked against the whole tree
    /// ([`Command::check`](crate::protocol::command::Command::check)). The
    /// version is [`MikrotikDevice::routeros_version`].
    #[cfg(feature = "schema")]
    #[cfg_attr(docsrs, doc(cfg(feature = "schema")))]
    pub fn check_commands(mut self, enabled: bool) -> Self {
        self.check_commands = enabled;
        self
    }

    /// Whether [`check_commands`](Self::check_commands) is on.
    fn checks_commands(&self) -> bool {
        #[cfg(feature = "schema")]
        return self.check_commands;
        #[cfg(not(feature = "schema"))]
        false
    }

    /// This builder with a new cell for the version its logins learn, so
    /// that two devices connected with clones of one builder never share it.
    fn with_fresh_version(self) -> Self {
        #[cfg(feature = "schema")]
        return Self {
            router_version: self.check_commands.then(Default::default),
            ..self
        };
        #[cfg(not(feature = "schema"))]
        self
    }

    /// The device over `device`'s link, checking commands if asked.
    fn checking(&self, device: MikrotikDevice) -> MikrotikDevice {
        #[cfg(feature = "schema")]
        if let Some(version) = &self.router_version {
            return device.with_checks(version.clone());
        }
        device
    }

    /// With the `tracing` feature: after each login, when a subscriber records
    /// the connection's span, asks `/system/identity/print` once (waiting at
    /// most 2 s) and records the router's name in the span's `identity` field,
    /// beside its `address`. Off by default, so that turning a subscriber on
    /// never changes what is sent.
    ///
    /// Its cost: one extra command per connection (and reconnect), and up to
    /// 2 s more in `connect` for a router that does not answer. It is not
    /// counted in [`Stats`](crate::Stats): the counters hold only your
    /// commands. Without the `tracing` feature, or with no subscriber
    /// listening, nothing is sent.
    pub fn trace_identity(mut self, enabled: bool) -> Self {
        self.trace_identity = enabled;
        self
    }

    /// Reconnects after a lost connection as `policy` says, instead of
    /// ending every stream and failing every later command (the default).
    /// The device then stays valid across reconnects; see the crate docs,
    /// "Reconnecting", for what is resumed and what is never sent again.
    ///
    /// The first connection is still made by [`connect`](Self::connect),
    /// whose error (a refused login, a router that is down) is returned at
    /// once, unless [`retry_first_connect`](Self::retry_first_connect) says
    /// otherwise. Not with [`connect_stream`](Self::connect_stream), which
    /// cannot open your stream again.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = Some(Reconnecting {
            policy,
            connect: Self::connect_reconnecting,
        });
        self
    }

    /// With a [`reconnect`](Self::reconnect) policy: when the first connect
    /// fails (the router is down, a timeout), [`connect`](Self::connect)
    /// still returns a device, [`Reconnecting`](crate::ConnectionState::Reconnecting),
    /// and the first connection is retried under the policy as a lost one
    /// would be: a daemon needs no retry loop of its own. Commands sent
    /// meanwhile wait for it. Default `false`: the first connect's error is
    /// returned at once. A login refused by every address is returned at
    /// once either way (a refused login is never retried).
    pub fn retry_first_connect(mut self, retry: bool) -> Self {
        self.retry_first_connect = retry;
        self
    }

    /// Another address of the same router (a backup link, another of its
    /// names), tried after the first and earlier fallbacks, in order, on
    /// the first connection and on every reconnect attempt.
    pub fn fallback_address(mut self, address: impl Into<String>) -> Self {
        self.fallbacks.push(address.into());
        self
    }

    /// The user to log in as (default `admin`, no password).
    pub fn credentials(mut self, user: &str, password: Option<&str>) -> Self {
        self.user = user.to_owned();
        self.password = password.map(Password::new);
        self
    }

    /// The runtime for sockets, timers and spawning (default: Tokio when a
    /// Tokio runtime is current, otherwise async-io).
    pub fn runtime(mut self, runtime: Arc<dyn Runtime>) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Where to run the connection task, e.g. `|f| { smol::spawn(f).detach(); }`.
    /// Timers and sockets still come from the runtime.
    pub fn spawner(mut self, spawner: impl Spawn) -> Self {
        self.spawner = Some(Arc::new(spawner));
        self
    }

    /// Limit for the TCP connect and TLS handshake; default 10 s, `None` waits
    /// forever (as does a limit too large for the clock, e.g. `Duration::MAX`).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// Limit for the login exchange; default 10 s, `None` waits forever (as
    /// does a limit too large for the clock, e.g. `Duration::MAX`).
    ///
    /// If the router refused the credentials (`!trap`) but never finished the
    /// login with `!done`, the limit ends it with [`Error::Authentication`]
    /// carrying the router's message, not with a timeout.
    pub fn login_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.login_timeout = timeout.into();
        self
    }

    /// Deadline for commands that set none with
    /// [`Command::with_timeout`](crate::protocol::command::Command::with_timeout).
    /// A command past it ends with [`Error::Timeout`] and is cancelled on the router.
    ///
    /// It is for commands that finish: it never applies to a streaming
    /// command (`listen`, `monitor`, a `print` with `follow`, `follow-only`
    /// or `interval`; [`Command::is_resumable`](crate::protocol::command::Command::is_resumable)),
    /// which runs until dropped however quiet it is. A dead router under a
    /// stream is found by the [`keepalive`](Self::keepalive).
    pub fn command_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.options.command_timeout = timeout.into();
        self
    }

    /// Sends `/system/identity/print` after `interval` without incoming bytes and
    /// fails the connection if nothing arrives within `timeout` of it.
    pub fn keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.options.keepalive = Some(Keepalive::new(interval, timeout));
        self
    }

    /// The default buffer policy of commands (default: 8192 unread replies, then overflow).
    pub fn buffer(mut self, policy: BufferPolicy) -> Self {
        self.options.buffer = policy;
        self
    }

    /// The byte bound of [`BufferPolicy::Bounded`] commands: how many bytes
    /// of unread replies one command may hold while its reader is stuck
    /// (default 4 MiB; never more than 8 times this, however alive the reader).
    pub fn max_unread_bytes(mut self, bytes: usize) -> Self {
        self.options.max_unread_bytes = bytes;
        self
    }

    /// Limits on what the router may send (word, sentence size, words per sentence).
    pub fn limits(mut self, limits: DecoderLimits) -> Self {
        self.options.limits = limits;
        self
    }

    /// Speaks API-SSL (feature `tls` or `tls-aws-lc-rs`): TLS over the connection, verified as `options` says.
    /// The default port becomes 8729. A failed verification is an error, never
    /// a fallback to plain text.
    #[cfg(feature = "_tls")]
    pub fn tls(mut self, options: crate::tls::TlsOptions) -> Self {
        self.tls = Some(options);
        self
    }

    /// Opens the first connection under `slot` (a fleet's connect limit):
    /// see [`runtime::ConnectSlot`].
    pub(crate) fn first_connect_under(mut self, slot: runtime::ConnectSlot) -> Self {
        self.first_slot = Some(slot);
        self
    }

    /// Passes every stream the device opens (the first and each
    /// reconnect's; for API-SSL the decrypted side) through `wrap`.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn wrapping_streams(mut self, wrap: Arc<dyn super::WrapStream>) -> Self {
        self.wrap = Some(wrap);
        self
    }

    /// Notes each step of connecting (TCP, TLS, login) in `stage`, for a
    /// deadline around the whole connect to say where it ran out.
    pub(crate) fn tracking_stage(mut self, stage: &super::StageTracker) -> Self {
        self.stage = Some(stage.clone());
        self
    }

    /// Makes every reconnect attempt of the device wait for a slot of `gate`
    /// (a fleet's connect limit) and hold it while it connects and logs in.
    pub(crate) fn reconnects_under(mut self, gate: &Arc<runtime::Limit>) -> Self {
        self.reconnect_gate = Some(Arc::clone(gate));
        self
    }

    /// Gives this builder `runtime` unless it was given one of its own (a
    /// fleet's routers run on the fleet's runtime by default).
    pub(crate) fn runtime_if_unset(mut self, runtime: &Arc<dyn Runtime>) -> Self {
        if self.runtime.is_none() {
            self.runtime = Some(Arc::clone(runtime));
        }
        self
    }

    fn uses_tls(&self) -> bool {
        #[cfg(feature = "_tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "_tls"))]
        false
    }

    /// Wraps the connected stream in TLS when that was asked for; the
    /// handshake ends by `deadline`, with an error that says what silence means.
    async fn secure(
        &self,
        stream: BoxedStream,
        address: &Address,
        peer: SocketAddr,
        runtime: &dyn Runtime,
        deadline: Option<Instant>,
    ) -> Result<BoxedStream> {
        #[cfg(feature = "_tls")]
        if let Some(options) = &self.tls {
            let limit = self.connect_timeout.unwrap_or_default();
            return crate::tls::connect_within(
                stream,
                peer,
                &address.host,
                options,
                runtime,
                deadline,
                limit,
            )
            .await;
        }
        let _ = (address, peer, runtime, deadline);
        Ok(stream)
    }

    fn runtime_or_default(&self) -> Result<Arc<dyn Runtime>> {
        let runtime = match &self.runtime {
            Some(runtime) => Arc::clone(runtime),
            None => runtime::default_runtime().ok_or_else(|| {
                Error::Config("no runtime: enable the `tokio` or `async-io` feature, or pass one with `runtime`".into())
            })?,
        };
        Ok(match &self.spawner {
            Some(spawner) => Arc::new(WithSpawner {
                inner: runtime,
                spawner: Arc::clone(spawner),
            }),
            None => runtime,
        })
    }

    /// Connects, logs in, and returns the device.
    pub async fn connect(self) -> Result<MikrotikDevice> {
        let this = self.with_fresh_version();
        this.connect_with_version().await
    }

    async fn connect_with_version(mut self) -> Result<MikrotikDevice> {
        let runtime = self.runtime_or_default()?;
        let mut refused = vec![false; self.address_count()];
        let mut first_options = self.options.clone();
        // Taken, not cloned: the builder outlives a first connect that is
        // retried in the background (its connectors own it), and a slot it
        // held would never be given back.
        first_options.connect_slot = self.first_slot.take();
        if let Some(Reconnecting { policy, connect }) = self.reconnect.clone() {
            return connect(self, runtime, policy, first_options, refused).await;
        }
        let (handle, peer) = self.open_any(&runtime, first_options, &mut refused).await?;
        let device = MikrotikDevice::from(handle).with_peer(PeerAddr::new(peer));
        Ok(self.checking(device))
    }

    /// The [`ConnectReconnecting`] that [`reconnect`](Self::reconnect) names.
    fn connect_reconnecting(
        self,
        runtime: Arc<dyn Runtime>,
        policy: ReconnectPolicy,
        first_options: ConnectionOptions,
        refused: Vec<bool>,
    ) -> ConnectingFuture {
        Box::pin(self.connect_supervised(runtime, policy, first_options, refused))
    }

    /// Connects under `policy`: the first connection, then the supervisor
    /// that replaces it when it is lost.
    async fn connect_supervised(
        self,
        runtime: Arc<dyn Runtime>,
        policy: ReconnectPolicy,
        mut first_options: ConnectionOptions,
        mut refused: Vec<bool>,
    ) -> Result<MikrotikDevice> {
        let orphanage = reconnect::Orphanage::new();
        let mut options = self.options.clone();
        options.handback = Some(orphanage.handback());
        let counters = Arc::<crate::observe::Counters>::default();
        options.counters = Some(Arc::clone(&counters));
        first_options.handback = options.handback.clone();
        first_options.counters = options.counters.clone();
        let peer = PeerAddr::default();
        let first = match self.open_any(&runtime, first_options, &mut refused).await {
            Ok((first, addr)) => {
                peer.set(addr);
                Ok(first)
            }
            Err(error) if self.retry_first_connect && !refused.iter().all(|r| *r) => Err(error),
            Err(error) => return Err(error),
        };
        let command_timeout = self.options.command_timeout;
        let buffer = self.options.buffer;
        // The connectors own the builder, and so the password: it lives as
        // long as the supervisor may need to log in again, then is wiped.
        let builder = Arc::new(self);
        let connectors = (0..builder.address_count())
            .map(|at| {
                let builder = Arc::clone(&builder);
                let runtime = Arc::clone(&runtime);
                let options = options.clone();
                let peer = peer.clone();
                let connector: reconnect::Connector = Arc::new(move |handback| {
                    let builder = Arc::clone(&builder);
                    let runtime = Arc::clone(&runtime);
                    let peer = peer.clone();
                    let mut options = options.clone();
                    options.handback = Some(handback);
                    options.connect_slot = None;
                    Box::pin(async move {
                        if let Some(gate) = &builder.reconnect_gate {
                            let permit = Arc::clone(gate).acquire_owned().await;
                            options.connect_slot = Some(runtime::ConnectSlot::new(permit));
                        }
                        let (handle, addr) = builder.open(at, &runtime, options).await?;
                        handle.counters().reconnected();
                        peer.set(addr);
                        Ok(handle)
                    })
                });
                connector
            })
            .collect();
        let plan = reconnect::Plan {
            runtime,
            policy,
            connectors,
            refused,
            command_timeout,
            buffer,
            counters,
            span: ConnectionSpan::reconnecting(&builder.address),
        };
        let device =
            MikrotikDevice::supervised(reconnect::spawn(plan, orphanage, first)).with_peer(peer);
        Ok(builder.checking(device))
    }

    fn address_count(&self) -> usize {
        1 + self.fallbacks.len()
    }

    /// The address tried `at`-th (0: the main one).
    fn address_at(&self, at: usize) -> &str {
        match at {
            0 => &self.address,
            n => &self.fallbacks[n - 1],
        }
    }

    /// Tries every address in turn; the first that logs in wins (with the
    /// socket address it reached), else the last error. Notes in `refused`
    /// which addresses refused the login.
    async fn open_any(
        &self,
        runtime: &Arc<dyn Runtime>,
        options: ConnectionOptions,
        refused: &mut [bool],
    ) -> Result<(ConnectionHandle, SocketAddr)> {
        let mut last_error = None;
        for (at, refused) in refused.iter_mut().enumerate() {
            match self.open(at, runtime, options.clone()).await {
                Ok(handle) => return Ok(handle),
                Err(error) => {
                    *refused = matches!(error, Error::Authentication { .. });
                    last_error = Some(error);
                }
            }
        }
        Err(last_error.unwrap_or(Error::Closed))
    }

    /// Connects to the `at`-th address, secures and logs in; the socket
    /// address it reached.
    async fn open(
        &self,
        at: usize,
        runtime: &Arc<dyn Runtime>,
        options: ConnectionOptions,
    ) -> Result<(ConnectionHandle, SocketAddr)> {
        let default_port = if self.uses_tls() {
            API_SSL_PORT
        } else {
            API_PORT
        };
        let address = Address::parse(self.address_at(at), default_port)?;
        let deadline = self
            .connect_timeout
            .and_then(|t| runtime::deadline_in(&**runtime, t));
        self.enter(Stage::Connect);
        let connecting = connect_tcp(&**runtime, &address);
        let timeout = || {
            Err(Error::Timeout {
                what: TimeoutKind::Connect,
                after: self.connect_timeout.unwrap_or_default(),
                address: Some(format!("{}:{}", address.host, address.port).into()),
                stage: None,
            })
        };
        let (stream, peer) =
            runtime::with_deadline(&**runtime, deadline, connecting, timeout).await?;
        if self.uses_tls() {
            self.enter(Stage::Tls);
        }
        let stream = self
            .secure(stream, &address, peer, &**runtime, deadline)
            .await?;
        let stream = self.wrapped(stream);
        self.enter(Stage::Login);
        let handle = self.log_in(stream, Arc::clone(runtime), options).await?;
        Ok((handle, peer))
    }

    /// Logs in over a stream that is already connected (any futures-io stream:
    /// a socket you opened, a tunnel, TLS you set up yourself).
    pub async fn connect_stream(self, stream: impl AsyncStream) -> Result<MikrotikDevice> {
        if self.reconnect.is_some() {
            return Err(Error::Config(
                "reconnect needs an address: connect_stream cannot open your stream again".into(),
            ));
        }
        let this = self.with_fresh_version();
        let runtime = this.runtime_or_default()?;
        let stream = this.wrapped(Box::new(stream));
        let handle = this.log_in(stream, runtime, this.options.clone()).await?;
        Ok(this.checking(MikrotikDevice::from(handle)))
    }

    fn wrapped(&self, stream: BoxedStream) -> BoxedStream {
        match &self.wrap {
            Some(wrap) => wrap.wrap(stream),
            None => stream,
        }
    }

    fn enter(&self, stage: Stage) {
        if let Some(tracker) = &self.stage {
            tracker.enter(stage);
        }
    }

    async fn log_in(
        &self,
        stream: impl AsyncStream,
        runtime: Arc<dyn Runtime>,
        options: ConnectionOptions,
    ) -> Result<ConnectionHandle> {
        let (stream, first_bytes) = KeepFirstBytes::watch(stream);
        let slot = options.connect_slot.clone();
        let shared = connection::Shared::new(
            options.counters.clone().unwrap_or_default(),
            ConnectionSpan::new(&self.address, self.uses_tls()),
        );
        let (handle, connection) =
            connection::new_observed(stream, Arc::clone(&runtime), options, shared);
        runtime.spawn(Box::pin(connection));
        // Until the login succeeds, dropping or failing it closes the socket
        // at once (a fleet's connect slot must not be freed while it lingers).
        let abandon = AbandonUnlessLoggedIn(Some(handle.clone()));
        let device = MikrotikDevice::from(handle.clone());
        let deadline = self
            .login_timeout
            .and_then(|t| runtime::deadline_in(&*runtime, t));
        let password = self.password.as_ref().map(Password::expose);
        let refusal = Mutex::new(None);
        let login = device.login_noting_refusal(&self.user, password, &refusal);
        // A router that refused the login and then fell silent has said why:
        // report that, not the timeout.
        let timeout = || match super::handle::take_refusal(&refusal) {
            Some(message) => Err(Error::authentication(message)),
            None => Err(Error::Timeout {
                what: TimeoutKind::Login,
                after: self.login_timeout.unwrap_or_default(),
                address: Some(Arc::from(self.address.as_str())),
                stage: None,
            }),
        };
        runtime::with_deadline(&*runtime, deadline, login, timeout)
            .await
            .map_err(|error| {
                if self.uses_tls() {
                    return error;
                }
                let first = first_bytes.lock().unwrap_or_else(|e| e.into_inner());
                explain_login_failure(error, &first)
            })
            .map_err(|error| error.refused_at(&self.address, &self.user))?;
        if self.trace_identity {
            super::identity::name_the_span(&handle, &*runtime).await;
        }
        #[cfg(feature = "schema")]
        if let Some(version) = &self.router_version {
            version.learn(&handle, &*runtime, self.login_timeout).await;
        }
        abandon.logged_in();
        if let Some(slot) = &slot {
            slot.release();
        }
        Ok(handle)
    }
}

/// A reconnect policy, with the code that connects under it.
///
/// [`DeviceBuilder::reconnect`] names that code, not `connect`: a program
/// that never asks for reconnecting (a gateway's) then links none of the
/// supervisor (about 35 KB of a small build). A policy that only `connect`
/// checked at run time would link it into every program, because an async
/// function's code is kept for every state it could be in.
#[derive(Clone)]
struct Reconnecting {
    policy: ReconnectPolicy,
    connect: ConnectReconnecting,
}

/// [`DeviceBuilder::connect_reconnecting`]: the builder, its runtime, the
/// policy, the first connection's options, and which addresses refused.
type ConnectReconnecting = fn(
    DeviceBuilder,
    Arc<dyn Runtime>,
    ReconnectPolicy,
    ConnectionOptions,
    Vec<bool>,
) -> ConnectingFuture;

/// A connect in progress, boxed so that [`ConnectReconnecting`] is a plain
/// function pointer.
type ConnectingFuture = Pin<Box<dyn Future<Output = Result<MikrotikDevice>> + Send>>;

/// Closes a connection at once, without the linger, unless its login
/// succeeded: dropped with the login future (a deadline, a cancelled
/// fleet job) or on a failed login.
struct AbandonUnlessLoggedIn(Option<ConnectionHandle>);

impl AbandonUnlessLoggedIn {
    fn logged_in(mut self) {
        self.0 = None;
    }
}

impl Drop for AbandonUnlessLoggedIn {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.close_at_once();
        }
    }
}

/// Tries each resolved address in turn; the last error wins. Errors, then and
/// for the life of the connection, name the address; it is returned too.
async fn connect_tcp(
    runtime: &dyn Runtime,
    address: &Address,
) -> Result<(BoxedStream, SocketAddr)> {
    let mut last_error = None;
    for addr in address.resolve().await? {
        match runtime.connect(addr).await {
            Ok(stream) => {
                return Ok((
                    Box::new(addressed::AddressedStream::new(stream, addr)),
                    addr,
                ));
            }
            Err(e) => last_error = Some(addressed::at("connecting to ", addr, e)),
        }
    }
    // `resolve` never returns an empty list; were it to, that is no close.
    Err(last_error.map_or_else(|| address.unresolvable("no addresses"), Error::from))
}
