//! The connection actor: one task owns the byte stream and multiplexes every
//! command over it.
//!
//! [`new`] turns any futures-io stream (plain TCP, TLS, an in-memory pipe) into
//! a [`ConnectionHandle`] and a [`Connection`] future. The future is the
//! actor: spawn it on any executor (or let
//! [`DeviceBuilder`](crate::DeviceBuilder) do it); it ends by itself when the
//! connection fails or every handle and stream is gone. It has no
//! runtime-specific code: time reaches it through [`Runtime`]. The handle is
//! this layer's whole interface; [`MikrotikDevice`](crate::MikrotikDevice)
//! wraps it (`MikrotikDevice::from(handle)`).

mod deadlines;
mod driver;
mod handback;
mod handle;
mod options;
mod queue;
mod read_buffer;
mod request;
mod routes;
mod shared;
pub(crate) mod stream;
mod timers;
mod write_buffer;

use std::sync::Arc;

pub use driver::Connection;
pub use handle::ConnectionHandle;
pub(crate) use handle::{refuse_misbuilt, submit};
pub use options::{BufferPolicy, ConnectionOptions, Keepalive};
pub use stream::ResponseStream;

pub(crate) use handback::{Handback, Orphan};
pub(crate) use queue::{QueueWriter, queue as reply_queue};
pub(crate) use request::{Item, Origin, Request};
pub(crate) use shared::Shared;

use crate::runtime::{AsyncStream, Runtime};

/// Wraps `io` in a connection actor. No I/O happens until the returned
/// [`Connection`] is polled; then log in with
/// [`MikrotikDevice::login`](crate::MikrotikDevice::login).
///
/// ```no_run
/// # async fn demo(stream: impl mikrotik_rs::runtime::AsyncStream, runtime: std::sync::Arc<dyn mikrotik_rs::runtime::Runtime>) -> mikrotik_rs::Result<()> {
/// use mikrotik_rs::MikrotikDevice;
/// use mikrotik_rs::connection::{self, ConnectionOptions};
/// let (handle, connection) = connection::new(stream, runtime.clone(), ConnectionOptions::default());
/// runtime.spawn(Box::pin(connection));
/// let device = MikrotikDevice::from(handle);
/// device.login("admin", Some("password")).await?;
/// # Ok(()) }
/// ```
pub fn new<S: AsyncStream>(
    io: S,
    runtime: Arc<dyn Runtime>,
    options: ConnectionOptions,
) -> (ConnectionHandle, Connection<S>) {
    new_observed(io, runtime, options, Shared::default())
}

/// [`new`], counting in `shared`'s counters and working in its span: the
/// device builder names the span after the router; a supervisor that
/// replaces a lost connection passes the same counters to the next one.
pub(crate) fn new_observed<S: AsyncStream>(
    io: S,
    runtime: Arc<dyn Runtime>,
    options: ConnectionOptions,
    shared: Shared,
) -> (ConnectionHandle, Connection<S>) {
    let (requests, incoming) = async_channel::unbounded();
    let shared = Arc::new(shared);
    let handle = ConnectionHandle::new(requests, Arc::clone(&shared), options.buffer);
    (
        handle,
        Connection::new(io, incoming, shared, runtime, options),
    )
}
