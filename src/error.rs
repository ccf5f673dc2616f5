//! The crate's one error type.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use crate::protocol::{ProtocolError, TrapResponse, Traps};

/// Everything that can go wrong talking to a router.
///
/// `Clone`, so that one connection failure reaches every open stream.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum Error {
    /// The router refused the credentials; the message is the router's own,
    /// and the error says which router and which user (never the password).
    #[error("login failed{}: {message}", login_subject(.user.as_deref(), .address.as_deref()))]
    Authentication {
        /// What the router said, e.g. `invalid user name or password (6)`.
        message: String,
        /// The router's address as given to the builder, when known.
        address: Option<Arc<str>>,
        /// The user name that was refused, when known.
        user: Option<Arc<str>>,
    },
    /// The TLS (API-SSL) handshake or session failed.
    ///
    /// For code, `Error::tls_failure` (features `tls`, `tls-aws-lc-rs`) tells
    /// why as a type: a rejected certificate, with the fingerprint it
    /// presented, or no cipher suite in common.
    #[error("TLS error: {message}")]
    Tls {
        /// What went wrong, and how to fix it where we know.
        message: String,
        /// The rustls error behind it, if any.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// Something took longer than its configured limit.
    #[error("timed out: {what}{} took longer than {after:?}{}", to_address(.address.as_deref()), while_in(*.stage))]
    Timeout {
        /// What timed out: the connect, the login, a command, the keepalive
        /// or a certificate bootstrap.
        what: TimeoutKind,
        /// The limit that was exceeded.
        after: Duration,
        /// The router's address (`host:port`), for a connect timeout: which
        /// of several routers or fallback addresses did not answer.
        address: Option<Arc<str>>,
        /// Where the router was when a deadline wider than one step ran out:
        /// a fleet job's deadline (connecting, in the TLS handshake, logging
        /// in or running the job's commands), or a command's deadline while
        /// it was queued for a reconnect. `None` when `what` already says it.
        stage: Option<Stage>,
    },
    /// The connection failed with an I/O error.
    #[error("I/O error: {0}")]
    Io(#[source] Arc<io::Error>),
    /// The router closed the connection: its end of the TCP stream (or TLS
    /// session) ended. [`closed_by`](Self::closed_by) is
    /// [`ClosedBy::Router`].
    #[error("connection closed by the router{}", if *.mid_sentence { " in the middle of a sentence" } else { "" })]
    ConnectionClosed {
        /// Whether the close cut a sentence short.
        mid_sentence: bool,
    },
    /// The router speaks another protocol than this side: TLS answering a
    /// plain connection (the API-SSL port, 8729, reached without
    /// `DeviceBuilder::tls`), for example. The message says which, and what to do.
    #[error("wrong port or protocol: {message}")]
    ProtocolMismatch {
        /// What was seen, and how to fix it.
        message: String,
        /// The failure it explains (a close, a protocol error).
        #[source]
        source: Option<Arc<Error>>,
    },
    /// The connection was closed on this side, by the client, before the
    /// router closed anything: the program closed it, the runtime its task
    /// ran on shut down, or the
    /// [`Connection`](crate::connection::Connection) future was dropped.
    /// [`closed_by`](Self::closed_by) is [`ClosedBy::Client`].
    #[error("connection closed on this side (by the client)")]
    Closed,
    /// The router broke the wire protocol.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The router reported an error for a command (`!trap`): every trap it
    /// sent, and the command's path ([`Traps::command`]). `Traps` reads as a
    /// slice of [`TrapResponse`]s.
    #[error("router error: {0}")]
    Trap(Traps),
    /// The router is closing the connection (`!fatal`) for the reason given.
    ///
    /// The reason is quoted short (as [`CommandResponse::Fatal`](crate::protocol::CommandResponse::Fatal))
    /// and shared: every stream of the connection holds the same allocation.
    #[error("router closed the session: {0}")]
    Fatal(Arc<str>),
    /// A command's buffer was full because its stream was not read fast
    /// enough; the command was cancelled on the router.
    #[error(
        "response buffer overflow: the stream was not read (its bound: {capacity} replies, and the connection's `max_unread_bytes`); the command was cancelled"
    )]
    Overflow {
        /// The buffer capacity in replies.
        capacity: usize,
    },
    /// The address could not be parsed or resolved.
    #[error("invalid address {address:?}: {reason}")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// Why it is not usable.
        reason: String,
    },
    /// A command that must not be sent: its builder was misused (an empty
    /// word, a key that is empty or contains `=`; see
    /// [`Command::invalid`](crate::protocol::command::Command::invalid)), or
    /// its tag is already used by a command in flight. Nothing was written;
    /// the connection goes on.
    #[error("invalid command: {reason}")]
    InvalidCommand {
        /// Which word is wrong, and why.
        reason: String,
    },
    /// A command the run-time check refused before sending it, on a device
    /// built with [`check_commands`](crate::DeviceBuilder::check_commands)
    /// (feature `schema`): the router's release has no such path or argument,
    /// or a value breaks its type hint. Like [`InvalidCommand`](Error::InvalidCommand),
    /// nothing was written and the connection goes on; the typed error says
    /// what, and suggests the nearest real names.
    #[cfg(feature = "schema")]
    #[error("command refused before sending: {0}")]
    CommandCheck(crate::protocol::CommandCheckError),
    /// A bug in this crate: the connection task panicked. Only that
    /// connection ends; others go on.
    #[error("internal error: the connection task panicked ({message}); please report this bug")]
    Internal {
        /// The panic's message.
        message: String,
    },
    /// The builder's options do not fit together.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A reply's value could not be decoded into the type asked for (typed
    /// rows of [`api`](crate::api), or a missing `=ret=` id).
    #[error("cannot decode {}: {reason}", decode_subject(.key.as_deref(), .value.as_deref()))]
    Decode {
        /// The attribute, when the error is about one (`tx-byte`, `.id`, `ret`).
        key: Option<String>,
        /// The attribute's value as the router sent it (lossy UTF-8), when there was one.
        value: Option<String>,
        /// Why it did not decode, e.g. `invalid digit found in string`.
        reason: String,
    },
    /// The connection was lost while this command was in flight, on a
    /// device that reconnects. It was written, so **it may or may not have
    /// run on the router**; it is never sent again by itself (see
    /// [`may_have_run`](Error::may_have_run)).
    #[error("connection lost; the command may or may not have run: {cause}")]
    ConnectionLost {
        /// How the connection ended.
        cause: Arc<Error>,
    },
    /// Not an end: a resumable command's stream (listen, follow, monitor)
    /// was interrupted by a reconnect and goes on with the replies of the
    /// command sent again. Whatever happened on the router during the gap
    /// was not seen. Never the last item of a stream.
    #[error("resumed after a gap of {gap:?}: {cause}")]
    Resumed {
        /// From the loss of the connection to the command sent again.
        gap: std::time::Duration,
        /// How the connection ended.
        cause: Arc<Error>,
    },
    /// A reconnecting device holds this many commands waiting for the next
    /// connection already; this one was not queued (nothing was sent).
    #[error("{capacity} commands already wait for the reconnect; this one was not sent")]
    QueueFull {
        /// The bound of the queue.
        capacity: usize,
    },
    /// The device stopped reconnecting: the policy's limit on attempts or
    /// on time was reached.
    #[error("gave up reconnecting after {attempts} attempts: {last}")]
    GaveUp {
        /// Attempts made since the connection was lost.
        attempts: u32,
        /// The error of the last attempt.
        last: Arc<Error>,
    },
    /// An error of your own code: a fleet job's, or any function returning
    /// [`Result`](crate::Result) that fails for a reason of its own.
    ///
    /// Made by `Err(format!("outdated RouterOS {v}").into())` (from a `String`
    /// or `&str`), by `?` on a `Box<dyn Error + Send + Sync>`, or by
    /// [`Error::user`] from any error type (`.map_err(Error::user)?`). Its
    /// message is your error's; [`source`](std::error::Error::source) is your
    /// error's source. In a fleet [`Summary`](crate::fleet::Summary) it is
    /// counted under the kind `job`. One of this crate's own errors boxed on
    /// the way is never wrapped: it comes back as itself.
    #[error(transparent)]
    User(Arc<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// A refused login, the router's `message`; the address and user are
    /// added where the login was started (see [`refused_at`](Self::refused_at)).
    pub(crate) fn authentication(message: String) -> Self {
        Self::Authentication {
            message,
            address: None,
            user: None,
        }
    }

    /// Names the router and user on a refused login; other errors unchanged.
    pub(crate) fn refused_at(self, address: &str, user: &str) -> Self {
        match self {
            Self::Authentication { message, .. } => Self::Authentication {
                message,
                address: Some(Arc::from(address)),
                user: Some(Arc::from(user)),
            },
            other => other,
        }
    }

    /// An [`Error::User`] carrying `error`, an error of your own.
    /// One of this crate's errors, boxed on the way (a job's
    /// `Box<dyn Error>`), comes back as itself, not as `User`: a timeout
    /// stays a timeout to match on and to count.
    pub fn user(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        match error.into().downcast::<Self>() {
            Ok(own) => *own,
            Err(other) => Self::User(Arc::from(other)),
        }
    }
}

