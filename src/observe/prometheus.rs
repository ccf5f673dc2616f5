//! The Prometheus text exposition format (version 0.0.4) of [`Stats`].

use std::fmt::Write;

use super::Stats;

/// One metric family: name, type, help, and how to read it from a snapshot.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    value: Read,
}

const FAMILIES: &[Family] = &[
    Family {
        name: "mikrotik_bytes_received_total",
        kind: "counter",
        help: "Bytes read from the router.",
        value: |s| s.bytes_received,
    },
    Family {
        name: "mikrotik_bytes_sent_total",
        kind: "counter",
        help: "Bytes written to the router.",
        value: |s| s.bytes_sent,
    },
    Family {
        name: "mikrotik_sentences_received_total",
        kind: "counter",
        help: "API sentences read from the router.",
        value: |s| s.sentences_received,
    },
    Family {
        name: "mikrotik_sentences_sent_total",
        kind: "counter",
        help: "API sentences written to the router (commands, cancels, keepalive probes).",
        value: |s| s.sentences_sent,
    },
    Family {
        name: "mikrotik_commands_started_total",
        kind: "counter",
        help: "Commands sent to the router.",
        value: |s| s.commands_started,
    },
    Family {
        name: "mikrotik_commands_in_flight",
        kind: "gauge",
        help: "Commands sent and not ended yet.",
        value: |s| s.commands_in_flight,
    },
    Family {
        name: "mikrotik_reconnects_total",
        kind: "counter",
        help: "Connections made to replace a lost one.",
        value: |s| s.reconnects,
    },
    Family {
        name: "mikrotik_commands_abandoned_total",
        kind: "counter",
        help: "Cancelled or internal commands the router never finished in time.",
        value: |s| s.abandoned,
    },
];

/// Reads one counter from a snapshot.
type Read = fn(&Stats) -> u64;

/// The outcomes of `mikrotik_commands_ended_total`, as its `outcome` label.
const OUTCOMES: &[(&str, Read)] = &[
    ("done", |s| s.commands_done),
    ("trap", |s| s.commands_trapped),
    ("cancelled", |s| s.commands_cancelled),
    ("timed_out", |s| s.commands_timed_out),
    ("overflowed", |s| s.commands_overflowed),
    ("connection_lost", |s| s.commands_connection_lost),
];

/// Renders `routers` (a name for the `router` label, and its snapshot) in
/// the Prometheus text exposition format, ready to serve as
/// `text/plain; version=0.0.4` from any HTTP server.
///
/// ```
/// use mikrotik_rs::observe::{Stats, prometheus_text};
/// let mut stats = Stats::default();
/// stats.bytes_received = 42;
/// let text = prometheus_text(&[("core-1", stats)]);
/// assert!(text.contains("mikrotik_bytes_received_total{router=\"core-1\"} 42\n"));
/// ```
pub fn prometheus_text(routers: &[(&str, Stats)]) -> String {
    let mut out = String::new();
    for family in FAMILIES {
        header(&mut out, family.name, family.kind, family.help);
        for (router, stats) in routers {
            sample(&mut out, family.name, router, None, (family.value)(stats));
        }
    }
    let ended = "mikrotik_commands_ended_total";
    header(&mut out, ended, "counter", "Commands ended, by outcome.");
    for (router, stats) in routers {
        for (outcome, value) in OUTCOMES {
            sample(&mut out, ended, router, Some(outcome), value(stats));
        }
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, router: &str, outcome: Option<&str>, value: u64) {
    let _ = write!(out, "{name}{{router=\"");
    escape_label(out, router);
    out.push('"');
    if let Some(outcome) = outcome {
        let _ = write!(out, ",outcome=\"{outcome}\"");
    }
    let _ = writeln!(out, "}} {value}");
}

/// Label values escape backslash, double quote and line feed.
fn escape_label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_help_type_and_one_sample_per_router() {
        let a = Stats {
            commands_done: 3,
            bytes_sent: 7,
            ..Stats::default()
        };
        let b = Stats::default();
        let text = prometheus_text(&[("a", a), ("b\"\\\nx", b)]);
        for family in FAMILIES {
            assert!(text.contains(&format!("# TYPE {} {}\n", family.name, family.kind)));
            assert_eq!(text.matches(&format!("{}{{", family.name)).count(), 2);
        }
        assert!(text.contains("mikrotik_bytes_sent_total{router=\"a\"} 7\n"));
        assert!(text.contains("mikrotik_commands_ended_total{router=\"a\",outcome=\"done\"} 3\n"));
        assert!(text.contains("mikrotik_bytes_sent_total{router=\"b\\\"\\\\\\nx\"} 0\n"));
        assert_eq!(
            text.matches("mikrotik_commands_ended_total{").count(),
            2 * OUTCOMES.len()
        );
        // Every line is a comment or `name{labels} integer`.
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let (_, value) = line.rsplit_once(' ').unwrap();
            value.parse::<u64>().unwrap();
        }
    }

    #[test]
    fn no_router_gives_only_the_headers() {
        let text = prometheus_text(&[]);
        assert!(text.lines().all(|l| l.starts_with('#')));
        assert_eq!(text.lines().count(), 2 * (FAMILIES.len() + 1));
    }
}
