//! Streaming monitors (`monitor-traffic`, ethernet monitor, `interval=`
//! prints) and the update check.

use super::*;

/// `=interval=` as RouterOS writes durations: `1`, `2s`, `500ms`, `1m`.
pub(super) fn parse_interval(text: &[u8]) -> Option<Duration> {
    let text = std::str::from_utf8(text).ok()?;
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let duration = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => return None,
    };
    (!duration.is_zero()).then_some(duration)
}

#[derive(Clone, Copy)]
pub(super) enum Monitor {
    Traffic,
    Ethernet,
}

// ------------------------------------------------------------------ session

impl Session {
    pub(super) async fn monitor(&mut self, cmd: &Parsed<'_>, kind: Monitor) {
        let tag = cmd.tag;
        let wanted = cmd
            .attr(b"interface")
            .or(cmd.attr(b"numbers"))
            .unwrap_or_default();
        let mut interfaces: Vec<(String, bool)> = Vec::new();
        let mut missing = wanted.is_empty();
        {
            let db = lock(&self.shared.db);
            let items = db.menus.get("/interface").map_or(&[][..], |m| &m.items[..]);
            for name in wanted.split(|&b| b == b',').filter(|n| !n.is_empty()) {
                let found = items
                    .iter()
                    .find(|i| i.get(b"name") == Some(name) || i.get(b".id") == Some(name));
                match found {
                    Some(item) => {
                        let name = String::from_utf8_lossy(item.get(b"name").unwrap_or_default());
                        let up = matches!(item.get(b"running"), Some(b"true" | b"yes"));
                        interfaces.push((name.into_owned(), up));
                    }
                    None => missing = true,
                }
            }
        }
        if missing {
            let out = trap_done(tag, Some(1), b"no such item");
            self.reply(out).await;
            return;
        }
        let (yes, no) = (self.yes(), self.no());
        let rows = move |tag: Option<&[u8]>, tick: u64, section: Option<&str>| {
            let mut out = Vec::new();
            for (i, (name, up)) in interfaces.iter().enumerate() {
                match kind {
                    Monitor::Traffic => {
                        let r = mix(tick, i as u64);
                        let (rx, tx) = if *up {
                            (1_000_000 + r % 9_000_000, 200_000 + (r >> 24) % 2_000_000)
                        } else {
                            (0, 0)
                        };
                        let (rxp, txp) = (rx / 8 / 700, tx / 8 / 400);
                        let (rx, tx, rxp, txp) = (
                            rx.to_string(),
                            tx.to_string(),
                            rxp.to_string(),
                            txp.to_string(),
                        );
                        let mut attrs = vec![
                            ("name", name.as_str()),
                            ("rx-packets-per-second", &rxp),
                            ("rx-bits-per-second", &rx),
                            ("fp-rx-packets-per-second", &rxp),
                            ("fp-rx-bits-per-second", &rx),
                            ("rx-drops-per-second", "0"),
                            ("rx-errors-per-second", "0"),
                            ("tx-packets-per-second", &txp),
                            ("tx-bits-per-second", &tx),
                            ("fp-tx-packets-per-second", &txp),
                            ("fp-tx-bits-per-second", &tx),
                            ("tx-drops-per-second", "0"),
                            ("tx-queue-drops-per-second", "0"),
                            ("tx-errors-per-second", "0"),
                        ];
                        attrs.extend(section.map(|s| (".section", s)));
                        pairs_row(&mut out, tag, &attrs);
                    }
                    Monitor::Ethernet => {
                        let mut attrs = vec![
                            ("name", name.as_str()),
                            ("status", if *up { "link-ok" } else { "no-link" }),
                            ("auto-negotiation", "done"),
                        ];
                        if *up {
                            attrs.extend([("rate", "1Gbps"), ("full-duplex", yes)]);
                        }
                        attrs.extend([
                            ("tx-flow-control", no),
                            ("rx-flow-control", no),
                            ("advertising", "10M-baseT-half,10M-baseT-full,100M-baseT-half,100M-baseT-full,1G-baseT-half,1G-baseT-full"),
                        ]);
                        attrs.extend(section.map(|s| (".section", s)));
                        pairs_row(&mut out, tag, &attrs);
                    }
                }
            }
            out
        };
        if cmd.has(b"once") {
            let mut out = rows(tag, 0, None);
            done(&mut out, tag, None);
            self.reply(out).await;
            return;
        }
        let interval = self.shared.config.monitor_interval;
        let (handle, stop) = self.register(tag);
        let emitter = self.emitter(handle);
        self.spawn(stop, async move {
            for tick in 0.. {
                let section = tick.to_string();
                let cycle = rows(emitter.tag(), tick, Some(&section));
                if !emitter.send(Payload::Owned(cycle), false).await {
                    return;
                }
                Timer::after(interval).await;
            }
        });
    }

    pub(super) fn check_for_updates(&mut self, cmd: &Parsed<'_>) {
        let config = &self.shared.config;
        let (installed, latest) = schema::versions(config.v6, config.empty_replies);
        // A chosen release is installed; the newest the tree knows is latest.
        let (installed, latest): (String, String) = match &config.release {
            Some(release) => (
                release.clone(),
                super::super::tree::Tree::newest().release().to_owned(),
            ),
            None => (installed.to_owned(), latest.to_owned()),
        };
        let (handle, stop) = self.register(cmd.tag);
        let emitter = self.emitter(handle);
        let verdict = if installed == latest {
            "System is already up to date"
        } else {
            "New version is available"
        };
        self.spawn(stop, async move {
            let steps: [&[(&str, &str)]; 3] = [
                &[
                    ("channel", "stable"),
                    ("installed-version", &installed),
                    ("status", "finding out latest version..."),
                ],
                &[
                    ("channel", "stable"),
                    ("installed-version", &installed),
                    ("status", "downloading changelog..."),
                ],
                &[
                    ("channel", "stable"),
                    ("installed-version", &installed),
                    ("latest-version", &latest),
                    ("status", verdict),
                ],
            ];
            for step in steps {
                let mut out = Vec::new();
                pairs_row(&mut out, emitter.tag(), step);
                if !emitter.send(Payload::Owned(out), false).await {
                    return;
                }
                Timer::after(Duration::from_millis(20)).await;
            }
            let mut out = Vec::new();
            done(&mut out, emitter.tag(), None);
            emitter.send(Payload::Owned(out), true).await;
        });
    }
}
