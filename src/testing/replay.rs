//! Replay: a transcript indexed by command, so that a session can answer a
//! client's command with the replies recorded for the same command.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::sealed;
use super::transcript::{Direction, REDACTED, Transcript};
use crate::protocol::{Sentence, secrets};

type Words = Vec<Vec<u8>>;

/// One reply as recorded: when (after its command was sent), and its words
/// (without `.tag`).
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) after: Duration,
    pub(crate) words: Words,
    seq: usize,
}

/// A sentence of a replayed `/cancel`'s answer: `own` for the cancel's own
/// replies, else the cancelled command's.
pub(crate) type CancelReply = (bool, Words);

#[derive(Debug)]
struct Exchange {
    command: Words,
    replies: Vec<Recorded>,
    /// How many replies were recorded before the client cancelled it.
    before_cancel: Option<usize>,
    /// The `/cancel` exchange that cancelled it.
    cancelled_by: Option<usize>,
    /// Where in the transcript it was sent, and where its `!done` came.
    sent_at: usize,
    done_at: Option<usize>,
}

impl Exchange {
    fn path(&self) -> &[u8] {
        self.command.first().map_or(&[][..], |w| &w[..])
    }
}

/// How a replayed command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// Its last reply is `!done`.
    Done,
    /// It keeps running until the client cancels it.
    Running,
    /// Its last reply is `!fatal`: the session closes.
    Fatal,
}

/// What to answer to one command.
#[derive(Debug)]
pub(crate) enum Plan {
    Answer {
        replies: Vec<Recorded>,
        end: End,
        /// The recorded answer to its `/cancel`, if it was cancelled.
        cancel: Option<Vec<CancelReply>>,
    },
    /// No recorded command matches: the trap's message.
    Unmatched(Vec<u8>),
}

/// How strictly a replaying [`MockRouter`](super::MockRouter) holds a
/// client to its transcript (see the [module docs](super#replay)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReplayMode {
    /// Each recorded write answers once: one sent more often than recorded
    /// is a trap that says "sent twice" (a read answers again, as it
    /// changes nothing), and writes of one path answer in the order the
    /// recording finished them; `/login` must name the recorded user and, where
    /// the transcript keeps a hash of the secret, give the same password,
    /// else the router's refusal; a `<redacted>` value matches only a value
    /// the secrets policy calls secret.
    #[default]
    Strict,
    /// What replay allowed before it was strict: a command sent more often
    /// than recorded gets its last recorded answer again, any `/login` is
    /// accepted, a `<redacted>` value matches any value.
    RepeatsAndAnyLogin,
}

/// A transcript ready to be served.
#[derive(Debug)]
pub(crate) struct Replay {
    name: String,
    exchanges: Vec<Exchange>,
    pub(crate) has_login: bool,
    pub(crate) timing: bool,
    mode: ReplayMode,
    /// Keys whose `<redacted>` recorded value matches any value (the user's
    /// opt-out in strict mode).
    any_value: Vec<Vec<u8>>,
    /// Which recorded commands were answered already, by any connection of
    /// the router: a write retried on a new connection (a reconnect) is
    /// sent twice all the same. (Logins are marked per connection: each
    /// connection logs in.)
    answered: std::sync::Mutex<Vec<bool>>,
}

/// The refusal RouterOS 6.43+ sends for a wrong user or password.
const REFUSAL: &[u8] = b"=message=invalid user name or password (6)";

/// Commands that change nothing on the router (sent again, they answer
/// again): `print`, `get`, `getall`, `listen`, `export`, every `monitor…`,
/// `read` (of a file), and the tools that only look: `ping`,
/// `traceroute`, `torch`, `scan`, `ip-scan`, `mac-scan`,
/// `frequency-monitor`, `bandwidth-test`, `flood-ping`, `profile`,
/// `sniffer/quick`. Any of them told to save to a file (`=file=`,
/// `=save-file=`: `export file=`, `print file=`) writes, so is a write.
fn is_read(words: &[Vec<u8>]) -> bool {
    let path = head_of(words);
    let last = path.rsplit(|&b| b == b'/').next().unwrap_or_default();
    let looks = matches!(
        last,
        b"print"
            | b"get"
            | b"getall"
            | b"listen"
            | b"export"
            | b"read"
            | b"ping"
            | b"traceroute"
            | b"torch"
            | b"scan"
            | b"ip-scan"
            | b"mac-scan"
            | b"frequency-monitor"
            | b"bandwidth-test"
            | b"flood-ping"
            | b"profile"
    ) || last.starts_with(b"monitor")
        || path.ends_with(b"/sniffer/quick");
    looks && attribute(words, b"file").is_none() && attribute(words, b"save-file").is_none()
}

