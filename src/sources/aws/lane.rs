//! Where one cluster's read stands between cycles (`lanes.rs` reads it): the stage a read cut
//! short by its budget stopped at, when the cluster was last read whole, and what that cost.

use std::{
    collections::HashSet,
    time::{Duration, SystemTime},
};

use aws_sdk_ecs::types as ecs;

use crate::fleet::ClusterState;

/// Where one cluster's read stands.
#[derive(Debug, Default)]
pub struct Lane {
    pub(super) stage: Stage,
    /// When a read of all its services and running tasks last completed.
    pub fetched_at: Option<SystemTime>,
    /// API calls the read under way has made so far, and what the last whole read took.
    pub(super) spent: u64,
    pub cost: u64,
}

#[derive(Debug, Default)]
pub(super) enum Stage {
    /// The next read starts by listing the services.
    #[default]
    List,
    Services {
        arns: Vec<String>,
        next: usize,
        described: HashSet<String>,
        /// Running and pending tasks of every service, watched or not: what a cluster-wide
        /// task listing costs.
        tasks: usize,
    },
    Tasks {
        arns: Option<Vec<String>>,
        next: usize,
        running: Vec<ecs::Task>,
        tasks: usize,
    },
}

impl Lane {
    /// A read is under way (started in an earlier cycle and cut short).
    pub fn reading(&self) -> bool {
        !matches!(self.stage, Stage::List)
    }

    /// Whether the next read is due at `now`: every `interval`, or for a cluster whose read
    /// costs more than a cycle's budget, as much less often, so that one big cluster keeps
    /// the steady call rate and leaves each cycle room for the others.
    pub fn due(&self, now: SystemTime, interval: Duration, cycle_budget: u64) -> bool {
        let Some(at) = self.fetched_at else {
            return true;
        };
        let stretch = (self.cost as f64 / cycle_budget.max(1) as f64).max(1.0);
        // Due when waiting for the next cycle, an interval away, would be late.
        now.duration_since(at).unwrap_or_default() + interval >= interval.mul_f64(stretch)
    }

    pub fn state(&self, name: &str, definitions_missing: usize) -> ClusterState {
        let (listed, described) = match &self.stage {
            Stage::Services { arns, next, .. } => (arns.len(), *next),
            _ => (0, 0),
        };
        ClusterState {
            name: name.to_string(),
            fetched_at: self.fetched_at,
            listed,
            described,
            definitions_missing,
        }
    }
}
