//! Smoke checks, a post-deploy gate: the calls of a check file ([`file`]), each fanned out to
//! every ready replica of a service through the worker (so routing, credentials and served-by
//! attribution are `call --all-tasks`'s), and per check and replica a [`Verdict`] with what
//! fell short ([`expect`]). Whether a file may run at all — tools listed, arguments fitting,
//! clearance — is [`clear`]'s to say, before [`run`]. No terminal code here.

pub mod clear;
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

/// `task ID (rev N)`: a replica as summaries, JUnit testcases and CI logs name it.
pub fn replica_name(verdict: &Verdict) -> String {
    match verdict.replica() {
        (task, Some(revision)) => format!("task {task} (rev {revision})"),
        (task, None) => format!("task {task}"),
    }
}

/// How many replicas the verdicts cover.
pub fn replicas(verdicts: &[Verdict]) -> usize {
    let mut names: Vec<&str> = verdicts.iter().map(|v| v.replica().0).collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

/// Each replica that failed a check, once, by [`replica_name`], with the checks it failed, in
/// the order they first failed.
pub fn failing(verdicts: &[Verdict]) -> Vec<(String, Vec<&str>)> {
    let mut failing: Vec<(String, Vec<&str>)> = Vec::new();
    for verdict in verdicts.iter().filter(|v| !v.passed()) {
        let name = replica_name(verdict);
        match failing.iter_mut().find(|(replica, _)| *replica == name) {
            Some((_, checks)) => checks.push(&verdict.check),
            None => failing.push((name, vec![&verdict.check])),
        }
    }
    failing
}

/// `5 of 6 passed on 3 replicas; 1 failed`.
pub fn summary(verdicts: &[Verdict]) -> String {
    let failed = verdicts.iter().filter(|v| !v.passed()).count();
    let replicas = replicas(verdicts);
    let mut line = format!(
        "{} of {} passed on {replicas} replica{}",
        verdicts.len() - failed,
        verdicts.len(),
        if replicas == 1 { "" } else { "s" }
    );
    if failed > 0 {
        line.push_str(&format!("; {failed} failed"));
    }
    line
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
