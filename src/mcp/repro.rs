//! The flake reproducer: the same call sent many times, a few at once, through the MCP worker;
//! per replica, how many calls, which failures (tool error, protocol error, HTTP status,
//! timeout, connection), the failure rate with a 95 % confidence interval and the latency
//! quantiles; the first failure of each kind kept whole for an incident file.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::SystemTime,
};

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::{sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

use super::{CallOutcome, CallRequest, McpClient, McpError, OutcomeKind, Target, ToolInfo};
use crate::fleet::FleetSnapshot;

/// What to send, how often, how many at once and where.
#[derive(Debug, Clone)]
pub struct ReproPlan {
    pub request: CallRequest,
    pub calls: usize,
    pub concurrency: usize,
    /// Each call pinned to the next ready task in turn, so every replica gets its share
    /// (instead of routing as a single call would).
    pub spread: Vec<String>,
}

/// The ready tasks of `service` in id order, for [`ReproPlan::spread`], as fan-out reaches
/// them: none can be pinned through a URL in front of every task.
pub fn spread_over(fleet: &FleetSnapshot, service: &str) -> Result<Vec<String>, McpError> {
    let ready = super::route::RoundRobin::all_ready(fleet, service)?;
    Ok(ready
        .into_iter()
        .map(|candidate| candidate.task_id)
        .collect())
}

/// A replica by the first 8 characters of its task id, or `(unknown)` where no replica named
/// itself: how every table of replicas, on a terminal and in the console, names one.
pub fn replica_label(task_id: Option<&str>) -> String {
    task_id.map_or("(unknown)".to_string(), |t| t.chars().take(8).collect())
}

/// Failures by kind as `tool_error=3 http_503=1`, or `-` without any.
pub fn kinds_text(by_kind: &std::collections::BTreeMap<String, u64>) -> String {
    if by_kind.is_empty() {
        return "-".into();
    }
    let kinds: Vec<String> = by_kind
        .iter()
        .map(|(kind, n)| format!("{kind}={n}"))
        .collect();
    kinds.join(" ")
}

/// Why a tool is not sent again and again without `--force`: only a tool its server calls
/// read-only, or idempotent and not destructive, is safe to repeat.
pub fn repeat_refusal(tool: &ToolInfo, calls: usize) -> Option<String> {
    repeat_refusal_as(
        tool,
        &format!("repro would call {} {calls} times", tool.name),
    )
}

/// [`repeat_refusal`] for another command: `doing` says what it would do with the tool.
pub fn repeat_refusal_as(tool: &ToolInfo, doing: &str) -> Option<String> {
    let why = if tool.read_only == Some(true) {
        return None;
    } else if tool.destructive == Some(true) {
        "its server annotates it destructiveHint: true, so each call may destroy whatever \
         reached the replica since the last one"
            .to_string()
    } else if tool.idempotent == Some(true) {
        return None;
    } else if tool.destructive == Some(false) {
        "its server annotates it neither readOnlyHint nor idempotentHint: it only adds \
         (destructiveHint: false), but each call may add again"
            .to_string()
    } else {
        "its server annotates it neither readOnlyHint nor idempotentHint: it may change or \
         delete something each time"
            .to_string()
    };
    Some(format!(
        "{doing}, and {why}; pass --force to send it anyway"
    ))
}

/// A failure, by what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The tool answered `isError: true`.
    ToolError,
    /// A JSON-RPC error or a message the client could not use.
    ProtocolError,
    /// An HTTP status other than 2xx.
    HttpStatus(u16),
    Timeout,
    /// Refused, reset or closed connections; unreachable endpoints.
    Connection,
    Other,
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FailureKind::ToolError => f.write_str("tool error"),
            FailureKind::ProtocolError => f.write_str("protocol error"),
            FailureKind::HttpStatus(code) => write!(f, "HTTP {code}"),
            FailureKind::Timeout => f.write_str("timeout"),
            FailureKind::Connection => f.write_str("connection"),
            FailureKind::Other => f.write_str("other"),
        }
    }
}

