//! The TLS handshake under the connect deadline, with a failure that says
//! what the silence means.
//!
//! A plain API port (8728) accepts the TCP connection and then waits for a
//! sentence, so a ClientHello sent there gets no answer at all: without
//! this, the user would read "connect took longer than 10s" about a TCP
//! connect that succeeded at once.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};

use super::TlsOptions;
use crate::Error;
use crate::runtime::{self, BoxedStream, Runtime};

/// Runs [`connect`](super::connect) until `deadline`; past it, fails with an
/// [`Error::Tls`] that tells a port that never answered (the plain API, or
/// another service) from a handshake that stalled midway.
pub(crate) async fn connect_within(
    stream: BoxedStream,
    host: &str,
    options: &TlsOptions,
    runtime: &dyn Runtime,
    deadline: Option<Instant>,
    limit: Duration,
) -> Result<BoxedStream, Error> {
    let received = Arc::new(AtomicU64::new(0));
    let watched: BoxedStream = Box::new(Counted {
        inner: stream,
        received: Arc::clone(&received),
    });
    let handshake = super::connect(watched, host, options);
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

/// A stream that counts the bytes read from it.
struct Counted {
    inner: BoxedStream,
    received: Arc<AtomicU64>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(n)) = read {
            self.received.fetch_add(n as u64, Ordering::Relaxed);
        }
        read
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
