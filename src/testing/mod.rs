//! A mock RouterOS API server on `127.0.0.1`, for testing code that talks to routers.
//!
//! Enabled by the `testing` feature. A [`MockRouter`] speaks the real wire
//! protocol byte for byte (as a RouterOS 7 router does, or RouterOS 6 with
//! [`MockRouterBuilder::routeros6`]): login (the 6.43+ form and the older
//! MD5 challenge), tags, interleaved replies of concurrent commands, the
//! `/cancel` reply order, `!empty` (7.18+), `!fatal`, `/quit`, in-memory
//! menus with `print`/`getall` (queries, `.proplist`, `count-only`, `follow`),
//! `add`/`set`/`remove`/`listen`, and streaming monitors. Your own menus
//! come with typed properties ([`MockMenu`]); a [`Recorder`] writes a
//! transcript of any session, real or mock, and the mock can replay it
//! ([`MockRouterBuilder::replay`]).
//!
//! It runs on its own background thread (async-io), so tests may use it from
//! Tokio, smol, async-std or plain threads: [`MockRouter::start`] binds a free
//! port and returns at once. Dropping the router closes every session.
//!
//! # Starting it
//!
//! ```no_run
//! use std::time::Duration;
//! use mikrotik_rs::testing::{MockRouter, Reply, Script};
//!
//! let router = MockRouter::builder()
//!     .user("admin", "secret")
//!     // Replace the built-in answer of a command path.
//!     .script(
//!         "/tool/fetch",
//!         Reply::new()
//!             .row([("status", "finished"), (".section", "0")])
//!             .into(),
//!     )
//!     // 200,000 identical rows, as fast as the socket takes them.
//!     .script("/log/print", Script::bulk(200_000, [("message", "hello")]))
//!     .monitor_interval(Duration::from_millis(100))
//!     .start();
//! let address = router.address(); // "127.0.0.1:<port>": connect your client here
//! # let _ = address;
//! ```
//!
//! # What it answers
//!
//! - Menus, preloaded with plausible data: `/interface` (ether1–ether5,
//!   bridge, vlan10), `/ip/address`, `/user`, and the single-row menus
//!   `/system/identity` and `/system/resource`. Rows of list menus carry
//!   `=.id=*N`; single-row menus have no ids (as on RouterOS). Changes made by
//!   one session are seen by every session (`listen`, `print =follow=`).
//!   Your own menus, with their rows and rules: [`MockRouterBuilder::menu`]
//!   and [`MockMenu`].
//! - **Every other menu of RouterOS**, from the command tree of the release
//!   it emulates (the `mikrotik-rs-schema` crate: 7.9 … 7.24, all packages;
//!   [`MockRouterBuilder::routeros_version`], default the newest, 7.24). A
//!   menu with `print` is an empty table, made on its first command: with
//!   `add`, a list (`/ip/firewall/filter`, `/interface/wireguard/peers`);
//!   without `add`, a list whose `set` takes `numbers`
//!   (`/interface/ethernet`, empty in the mock) or a single row whose `set`
//!   takes none (`/ip/dns`). Tables answer what the tree lists for them plus
//!   `listen` and `getall`: `print` (queries, `follow`, as above), `add`
//!   (any argument of the command; `disabled` stored as the flavour's
//!   `false` when left out), `set`, `remove`, `enable`/`disable` (the
//!   `disabled` property), `comment`, `unset` (`value-name`), `get`
//!   (`number`, `value-name` → `!done =ret=value`) and `move` (`numbers`
//!   before `destination`, or to the end). The built-in and your menus keep
//!   their own rules and also answer the tree's `enable`, `disable`,
//!   `comment`, `unset`, `get`, `move`.
//! - Commands of the tree with no table meaning answer by kind:
//!   `/system/reboot` and `/system/shutdown` close every connection
//!   without an answer (as routers do; new connections are accepted at
//!   once); `/ping` and `/tool/ping =address=…` send a row per interval
//!   (`seq`, `host`, `size`, `ttl`, `time`, `sent`, `received`,
//!   `packet-loss`, `min-rtt`, `avg-rtt`, `max-rtt`), `count` rows then
//!   `!done`, or until cancelled without `count`; a `monitor` other than the
//!   two below sends a row per item of `numbers` (only its `name`), once
//!   with `=once=`, else every interval with `.section`; any other command
//!   (`/ip/dns/cache/flush`, `/system/backup/save`, `export` of a menu or
//!   of the root, `/export`…) answers `!done`. A command naming rows of a
//!   table the mock holds (`numbers`, `number`: `/system/script/run
//!   number=nosuch`) traps `no such item` for a row that is not there.
//! - `print`/`getall`: queries (`?`, `?-`, `?=`, `?<`, `?>`, `?#`), `.proplist`,
//!   `count-only`, `follow`, `follow-only`, and `=interval=` (the rows again
//!   every interval, each with `=.section=N`, N counting cycles from 0).
//! - `add`/`set`/`remove`/`listen` on list menus; `set` and `listen` on
//!   single-row menus.
//! - `/interface/monitor-traffic =interface=ether1[,ether2…]` and
//!   `/interface/ethernet/monitor =numbers=ether1`: a row per interface per
//!   interval until cancelled, every row of cycle N ending in `=.section=N`;
//!   or one row per interface (no `.section`) and `!done` with `=once=`.
//!   Fields of `monitor-traffic`: `name`, `rx-packets-per-second`,
//!   `rx-bits-per-second`, `fp-rx-packets-per-second`, `fp-rx-bits-per-second`,
//!   `rx-drops-per-second`, `rx-errors-per-second`, `tx-packets-per-second`,
//!   `tx-bits-per-second`, `fp-tx-packets-per-second`, `fp-tx-bits-per-second`,
//!   `tx-drops-per-second`, `tx-queue-drops-per-second`, `tx-errors-per-second`
//!   (pseudo-random but repeatable per cycle; 0 on an interface that is not
//!   running). Fields of `ethernet/monitor`: `name`, `status` (`link-ok` or
//!   `no-link`), `auto-negotiation`, `rate` and `full-duplex` (only with a
//!   link), `tx-flow-control`, `rx-flow-control`, `advertising`.
//! - `/system/package/update/check-for-updates`: three progress rows
//!   (`channel`, `installed-version`, `status`, then `latest-version`), `!done`.
//! - `/login` (both forms), `/cancel` (with and without `=tag=`), `/quit`.
//!
//! # Behaviour on purpose
//!
//! These follow MikroTik's manual and captures from real routers:
//!
//! - Every reply carries the command's `.tag` right after the reply word.
//! - `!trap` is always followed by `!done`. `/cancel =tag=X`: X's trap
//!   (`=category=2 =message=interrupted`), the cancel's `!done`, X's `!done`.
//!   Cancelling an unknown or finished tag: a trap `no such command`, then
//!   the cancel's `!done`.
//! - Booleans: `true`/`false` on the RouterOS 7 flavour, `yes`/`no` on
//!   [`MockRouterBuilder::routeros6`], also `.dead`. A client may send either
//!   form: `add`/`set` store the flavour's words, and a query `?disabled=no`
//!   matches a row printed `false` (on both flavours).
//! - Every command of a menu of the tree is checked against the tree (the
//!   built-in menus such as `/ip/address` too, before their own rules): an
//!   argument it does not take (a name that is not UTF-8 included) → `!trap =message=unknown parameter <name>`
//!   (RouterOS 6: `unknown parameter`, without the name, as 6.x routers
//!   say); a value that breaks the argument's type hint, where the hint is
//!   exact (the same check `command!` makes; lenient where routers accept
//!   more than the hint says, like `address=192.168.88.1/24`) →
//!   `=category=1` and the router's words: `invalid value for argument
//!   <name>`, `invalid value of <name>, mac address required`, `input does
//!   not match any value of <name>` (an enumeration), `value of <name> out
//!   of range (<min>..<max>)`. The sources of these words are cited in
//!   `src/testing/words.rs`.
//! - `add`/`set` of the hand-built menus are checked against the menu's
//!   properties: an unknown (or read-only) name → `!trap =message=unknown
//!   parameter <name>`; `add`
//!   without a required one → `!trap =message=missing value(s) of
//!   argument(s) <names>`; a value of the wrong type → `!trap =category=1
//!   =message=invalid value for argument <name>` (a number out of range:
//!   `value of <name> out of range (<min>..<max>)`); an `interface` that no
//!   `/interface` row has → `!trap =category=1 =message=input does not match
//!   any value of interface` (the manual's example). Nothing is stored then.
//!   Built-in rules: `/interface` takes `name`, `mtu`, `l2mtu` (0–65535),
//!   `disabled`, `comment`; `/ip/address` requires `address` and an existing
//!   `interface`, takes `network`, `comment`, `disabled`; `/user` requires
//!   `name` and `group` (`full`, `read` or `write`), takes `address`,
//!   `comment`, `disabled` and a never-printed `password`.
//! - An unknown command path answers `!trap =category=0 =message=no such
//!   command or directory (<first unknown segment>)`, then `!trap
//!   =message=no such command prefix`, then `!done` (the 2013 wiki and
//!   RouterOS 7 captures), on both flavours. An unknown verb of a known menu
//!   (`/interface/explode`, `/system/identity/add`) is named the same way.
//! - [`MockRouterBuilder::empty_replies`] is RouterOS 7.18+ (it reports
//!   7.19.4): a print that matches nothing answers `!empty` then `!done`, and
//!   a `listen` or `follow` cancelled before it sent any row answers its
//!   trap, the cancel's `!done`, `!empty`, its `!done` (a RouterOS 7.24
//!   capture); with rows sent, the usual order.
//! - The RouterOS 6 flavour is one consistent router: 6.44.6 (long-term),
//!   which has both the 6.43 login and the MD5 challenge (removed in 6.45.1);
//!   a hAP board (`RB951Ui-2nD`, `mipsbe`, 64 MiB); `build-time` as
//!   `Sep/27/2019 09:25:59`. The RouterOS 7 flavour is an RB5009 (`arm64`)
//!   on 7.16 with `build-time` as `2024-09-20 13:00:27`. Ethernet rows carry
//!   `default-name`, `l2mtu`, `max-l2mtu`, `mac-address`, `fast-path`,
//!   `link-downs`.
//! - Commands before a successful login: `!fatal not logged in`; more than 32
//!   sentences before login: `!fatal`. `/quit`: `!fatal session terminated on
//!   request`, then the connection closes.
//! - A sentence that does not frame (a control byte, an absurd length):
//!   `!fatal protocol error: …`, then the connection closes.
//!
//! # Known differences from a real router
//!
//! - Menus of the tree start empty (a real router has default rows, e.g.
//!   its ethernet ports in `/interface/ethernet`), a single-row menu prints
//!   one row with only what was `set`, and no table knows the read-only
//!   properties a real `print` shows (`running`, `bytes`): the tree holds
//!   arguments, not printed properties. `add` requires nothing (the tree
//!   does not say which arguments are required) and takes any argument of
//!   the command. The tree has no RouterOS 6: the 6.x flavour answers the
//!   oldest covered tree (7.9), whose paths differ from 6.x in places
//!   (v6 `/routing/bgp/peer` is v7 `/routing/bgp/connection`);
//!   [`MockRouterBuilder::every_menu`]`(false)` turns the tree off.
//! - No API capture of `value of <name> out of range (…)` is known (the
//!   mock follows the console's words), and `input does not match any value
//!   of <name>` for a word outside an enumeration is a guess (the manual
//!   shows it for a name that matches no item).
//! - No command has side effects
//!   beyond its menu (adding an address adds no route; only its `network`,
//!   `actual-interface` and flags are filled in); ids are never reused and
//!   count from `*1` per menu.
//! - A hand-built menu without declared properties accepts any property and
//!   any value.
//! - Trap messages follow the manual and captures, but RouterOS words them
//!   differently across versions (some say only `unknown parameter`), and
//!   the category of `unknown parameter` and `missing value(s)` traps is
//!   not documented: the mock sends none.
//! - Queries compare numbers as numbers and everything else as bytes; no
//!   other type knowledge (IP ranges, durations) is applied. Boolean aliases
//!   match on both flavours.
//! - `/cancel` answers at once; a real router may send a few sentences of
//!   the cancelled command 2–47 ms later. Monitors start their first row at
//!   once and then wait the interval; `=interval=` of monitors is not read
//!   (the builder's [`monitor_interval`](MockRouterBuilder::monitor_interval)
//!   is).
//! - No `/ip service` limits (`max-sessions`), no permissions (policies),
//!   no idle timeouts; users are the builder's, not the `/user` menu's rows.
//! - API-SSL only with the TLS configuration you give
//!   ([`MockRouterBuilder::tls`], feature `tls`): no anonymous-DH mode.
//!
//! # Recording and replay
//!
//! [`DeviceBuilder::record`](crate::DeviceBuilder::record) with a
//! [`Recording`] writes every sentence of both directions, with its
//! direction, time offset and tag, to a text transcript
//! ([format](Transcript)): every connection of the device (plain or API-SSL,
//! the first and each reconnect's) into one transcript, each started by a
//! `# connection N` line ([`CONNECTION_MARKER`]); replay serves them one
//! after another. [`Recorder`] wraps a futures-io stream you open yourself,
//! for [`DeviceBuilder::connect_stream`](crate::DeviceBuilder::connect_stream);
//! for API-SSL, wrap the TLS stream so the transcript holds plaintext.
//!
//! # Secrets
//!
//! A transcript is made to be committed, so no secret is written: every
//! value the crate's one secrets policy ([`protocol::secrets`](crate::protocol::secrets))
//! calls secret is written as `<redacted>`, in commands and in the rows the
//! router prints back (a reply is judged by its command's menu). The policy
//! knows RouterOS 7.9–7.24's secret arguments (`password` and every
//! `*-password`, `secret`, `ipsec-secret`, `otp-secret`, `private-key`,
//! `preshared-key`, `*-pre-shared-key`, `passphrase`, `auth-key`,
//! `tcp-md5-key`, `encryption-key`, NTP's `key-val`, every script body (a
//! script's `source`, a scheduler's `on-event`, netwatch's `up-script`, PPP's
//! `on-up`, DHCP's `lease-script`, `/execute script=`, …), a SIM's `pin` and
//! the SNMP community's `name` in their menus; `tests/secrets_schema.rs`
//! walks every argument of the schema and fails on a secret-looking or
//! script-looking name it has not classified), and treats an unknown name
//! that looks secret-like as secret. Keys are compared without regard to
//! case; a query's operator is not part of its key. The `ret` of a `get`
//! whose `value-name` is secret is redacted. Add names of
//! your own with [`add_secret_name`](crate::protocol::secrets::add_secret_name)
//! (process-wide). The same policy hides secrets from `Command`'s and
//! replies' `Debug`, from decode errors and from replay's traps. The
//! `/login` password (or MD5 challenge response) is kept as a salted,
//! iterated hash (`<redacted:md5x10000:SALT:HASH>`, a random salt per
//! recording), so replay can refuse a wrong password; record against a test
//! account all the same, as a weak password can be guessed from its hash.
//!
//! # Replay
//!
//! [`MockRouterBuilder::replay`] serves a [`Transcript`] instead of the
//! menus. A command is matched by its path and attributes: tags are ignored,
//! `=` attributes may come in any order, `?` queries must come in the same
//! order, `.proplist` is compared as a set. Of several matching recorded
//! commands the first no connection of this router has replayed answers
//! (the order of the transcript; logins are taken per connection). Replies are replayed with the client's
//! tag (none if the client sent none), at once, or with the recorded delays
//! after [`MockRouterBuilder::replay_timing`]. A command the recording
//! cancelled (or that never ended) replays the rows recorded before its
//! `/cancel`, then runs until the client cancels it: its `/cancel` answers
//! the recorded sentences of both, in recorded order (tags rewritten). A
//! command nothing matches answers `!trap =category=0 =message=replay: no
//! command like `…` in transcript <name>; closest recorded: `…``, then
//! `!done` (secrets redacted in both). `/quit` and scripts keep their usual
//! behaviour; without a recorded login the builder's users apply.
//!
//! Replay is strict by default ([`ReplayMode::Strict`]), so a test catches
//! what a router would make of the code:
//! - each recorded write answers once per replaying router, over all its
//!   connections: a command that is not a read sent more often than the
//!   transcript has it is a trap `replay: `…` sent twice: transcript <name>
//!   records it once …` — the bug a retry after a reconnect (on a new
//!   connection) makes. A read is a command that changes nothing on the
//!   router: `print`, `get`, `getall`, `listen`, `export`, `read`, any
//!   `monitor…`, and the tools that only look (`ping`, `traceroute`,
//!   `torch`, `scan`, `ip-scan`, `mac-scan`, `frequency-monitor`,
//!   `bandwidth-test`, `flood-ping`, `profile`, `sniffer/quick`) — unless
//!   told to save a file (`=file=`, `=save-file=`: `export file=` is a
//!   write). A read sent again answers its last recording again;
//! - writes of one path answer in recorded order where the recording had
//!   one (the earlier finished before the later was sent): a write sent
//!   while such an earlier one of its path was not is a trap `replay: `…`
//!   sent before `…`, which transcript <name> records first`;
//! - `/login` must name the recorded user, and where the transcript keeps the
//!   hash of the password, give the same password: else the router's refusal
//!   (`invalid user name or password (6)`). A transcript written by hand
//!   with a bare `<redacted>` password accepts any;
//! - a recorded `<redacted>` value (of an attribute or a query) matches
//!   only a value the secrets policy
//!   calls secret for that command (a recorded `=private-key=<redacted>`
//!   matches any key; a hand-redacted `=address=<redacted>` matches
//!   nothing), unless you opt that key out with
//!   [`MockRouterBuilder::replay_any_value_for`].
//!
//! [`ReplayMode::RepeatsAndAnyLogin`] keeps what replay allowed before: a
//! command sent more often than recorded gets its last answer again, any
//! login is accepted, a redacted value matches any value.
//!
//! # Scripted replies
//!
//! [`Script`] replaces the built-in behaviour of one command path: fixed rows
//! with traps and `=ret=` ([`Reply`]), a cheap bulk stream ([`Script::Bulk`]),
//! silence, raw bytes for bad-input tests, `!fatal`, or a closure.
//!
//! # Fault injection
//!
//! - [`MockRouterBuilder::write_chunk_size`] / [`MockRouter::set_write_chunk_size`]:
//!   every write is split into pieces of N bytes (down to 1), each flushed.
//! - [`MockRouterBuilder::close_after_bytes`]: the connection closes after the
//!   session wrote N bytes of replies, counted from the end of the successful
//!   login (so a cut can fall mid-sentence of the first command's replies);
//!   [`MockRouterBuilder::close_after_bytes_from_start`] counts from the first byte.
//! - [`MockRouterBuilder::never_answer`]: accept, read, never write anything.
//! - [`MockRouter::set_silent`]: stop (or resume) answering without closing sockets.
//! - [`MockRouter::drop_connections`]: close every session now.
//! - [`MockRouter::stop_listening`] / [`MockRouter::start_listening`] /
//!   [`MockRouter::restart`]: go down as a rebooting router does (connects
//!   refused, sessions closed) and come back on the same port.
//! - [`MockRouter::blackhole`]: accept and never answer.
//! - [`MockRouter::set_password`]: change a user's password while running;
//!   [`MockRouter::login_attempts`] and [`MockRouter::logins_refused`] count logins.
//!
//! # API-SSL
//!
//! - `MockRouterBuilder::tls` (features `tls` or `tls-aws-lc-rs`): the one
//!   port speaks TLS with a server configuration you made (`tls_server_config`).
//! - With the `testing-tls` feature, `MockRouterBuilder::api_ssl` adds a
//!   second port for API-SSL, beside the plain one and sharing its menus. It
//!   presents the certificate assigned to the `api-ssl` service in
//!   `/ip/service`; with none (the default, as on a router fresh from the
//!   box) it answers every handshake with the alert a router without a
//!   certificate gives; while the service is `disabled` it closes every
//!   connection at once, presenting nothing. The mock's `/certificate/sign` signs for real, so a
//!   client can bootstrap a certificate over the plain port and then connect
//!   over API-SSL with its fingerprint. `MockRouterBuilder::api_ssl_self_signed`
//!   starts with a certificate already made and assigned:
//!   `MockRouter::api_ssl_tls_options` is pinned to it, and
//!   `MockRouter::api_ssl_fingerprint` / `api_ssl_certificate_pem` give it
//!   out, so a test needs no certificate code.
//!
//! # Observing the client
//!
//! Every sentence the router receives is logged ([`MockRouter::received`],
//! bounded by [`MockRouterBuilder::received_capacity`]); [`MockRouter::wait_for`]
//! waits for a condition on that log under any async runtime;
//! [`MockRouter::session_count`] and [`MockRouter::running_commands`] tell
//! what is still open.

