//! The TLS handshake under the connect deadline, with a failure that says
//! what the silence means.
//!
//! A plain API port (8728) accepts the TCP connection and then waits for a
//! sentence, so a ClientHello sent there gets no answer at all: without
//! this, the user would read "connect took longer than 10s" about a TCP
//! connect that succeeded at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::Either;
use futures_util::{AsyncReadExt, AsyncWriteExt};

use super::TlsOptions;
use crate::Error;
use crate::runtime::{self, BoxedStream, OnRead, Runtime, Watched};

/// How long a port may stay silent after the ClientHello before it is asked,
/// on a second connection, whether it is the plain API. A plain API port
/// (8728) reads the ClientHello as sentence words of whatever lengths its
/// random bytes spell, and then may wait for more forever; a TLS server may
/// just be slow (a busy router signing with a big RSA key, a long round
/// trip). Silence alone cannot tell them apart, so it never decides.
const FIRST_ANSWER: Duration = Duration::from_secs(3);

/// A sentence any plain API port answers before a login, with a reply word
/// (`!fatal`/`!trap`/`!done`); a TLS server reads it as a bad record.
const PLAIN_PROBE: &[u8] = b"\x05/quit\x00";

/// Runs [`connect`](super::connect) until `deadline`; past it, fails with an
/// [`Error::Tls`] that tells a port that never answered (the plain API, or
/// another service) from a handshake that stalled midway. A port still
/// silent after [`FIRST_ANSWER`] is probed at `peer` with a plain API
/// sentence: if it answers as the plain API does, the handshake fails then
/// (the same mistake, the same prompt message in every TLS mode); anything
/// else waits for the handshake until `deadline`.
pub(crate) async fn connect_within(
    stream: BoxedStream,
    peer: SocketAddr,
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
            let plain = async {
                if speaks_plain_api(runtime, peer).await {
                    Err(plain_api_error(host))
                } else {
                    std::future::pending().await
                }
            };
            let plain = std::pin::pin!(plain);
            let raced = async {
                match futures_util::future::select(handshake.as_mut(), plain).await {
                    Either::Left((result, _)) | Either::Right((result, _)) => result,
                }
            };
            let silence = || Err(silence_error(host, received.load(Ordering::Relaxed), limit));
            return runtime::with_deadline(runtime, deadline, raced, silence).await;
        }
    }
    let silence = || Err(silence_error(host, received.load(Ordering::Relaxed), limit));
    runtime::with_deadline(runtime, deadline, handshake, silence).await
}

/// Whether `peer` answers [`PLAIN_PROBE`] as a plain API port does: a reply
/// word (`!…`) behind a one-byte length. A TLS server answers with an alert
/// record (type 21, then the version byte 3) or closes; no answer, no verdict.
async fn speaks_plain_api(runtime: &dyn Runtime, peer: SocketAddr) -> bool {
    let Ok(mut probe) = runtime.connect(peer).await else {
        return false;
    };
    if probe.write_all(PLAIN_PROBE).await.is_err() || probe.flush().await.is_err() {
        return false;
    }
    let mut answer = [0u8; 2];
    probe.read_exact(&mut answer).await.is_ok()
        && (1..0x80).contains(&answer[0])
        && answer[1] == b'!'
}

fn plain_api_error(host: &str) -> Error {
    Error::Tls {
        message: format!(
            "the TLS handshake with {host} got no answer, and the port answers plain RouterOS \
             API sentences: it is the plain API port (8728 by default), which does not speak \
             TLS. API-SSL listens on 8729 by default. Check the port, that api-ssl is enabled \
             (`/ip service enable api-ssl`), or drop DeviceBuilder::tls to use the plain API"
        ),
        source: None,
    }
}

fn silence_error(host: &str, received: u64, limit: Duration) -> Error {
    let message = if received == 0 {
        format!(
            "the TLS handshake with {host} got no answer within {limit:?}: the port accepted \
             the TCP connection but sent nothing. Either it does not speak TLS (the plain API \
             port, 8728, may behave like this; API-SSL listens on 8729 by default) or the \
             TLS server is slower than the connect timeout. Check the port, that api-ssl is \
             enabled (`/ip service enable api-ssl`), or raise DeviceBuilder::connect_timeout"
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