fn head_of(words: &[Vec<u8>]) -> &[u8] {
    words.first().map_or(&[][..], |w| &w[..])
}

fn head(words: &Words) -> &[u8] {
    words.first().map_or(&[][..], |w| &w[..])
}

/// The value of `=key=` among `words`.
fn attribute<'a>(words: &'a [Vec<u8>], key: &[u8]) -> Option<&'a [u8]> {
    words
        .iter()
        .find_map(|w| w.strip_prefix(b"=")?.strip_prefix(key)?.strip_prefix(b"="))
}

impl Replay {
    pub(crate) fn new(
        transcript: &Transcript,
        timing: bool,
        mode: ReplayMode,
        any_value: Vec<Vec<u8>>,
    ) -> Self {
        let mut exchanges: Vec<Exchange> = Vec::new();
        let mut starts: Vec<Duration> = Vec::new();
        let mut open: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut untagged: VecDeque<usize> = VecDeque::new();
        let mut last = None;
        for (seq, entry) in transcript.entries.iter().enumerate() {
            match entry.direction {
                Direction::Sent => {
                    let index = exchanges.len();
                    if head(&entry.words) == b"/cancel"
                        && let Some(target) = attribute(&entry.words, b"tag")
                        && let Some(&t) = open.get(target)
                    {
                        exchanges[t].before_cancel = Some(exchanges[t].replies.len());
                        exchanges[t].cancelled_by = Some(index);
                    }
                    exchanges.push(Exchange {
                        command: entry.words.clone(),
                        replies: Vec::new(),
                        before_cancel: None,
                        cancelled_by: None,
                        sent_at: seq,
                        done_at: None,
                    });
                    starts.push(entry.offset);
                    match &entry.tag {
                        Some(tag) => {
                            open.insert(tag.clone(), index);
                        }
                        None => untagged.push_back(index),
                    }
                    last = Some(index);
                }
                Direction::Received => {
                    let reply = head(&entry.words);
                    let owner = match &entry.tag {
                        Some(tag) => open.get(tag).copied(),
                        None if reply == b"!fatal" => last,
                        None => untagged.front().copied(),
                    };
                    // A reply to no recorded command (a tag the recording
                    // started after) answers nothing.
                    let Some(owner) = owner else { continue };
                    exchanges[owner].replies.push(Recorded {
                        after: entry.offset.saturating_sub(starts[owner]),
                        words: entry.words.clone(),
                        seq,
                    });
                    if reply == b"!done" {
                        exchanges[owner].done_at.get_or_insert(seq);
                        match &entry.tag {
                            Some(tag) => {
                                open.remove(tag);
                            }
                            None => {
                                untagged.pop_front();
                            }
                        }
                    }
                }
            }
        }
        let has_login = exchanges.iter().any(|e| e.path() == b"/login");
        Self {
            name: transcript.name.clone(),
            exchanges,
            has_login,
            timing,
            mode,
            any_value,
            answered: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Answers `sentence`: the first recorded command that matches and no
    /// connection of this router has replayed yet (for a `/login`: this
    /// connection, `logins`); when all have been, the last one again for a
    /// read (or in [`ReplayMode::RepeatsAndAnyLogin`]), else a trap.
    pub(crate) fn plan(&self, sentence: &Sentence, logins: &mut Vec<bool>) -> Plan {
        let mut answered = self.answered.lock().unwrap_or_else(|e| e.into_inner());
        answered.resize(self.exchanges.len(), false);
        logins.resize(self.exchanges.len(), false);
        let words: Words = sentence
            .words()
            .filter(|w| !w.starts_with(b".tag="))
            .map(<[u8]>::to_vec)
            .collect();
        let strict = self.mode == ReplayMode::Strict;
        // Logins differ between clients (a bare `/login` or the 6.43 form,
        // secrets redacted): they are taken in recorded order, by user.
        let login = words.first().is_some_and(|w| w == b"/login");
        let used: &mut Vec<bool> = if login { logins } else { &mut answered };
        let candidates: Vec<usize> = (0..self.exchanges.len())
            .filter(|&i| self.exchanges[i].path() != b"/cancel")
            .filter(|&i| {
                let recorded = &self.exchanges[i].command;
                if login {
                    // A recorded bare `/login` (the pre-6.43 challenge
                    // request) answers any first login, as such a router does.
                    self.exchanges[i].path() == b"/login"
                        && (!strict
                            || attribute(recorded, b"name")
                                .is_none_or(|name| attribute(&words, b"name") == Some(name)))
                } else {
                    self.same_command(recorded, &words)
                }
            })
            .collect();
        let chosen = match candidates.iter().find(|&&i| !used[i]) {
            Some(&unused) => unused,
            None if candidates.is_empty() && login && strict => return refusal(),
            None if candidates.is_empty() => return Plan::Unmatched(self.unmatched(&words)),
            None if !strict || is_read(&words) => candidates[candidates.len() - 1],
            None => return Plan::Unmatched(self.sent_twice(&words, candidates.len())),
        };
        if login && strict && !self.login_secret_matches(&self.exchanges[chosen].command, &words) {
            return refusal();
        }
        if strict
            && !login
            && let Some(skipped) = self.skipped_write(chosen, used)
        {
            return Plan::Unmatched(self.out_of_order(&words, skipped));
        }
        used[chosen] = true;
        let exchange = &self.exchanges[chosen];
        let mut replies = exchange.replies.clone();
        let cancel = exchange.cancelled_by.map(|c| {
            let split = exchange.before_cancel.unwrap_or(replies.len());
            let mut merged: Vec<(usize, CancelReply)> = replies
                .split_off(split)
                .into_iter()
                .map(|r| (r.seq, (false, r.words)))
                .collect();
            merged.extend(
                self.exchanges[c]
                    .replies
                    .iter()
                    .map(|r| (r.seq, (true, r.words.clone()))),
            );
            merged.sort_by_key(|(seq, _)| *seq);
            merged.into_iter().map(|(_, reply)| reply).collect()
        });
        let end = match replies.last().map(|r| head(&r.words)) {
            _ if cancel.is_some() => End::Running,
            Some(b"!done") => End::Done,
            Some(b"!fatal") => End::Fatal,
            _ => End::Running,
        };
        Plan::Answer {
            replies,
            end,
            cancel,
        }
    }

    /// Whether the secret a `/login` gives is the one the transcript sealed
    /// (a plain `<redacted>`, as in transcripts written by hand, cannot be
    /// checked and accepts any).
    fn login_secret_matches(&self, recorded: &[Vec<u8>], incoming: &[Vec<u8>]) -> bool {
        [&b"password"[..], b"response"].into_iter().all(|key| {
            match (attribute(recorded, key), attribute(incoming, key)) {
                (Some(sealed_value), given) if sealed::is_sealed(sealed_value) => {
                    sealed::check(sealed_value, given.unwrap_or_default()) == Some(true)
                }
                _ => true,
            }
        })
    }

    fn unmatched(&self, words: &Words) -> Vec<u8> {
        let closest = self
            .exchanges
            .iter()
            .filter(|e| e.path() != b"/cancel")
            .max_by_key(|e| likeness(&e.command, words));
        let mut message = format!(
            "replay: no command like `{}` in transcript {}",
            show(words),
            self.name
        );
        match closest {
            Some(e) => message.push_str(&format!("; closest recorded: `{}`", show(&e.command))),
            None => message.push_str(" (it records no command)"),
        }
        message.into_bytes()
    }

    /// A write of the same path the recording finished before it sent
    /// `chosen`, not replayed yet: the order of those two was recorded.
    fn skipped_write(&self, chosen: usize, used: &[bool]) -> Option<usize> {
        let this = &self.exchanges[chosen];
        if is_read(&this.command) {
            return None;
        }
        (0..chosen).find(|&i| {
            let earlier = &self.exchanges[i];
            !used[i]
                && earlier.path() == this.path()
                && earlier.done_at.is_some_and(|done| done < this.sent_at)
        })
    }

    fn out_of_order(&self, words: &Words, skipped: usize) -> Vec<u8> {
        format!(
            "replay: `{}` sent before `{}`, which transcript {} records first",
            show(words),
            show(&self.exchanges[skipped].command),
            self.name
        )
        .into_bytes()
    }

    fn sent_twice(&self, words: &Words, recorded: usize) -> Vec<u8> {
        let times = if recorded == 1 { "once" } else { "fewer times" };
        format!(
            "replay: `{}` sent twice: transcript {} records it {times} ({recorded}); \
             a write sent again may run twice on a router",
            show(words),
            self.name
        )
        .into_bytes()
    }

    /// Same path, same attributes, same queries in the same order, same
    /// `.proplist`; tags are ignored. A `<redacted>` recorded value matches
    /// a value the secrets policy calls secret (any value in
    /// [`ReplayMode::RepeatsAndAnyLogin`], or under a key opted out).
    fn same_command(&self, recorded: &[Vec<u8>], incoming: &[Vec<u8>]) -> bool {
        let (r, i) = (shape(recorded), shape(incoming));
        let redacted_matches = |key: &[u8]| {
            self.mode == ReplayMode::RepeatsAndAnyLogin
                || secrets::is_secret(Some(i.path), key)
                || self.any_value.iter().any(|k| k == key)
        };
        let same_value = |key: &[u8], rv: &[u8], iv: &[u8]| {
            rv == iv || ((rv == REDACTED || sealed::is_sealed(rv)) && redacted_matches(key))
        };
        r.path == i.path
            && r.queries.len() == i.queries.len()
            && r.queries.iter().zip(&i.queries).all(|(rq, iq)| {
                rq == iq
                    || match (split_query(rq), split_query(iq)) {
                        (Some((rk, rv)), Some((ik, iv))) => {
                            rk == ik && same_value(query_key(ik), rv, iv)
                        }
                        _ => false,
                    }
            })
            && r.proplist == i.proplist
            && r.attributes.len() == i.attributes.len()
            && r.attributes
                .iter()
                .zip(&i.attributes)
                .all(|((rk, rv), (ik, iv))| rk == ik && same_value(ik, rv, iv))
    }
}

/// A query (without its `?`) as its operator and key, and its value:
/// `>key=v` → (`>key`, `v`).
fn split_query(query: &[u8]) -> Option<(&[u8], &[u8])> {
    let skip = usize::from(matches!(query.first(), Some(b'<' | b'>' | b'-')));
    let eq = skip + query[skip..].iter().position(|&b| b == b'=')?;
    Some((&query[..eq], &query[eq + 1..]))
}

/// A query's key without its operator.
fn query_key(operator_and_key: &[u8]) -> &[u8] {
    match operator_and_key {
        [b'<' | b'>' | b'-', key @ ..] => key,
        key => key,
    }
}

/// The router's answer to a wrong user or password.
fn refusal() -> Plan {
    Plan::Answer {
        replies: [&[&b"!trap"[..], REFUSAL][..], &[b"!done"]]
            .into_iter()
            .enumerate()
            .map(|(seq, words)| Recorded {
                after: Duration::ZERO,
                words: words.iter().map(|w| w.to_vec()).collect(),
                seq,
            })
            .collect(),
        end: End::Done,
        cancel: None,
    }
}

/// The words as a message may show them: secrets redacted.
fn show(words: &Words) -> String {
    let path = words.first().map(Vec::as_slice);
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let w = if i == 0 {
                w.as_slice().into()
            } else {
                secrets::redact_word(path, w)
            };
            String::from_utf8_lossy(&w).into_owned()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A command's words sorted into what matching compares.
#[derive(Debug, Default)]
struct Shape<'a> {
    path: &'a [u8],
    /// `=key=value`, sorted: their order carries no meaning.
    attributes: Vec<(&'a [u8], &'a [u8])>,
    /// `?…`, in order: their order is the query (`?=k=v` read as `?k=v`).
    queries: Vec<&'a [u8]>,
    /// `.proplist`, sorted.
    proplist: Vec<&'a [u8]>,
}

fn shape(words: &[Vec<u8>]) -> Shape<'_> {
    let mut s = Shape {
        path: words.first().map_or(&[][..], |w| &w[..]),
        ..Shape::default()
    };
    for word in words.iter().skip(1) {
        let list = word
            .strip_prefix(b"=.proplist=")
            .or_else(|| word.strip_prefix(b".proplist="));
        if let Some(list) = list {
            s.proplist = list
                .split(|&b| b == b',')
                .filter(|p| !p.is_empty())
                .collect();
        } else if let Some(body) = word.strip_prefix(b"=") {
            let eq = body.iter().position(|&b| b == b'=').unwrap_or(body.len());
            let value = body.get(eq + 1..).unwrap_or_default();
            s.attributes.push((&body[..eq], value));
        } else if let Some(query) = word.strip_prefix(b"?") {
            s.queries.push(query.strip_prefix(b"=").unwrap_or(query));
        }
    }
    s.attributes.sort_unstable();
    s.proplist.sort_unstable();
    s
}

/// How alike two commands are, for naming the closest one.
fn likeness(recorded: &[Vec<u8>], incoming: &[Vec<u8>]) -> usize {
    let (r, i) = (recorded.first(), incoming.first());
    let path_score = match (r, i) {
        (Some(r), Some(i)) if r == i => 1000,
        (Some(r), Some(i)) => 10 * r.iter().zip(i.iter()).take_while(|(a, b)| a == b).count(),
        _ => 0,
    };
    let shared = incoming
        .iter()
        .skip(1)
        .filter(|w| recorded.iter().skip(1).any(|r| r == *w))
        .count();
    path_score + shared
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# mikrotik-rs transcript 1
> 0.000 - /login =name=admin =password=<redacted>
< 0.001 - !done
> 0.010 a /interface/print ?type=ether =.proplist=name,mtu
< 0.011 a !re =name=ether1 =mtu=1500
< 0.011 a !done
> 0.020 b /interface/listen
< 0.030 b !re =name=ether1
> 0.040 c /cancel =tag=b
< 0.041 b !trap =category=2 =message=interrupted
< 0.041 c !done
< 0.090 b !done
> 0.100 d /interface/print ?type=ether =.proplist=name,mtu
< 0.101 d !re =name=ether1 =mtu=9000
< 0.101 d !done
> 0.200 - /quit
< 0.200 - !fatal "session terminated on request"
"#;

    fn replay() -> Replay {
        Replay::new(
            &Transcript::parse("t.txt", TEXT).unwrap(),
            false,
            ReplayMode::Strict,
            Vec::new(),
        )
    }

    fn command(words: &[&str]) -> Sentence {
        Sentence::from_words(words.iter().copied())
    }

    fn heads(replies: &[Recorded]) -> Vec<String> {
        replies
            .iter()
            .map(|r| String::from_utf8_lossy(&r.words[0]).into_owned())
            .collect()
    }

    #[test]
    fn matches_ignore_tags_and_attribute_order_and_go_in_order() {
        let replay = replay();
        assert!(replay.has_login);
        let mut used = Vec::new();
        let login = command(&["/login", "=password=anything", "=name=admin", ".tag=9"]);
        let Plan::Answer { replies, end, .. } = replay.plan(&login, &mut used) else {
            panic!("login matches")
        };
        assert_eq!((heads(&replies), end), (vec!["!done".into()], End::Done));
        let print = command(&[
            "/interface/print",
            ".tag=x",
            "=.proplist=mtu,name",
            "?type=ether",
        ]);
        let mtu = |plan: Plan| match plan {
            Plan::Answer { replies, .. } => {
                String::from_utf8_lossy(&replies[0].words[2]).into_owned()
            }
            Plan::Unmatched(m) => panic!("{}", String::from_utf8_lossy(&m)),
        };
        assert_eq!(mtu(replay.plan(&print, &mut used)), "=mtu=1500");
        assert_eq!(mtu(replay.plan(&print, &mut used)), "=mtu=9000");
        assert_eq!(
            mtu(replay.plan(&print, &mut used)),
            "=mtu=9000",
            "the last answers again"
        );
    }

    #[test]
    fn writes_of_one_path_answer_once_in_recorded_order() {
        let text = "\
> 0.000 a /ip/address/add =address=10.0.0.1/24
< 0.001 a !done =ret=*1
> 0.002 b /ip/address/add =address=10.0.0.2/24
< 0.003 b !done =ret=*2
> 0.004 c /ip/address/print
< 0.005 c !done
";
        let replay = Replay::new(
            &Transcript::parse("w.txt", text).unwrap(),
            false,
            ReplayMode::Strict,
            Vec::new(),
        );
        let message = |plan: Plan| match plan {
            Plan::Unmatched(m) => String::from_utf8(m).unwrap(),
            Plan::Answer { .. } => "answered".to_owned(),
        };
        let first = command(&["/ip/address/add", "=address=10.0.0.1/24"]);
        let second = command(&["/ip/address/add", "=address=10.0.0.2/24"]);
        let print = command(&["/ip/address/print"]);
        let mut used = Vec::new();
        let out_of_order = message(replay.plan(&second, &mut used));
        assert!(out_of_order.contains("sent before"), "{out_of_order}");
        assert_eq!(message(replay.plan(&first, &mut used)), "answered");
        assert_eq!(message(replay.plan(&second, &mut used)), "answered");
        let twice = message(replay.plan(&second, &mut used));
        assert!(
            twice.contains("sent twice") && twice.contains("w.txt"),
            "{twice}"
        );
        assert_eq!(message(replay.plan(&print, &mut used)), "answered");
        assert_eq!(
            message(replay.plan(&print, &mut used)),
            "answered",
            "a read again"
        );
    }

    #[test]
    fn a_cancelled_command_runs_until_cancelled_then_answers_as_recorded() {
        let replay = replay();
        let Plan::Answer {
            replies,
            end,
            cancel,
        } = replay.plan(&command(&["/interface/listen"]), &mut Vec::new())
        else {
            panic!("listen matches")
        };
        assert_eq!((heads(&replies), end), (vec!["!re".into()], End::Running));
        let cancel: Vec<_> = cancel
            .unwrap()
            .into_iter()
            .map(|(own, words)| (own, String::from_utf8_lossy(&words[0]).into_owned()))
            .collect();
        assert_eq!(
            cancel,
            [
                (false, "!trap".into()),
                (true, "!done".into()),
                (false, "!done".into())
            ]
        );
        let Plan::Answer { end, .. } = replay.plan(&command(&["/quit"]), &mut Vec::new()) else {
            panic!("quit matches")
        };
        assert_eq!(end, End::Fatal);
    }

    #[test]
    fn an_unmatched_command_names_the_transcript_and_the_closest() {
        let replay = replay();
        let Plan::Unmatched(message) = replay.plan(
            &command(&["/interface/print", "?type=vlan"]),
            &mut Vec::new(),
        ) else {
            panic!("nothing recorded matches")
        };
        let message = String::from_utf8(message).unwrap();
        assert!(message.contains("transcript t.txt"), "{message}");
        assert!(
            message
                .ends_with("closest recorded: `/interface/print ?type=ether =.proplist=name,mtu`"),
            "{message}"
        );
        // Same path but another attribute, or one attribute more: no match.
        for words in [
            &["/interface/print", "?type=ether", "=.proplist=name"][..],
            &[
                "/interface/print",
                "?type=ether",
                "=.proplist=name,mtu",
                "=detail=",
            ][..],
        ] {
            assert!(matches!(
                replay.plan(&command(words), &mut Vec::new()),
                Plan::Unmatched(_)
            ));
        }
    }
}
