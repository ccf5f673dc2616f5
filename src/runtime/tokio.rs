//! Tokio: used when a Tokio runtime is current and the `tokio` feature is on.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use ::tokio::runtime::Handle;
use ::tokio::time::Sleep;
use tokio_util::compat::TokioAsyncReadCompatExt;

use super::{BoxFuture, BoxedStream, Runtime, Timer};

/// Tokio's spawner, timers and sockets, bound to one runtime.
#[derive(Debug, Clone)]
pub struct TokioRuntime {
    handle: Handle,
}

impl TokioRuntime {
    /// The runtime of the current Tokio context, if there is one.
    pub fn current() -> Option<Self> {
        Handle::try_current().ok().map(|handle| Self { handle })
    }

    /// A runtime that spawns onto `handle`.
    pub fn from_handle(handle: Handle) -> Self {
        Self { handle }
    }
}

#[derive(Debug)]
struct TokioTimer(Pin<Box<Sleep>>);

impl Timer for TokioTimer {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.0.as_mut().reset(deadline.into());
    }
    fn poll_expired(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl Runtime for TokioRuntime {
    fn spawn(&self, future: BoxFuture) {
        drop(self.handle.spawn(future));
    }

    fn timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>> {
        let _guard = self.handle.enter();
        Box::pin(TokioTimer(Box::pin(::tokio::time::sleep_until(
            deadline.into(),
        ))))
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<io::Result<BoxedStream>> {
        // Connect inside the runtime, whichever thread polls the returned future.
        let connecting = self.handle.spawn(async move {
            let stream = ::tokio::net::TcpStream::connect(addr).await?;
            super::tune_socket(&stream)?;
            Ok::<_, io::Error>(stream)
        });
        Box::pin(async move {
            let stream = connecting.await.map_err(io::Error::other)??;
            Ok(Box::new(stream.compat()) as BoxedStream)
        })
    }
}
