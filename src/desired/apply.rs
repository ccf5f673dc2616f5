//! Applying a [`Plan`]: the precondition, the writes (many in flight at
//! once), each item's outcome, and the read that says whether the menu now
//! matches.
//!
//! The order of operations is documented on [`Plan::apply`], where users see it.

use std::fmt;
use std::sync::Arc;

use futures_util::StreamExt;

use super::{Fields, Plan};
use crate::protocol::command::{Cmd, Command, CommandBuilder};
use crate::{Error, MikrotikDevice};

/// Called with each item's result as soon as it is known.
type Observer = Arc<dyn Fn(&ItemResult) + Send + Sync>;

/// How [`Plan::apply`] behaves.
#[derive(Clone)]
pub struct ApplyOptions {
    replan_if_stale: bool,
    in_flight: usize,
    verify: bool,
    after_each: Option<Observer>,
}

impl fmt::Debug for ApplyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("replan_if_stale", &self.replan_if_stale)
            .field("in_flight", &self.in_flight)
            .field("verify", &self.verify)
            .field("after_each", &self.after_each.is_some())
            .finish()
    }
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            replan_if_stale: false,
            in_flight: 1024,
            verify: true,
            after_each: None,
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

    /// Calls `observer` with each item's result as soon as the router has
    /// answered it (progress, or a check of the menu after every step).
    ///
    /// The observer runs inside the apply, between two writes: keep it short
    /// and never block. If it panics, the panic unwinds out of
    /// [`Plan::apply`] (and out of [`FleetPlans::apply`](super::FleetPlans::apply))
    /// to its caller, and the apply ends as if its future were dropped: its
    /// commands in flight are cancelled on the router and nothing more is sent.
    pub fn after_each(mut self, observer: impl Fn(&ItemResult) + Send + Sync + 'static) -> Self {
        self.after_each = Some(Arc::new(observer));
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
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Added this item.
    Add(Arc<Fields>),
    /// Changed the item `id`.
    Set {
        /// Its `.id`.
        id: String,
        /// Its identity.
        identity: Fields,
    },
    /// Moved the item `id` right before `before` (`None`: to the end).
    Move {
        /// Its `.id`.
        id: String,
        /// The item it now stands before.
        before: Option<String>,
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
    /// Never sent: an earlier phase lost the connection, or (in an ordered
    /// menu) this is a remove and an earlier write was refused, so what
    /// replaces the item may not be in place.
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
    /// The fresh plan that was applied instead of the one given, when that
    /// was stale and [`ApplyOptions::replan_if_stale`] was on; `None`: the
    /// plan given was applied as it was.
    pub replanned: Option<Plan>,
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
    /// Applies the plan on `device`: checks it is not stale, writes with
    /// many commands in flight at once, then reads the menu again.
    ///
    /// Order of operations, and why:
    /// 1. **Read** the menu again and compare with the plan's [`ReadMark`]: if
    ///    the managed items moved since the plan was made (in an ordered menu,
    ///    also if any row moved), refuse ([`ApplyError::Stale`], carrying the
    ///    fresh plan) or, by choice ([`ApplyOptions::replan_if_stale`]), apply
    ///    the fresh plan instead.
    /// 2. Unordered menus: **removes**, then **sets**, then **adds**, each phase
    ///    with all its commands in flight together (up to
    ///    [`ApplyOptions::in_flight`]): an item being replaced frees its identity
    ///    (and any unique field) before anything could clash with it.
    /// 3. Ordered menus ([`Desired::ensure_order`]) make before they break:
    ///    **sets** (in flight together); then the **moves**, one at a time, each
    ///    one `move` command placing one rule (so a rule is never absent nor
    ///    twice, and only the fewest rules ever move); then the **adds**, each
    ///    straight at its final place (`place-before`), new items before the
    ///    same successor one after another, the others in flight together; and
    ///    only then the **removes**, one at a time from the bottom up (each
    ///    exposes only rules below it, which are final). A rule that goes away stays in force until
    ///    everything that replaces it is in place (if any write before them is
    ///    refused, no remove is sent: they are [`Outcome::NotAttempted`]), and a new rule is never in
    ///    force anywhere but at its final place. What `move` cannot avoid: between
    ///    two moves the kept rules are in an order that is neither the old nor the
    ///    new one; the moves are the fewest, and a rule set whose meaning depends
    ///    on a reorder should be reviewed with [`ApplyOptions::after_each`] or
    ///    planned in steps.
    ///
    /// Each phase waits for the previous one to end. If the connection ends in a
    /// phase, the commands in flight have an [`Outcome::Unknown`] (written, answer
    /// lost: the crate never sends a write again by itself), and the rest are
    /// [`Outcome::NotAttempted`]. Planning again reads what the router then
    /// holds: an item added before the loss is matched by its identity, not
    /// added twice.
    /// 4. **Read** again (unless turned off): the plan of what is left, empty when
    ///    the menu matches.
    ///
    /// Between the first read and the writes another client can still change the
    /// menu (RouterOS has no transactions); the precondition narrows that window
    /// to one round trip, it cannot close it.
    ///
    /// Cancel safety: dropping the future in any phase cancels its commands in
    /// flight on the router (`/cancel`) and sends nothing more; what the router
    /// already did stays, and the next plan reads it.
    ///
    /// [`ReadMark`]: super::ReadMark
    /// [`Desired::ensure_order`]: super::Desired::ensure_order
    pub async fn apply(
        &self,
        device: &MikrotikDevice,
        options: ApplyOptions,
    ) -> Result<Applied, ApplyError> {
        let fresh = self
            .desired
            .plan_unless(device, self.read)
            .await
            .map_err(ApplyError::Read)?;
        let fresh = match fresh {
            None => None,
            Some(fresh) if options.replan_if_stale => Some(fresh),
            Some(fresh) => {
                return Err(ApplyError::Stale {
                    fresh: Box::new(fresh),
                });
            }
        };
        let plan = fresh.as_ref().unwrap_or(self);
        let items = write(device, plan, &options).await;
        let (remaining, verify_error) = if options.verify {
            match plan.desired.plan(device).await {
                Ok(after) => (Some(after), None),
                Err(error) => (None, Some(error)),
            }
        } else {
            (None, None)
        };
        Ok(Applied {
            replanned: fresh,
            items,
            remaining,
            verify_error,
        })
    }
}

/// One command of a phase: what it does and the command (or why it could not be built).
type Step = (Action, Result<Command, Error>);

/// The phases of writes, each a list of groups: the commands of a group go
/// one after another, groups are in flight together.
fn phases(device: &MikrotikDevice, plan: &Plan) -> Vec<Vec<Vec<Step>>> {
    let menu = device.menu(plan.desired.menu());
    let [remove, set, add_verb, move_verb] =
        ["remove", "set", "add", "move"].map(|v| Verb::new(&menu, v));
    let removes: Vec<Vec<Step>> = plan
        .removes
        .iter()
        .map(|r| {
            let action = Action::Remove {
                id: r.id.clone(),
                identity: r.identity.clone(),
            };
            let built = remove
                .builder()
                .map(|c| c.attribute(".id", Some(&r.id)).build());
            vec![(action, built)]
        })
        .collect();
    let sets = plan
        .sets
        .iter()
        .map(|s| {
            let action = Action::Set {
                id: s.id.clone(),
                identity: s.identity.clone(),
            };
            let built = set.builder().map(|c| {
                let c = c.attribute(".id", Some(&s.id));
                with(c, s.changes.iter().map(|ch| (&ch.field, &ch.new))).build()
            });
            vec![(action, built)]
        })
        .collect();
    let add = |a: &super::Add| -> Step {
        let built = add_verb.builder().map(|c| {
            let c = with(c, a.fields.iter());
            match &a.place_before {
                Some(before) => c.attribute("place-before", Some(before)).build(),
                None => c.build(),
            }
        });
        (Action::Add(Arc::clone(&a.fields)), built)
    };
    if !plan.desired.is_ordered() {
        let adds = plan.adds.iter().map(|a| vec![add(a)]).collect();
        return vec![removes, sets, adds];
    }
    let moves: Vec<Step> = plan
        .moves
        .iter()
        .map(|m| {
            let action = Action::Move {
                id: m.id.clone(),
                before: m.before.clone(),
            };
            let built = move_verb.builder().map(|c| {
                let c = c.attribute("numbers", Some(&m.id));
                match &m.before {
                    Some(before) => c.attribute("destination", Some(before)).build(),
                    None => c.build(),
                }
            });
            (action, built)
        })
        .collect();
    // New items before the same successor go in desired order, one by one.
    let mut adds: Vec<Vec<Step>> = Vec::new();
    let mut group_of: std::collections::HashMap<&Option<String>, usize> =
        std::collections::HashMap::new();
    for a in &plan.adds {
        let group = *group_of.entry(&a.place_before).or_insert_with(|| {
            adds.push(Vec::new());
            adds.len() - 1
        });
        adds[group].push(add(a));
    }
    // Removes one at a time from the bottom up: a packet the removed rule
    // matched first now meets only rules below it, all of them final, so
    // every step answers as the state before the removes or as the new set.
    // Removed together, an upper rule could go first and expose another
    // rule on its way out (a drop gone while an accept below it is not).
    let removes = removes.into_iter().rev().flatten().collect();
    vec![sets, vec![moves], adds, vec![removes]]
}

/// One verb of the menu: its path checked and written once, not per item.
struct Verb(Result<String, Error>);

impl Verb {
    fn new(menu: &crate::api::Menu, verb: &str) -> Self {
        Self(
            menu.command(verb)
                .map(|_| format!("{}/{verb}", menu.path())),
        )
    }

    fn builder(&self) -> Result<CommandBuilder<Cmd>, Error> {
        self.0
            .as_ref()
            .map(|path| CommandBuilder::new().command(path))
            .map_err(Clone::clone)
    }
}

/// Runs the phases; each item's outcome, in phase order.
async fn write(device: &MikrotikDevice, plan: &Plan, options: &ApplyOptions) -> Vec<ItemResult> {
    let lost = std::sync::atomic::AtomicBool::new(false);
    let mut results: Vec<ItemResult> = Vec::with_capacity(plan.len());
    let phases = phases(device, plan);
    let last = phases.len().saturating_sub(1);
    for (n, phase) in phases.into_iter().enumerate() {
        // Make before break: in an ordered menu the removes (the last phase)
        // wait for everything that replaces them; after a refused write none
        // is sent, so no rule goes before its replacement is in force.
        let refused = results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed(_)));
        if plan.desired.is_ordered() && n == last && refused {
            lost.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let lost = &lost;
        let mut done = futures_util::stream::iter(phase)
            .map(|group| async move {
                let mut out = Vec::with_capacity(group.len());
                for (action, command) in group {
                    let outcome = if lost.load(std::sync::atomic::Ordering::Relaxed) {
                        Outcome::NotAttempted
                    } else {
                        let result = match command {
                            Ok(command) => device.run(command).await,
                            Err(error) => Err(error),
                        };
                        match result {
                            Ok(id) => Outcome::Applied { id },
                            Err(error) if error.may_have_run() || error.is_connection_error() => {
                                lost.store(true, std::sync::atomic::Ordering::Relaxed);
                                Outcome::Unknown(error)
                            }
                            Err(error) => Outcome::Failed(error),
                        }
                    };
                    let item = ItemResult { action, outcome };
                    if let Some(observer) = &options.after_each {
                        observer(&item);
                    }
                    out.push(item);
                }
                out
            })
            .buffer_unordered(options.in_flight);
        while let Some(group) = done.next().await {
            results.extend(group);
        }
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
