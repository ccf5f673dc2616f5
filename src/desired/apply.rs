//! Applying a [`Plan`]: the precondition, the writes (many in flight at
//! once), each item's outcome, and the read that says whether the menu now
//! matches.
//!
//! The order of operations is documented on [`Plan::apply`], where users see it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// One write of a plan (the index of its item), built into its command only
/// when its turn comes: 10,000 adds are never all held as commands at once.
#[derive(Clone, Copy)]
enum Todo {
    Remove(usize),
    Set(usize),
    Move(usize),
    Add(usize),
}

/// Writes that go one after another; the groups of a phase are in flight together.
enum Group {
    One(Todo),
    InTurn(Vec<Todo>),
}

/// A group's results: one, or in the order its writes went.
enum GroupResults {
    One(ItemResult),
    InTurn(Vec<ItemResult>),
}

/// The phases of writes, in the order [`Plan::apply`] documents.
fn phases(plan: &Plan) -> Vec<Vec<Group>> {
    let one = Group::One;
    let removes = (0..plan.removes.len()).map(Todo::Remove);
    let sets = (0..plan.sets.len()).map(Todo::Set).map(one).collect();
    if !plan.desired.is_ordered() {
        let adds = (0..plan.adds.len()).map(Todo::Add).map(one).collect();
        return vec![removes.map(one).collect(), sets, adds];
    }
    let moves = (0..plan.moves.len()).map(Todo::Move).collect();
    // New items before the same successor go in desired order, one by one.
    let mut adds: Vec<Vec<Todo>> = Vec::new();
    let mut group_of: std::collections::HashMap<&Option<String>, usize> =
        std::collections::HashMap::new();
    for (n, a) in plan.adds.iter().enumerate() {
        let group = *group_of.entry(&a.place_before).or_insert_with(|| {
            adds.push(Vec::new());
            adds.len() - 1
        });
        adds[group].push(Todo::Add(n));
    }
    // Removes one at a time from the bottom up: a packet the removed rule
    // matched first now meets only rules below it, all of them final, so
    // every step answers as the state before the removes or as the new set.
    // Removed together, an upper rule could go first and expose another
    // rule on its way out (a drop gone while an accept below it is not).
    let removes = removes.rev().collect();
    let adds = adds.into_iter().map(Group::InTurn).collect();
    vec![
        sets,
        vec![Group::InTurn(moves)],
        adds,
        vec![Group::InTurn(removes)],
    ]
}

/// The menu's write verbs, each path checked and written once, not per item.
struct Verbs {
    remove: Verb,
    set: Verb,
    add: Verb,
    move_: Verb,
}

impl Verbs {
    fn of(device: &MikrotikDevice, plan: &Plan) -> Self {
        let menu = device.menu(plan.desired.menu());
        Self {
            remove: Verb::new(&menu, "remove"),
            set: Verb::new(&menu, "set"),
            add: Verb::new(&menu, "add"),
            move_: Verb::new(&menu, "move"),
        }
    }

    /// The command for `todo` of `plan`, or why it could not be built.
    fn command(&self, plan: &Plan, todo: Todo) -> Result<Command, Error> {
        match todo {
            Todo::Remove(n) => {
                let id = &plan.removes[n].id;
                self.remove
                    .builder()
                    .map(|c| c.attribute(".id", Some(id)).build())
            }
            Todo::Set(n) => {
                let s = &plan.sets[n];
                self.set.builder().map(|c| {
                    let c = c.attribute(".id", Some(&s.id));
                    with(c, s.changes.iter().map(|ch| (&ch.field, &ch.new))).build()
                })
            }
            Todo::Move(n) => {
                let m = &plan.moves[n];
                self.move_.builder().map(|c| {
                    let c = c.attribute("numbers", Some(&m.id));
                    match &m.before {
                        Some(before) => c.attribute("destination", Some(before)).build(),
                        None => c.build(),
                    }
                })
            }
            Todo::Add(n) => {
                let a = &plan.adds[n];
                self.add.builder().map(|c| {
                    let c = with(c, a.fields.iter());
                    match &a.place_before {
                        Some(before) => c.attribute("place-before", Some(before)).build(),
                        None => c.build(),
                    }
                })
            }
        }
    }
}

/// What `todo` of `plan` does, as its result reports it.
fn action(plan: &Plan, todo: Todo) -> Action {
    match todo {
        Todo::Remove(n) => Action::Remove {
            id: plan.removes[n].id.clone(),
            identity: plan.removes[n].identity.clone(),
        },
        Todo::Set(n) => Action::Set {
            id: plan.sets[n].id.clone(),
            identity: plan.sets[n].identity.clone(),
        },
        Todo::Move(n) => Action::Move {
            id: plan.moves[n].id.clone(),
            before: plan.moves[n].before.clone(),
        },
        Todo::Add(n) => Action::Add(Arc::clone(&plan.adds[n].fields)),
    }
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
    let lost = AtomicBool::new(false);
    let verbs = Verbs::of(device, plan);
    let mut results: Vec<ItemResult> = Vec::with_capacity(plan.len());
    let phases = phases(plan);
    let last = phases.len().saturating_sub(1);
    for (n, phase) in phases.into_iter().enumerate() {
        // Make before break: in an ordered menu the removes (the last phase)
        // wait for everything that replaces them; after a refused write none
        // is sent, so no rule goes before its replacement is in force.
        let refused = results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed(_)));
        if plan.desired.is_ordered() && n == last && refused {
            lost.store(true, Ordering::Relaxed);
        }
        let (verbs, lost) = (&verbs, &lost);
        let groups = phase
            .into_iter()
            .map(|group| run_group(device, plan, verbs, group, lost, options));
        let mut done = futures_util::stream::iter(groups).buffer_unordered(options.in_flight);
        while let Some(group) = done.next().await {
            match group {
                GroupResults::One(item) => results.push(item),
                GroupResults::InTurn(items) => results.extend(items),
            }
        }
    }
    results
}

/// Runs a group's writes one after another.
async fn run_group(
    device: &MikrotikDevice,
    plan: &Plan,
    verbs: &Verbs,
    group: Group,
    lost: &AtomicBool,
    options: &ApplyOptions,
) -> GroupResults {
    match group {
        Group::One(todo) => {
            GroupResults::One(run_one(device, plan, verbs, todo, lost, options).await)
        }
        Group::InTurn(todos) => {
            let mut out = Vec::with_capacity(todos.len());
            for todo in todos {
                out.push(run_one(device, plan, verbs, todo, lost, options).await);
            }
            GroupResults::InTurn(out)
        }
    }
}

/// Builds and sends one write, unless the connection was lost before its
/// turn; tells the observer how it ended.
async fn run_one(
    device: &MikrotikDevice,
    plan: &Plan,
    verbs: &Verbs,
    todo: Todo,
    lost: &AtomicBool,
    options: &ApplyOptions,
) -> ItemResult {
    let outcome = if lost.load(Ordering::Relaxed) {
        Outcome::NotAttempted
    } else {
        let result = match verbs.command(plan, todo) {
            Ok(command) => device.run(command).await,
            Err(error) => Err(error),
        };
        match result {
            Ok(id) => Outcome::Applied { id },
            Err(error) if error.may_have_run() || error.is_connection_error() => {
                lost.store(true, Ordering::Relaxed);
                Outcome::Unknown(error)
            }
            Err(error) => Outcome::Failed(error),
        }
    };
    let item = ItemResult {
        action: action(plan, todo),
        outcome,
    };
    if let Some(observer) = &options.after_each {
        observer(&item);
    }
    item
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
