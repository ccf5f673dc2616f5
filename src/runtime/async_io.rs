//! async-io: the runtime of smol and async-std, usable from any executor.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use ::async_io::{Async, Timer as AsyncIoTimer};
use futures_util::FutureExt;

use super::{BackgroundExecutor, BoxFuture, BoxedStream, Runtime, Timer};

/// async-io timers and sockets; spawns on [`BackgroundExecutor::global`]
/// unless a spawner is given to the device builder.
#[derive(Debug, Clone, Default)]
pub struct AsyncIoRuntime {
    _private: (),
}

impl AsyncIoRuntime {
    /// The async-io runtime.
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Debug)]
struct IoTimer(AsyncIoTimer);

impl Timer for IoTimer {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.0.set_at(deadline);
    }
    fn poll_expired(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.poll_unpin(cx).map(drop)
    }
}

impl Runtime for AsyncIoRuntime {
    fn spawn(&self, future: BoxFuture) {
        BackgroundExecutor::global().spawn(future);
    }

    fn timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>> {
        Box::pin(IoTimer(AsyncIoTimer::at(deadline)))
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<io::Result<BoxedStream>> {
        Box::pin(async move {
            let stream = Async::<TcpStream>::connect(addr).await?;
            super::tune_socket(stream.get_ref())?;
            Ok(Box::new(stream) as BoxedStream)
        })
    }
}
