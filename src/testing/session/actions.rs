//! Commands beyond `print`/`add`/`set`/`remove`: the table verbs every
//! RouterOS table has (`enable`, `disable`, `comment`, `unset`, `get`,
//! `move`), and the commands of the tree with no table meaning, answered per
//! kind (a reboot closes the connection, `ping` streams, a `monitor` streams
//! or answers once, anything else answers `!done`).

use super::*;
use crate::testing::db::Refusal;

impl Session {
    /// What a router stores for a row of a menu from the tree: `disabled`
    /// in the flavour's words, and on `add` the `disabled` the client left
    /// out (when the command takes it: `takes_disabled`, from
    /// [`add_takes_disabled`](Self::add_takes_disabled)).
    pub(super) fn tree_row(
        &self,
        takes_disabled: bool,
        verb: &[u8],
        attrs: &mut Vec<(&[u8], &[u8])>,
    ) {
        let word = |on: bool| if on { self.yes() } else { self.no() };
        for (key, value) in attrs.iter_mut() {
            if *key == b"disabled"
                && let Some(on) = schema::parse_bool(value)
            {
                *value = word(on).as_bytes();
            }
        }
        if verb != b"add" || attrs.iter().any(|(k, _)| *k == b"disabled") {
            return;
        }
        if takes_disabled {
            attrs.push((b"disabled", word(false).as_bytes()));
        }
    }

    /// Whether the tree's `add` command takes `disabled`; remembered for the
    /// last command asked (the tree never changes, and an apply sends
    /// thousands of adds to one menu).
    pub(super) fn add_takes_disabled(&mut self, add: Option<&'static Command>) -> bool {
        let (Some(tree), Some(add)) = (self.shared.tree, add) else {
            return false;
        };
        match self.add_takes_disabled {
            Some((known, takes)) if std::ptr::eq(known, add) => takes,
            _ => {
                let takes = tree.argument_named(add, b"disabled").is_some();
                self.add_takes_disabled = Some((add, takes));
                takes
            }
        }
    }

    /// `enable`, `disable`, `comment`, `unset`, `get`, `move` of a table.
    pub(super) async fn table_verb(&mut self, cmd: &Parsed<'_>, menu: &str, verb: &[u8]) {
        let ids = cmd
            .attr(b".id")
            .or(cmd.attr(b"numbers"))
            .unwrap_or_default();
        let (yes, no) = (self.yes(), self.no());
        let result: Result<Option<Vec<u8>>, Refusal> = {
            let mut db = lock(&self.shared.db);
            match verb {
                b"enable" | b"disable" => {
                    let value = if verb == b"disable" { yes } else { no };
                    let change = [(b"disabled".to_vec(), value.as_bytes().to_vec())];
                    db.set(menu, ids, &change).map(|()| None)
                }
                b"comment" => {
                    let text = cmd.attr(b"comment").unwrap_or_default();
                    let change = [(b"comment".to_vec(), text.to_vec())];
                    db.set(menu, ids, &change).map(|()| None)
                }
                b"unset" => {
                    let names = cmd.attr(b"value-name").unwrap_or_default();
                    let keys: Vec<&[u8]> = names
                        .split(|&b| b == b',')
                        .filter(|k| !k.is_empty())
                        .collect();
                    db.unset(menu, ids, &keys).map(|()| None)
                }
                b"get" => {
                    let id = cmd.attr(b"number").or(cmd.attr(b".id")).unwrap_or_default();
                    let name = cmd.attr(b"value-name").unwrap_or_default();
                    db.value(menu, id, name)
                }
                _ => db
                    .move_rows(menu, ids, cmd.attr(b"destination"))
                    .map(|()| None),
            }
        };
        let out = match result {
            Ok(ret) => {
                let mut out = Vec::new();
                done(&mut out, cmd.tag, ret.as_deref());
                out
            }
            Err((category, message)) => {
                trap_done(cmd.tag, category.map(u32::from), message.as_bytes())
            }
        };
        self.reply(out).await;
    }

