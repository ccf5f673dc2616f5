//! The in-memory menus: print (queries, proplist, count, follow, listen),
//! add, set, remove, and the traps of unknown commands.

use super::*;

/// Commands the session answers itself, outside the menus.
pub(super) const BUILTIN_COMMANDS: [&[u8]; 7] = [
    b"/login",
    b"/ping",
    b"/cancel",
    b"/quit",
    b"/interface/monitor-traffic",
    b"/interface/ethernet/monitor",
    b"/system/package/update/check-for-updates",
];

/// The first segment of `path` that leads nowhere (`known` says whether a
/// path prefix leads somewhere), or the last segment when every prefix does.
pub(super) fn first_unknown(path: &[u8], known: impl Fn(&[u8]) -> bool) -> &[u8] {
    let segments: Vec<&[u8]> = path
        .strip_prefix(b"/")
        .unwrap_or(path)
        .split(|&b| b == b'/')
        .collect();
    let mut prefix = Vec::new();
    for segment in &segments {
        prefix.push(b'/');
        prefix.extend_from_slice(segment);
        if !known(&prefix) {
            return segment;
        }
    }
    segments.last().copied().unwrap_or_default()
}

/// Whether `prefix` is a whole-segment prefix of one of `paths`.
fn leads_to(prefix: &[u8], paths: &[Vec<u8>]) -> bool {
    paths
        .iter()
        .any(|k| k.starts_with(prefix) && (k.len() == prefix.len() || k[prefix.len()] == b'/'))
}

/// The verbs every table of the mock answers.
const TABLE_VERBS: [&[u8]; 6] = [b"print", b"getall", b"listen", b"set", b"add", b"remove"];

/// How the session answers one command of a menu.
enum Route {
    /// `print`, `getall`, `listen` of a table.
    Print {
        listen: bool,
    },
    /// `add`, `set`, `remove` of a table.
    Modify,
    /// `enable`, `disable`, `comment`, `unset`, `get`, `move` of a table.
    TableVerb,
    /// A command of the tree with no table meaning.
    Action,
    Unknown,
}

