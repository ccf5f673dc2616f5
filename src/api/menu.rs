//! [`Menu`]: print, add, set, remove and listen on one menu path.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use super::collect::{Collected, path_of};
use super::{Changes, Property, Rows};
use crate::connection::BufferPolicy;
use crate::protocol::ReplyResponse;
use crate::protocol::command::{Cmd, Command, CommandBuilder, QueryOperator};
use crate::{Error, MikrotikDevice, Result};

/// How many rows a [`Menu::monitor`] keeps for a reader that falls behind:
/// a monitor's reader wants the latest state, not a backlog.
pub const MONITOR_KEEP_LATEST: usize = 16;

/// One menu of the router, such as `/ip/address`: the everyday operations on its items.
///
/// Made by [`MikrotikDevice::menu`]; cheap to clone (it holds a device
/// handle). Every operation runs one command to its end, except
/// [`listen`](Self::listen) and [`Print::follow`], which stream. A `!trap` from
/// the router is an [`Error::Trap`]. A property or query key that is empty
/// or contains `=` (`("comment=disabled", "yes")`) is an
/// [`Error::InvalidCommand`], returned before anything is sent.
///
/// ```no_run
/// # async fn demo(device: mikrotik_rs::MikrotikDevice) -> mikrotik_rs::Result<()> {
/// let addresses = device.menu("/ip/address");
/// let id = addresses.add(&[("address", "10.0.0.1/24"), ("interface", "ether1")]).await?;
/// addresses.set(&id, &[("comment", "lab")]).await?;
/// for row in addresses.print().query_equal("interface", "ether1").await? {
///     println!("{:?} {:?}", row.get(".id"), row.get("address"));
/// }
/// addresses.remove(&id).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Menu {
    device: MikrotikDevice,
    path: String,
}

impl MikrotikDevice {
    /// The menu at `path`, e.g. `"/ip/address"` or `"/interface/bridge/port"`.
    ///
    /// The path is written as the API writes it: starting with `/`, segments
    /// separated by `/` (not spaces), no trailing `/`. A malformed path is
    /// reported as [`Error::InvalidCommand`] by each operation, before
    /// anything is sent, as [`CommandBuilder::command`] reports a bad command path.
    pub fn menu(&self, path: impl Into<String>) -> Menu {
        Menu {
            device: self.clone(),
            path: path.into(),
        }
    }
}