#[cfg(feature = "testing-tls")]
mod api_ssl;
#[cfg(feature = "testing-tls")]
mod certificates;
mod control;
mod db;
// `add =place-before=` (desired state's ordered menus).
/// Not public API: built only for the fuzz targets and the tests that
/// replay their corpus (internal feature `__fuzz`); it changes at will.
#[cfg(feature = "__fuzz")]
#[doc(hidden)]
pub mod fuzz;
mod hints;
mod item;
mod ordered;
mod query;
mod record;
mod recording;
mod replay;
mod schema;
mod sealed;
mod session;
mod socket;
#[cfg(test)]
mod tests;
#[cfg(feature = "_tls")]
mod tls;
mod tree;
mod virtual_time;
mod words;

pub use virtual_time::VirtualTime;
mod transcript;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use async_io::{Async, Timer};

use crate::protocol::Sentence;
use crate::runtime::{BackgroundExecutor, BoxFuture, BoxedStream};
pub use record::{CONNECTION_MARKER, Recorder, TranscriptBuffer};
pub use recording::Recording;
pub use replay::ReplayMode;
pub use schema::{MockMenu, PropertyType, Validator};
pub use transcript::{Direction, Entry, REDACTED, TRANSCRIPT_HEADER, Transcript, TranscriptError};

