//! `ReconnectPolicy`: when to try again, and when to stop.

use std::time::Duration;

/// The shortest delay before any attempt, whatever the policy says: an
/// `initial_delay(0)` (or a jitter draw of zero) must never make the
/// supervisor spin on a router that refuses connections at once.
pub const MIN_DELAY: Duration = Duration::from_millis(1);

/// The shortest interval between logins tried again after every address
/// refused one ([`ReconnectPolicy::retry_refused_logins`]): slow enough
/// never to hammer a router (or its RADIUS server) with failing logins.
pub const MIN_REFUSED_RETRY: Duration = Duration::from_secs(1);

/// How a device reconnects after its connection is lost (see
/// [`DeviceBuilder::reconnect`](crate::DeviceBuilder::reconnect)).
///
/// The delay before an attempt is drawn from `0..=cap` ("full jitter", so
/// that many clients cut off together do not come back together), where
/// `cap` starts at [`initial_delay`](Self::initial_delay) and doubles with
/// every attempt up to [`max_delay`](Self::max_delay); no delay is ever
/// shorter than [`MIN_DELAY`] (so `initial_delay(0)` starts the doubling
/// there instead of spinning). The doubling goes on
/// across connections that fail soon after they were made (a flapping link
/// is not hammered) and starts over once a connection has stayed up for
/// [`reset_after`](Self::reset_after).
///
/// ```
/// use std::time::Duration;
/// use mikrotik_rs::reconnect::ReconnectPolicy;
///
/// let policy = ReconnectPolicy::new()
///     .initial_delay(Duration::from_millis(500))
///     .max_delay(Duration::from_secs(30))
///     .max_attempts(20);
/// assert_eq!(policy.delay_cap(0), Duration::from_millis(500));
/// assert_eq!(policy.delay_cap(3), Duration::from_secs(4));
/// assert_eq!(policy.delay_cap(30), Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectPolicy {
    pub(crate) initial_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) jitter: bool,
    pub(crate) reset_after: Duration,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) max_total: Option<Duration>,
    pub(crate) queue_capacity: usize,
    pub(crate) refused_retry: Option<Duration>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            jitter: true,
            reset_after: Duration::from_secs(60),
            max_attempts: None,
            max_total: None,
            queue_capacity: 1024,
            refused_retry: None,
        }
    }
}

impl ReconnectPolicy {
    /// Reconnect forever: 0.5 s initial delay, 30 s at most, full jitter,
    /// reset after a minute up, up to 1024 commands waiting.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cap of the first delay after a loss (default 0.5 s).
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The largest delay between attempts (default 30 s).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Whether to draw each delay at random below its cap (default `true`).
    /// Off, every delay is its cap: predictable, but clients cut off by the
    /// same outage all come back at the same instant.
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// How long a connection must stay up for the next loss to start the
    /// delays from [`initial_delay`](Self::initial_delay) again (default 60 s).
    pub fn reset_after(mut self, up: Duration) -> Self {
        self.reset_after = up;
        self
    }

    /// Give up after this many failed attempts in one outage (default: never).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Give up when the next attempt would start later than this after the
    /// loss (default: never).
    pub fn max_total(mut self, total: Duration) -> Self {
        self.max_total = Some(total);
        self
    }

    /// How many commands may wait for the next connection (default 1024; at
    /// least 1). One more ends at once with
    /// [`Error::QueueFull`](crate::Error::QueueFull).
    pub fn queue_capacity(mut self, commands: usize) -> Self {
        self.queue_capacity = commands.max(1);
        self
    }

    /// Keeps trying after every address refused the login, one attempt
    /// every `every` (at least [`MIN_REFUSED_RETRY`]), instead of closing
    /// the device with [`Error::Authentication`](crate::Error::Authentication)
    /// (the default: a refused login is never retried). For passwords that
    /// may be rotated back, or a RADIUS server that may be briefly down.
    /// These attempts count against [`max_attempts`](Self::max_attempts)
    /// and [`max_total`](Self::max_total) as any other.
    /// Meanwhile the state is [`Reconnecting`](super::ConnectionState::Reconnecting)
    /// with the refusal as its `last_error`, and commands wait as in any
    /// outage (bounded by their deadlines and the queue).
    pub fn retry_refused_logins(mut self, every: Duration) -> Self {
        self.refused_retry = Some(every.max(MIN_REFUSED_RETRY));
        self
    }

