//! Desired state across a [`Fleet`]: a plan per router (the same state, or
//! one computed per router), a summary, and an apply under the fleet's
//! limits, through the fleet's public `run_named` only.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;

use futures_util::StreamExt;

use super::{Applied, ApplyError, ApplyOptions, Desired, Plan};
use crate::fleet::Fleet;
use crate::{Error, Result};

/// Each router's plan, or why it could not be planned (unreachable, login
/// refused, a read refused).
#[derive(Debug, Clone)]
pub struct FleetPlans {
    /// By router name.
    pub plans: BTreeMap<String, Result<Plan>>,
}

/// How many routers of a [`FleetPlans`] are unchanged, to change, unreachable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FleetSummary {
    /// Already in the desired state.
    pub unchanged: usize,
    /// With something to do.
    pub to_change: usize,
    /// Not reached: connect, TLS, login or the router's deadline failed.
    pub unreachable: usize,
    /// Reached, but the plan failed (a refused read, a desired state in error).
    pub failed: usize,
}

impl fmt::Display for FleetSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} unchanged, {} to change, {} unreachable",
            self.unchanged, self.to_change, self.unreachable
        )?;
        if self.failed > 0 {
            write!(f, ", {} failed", self.failed)?;
        }
        Ok(())
    }
}

/// Whether `error` means the router was not reached (rather than refusing).
fn unreachable(error: &Error) -> bool {
    error.is_connection_error()
        || error.is_timeout()
        || matches!(
            error,
            Error::Authentication { .. } | Error::InvalidAddress { .. }
        )
}

impl FleetPlans {
    /// Plans `desired(name)` on every router of `fleet`, under its connect
    /// and job limits and deadlines; one read per router.
    pub async fn plan(
        fleet: &Fleet,
        desired: impl Fn(&str) -> Desired + Send + Sync + 'static,
    ) -> Self {
        let desired = Arc::new(desired);
        let mut run = fleet.run_named(move |name, device| {
            let desired = desired(&name);
            async move { desired.plan(&device).await }
        });
        let mut plans = BTreeMap::new();
        while let Some(done) = run.next().await {
            plans.insert(done.name.to_string(), done.result);
        }
        Self { plans }
    }

    /// The counts of routers by state.
    pub fn summary(&self) -> FleetSummary {
        let mut summary = FleetSummary::default();
        for plan in self.plans.values() {
            match plan {
                Ok(plan) if plan.is_empty() => summary.unchanged += 1,
                Ok(_) => summary.to_change += 1,
                Err(error) if unreachable(error) => summary.unreachable += 1,
                Err(_) => summary.failed += 1,
            }
        }
        summary
    }

    /// Applies each router's plan that has something to do (each checked
    /// for staleness on its router, as [`Plan::apply`]), under the fleet's
    /// limits. When any router has something to do, the fleet's run visits
    /// every router (reusing its pooled connection, or connecting again): a
    /// router with nothing to do gets no command and no result.
    ///
    /// Every plan that was not applied is in the result with the reason, so
    /// that none is lost silently: a plan whose planning failed
    /// ([`FleetApplyError::NotPlanned`], the router is not contacted), and a
    /// plan for a router that is not in `fleet`
    /// ([`FleetApplyError::NotInFleet`]: planned on another fleet or shard,
    /// or a name mistyped in [`plans`](Self::plans)).
    pub async fn apply(
        &self,
        fleet: &Fleet,
        options: ApplyOptions,
    ) -> BTreeMap<String, Result<Applied, FleetApplyError>> {
        let members: HashSet<&str> = fleet.names().collect();
        let mut results = BTreeMap::new();
        let mut todo = BTreeMap::new();
        for (name, plan) in &self.plans {
            if !members.contains(name.as_str()) {
                results.insert(name.clone(), Err(FleetApplyError::NotInFleet));
                continue;
            }
            match plan {
                Ok(plan) if plan.is_empty() => {}
                Ok(plan) => {
                    todo.insert(name.clone(), plan.clone());
                }
                Err(error) => {
                    results.insert(
                        name.clone(),
                        Err(FleetApplyError::NotPlanned(error.clone())),
                    );
                }
            }
        }
        if todo.is_empty() {
            return results;
        }
        let todo: Arc<BTreeMap<String, Plan>> = Arc::new(todo);
        let jobs = Arc::clone(&todo);
        let mut run = fleet.run_named(move |name, device| {
            let plan = jobs.get(&*name).cloned();
            let options = options.clone();
            async move {
                match plan {
                    Some(plan) => Ok(Some(plan.apply(&device, options).await)),
                    None => Ok(None),
                }
            }
        });
        while let Some(done) = run.next().await {
            if !todo.contains_key(&*done.name) {
                continue;
            }
            let result = match done.result {
                Ok(Some(applied)) => applied.map_err(FleetApplyError::Apply),
                Ok(None) => continue,
                Err(error) => Err(FleetApplyError::Router(error)),
            };
            results.insert(done.name.to_string(), result);
        }
        results
    }
}

/// Why a router's plan was not applied.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FleetApplyError {
    /// The router could not be reached (connect, login, deadline).
    #[error("{0}")]
    Router(Error),
    /// The apply refused (a stale plan) or its first read failed.
    #[error("{0}")]
    Apply(ApplyError),
    /// The router's plan had failed ([`FleetPlans::plans`] held this error):
    /// there was nothing to apply, and the router was not contacted. Plan
    /// again once the cause is fixed.
    #[error("not planned: {0}")]
    NotPlanned(Error),
    /// The router is not in the fleet given to [`FleetPlans::apply`] (a
    /// plan made on another fleet or shard, or a name not in the
    /// inventory): nothing was applied.
    #[error("not in the fleet: the plan was not applied")]
    NotInFleet,
}

impl fmt::Display for FleetPlans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        for (name, plan) in &self.plans {
            match plan {
                Ok(plan) if plan.is_empty() => writeln!(f, "{name}: no changes")?,
                Ok(plan) => {
                    writeln!(f, "{name}:")?;
                    write!(f, "{plan}")?;
                }
                Err(error) => writeln!(f, "{name}: not planned: {error}")?,
            }
        }
        Ok(())
    }
}