pub(crate) use session::serve_session;
use socket::SharedSocket;
#[cfg(feature = "_tls")]
pub use tls::tls_server_config;

/// Locks a mutex, ignoring poisoning (the mock never panics while holding one).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The closure of [`Script::Custom`]: the received command in, the reply
/// sentences (each a list of words) out.
pub type ScriptFn = dyn Fn(&Sentence) -> Vec<Vec<Vec<u8>>> + Send + Sync;

/// A scripted answer to one command path, replacing the built-in behaviour.
///
/// Replies carry the command's `.tag` (right after the reply word) unless
/// noted otherwise.
#[derive(Clone)]
#[non_exhaustive]
pub enum Script {
    /// Fixed rows, then traps, then `!done` (with `=ret=` if set).
    Reply(Reply),
    /// `count` identical `!re` rows of `attributes`, then `!done`. The row is
    /// encoded once and written in large chunks: fast enough for benchmarks.
    Bulk {
        /// How many rows.
        count: usize,
        /// The attributes of every row, as `(key, value)`.
        attributes: Vec<(String, String)>,
    },
    /// Never answers the command (it counts as running until cancelled; a
    /// `/cancel` gets the usual interrupted trap and `!done`s).
    Silent,
    /// Writes exactly these bytes, nothing else (no tag is added). For
    /// bad-input tests: control bytes, absurd length prefixes, foreign tags.
    Raw(Vec<u8>),
    /// Writes exactly these bytes, then closes the connection: EOF at a
    /// chosen point (inside a length prefix, a word, between sentences).
    RawThenClose(Vec<u8>),
    /// Writes `!fatal` with this bare-word reason, then closes the connection.
    Fatal(String),
    /// Calls the closure with the received command; writes the sentences it
    /// returns (each a list of words) exactly, adding nothing, not even the tag.
    Custom(Arc<ScriptFn>),
}

