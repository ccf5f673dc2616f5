//! A hook on every connection a builder opens: what the router's stream
//! passes through once connected (and, for API-SSL, decrypted), before the
//! login. Recording (`testing::Recording`) is one; the device layer knows
//! nothing of it.

use crate::runtime::BoxedStream;

/// Wraps each stream a builder opens, the first and every reconnect's.
pub(crate) trait WrapStream: Send + Sync {
    /// The stream to use instead of `stream`.
    fn wrap(&self, stream: BoxedStream) -> BoxedStream;
}