impl Session {
    pub(super) async fn menu_command(&mut self, cmd: &Parsed<'_>) {
        let path = cmd.path;
        let (menu, verb) = match path.iter().rposition(|&b| b == b'/') {
            Some(i) if i > 0 => (&path[..i], &path[i + 1..]),
            _ => (&b""[..], path),
        };
        // One UTF-8 check of the whole path when it is text (`/` splits
        // text at a character boundary); else each part on its own.
        let (menu, verb_text) = match std::str::from_utf8(path) {
            Ok(text) => (
                text.get(..menu.len()).unwrap_or_default(),
                text.get(path.len() - verb.len()..).unwrap_or_default(),
            ),
            Err(_) => (
                std::str::from_utf8(menu).unwrap_or_default(),
                std::str::from_utf8(verb).unwrap_or_default(),
            ),
        };
        let tree = self.shared.tree;
        // The tree is asked once; its command goes down to every check.
        let found = tree.map(|t| t.find(menu, verb_text)).unwrap_or_default();
        let in_tree = found.answered;
        let (route, hand_built) = {
            let mut db = lock(&self.shared.db);
            let mut single = db.menus.get(menu).map(|m| m.single);
            if single.is_none()
                && in_tree
                && let Some(kind) = tree.and_then(|t| t.menu_kind(menu))
            {
                db.ensure(menu, kind == MenuKind::Single);
                single = Some(kind == MenuKind::Single);
            }
            let single = single.filter(|_| !menu.is_empty());
            let hand_built = db.is_hand_built(menu);
            // A hand-built menu answers the table verbs the mock always
            // had; any other menu answers what its release's tree has.
            let has = |v: &[u8]| {
                in_tree
                    || (hand_built
                        && TABLE_VERBS.contains(&v)
                        && (v != b"add" && v != b"remove" || single == Some(false)))
            };
            let route = match (single, verb) {
                (Some(_), b"print" | b"getall") if has(verb) => Route::Print { listen: false },
                (Some(_), b"listen") if has(verb) => Route::Print { listen: true },
                (Some(_), b"set") if has(verb) => Route::Modify,
                (Some(false), b"add" | b"remove") if has(verb) => Route::Modify,
                (
                    Some(false),
                    b"enable" | b"disable" | b"comment" | b"unset" | b"get" | b"move",
                ) if in_tree || hand_built => Route::TableVerb,
                (Some(true), b"unset" | b"get") if in_tree => Route::TableVerb,
                _ if in_tree => Route::Action,
                _ => Route::Unknown,
            };
            (route, hand_built)
        };
        // Hand-built menus too: their richer behaviour comes after the
        // router's own check of argument names and values.
        if let (Some(tree), false) = (tree, matches!(route, Route::Unknown))
            && !matches!(verb, b"listen" | b"getall")
            && let Err((category, message)) = tree.check_arguments(
                found.command,
                cmd.attrs.iter().copied(),
                self.shared.config.v6,
            )
        {
            let out = trap_done(cmd.tag, category.map(u32::from), message.as_bytes());
            self.reply(out).await;
            return;
        }
        if matches!(route, Route::Action)
            && verb != b"monitor"
            && let Err((category, message)) = self.named_items_exist(cmd, menu)
        {
            let out = trap_done(cmd.tag, category.map(u32::from), message.as_bytes());
            self.reply(out).await;
            return;
        }
        match route {
            Route::Print { listen } => self.print(cmd, menu, listen).await,
            Route::Modify => {
                self.modify(cmd, menu, verb, found.command, hand_built)
                    .await;
            }
            Route::TableVerb => self.table_verb(cmd, menu, verb).await,
            Route::Action => self.action(cmd, menu, verb).await,
            Route::Unknown => {
                let out = self.unknown_command(cmd);
                self.reply(out).await;
            }
        }
    }

    /// A command of a table that names rows (`/system/script/run
    /// number=nosuch`) traps `no such item` for a row the table does not
    /// have, as the router does. Only where the mock holds the table's rows
    /// (a list menu it has); anything else is not judged.
    fn named_items_exist(
        &self,
        cmd: &Parsed<'_>,
        menu: &str,
    ) -> Result<(), crate::testing::db::Refusal> {
        let Some(ids) = cmd
            .attr(b"numbers")
            .or(cmd.attr(b"number"))
            .filter(|ids| !ids.is_empty())
        else {
            return Ok(());
        };
        let db = lock(&self.shared.db);
        match db.menus.get(menu) {
            Some(table) if !table.single => db.find(menu, ids).map(drop),
            _ => Ok(()),
        }
    }

    /// What RouterOS answers to a path it does not know: the first unknown
    /// segment named, then "no such command prefix", then `!done`.
    pub(super) fn unknown_command(&self, cmd: &Parsed<'_>) -> Vec<u8> {
        let name = {
            let db = lock(&self.shared.db);
            let scripts = self
                .shared
                .scripts
                .read()
                .unwrap_or_else(|e| e.into_inner());
            let mut known: Vec<Vec<u8>> = BUILTIN_COMMANDS.iter().map(|p| p.to_vec()).collect();
            known.extend(scripts.keys().cloned());
            for (path, m) in &db.menus {
                for verb in ["print", "getall", "listen", "set", "add", "remove"] {
                    if !m.single || !matches!(verb, "add" | "remove") {
                        known.push(format!("{path}/{verb}").into_bytes());
                    }
                }
            }
            let tree = self.shared.tree;
            first_unknown(cmd.path, |prefix| {
                leads_to(prefix, &known)
                    || tree.is_some_and(|t| {
                        std::str::from_utf8(prefix).is_ok_and(|p| t.knows_prefix(p))
                    })
            })
            .to_vec()
        };
        let mut message = b"no such command or directory (".to_vec();
        message.extend_from_slice(&name);
        message.push(b')');
        let mut out = Vec::new();
        trap(&mut out, cmd.tag, Some(0), &message);
        trap(&mut out, cmd.tag, None, b"no such command prefix");
        done(&mut out, cmd.tag, None);
        out
    }

