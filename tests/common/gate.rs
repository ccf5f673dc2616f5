//! A stream whose writes the test holds back: while the gate is shut the
//! socket takes nothing, so what the connection queues stays queued, and
//! the test decides how many bytes pass and when.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncRead, AsyncWrite};

/// The test's side: how many more bytes may pass, and how many did.
#[derive(Default)]
pub struct Gate {
    /// Bytes the stream may still take (`usize::MAX`: no limit).
    allowed: AtomicUsize,
    /// Bytes the stream took so far.
    passed: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Gate {
    /// A gate that lets everything through until [`shut`](Self::shut).
    pub fn open() -> Arc<Self> {
        let gate = Arc::new(Self::default());
        gate.allow(usize::MAX);
        gate
    }

    /// Lets no more bytes through.
    pub fn shut(&self) {
        self.allow(0);
    }

    /// Lets `bytes` more through (`usize::MAX`: everything), waking a
    /// writer that waits.
    pub fn allow(&self, bytes: usize) {
        self.allowed.store(bytes, Ordering::SeqCst);
        if let Some(waker) = self.waker.lock().unwrap().take() {
            waker.wake();
        }
    }

    /// Bytes the stream has taken so far.
    pub fn passed(&self) -> usize {
        self.passed.load(Ordering::SeqCst)
    }
}

/// `inner`, with its writes held back by a [`Gate`].
pub struct Gated<S> {
    inner: S,
    gate: Arc<Gate>,
}

impl<S> Gated<S> {
    pub fn new(inner: S, gate: Arc<Gate>) -> Self {
        Self { inner, gate }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Gated<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Gated<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let gate = Arc::clone(&self.gate);
        let mut allowed = gate.allowed.load(Ordering::SeqCst);
        if allowed == 0 {
            *gate.waker.lock().unwrap() = Some(cx.waker().clone());
            // Opened between the load and the waker's store: go on.
            allowed = gate.allowed.load(Ordering::SeqCst);
            if allowed == 0 {
                return Poll::Pending;
            }
        }
        let limit = buf.len().min(allowed);
        let polled = Pin::new(&mut self.inner).poll_write(cx, &buf[..limit]);
        if let Poll::Ready(Ok(n)) = polled {
            if allowed != usize::MAX {
                gate.allowed.fetch_sub(n, Ordering::SeqCst);
            }
            gate.passed.fetch_add(n, Ordering::SeqCst);
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
