//! The actor's read buffer: what one read returned, decoded a budget at a time.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncRead;

/// Reads start this small (idle connections stay cheap) and double while
/// reads fill the buffer, up to `MAX_READ_BUF`.
const MIN_READ_BUF: usize = 1 << 10;
const MAX_READ_BUF: usize = 64 << 10;

/// Empty until the first read, so that taking it out of the actor for a
/// moment (`std::mem::take`) costs no allocation.
#[derive(Debug, Default)]
pub(crate) struct ReadBuffer {
    buf: Vec<u8>,
    /// `buf[start..end]` was read but not decoded yet (the reply budget of
    /// the last poll ran out).
    start: usize,
    end: usize,
}

impl ReadBuffer {
    /// Whether bytes of an earlier read wait to be decoded.
    pub(crate) fn has_pending(&self) -> bool {
        self.start < self.end
    }

    /// Reads once into the empty buffer; `Ok(0)` is the end of the stream.
    pub(crate) fn poll_fill<S: AsyncRead + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        debug_assert!(
            !self.has_pending(),
            "a read never overwrites undecoded bytes"
        );
        if self.buf.is_empty() {
            self.buf.resize(MIN_READ_BUF, 0);
        }
        let n = match Pin::new(io).poll_read(cx, &mut self.buf) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        (self.start, self.end) = (0, n);
        if n == self.buf.len() && n < MAX_READ_BUF {
            self.buf.resize(n * 2, 0);
        }
        Poll::Ready(Ok(n))
    }

    /// Hands the undecoded bytes to `decode`, which advances the slice past
    /// what it consumed.
    pub(crate) fn consume<T>(&mut self, decode: impl FnOnce(&mut &[u8]) -> T) -> T {
        let mut input = &self.buf[self.start..self.end];
        let result = decode(&mut input);
        self.start = self.end - input.len();
        result
    }
}