    pub(super) async fn print(&mut self, cmd: &Parsed<'_>, menu: &str, listen: bool) {
        let tag = cmd.tag;
        let mut queries = Vec::with_capacity(cmd.queries.len());
        for word in &cmd.queries {
            match query::parse(word) {
                Some(q) => queries.push(q),
                None => {
                    let out = trap_done(tag, Some(1), b"invalid query");
                    self.reply(out).await;
                    return;
                }
            }
        }
        let proplist = cmd.proplist();
        let follow = cmd.has(b"follow");
        let changes_only = listen || cmd.has(b"follow-only");
        if let Some(interval) = cmd.attr(b"interval")
            && !follow
            && !changes_only
        {
            let interval = parse_interval(interval).unwrap_or(self.shared.config.monitor_interval);
            self.print_every(cmd, menu, queries, proplist, interval);
            return;
        }
        if !follow && !changes_only {
            // A plain print: written straight from the table, no row copied.
            let mut out = Vec::new();
            {
                let db = lock(&self.shared.db);
                let items = db.menus.get(menu).map_or(&[][..], |m| &m.items[..]);
                let mut matching = items
                    .iter()
                    .filter(|item| query::matches(&queries, |k| item.get(k)));
                if cmd.has(b"count-only") {
                    let count = matching.count().to_string();
                    done(&mut out, tag, Some(count.as_bytes()));
                } else {
                    let mut any = false;
                    for item in matching.by_ref() {
                        any = true;
                        row(&mut out, tag, item.attrs(), proplist.as_deref(), None);
                    }
                    if !any && self.shared.config.empty_replies {
                        begin(&mut out, b"!empty", tag);
                        out.push(0);
                    }
                    done(&mut out, tag, None);
                }
            }
            self.reply(out).await;
            return;
        }
        let (rows, changes) = {
            let mut db = lock(&self.shared.db);
            let rows: Vec<Item> = if changes_only {
                Vec::new()
            } else {
                db.menus.get(menu).map_or_else(Vec::new, |m| {
                    m.items
                        .iter()
                        .filter(|item| query::matches(&queries, |k| item.get(k)))
                        .cloned()
                        .collect()
                })
            };
            (rows, db.subscribe())
        };
        let mut first = Vec::new();
        for item in &rows {
            row(&mut first, tag, item.attrs(), proplist.as_deref(), None);
        }
        let (handle, stop) = self.register(tag);
        if self.shared.config.empty_replies {
            handle.empty_on_cancel.store(true, Ordering::SeqCst);
        }
        let emitter = self.emitter(handle);
        let menu = menu.to_owned();
        let dead = self.yes().as_bytes();
        self.spawn(stop, async move {
            if !first.is_empty() && !emitter.send(Payload::Owned(first), false).await {
                return;
            }
            while let Ok(change) = changes.recv().await {
                if change.menu != menu || !query::matches(&queries, |k| change.item.get(k)) {
                    continue;
                }
                let mut out = Vec::new();
                let dead = change.dead.then_some(dead);
                row(
                    &mut out,
                    emitter.tag(),
                    change.item.attrs(),
                    proplist.as_deref(),
                    dead,
                );
                if !emitter.send(Payload::Owned(out), false).await {
                    return;
                }
            }
        });
    }

