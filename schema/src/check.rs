//! The checks of a command against the tree, shared by the `command!` macro (at
//! compile time, against every covered release) and the library's run-time check
//! (against every release, or the router's own). Each error is the message a user
//! sees: what is wrong and the nearest real names. The caller adds how to opt out,
//! which differs between compile time and run time.
//!
//! Beyond the console tree, the API has its own words, accepted here as routers do:
//! `/login`, `/cancel`, `listen` and `getall` on every menu with `print` (taking
//! `print`'s arguments), the attributes `.tag` and `.proplist` on every command, and
//! `.id` on commands that take `numbers` (or `number`). Query keys (`?name=…`) are
//! properties of the items, not arguments: nothing here checks them.

use crate::{Command, Menu, Schema, Versions, schema, suggest};

/// What a command path names.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// A command of the tree.
    Command(&'static Menu, &'static Command),
    /// `listen` or `getall` on a menu with `print`: they take `print`'s arguments.
    ListenOrGetall(&'static Menu, &'static Command),
    /// `/login` (`name`, `password`, `response`) or `/cancel` (`tag`).
    Api(&'static str, &'static [&'static str]),
}

/// The API's own commands outside the console tree, with their arguments.
const API_COMMANDS: [(&str, &[&str]); 2] = [
    ("/login", &["name", "password", "response"]),
    ("/cancel", &["tag"]),
];

/// API attributes every command takes.
const API_ATTRIBUTES: [&str; 2] = [".tag", ".proplist"];

impl Target {
    /// The full path, `/ip/address/print`.
    pub fn path(&self) -> String {
        match self {
            Self::Command(menu, command) => menu.command_path(command.name()),
            Self::ListenOrGetall(menu, _) => menu.command_path("listen"),
            Self::Api(path, _) => (*path).to_owned(),
        }
    }

    /// The tree's command whose arguments this one takes, if any.
    pub fn command(&self) -> Option<&'static Command> {
        match self {
            Self::Command(_, command) | Self::ListenOrGetall(_, command) => Some(command),
            Self::Api(..) => None,
        }
    }
}

/// The versions to check against: every covered release at compile time; the
/// router's own at run time when the device knows it.
fn shown(within: Versions) -> String {
    format!("RouterOS {within}")
}