impl Script {
    /// [`Script::Bulk`] from any `(key, value)` pairs.
    pub fn bulk<K: Into<String>, V: Into<String>>(
        count: usize,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self::Bulk {
            count,
            attributes: attributes
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// [`Script::Custom`] from a closure.
    pub fn custom(f: impl Fn(&Sentence) -> Vec<Vec<Vec<u8>>> + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(f))
    }

    /// A plain `!done`.
    pub fn done() -> Self {
        Self::Reply(Reply::new())
    }
}

impl From<Reply> for Script {
    fn from(reply: Reply) -> Self {
        Self::Reply(reply)
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reply(r) => f.debug_tuple("Reply").field(r).finish(),
            Self::Bulk { count, attributes } => f
                .debug_struct("Bulk")
                .field("count", count)
                .field("attributes", attributes)
                .finish(),
            Self::Silent => f.write_str("Silent"),
            Self::Raw(bytes) => f
                .debug_tuple("Raw")
                .field(&bytes.escape_ascii().to_string())
                .finish(),
            Self::RawThenClose(bytes) => f
                .debug_tuple("RawThenClose")
                .field(&bytes.escape_ascii().to_string())
                .finish(),
            Self::Fatal(reason) => f.debug_tuple("Fatal").field(reason).finish(),
            Self::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// Fixed replies: rows, then traps, then `!done`, optionally after a delay.
///
/// Built with [`Reply::new`] and its methods; more may be added in later
/// releases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reply {
    /// `!re` rows, each a list of `(key, value)` attributes as raw bytes.
    pub rows: Vec<Vec<(Vec<u8>, Vec<u8>)>>,
    /// `!trap`s: optional category and message.
    pub traps: Vec<(Option<u32>, Vec<u8>)>,
    /// The `=ret=` of the final `!done`.
    pub ret: Option<Vec<u8>>,
    /// Wait this long before answering (the command counts as running and
    /// can be cancelled meanwhile).
    pub delay: Option<Duration>,
}

/// `(key, value)` pairs as the owned bytes the mock stores.
pub(crate) fn owned_pairs<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.as_ref().to_vec(), v.as_ref().to_vec()))
        .collect()
}

