//! A stream that shows the test what crosses it: each read and each write,
//! as they succeed. One wrapper for every test that watches a socket.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// Bytes that crossed a [`Tapped`] stream (an empty read is the end).
pub enum Crossed<'a> {
    Read(&'a [u8]),
    Wrote(&'a [u8]),
}

/// `inner`, with `tap` called on every successful read and write.
pub struct Tapped<S, F> {
    inner: S,
    tap: F,
}

impl<S, F: FnMut(Crossed<'_>)> Tapped<S, F> {
    pub fn new(inner: S, tap: F) -> Self {
        Self { inner, tap }
    }
}

impl<S: AsyncRead + Unpin, F: FnMut(Crossed<'_>) + Unpin> AsyncRead for Tapped<S, F> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            (this.tap)(Crossed::Read(&buf[..n]));
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin, F: FnMut(Crossed<'_>) + Unpin> AsyncWrite for Tapped<S, F> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            (this.tap)(Crossed::Wrote(&buf[..n]));
        }
        polled
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
