//! The check against RouterOS itself: the path is a command and each attribute an
//! argument of it in some covered release (7.9 … 7.24), and literal values fit the
//! argument's exact type hints. Runs after the syntax checks passed; the messages
//! come from `mikrotik_rs_schema::check`, with the way out added.
//!
//! Off for one call written `command!(unchecked "/path", …)`, and for every call when
//! this crate's feature `unchecked` is on (`mikrotik-rs` feature `unchecked-commands`).

use mikrotik_rs_schema::{check, schema};

use crate::error::Error;
use crate::parse::{Invocation, Word};

/// How to get past the check, added to every message.
const WAY_OUT: &str = "if your router takes it anyway (RouterOS 6, a newer release, a package the \
     schema lacks), write `command!(unchecked \"/…\", …)`, or turn the check off for the whole build \
     with the mikrotik-rs feature `unchecked-commands`";

/// The errors of one call; none when it passes or is unchecked.
pub(crate) fn errors(invocation: &Invocation) -> Vec<Error> {
    if invocation.unchecked || cfg!(feature = "unchecked") {
        return Vec::new();
    }
    let within = schema().all_versions();
    let with_way_out = |message: String| format!("{message}\n\n{WAY_OUT}");
    let target = match check::path(&invocation.path, within) {
        Ok(target) => target,
        Err(message) => return vec![Error::new(invocation.path_span, with_way_out(message))],
    };
    let mut errors = Vec::new();
    for word in &invocation.words {
        let Word::Attribute(name, value) = word else {
            // Query keys are properties of the items, not arguments.
            continue;
        };
        if let Err(message) = check::argument(&target, &name.text, within) {
            errors.push(Error::spanning(name.start, name.end, with_way_out(message)));
            continue;
        }
        if let Some(text) = value.as_ref().and_then(|value| value.constant.as_ref())
            && let Err(message) = check::value(&target, &name.text, text)
        {
            let span = value.as_ref().map_or(name.start, |value| value.span);
            errors.push(Error::new(span, with_way_out(message)));
        }
    }
    errors
}
