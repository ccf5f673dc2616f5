//! [`Traps`]: every `!trap` of one command, and the command they answer.

use crate::prelude::*;
use alloc::sync::Arc;
use core::fmt;
use core::ops::Deref;

use super::TrapResponse;

/// The `!trap`s of one command (RouterOS may send several before its `!done`),
/// with the path of the command, so an error says what failed
/// (`/ip/address/add: failure: already have such address`).
///
/// Reads like the slice of traps it holds: `traps.len()`, `traps[0].message`,
/// `traps.iter()`; [`command`](Self::command) is the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traps {
    traps: Arc<[TrapResponse]>,
    command: Option<Arc<str>>,
}

impl Traps {
    /// Traps of a command whose path is not known.
    pub fn new(traps: impl Into<Arc<[TrapResponse]>>) -> Self {
        Self {
            traps: traps.into(),
            command: None,
        }
    }

    /// The same traps, naming the command they answer (e.g. `/ip/address/add`).
    pub fn in_command(mut self, path: impl Into<Arc<str>>) -> Self {
        self.command = Some(path.into());
        self
    }

    /// The path of the command that was refused, when known.
    pub fn command(&self) -> Option<&str> {
        self.command.as_deref()
    }
}

impl Deref for Traps {
    type Target = [TrapResponse];

    fn deref(&self) -> &[TrapResponse] {
        &self.traps
    }
}

impl From<Vec<TrapResponse>> for Traps {
    fn from(traps: Vec<TrapResponse>) -> Self {
        Self::new(traps)
    }
}

impl From<Arc<[TrapResponse]>> for Traps {
    fn from(traps: Arc<[TrapResponse]>) -> Self {
        Self::new(traps)
    }
}

impl<'a> IntoIterator for &'a Traps {
    type Item = &'a TrapResponse;
    type IntoIter = core::slice::Iter<'a, TrapResponse>;

    fn into_iter(self) -> Self::IntoIter {
        self.traps.iter()
    }
}

impl fmt::Display for Traps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(command) = &self.command {
            write!(f, "{command}: ")?;
        }
        for (i, trap) in self.traps.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{trap}")?;
        }
        Ok(())
    }
}