/// Why `path` is not a menu path, if it is not.
fn check_path(path: &str) -> Result<(), String> {
    match crate::protocol::path_problem("menu path", path) {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

impl Menu {
    /// The menu's path, as given.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The device this menu runs its commands on.
    pub fn device(&self) -> &MikrotikDevice {
        &self.device
    }

    /// A builder for `<path>/<verb>`, once the path is known to be valid.
    ///
    /// For commands of this menu that have no helper (`enable`, `disable`,
    /// `reset-counters`…): run one that ends by itself with
    /// [`MikrotikDevice::collect`]. A monitor never ends, so `collect` would
    /// never return: use [`monitor`](Self::monitor), or send it with `once`.
    pub fn command(&self, verb: &str) -> Result<CommandBuilder<Cmd>> {
        check_path(&self.path).map_err(|reason| Error::InvalidCommand { reason })?;
        Ok(CommandBuilder::new().command(&format!("{}/{verb}", self.path)))
    }

    /// Starts a `print`: add queries and a `.proplist`, then `.await` it for
    /// the raw rows, or call `typed` (feature `serde`), [`follow`](Print::follow)….
    pub fn print(&self) -> Print {
        Print {
            device: self.device.clone(),
            builder: self.command("print"),
        }
    }

    /// The item with this `.id`, or `None` if there is none.
    pub async fn get(&self, id: &str) -> Result<Option<ReplyResponse>> {
        let rows = self.print().query_equal(".id", id).collect().await?;
        Ok(rows.into_iter().next())
    }

    /// Adds an item with these properties and returns its new `.id` (e.g. `*1A`).
    ///
    /// A refused item (a duplicate name, a bad value) is an [`Error::Trap`];
    /// an `!done` without `=ret=` is an [`Error::Decode`] about `ret`.
    ///
    /// `properties` is any iterator of [`Property`] pairs: `&[("name", "x")]`,
    /// a `Vec<(String, String)>`, a map's iterator.
    pub async fn add(&self, properties: impl IntoIterator<Item = impl Property>) -> Result<String> {
        let command = with_properties(self.command("add")?, properties);
        match self.device.run(command).await? {
            Some(id) => Ok(id),
            None => Err(Error::Decode {
                key: Some("ret".to_owned()),
                value: None,
                reason: "`add` returned no id".to_owned(),
            }),
        }
    }

    /// Sets these properties on the item `id` (a `.id` such as `*1A`; some menus
    /// also accept a name). An empty value unsets a property.
    /// `properties` as in [`add`](Self::add).
    pub async fn set(
        &self,
        id: &str,
        properties: impl IntoIterator<Item = impl Property>,
    ) -> Result<()> {
        let command = self.command("set")?.attribute(".id", Some(id));
        self.device
            .run(with_properties(command, properties))
            .await
            .map(drop)
    }

    /// Removes the item `id`. An unknown id is an [`Error::Trap`] (`no such item`).
    pub async fn remove(&self, id: &str) -> Result<()> {
        let command = self.command("remove")?.attribute(".id", Some(id));
        self.device.run(command).await.map(drop)
    }

    /// Removes several items with one command (`=numbers=*1,*2`); sends
    /// nothing when `ids` is empty. `ids` is any iterator of string-likes:
    /// `&["*1", "*2"]`, a `Vec<String>`, `rows.iter().map(…)`. (An empty
    /// literal needs its type: `&[] as &[&str]`.)
    ///
    /// RouterOS checks the ids first: if one is unknown, the command fails
    /// with an [`Error::Trap`].
    pub async fn remove_many(&self, ids: impl IntoIterator<Item = impl AsRef<str>>) -> Result<()> {
        let command = self.command("remove")?;
        let mut numbers = String::new();
        for id in ids {
            if !numbers.is_empty() {
                numbers.push(',');
            }
            numbers.push_str(id.as_ref());
        }
        if numbers.is_empty() {
            return Ok(());
        }
        self.device
            .run(command.attribute("numbers", Some(&numbers)))
            .await
            .map(drop)
    }

    /// Streams the menu's changes (`listen`): an [`Upsert`](super::Change::Upsert)
    /// for each added or changed item, a [`Removed`](super::Change::Removed)
    /// for each removed one. Existing items are not reported; for those
    /// first, use [`print().follow()`](Print::follow).
    ///
    /// Runs until the stream is dropped, which cancels it on the router.
    /// Decode the rows with `Changes::typed` (feature `serde`); an update may
    /// carry only the properties that changed, so make such fields `Option`s.
    ///
    /// ```no_run
    /// # async fn demo(device: mikrotik_rs::MikrotikDevice) -> mikrotik_rs::Result<()> {
    /// use mikrotik_rs::api::Change;
    /// let mut changes = device.menu("/ip/address").listen().await?;
    /// while let Some(change) = changes.recv().await {
    ///     match change? {
    ///         Change::Upsert(row) => println!("now {:?}", row.get("address")),
    ///         Change::Removed { id, .. } => println!("{id} removed"),
    ///         // A reconnect: the events after it make the table whole again.
    ///         Change::Resumed { gap, .. } => println!("resumed after {gap:?}"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn listen(&self) -> Result<Changes> {
        let command = self.command("listen")?.build();
        let path = path_of(&command);
        let changes = if self.device.reconnects() {
            let snapshot = command.clone();
            Changes::new(self.device.send_command(command).await?)
                .resyncing(self.device.clone(), &snapshot)
        } else {
            Changes::new(self.device.send_command(command).await?)
        };
        Ok(changes.for_command(&path))
    }

    /// Streams `<path>/monitor` with these arguments (e.g.
    /// `[("numbers", "ether1")]` on `/interface/ethernet`) as [`Rows`]: one
    /// row per update, until the stream is dropped, which cancels it.
    ///
    /// A monitor's reader wants the current state, so a reader that falls
    /// behind gets the latest [`MONITOR_KEEP_LATEST`] rows
    /// ([`BufferPolicy::KeepLatest`]), never an overflow. Decode rows with
    /// `Rows::typed` (feature `serde`); later rows may carry only what changed.
    ///
    /// ```no_run
    /// # async fn demo(device: mikrotik_rs::MikrotikDevice) -> mikrotik_rs::Result<()> {
    /// let mut link = device.menu("/interface/ethernet").monitor([("numbers", "ether1")]).await?;
    /// while let Some(row) = link.recv().await {
    ///     println!("ether1: {:?}", row?.get("status"));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn monitor(
        &self,
        arguments: impl IntoIterator<Item = impl Property>,
    ) -> Result<Rows> {
        let command = with_properties(self.command("monitor")?, arguments).build();
        let policy = BufferPolicy::KeepLatest(MONITOR_KEEP_LATEST);
        let path = path_of(&command);
        let stream = self.device.send_command_with(command, policy).await?;
        Ok(stream.rows().for_command(&path))
    }
}

