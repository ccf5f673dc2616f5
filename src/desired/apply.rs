//! Applying a [`Plan`]: the precondition, the writes (many in flight at
//! once), each item's outcome, and the read that says whether the menu now
//! matches.
//!
//! Order of operations, and why:
//! 1. **Read** the menu again and compare with the plan's [`ReadMark`]: if
//!    the managed items moved since the plan was made, refuse
//!    ([`ApplyError::Stale`], carrying the fresh plan) or, by choice
//!    ([`ApplyOptions::replan_if_stale`]), apply the fresh plan instead.
//! 2. **Removes**, all in flight together: an item being replaced frees its
//!    identity (and any unique field) before anything could clash with it.
//! 3. **Sets**, all in flight together.
//! 4. **Adds**, all in flight together.
//!
//! Each phase waits for the previous one to end. If the connection ends in a
//! phase, the commands in flight have an [`Outcome::Unknown`] (written, answer
//! lost: the crate never sends a write again by itself), and the later phases
//! are [`Outcome::NotAttempted`]. Planning again reads what the router then
//! holds: an item added before the loss is matched by its identity, not
//! added twice.
//! 5. **Read** again (unless turned off): the plan of what is left, empty when
//!    the menu matches.
//!
//! Between the first read and the writes another client can still change the
//! menu (RouterOS has no transactions); the precondition narrows that window
//! to one round trip, it cannot close it.
//!
//! [`ReadMark`]: super::ReadMark

use futures_util::StreamExt;

use super::{Fields, Plan};
use crate::protocol::command::{Cmd, Command, CommandBuilder};
use crate::{Error, MikrotikDevice};

/// How [`Plan::apply`] behaves.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    replan_if_stale: bool,
    in_flight: usize,
    verify: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            replan_if_stale: false,
            in_flight: 1024,
            verify: true,
        }
    }
}

impl ApplyOptions {
    /// Refuse a stale plan (the default), or apply the fresh plan instead.
    pub fn replan_if_stale(mut self, replan: bool) -> Self {
        self.replan_if_stale = replan;
        self
    }

    /// At most this many writes in flight at once (default 1024; at least 1).
    pub fn in_flight(mut self, commands: usize) -> Self {
        self.in_flight = commands.max(1);
        self
    }

    /// Read the menu once more after the writes, to tell whether it matches
    /// (default on).
    pub fn verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }
}

/// What an apply did to one item.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Added this item.
    Add(Fields),
    /// Changed the item `id`.
    Set {
        /// Its `.id`.
        id: String,
        /// Its identity.
        identity: Fields,
    },
    /// Removed the item `id`.
    Remove {
        /// Its `.id`.
        id: String,
        /// Its identity.
        identity: Fields,
    },
}

/// How one item's command ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// The router did it; for an add, the new `.id`.
    Applied {
        /// The `=ret=` of the command (the new item's id after an add).
        id: Option<String>,
    },
    /// The router refused it (its [`Error::Trap`]), or it was refused before
    /// being sent.
    Failed(Error),
    /// Written, but the connection ended before the answer: it may or may not
    /// have run. The next plan reads what the router holds.
    Unknown(Error),
    /// Never sent: an earlier phase lost the connection.
    NotAttempted,
}

/// One item of an apply and its outcome.
#[derive(Debug, Clone)]
pub struct ItemResult {
    /// What was to be done.
    pub action: Action,
    /// How it ended.
    pub outcome: Outcome,
}

/// The result of [`Plan::apply`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Applied {
    /// The plan that was applied (the fresh one when a stale plan was re-planned).
    pub plan: Plan,
    /// Every item of it: removes, then sets, then adds.
    pub items: Vec<ItemResult>,
    /// The plan of what is left after the writes (empty: the menu matches);
    /// `None` when verification was off or its read failed.
    pub remaining: Option<Plan>,
    /// Why the verifying read failed, if it did.
    pub verify_error: Option<Error>,
}

impl Applied {
    /// Whether the menu matches the desired state now (a second plan is
    /// empty); `None` when that was not read.
    pub fn converged(&self) -> Option<bool> {
        self.remaining.as_ref().map(Plan::is_empty)
    }

    fn count(&self, which: fn(&Outcome) -> bool) -> usize {
        self.items.iter().filter(|i| which(&i.outcome)).count()
    }

    /// How many items the router did.
    pub fn applied(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Applied { .. }))
    }

    /// How many the router refused.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }

    /// How many may or may not have run (the connection ended).
    pub fn unknown(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Unknown(_)))
    }

    /// How many were never sent.
    pub fn not_attempted(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotAttempted))
    }
}

