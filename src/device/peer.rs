//! The address of the router a device is connected to now.
//!
//! Code that must reach the same router another way (the certificate
//! bootstrap's handshake with API-SSL) needs it, and only the builder knows
//! it. The builder writes it for each connection that logs in, a
//! supervisor's reconnects included, so it follows fallback addresses.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The peer address of a device's current connection, shared by its clones
/// (`None` for a device over a stream the user connected).
#[derive(Clone, Default)]
pub(crate) struct PeerAddr(Arc<Mutex<Option<SocketAddr>>>);

impl PeerAddr {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        Self(Arc::new(Mutex::new(Some(addr))))
    }

    pub(crate) fn set(&self, addr: SocketAddr) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(addr);
    }

    pub(crate) fn get(&self) -> Option<SocketAddr> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