impl From<Box<dyn std::error::Error + Send + Sync>> for Error {
    fn from(error: Box<dyn std::error::Error + Send + Sync>) -> Self {
        Self::user(error)
    }
}

impl From<String> for Error {
    /// Your own error, as a message: `Err(format!(..).into())`.
    fn from(message: String) -> Self {
        Self::user(message)
    }
}

impl From<&str> for Error {
    /// Your own error, as a message: `Err("no such row".into())`.
    fn from(message: &str) -> Self {
        Self::user(message)
    }
}

fn login_subject(user: Option<&str>, address: Option<&str>) -> String {
    let mut subject = String::new();
    if let Some(user) = user {
        subject.push_str(&format!(" as {user:?}"));
    }
    if let Some(address) = address {
        subject.push_str(&format!(" at {address}"));
    }
    subject
}

fn to_address(address: Option<&str>) -> String {
    address.map(|a| format!(" to {a}")).unwrap_or_default()
}

fn decode_subject(key: Option<&str>, value: Option<&str>) -> String {
    match (key, value) {
        (Some(key), Some(value)) => format!("`{key}` = {value:?}"),
        (Some(key), None) => format!("`{key}`"),
        (None, Some(value)) => format!("{value:?}"),
        (None, None) => "a row".to_owned(),
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Self::Io(Arc::new(error))
    }
}

