//! Recording every connection of a device, from its builder:
//! [`DeviceBuilder::record`](crate::DeviceBuilder::record).

use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::lock;
use super::record::{Recorder, Sink, TranscriptBuffer};
use crate::DeviceBuilder;
use crate::device::WrapStream;
use crate::runtime::BoxedStream;

/// Where [`DeviceBuilder::record`] writes its transcript: one transcript for
/// every connection the device opens (its first and each reconnect's), each
/// started by a `# connection N` line ([`CONNECTION_MARKER`](super::CONNECTION_MARKER)).
/// Secrets are redacted as by a [`Recorder`]; for API-SSL the plaintext
/// side is recorded. Replay serves the connections one after another: give
/// each device (each router of a fleet) a `Recording` of its own, as the
/// sentences of connections open at the same time interleave in one.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use mikrotik_rs::{MikrotikDevice, ReconnectPolicy};
/// use mikrotik_rs::testing::Recording;
///
/// let device = MikrotikDevice::builder("192.168.88.1")
///     .credentials("admin", Some("secret"))
///     .reconnect(ReconnectPolicy::new())
///     .record(Recording::to_file("tests/transcripts/my-router.txt")?)
///     .connect()
///     .await?;
/// # let _ = device; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Recording {
    sink: Arc<Mutex<Sink>>,
    connections: Arc<AtomicU64>,
}

impl fmt::Debug for Recording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recording")
            .field("connections", &self.connections.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Recording {
    /// Records to any writer (each sentence is written, then flushed).
    pub fn new(out: impl Write + Send + 'static) -> Self {
        Self {
            sink: Sink::shared(Box::new(out)),
            connections: Arc::default(),
        }
    }

    /// Records to a new file at `path` (replaced if it exists).
    pub fn to_file(path: impl AsRef<Path>) -> io::Result<Self> {
        let file = std::fs::File::create(path)?;
        Ok(Self::new(io::BufWriter::new(file)))
    }

    /// Records into memory; the [`TranscriptBuffer`] reads it back at any time.
    pub fn in_memory() -> (Self, TranscriptBuffer) {
        let buffer = TranscriptBuffer::default();
        (Self::new(buffer.clone()), buffer)
    }

    /// How many connections were recorded so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

impl WrapStream for Recording {
    fn wrap(&self, stream: BoxedStream) -> BoxedStream {
        let number = self.connections.fetch_add(1, Ordering::Relaxed) + 1;
        lock(&self.sink).new_connection(number);
        Box::new(Recorder::joining(stream, Arc::clone(&self.sink)))
    }
}

impl DeviceBuilder {
    /// Records every connection of the device to `recording` (feature
    /// `testing`): plain or TLS, the first and each reconnect's, into one
    /// transcript that a [`MockRouter`](super::MockRouter) can replay. No
    /// stream to open by hand, and it composes with
    /// [`reconnect`](Self::reconnect) and with `tls` (API-SSL).
    pub fn record(self, recording: Recording) -> Self {
        self.wrapping_streams(Arc::new(recording))
    }
}
