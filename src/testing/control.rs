//! Outages on demand: a router that restarts, goes silent, or changes a
//! password while clients are connected, and counters to check how clients
//! took it (for reconnect tests, yours as well as ours).

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_io::{Async, Timer};

use super::{Acceptor, MockRouter, Shared, accept_loop, lock};
use crate::runtime::BackgroundExecutor;

/// The accept loop of the plain port, which can be stopped and started again.
#[derive(Debug)]
pub(crate) struct Listening {
    /// Dropped: the accept loop ends and closes the listener.
    stop: async_channel::Sender<()>,
    /// Closed once the accept loop has ended (the port is free again).
    done: async_channel::Receiver<()>,
}

/// A socket bound to `port` on loopback (0: a free one), not listening.
///
/// `SO_REUSEPORT` lets a second such socket hold the port while the
/// listener is closed for a restart: bound but not listening, it refuses
/// connections as a rebooting router does, and keeps the port from being
/// taken by anyone else (another test's `bind(0)`, a client's ephemeral
/// port) until the router listens on it again.
fn reserve(port: u16) -> io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    // Sessions of the last run linger in TIME_WAIT on this port.
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    socket.bind(&addr.into())?;
    Ok(socket)
}

/// Listens on a reserved socket.
fn listen_on(socket: socket2::Socket) -> io::Result<Async<TcpListener>> {
    // A deep backlog: tests open thousands of sessions at once.
    socket.listen(4096)?;
    Async::new(TcpListener::from(socket))
}

/// Listens on `port` on loopback (0: a free one).
pub(crate) fn bind(port: u16) -> io::Result<Async<TcpListener>> {
    listen_on(reserve(port)?)
}

/// Starts accepting on `listener`.
pub(crate) fn listen(
    listener: Async<TcpListener>,
    shared: &Arc<Shared>,
    executor: &BackgroundExecutor,
    acceptor: Option<Acceptor>,
) -> Listening {
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let (finished, done) = async_channel::bounded::<()>(1);
    let serving = accept_loop(
        listener,
        Arc::clone(shared),
        stopped,
        executor.clone(),
        acceptor,
    );
    executor.spawn(Box::pin(async move {
        serving.await;
        drop(finished);
    }));
    Listening { stop, done }
}

impl MockRouter {
    /// Goes down as a rebooting router does: stops listening (a connect is
    /// refused) and closes every session. [`start_listening`](Self::start_listening)
    /// brings it back on the same port, with the same menus and users.
    pub fn stop_listening(&self) {
        let listening = lock(&self.listening).take();
        if let Some(Listening { stop, done }) = listening {
            // Hold the port first, so that it is never free while down.
            let mut reserved = lock(&self.reserved);
            if reserved.is_none() {
                *reserved = reserve(self.addr.port()).ok();
            }
            drop(reserved);
            drop(stop);
            // The accept loop runs on the mock's own thread: wait until the
            // port is really closed, so a connect from now on is refused.
            let _ = done.recv_blocking();
        }
        self.drop_connections();
    }

    /// Listens again on the same port after [`stop_listening`](Self::stop_listening)
    /// (nothing happens if it is listening).
    pub fn start_listening(&self) -> io::Result<()> {
        let mut listening = lock(&self.listening);
        if listening.is_none() {
            let reserved = lock(&self.reserved).take();
            let listener = match reserved {
                Some(socket) => listen_on(socket)?,
                None => bind(self.addr.port())?,
            };
            *listening = Some(listen(
                listener,
                &self.shared,
                &self._executor,
                self.acceptor.clone(),
            ));
        }
        Ok(())
    }

    /// Restarts: down ([`stop_listening`](Self::stop_listening)) for
    /// `pause` of real time, then back on the same port.
    pub async fn restart(&self, pause: Duration) -> io::Result<()> {
        self.stop_listening();
        Timer::after(pause).await;
        self.start_listening()
    }

    /// Blackholes (`true`) the router: connections are accepted and read,
    /// and nothing is ever answered, as behind a link that died without a
    /// reset. `false` answers again. (The same switch as [`set_silent`](Self::set_silent).)
    pub fn blackhole(&self, on: bool) {
        self.set_silent(on);
    }

    /// Sets (or adds) a user's password while running: logins from now on
    /// need the new one; sessions logged in stay so.
    pub fn set_password(&self, user: &str, password: &str) {
        let mut users = self.shared.users.write().unwrap_or_else(|e| e.into_inner());
        users.retain(|(name, _)| name != user);
        users.push((user.to_owned(), password.to_owned()));
    }

    /// `/login` commands answered so far (accepted or refused; each step of
    /// the pre-6.43 challenge counts).
    pub fn login_attempts(&self) -> u64 {
        self.shared.login_attempts.load(Ordering::SeqCst)
    }

    /// `/login` commands refused so far.
    pub fn logins_refused(&self) -> u64 {
        self.shared.logins_refused.load(Ordering::SeqCst)
    }
}

impl Shared {
    /// The password of `user`, if there is such a user.
    pub(crate) fn password_of(&self, user: &[u8]) -> Option<String> {
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        users
            .iter()
            .find(|(name, _)| name.as_bytes() == user)
            .map(|(_, password)| password.clone())
    }

    /// Counts a `/login` answered (`refused` or not).
    pub(crate) fn count_login(&self, refused: bool) {
        self.login_attempts.fetch_add(1, Ordering::SeqCst);
        if refused {
            self.logins_refused.fetch_add(1, Ordering::SeqCst);
        }
    }
}
