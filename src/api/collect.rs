//! Running a command to its end: [`MikrotikDevice::collect`] and [`MikrotikDevice::run`].

use crate::connection::{BufferPolicy, ResponseStream};
use crate::protocol::command::Command;
use crate::protocol::{CommandResponse, ReplyResponse, TrapResponse};
use crate::{Error, MikrotikDevice, Result};

/// Everything a finished command returned: its `!re` rows and the `=ret=` of its `!done`.
///
/// `!empty` (RouterOS 7.18+) and no rows at all look the same here: `rows` is empty.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Collected {
    /// The `!re` rows, in the order the router sent them.
    pub rows: Vec<ReplyResponse>,
    /// The `=ret=` of `!done`: the new id after `add`, the count of
    /// `count-only`, a script's `:return` (`None` when the router sent none).
    pub ret: Option<String>,
}

/// `ret` is shown only when it is an id or a count (the
/// [secrets policy](crate::protocol::secrets::ret_may_be_shown)): a `get`
/// may have read a secret back.
impl std::fmt::Debug for Collected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ret = self.ret.as_deref().map(|ret| {
            if crate::protocol::secrets::ret_may_be_shown(ret.as_bytes()) {
                ret
            } else {
                "<redacted>"
            }
        });
        f.debug_struct("Collected")
            .field("rows", &self.rows)
            .field("ret", &ret)
            .finish()
    }
}

impl Collected {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the command returned no rows (including `!empty`).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows, dropping `ret`.
    pub fn into_rows(self) -> Vec<ReplyResponse> {
        self.rows
    }

    /// Decodes every row into `T` (feature `serde`; see [`from_reply`](super::from_reply)
    /// for how keys and values map).
    ///
    /// The first row that does not decode fails the whole call with
    /// [`Error::Decode`], naming the key and value.
    #[cfg(feature = "serde")]
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<T>> {
        self.rows.iter().map(super::from_reply).collect()
    }
}

impl IntoIterator for Collected {
    type Item = ReplyResponse;
    type IntoIter = std::vec::IntoIter<ReplyResponse>;

    fn into_iter(self) -> Self::IntoIter {
        self.rows.into_iter()
    }
}

impl<'a> IntoIterator for &'a Collected {
    type Item = &'a ReplyResponse;
    type IntoIter = std::slice::Iter<'a, ReplyResponse>;

    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

/// The outcome of reading one reply of a command that is read to its end.
pub(crate) enum Step {
    /// A data row.
    Row(ReplyResponse),
    /// The command is over: its `!done` (`Ok`) or its traps / a fatal error.
    Done(Result<Option<String>>),
    /// Nothing to hand out (an `!empty`, or a trap kept until `!done`).
    Skip,
}

/// Folds one item of a response stream, keeping traps until `!done` arrives:
/// RouterOS may send several `!trap`s before the one `!done` of a command.
///
/// A deadline that hits after a trap ends it with the traps, not the timeout:
/// the router has said why the command failed, only its `!done` is missing.
pub(crate) fn step(item: Result<CommandResponse>, traps: &mut Vec<TrapResponse>) -> Step {
    match item {
        Err(Error::Timeout { .. }) if !traps.is_empty() => {
            Step::Done(Err(Error::Trap(std::mem::take(traps).into())))
        }
        Err(error) => Step::Done(Err(error)),
        Ok(CommandResponse::Reply(row)) => Step::Row(row),
        Ok(CommandResponse::Trap(trap)) => {
            traps.push(trap);
            Step::Skip
        }
        Ok(CommandResponse::Empty(_)) => Step::Skip,
        Ok(CommandResponse::Done(done)) => Step::Done(if traps.is_empty() {
            Ok(done.ret().map(str::to_owned))
        } else {
            Err(Error::Trap(std::mem::take(traps).into()))
        }),
        Ok(CommandResponse::Fatal(reason)) => Step::Done(Err(Error::Fatal(reason.into()))),
    }
}

/// A command's path, kept while it runs to name it in a trap's error: one
/// `collect` per item of a 10,000-item apply, so a path of RouterOS's
/// length is kept inline, and made text only when a trap needs it.
struct PathNote {
    inline: [u8; 64],
    len: usize,
    long: Option<Box<[u8]>>,
}

impl PathNote {
    fn of(command: &Command) -> Self {
        let word = first_word(command);
        let mut note = Self {
            inline: [0; 64],
            len: word.len(),
            long: None,
        };
        match note.inline.get_mut(..word.len()) {
            Some(inline) => inline.copy_from_slice(word),
            None => note.long = Some(word.into()),
        }
        note
    }

