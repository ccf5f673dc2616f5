//! The connection actor: one task owns the byte stream and multiplexes every
//! command over it.
//!
//! [`new`] turns any futures-io stream (plain TCP, TLS, an in-memory pipe) into
//! a [`MikrotikDevice`] handle and a [`Connection`]
//! future. The future is the actor: spawn it on any executor (or let
//! [`DeviceBuilder`](crate::DeviceBuilder) do it); it ends by itself when the
//! connection fails or every handle and stream is gone. It has no
//! runtime-specific code: time reaches it through [`Runtime`].

mod deadlines;
mod driver;
mod options;
mod queue;
mod request;
mod routes;
mod shared;
pub(crate) mod stream;
mod write_buffer;

use std::sync::Arc;

pub use driver::Connection;
pub use options::{BufferPolicy, ConnectionOptions, Keepalive};
pub use stream::ResponseStream;

pub(crate) use queue::queue as reply_queue;
pub(crate) use request::{Item, Request};
pub(crate) use shared::Shared;

use crate::MikrotikDevice;
use crate::runtime::{AsyncStream, Runtime};

/// Wraps `io` in a connection actor. No I/O happens until the returned
/// [`Connection`] is polled; then log in with
/// [`MikrotikDevice::login`](crate::MikrotikDevice::login).
///
/// ```no_run
/// # async fn demo(stream: impl mikrotik_rs::runtime::AsyncStream, runtime: std::sync::Arc<dyn mikrotik_rs::runtime::Runtime>) -> mikrotik_rs::Result<()> {
/// use mikrotik_rs::connection::{self, ConnectionOptions};
/// let (device, connection) = connection::new(stream, runtime.clone(), ConnectionOptions::default());
/// runtime.spawn(Box::pin(connection));
/// device.login("admin", Some("password")).await?;
/// # Ok(()) }
/// ```
pub fn new<S: AsyncStream>(
    io: S,
    runtime: Arc<dyn Runtime>,
    options: ConnectionOptions,
) -> (MikrotikDevice, Connection<S>) {
    let (requests, incoming) = async_channel::unbounded();
    let shared = Arc::new(Shared::default());
    let device = MikrotikDevice::from_parts(requests, Arc::clone(&shared), options.clone());
    (
        device,
        Connection::new(io, incoming, shared, runtime, options),
    )
}
