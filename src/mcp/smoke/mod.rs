//! Smoke checks, a post-deploy gate: the calls of a check file ([`file`]), each fanned out to
//! every ready replica of a service through the worker (so routing, credentials and served-by
//! attribution are `call --all-tasks`'s), and per check and replica a [`Verdict`] with what
//! fell short ([`expect`]). Which tools may be called at all (listed, schema, clearance) is
//! the front end's to decide before [`run`]. No terminal code here.

pub mod expect;
pub mod file;

use std::time::Duration;

use serde::Serialize;

use super::{CallRequest, McpClient, McpError, OutcomeKind, ServedBy, TaskOutcome};

pub use expect::Miss;
pub use file::{Check, CheckFile, Expected, FileError};

/// One check on one replica.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub check: String,
    pub tool: String,
    /// The task the call was sent to.
    pub task_id: String,
    pub revision: u32,
    pub zone: Option<String>,
    /// Who answered, as the call learnt it (`ServedBy`); None when nothing was sent.
    pub served_by: Option<ServedBy>,
    pub outcome: OutcomeKind,
    pub latency_ms: f64,
    /// Each way the answer fell short; empty when the check passed here.
    pub failures: Vec<Miss>,
}

impl Verdict {
    pub fn of(check: &Check, task: &TaskOutcome) -> Self {
        let outcome = &task.outcome;
        Self {
            check: check.name.clone(),
            tool: check.tool.clone(),
            task_id: task.task_id.clone(),
            revision: task.revision,
            zone: task.zone.clone(),
            served_by: outcome.served_by.clone(),
            outcome: outcome.kind(),
            latency_ms: (outcome.duration.as_secs_f64() * 1_000_000.0).round() / 1000.0,
            failures: expect::judge(check, outcome),
        }
    }

    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The replica that answered: the one the server named when it named another than the
    /// route's, else the task the call was sent to.
    pub fn replica(&self) -> (&str, Option<u32>) {
        match &self.served_by {
            Some(by) if by.task_id.is_some() => (by.task_id.as_deref().unwrap_or(""), by.revision),
            _ => (&self.task_id, Some(self.revision)),
        }
    }
}

/// Runs every check, one after the other, each on every ready replica of `service` at once;
/// verdicts in the file's order, then task id order. A check that finds no replica to call
/// (the service gone, none ready, a URL in front of every task) ends the run.
pub async fn run(
    worker: &McpClient,
    service: &str,
    checks: &[Check],
    timeout: Duration,
) -> Result<Vec<Verdict>, McpError> {
    let mut verdicts = Vec::new();
    for check in checks {
        let request = CallRequest::new(service, check.tool.as_str(), check.arguments.clone())
            .with_timeout(Some(timeout));
        let tasks = worker.fan_out_all(request).await?;
        verdicts.extend(tasks.iter().map(|task| Verdict::of(check, task)));
    }
    Ok(verdicts)
}
