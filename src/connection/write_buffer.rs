//! The actor's write buffer: commands wait here until the stream takes them.
//!
//! A login command carries a password. Whenever the buffer holds one, it is
//! wiped after writing, on drop, and before any reallocation frees a copy:
//! growth moves the bytes into a new allocation by hand and wipes the old
//! one, instead of letting `Vec` free it unwiped.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncWrite;

use crate::Error;
use crate::observe::Counters;

/// Above this capacity an emptied buffer is freed instead of kept.
const KEEP_CAPACITY: usize = 256 << 10;

#[derive(Debug, Default)]
pub(crate) struct WriteBuffer {
    buf: Vec<u8>,
    /// `buf[..written]` is already written.
    written: usize,
    needs_flush: bool,
    /// `buf` holds a secret: wipe it before it is freed or reused.
    sensitive: bool,
    /// Bytes ever queued, and ever taken by the stream: a sentence queued
    /// at offset `q` has reached the socket in part once `taken > q`.
    queued_total: u64,
    taken_total: u64,
}

impl WriteBuffer {
    /// Bytes queued and not written yet.
    pub(crate) fn unwritten(&self) -> usize {
        self.buf.len() - self.written
    }

    /// The offset the next queued byte will have (see `taken_total`).
    pub(crate) fn queued_total(&self) -> u64 {
        self.queued_total
    }

    /// How many bytes the stream has taken so far.
    pub(crate) fn taken_total(&self) -> u64 {
        self.taken_total
    }

    /// Queues `bytes`; `sensitive` when they carry a secret.
    pub(crate) fn push(&mut self, bytes: &[u8], sensitive: bool) {
        self.queued_total += bytes.len() as u64;
        self.sensitive |= sensitive;
        if self.sensitive && self.buf.capacity() - self.buf.len() < bytes.len() {
            drop(grow_wiping(&mut self.buf, bytes.len()));
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Writes what is queued, then flushes. `Ok(true)` when anything moved.
    /// Bytes written are added to `counters`.
    pub(crate) fn poll_write<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
        counters: &Counters,
    ) -> Result<bool, Error> {
        let mut progress = false;
        while self.written < self.buf.len() {
            match Pin::new(&mut *io).poll_write(cx, &self.buf[self.written..]) {
                Poll::Ready(Ok(0)) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    self.taken_total += n as u64;
                    counters.sent(n);
                    progress = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Pending => return Ok(progress),
            }
        }
        if !self.buf.is_empty() {
            self.wipe_if_sensitive();
            self.written = 0;
            self.buf.clear();
            if self.buf.capacity() > KEEP_CAPACITY {
                self.buf = Vec::new();
            }
            self.needs_flush = true;
        }
        if self.needs_flush {
            match Pin::new(&mut *io).poll_flush(cx) {
                Poll::Ready(Ok(())) => {
                    self.needs_flush = false;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Pending => {}
            }
        }
        Ok(progress)
    }

    fn wipe_if_sensitive(&mut self) {
        if std::mem::take(&mut self.sensitive) {
            wipe(&mut self.buf);
        }
    }
}

impl Drop for WriteBuffer {
    fn drop(&mut self) {
        self.wipe_if_sensitive();
    }
}

/// Overwrites every byte of `buf` (its length, which is all that was ever
/// written into it since the last wipe).
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    // Keep the compiler from dropping the writes as dead stores.
    std::hint::black_box(&buf);
}

/// Moves `buf` into a new allocation with room for `additional` more bytes;
/// returns the old allocation, wiped, for the caller to drop.
fn grow_wiping(buf: &mut Vec<u8>, additional: usize) -> Vec<u8> {
    let needed = buf.len().saturating_add(additional);
    let mut grown = Vec::with_capacity(needed.max(buf.capacity().saturating_mul(2)));
    grown.extend_from_slice(buf);
    let mut old = std::mem::replace(buf, grown);
    wipe(&mut old);
    old
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_with_a_secret_wipes_the_old_allocation() {
        let mut buf = Vec::with_capacity(8);
        buf.extend_from_slice(b"password");
        let old = grow_wiping(&mut buf, 100);
        assert_eq!(buf, b"password");
        assert!(buf.capacity() >= 108);
        assert_eq!(old, [0; 8], "the freed copy holds no secret");
    }

    #[test]
    fn a_sensitive_push_never_lets_vec_reallocate_by_itself() {
        let mut write = WriteBuffer::default();
        write.push(&[1; 10], false);
        write.push(b"secret", true);
        for _ in 0..100 {
            let before = write.buf.as_ptr();
            let spare = write.buf.capacity() - write.buf.len();
            write.push(b"more-secret-bytes", false);
            if spare >= 17 {
                assert_eq!(before, write.buf.as_ptr(), "no hidden reallocation");
            }
        }
        assert!(write.sensitive);
    }
}