impl FailureKind {
    /// How `outcome` failed; None when it did not.
    pub fn of(outcome: &CallOutcome) -> Option<Self> {
        // An HTTP status says more than the error rmcp made of it.
        let status = outcome
            .exchange
            .rounds
            .iter()
            .flat_map(|round| &round.http)
            .filter_map(|http| http.status)
            .rfind(|status| !(200..300).contains(status));
        match (outcome.kind(), &outcome.result) {
            (OutcomeKind::Ok, _) => None,
            (OutcomeKind::ToolError, _) => Some(FailureKind::ToolError),
            (OutcomeKind::TimedOut, _) => Some(FailureKind::Timeout),
            _ if status.is_some() => status.map(FailureKind::HttpStatus),
            (_, Err(McpError::Protocol(_))) => Some(FailureKind::ProtocolError),
            (_, Err(McpError::Unreachable { .. })) => Some(FailureKind::Connection),
            (_, Err(McpError::Refused { .. })) => Some(FailureKind::Connection),
            _ => Some(FailureKind::Other),
        }
    }

    /// A stable name for files and JSON: `tool_error`, `http_503`, …
    pub fn slug(&self) -> String {
        match self {
            FailureKind::HttpStatus(code) => format!("http_{code}"),
            other => other.to_string().replace(' ', "_"),
        }
    }
}

/// One replica's figures so far.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaFigures {
    /// None when the replica is unknown (a URL in front of every task).
    pub task_id: Option<String>,
    pub revision: Option<u32>,
    pub calls: u64,
    pub failures: u64,
    /// By kind, `tool_error`, `http_503`, …
    pub failures_by_kind: BTreeMap<String, u64>,
    pub failure_rate: f64,
    /// The 95 % Wilson score interval of the failure rate.
    pub failure_rate_low: f64,
    pub failure_rate_high: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Where a run stands: every replica's figures, and the replica that stands out, if one does.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReproReport {
    pub planned: usize,
    pub done: usize,
    pub replicas: Vec<ReplicaFigures>,
    /// The replica whose failure rate is above every other's with 95 % confidence.
    pub suspect: Option<String>,
    /// Calls that could not be sent at all (no ready task, unknown tool, …), with why.
    pub not_sent: u64,
    pub last_error: Option<String>,
}

/// The first failure of a kind, whole, for an incident file.
#[derive(Debug, Clone)]
pub struct FirstFailure {
    pub kind: FailureKind,
    pub at: SystemTime,
    pub request: CallRequest,
    pub outcome: CallOutcome,
}

#[derive(Default)]
struct Tally {
    replicas: BTreeMap<Option<String>, Replica>,
    done: usize,
    not_sent: u64,
    last_error: Option<String>,
    first: BTreeMap<FailureKind, FirstFailure>,
}

struct Replica {
    revision: Option<u32>,
    calls: u64,
    failures: BTreeMap<FailureKind, u64>,
    /// Microseconds.
    latency: Histogram<u64>,
}

impl Tally {
    fn add(&mut self, request: &CallRequest, outcome: CallOutcome) {
        self.done += 1;
        let Some(by) = &outcome.served_by else {
            self.not_sent += 1;
            self.last_error = outcome.result.as_ref().err().map(|e| e.to_string());
            return;
        };
        let replica = self
            .replicas
            .entry(by.task_id.clone())
            .or_insert_with(|| Replica {
                revision: by.revision,
                calls: 0,
                failures: BTreeMap::new(),
                latency: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                    .expect("static histogram bounds are valid"),
            });
        replica.calls += 1;
        let micros = u64::try_from(outcome.duration.as_micros()).unwrap_or(u64::MAX);
        let _ = replica.latency.record(micros.clamp(1, 3_600_000_000));
        if let Some(kind) = FailureKind::of(&outcome) {
            *replica.failures.entry(kind).or_default() += 1;
            self.first.entry(kind).or_insert_with(|| FirstFailure {
                kind,
                at: SystemTime::now(),
                request: request.clone(),
                outcome,
            });
        }
    }

