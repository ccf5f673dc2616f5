//! An accepted socket shared by a session's stream and its closer.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_io::Async;
use futures_io::{AsyncRead, AsyncWrite};

/// The session reads and writes through one clone, and ends its direction
/// through another: async-io's `close` only flushes, and a duplicated
/// descriptor per session would halve how many sessions fit in the fd limit.
#[derive(Debug, Clone)]
pub(crate) struct SharedSocket(Arc<Async<TcpStream>>);

impl SharedSocket {
    pub(crate) fn new(socket: Async<TcpStream>) -> Self {
        Self(Arc::new(socket))
    }

    /// Sends FIN: the client sees the end at once, while we may still read.
    pub(crate) fn shutdown_write(&self) {
        let _ = self.0.get_ref().shutdown(Shutdown::Write);
    }
}

impl AsyncRead for SharedSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SharedSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_close(cx)
    }
}