    /// `print =interval=`: every cycle prints the matching rows again, each
    /// row carrying `=.section=N` (N counts cycles from 0), until cancelled.
    /// A cycle without rows answers `!empty` in the 7.18+ flavour.
    pub(super) fn print_every(
        &mut self,
        cmd: &Parsed<'_>,
        menu: &str,
        queries: Vec<QueryWord>,
        proplist: Option<Vec<Vec<u8>>>,
        interval: Duration,
    ) {
        let (handle, stop) = self.register(cmd.tag);
        let emitter = self.emitter(handle);
        let shared = Arc::clone(&self.shared);
        let menu = menu.to_owned();
        self.spawn(stop, async move {
            for cycle in 0u64.. {
                let rows: Vec<Item> = {
                    let db = lock(&shared.db);
                    db.menus.get(&menu).map_or_else(Vec::new, |m| {
                        m.items
                            .iter()
                            .filter(|item| query::matches(&queries, |k| item.get(k)))
                            .cloned()
                            .collect()
                    })
                };
                let section = cycle.to_string();
                let mut out = Vec::new();
                for item in &rows {
                    let attrs = item
                        .attrs()
                        .filter(|(k, _)| proplist.as_ref().is_none_or(|p| p.iter().any(|p| p == k)))
                        .chain([(&b".section"[..], section.as_bytes())]);
                    row(&mut out, emitter.tag(), attrs, None, None);
                }
                if rows.is_empty() && shared.config.empty_replies {
                    begin(&mut out, b"!empty", emitter.tag());
                    out.push(0);
                }
                if !out.is_empty() && !emitter.send(Payload::Owned(out), false).await {
                    return;
                }
                Timer::after(interval).await;
            }
        });
    }

    /// `add`, `set`, `remove`; `command` is the tree's (when it has it),
    /// `hand_built` whether the menu was built by hand (fixed once the mock
    /// runs: menus are registered before it starts).
    pub(super) async fn modify(
        &mut self,
        cmd: &Parsed<'_>,
        menu: &str,
        verb: &[u8],
        command: Option<&'static Command>,
        hand_built: bool,
    ) {
        let tag = cmd.tag;
        let ids = cmd
            .attr(b".id")
            .or(cmd.attr(b"numbers"))
            .unwrap_or_default();
        // Borrowed from the sentence: an add of the tree's copies each byte
        // once, into its row. Room for the `disabled` that `tree_row` adds.
        let mut attrs: Vec<(&[u8], &[u8])> = Vec::with_capacity(cmd.attrs.len() + 1);
        attrs.extend(
            cmd.attrs
                .iter()
                .filter(|(k, _)| !k.starts_with(b".") && *k != b"numbers"),
        );
        let takes_disabled = verb == b"add" && self.add_takes_disabled(command);
        let owned = |attrs: &[(&[u8], &[u8])]| -> Vec<Attr> {
            attrs
                .iter()
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect()
        };
        let result = {
            let mut db = lock(&self.shared.db);
            let v6 = self.shared.config.v6;
            if !hand_built {
                self.tree_row(takes_disabled, verb, &mut attrs);
            }
            match verb {
                // `place-before` (src/testing/ordered.rs): where the new row goes.
                b"add" => {
                    let before = crate::testing::ordered::take_place_before(&mut attrs);
                    if hand_built {
                        // Its rules (`Db::check`) may rewrite what is stored.
                        let mut attrs = owned(&attrs);
                        db.check(menu, &mut attrs, true, v6)
                            .and_then(|()| db.add_placed(menu, &attrs, before).map(Some))
                    } else {
                        db.add_placed(menu, &attrs, before).map(Some)
                    }
                }
                b"set" => {
                    let mut attrs = owned(&attrs);
                    db.check(menu, &mut attrs, false, v6)
                        .and_then(|()| db.set(menu, ids, &attrs).map(|()| None))
                }
                _ => db.remove(menu, ids).map(|()| None),
            }
        };
        let out = match result {
            Ok(ret) => {
                let mut out = Vec::with_capacity(64);
                done(&mut out, tag, ret.as_deref());
                out
            }
            Err((category, message)) => trap_done(tag, category.map(u32::from), message.as_bytes()),
        };
        self.reply(out).await;
    }
}