fn with_properties(
    mut command: CommandBuilder<Cmd>,
    properties: impl IntoIterator<Item = impl Property>,
) -> CommandBuilder<Cmd> {
    for property in properties {
        command = command.attribute(property.name(), Some(property.value()));
    }
    command
}

/// A `print` of a [`Menu`] being built: queries, `.proplist`, attributes.
///
/// `.await` it for every matching row as [`ReplyResponse`]s (an `!empty`
/// reply gives no rows), or finish it with `typed` (feature `serde`),
/// [`count`](Self::count), [`follow`](Self::follow) or
/// [`follow_only`](Self::follow_only). Queries follow the API's rules: each
/// `query_*` pushes one condition, conditions are ANDed unless
/// [`query_operations`](Self::query_operations) combines them otherwise.
#[must_use = "a print does nothing until it is awaited"]
#[derive(Debug)]
pub struct Print {
    device: MikrotikDevice,
    builder: Result<CommandBuilder<Cmd>>,
}

impl Print {
    fn map(mut self, f: impl FnOnce(CommandBuilder<Cmd>) -> CommandBuilder<Cmd>) -> Self {
        self.builder = self.builder.map(f);
        self
    }

    /// Only items whose `key` equals `value` (`?key=value`).
    pub fn query_equal(self, key: &str, value: &str) -> Self {
        self.map(|b| b.query_equal(key, value))
    }

    /// Only items whose `key` is greater than `value` (`?>key=value`).
    pub fn query_gt(self, key: &str, value: &str) -> Self {
        self.map(|b| b.query_gt(key, value))
    }

    /// Only items whose `key` is less than `value` (`?<key=value`).
    pub fn query_lt(self, key: &str, value: &str) -> Self {
        self.map(|b| b.query_lt(key, value))
    }

    /// Only items that have `key` (`?key`).
    pub fn query_is_present(self, key: &str) -> Self {
        self.map(|b| b.query_is_present(key))
    }

    /// Only items that lack `key` (`?-key`).
    pub fn query_not_present(self, key: &str) -> Self {
        self.map(|b| b.query_not_present(key))
    }

    /// Combines the previous conditions with stack operations (`?#…`), e.g.
    /// `[QueryOperator::Or]` for "either of the last two".
    pub fn query_operations(self, operations: impl IntoIterator<Item = QueryOperator>) -> Self {
        self.map(|b| b.query_operations(operations.into_iter()))
    }

