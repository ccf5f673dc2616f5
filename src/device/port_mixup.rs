//! A plain connection to the API-SSL port fails at login in a way that says
//! so: the first bytes the router sent are kept, and a login failure after a
//! TLS record (or after a close before any byte) is explained.
//!
//! Without this the user reads "connection closed by the router in the
//! middle of a sentence": the TLS alert's header, read as a length prefix,
//! announced a word that never came.

use std::io;
use std::sync::{Arc, Mutex};

use crate::Error;
use crate::runtime::{OnRead, Watched};

/// How many leading bytes are kept: a TLS record header is five.
const KEPT: usize = 8;

/// The first bytes the router sent, shared with the builder.
pub(crate) type FirstBytes = Arc<Mutex<Vec<u8>>>;

/// Keeps a copy of the first [`KEPT`] bytes read from the stream it
/// watches, then only lets reads pass.
pub(crate) struct KeepFirstBytes {
    first: FirstBytes,
    full: bool,
}

impl KeepFirstBytes {
    /// `inner`, watched; and where its first bytes will be.
    pub(crate) fn watch<S>(inner: S) -> (Watched<S, Self>, FirstBytes) {
        let first = FirstBytes::default();
        let keep = Self {
            first: Arc::clone(&first),
            full: false,
        };
        (Watched::new(inner, keep), first)
    }
}

impl OnRead for KeepFirstBytes {
    fn on_read(&mut self, bytes: &[u8]) {
        if self.full {
            return;
        }
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        let take = bytes.len().min(KEPT - first.len());
        first.extend_from_slice(&bytes[..take]);
        self.full = first.len() == KEPT;
    }
}

/// Whether `bytes` start like a TLS record: a handshake, alert,
/// change-cipher-spec or application-data record of SSL 3.0 to TLS 1.3.
/// No RouterOS reply starts so: its first word is `!re`, `!done`, `!trap`,
/// `!empty` or `!fatal`, whose length prefix is 3, 5 or 6.
pub(crate) fn looks_like_tls(bytes: &[u8]) -> bool {
    matches!(bytes, [0x14..=0x17, 0x03, 0x00..=0x04, ..])
}

/// Explains a failed login of a plain (not TLS) connection when the router
/// answered with TLS, or closed before sending a byte; any other failure is
/// returned as it is.
pub(crate) fn explain_login_failure(error: Error, first: &[u8]) -> Error {
    let closed_at_once = first.is_empty()
        && match &error {
            Error::ConnectionClosed { .. } => true,
            Error::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::BrokenPipe
            ),
            _ => false,
        };
    let message = if looks_like_tls(first) {
        let header: Vec<String> = first.iter().take(5).map(|b| format!("{b:02x}")).collect();
        format!(
            "the router answered the login with a TLS record (bytes {}): this looks like the \
             API-SSL port (8729 by default). Enable TLS with DeviceBuilder::tls, or connect \
             to the plain API port (8728)",
            header.join(" ")
        )
    } else if closed_at_once {
        "the router closed the connection before answering the login: this looks like the \
         API-SSL port (8729 by default), which drops a client that does not start TLS. \
         Enable TLS with DeviceBuilder::tls, or connect to the plain API port (8728); if \
         this is the plain API port, the api service may be refusing this client"
            .to_owned()
    } else {
        return error;
    };
    Error::ProtocolMismatch {
        message,
        source: Some(Arc::new(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_records_are_recognised_and_replies_are_not() {
        assert!(looks_like_tls(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]));
        assert!(looks_like_tls(&[0x16, 0x03, 0x01, 0x00, 0x2a]));
        assert!(!looks_like_tls(&[0x05, b'!', b'd', b'o', b'n', b'e', 0x00]));
        assert!(!looks_like_tls(&[0x06, b'!', b'f', b'a', b't', b'a', b'l']));
        assert!(!looks_like_tls(&[0x15, 0x03]));
        assert!(!looks_like_tls(&[]));
    }

    #[test]
    fn only_tls_bytes_or_a_silent_close_are_explained() {
        let closed = Error::ConnectionClosed { mid_sentence: true };
        let tls = explain_login_failure(closed.clone(), &[0x15, 0x03, 0x03, 0x00, 0x02]);
        assert!(matches!(tls, Error::ProtocolMismatch { .. }), "{tls:?}");
        assert!(tls.to_string().contains("enable TLS") || tls.to_string().contains("Enable TLS"));
        assert!(tls.to_string().contains("15 03 03 00 02"), "{tls}");

        let silent = explain_login_failure(
            Error::ConnectionClosed {
                mid_sentence: false,
            },
            &[],
        );
        assert!(
            matches!(silent, Error::ProtocolMismatch { .. }),
            "{silent:?}"
        );

        let refused = Error::authentication("invalid user name or password (6)".into());
        assert!(matches!(
            explain_login_failure(refused, &[0x05, b'!']),
            Error::Authentication { .. }
        ));
        let cut = explain_login_failure(closed, &[0x05, b'!', b'd']);
        assert!(matches!(cut, Error::ConnectionClosed { .. }), "{cut:?}");
    }
}
