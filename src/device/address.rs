//! Turning `"host:port"` into socket addresses without blocking the executor.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use crate::Error;

/// A router address as given by the user, split into host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Address {
    /// Parses `host`, `host:port`, `ip`, `ip:port`, `[v6]` or `[v6]:port`.
    pub(crate) fn parse(text: &str, default_port: u16) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidAddress {
            address: text.to_owned(),
            reason: reason.to_owned(),
        };
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Ok(Self {
                host: addr.ip().to_string(),
                port: addr.port(),
            });
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Self {
                host: ip.to_string(),
                port: default_port,
            });
        }
        let (host, port) = match text.strip_prefix('[') {
            Some(rest) => {
                let (host, after) = rest.split_once(']').ok_or_else(|| invalid("missing ']'"))?;
                match after {
                    "" => (host, None),
                    _ => (
                        host,
                        Some(
                            after
                                .strip_prefix(':')
                                .ok_or_else(|| invalid("expected ':' after ']'"))?,
                        ),
                    ),
                }
            }
            None => match text.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            },
        };
        if host.is_empty() {
            return Err(invalid("empty host"));
        }
        let port = match port {
            Some(port) => port
                .parse()
                .map_err(|_| invalid("port is not a number from 0 to 65535"))?,
            None => default_port,
        };
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }

    /// The host as an IP address, if it is one.
    pub(crate) fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// Resolves the host. Names are looked up on a short-lived thread, since
    /// the system resolver blocks.
    pub(crate) async fn resolve(&self) -> Result<Vec<SocketAddr>, Error> {
        if let Some(ip) = self.ip() {
            return Ok(vec![SocketAddr::new(ip, self.port)]);
        }
        let (tx, rx) = async_channel::bounded(1);
        let target = (self.host.clone(), self.port);
        std::thread::Builder::new()
            .name("mikrotik-rs-resolve".into())
            .spawn(move || {
                let _ = tx.try_send(target.to_socket_addrs().map(Vec::from_iter));
            })
            .map_err(Error::from)?;
        let resolved = rx
            .recv()
            .await
            .map_err(|_| self.unresolvable("the resolver thread ended"))?;
        match resolved {
            Ok(addrs) if !addrs.is_empty() => Ok(addrs),
            Ok(_) => Err(self.unresolvable("no addresses")),
            Err(e) => Err(self.unresolvable(&e.to_string())),
        }
    }

    pub(crate) fn unresolvable(&self, reason: &str) -> Error {
        Error::InvalidAddress {
            address: format!("{}:{}", self.host, self.port),
            reason: format!("cannot resolve: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<(String, u16), Error> {
        Address::parse(text, 8728).map(|a| (a.host, a.port))
    }

    #[test]
    fn forms_of_addresses() {
        assert_eq!(
            parse("192.168.88.1:8729").unwrap(),
            ("192.168.88.1".into(), 8729)
        );
        assert_eq!(
            parse("192.168.88.1").unwrap(),
            ("192.168.88.1".into(), 8728)
        );
        assert_eq!(parse("router.lan").unwrap(), ("router.lan".into(), 8728));
        assert_eq!(parse("router.lan:1").unwrap(), ("router.lan".into(), 1));
        assert_eq!(parse("[::1]:8729").unwrap(), ("::1".into(), 8729));
        assert_eq!(parse("[::1]").unwrap(), ("::1".into(), 8728));
        assert_eq!(parse("::1").unwrap(), ("::1".into(), 8728));
        for bad in ["", ":8728", "host:port", "host:70000", "[::1", "[::1]x"] {
            assert!(
                matches!(parse(bad), Err(Error::InvalidAddress { .. })),
                "{bad:?}"
            );
        }
    }

    #[cfg(feature = "async-io")]
    #[test]
    fn localhost_resolves_off_thread() {
        let address = Address::parse("localhost:8728", 0).unwrap();
        let resolved = ::async_io::block_on(address.resolve()).unwrap();
        assert!(
            resolved
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 8728),
            "{resolved:?}"
        );
    }
}