    /// Returns only these properties (`=.proplist=a,b`); the router may still
    /// add others, and a row may lack some.
    pub fn proplist<'a>(self, properties: impl IntoIterator<Item = &'a str>) -> Self {
        self.map(|b| b.proplist(properties))
    }

    /// Adds `=key=value` (`None`: `=key=`), for print options such as `stats`
    /// or `without-paging`.
    pub fn attribute(self, key: &str, value: Option<&str>) -> Self {
        self.map(|b| b.attribute(key, value))
    }

    /// The command this print would send (an [`Error::InvalidCommand`] for
    /// a bad path or a bad key).
    pub fn into_command(self) -> Result<Command> {
        let command = self.builder?.build();
        match command.invalid() {
            Some(reason) => Err(Error::InvalidCommand {
                reason: reason.to_owned(),
            }),
            None => Ok(command),
        }
    }

    /// Runs the print to its end; the matching rows, raw, in a `Vec`
    /// (`collect*` returns a `Vec`; `rows`/`typed` on a stream adapt it).
    pub async fn collect(self) -> Result<Vec<ReplyResponse>> {
        let device = self.device.clone();
        let command = self.into_command()?;
        device.collect(command).await.map(Collected::into_rows)
    }

    /// Runs the print to its end and decodes each row into `T` (feature
    /// `serde`; see [`from_reply`](super::from_reply)). Name the fields in a
    /// [`proplist`](Self::proplist) to fetch only what `T` needs.
    #[cfg(feature = "serde")]
    pub async fn collect_typed<T: serde::de::DeserializeOwned>(self) -> Result<Vec<T>> {
        let device = self.device.clone();
        device.collect_typed(self.into_command()?).await
    }

    /// [`collect_typed`](Self::collect_typed), with text that is not UTF-8
    /// read as `text` says (see [`TextPolicy`](super::TextPolicy)): e.g.
    /// `TextPolicy::Fallback(encoding_rs::WINDOWS_1252)` (feature `encoding`)
    /// for comments typed in Winbox on Windows.
    #[cfg(feature = "serde")]
    pub async fn collect_typed_with<T: serde::de::DeserializeOwned>(
        self,
        text: super::TextPolicy,
    ) -> Result<Vec<T>> {
        let rows = self.collect().await?;
        rows.iter()
            .map(|row| super::from_reply_with(row, text))
            .collect()
    }

    /// Renamed [`collect`](Self::collect): it returns a `Vec`, while
    /// `rows()` on a stream is a stream.
    #[deprecated(
        since = "0.9.0",
        note = "renamed `collect`: it returns a Vec (`rows()` is the stream adapter)"
    )]
    pub async fn rows(self) -> Result<Vec<ReplyResponse>> {
        self.collect().await
    }

    /// Renamed [`collect_typed`](Self::collect_typed).
    #[cfg(feature = "serde")]
    #[deprecated(
        since = "0.9.0",
        note = "renamed `collect_typed`: it returns a Vec (`typed()` is the stream adapter)"
    )]
    pub async fn typed<T: serde::de::DeserializeOwned>(self) -> Result<Vec<T>> {
        self.collect_typed().await
    }

    /// Renamed [`collect_typed_with`](Self::collect_typed_with).
    #[cfg(feature = "serde")]
    #[deprecated(
        since = "0.9.0",
        note = "renamed `collect_typed_with`: it returns a Vec (`typed_with()` is the stream adapter)"
    )]
    pub async fn typed_with<T: serde::de::DeserializeOwned>(
        self,
        text: super::TextPolicy,
    ) -> Result<Vec<T>> {
        self.collect_typed_with(text).await
    }

    /// Runs the print and returns its only row: for menus that are one item,
    /// such as `/system/resource`, `/system/identity`, `/system/clock`.
    ///
    /// No row, or more than one, is an [`Error::Decode`] saying how many came.
    ///
    /// ```no_run
    /// # async fn demo(device: mikrotik_rs::MikrotikDevice) -> mikrotik_rs::Result<()> {
    /// let identity = device.menu("/system/identity").print().one().await?;
    /// println!("{}", identity.get("name").unwrap_or("?"));
    /// # Ok(()) }
    /// ```
    pub async fn one(self) -> Result<ReplyResponse> {
        let rows = self.collect().await?;
        only_row(rows)
    }

    /// Runs the print and decodes its only row into `T` (feature `serde`); as
    /// [`one`](Self::one), then [`from_reply`](super::from_reply).
    #[cfg(feature = "serde")]
    pub async fn one_typed<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        super::from_reply(&self.one().await?)
    }

    /// Counts the matching items instead of returning them (`count-only`).
    pub async fn count(self) -> Result<u64> {
        let this = self.attribute("count-only", None);
        let device = this.device.clone();
        let ret = device.run(this.into_command()?).await?;
        let ret = ret.unwrap_or_default();
        ret.parse().map_err(|_| Error::Decode {
            key: Some("ret".to_owned()),
            value: Some(ret.clone()),
            reason: "`count-only` returned no number".to_owned(),
        })
    }

    /// Streams the matching items that exist now, then every change
    /// (`=follow=`). Runs until dropped; see [`Menu::listen`].
    pub async fn follow(self) -> Result<Changes> {
        self.stream("follow").await
    }

    /// Streams only changes from now on (`=follow-only=`). Runs until dropped.
    pub async fn follow_only(self) -> Result<Changes> {
        self.stream("follow-only").await
    }

    async fn stream(self, mode: &str) -> Result<Changes> {
        let device = self.device.clone();
        let command = self.attribute(mode, None).into_command()?;
        let path = path_of(&command);
        if device.reconnects() {
            let subscription = command.clone();
            let changes = Changes::new(device.send_command(command).await?);
            return Ok(changes.resyncing(device, &subscription).for_command(&path));
        }
        Ok(Changes::new(device.send_command(command).await?).for_command(&path))
    }
}

/// The one row of a print that must return exactly one.
fn only_row(rows: Vec<ReplyResponse>) -> Result<ReplyResponse> {
    let count = rows.len();
    let mut rows = rows.into_iter();
    match (rows.next(), count) {
        (Some(row), 1) => Ok(row),
        _ => Err(Error::Decode {
            key: None,
            value: None,
            reason: format!("expected exactly one row, the print returned {count}"),
        }),
    }
}

impl IntoFuture for Print {
    type Output = Result<Vec<ReplyResponse>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::check_path;

    #[test]
    fn paths() {
        for good in [
            "/ip/address",
            "/interface",
            "/interface/bridge/port",
            "/system/resource",
        ] {
            assert_eq!(check_path(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("ip/address", "start with"),
            ("/", "name a menu"),
            ("", "start with"),
            ("/ip/address/", "end with"),
            ("/ip//address", "empty segment"),
            ("/ip address", "no spaces"),
            ("/ip/address=x", "words of their own"),
        ] {
            let err = check_path(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