impl Error {
    /// The I/O error kind, for I/O errors.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            Self::Io(e) => Some(e.kind()),
            _ => None,
        }
    }

    /// Whether this error means the connection is gone and a new one is needed.
    pub fn is_connection_error(&self) -> bool {
        match self {
            Self::Io(_)
            | Self::ConnectionClosed { .. }
            | Self::Closed
            | Self::Fatal(_)
            | Self::Tls { .. }
            | Self::ProtocolMismatch { .. }
            | Self::ConnectionLost { .. }
            | Self::GaveUp { .. } => true,
            Self::Protocol(e) => e.is_framing(),
            Self::Timeout { what, .. } => !matches!(
                what,
                TimeoutKind::Command | TimeoutKind::CertificateBootstrap | TimeoutKind::Router
            ),
            _ => false,
        }
    }

    /// Who closed the connection, when this error is a close:
    /// [`ClosedBy::Router`] for [`ConnectionClosed`](Self::ConnectionClosed)
    /// and [`Fatal`](Self::Fatal) (the router said it is closing),
    /// [`ClosedBy::Client`] for [`Closed`](Self::Closed).
    ///
    /// `None` for every other error, including those that end the connection
    /// without either side closing it on purpose: an I/O error (a reset may
    /// come from the router or from the network between), a keepalive
    /// timeout, a protocol error.
    pub fn closed_by(&self) -> Option<ClosedBy> {
        match self {
            Self::ConnectionClosed { .. } | Self::Fatal(_) => Some(ClosedBy::Router),
            Self::Closed => Some(ClosedBy::Client),
            // The close (if it was one) that the mix-up explains.
            Self::ProtocolMismatch {
                source: Some(source),
                ..
            } => source.closed_by(),
            _ => None,
        }
    }

    /// Whether the command may have run on the router although its stream
    /// ended with this error: it was written and then its answer was lost
    /// (the connection ended with it in flight, or its deadline passed).
    /// Before sending an `add`, `set`, `remove` or script again, check.
    pub fn may_have_run(&self) -> bool {
        match self {
            Self::ConnectionLost { .. } => true,
            Self::Timeout { what, .. } => *what == TimeoutKind::Command,
            _ => false,
        }
    }

    /// Whether sending a *read* (a `print`) again after this error is
    /// sensible: the error says nothing against the command, only against
    /// the connection or the wait. A write may have run, see
    /// [`may_have_run`](Self::may_have_run).
    pub fn is_retry_safe_for_reads(&self) -> bool {
        match self {
            Self::ConnectionLost { .. } | Self::QueueFull { .. } | Self::Overflow { .. } => true,
            Self::Timeout { .. } => true,
            other => other.is_connection_error(),
        }
    }

    /// Whether something timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// The traps, for a command the router answered with `!trap`.
    pub fn traps(&self) -> Option<&[TrapResponse]> {
        match self {
            Self::Trap(traps) => Some(traps),
            _ => None,
        }
    }

    /// Names the command a trap answered (no change to other errors).
    pub(crate) fn in_command(self, path: &str) -> Self {
        match self {
            Self::Trap(traps) if traps.command().is_none() => Self::Trap(traps.in_command(path)),
            other => other,
        }
    }
}