    fn report(&self, planned: usize) -> ReproReport {
        let replicas: Vec<ReplicaFigures> = self
            .replicas
            .iter()
            .map(|(task_id, r)| {
                let failures: u64 = r.failures.values().sum();
                let (low, high) = wilson(failures, r.calls);
                let ms = |q: f64| r.latency.value_at_quantile(q) as f64 / 1000.0;
                ReplicaFigures {
                    task_id: task_id.clone(),
                    revision: r.revision,
                    calls: r.calls,
                    failures,
                    failures_by_kind: r
                        .failures
                        .iter()
                        .map(|(kind, n)| (kind.slug(), *n))
                        .collect(),
                    failure_rate: rate(failures, r.calls),
                    failure_rate_low: low,
                    failure_rate_high: high,
                    p50_ms: ms(0.5),
                    p90_ms: ms(0.9),
                    p99_ms: ms(0.99),
                    max_ms: r.latency.max() as f64 / 1000.0,
                }
            })
            .collect();
        ReproReport {
            planned,
            done: self.done,
            suspect: suspect(&replicas),
            replicas,
            not_sent: self.not_sent,
            last_error: self.last_error.clone(),
        }
    }
}

fn rate(failures: u64, calls: u64) -> f64 {
    if calls == 0 {
        0.0
    } else {
        failures as f64 / calls as f64
    }
}

/// The 95 % Wilson score interval of `failures` in `calls`.
pub fn wilson(failures: u64, calls: u64) -> (f64, f64) {
    if calls == 0 {
        return (0.0, 1.0);
    }
    const Z: f64 = 1.959_964;
    let n = calls as f64;
    let p = failures as f64 / n;
    let denominator = 1.0 + Z * Z / n;
    let center = (p + Z * Z / (2.0 * n)) / denominator;
    let half = Z * (p * (1.0 - p) / n + Z * Z / (4.0 * n * n)).sqrt() / denominator;
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// The replica that fails more than all the others together, beyond doubt: its interval's low
/// end above the others' pooled interval's high end.
fn suspect(replicas: &[ReplicaFigures]) -> Option<String> {
    if replicas.len() < 2 {
        return None;
    }
    let worst = replicas
        .iter()
        .max_by(|a, b| a.failure_rate.total_cmp(&b.failure_rate))?;
    let others = Others::of(replicas, worst);
    (worst.failure_rate_low > others.high)
        .then(|| worst.task_id.clone())
        .flatten()
}

/// Every replica but one, their calls pooled: what a standing-out replica is set against.
#[derive(Debug, Clone, Copy)]
pub struct Others {
    pub rate: f64,
    /// The 95 % Wilson score interval of the pooled failure rate.
    pub low: f64,
    pub high: f64,
}

impl Others {
    fn of(replicas: &[ReplicaFigures], one: &ReplicaFigures) -> Self {
        let (calls, failures) = replicas
            .iter()
            .filter(|r| !std::ptr::eq(*r, one))
            .fold((0, 0), |(c, f), r| (c + r.calls, f + r.failures));
        let (low, high) = wilson(failures, calls);
        Self {
            rate: rate(failures, calls),
            low,
            high,
        }
    }
}

impl ReproReport {
    /// The suspect's figures and the others' pooled, when a replica stands out.
    pub fn standing_out(&self) -> Option<(&ReplicaFigures, Others)> {
        let id = self.suspect.as_ref()?;
        let replica = self
            .replicas
            .iter()
            .find(|r| r.task_id.as_ref() == Some(id))?;
        Some((replica, Others::of(&self.replicas, replica)))
    }
}

/// How a reproducer ended: its figures and the first failure of each kind, with where the
/// front end saved them as incident files.
#[derive(Debug, Clone)]
pub struct ReproEnd {
    pub report: ReproReport,
    pub firsts: Vec<FirstFailure>,
    pub incidents: Vec<std::path::PathBuf>,
}

/// The figures go to the caller at most this often.
const PUBLISH_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

impl McpClient {
    /// Starts `plan` in the background: its figures go to `updates` as `Repro` (at most every
    /// 200 ms) and its end as `ReproDone`, tagged with the returned id; cancelling the token
    /// stops it.
    pub fn repro(
        &self,
        plan: ReproPlan,
        updates: super::UpdateSink,
    ) -> (super::CallId, CancellationToken) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let cancel = CancellationToken::new();
        let (client, stop) = (self.clone(), cancel.clone());
        tokio::spawn(async move {
            let (progress, mut watching) = watch::channel(Arc::new(ReproReport::default()));
            let forward = {
                let updates = updates.clone();
                async move {
                    while watching.changed().await.is_ok() {
                        let report = watching.borrow_and_update().clone();
                        if updates
                            .send((id, super::CallUpdate::Repro(report)))
                            .is_err()
                        {
                            break;
                        }
                        tokio::time::sleep(PUBLISH_EVERY).await;
                    }
                }
            };
            let forwarding = tokio::spawn(forward);
            let (report, firsts) = run(&client, &plan, &progress, &stop).await;
            forwarding.abort();
            let end = ReproEnd {
                report,
                firsts,
                incidents: Vec::new(),
            };
            let _ = updates.send((id, super::CallUpdate::ReproDone(Box::new(end))));
        });
        (id, cancel)
    }
}

