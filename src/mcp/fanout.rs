//! Fan-out: the same call on every ready task of a service at once, one outcome per task, so a
//! person sees which replica (or revision) answers differently.

use std::time::Instant;

use tokio::task::JoinSet;

use crate::fleet::FleetSnapshot;

use super::{CallControl, CallOutcome, CallRequest, McpError, Pool, Target, route::RoundRobin};

/// One task's answer to a fanned-out call.
#[derive(Debug, Clone)]
pub struct TaskOutcome {
    pub task_id: String,
    pub revision: u32,
    /// The task's availability zone, when the source knows it.
    pub zone: Option<String>,
    pub outcome: CallOutcome,
}

impl Pool {
    /// Calls `request.tool` on every ready task of `request.service` concurrently; the target
    /// is ignored. Each task checks the arguments against its own tool list (revisions may
    /// differ), and no call moves to another task. Outcomes are in task id order.
    pub async fn fan_out(
        &self,
        fleet: &FleetSnapshot,
        request: &CallRequest,
    ) -> Result<Vec<TaskOutcome>, McpError> {
        self.fan_out_with(fleet, request, &CallControl::default())
            .await
    }

    /// [`Pool::fan_out`] with every call's events going to `control`; cancelling it cancels
    /// them all.
    pub async fn fan_out_with(
        &self,
        fleet: &FleetSnapshot,
        request: &CallRequest,
        control: &CallControl,
    ) -> Result<Vec<TaskOutcome>, McpError> {
        let candidates = RoundRobin::all_ready(fleet, &request.service)?;
        let zone_of = |id: &str| {
            let task = fleet.service(&request.service)?.task(id)?;
            task.availability_zone.clone()
        };
        let mut calls = JoinSet::new();
        for (index, candidate) in candidates.into_iter().enumerate() {
            let pool = self.clone();
            let mut request = request.clone();
            request.target = Target::Task(candidate.task_id.clone());
            let control = control.child();
            let zone = zone_of(&candidate.task_id);
            calls.spawn(async move {
                let (task_id, revision) = (candidate.task_id.clone(), candidate.revision);
                let outcome = pool
                    .call_candidates(vec![candidate], &request, &control, Instant::now())
                    .await;
                (
                    index,
                    TaskOutcome {
                        task_id,
                        revision,
                        zone,
                        outcome,
                    },
                )
            });
        }
        let mut outcomes = Vec::with_capacity(calls.len());
        while let Some(joined) = calls.join_next().await {
            match joined {
                Ok(outcome) => outcomes.push(outcome),
                Err(error) => {
                    return Err(McpError::Protocol(format!(
                        "a fan-out call panicked: {error}"
                    )));
                }
            }
        }
        outcomes.sort_by_key(|(index, _)| *index);
        Ok(outcomes.into_iter().map(|(_, outcome)| outcome).collect())
    }
}
