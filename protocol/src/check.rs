//! The run-time check of a command against the RouterOS 7 command tree (feature
//! `schema`): the same check and messages as `command!`'s at compile time, for
//! commands built with `CommandBuilder` or the menu helpers, or from text.

use crate::prelude::*;
use core::fmt;

use mikrotik_rs_schema::{Versions, check, schema};

use super::command::Command;

/// What the check found wrong; the first problem of the command.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckErrorKind {
    /// The path names no command of the tree (or none of the router's release).
    UnknownPath,
    /// The command takes no argument of this name.
    UnknownArgument,
    /// A value breaks the argument's exact type hint (an address, a range, a choice,
    /// a length).
    BadValue,
    /// A word is not valid UTF-8, so it names nothing in the tree.
    NotText,
}

/// A command the RouterOS 7 command tree says a router would refuse. Its message
/// names the nearest real paths or arguments. It never holds a value (which may be a
/// secret): only the path, the argument name and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandCheckError {
    kind: CheckErrorKind,
    path: String,
    argument: Option<String>,
    message: String,
}

impl CommandCheckError {
    /// What was wrong.
    pub fn kind(&self) -> &CheckErrorKind {
        &self.kind
    }

    /// The command's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The argument at fault, if the path was fine.
    pub fn argument(&self) -> Option<&str> {
        self.argument.as_deref()
    }

    /// The message, as `command!` words it (with suggestions).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CommandCheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (checked against the RouterOS 7.9–7.24 command tree; a router on \
             RouterOS 6, a newer release or with a package the tree lacks may take it: \
             send the command unchecked)",
            self.message
        )
    }
}

impl core::error::Error for CommandCheckError {}

impl Command {
    /// Checks the path, argument names and values against every RouterOS release the
    /// schema covers (7.9 … 7.24, all packages), as `command!` does at compile time:
    /// `Ok` if some covered release takes the command. Query words (`?name=…`) are
    /// not checked: their keys are properties, not arguments.
    ///
    /// ```
    /// use mikrotik_rs_protocol::command::CommandBuilder;
    ///
    /// let typo = CommandBuilder::new().command("/ip/adress/print").build();
    /// let error = typo.check().unwrap_err();
    /// assert!(error.to_string().contains("did you mean `/ip/address/print`?"));
    /// ```
    pub fn check(&self) -> Result<(), CommandCheckError> {
        check_words(&self.words(), schema().all_versions())
    }

    /// Checks the command against the one covered release a router runs: `version`
    /// as `/system/resource/print` reports it (`7.16.2 (stable)`, `7.20beta3`). A
    /// version outside the covered range (RouterOS 6, or newer than 7.24) is not
    /// checked at all, as the tree cannot speak for it: `Ok`.
    pub fn check_for_version(&self, version: &str) -> Result<(), CommandCheckError> {
        let number = version.split_whitespace().next().unwrap_or_default();
        match schema().version(number) {
            Some(within) => check_words(&self.words(), within),
            None => Ok(()),
        }
    }
}

/// The check of a command's words: path first, then each attribute word.
fn check_words(words: &[Vec<u8>], within: Versions) -> Result<(), CommandCheckError> {
    let path = words
        .first()
        .map(|word| String::from_utf8_lossy(word).into_owned())
        .unwrap_or_default();
    let error = |kind, argument: Option<&str>, message: String| CommandCheckError {
        kind,
        path: path.clone(),
        argument: argument.map(str::to_owned),
        message,
    };
    let Ok(text) = core::str::from_utf8(words.first().map_or(&[][..], Vec::as_slice)) else {
        return Err(error(
            CheckErrorKind::NotText,
            None,
            "the path is not UTF-8 text".into(),
        ));
    };
    let target = check::path(text, within)
        .map_err(|message| error(CheckErrorKind::UnknownPath, None, message))?;
    for word in &words[1..] {
        // `=name=value` (`=name=` for a flag); `.tag=…` and query words are not arguments.
        let Some(attribute) = word.strip_prefix(b"=") else {
            continue;
        };
        let (name, value) = match attribute.iter().position(|&b| b == b'=') {
            Some(at) => (&attribute[..at], Some(&attribute[at + 1..])),
            None => (attribute, None),
        };
        let Ok(name) = core::str::from_utf8(name) else {
            return Err(error(
                CheckErrorKind::NotText,
                None,
                "an argument name is not UTF-8 text".into(),
            ));
        };
        check::argument(&target, name, within)
            .map_err(|message| error(CheckErrorKind::UnknownArgument, Some(name), message))?;
        if let Some(Ok(value)) = value.map(core::str::from_utf8) {
            check::value(&target, name, value)
                .map_err(|message| error(CheckErrorKind::BadValue, Some(name), message))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::CommandBuilder;

    #[test]
    fn a_good_command_passes() {
        let cmd = CommandBuilder::new()
            .command("/ip/address/add")
            .attribute("address", Some("192.168.88.1/24"))
            .attribute("interface", Some("ether1"))
            .proplist(["address"])
            .build();
        cmd.check().unwrap();
        cmd.check_for_version("7.16.2 (stable)").unwrap();
        let listen = CommandBuilder::new()
            .command("/interface/listen")
            .query_equal("running", "true")
            .build();
        listen.check().unwrap();
    }

    #[test]
    fn typos_get_the_macros_messages() {
        let path = CommandBuilder::new().command("/ip/adress/print").build();
        let error = path.check().unwrap_err();
        assert_eq!(error.kind(), &CheckErrorKind::UnknownPath);
        assert_eq!(error.path(), "/ip/adress/print");
        assert!(
            error
                .message()
                .contains("did you mean `/ip/address/print`?")
        );
        let argument = CommandBuilder::new()
            .command("/ip/address/add")
            .attribute("adress", Some("10.0.0.1/24"))
            .build();
        let error = argument.check().unwrap_err();
        assert_eq!(error.kind(), &CheckErrorKind::UnknownArgument);
        assert_eq!(error.argument(), Some("adress"));
        assert!(error.message().contains("did you mean `address`?"));
        assert!(error.to_string().contains("send the command unchecked"));
    }

    #[test]
    fn bad_values_are_named_without_the_value() {
        let cmd = CommandBuilder::new()
            .command("/interface/l2tp-ether/add")
            .attribute("send-cookie", Some("0123456789abcdef-secret"))
            .build();
        let error = cmd.check().unwrap_err();
        assert_eq!(error.kind(), &CheckErrorKind::BadValue);
        assert!(error.message().contains("max length 16"), "{error}");
        assert!(!format!("{error} {error:?}").contains("secret"));
    }

    #[test]
    fn against_the_routers_own_release() {
        let app = CommandBuilder::new().command("/app/print").build();
        app.check().unwrap();
        app.check_for_version("7.24").unwrap();
        let error = app.check_for_version("7.12.1").unwrap_err();
        assert!(error.message().contains("not in RouterOS 7.12"), "{error}");
        // Outside the covered range, the tree cannot tell: not checked.
        app.check_for_version("6.49.10 (long-term)").unwrap();
        app.check_for_version("7.99").unwrap();
    }
}