    /// The cap of the delay at backoff `level` (0 after a healthy
    /// connection, one more per attempt): `initial × 2^level`, at most
    /// [`max_delay`](Self::max_delay), and never below [`MIN_DELAY`].
    pub fn delay_cap(&self, level: u32) -> Duration {
        let factor = 1u32.checked_shl(level.min(31)).unwrap_or(u32::MAX);
        self.initial_delay
            .max(MIN_DELAY)
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_delay.max(MIN_DELAY))
    }

    /// The delay at `level`, with `random` (any 64 bits) choosing a point
    /// in `0..=cap` when jitter is on.
    pub(crate) fn delay(&self, level: u32, random: u64) -> Duration {
        let cap = self.delay_cap(level);
        if !self.jitter {
            return cap;
        }
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        // `random % (nanos + 1)`, widened so that `nanos == u64::MAX` fits.
        let point = (u128::from(random) % (u128::from(nanos) + 1)) as u64;
        Duration::from_nanos(point).max(MIN_DELAY)
    }

    /// Whether an attempt starting `since_loss` after the loss, as attempt
    /// number `attempt` (1 for the first), is still allowed.
    pub(crate) fn allows(&self, attempt: u32, since_loss: Duration) -> bool {
        self.max_attempts.is_none_or(|max| attempt <= max)
            && self.max_total.is_none_or(|max| since_loss <= max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_double_from_the_initial_delay_up_to_the_maximum() {
        let policy = ReconnectPolicy::new()
            .initial_delay(Duration::from_millis(100))
            .max_delay(Duration::from_secs(1));
        let caps: Vec<u128> = (0..7).map(|l| policy.delay_cap(l).as_millis()).collect();
        assert_eq!(caps, [100, 200, 400, 800, 1000, 1000, 1000]);
        // No overflow however many attempts.
        assert_eq!(policy.delay_cap(u32::MAX), Duration::from_secs(1));
        let huge = ReconnectPolicy::new()
            .initial_delay(Duration::MAX)
            .max_delay(Duration::MAX);
        assert_eq!(huge.delay_cap(40), Duration::MAX);
    }

    #[test]
    fn full_jitter_stays_within_the_cap_and_covers_it() {
        let policy = ReconnectPolicy::new()
            .initial_delay(Duration::from_secs(1))
            .max_delay(Duration::from_secs(8));
        for level in 0..6 {
            let cap = policy.delay_cap(level);
            assert_eq!(policy.delay(level, 0), MIN_DELAY, "never below the floor");
            assert!(policy.delay(level, u64::MAX) <= cap);
            let nanos = u64::try_from(cap.as_nanos()).unwrap();
            assert_eq!(
                policy.delay(level, nanos),
                cap,
                "the cap itself is reachable"
            );
            for random in [1u64, 12345, 1 << 40, u64::MAX / 3] {
                assert!(policy.delay(level, random) <= cap);
            }
        }
        let max = ReconnectPolicy::new()
            .initial_delay(Duration::MAX)
            .max_delay(Duration::MAX);
        assert!(max.delay(3, u64::MAX) <= Duration::MAX);
    }

    #[test]
    fn without_jitter_the_delay_is_the_cap() {
        let policy = ReconnectPolicy::new()
            .jitter(false)
            .initial_delay(Duration::from_secs(2));
        assert_eq!(policy.delay(0, 777), Duration::from_secs(2));
        assert_eq!(policy.delay(2, 777), Duration::from_secs(8));
    }

    #[test]
    fn a_zero_delay_never_spins() {
        let policy = ReconnectPolicy::new()
            .initial_delay(Duration::ZERO)
            .max_delay(Duration::ZERO);
        for level in 0..40 {
            for random in [0, 1, u64::MAX / 2, u64::MAX] {
                assert!(policy.delay(level, random) >= MIN_DELAY, "level {level}");
            }
        }
        let doubling = ReconnectPolicy::new().initial_delay(Duration::ZERO);
        assert_eq!(doubling.delay_cap(3), 8 * MIN_DELAY);
    }

    #[test]
    fn limits_on_attempts_and_time() {
        let unlimited = ReconnectPolicy::new();
        assert!(unlimited.allows(u32::MAX, Duration::MAX));
        let policy = ReconnectPolicy::new()
            .max_attempts(3)
            .max_total(Duration::from_secs(60));
        assert!(policy.allows(3, Duration::from_secs(60)));
        assert!(!policy.allows(4, Duration::ZERO));
        assert!(!policy.allows(1, Duration::from_secs(61)));
        assert_eq!(ReconnectPolicy::new().queue_capacity(0).queue_capacity, 1);
    }
}