    /// A command of the tree with no table meaning.
    pub(super) async fn action(&mut self, cmd: &Parsed<'_>, menu: &str, verb: &[u8]) {
        match (menu, verb) {
            // A router that reboots or shuts down closes every API
            // connection without answering (EvilFreelancer/routeros-api-php
            // issue 36, RouterOS 6.44.5: "terminates the API connection
            // without response").
            ("/system", b"reboot" | b"shutdown") => {
                let kills = std::mem::take(&mut *lock(&self.shared.kills));
                drop(kills);
            }
            ("/tool", b"ping") => self.ping(cmd).await,
            (_, b"monitor") => self.generic_monitor(cmd),
            _ => {
                let mut out = Vec::new();
                done(&mut out, cmd.tag, None);
                self.reply(out).await;
            }
        }
    }

    /// `/ping` and `/tool/ping`: a row per interval (`count` rows, then
    /// `!done`; without `count`, until cancelled), as PROTOCOL.md describes.
    /// Every reply comes back after 1 ms with TTL 64.
    pub(super) async fn ping(&mut self, cmd: &Parsed<'_>) {
        let Some(host) = cmd.attr(b"address").filter(|a| !a.is_empty()) else {
            let (category, message) = crate::testing::words::missing_arguments(&["address"]);
            let out = trap_done(cmd.tag, category.map(u32::from), message.as_bytes());
            self.reply(out).await;
            return;
        };
        let host = String::from_utf8_lossy(host).into_owned();
        let count = cmd
            .attr(b"count")
            .and_then(|c| std::str::from_utf8(c).ok()?.parse::<u64>().ok())
            .filter(|c| *c > 0);
        let size = cmd
            .attr(b"size")
            .and_then(|s| std::str::from_utf8(s).ok())
            .unwrap_or("56")
            .to_owned();
        let interval = cmd
            .attr(b"interval")
            .and_then(parse_interval)
            .unwrap_or(self.shared.config.monitor_interval);
        let (handle, stop) = self.register(cmd.tag);
        let emitter = self.emitter(handle);
        self.spawn(stop, async move {
            for seq in 0u64.. {
                if count.is_some_and(|c| seq >= c) {
                    let mut out = Vec::new();
                    done(&mut out, emitter.tag(), None);
                    emitter.send(Payload::Owned(out), true).await;
                    return;
                }
                if seq > 0 {
                    Timer::after(interval).await;
                }
                let (seq_text, sent) = (seq.to_string(), (seq + 1).to_string());
                let mut out = Vec::new();
                pairs_row(
                    &mut out,
                    emitter.tag(),
                    &[
                        ("seq", &seq_text),
                        ("host", &host),
                        ("size", &size),
                        ("ttl", "64"),
                        ("time", "1ms"),
                        ("sent", &sent),
                        ("received", &sent),
                        ("packet-loss", "0"),
                        ("min-rtt", "1ms"),
                        ("avg-rtt", "1ms"),
                        ("max-rtt", "1ms"),
                    ],
                );
                if !emitter.send(Payload::Owned(out), false).await {
                    return;
                }
            }
        });
    }

    /// `monitor` of any menu (beyond the two built-in monitors): a row per
    /// item named in `numbers` (its `name` only: the mock has no live
    /// values), once with `=once=`, else every interval with `.section`.
    fn generic_monitor(&mut self, cmd: &Parsed<'_>) {
        let names: Vec<String> = cmd
            .attr(b"numbers")
            .or(cmd.attr(b".id"))
            .unwrap_or_default()
            .split(|&b| b == b',')
            .filter(|n| !n.is_empty())
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        let once = cmd.has(b"once");
        let interval = self.shared.config.monitor_interval;
        let (handle, stop) = self.register(cmd.tag);
        let emitter = self.emitter(handle);
        self.spawn(stop, async move {
            for cycle in 0u64.. {
                let section = cycle.to_string();
                let mut out = Vec::new();
                for name in &names {
                    let mut attrs = vec![("name", name.as_str())];
                    if !once {
                        attrs.push((".section", &section));
                    }
                    pairs_row(&mut out, emitter.tag(), &attrs);
                }
                if names.is_empty() {
                    let attrs: Vec<(&str, &str)> = if once {
                        Vec::new()
                    } else {
                        vec![(".section", &section)]
                    };
                    pairs_row(&mut out, emitter.tag(), &attrs);
                }
                if once {
                    done(&mut out, emitter.tag(), None);
                    emitter.send(Payload::Owned(out), true).await;
                    return;
                }
                if !emitter.send(Payload::Owned(out), false).await {
                    return;
                }
                Timer::after(interval).await;
            }
        });
    }
}
