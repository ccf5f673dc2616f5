//! A stream that shows each read to a watcher and passes everything else
//! through: how the layers above learn what came off a socket (the first
//! bytes of a login, the bytes of a TLS handshake) without a wrapper each.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// What a [`Watched`] stream tells about its reads.
pub(crate) trait OnRead {
    /// `bytes` were just read (never called for an empty read or an error).
    fn on_read(&mut self, bytes: &[u8]);
}

/// `inner`, with every successful read shown to `watch`.
pub(crate) struct Watched<S, W> {
    inner: S,
    watch: W,
}

impl<S, W> Watched<S, W> {
    pub(crate) fn new(inner: S, watch: W) -> Self {
        Self { inner, watch }
    }
}

impl<S: AsyncRead + Unpin, W: OnRead + Unpin> AsyncRead for Watched<S, W> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        // `get`: a broken inner stream that claims more than `buf` holds
        // is not this wrapper's to panic on.
        if let Poll::Ready(Ok(n @ 1..)) = read
            && let Some(bytes) = buf.get(..n)
        {
            this.watch.on_read(bytes);
        }
        read
    }
}

impl<S: AsyncWrite + Unpin, W: Unpin> AsyncWrite for Watched<S, W> {
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
        bufs: &[IoSlice<'_>],
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

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{AsyncReadExt, AsyncWriteExt, FutureExt};

    impl OnRead for Vec<u8> {
        fn on_read(&mut self, bytes: &[u8]) {
            self.extend_from_slice(bytes);
        }
    }

    /// A cursor never waits, so each future is done at its first poll.
    #[test]
    fn shows_each_read_and_passes_writes_through() {
        let cursor = futures_util::io::Cursor::new(b"abc".to_vec());
        let mut stream = Watched::new(cursor, Vec::new());
        let mut two = [0; 2];
        stream.read_exact(&mut two).now_or_never().unwrap().unwrap();
        assert_eq!(&two, b"ab");
        assert_eq!(stream.watch, b"ab");
        stream.write_all(b"xyz").now_or_never().unwrap().unwrap();
        stream.flush().now_or_never().unwrap().unwrap();
        let mut rest = Vec::new();
        stream
            .read_to_end(&mut rest)
            .now_or_never()
            .unwrap()
            .unwrap();
        assert!(rest.is_empty(), "the write moved the cursor past the end");
        assert_eq!(stream.watch, b"ab", "an empty read is not shown");
        assert_eq!(stream.inner.get_ref(), b"abxyz");
    }
}