/// Runs `plan` through `client`, publishing the report on `progress` after every call, until
/// every call is done or `cancel` fires. Returns the last report and the first failure of
/// each kind.
pub async fn run(
    client: &McpClient,
    plan: &ReproPlan,
    progress: &watch::Sender<Arc<ReproReport>>,
    cancel: &CancellationToken,
) -> (ReproReport, Vec<FirstFailure>) {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..plan.concurrency.max(1) {
        let (client, plan, tally, next) =
            (client.clone(), plan.clone(), tally.clone(), next.clone());
        let (progress, cancel) = (progress.clone(), cancel.clone());
        workers.spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= plan.calls || cancel.is_cancelled() {
                    break;
                }
                let mut request = plan.request.clone().unrecorded();
                if !plan.spread.is_empty() {
                    request.target = Target::Task(plan.spread[index % plan.spread.len()].clone());
                }
                let outcome = tokio::select! {
                    outcome = client.call(request.clone()) => outcome,
                    () = cancel.cancelled() => break,
                };
                let report = {
                    let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
                    tally.add(&request, outcome);
                    tally.report(plan.calls)
                };
                progress.send_replace(Arc::new(report));
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
    let report = tally.report(plan.calls);
    let first = std::mem::take(&mut tally.first).into_values().collect();
    (report, first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wilson_interval_narrows_with_calls() {
        let (low, high) = wilson(20, 100);
        assert!(
            (low - 0.1333).abs() < 0.001 && (high - 0.2888).abs() < 0.001,
            "{low} {high}"
        );
        let (low, high) = wilson(0, 100);
        assert_eq!(low, 0.0);
        assert!((high - 0.037).abs() < 0.001, "{high}");
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }

    fn figures(id: &str, calls: u64, failures: u64) -> ReplicaFigures {
        let (low, high) = wilson(failures, calls);
        ReplicaFigures {
            task_id: Some(id.into()),
            revision: Some(1),
            calls,
            failures,
            failures_by_kind: BTreeMap::new(),
            failure_rate: rate(failures, calls),
            failure_rate_low: low,
            failure_rate_high: high,
            p50_ms: 0.0,
            p90_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
        }
    }

    #[test]
    fn a_suspect_is_named_only_beyond_doubt() {
        let clear = [
            figures("a", 166, 0),
            figures("b", 167, 33),
            figures("c", 167, 1),
        ];
        assert_eq!(suspect(&clear).as_deref(), Some("b"));
        let noise = [
            figures("a", 30, 2),
            figures("b", 30, 0),
            figures("c", 30, 1),
        ];
        assert_eq!(suspect(&noise), None);
        assert_eq!(
            suspect(&clear[..1]),
            None,
            "one replica has nobody to stand out from"
        );
    }

    #[test]
    fn a_tool_is_repeated_only_when_its_server_says_it_is_safe() {
        let tool = |read_only, idempotent, destructive| ToolInfo {
            read_only,
            idempotent,
            destructive,
            ..ToolInfo::from(&rmcp::model::Tool::new(
                "wipe",
                "d",
                Arc::new(serde_json::Map::new()),
            ))
        };
        assert_eq!(repeat_refusal(&tool(Some(true), None, Some(true)), 9), None);
        assert_eq!(repeat_refusal(&tool(None, Some(true), None), 9), None);
        let destructive = repeat_refusal(&tool(None, Some(true), Some(true)), 200).unwrap();
        assert!(
            destructive.starts_with("repro would call wipe 200 times"),
            "{destructive}"
        );
        assert!(
            destructive.contains("destructiveHint: true"),
            "{destructive}"
        );
        assert!(
            destructive.ends_with("pass --force to send it anyway"),
            "{destructive}"
        );
        let unsaid = repeat_refusal(&tool(None, None, None), 200).unwrap();
        assert!(
            unsaid.contains("neither readOnlyHint nor idempotentHint"),
            "{unsaid}"
        );
    }
}
