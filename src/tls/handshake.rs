//! The TLS handshake under the connect deadline, with a failure that says
//! what the silence means.
//!
//! A plain API port (8728) accepts the TCP connection and then waits for a
//! sentence, so a ClientHello sent there gets no answer at all: without
//! this, the user would read "connect took longer than 10s" about a TCP
//! connect that succeeded at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::TlsOptions;
use crate::Error;
use crate::runtime::{self, BoxedStream, OnRead, Runtime, Watched};

/// How long a port may stay silent after the ClientHello before the handshake
/// ends as "does not speak TLS" (or the connect limit, if shorter). A TLS
/// server answers within a round trip and a signature; a plain API port
/// (8728) reads the ClientHello as sentence words of whatever lengths its
/// random bytes spell, and then may wait for more forever, or answer at
/// once, depending on the mode's ClientHello. So that the same mistake gets
/// the same answer promptly, silence is judged here, not at the connect limit.
const FIRST_ANSWER: Duration = Duration::from_secs(3);

/// Runs [`connect`](super::connect) until `deadline`; past it, fails with an
/// [`Error::Tls`] that tells a port that never answered (the plain API, or
/// another service) from a handshake that stalled midway. A port that sends
/// nothing within [`FIRST_ANSWER`] fails then.
pub(crate) async fn connect_within(
    stream: BoxedStream,
    host: &str,
    options: &TlsOptions,
    runtime: &dyn Runtime,
    deadline: Option<Instant>,
    limit: Duration,
) -> Result<BoxedStream, Error> {
    let received = Arc::new(AtomicU64::new(0));
    let watched: BoxedStream = Box::new(Watched::new(stream, Received(Arc::clone(&received))));
    let mut handshake = std::pin::pin!(super::connect(watched, host, options));
    // Only under a connect limit: without one, the caller asked to wait.
    if deadline.is_some() && limit > FIRST_ANSWER {
        let first = runtime::deadline_in(runtime, FIRST_ANSWER).min(deadline);
        let answered = async { Some(handshake.as_mut().await) };
        if let Some(result) = runtime::with_deadline(runtime, first, answered, || None).await {
            return result;
        }
        if received.load(Ordering::Relaxed) == 0 {
            return Err(silence_error(host, 0, FIRST_ANSWER));
        }
    }
    let silence = || Err(silence_error(host, received.load(Ordering::Relaxed), limit));
    runtime::with_deadline(runtime, deadline, handshake, silence).await
}

fn silence_error(host: &str, received: u64, limit: Duration) -> Error {
    let message = if received == 0 {
        format!(
            "the TLS handshake with {host} got no answer within {limit:?}: the port accepted \
             the TCP connection but does not speak TLS. The plain API port (8728) behaves \
             like this; API-SSL listens on 8729 by default. Check the port, that api-ssl is \
             enabled (`/ip service enable api-ssl`), or drop DeviceBuilder::tls to use the \
             plain API"
        )
    } else {
        format!(
            "the TLS handshake with {host} stalled: the peer sent {received} bytes, then \
             nothing more within {limit:?}. Check that the port is the api-ssl service \
             (8729 by default; 8728 is the plain API) and that the link does not drop packets"
        )
    };
    Error::Tls {
        message,
        source: None,
    }
}

/// Counts the bytes read from the stream it watches.
struct Received(Arc<AtomicU64>);

impl OnRead for Received {
    fn on_read(&mut self, bytes: &[u8]) {
        self.0.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    }
}
