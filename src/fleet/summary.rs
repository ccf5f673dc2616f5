//! What a fleet run came to: how many succeeded, failed (by kind of error)
//! or timed out, latency percentiles, and the slowest and failed routers.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::RouterResult;
use crate::Error;

/// Totals of a run; feed it every [`RouterResult`] with [`record`](Self::record).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    succeeded: usize,
    failed: BTreeMap<&'static str, usize>,
    timed_out: usize,
    /// Every router's time, with its name, to find percentiles and the slowest.
    latencies: Vec<(Duration, String)>,
    failures: Vec<(String, Error)>,
}

impl Summary {
    /// An empty summary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one router's result.
    pub fn record<T>(&mut self, result: &RouterResult<T>) {
        match &result.result {
            Ok(_) => self.succeeded += 1,
            Err(error) if error.is_timeout() => {
                self.timed_out += 1;
                self.failures.push((result.name.to_string(), error.clone()));
            }
            Err(error) => {
                *self.failed.entry(error_kind(error)).or_default() += 1;
                self.failures.push((result.name.to_string(), error.clone()));
            }
        }
        self.latencies
            .push((result.elapsed, result.name.to_string()));
    }

    /// Routers that finished with `Ok`.
    pub fn succeeded(&self) -> usize {
        self.succeeded
    }

    /// Routers that failed other than by timing out, by kind of error
    /// (`authentication`, `io`, `closed`, `tls`, `router error`, `job` for a
    /// job's own [`Error::User`], …).
    pub fn failed_by_kind(&self) -> &BTreeMap<&'static str, usize> {
        &self.failed
    }

    /// Routers that failed other than by timing out.
    pub fn failed(&self) -> usize {
        self.failed.values().sum()
    }

    /// Routers that timed out.
    pub fn timed_out(&self) -> usize {
        self.timed_out
    }

    /// Routers counted.
    pub fn total(&self) -> usize {
        self.latencies.len()
    }

    /// The `p`-th percentile (0.0–1.0) of the routers' times (nearest rank);
    /// `None` before any result.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        let mut times: Vec<Duration> = self.latencies.iter().map(|(t, _)| *t).collect();
        if times.is_empty() {
            return None;
        }
        times.sort_unstable();
        let rank = (p.clamp(0.0, 1.0) * times.len() as f64).ceil() as usize;
        Some(times[rank.clamp(1, times.len()) - 1])
    }

    /// The median time.
    pub fn p50(&self) -> Option<Duration> {
        self.percentile(0.50)
    }

    /// The 95th percentile time.
    pub fn p95(&self) -> Option<Duration> {
        self.percentile(0.95)
    }

    /// The longest time.
    pub fn max(&self) -> Option<Duration> {
        self.latencies.iter().map(|(t, _)| *t).max()
    }

    /// The `n` slowest routers, slowest first.
    pub fn slowest(&self, n: usize) -> Vec<(&str, Duration)> {
        let mut all: Vec<_> = self.latencies.iter().collect();
        all.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        all.into_iter()
            .take(n)
            .map(|(t, name)| (name.as_str(), *t))
            .collect()
    }

    /// Every router that failed or timed out, with its error, in the order recorded.
    pub fn failures(&self) -> &[(String, Error)] {
        &self.failures
    }
}

impl<T> Extend<RouterResult<T>> for Summary {
    fn extend<I: IntoIterator<Item = RouterResult<T>>>(&mut self, results: I) {
        for result in results {
            self.record(&result);
        }
    }
}

impl fmt::Display for Summary {
    /// A short table: counts, failures by kind, latency percentiles.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Option<Duration>| {
            d.map_or_else(
                || "-".to_owned(),
                |d| format!("{:.1} ms", d.as_secs_f64() * 1e3),
            )
        };
        writeln!(f, "{:<22}{:>8}", "routers", self.total())?;
        writeln!(f, "{:<22}{:>8}", "succeeded", self.succeeded)?;
        writeln!(f, "{:<22}{:>8}", "timed out", self.timed_out)?;
        writeln!(f, "{:<22}{:>8}", "failed", self.failed())?;
        for (kind, count) in &self.failed {
            writeln!(f, "  {:<20}{:>8}", kind, count)?;
        }
        writeln!(f, "{:<22}{:>12}", "latency p50", ms(self.p50()))?;
        writeln!(f, "{:<22}{:>12}", "latency p95", ms(self.p95()))?;
        write!(f, "{:<22}{:>12}", "latency max", ms(self.max()))
    }
}

/// A short name for the kind of `error`, to group failures by.
pub fn error_kind(error: &Error) -> &'static str {
    match error {
        Error::Authentication { .. } => "authentication",
        Error::Tls { .. } => "tls",
        Error::Timeout { .. } => "timeout",
        Error::Io(_) => "io",
        Error::ConnectionClosed { .. } | Error::Fatal(_) => "closed by router",
        Error::Closed => "closed",
        Error::ProtocolMismatch { .. } => "wrong port or protocol",
        Error::Protocol(_) => "protocol",
        Error::Trap(_) => "router error",
        Error::InvalidAddress { .. } => "address",
        Error::Decode { .. } => "decode",
        Error::Config(_) | Error::InvalidCommand { .. } => "usage",
        Error::User(_) => "job",
        #[cfg(feature = "schema")]
        Error::CommandCheck(_) => "usage",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn result(name: &str, ms: u64, result: crate::Result<()>) -> RouterResult<()> {
        RouterResult {
            name: Arc::from(name),
            result,
            elapsed: Duration::from_millis(ms),
        }
    }

    #[test]
    fn counts_kinds_percentiles_and_the_slowest() {
        let mut summary = Summary::new();
        for i in 1..=98 {
            summary.record(&result(&format!("r{i}"), i, Ok(())));
        }
        summary.record(&result(
            "refuses",
            5,
            Err(Error::authentication(
                "invalid user name or password (6)".into(),
            )),
        ));
        summary.record(&result(
            "silent",
            1000,
            Err(Error::Timeout {
                what: crate::TimeoutKind::Router,
                after: Duration::from_secs(1),
                address: None,
                stage: None,
            }),
        ));
        assert_eq!(summary.total(), 100);
        assert_eq!(summary.succeeded(), 98);
        assert_eq!(summary.timed_out(), 1);
        assert_eq!(summary.failed(), 1);
        assert_eq!(summary.failed_by_kind().get("authentication"), Some(&1));
        assert_eq!(summary.max(), Some(Duration::from_secs(1)));
        assert_eq!(summary.slowest(2)[0], ("silent", Duration::from_secs(1)));
        assert_eq!(summary.slowest(2)[1].0, "r98");
        // Nearest rank: the 50th of 100 sorted times (5 ms appears twice).
        assert_eq!(summary.p50(), Some(Duration::from_millis(49)));
        assert_eq!(summary.p95(), Some(Duration::from_millis(94)));
        let names: Vec<&str> = summary.failures().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["refuses", "silent"]);
        let table = summary.to_string();
        assert!(table.contains("authentication"), "{table}");
    }

    #[test]
    fn an_empty_summary_has_no_percentiles() {
        let summary = Summary::new();
        assert_eq!(summary.p50(), None);
        assert_eq!(summary.max(), None);
        assert!(summary.to_string().contains('-'));
    }
}