impl Reply {
    /// A reply that is just `!done`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `!re` row (values are raw bytes: any encoding, even 0x00).
    pub fn row<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        mut self,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.rows.push(owned_pairs(attributes));
        self
    }

    /// Adds a `!trap` (sent after the rows, before `!done`).
    pub fn trap(mut self, category: Option<u32>, message: impl AsRef<[u8]>) -> Self {
        self.traps.push((category, message.as_ref().to_vec()));
        self
    }

    /// Sets the `=ret=` of `!done`.
    pub fn ret(mut self, value: impl AsRef<[u8]>) -> Self {
        self.ret = Some(value.as_ref().to_vec());
        self
    }

    /// Answers only after `delay`.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// One sentence the mock received from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedSentence {
    /// Which session it came on (numbered from 1 in accept order).
    pub session: u64,
    /// When it was decoded.
    pub at: Instant,
    /// The sentence as received.
    pub sentence: Sentence,
}

impl ReceivedSentence {
    /// The command path (first word), or `""` when it is not UTF-8.
    pub fn path(&self) -> &str {
        self.sentence
            .word(0)
            .and_then(|w| std::str::from_utf8(w).ok())
            .unwrap_or("")
    }

    /// The value of the first `=key=value` attribute named `key`.
    pub fn attribute(&self, key: &str) -> Option<&[u8]> {
        self.sentence.words().find_map(|w| {
            let rest = w.strip_prefix(b"=")?.strip_prefix(key.as_bytes())?;
            rest.strip_prefix(b"=")
        })
    }

    /// The `.tag` of the sentence, if any (and UTF-8).
    pub fn tag(&self) -> Option<&str> {
        self.sentence
            .words()
            .find_map(|w| w.strip_prefix(b".tag="))
            .and_then(|t| std::str::from_utf8(t).ok())
    }
}

/// Where [`MockRouterBuilder::close_after_bytes`] starts counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    AfterLogin(u64),
    FromStart(u64),
}

#[derive(Debug, Clone)]
struct Config {
    users: Vec<(String, String)>,
    legacy_login: bool,
    v6: bool,
    empty_replies: bool,
    monitor_interval: Duration,
    received_capacity: usize,
    menus: Vec<MockMenu>,
    replay: Option<Transcript>,
    replay_timing: bool,
    replay_mode: ReplayMode,
    replay_any_value: Vec<Vec<u8>>,
    /// The RouterOS release whose tree the mock answers (`None`: the newest
    /// covered, or the oldest on the RouterOS 6 flavour).
    release: Option<String>,
    /// Whether the menus of the tree answer at all (beside the hand-built ones).
    every_menu: bool,
}

/// State shared by the accept loop, every session, and the [`MockRouter`] handle.
pub(crate) struct Shared {
    config: Config,
    /// The command tree of the emulated release (`None`: only hand-built menus).
    tree: Option<tree::Tree>,
    replay: Option<replay::Replay>,
    scripts: RwLock<HashMap<Vec<u8>, Script>>,
    db: Mutex<db::Db>,
    received: Mutex<VecDeque<ReceivedSentence>>,
    received_version: AtomicU64,
    silent: AtomicBool,
    write_chunk: AtomicUsize,
    cut: Mutex<Option<Cut>>,
    sessions_open: AtomicUsize,
    sessions_total: AtomicU64,
    running: Arc<AtomicUsize>,
    kills: Mutex<HashMap<u64, async_channel::Sender<()>>>,
    shutdown: AtomicBool,
    /// Users and passwords now (`MockRouter::set_password` changes them).
    users: RwLock<Vec<(String, String)>>,
    login_attempts: AtomicU64,
    logins_refused: AtomicU64,
    #[cfg(feature = "testing-tls")]
    certificates: certificates::Settings,
    #[cfg(feature = "testing-tls")]
    keys: Mutex<certificates::Keys>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("sessions_open", &self.sessions_open)
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn log(&self, session: u64, sentence: &Sentence) {
        let capacity = self.config.received_capacity;
        if capacity == 0 {
            return;
        }
        let mut log = lock(&self.received);
        while log.len() >= capacity {
            log.pop_front();
        }
        log.push_back(ReceivedSentence {
            session,
            at: Instant::now(),
            sentence: sentence.clone(),
        });
        self.received_version.fetch_add(1, Ordering::Release);
    }

    fn script(&self, path: &[u8]) -> Option<Script> {
        let scripts = self.scripts.read().unwrap_or_else(|e| e.into_inner());
        scripts.get(path).cloned()
    }
}

/// Turns an accepted TCP connection into the stream a session runs over
/// (e.g. a TLS handshake); `None` drops the connection.
pub(crate) type Acceptor =
    Arc<dyn Fn(SharedSocket) -> BoxFuture<Option<BoxedStream>> + Send + Sync>;

/// Configures and starts a [`MockRouter`].
#[derive(Clone)]
pub struct MockRouterBuilder {
    config: Config,
    users_set: bool,
    scripts: HashMap<Vec<u8>, Script>,
    write_chunk: usize,
    cut: Option<Cut>,
    silent: bool,
    acceptor: Option<Acceptor>,
    #[cfg(feature = "testing-tls")]
    certificates: certificates::Settings,
}

impl fmt::Debug for MockRouterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockRouterBuilder")
            .field("config", &self.config)
            .field("scripts", &self.scripts)
            .field("write_chunk", &self.write_chunk)
            .field("cut", &self.cut)
            .field("silent", &self.silent)
            .field("acceptor", &self.acceptor.is_some())
            .finish()
    }
}

impl Default for MockRouterBuilder {
    fn default() -> Self {
        Self {
            config: Config {
                users: vec![("admin".into(), String::new())],
                legacy_login: false,
                v6: false,
                empty_replies: false,
                monitor_interval: Duration::from_secs(1),
                received_capacity: 50_000,
                menus: Vec::new(),
                replay: None,
                replay_timing: false,
                replay_mode: ReplayMode::Strict,
                replay_any_value: Vec::new(),
                release: None,
                every_menu: true,
            },
            users_set: false,
            scripts: HashMap::new(),
            write_chunk: 0,
            cut: None,
            silent: false,
            acceptor: None,
            #[cfg(feature = "testing-tls")]
            certificates: certificates::Settings::default(),
        }
    }
}