/// Which end closed a connection; see [`Error::closed_by`].
///
/// A reconnect makes sense after the router closed; after the client did,
/// the program itself asked for the end (or its runtime went away).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClosedBy {
    /// This side: the program, its runtime, or this crate on its behalf.
    Client,
    /// The router (its end of the stream closed, or it sent `!fatal`).
    Router,
}

/// What an [`Error::Timeout`] is about.
///
/// Displayed as the word the error message uses (`connect`, `login`,
/// `command`, `keepalive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Resolving, the TCP connect and the TLS handshake together
    /// ([`DeviceBuilder::connect_timeout`](crate::DeviceBuilder::connect_timeout)).
    /// The connection never came up.
    Connect,
    /// The login ([`DeviceBuilder::login_timeout`](crate::DeviceBuilder::login_timeout)).
    /// The connection is closed.
    Login,
    /// One command's deadline: that command ends (and is cancelled on the
    /// router); the connection goes on.
    Command,
    /// No bytes after a keepalive probe: the router is taken for gone and
    /// the connection ends.
    Keepalive,
    /// `tls::bootstrap_certificate` (feature `tls`) as a
    /// whole (its overall timeout): the device it used goes on.
    CertificateBootstrap,
    /// A fleet job's deadline for one router
    /// ([`FleetBuilder::deadline`](crate::fleet::FleetBuilder::deadline)): that
    /// router's job ends; its connection is kept.
    Router,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect",
            Self::Login => "login",
            Self::Command => "command",
            Self::Keepalive => "keepalive",
            Self::Router => "router",
            Self::CertificateBootstrap => "certificate bootstrap",
        })
    }
}

/// The step a router was in when a deadline covering several steps ran out;
/// see [`Error::Timeout`]. Tells a router that never answered the login from
/// one whose command was slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// Resolving the address or opening the TCP connection.
    Connect,
    /// The TLS (API-SSL) handshake.
    Tls,
    /// Logging in.
    Login,
    /// Queued on a device with reconnect, waiting for the connection to come
    /// back: the command was not sent on the new connection. A command that
    /// was resumed after a drop (one that already ran on the lost
    /// connection) may have reached the router there; a new one did not.
    Queued,
    /// Connected and logged in: running commands (a fleet job's own work).
    Command,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connecting",
            Self::Tls => "in the TLS handshake",
            Self::Login => "logging in",
            Self::Queued => "queued while reconnecting",
            Self::Command => "running a command",
        })
    }
}

