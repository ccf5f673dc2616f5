//! `DeviceBuilder`: every option of a connection, then `connect`.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::address::Address;
use super::port_mixup::{KeepFirstBytes, explain_login_failure};
use super::{MikrotikDevice, Password};
use crate::connection::{self, BufferPolicy, ConnectionOptions, Keepalive};
use crate::observe::trace::ConnectionSpan;
use crate::protocol::DecoderLimits;
use crate::runtime::{self, AsyncStream, BoxedStream, Runtime, Spawn, WithSpawner};
use crate::{Error, Result};

/// The plain API port.
pub const API_PORT: u16 = 8728;
/// The API-SSL (TLS) port.
pub const API_SSL_PORT: u16 = 8729;

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
pub struct DeviceBuilder {
    address: String,
    user: String,
    password: Option<Password>,
    runtime: Option<Arc<dyn Runtime>>,
    spawner: Option<Arc<dyn Spawn>>,
    connect_timeout: Option<Duration>,
    login_timeout: Option<Duration>,
    options: ConnectionOptions,
    #[cfg(any(feature = "tls", feature = "tls-aws-lc-rs"))]
    tls: Option<crate::tls::TlsOptions>,
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
            #[cfg(any(feature = "tls", feature = "tls-aws-lc-rs"))]
            tls: None,
        }
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
    pub fn command_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.options.command_timeout = timeout.into();
        self
    }

    /// Sends `/system/identity/print` after `interval` without incoming bytes and
    /// fails the connection if nothing arrives within `timeout` of it.
    pub fn keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.options.keepalive = Some(Keepalive { interval, timeout });
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

    /// Speaks API-SSL: TLS over the connection, verified as `options` says.
    /// The default port becomes 8729. A failed verification is an error, never
    /// a fallback to plain text.
    #[cfg(any(feature = "tls", feature = "tls-aws-lc-rs"))]
    pub fn tls(mut self, options: crate::tls::TlsOptions) -> Self {
        self.tls = Some(options);
        self
    }

    fn uses_tls(&self) -> bool {
        #[cfg(any(feature = "tls", feature = "tls-aws-lc-rs"))]
        return self.tls.is_some();
        #[cfg(not(any(feature = "tls", feature = "tls-aws-lc-rs")))]
        false
    }

    /// Wraps the connected stream in TLS when that was asked for; the
    /// handshake ends by `deadline`, with an error that says what silence means.
    async fn secure(
        &self,
        stream: BoxedStream,
        address: &Address,
        runtime: &dyn Runtime,
        deadline: Option<Instant>,
    ) -> Result<BoxedStream> {
        #[cfg(any(feature = "tls", feature = "tls-aws-lc-rs"))]
        if let Some(options) = &self.tls {
            let limit = self.connect_timeout.unwrap_or_default();
            return crate::tls::connect_within(
                stream,
                &address.host,
                options,
                runtime,
                deadline,
                limit,
            )
            .await;
        }
        let _ = (address, runtime, deadline);
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
        let runtime = self.runtime_or_default()?;
        let default_port = if self.uses_tls() {
            API_SSL_PORT
        } else {
            API_PORT
        };
        let address = Address::parse(&self.address, default_port)?;
        let deadline = self
            .connect_timeout
            .and_then(|t| runtime::deadline_in(&*runtime, t));
        let connecting = connect_tcp(&*runtime, &address);
        let timeout = || {
            Err(Error::Timeout {
                what: "connect",
                after: self.connect_timeout.unwrap_or_default(),
            })
        };
        let stream = runtime::with_deadline(&*runtime, deadline, connecting, timeout).await?;
        let stream = self.secure(stream, &address, &*runtime, deadline).await?;
        self.connect_stream_with(stream, runtime).await
    }

    /// Logs in over a stream that is already connected (any futures-io stream:
    /// a socket you opened, a tunnel, TLS you set up yourself).
    pub async fn connect_stream(self, stream: impl AsyncStream) -> Result<MikrotikDevice> {
        let runtime = self.runtime_or_default()?;
        self.connect_stream_with(stream, runtime).await
    }

    async fn connect_stream_with(
        self,
        stream: impl AsyncStream,
        runtime: Arc<dyn Runtime>,
    ) -> Result<MikrotikDevice> {
        let (stream, first_bytes) = KeepFirstBytes::new(stream);
        let shared = connection::Shared::new(
            Arc::default(),
            ConnectionSpan::new(&self.address, self.uses_tls()),
        );
        let (handle, connection) =
            connection::new_observed(stream, Arc::clone(&runtime), self.options.clone(), shared);
        let device = MikrotikDevice::from(handle);
        runtime.spawn(Box::pin(connection));
        let deadline = self
            .login_timeout
            .and_then(|t| runtime::deadline_in(&*runtime, t));
        let password = self.password.as_ref().map(Password::expose);
        let refusal = Mutex::new(None);
        let login = device.login_noting_refusal(&self.user, password, &refusal);
        // A router that refused the login and then fell silent has said why:
        // report that, not the timeout.
        let timeout = || match super::handle::take_refusal(&refusal) {
            Some(message) => Err(Error::Authentication { message }),
            None => Err(Error::Timeout {
                what: "login",
                after: self.login_timeout.unwrap_or_default(),
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
            })?;
        Ok(device)
    }
}

/// Tries each resolved address in turn; the last error wins.
async fn connect_tcp(runtime: &dyn Runtime, address: &Address) -> Result<BoxedStream> {
    let mut last_error = None;
    for addr in address.resolve().await? {
        match runtime.connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.map_or_else(|| Error::Closed, Error::from))
}