impl MockRouterBuilder {
    /// Accepts this user. Without any call, the only user is `admin` with an
    /// empty password; the first call replaces that default.
    pub fn user(mut self, name: impl Into<String>, password: impl Into<String>) -> Self {
        if !self.users_set {
            self.config.users.clear();
            self.users_set = true;
        }
        let name = name.into();
        self.config.users.retain(|(n, _)| *n != name);
        self.config.users.push((name, password.into()));
        self
    }

    /// Behaves like a router before 6.43: every `/login` without a
    /// `=response=` gets `!done =ret=<challenge>`, and only the MD5
    /// challenge–response logs in.
    pub fn legacy_login(mut self, on: bool) -> Self {
        self.config.legacy_login = on;
        self
    }

    /// Speaks like RouterOS 6: booleans are `yes`/`no` (also `=.dead=yes`).
    pub fn routeros6(mut self, on: bool) -> Self {
        self.config.v6 = on;
        self
    }

    /// Behaves like RouterOS 7.18+: a print that matches nothing answers
    /// `!empty` then `!done` (instead of a plain `!done`).
    pub fn empty_replies(mut self, on: bool) -> Self {
        self.config.empty_replies = on;
        self
    }

    /// Emulates RouterOS `release` (e.g. `"7.16"` or `"7.16.2"`; any release
    /// 7.9 … 7.24): its command tree decides which menus, commands and
    /// arguments exist, `/system/resource` reports it (and
    /// `check-for-updates` as installed, 7.24 as the latest), and from 7.18 on it
    /// answers `!empty` (as [`empty_replies`](Self::empty_replies), which a
    /// later call may still change). A release candidate or beta (`"7.20rc1"`)
    /// is its minor release for both (7.20), and `/system/resource` reports
    /// it as `7.20rc1 (testing)`. Default: the newest covered release's
    /// tree (the oldest, 7.9, on the [`routeros6`](Self::routeros6)
    /// flavour), with the version figures described in the module docs.
    ///
    /// [`start`](Self::start) panics and [`try_start`](Self::try_start)
    /// fails with [`io::ErrorKind::InvalidInput`] for a release the tree
    /// does not cover.
    pub fn routeros_version(mut self, release: impl Into<String>) -> Self {
        let release = release.into();
        // The same reading as the tree's choice (`7.20rc1` is 7.20).
        self.config.empty_replies =
            mikrotik_rs_schema::minor_version(&release).is_some_and(|version| version >= (7, 18));
        self.config.release = Some(release);
        self
    }

    /// Whether every menu of the RouterOS tree answers (default `true`): a
    /// menu with `print` is a table, other commands answer as their kind
    /// does (see the module docs). With `false`, only the built-in menus
    /// and yours exist, and everything else is an unknown command.
    pub fn every_menu(mut self, on: bool) -> Self {
        self.config.every_menu = on;
        self
    }

    /// The interval of streaming monitors (default one second).
    pub fn monitor_interval(mut self, interval: Duration) -> Self {
        self.config.monitor_interval = interval;
        self
    }

    /// Answers `path` (e.g. `/interface/print`) with `script` instead of the
    /// built-in behaviour. `/login` may be scripted too.
    pub fn script(mut self, path: impl AsRef<[u8]>, script: Script) -> Self {
        self.scripts.insert(path.as_ref().to_vec(), script);
        self
    }

    /// Adds a menu of your own (e.g. `/ip/firewall/address-list`) with its
    /// rows and, optionally, the properties it accepts; it answers `print`,
    /// `getall`, `add`, `set`, `remove`, `listen` and `print =follow=` like
    /// the built-in ones. A built-in menu of the same path is replaced, and
    /// a menu of the RouterOS tree at that path answers by your rules instead.
    pub fn menu(mut self, menu: MockMenu) -> Self {
        self.config.menus.retain(|m| m.path != menu.path);
        self.config.menus.push(menu);
        self
    }

    /// Serves a recorded session: every command is answered with the
    /// replies recorded for the same command (path and attributes; tags
    /// ignored), with the client's tag. See the [module docs](self#replay).
    pub fn replay(mut self, transcript: Transcript) -> Self {
        self.config.replay = Some(transcript);
        self
    }

    /// With [`replay`](Self::replay): waits between replies as long as the
    /// recording did (default: answers at once).
    pub fn replay_timing(mut self, keep: bool) -> Self {
        self.config.replay_timing = keep;
        self
    }

    /// With [`replay`](Self::replay): how strictly the client is held to
    /// the transcript (default [`ReplayMode::Strict`]).
    pub fn replay_mode(mut self, mode: ReplayMode) -> Self {
        self.config.replay_mode = mode;
        self
    }

    /// With [`replay`](Self::replay): a `<redacted>` recorded value of `key`
    /// matches any value, even where the secrets policy does not call `key`
    /// secret (a value you redacted by hand, or under a name you added with
    /// [`add_secret_name`](crate::protocol::secrets::add_secret_name) when
    /// recording but not when replaying).
    pub fn replay_any_value_for(mut self, key: impl AsRef<[u8]>) -> Self {
        self.config.replay_any_value.push(key.as_ref().to_vec());
        self
    }

    /// Splits every write into pieces of `bytes` (at least 1), each flushed.
    pub fn write_chunk_size(mut self, bytes: usize) -> Self {
        self.write_chunk = bytes.max(1);
        self
    }

    /// Closes each connection once the session has written `bytes` bytes of
    /// replies counted from the end of its successful login (the login's
    /// `!done` excluded). The cut may fall anywhere, even inside a prefix.
    pub fn close_after_bytes(mut self, bytes: u64) -> Self {
        self.cut = Some(Cut::AfterLogin(bytes));
        self
    }

    /// Like [`close_after_bytes`](Self::close_after_bytes), counted from the
    /// first byte the session writes (login replies included).
    pub fn close_after_bytes_from_start(mut self, bytes: u64) -> Self {
        self.cut = Some(Cut::FromStart(bytes));
        self
    }

    /// Accepts connections and reads (and logs) what clients send, but never
    /// writes a byte, not even to a login: for connect and login timeouts.
    /// [`MockRouter::set_silent`]`(false)` turns answering on again.
    pub fn never_answer(mut self) -> Self {
        self.silent = true;
        self
    }

    /// How many received sentences the log keeps (oldest dropped first;
    /// default 50,000; 0 keeps none).
    pub fn received_capacity(mut self, sentences: usize) -> Self {
        self.config.received_capacity = sentences;
        self
    }