/// ` while <stage>` for a timeout's message, or nothing.
fn while_in(stage: Option<Stage>) -> String {
    match stage {
        Some(Stage::Queued) => format!(" ({})", Stage::Queued),
        Some(stage) => format!(" while {stage}"),
        None => String::new(),
    }
}

/// `Result` with this crate's [`Error`](enum@Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    /// A crate error that went through a `Box<dyn Error>` (a job's own
    /// error type, `?`) is still itself, not an `Error::User` hiding it.
    #[test]
    fn a_boxed_crate_error_comes_back_as_itself() {
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(super::Error::Closed);
        assert!(matches!(super::Error::from(boxed), super::Error::Closed));
        let timeout = super::Error::Timeout {
            what: super::TimeoutKind::Command,
            after: std::time::Duration::from_secs(1),
            address: None,
            stage: None,
        };
        assert!(matches!(
            super::Error::user(timeout),
            super::Error::Timeout { .. }
        ));
        assert!(matches!(super::Error::user("mine"), super::Error::User(_)));
    }

    use super::*;

    #[test]
    fn timeouts_keep_their_words_and_only_a_command_timeout_spares_the_connection() {
        let after = Duration::from_secs(3);
        let cases = [
            (TimeoutKind::Connect, "connect", true),
            (TimeoutKind::Login, "login", true),
            (TimeoutKind::Command, "command", false),
            (TimeoutKind::Keepalive, "keepalive", true),
            (
                TimeoutKind::CertificateBootstrap,
                "certificate bootstrap",
                false,
            ),
        ];
        for (what, word, connection) in cases {
            let error = Error::Timeout {
                what,
                after,
                address: None,
                stage: None,
            };
            assert_eq!(
                error.to_string(),
                format!("timed out: {word} took longer than 3s")
            );
            assert_eq!(error.is_connection_error(), connection, "{error:?}");
            assert!(error.is_timeout());
            assert_eq!(error.closed_by(), None);
        }
    }

    #[test]
    fn a_deadline_over_several_steps_says_which_step_it_ran_out_in() {
        let at = |stage| Error::Timeout {
            what: TimeoutKind::Router,
            after: Duration::from_secs(3),
            address: None,
            stage: Some(stage),
        };
        let cases = [
            (Stage::Connect, "while connecting"),
            (Stage::Tls, "while in the TLS handshake"),
            (Stage::Login, "while logging in"),
            (Stage::Queued, "(queued while reconnecting)"),
            (Stage::Command, "while running a command"),
        ];
        for (stage, words) in cases {
            assert_eq!(
                at(stage).to_string(),
                format!("timed out: router took longer than 3s {words}")
            );
        }
    }

    #[test]
    fn closes_say_who_closed() {
        let router = Error::ConnectionClosed {
            mid_sentence: false,
        };
        assert_eq!(router.closed_by(), Some(ClosedBy::Router));
        assert!(router.to_string().contains("by the router"), "{router}");
        let cut = Error::ConnectionClosed { mid_sentence: true };
        assert_eq!(cut.closed_by(), Some(ClosedBy::Router));
        let fatal = Error::Fatal("session terminated on request".into());
        assert_eq!(fatal.closed_by(), Some(ClosedBy::Router));
        let client = Error::Closed;
        assert_eq!(client.closed_by(), Some(ClosedBy::Client));
        assert_eq!(
            client.to_string(),
            "connection closed on this side (by the client)"
        );
        for error in [router, cut, fatal, client] {
            assert!(error.is_connection_error(), "{error:?}");
        }
    }

    #[test]
    fn failures_that_are_not_closes_name_no_closer() {
        let reset = Error::from(io::Error::from(io::ErrorKind::ConnectionReset));
        let framing = Error::from(ProtocolError::ControlByte(0xF8));
        let overflow = Error::Overflow { capacity: 1 };
        for error in [reset, framing, overflow] {
            assert_eq!(error.closed_by(), None, "{error:?}");
        }
    }
}