    fn text(&self) -> String {
        let bytes = match &self.long {
            Some(long) => long,
            None => &self.inline[..self.len],
        };
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// The command's path (its first word), to name it in a trap's error: one
/// small allocation, where `Command::path` decodes every word.
pub(crate) fn path_of(command: &Command) -> String {
    String::from_utf8_lossy(first_word(command)).into_owned()
}

/// The bytes of `command`'s first word (its path); empty if it has none.
fn first_word(command: &Command) -> &[u8] {
    let bytes = command.as_bytes();
    match crate::protocol::decode_length(bytes) {
        Ok(Some((len, prefix))) => bytes.get(prefix..prefix + len as usize),
        _ => None,
    }
    .unwrap_or_default()
}

/// Reads `stream` to its end, handing each row to `on_row`; the `=ret=`.
async fn read_each(
    device: &MikrotikDevice,
    mut stream: ResponseStream,
    mut on_row: impl FnMut(ReplyResponse),
) -> Result<Option<String>> {
    let mut traps = Vec::new();
    while let Some(item) = stream.recv().await {
        match step(item, &mut traps) {
            Step::Row(row) => on_row(row),
            Step::Skip => {}
            Step::Done(ret) => return ret,
        }
    }
    // A stream ends without its last reply only when the actor went away,
    // which records why first; failing that, only this side ended it.
    Err(device.closed_reason().unwrap_or(Error::Closed))
}

impl MikrotikDevice {
    /// Runs `command` to its end and returns its rows and `=ret=`.
    ///
    /// - `!trap` → [`Error::Trap`] with every trap of the command (RouterOS may
    ///   send several before its `!done`, which is awaited); if the command's
    ///   deadline ([`Command::with_timeout`] or the device's command timeout)
    ///   passes after a trap but before `!done`, still [`Error::Trap`] with the
    ///   traps seen, since the router's message says more than the timeout
    ///   (the command is cancelled on the router as on any timeout);
    /// - `!empty` → no rows;
    /// - connection errors, timeouts and `!fatal` → that error.
    ///
    /// All rows are kept in memory, so the command must end by itself: use
    /// a stream ([`send_command`](Self::send_command) or
    /// [`Menu::listen`](super::Menu::listen)) for `listen`, `follow` and monitors.
    /// Replies are buffered without bound while they are read, whatever the
    /// device's [`BufferPolicy`], so no row is lost.
    ///
    /// Cancel safety: dropping the future cancels the command on the router.
    ///
    /// ```no_run
    /// # async fn demo(device: mikrotik_rs::MikrotikDevice) -> mikrotik_rs::Result<()> {
    /// use mikrotik_rs::protocol::command::CommandBuilder;
    /// let found = device
    ///     .collect(CommandBuilder::new().command("/interface/print").build())
    ///     .await?;
    /// for row in &found {
    ///     println!("{:?}", row.get("name"));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn collect(&self, command: impl Into<Command>) -> Result<Collected> {
        let mut rows = Vec::new();
        let ret = self.each_row(command, |row| rows.push(row)).await?;
        Ok(Collected { rows, ret })
    }

    /// [`collect`](Self::collect), each row handed to `on_row` as it
    /// arrives instead of kept: for a caller that works through the rows
    /// while the rest are still on their way (a desired-state plan).
    pub(crate) async fn each_row(
        &self,
        command: impl Into<Command>,
        on_row: impl FnMut(ReplyResponse),
    ) -> Result<Option<String>> {
        let command = command.into();
        // For a trap's error message: which command the router refused.
        let path = PathNote::of(&command);
        let stream = self
            .send_command_with(command, BufferPolicy::Unbounded)
            .await?;
        read_each(self, stream, on_row)
            .await
            .map_err(|error| error.in_command(&path.text()))
    }

    /// Runs `command` to its end and returns only the `=ret=` of its `!done`
    /// (rows are dropped). Errors as [`collect`](Self::collect).
    ///
    /// For commands that act rather than print: `/system/script/run`,
    /// `/ip/address/add` (the new id), `print count-only` (the count).
    pub async fn run(&self, command: impl Into<Command>) -> Result<Option<String>> {
        self.collect(command).await.map(|collected| collected.ret)
    }

    /// Runs `command` to its end and decodes each row into `T` (feature `serde`).
    ///
    /// See [`from_reply`](super::from_reply) for the RouterOS conventions it
    /// follows; a value that does not fit fails the call with [`Error::Decode`].
    #[cfg(feature = "serde")]
    pub async fn collect_typed<T: serde::de::DeserializeOwned>(
        &self,
        command: impl Into<Command>,
    ) -> Result<Vec<T>> {
        self.collect(command).await?.deserialize()
    }

    /// Renamed [`collect_typed`](Self::collect_typed), as on a menu's print.
    #[cfg(feature = "serde")]
    #[deprecated(
        since = "0.9.0",
        note = "renamed `collect_typed`, as `Print::collect_typed`"
    )]
    pub async fn collect_as<T: serde::de::DeserializeOwned>(
        &self,
        command: impl Into<Command>,
    ) -> Result<Vec<T>> {
        self.collect_typed(command).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TimeoutKind;
    use crate::protocol::Sentence;

    const TAG: &str = ".tag=0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11";

    fn reply(words: &[&str]) -> Result<CommandResponse> {
        let mut all = words.to_vec();
        all.push(TAG);
        Ok(CommandResponse::parse(Sentence::from_words(all)).unwrap())
    }

    fn fold(items: Vec<Result<CommandResponse>>) -> Result<Collected> {
        let mut rows = Vec::new();
        let mut traps = Vec::new();
        for item in items {
            match step(item, &mut traps) {
                Step::Row(row) => rows.push(row),
                Step::Skip => {}
                Step::Done(ret) => return ret.map(|ret| Collected { rows, ret }),
            }
        }
        panic!("no end")
    }

    #[test]
    fn path_of_is_the_first_word() {
        use crate::protocol::command::CommandBuilder;
        let command = CommandBuilder::new()
            .command("/ip/address/add")
            .attribute("address", Some("10.0.0.1/24"))
            .build();
        assert_eq!(path_of(&command), command.path());
        assert_eq!(path_of(&command), "/ip/address/add");
        assert_eq!(PathNote::of(&command).text(), "/ip/address/add");
        let long = format!("/{}", ["menu"; 20].join("/"));
        let command = CommandBuilder::new().command(&long).build();
        assert_eq!(
            PathNote::of(&command).text(),
            long,
            "a path longer than the inline room"
        );
    }

    #[test]
    fn rows_and_ret() {
        let got = fold(vec![
            reply(&["!re", "=name=a"]),
            reply(&["!re", "=name=b"]),
            reply(&["!done", "=ret=2"]),
        ])
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got.rows[1].get("name"), Some("b"));
        assert_eq!(got.ret.as_deref(), Some("2"));
    }