    /// Wraps every accepted connection before its session starts: the entry
    /// point for a TLS (API-SSL) mock. Sessions then run over the returned
    /// stream exactly as over plain TCP.
    #[cfg_attr(not(feature = "_tls"), allow(dead_code))]
    pub(crate) fn acceptor(mut self, acceptor: Acceptor) -> Self {
        self.acceptor = Some(acceptor);
        self
    }

    /// Binds `127.0.0.1:0` and starts serving on a background thread.
    ///
    /// # Panics
    /// If no loopback port can be bound, or the release given to
    /// [`routeros_version`](Self::routeros_version) is not covered (use
    /// [`try_start`](Self::try_start) to get the error instead).
    pub fn start(self) -> MockRouter {
        match self.try_start() {
            Ok(router) => router,
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => panic!("{e}"),
            Err(e) => panic!("the mock router could not listen on 127.0.0.1: {e}"),
        }
    }

    /// Binds `127.0.0.1:0` and starts serving on a background thread.
    pub fn try_start(self) -> io::Result<MockRouter> {
        let listener = bind_loopback()?;
        let addr = listener.get_ref().local_addr()?;
        let v6 = self.config.v6;
        let tree = match (&self.config.release, self.config.every_menu) {
            (_, false) => None,
            (Some(release), true) => Some(tree::Tree::of(release).ok_or_else(|| {
                let message = format!(
                    "the mock router knows RouterOS {} … {}, not {release}",
                    tree::Tree::oldest().release(),
                    tree::Tree::newest().release()
                );
                io::Error::new(io::ErrorKind::InvalidInput, message)
            })?),
            (None, true) if v6 => Some(tree::Tree::oldest()),
            (None, true) => Some(tree::Tree::newest()),
        };
        let mut db = db::Db::preloaded(v6, self.config.empty_replies);
        if let Some(release) = &self.config.release {
            let version = format!("{release} ({})", channel(release));
            let _ = db.set(
                "/system/resource",
                b"",
                &[(b"version".to_vec(), version.into_bytes())],
            );
        }
        #[cfg(feature = "testing-tls")]
        certificates::preload(&mut db, v6);
        for menu in &self.config.menus {
            db.register(menu.clone());
        }
        let replay = self.config.replay.as_ref().map(|t| {
            replay::Replay::new(
                t,
                self.config.replay_timing,
                self.config.replay_mode,
                self.config.replay_any_value.clone(),
            )
        });
        let shared = Arc::new(Shared {
            tree,
            replay,
            users: RwLock::new(self.config.users.clone()),
            login_attempts: AtomicU64::new(0),
            logins_refused: AtomicU64::new(0),
            config: self.config,
            scripts: RwLock::new(self.scripts),
            db: Mutex::new(db),
            received: Mutex::new(VecDeque::new()),
            received_version: AtomicU64::new(0),
            silent: AtomicBool::new(self.silent),
            write_chunk: AtomicUsize::new(self.write_chunk),
            cut: Mutex::new(self.cut),
            sessions_open: AtomicUsize::new(0),
            sessions_total: AtomicU64::new(0),
            running: Arc::new(AtomicUsize::new(0)),
            kills: Mutex::new(HashMap::new()),
            shutdown: AtomicBool::new(false),
            #[cfg(feature = "testing-tls")]
            certificates: self.certificates,
            #[cfg(feature = "testing-tls")]
            keys: Mutex::new(certificates::Keys::default()),
        });
        let executor = BackgroundExecutor::start("mikrotik-mock");
        let (stop, stopped) = async_channel::bounded::<()>(1);
        #[cfg(feature = "testing-tls")]
        let api_ssl_addr = api_ssl::start(&shared, &executor, &stopped)?;
        #[cfg(not(feature = "testing-tls"))]
        let api_ssl_addr = {
            // Only the API-SSL port listens for the stop signal.
            drop(stopped);
            None
        };
        let listening = control::listen(listener, &shared, &executor, self.acceptor.clone());
        Ok(MockRouter {
            addr,
            api_ssl_addr,
            shared,
            listening: Mutex::new(Some(listening)),
            reserved: Mutex::new(None),
            acceptor: self.acceptor,
            _stop: stop,
            _executor: executor,
        })
    }
}

/// A listening socket on `127.0.0.1` and a free port.
fn bind_loopback() -> io::Result<Async<TcpListener>> {
    control::bind(0)
}

async fn accept_loop(
    listener: Async<TcpListener>,
    shared: Arc<Shared>,
    stopped: async_channel::Receiver<()>,
    executor: BackgroundExecutor,
    acceptor: Option<Acceptor>,
) {
    let accept = async {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.get_ref().set_nodelay(true);
                    let shared = Arc::clone(&shared);
                    let socket = SharedSocket::new(stream);
                    match &acceptor {
                        None => {
                            executor.spawn(Box::pin(serve_session(socket.clone(), socket, shared)))
                        }
                        Some(acceptor) => {
                            let handshake = acceptor(socket.clone());
                            executor.spawn(Box::pin(async move {
                                if let Some(stream) = handshake.await {
                                    serve_session(stream, socket, shared).await;
                                }
                            }));
                        }
                    }
                }
                // Out of descriptors, or a connection reset before accept: go on.
                Err(_) => {
                    Timer::after(Duration::from_millis(5)).await;
                }
            }
        }
    };
    session::race(accept, async {
        let _ = stopped.recv().await;
    })
    .await;
}

/// A mock RouterOS API server on `127.0.0.1`; see the [module docs](self).
///
/// Dropping it stops accepting connections and closes every session.
pub struct MockRouter {
    addr: SocketAddr,
    /// The API-SSL listener's address (feature `testing-tls`).
    api_ssl_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    /// The plain port's accept loop (`None` while stopped).
    listening: Mutex<Option<control::Listening>>,
    /// What wraps each accepted connection, kept for a restart.
    acceptor: Option<Acceptor>,
    /// The port, held while not listening (see `control.rs`).
    reserved: Mutex<Option<socket2::Socket>>,
    _stop: async_channel::Sender<()>,
    _executor: BackgroundExecutor,
}

impl fmt::Debug for MockRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockRouter")
            .field("addr", &self.addr)
            .field("api_ssl_addr", &self.api_ssl_addr)
            .field("sessions", &self.session_count())
            .field("running_commands", &self.running_commands())
            .finish()
    }
}

impl Drop for MockRouter {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.drop_connections();
    }
}

impl MockRouter {
    /// Starts a router with the default settings (user `admin`, empty password).
    pub fn start() -> Self {
        Self::builder().start()
    }

    /// A builder for the other settings.
    pub fn builder() -> MockRouterBuilder {
        MockRouterBuilder::default()
    }