/// `a`, `a or b`, `a, b or c`, each in backticks.
fn alternatives(names: &[impl AsRef<str>]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A list cut to `count` names, with "…" when longer.
fn some(names: &[&str], count: usize) -> String {
    let mut shown = names
        .iter()
        .take(count)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > count {
        shown.push_str(", …");
    }
    shown
}

/// Resolves a command path (`/ip/address/print`), as the router would: the tree's
/// commands that exist in `within`, and the API's own.
pub fn path(path: &str, within: Versions) -> Result<Target, String> {
    let schema = schema();
    if let Some(&(api, arguments)) = API_COMMANDS.iter().find(|(api, _)| *api == path) {
        return Ok(Target::Api(api, arguments));
    }
    if let Some((menu, command)) = schema.command(path) {
        if command.versions().intersects(within) {
            return Ok(Target::Command(menu, command));
        }
        return Err(format!(
            "`{path}` exists in RouterOS {}, not in {}",
            command.versions(),
            shown(within)
        ));
    }
    if let Some((menu_path, name)) = crate::split_path(path)
        && (name == "listen" || name == "getall")
        && let Some(menu) = schema.menu(menu_path)
        && let Some(print) = menu.command("print")
        && print.versions().intersects(within)
    {
        return Ok(Target::ListenOrGetall(menu, print));
    }
    Err(unknown_path(schema, path, within))
}

/// The scripting commands at the root of the tree (`:put`, `:if`, …), which the
/// API does not run (MikroTik's API notes): still accepted, as the tree has them,
/// but never suggested.
const SCRIPTING: [&str; 47] = [
    "beep",
    "break",
    "continue",
    "convert",
    "delay",
    "deserialize",
    "do",
    "error",
    "execute",
    "find",
    "for",
    "foreach",
    "global",
    "grep",
    "if",
    "jobname",
    "len",
    "local",
    "lock",
    "nothing",
    "onerror",
    "parse",
    "pick",
    "put",
    "range",
    "resolve",
    "retry",
    "return",
    "rndnum",
    "rndstr",
    "serialize",
    "set",
    "time",
    "timestamp",
    "toarray",
    "tobool",
    "tocrlf",
    "toid",
    "toip",
    "toip6",
    "tolf",
    "tonsec",
    "tonum",
    "tostr",
    "totime",
    "typeof",
    "while",
];

/// The commands of a menu in `within` to list or suggest: the tree's (without the
/// scripting ones at the root), and `listen` and `getall` where it has `print`.
fn commands_in(menu: &Menu, within: Versions) -> Vec<&str> {
    let mut names: Vec<&str> = menu
        .commands()
        .iter()
        .filter(|command| command.versions().intersects(within))
        .map(Command::name)
        .filter(|name| menu.path() != "/" || !SCRIPTING.contains(name))
        .collect();
    if names.contains(&"print") {
        names.extend(["getall", "listen"]);
        names.sort_unstable();
    }
    names
}

/// The message for a path that names no command in `within`.
fn unknown_path(schema: &'static Schema, path: &str, within: Versions) -> String {
    let versions = shown(within);
    if let Some(menu) = schema.menu(path) {
        let commands = commands_in(menu, within);
        if let Some(first) = commands
            .iter()
            .find(|c| **c == "print")
            .or(commands.first())
        {
            return format!(
                "`{path}` is a menu, not a command: add one of its commands, e.g. `{}` \
                 (its commands: {})",
                menu.command_path(first),
                some(&commands, 12)
            );
        }
        return format!("`{path}` is a menu with no commands of its own in {versions}");
    }
    let mut message = format!("no command `{path}` in {versions}");
    if let Some((menu_path, name)) = crate::split_path(path)
        && let Some(menu) = schema
            .menu(menu_path)
            .filter(|m| m.versions().intersects(within))
    {
        let commands = commands_in(menu, within);
        let near = suggest::nearest(name, commands.iter().copied(), 3);
        if !near.is_empty() {
            let paths: Vec<String> = near.iter().map(|c| menu.command_path(c)).collect();
            message.push_str(&format!("; did you mean {}?", alternatives(&paths)));
            return message;
        }
        let deeper: Vec<String> = schema
            .submenus(menu_path)
            .filter(|sub| {
                sub.command(name)
                    .is_some_and(|c| c.versions().intersects(within))
            })
            .map(|sub| sub.command_path(name))
            .collect();
        if !deeper.is_empty() {
            let shown: Vec<&str> = deeper.iter().map(String::as_str).collect();
            message.push_str(&format!(
                "; `{name}` is a command of the menus below `{menu_path}`, e.g. {}",
                alternatives(&shown[..shown.len().min(4)])
            ));
            return message;
        }
        message.push_str(&format!(
            "; the menu `{menu_path}` has the commands {}",
            some(&commands, 12)
        ));
        return message;
    }
    let every: Vec<String> = schema
        .menus()
        .iter()
        .filter(|menu| menu.versions().intersects(within))
        .flat_map(|menu| {
            commands_in(menu, within)
                .into_iter()
                .map(|command| menu.command_path(command))
        })
        .collect();
    let near = suggest::nearest(path, every.iter().map(String::as_str), 3);
    if near.is_empty() {
        let mut deepest = path;
        while let Some((parent, _)) = crate::split_path(deepest) {
            deepest = parent;
            if schema.menu(parent).is_some() {
                break;
            }
        }
        if deepest != "/" && schema.menu(deepest).is_some() {
            message.push_str(&format!(
                "; `{deepest}` is the nearest menu that exists: list its commands and \
                 sub-menus with the `explore` example of mikrotik-rs"
            ));
        }
    } else {
        message.push_str(&format!("; did you mean {}?", alternatives(&near)));
    }
    message
}

/// Checks an attribute name (`address`, `.proplist`) of a resolved command.
pub fn argument(target: &Target, name: &str, within: Versions) -> Result<(), String> {
    if API_ATTRIBUTES.contains(&name) {
        return Ok(());
    }
    let path = target.path();
    let takes = |argument: &str| {
        target
            .command()
            .and_then(|c| c.argument(argument))
            .is_some_and(|a| a.versions().intersects(within))
    };
    if name == ".id" {
        if takes("numbers") || takes("number") {
            return Ok(());
        }
        return Err(format!(
            "`{path}` takes no `.id`: `.id` picks the item of commands that take \
             `numbers`, such as `set` and `remove`"
        ));
    }
    if name.starts_with('.') {
        return Err(format!(
            "`{name}` is not an API attribute: the API's own are `.id`, `.proplist` and `.tag`"
        ));
    }
    let (arguments, menu): (Vec<&str>, Option<&Menu>) = match target {
        Target::Api(_, arguments) => {
            if arguments.contains(&name) {
                return Ok(());
            }
            (arguments.to_vec(), None)
        }
        Target::Command(menu, command) | Target::ListenOrGetall(menu, command) => {
            if let Some(argument) = command.argument(name) {
                if argument.versions().intersects(within) {
                    return Ok(());
                }
                return Err(format!(
                    "`{path}` takes `{name}` in RouterOS {}, not in {}",
                    argument.versions(),
                    shown(within)
                ));
            }
            let arguments = command
                .arguments()
                .iter()
                .filter(|a| a.versions().intersects(within))
                .map(|a| a.name())
                .collect();
            (arguments, Some(*menu))
        }
    };
    let mut message = format!("`{path}` takes no argument `{name}`");
    let near = suggest::nearest(name, arguments.iter().copied(), 3);
    if !near.is_empty() {
        message.push_str(&format!("; did you mean {}?", alternatives(&near)));
    }
    if let Some(menu) = menu {
        let siblings: Vec<&str> = menu
            .commands()
            .iter()
            .filter(|c| c.versions().intersects(within))
            .filter(|c| {
                c.argument(name)
                    .is_some_and(|a| a.versions().intersects(within))
            })
            .map(Command::name)
            .filter(|sibling| Some(*sibling) != target.command().map(Command::name))
            .collect();
        if !siblings.is_empty() {
            let quoted: Vec<String> = siblings.iter().map(|s| format!("`{s}`")).collect();
            let quoted: Vec<&str> = quoted.iter().map(String::as_str).collect();
            message.push_str(&format!(
                " (`{name}` is an argument of its sibling {} {})",
                if siblings.len() == 1 {
                    "command"
                } else {
                    "commands"
                },
                some(&quoted, 6)
            ));
        }
    }
    if near.is_empty() {
        if arguments.is_empty() {
            message.push_str(": it takes no arguments");
        } else {
            message.push_str(&format!("; its arguments: {}", some(&arguments, 16)));
        }
    }
    Err(message)
}

/// Checks a value known before sending (a literal) against the argument's type hints,
/// where they are exact; see the module docs of the hints for what is checked.
pub fn value(target: &Target, name: &str, value: &str) -> Result<(), String> {
    let Some(argument) = target.command().and_then(|c| c.argument(name)) else {
        return Ok(());
    };
    if argument.accepts(value) {
        return Ok(());
    }
    // The value itself stays out of the message: at run time it may be a secret.
    Err(format!(
        "this value does not fit `{name}` of `{}`, which RouterOS describes as {}",
        target.path(),
        alternatives(argument.hints())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Versions {
        schema().all_versions()
    }

    fn path_error(written: &str) -> String {
        path(written, all()).unwrap_err()
    }

    fn argument_error(written: &str, name: &str) -> String {
        argument(&path(written, all()).unwrap(), name, all()).unwrap_err()
    }

    #[test]
    fn every_command_and_argument_of_every_release_passes() {
        let schema = schema();
        let mut checked = 0;
        for menu in schema.menus() {
            for command in menu.commands() {
                let full = menu.command_path(command.name());
                for (index, release) in schema.releases().iter().enumerate() {
                    let within = Versions::single(index);
                    if !command.versions().intersects(within) {
                        assert!(path(&full, within).is_err(), "{full} in {release}");
                        continue;
                    }
                    let target = path(&full, within).unwrap_or_else(|e| panic!("{release}: {e}"));
                    for taken in command.arguments() {
                        if taken.versions().intersects(within) {
                            argument(&target, taken.name(), within)
                                .unwrap_or_else(|e| panic!("{release}: {e}"));
                            checked += 1;
                        }
                    }
                }
                let target = path(&full, all()).unwrap();
                for taken in command.arguments() {
                    argument(&target, taken.name(), all()).unwrap();
                }
            }
        }
        assert!(checked > 400_000, "{checked}");
    }

    #[test]
    fn path_typos_name_the_nearest_commands() {
        let message = path_error("/ip/adress/print");
        assert!(
            message.starts_with("no command `/ip/adress/print`"),
            "{message}"
        );
        assert!(
            message.contains("did you mean `/ip/address/print`"),
            "{message}"
        );
        let message = path_error("/ip/address/pirnt");
        assert!(
            message.contains("did you mean `/ip/address/print`"),
            "{message}"
        );
        let message = path_error("/interface/wirelss/print");
        assert!(message.contains("`/interface/wireless/print`"), "{message}");
    }

    #[test]
    fn menus_and_wrong_levels() {
        let message = path_error("/ip/address");
        assert!(message.contains("is a menu, not a command"), "{message}");
        assert!(message.contains("`/ip/address/print`"), "{message}");
        let message = path_error("/ip/print");
        assert!(message.contains("`/ip/address/print`"), "{message}");
    }

    #[test]
    fn versions_are_named() {
        let app = schema().command("/app/print").unwrap().1.versions();
        let old = Versions::single(0);
        assert!(path("/app/print", all()).is_ok());
        let message = path("/app/print", old).unwrap_err();
        assert_eq!(
            message,
            format!("`/app/print` exists in RouterOS {app}, not in RouterOS 7.9")
        );
    }

    #[test]
    fn suggestions_include_the_apis_words_and_skip_scripting() {
        let message = path_error("/interface/lisen");
        assert!(
            message.contains("did you mean `/interface/listen`?"),
            "{message}"
        );
        let message = path_error("/pung");
        assert!(message.contains("`/ping`"), "{message}");
        let message = path_error("/x");
        assert!(
            !message.contains("`/do`") && !message.contains("`/if`"),
            "{message}"
        );
    }

    #[test]
    fn api_additions() {
        for ok in [
            "/login",
            "/cancel",
            "/quit",
            "/ip/address/listen",
            "/interface/getall",
        ] {
            assert!(path(ok, all()).is_ok(), "{ok}");
        }
        let set = path("/ip/address/set", all()).unwrap();
        for name in [".id", ".tag", ".proplist", "numbers", "address"] {
            argument(&set, name, all()).unwrap();
        }
        let listen = path("/interface/listen", all()).unwrap();
        argument(&listen, ".proplist", all()).unwrap();
        let login = path("/login", all()).unwrap();
        argument(&login, "name", all()).unwrap();
        assert!(argument(&login, "user", all()).is_err());
        let message = argument_error("/ip/address/add", ".id");
        assert!(message.contains("takes no `.id`"), "{message}");
        let message = argument_error("/ip/address/print", ".tags");
        assert!(message.contains("not an API attribute"), "{message}");
        // `/ip/address` has no `listen` of its own in the tree, only through `print`.
        assert!(path("/system/reboot/listen", all()).is_err());
    }

    #[test]
    fn argument_typos_and_siblings() {
        let message = argument_error("/ip/address/add", "adress");
        assert!(
            message.starts_with(
                "`/ip/address/add` takes no argument `adress`; did you mean `address`"
            ),
            "{message}"
        );
        let message = argument_error("/ip/address/add", "numbers");
        assert!(
            message.contains("`numbers` is an argument of its sibling commands"),
            "{message}"
        );
        assert!(message.contains("`set`"), "{message}");
    }

    #[test]
    fn values_against_exact_hints() {
        let add = path("/ip/address/add", all()).unwrap();
        value(&add, "address", "192.168.88.1/24").unwrap();
        value(&add, "address", "192.168.88.1").unwrap();
        let message = value(&add, "address", "192.168.88.300").unwrap_err();
        assert!(message.contains("A.B.C.D (IP address)"), "{message}");
        value(&add, "interface", "anything").unwrap();
        // `/ping address=` has a hint in some releases and none in others: unchecked.
        let ping = path("/ping", all()).unwrap();
        value(&ping, "address", "router.example").unwrap();
    }
}