    #[test]
    fn empty_is_no_rows() {
        let got = fold(vec![reply(&["!empty"]), reply(&["!done"])]).unwrap();
        assert!(got.is_empty());
        assert_eq!(got.ret, None);
    }

    #[test]
    fn every_trap_before_done_is_kept() {
        let err = fold(vec![
            reply(&["!re", "=name=a"]),
            reply(&["!trap", "=category=1", "=message=first"]),
            reply(&["!trap", "=message=second"]),
            reply(&["!done"]),
        ])
        .unwrap_err();
        let traps = err.traps().expect("a trap error");
        assert_eq!(traps.len(), 2);
        assert_eq!(traps[0].message, "first");
        assert_eq!(traps[0].category.map(|c| c.code()), Some(1));
        assert_eq!(traps[1].message, "second");
    }

    #[test]
    fn a_deadline_after_a_trap_keeps_the_trap() {
        let timeout = || {
            Err(Error::Timeout {
                what: TimeoutKind::Command,
                after: std::time::Duration::from_secs(1),
                address: None,
                stage: None,
            })
        };
        let err = fold(vec![reply(&["!trap", "=message=no such item"]), timeout()]).unwrap_err();
        let traps = err.traps().expect("the trap, not the timeout");
        assert_eq!(traps[0].message, "no such item");
        // Without a trap, a timeout stays a timeout; other errors stay themselves.
        assert!(fold(vec![timeout()]).unwrap_err().is_timeout());
        assert!(matches!(
            fold(vec![reply(&["!trap", "=message=x"]), Err(Error::Closed)]),
            Err(Error::Closed)
        ));
    }

    #[test]
    fn fatal_and_errors_end_it() {
        assert!(matches!(
            fold(vec![Ok(CommandResponse::Fatal("bye".into()))]),
            Err(Error::Fatal(reason)) if &*reason == "bye"
        ));
        assert!(matches!(fold(vec![Err(Error::Closed)]), Err(Error::Closed)));
    }
}
