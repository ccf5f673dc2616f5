//! What can go wrong in the embedded client loop.

use alloc::string::String;
use core::fmt;

use mikrotik_rs_protocol::ProtocolError;

/// An error of the [`Client`](crate::Client); `E` is the socket's error.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The socket failed. The connection is over: every later call gets
    /// [`ConnectionLost`](Self::ConnectionLost).
    Io(E),
    /// The router closed the connection (a read returned nothing).
    ConnectionClosed,
    /// The connection ended earlier (closed, cut, `!fatal`, or bad framing).
    ConnectionLost,
    /// `!fatal`: the router is closing the connection, for this reason.
    Fatal(String),
    /// Bytes the protocol does not allow. When [`is_framing`](ProtocolError::is_framing),
    /// the stream position is lost and the connection is over; otherwise only
    /// the command the reply was for sees it.
    Protocol(ProtocolError),
    /// The router refused the login, with its message.
    LoginRefused(String),
    /// Every one of the `COMMANDS` slots is in use: receive or cancel first.
    NoFreeSlot,
    /// More replies arrived for this command than its queue holds while it
    /// was not being read: the ones after the queue filled were dropped
    /// (this many by the time it is reported, once the queued ones were
    /// read). Its later replies are dropped too, up to its `!done`; a
    /// command that never ends (a `listen`) still runs on the router:
    /// cancel it.
    Overflow {
        /// Replies dropped so far.
        dropped: u32,
    },
    /// The command was built with a misuse it remembered (see
    /// [`Command::invalid`](mikrotik_rs_protocol::command::Command::invalid)); nothing was sent.
    InvalidCommand(String),
    /// The buffer given to [`Client::new`](crate::Client::new) is empty:
    /// nothing can be read into it (the connection itself is fine).
    EmptyBuffer,
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(error) => write!(f, "socket error: {error:?}"),
            Self::ConnectionClosed => f.write_str("the router closed the connection"),
            Self::ConnectionLost => f.write_str("the connection ended earlier"),
            Self::Fatal(reason) => write!(f, "!fatal from the router: {reason}"),
            Self::Protocol(error) => write!(f, "protocol error: {error}"),
            Self::LoginRefused(message) => write!(f, "login refused: {message}"),
            Self::NoFreeSlot => f.write_str("every command slot is in use"),
            Self::Overflow { dropped } => {
                write!(
                    f,
                    "the command's reply queue overflowed ({dropped} replies dropped)"
                )
            }
            Self::InvalidCommand(reason) => write!(f, "invalid command: {reason}"),
            Self::EmptyBuffer => f.write_str("the client's read buffer is empty"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}
