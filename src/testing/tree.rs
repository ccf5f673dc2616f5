//! The RouterOS command tree of the version the mock emulates: which menus
//! and commands exist, which arguments each command takes, and what their
//! type hints allow. The data is `mikrotik-rs-schema`'s; this file only asks
//! it the mock's questions, for one release.

use mikrotik_rs_schema::{Argument, Command, Menu, Schema, Versions, schema};

use super::db::Refusal;
use super::words;

/// What a menu of the tree is to the mock's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MenuKind {
    /// Rows with ids (`/ip/firewall/filter`; also menus without `add`
    /// whose `set` takes `numbers`, e.g. `/interface/ethernet`).
    List,
    /// One row without an id (`/ip/dns`: a `set` without `numbers`).
    Single,
}

/// What the tree has of one command path ([`Tree::find`]).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Found {
    /// The command itself, if this release's tree has it.
    pub(crate) command: Option<&'static Command>,
    /// Whether the API answers it: the command, or `listen`/`getall` of a
    /// menu with `print`.
    pub(crate) answered: bool,
}

/// One release of the tree.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tree {
    schema: &'static Schema,
    /// The one release emulated.
    release: Versions,
    /// Its name, e.g. `7.24`.
    name: &'static str,
}

/// Commands the API answers beyond the console tree, on every menu that
/// has `print`.
const API_VERBS: [&str; 2] = ["listen", "getall"];

impl Tree {
    /// The tree of `release` (`"7.16"`, `"7.16.1"`: the covered release of
    /// that minor version); `None` when it is not covered.
    pub(crate) fn of(release: &str) -> Option<Self> {
        let schema = schema();
        let versions = schema.version(release)?;
        let name = versions.releases().next()?;
        Some(Self {
            schema,
            release: versions,
            name,
        })
    }

    /// The newest covered release.
    pub(crate) fn newest() -> Self {
        let schema = schema();
        let name = schema
            .releases()
            .last()
            .copied()
            .expect("the schema covers at least one release");
        Self::of(name).expect("a covered release has a tree")
    }

    /// The oldest covered release (the closest to RouterOS 6).
    pub(crate) fn oldest() -> Self {
        let schema = schema();
        let name = schema
            .releases()
            .first()
            .copied()
            .expect("the schema covers at least one release");
        Self::of(name).expect("a covered release has a tree")
    }

    /// The release's name, e.g. `7.24`.
    pub(crate) fn release(&self) -> &'static str {
        self.name
    }

    fn present(&self, versions: Versions) -> bool {
        versions.intersects(self.release)
    }

    /// The menu at `path` (`/ip/address`), if this release has it. The
    /// root's commands are the console's scripting commands (`:put`,
    /// `:if`), not API menus: the root is left out.
    pub(crate) fn menu(&self, path: &str) -> Option<&'static Menu> {
        if path.is_empty() || path == "/" {
            return None;
        }
        self.schema
            .menu(path)
            .filter(|menu| self.present(menu.versions()))
    }

    /// Whether the root has the API command `verb` (`/export`): the root's
    /// commands that are not console scripting (`:put`, `:if`).
    pub(crate) fn root_has(&self, verb: &str) -> bool {
        const ROOT_API_COMMANDS: [&str; 1] = ["export"];
        ROOT_API_COMMANDS.contains(&verb)
            && self
                .schema
                .menu("/")
                .and_then(|root| root.command(verb))
                .is_some_and(|command| self.present(command.versions()))
    }

    /// The command `verb` of `menu`, if this release has it.
    pub(crate) fn command(&self, menu: &str, verb: &str) -> Option<&'static Command> {
        self.menu(menu)?
            .command(verb)
            .filter(|command| self.present(command.versions()))
    }

    /// Whether `/menu/verb` is a command the API answers: one of the tree,
    /// or `listen`/`getall` of a menu with `print`.
    pub(crate) fn has_command(&self, menu: &str, verb: &str) -> bool {
        self.find(menu, verb).answered
    }

    /// What the tree has of `/menu/verb`, the menu looked up once: the
    /// session asks it once per command and hands the command down.
    pub(crate) fn find(&self, menu: &str, verb: &str) -> Found {
        let Some(menu) = self.menu(menu) else {
            return Found::default();
        };
        let in_menu = |verb: &str| {
            menu.command(verb)
                .filter(|command| self.present(command.versions()))
        };
        let command = in_menu(verb);
        let answered =
            command.is_some() || (API_VERBS.contains(&verb) && in_menu("print").is_some());
        Found { command, answered }
    }

    /// The table kind of `menu`: `None` when it has no `print` (a menu of
    /// actions only, like `/system`).
    pub(crate) fn menu_kind(&self, menu: &str) -> Option<MenuKind> {
        self.command(menu, "print")?;
        if self.command(menu, "add").is_some() {
            return Some(MenuKind::List);
        }
        match self.command(menu, "set") {
            Some(set) if self.argument(set, "numbers").is_none() => Some(MenuKind::Single),
            _ => Some(MenuKind::List),
        }
    }

    /// Whether a path (`/ip`, `/ip/address`, `/ip/address/print`) leads
    /// somewhere in this release: a menu, or a command of one.
    pub(crate) fn knows_prefix(&self, path: &str) -> bool {
        if self.menu(path).is_some() {
            return true;
        }
        match path.rsplit_once('/') {
            Some((menu, verb)) => self.has_command(menu, verb),
            None => false,
        }
    }

    /// The argument `name` of `command`, if this release has it.
    pub(crate) fn argument(
        &self,
        command: &'static Command,
        name: &str,
    ) -> Option<&'static Argument> {
        command
            .argument(name)
            .filter(|argument| self.present(argument.versions()))
    }

    /// [`argument`](Self::argument) by the bytes a client sent (no UTF-8
    /// check: bytes that are not text are no argument's name).
    pub(crate) fn argument_named(
        &self,
        command: &'static Command,
        key: &[u8],
    ) -> Option<&'static Argument> {
        command
            .argument_bytes(key)
            .filter(|argument| self.present(argument.versions()))
    }

    /// Checks the arguments a client gave `/menu/verb` the way the router
    /// does: a name the command does not take is an unknown parameter; a
    /// value that breaks the argument's hint (where the hint is exact) is
    /// the router's refusal of it. API attributes (`.id`, `.proplist`) are
    /// not arguments. Commands the tree does not have are not checked.
    ///
    /// `command` is the tree's command ([`Tree::find`]), `None` when it has
    /// none.
    pub(crate) fn check_arguments<'a>(
        &self,
        command: Option<&'static Command>,
        attrs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
        v6: bool,
    ) -> Result<(), Refusal> {
        let Some(command) = command else {
            return Ok(());
        };
        for (key, value) in attrs {
            if key.starts_with(b".") {
                continue;
            }
            let Some(argument) = self.argument_named(command, key) else {
                return Err(words::unknown_parameter(&String::from_utf8_lossy(key), v6));
            };
            super::hints::check(argument, argument.name(), value)?;
        }
        Ok(())
    }
}
