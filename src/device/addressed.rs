//! I/O errors that name the router: `192.168.88.1:8728: connection reset by peer`.
//!
//! The connection actor knows only a stream; the builder, which knows the
//! address, wraps the socket so every I/O error it returns says where it came from.
//! The error kind is kept, and the original error is the `source`.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::runtime::BoxedStream;

/// An I/O error of the connection to `address`.
#[derive(Debug)]
struct AddressedError {
    doing: &'static str,
    address: SocketAddr,
    source: io::Error,
}

impl fmt::Display for AddressedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}: {}", self.doing, self.address, self.source)
    }
}

impl std::error::Error for AddressedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// `error`, naming `address` (`doing` is a prefix such as `"connecting to "`).
pub(crate) fn at(doing: &'static str, address: SocketAddr, error: io::Error) -> io::Error {
    let kind = error.kind();
    io::Error::new(
        kind,
        AddressedError {
            doing,
            address,
            source: error,
        },
    )
}

/// The socket to `address`, whose errors name it.
pub(crate) struct AddressedStream {
    inner: BoxedStream,
    address: SocketAddr,
}

impl AddressedStream {
    pub(crate) fn new(inner: BoxedStream, address: SocketAddr) -> Self {
        Self { inner, address }
    }

    fn name<T>(&self, polled: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        polled.map_err(|error| at("", self.address, error))
    }
}

impl AsyncRead for AddressedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.name(polled)
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_read_vectored(cx, bufs);
        self.name(polled)
    }
}

impl AsyncWrite for AddressedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.name(polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.name(polled)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.name(polled)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_close(cx);
        self.name(polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_address_and_keeps_kind_and_source() {
        let address: SocketAddr = "192.0.2.7:8728".parse().unwrap();
        let error = at(
            "connecting to ",
            address,
            io::ErrorKind::ConnectionRefused.into(),
        );
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
        assert!(
            error
                .to_string()
                .starts_with("connecting to 192.0.2.7:8728: "),
            "{error}"
        );
        let source = std::error::Error::source(error.get_ref().unwrap()).unwrap();
        assert_eq!(
            source.to_string(),
            io::Error::from(io::ErrorKind::ConnectionRefused).to_string()
        );
    }
}