/// Why [`Plan::apply`] did nothing.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The managed items changed since the plan was read; nothing was
    /// written. `fresh` is the plan against the menu as it is now.
    #[error("the plan is stale: {} changed since it was read; nothing was written", .fresh.desired.menu())]
    Stale {
        /// The plan against what the router holds now.
        fresh: Box<Plan>,
    },
    /// The precondition's read failed; nothing was written.
    #[error("reading the menu before applying failed: {0}")]
    Read(Error),
}

impl Plan {
    /// Applies the plan on `device`: checks it is not stale, then removes,
    /// sets and adds with many commands in flight at once, then reads the
    /// menu again. See the [module](self) docs for the order and what an
    /// interrupted apply leaves.
    pub async fn apply(
        &self,
        device: &MikrotikDevice,
        options: ApplyOptions,
    ) -> Result<Applied, ApplyError> {
        let fresh = self.desired.plan(device).await.map_err(ApplyError::Read)?;
        let plan = if fresh.read == self.read {
            self.clone()
        } else if options.replan_if_stale {
            fresh
        } else {
            return Err(ApplyError::Stale {
                fresh: Box::new(fresh),
            });
        };
        let items = write(device, &plan, options.in_flight).await;
        let (remaining, verify_error) = if options.verify {
            match plan.desired.plan(device).await {
                Ok(after) => (Some(after), None),
                Err(error) => (None, Some(error)),
            }
        } else {
            (None, None)
        };
        Ok(Applied {
            plan,
            items,
            remaining,
            verify_error,
        })
    }
}

/// The three phases of writes; each item's outcome.
async fn write(device: &MikrotikDevice, plan: &Plan, in_flight: usize) -> Vec<ItemResult> {
    let menu = device.menu(plan.desired.menu());
    let command = |verb: &str| menu.command(verb);
    let mut phases: [Vec<(Action, Result<Command, Error>)>; 3] = [
        plan.removes
            .iter()
            .map(|r| {
                let action = Action::Remove {
                    id: r.id.clone(),
                    identity: r.identity.clone(),
                };
                (
                    action,
                    command("remove").map(|c| c.attribute(".id", Some(&r.id)).build()),
                )
            })
            .collect(),
        plan.sets
            .iter()
            .map(|s| {
                let action = Action::Set {
                    id: s.id.clone(),
                    identity: s.identity.clone(),
                };
                let built = command("set").map(|c| {
                    let c = c.attribute(".id", Some(&s.id));
                    with(c, s.changes.iter().map(|ch| (&ch.field, &ch.new))).build()
                });
                (action, built)
            })
            .collect(),
        plan.adds
            .iter()
            .map(|a| {
                let built = command("add").map(|c| with(c, a.fields.iter()).build());
                (Action::Add(a.fields.clone()), built)
            })
            .collect(),
    ];
    let mut results = Vec::with_capacity(plan.len());
    let mut connection_lost = false;
    for phase in &mut phases {
        let phase = std::mem::take(phase);
        if connection_lost {
            results.extend(phase.into_iter().map(|(action, _)| ItemResult {
                action,
                outcome: Outcome::NotAttempted,
            }));
            continue;
        }
        let (actions, commands): (Vec<Action>, Vec<_>) = phase.into_iter().unzip();
        let mut outcomes: Vec<Option<Outcome>> = vec![None; actions.len()];
        let mut done = futures_util::stream::iter(commands.into_iter().enumerate())
            .map(|(index, command)| async move {
                let result = match command {
                    Ok(command) => device.run(command).await,
                    Err(error) => Err(error),
                };
                (index, result)
            })
            .buffer_unordered(in_flight);
        while let Some((index, result)) = done.next().await {
            outcomes[index] = Some(match result {
                Ok(id) => Outcome::Applied { id },
                Err(error) if error.may_have_run() || error.is_connection_error() => {
                    connection_lost = true;
                    Outcome::Unknown(error)
                }
                Err(error) => Outcome::Failed(error),
            });
        }
        results.extend(
            actions
                .into_iter()
                .zip(outcomes)
                .map(|(action, outcome)| ItemResult {
                    action,
                    outcome: outcome.unwrap_or(Outcome::NotAttempted),
                }),
        );
    }
    results
}

fn with<K: AsRef<str>, V: AsRef<str>>(
    mut command: CommandBuilder<Cmd>,
    fields: impl Iterator<Item = (K, V)>,
) -> CommandBuilder<Cmd> {
    for (field, value) in fields {
        command = command.attribute(field.as_ref(), Some(value.as_ref()));
    }
    command
}