    /// The address it listens on (`127.0.0.1`, a free port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address as `"127.0.0.1:<port>"`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every sentence received (all sessions, in arrival order), up to the
    /// configured capacity.
    pub fn received(&self) -> Vec<ReceivedSentence> {
        lock(&self.shared.received).iter().cloned().collect()
    }

    /// The command paths of every sentence received, in order.
    pub fn received_paths(&self) -> Vec<String> {
        lock(&self.shared.received)
            .iter()
            .map(|r| r.path().to_owned())
            .collect()
    }

    /// How many of the sentences received have the command path `path`.
    pub fn received_count(&self, path: &str) -> usize {
        lock(&self.shared.received)
            .iter()
            .filter(|r| r.path() == path)
            .count()
    }

    /// Forgets every received sentence.
    pub fn clear_received(&self) {
        lock(&self.shared.received).clear();
        self.shared.received_version.fetch_add(1, Ordering::Release);
    }

    /// Waits until `predicate` holds for the received log, or `timeout`
    /// passes; returns whether it held. Works under any async runtime.
    pub async fn wait_for<F>(&self, mut predicate: F, timeout: Duration) -> bool
    where
        F: FnMut(&[ReceivedSentence]) -> bool,
    {
        // A timeout beyond what the clock can hold (`Duration::MAX`) waits forever.
        let deadline = Instant::now().checked_add(timeout);
        let mut seen = None;
        loop {
            let version = self.shared.received_version.load(Ordering::Acquire);
            if seen != Some(version) {
                seen = Some(version);
                let mut log = lock(&self.shared.received);
                if predicate(log.make_contiguous()) {
                    return true;
                }
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return false;
            }
            Timer::after(Duration::from_millis(1)).await;
        }
    }

    /// The RouterOS release whose command tree the mock answers (e.g.
    /// `"7.24"`), `None` with [`MockRouterBuilder::every_menu`]`(false)`.
    pub fn routeros_release(&self) -> Option<&'static str> {
        self.shared.tree.map(|tree| tree.release())
    }

    /// Sessions currently open.
    pub fn session_count(&self) -> usize {
        self.shared.sessions_open.load(Ordering::SeqCst)
    }

    /// Sessions accepted since start.
    pub fn sessions_accepted(&self) -> u64 {
        self.shared.sessions_total.load(Ordering::SeqCst)
    }

    /// Commands still running, over all sessions: streaming commands
    /// (`listen`, `follow`, monitors, bulk or delayed scripts) and
    /// [`Script::Silent`] ones that have not ended or been cancelled.
    pub fn running_commands(&self) -> usize {
        self.shared.running.load(Ordering::SeqCst)
    }

    /// Stops (`true`) or resumes answering, without closing anything:
    /// received sentences are logged but not executed, and pending output is
    /// discarded while silent.
    pub fn set_silent(&self, silent: bool) {
        self.shared.silent.store(silent, Ordering::SeqCst);
    }

    /// Splits every later write into pieces of `bytes` (`None`: whole writes).
    pub fn set_write_chunk_size(&self, bytes: Option<usize>) {
        let n = bytes.map_or(0, |b| b.max(1));
        self.shared.write_chunk.store(n, Ordering::SeqCst);
    }

    /// Like [`MockRouterBuilder::close_after_bytes`], for sessions accepted
    /// from now on (`None` turns it off).
    pub fn set_close_after_bytes(&self, bytes: Option<u64>) {
        *lock(&self.shared.cut) = bytes.map(Cut::AfterLogin);
    }

    /// Adds or replaces the script of `path` (for commands received from now on).
    pub fn set_script(&self, path: impl AsRef<[u8]>, script: Script) {
        let mut scripts = self
            .shared
            .scripts
            .write()
            .unwrap_or_else(|e| e.into_inner());
        scripts.insert(path.as_ref().to_vec(), script);
    }

    /// Removes the script of `path`, restoring the built-in behaviour.
    pub fn remove_script(&self, path: impl AsRef<[u8]>) {
        let mut scripts = self
            .shared
            .scripts
            .write()
            .unwrap_or_else(|e| e.into_inner());
        scripts.remove(path.as_ref());
    }

    /// Closes every open session now (no `!fatal`, just the TCP close).
    /// New connections are still accepted.
    pub fn drop_connections(&self) {
        let kills = std::mem::take(&mut *lock(&self.shared.kills));
        drop(kills);
    }

    /// The menus, with `menu` created first if it is a table of the tree
    /// that no command has touched yet.
    fn db_with(&self, menu: &str) -> MutexGuard<'_, db::Db> {
        let mut db = lock(&self.shared.db);
        if let Some(kind) = self.shared.tree.and_then(|tree| tree.menu_kind(menu)) {
            db.ensure(menu, kind == tree::MenuKind::Single);
        }
        db
    }

    /// Adds a row to a list menu (e.g. `/interface`, `/ip/firewall/filter`)
    /// as if a client had; every `listen` sees it. Returns the new id, or
    /// `None` if the menu is unknown, single-row, or the name is taken.
    pub fn add_item<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        menu: &str,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) -> Option<String> {
        let attrs = owned_pairs(attributes);
        let id = self.db_with(menu).add(menu, &attrs).ok()?;
        Some(String::from_utf8_lossy(&id).into_owned())
    }

    /// Sets attributes of the row `id` (an id like `*1` or a name) of `menu`;
    /// returns whether it exists.
    pub fn set_item<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        menu: &str,
        id: &str,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) -> bool {
        let attrs = owned_pairs(attributes);
        self.db_with(menu).set(menu, id.as_bytes(), &attrs).is_ok()
    }

    /// Removes the row `id` of `menu`; returns whether it existed.
    pub fn remove_item(&self, menu: &str, id: &str) -> bool {
        lock(&self.shared.db).remove(menu, id.as_bytes()).is_ok()
    }

    /// The rows of `menu` as `(key, value)` lists (`.id` first on list menus).
    pub fn items(&self, menu: &str) -> Vec<Vec<(String, Vec<u8>)>> {
        let db = lock(&self.shared.db);
        db.menus.get(menu).map_or_else(Vec::new, |m| {
            m.items
                .iter()
                .map(|item| {
                    item.attrs()
                        .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.to_vec()))
                        .collect()
                })
                .collect()
        })
    }
}

/// The update channel RouterOS names after its version in `/system/resource`:
/// release candidates and betas come from `testing`, the rest from `stable`.
fn channel(release: &str) -> &'static str {
    if release.contains("rc") || release.contains("beta") {
        "testing"
    } else {
        "stable"
    }
}
