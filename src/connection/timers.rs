//! The actor's sense of time: the one timer it arms, and the keepalive.
//!
//! Every time-driven event (command deadlines, cancel patience, keepalive,
//! close linger) is computed by the actor as an `Instant` on the runtime's
//! clock; the one resettable [`Timer`] is armed for the earliest.

use std::fmt;
use std::pin::Pin;
use std::task::Context;
use std::time::Instant;

use super::Keepalive;
use crate::runtime::{Runtime, Timer};
use crate::{Error, TimeoutKind};

/// The one timer, re-armed only when its deadline changes.
#[derive(Default)]
pub(crate) struct Alarm {
    timer: Option<Pin<Box<dyn Timer>>>,
    at: Option<Instant>,
}

impl fmt::Debug for Alarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Alarm").field("at", &self.at).finish()
    }
}

impl Alarm {
    /// Arms the timer for `at`; `true` once `at` has passed (the caller
    /// handles what expired; the timer is re-armed on the next call).
    pub(crate) fn poll_at(
        &mut self,
        runtime: &dyn Runtime,
        cx: &mut Context<'_>,
        at: Instant,
    ) -> bool {
        let timer = match &mut self.timer {
            Some(timer) => {
                if self.at != Some(at) {
                    timer.as_mut().reset(at);
                }
                timer
            }
            None => self.timer.insert(runtime.timer(at)),
        };
        self.at = Some(at);
        if timer.as_mut().poll_expired(cx).is_ready() {
            self.at = None;
            return true;
        }
        false
    }
}

/// The application keepalive's state: when bytes last arrived, and the
/// probe that waits for an answer.
#[derive(Debug)]
pub(crate) struct KeepaliveState {
    config: Keepalive,
    last_read: Instant,
    /// When the outstanding probe was sent.
    probe_sent: Option<Instant>,
}

/// What the keepalive needs now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KeepaliveStep {
    /// Send a probe now; then wake at the given time (if representable).
    Probe(Option<Instant>),
    /// Nothing to do; wake at the given time (`None`: never).
    WakeAt(Option<Instant>),
}

impl KeepaliveState {
    pub(crate) fn new(config: Keepalive, now: Instant) -> Self {
        Self {
            config,
            last_read: now,
            probe_sent: None,
        }
    }

    /// Bytes arrived at `now`.
    pub(crate) fn read_at(&mut self, now: Instant) {
        self.last_read = now;
    }

    /// Decides at `now`. Fails when a probe went unanswered for the timeout.
    /// Times too far away to represent never come.
    pub(crate) fn step(&mut self, now: Instant) -> Result<KeepaliveStep, Error> {
        let Keepalive { interval, timeout } = self.config;
        Ok(match self.probe_sent {
            Some(sent) if self.last_read >= sent => {
                // Answered (any bytes count): idle again.
                self.probe_sent = None;
                KeepaliveStep::WakeAt(self.last_read.checked_add(interval))
            }
            Some(sent) => match sent.checked_add(timeout) {
                Some(until) if now >= until => {
                    return Err(Error::Timeout {
                        what: TimeoutKind::Keepalive,
                        after: timeout,
                        address: None,
                        stage: None,
                    });
                }
                until => KeepaliveStep::WakeAt(until),
            },
            None => match self.last_read.checked_add(interval) {
                Some(at) if now >= at => {
                    self.probe_sent = Some(now);
                    KeepaliveStep::Probe(now.checked_add(timeout))
                }
                at => KeepaliveStep::WakeAt(at),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn probes_when_idle_and_fails_when_unanswered() {
        let start = Instant::now();
        let s = Duration::from_secs;
        let mut keepalive = KeepaliveState::new(
            Keepalive {
                interval: s(30),
                timeout: s(10),
            },
            start,
        );
        assert_eq!(
            keepalive.step(start).unwrap(),
            KeepaliveStep::WakeAt(Some(start + s(30)))
        );
        assert_eq!(
            keepalive.step(start + s(30)).unwrap(),
            KeepaliveStep::Probe(Some(start + s(40)))
        );
        // Answered: idle from the answer on.
        keepalive.read_at(start + s(31));
        assert_eq!(
            keepalive.step(start + s(31)).unwrap(),
            KeepaliveStep::WakeAt(Some(start + s(61)))
        );
        assert_eq!(
            keepalive.step(start + s(61)).unwrap(),
            KeepaliveStep::Probe(Some(start + s(71)))
        );
        assert!(keepalive.step(start + s(71)).is_err());
    }

    #[test]
    fn huge_intervals_never_come() {
        let start = Instant::now();
        let mut keepalive = KeepaliveState::new(
            Keepalive {
                interval: Duration::MAX,
                timeout: Duration::MAX,
            },
            start,
        );
        assert_eq!(
            keepalive.step(start).unwrap(),
            (KeepaliveStep::WakeAt(None))
        );
    }
}
