//! The load generator: one tool called by many workers at once for a while (or a number of
//! calls), at full speed or at a set rate, with calls per second, latency quantiles and
//! failures per replica. Each worker holds its own MCP conversation (a session, or none in a
//! stateless run) opened before the measured window, and sends requests whose ids are unique
//! in the run. Its connections are its own, outside the worker's pool, for the length of a run:
//! the pool's clients record every exchange, which a load generator must not pay for.

mod direct;
mod launch;
mod line;
mod session;
mod tally;
mod worker;

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::fleet::{EndpointAuth, FleetSnapshot};

use super::McpError;
pub use session::Flavor;
pub use tally::{Bucket, Latency, Replica, Sample, ms_text};
use tally::{Lane, Totals};

/// How often the figures are taken and published.
const TICK: Duration = Duration::from_millis(500);
/// Ids of one worker's requests start at its number times this, so no two collide.
const IDS_PER_WORKER: u64 = 1 << 40;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchPlan {
    pub service: String,
    pub tool: String,
    pub arguments: Value,
    /// Workers, each with one call in flight at a time.
    pub concurrency: usize,
    /// How long the measured window lasts; with `calls` too, whichever ends first.
    pub duration: Option<Duration>,
    pub calls: Option<u64>,
    /// Calls per second over all workers; None sends as fast as answers come.
    pub rate: Option<f64>,
    /// How long one call may take before it counts as a timeout.
    pub timeout: Duration,
    /// Hold no session: one handshake per endpoint, then every request stands alone.
    pub stateless: bool,
    /// The tool is annotated read-only or idempotent: a call whose connection broke before an
    /// answer is sent again to another replica (up to 3 times), as HTTP clients retry
    /// idempotent requests.
    pub idempotent: bool,
}

/// An endpoint the workers are spread over.
#[derive(Debug, Clone)]
pub struct BenchTarget {
    pub url: String,
    pub auth: EndpointAuth,
    /// The replica behind the URL when the URL is that task's own; None for a URL in front of
    /// every task, where the server's `Served-By` header says who answered, if it does.
    pub replica: Option<Replica>,
}

/// The endpoints a run spreads over now, and the revision of every task seen: published again
/// whenever the fleet changes, so workers follow a rollout.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    pub list: Vec<BenchTarget>,
    pub revisions: HashMap<String, u32>,
}

impl Targets {
    /// [`targets`] as one value.
    pub fn of(fleet: &FleetSnapshot, service: &str, task: Option<&str>) -> Result<Self, McpError> {
        let (list, revisions) = targets(fleet, service, task)?;
        Ok(Self { list, revisions })
    }

    /// These targets, then again on every snapshot: a rollout's new tasks join, stopped and
    /// draining ones leave (a fleet with none ready keeps the last ones, whose calls then fail
    /// and say so).
    pub fn follow(
        self,
        mut snapshots: watch::Receiver<Arc<FleetSnapshot>>,
        service: String,
        task: Option<String>,
    ) -> watch::Receiver<Arc<Targets>> {
        let (publish, targets) = watch::channel(Arc::new(self));
        tokio::spawn(async move {
            while snapshots.changed().await.is_ok() {
                let fleet = snapshots.borrow_and_update().clone();
                if let Ok(now) = Targets::of(&fleet, &service, task.as_deref())
                    && publish.send(Arc::new(now)).is_err()
                {
                    break;
                }
            }
        });
        targets
    }
}

/// The endpoints of `service` a run spreads over: every ready task's own address, or the
/// one task asked for, or the URL in front of every task (where a task cannot be chosen).
/// Also the revision of each task, to name the revision of a replica the server names.
pub fn targets(
    fleet: &FleetSnapshot,
    service: &str,
    task: Option<&str>,
) -> Result<(Vec<BenchTarget>, HashMap<String, u32>), McpError> {
    let found = fleet
        .service(service)
        .ok_or_else(|| McpError::UnknownService(service.to_string()))?;
    let revisions = found
        .tasks
        .iter()
        .map(|task| (task.id.clone(), task.revision))
        .collect();
    let of = |candidate: super::route::Candidate| BenchTarget {
        replica: (!candidate.endpoint.shared).then(|| Replica {
            task_id: Some(candidate.task_id.clone()),
            revision: Some(candidate.revision),
        }),
        url: candidate.endpoint.url,
        auth: candidate.endpoint.auth,
    };
    if let Some(task) = task {
        let candidate = super::route::probe_target(fleet, service, Some(task))?;
        let candidate = super::route::steerable(found, candidate)?;
        return Ok((vec![of(candidate)], revisions));
    }
    let ready = found
        .ready_tasks()
        .filter_map(|task| task.endpoint.clone().map(|endpoint| (task, endpoint)));
    let mut targets: Vec<BenchTarget> = Vec::new();
    for (task, endpoint) in ready {
        // Tasks behind one shared URL are one target: the balancer picks the replica.
        if endpoint.shared && targets.iter().any(|t| t.url == endpoint.url) {
            continue;
        }
        targets.push(BenchTarget {
            replica: (!endpoint.shared).then(|| Replica {
                task_id: Some(task.id.clone()),
                revision: Some(task.revision),
            }),
            url: endpoint.url,
            auth: endpoint.auth,
        });
    }
    if targets.is_empty() {
        return Err(McpError::NoReadyTask {
            service: service.to_string(),
        });
    }
    targets.sort_by(|a, b| a.replica.cmp(&b.replica).then(a.url.cmp(&b.url)));
    Ok((targets, revisions))
}

/// Where a run stands, and at its end what it measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BenchReport {
    pub service: String,
    pub tool: String,
    /// `session` or `stateless`.
    pub mode: &'static str,
    /// The protocol version spoken (the first worker's).
    pub protocol: Option<String>,
    pub concurrency: usize,
    /// Workers holding a session the server issued (none in a stateless run, or with a
    /// server that issues none).
    pub sessions: usize,
    /// How many times a worker moved to another replica as the fleet changed.
    pub moves: u64,
    /// Calls sent again on another replica because the first certainly did not run them (it
    /// could not be reached, or answered 503 while draining); the retry's outcome is the one
    /// counted.
    pub retries: u64,
    pub rate: Option<f64>,
    /// Workers that could not open their conversation, with why.
    pub not_started: Vec<String>,
    /// How long opening the conversations took, before the measured window.
    pub setup_ms: f64,
    /// Seconds of the measured window so far.
    pub elapsed_s: f64,
    pub planned_s: Option<f64>,
    pub planned_calls: Option<u64>,
    pub calls: u64,
    pub failures: u64,
    pub calls_per_sec: f64,
    pub failures_by_kind: std::collections::BTreeMap<String, u64>,
    pub latency: Latency,
    pub replicas: Vec<ReplicaReport>,
    pub timeline: Vec<Sample>,
    pub last_error: Option<String>,
    pub done: bool,
    /// Stopped before its planned end (ctrl-c, a closed screen).
    pub stopped_early: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplicaReport {
    pub task_id: Option<String>,
    pub revision: Option<u32>,
    pub calls: u64,
    pub failures: u64,
    pub failures_by_kind: std::collections::BTreeMap<String, u64>,
    pub failure_rate: f64,
    pub calls_per_sec: f64,
    pub latency: Latency,
    /// Latency histogram: calls per bucket, the buckets doubling from 0.1 ms.
    pub histogram: Vec<Bucket>,
}

impl BenchReport {
    /// The newest sample, for a live line.
    pub fn last(&self) -> Option<&Sample> {
        self.timeline.last()
    }

    fn fill(&mut self, totals: &Totals, elapsed: Duration, revisions: &HashMap<String, u32>) {
        let seconds = elapsed.as_secs_f64().max(1e-3);
        let all = totals.overall();
        self.elapsed_s = elapsed.as_secs_f64();
        self.calls = all.calls;
        self.failures = all.failures;
        self.calls_per_sec = all.calls as f64 / seconds;
        self.failures_by_kind = all.by_kind.clone();
        self.latency = all.quantiles();
        self.replicas = totals
            .replicas
            .iter()
            .map(|(replica, tally)| ReplicaReport {
                task_id: replica.task_id.clone(),
                revision: replica.revision.or_else(|| {
                    let id = replica.task_id.as_ref()?;
                    revisions.get(id).copied()
                }),
                calls: tally.calls,
                failures: tally.failures,
                failures_by_kind: tally.by_kind.clone(),
                failure_rate: tally.failures as f64 / tally.calls.max(1) as f64,
                calls_per_sec: tally.calls as f64 / seconds,
                latency: tally.quantiles(),
                histogram: tally.buckets(),
            })
            .collect();
        self.timeline = totals.timeline.iter().cloned().collect();
    }
}

/// Runs `plan` over the endpoints `targets` holds (following them as they change),
/// publishing the report on `progress` every tick, until the window ends, the calls are done
/// or `cancel` fires. Err when no worker could start.
pub async fn run(
    plan: &BenchPlan,
    targets: watch::Receiver<Arc<Targets>>,
    progress: &watch::Sender<Arc<BenchReport>>,
    cancel: &CancellationToken,
) -> Result<BenchReport, String> {
    let mut report = BenchReport {
        service: plan.service.clone(),
        tool: plan.tool.clone(),
        mode: if plan.stateless {
            "stateless"
        } else {
            "session"
        },
        concurrency: plan.concurrency,
        rate: plan.rate,
        planned_s: plan.duration.map(|d| d.as_secs_f64()),
        planned_calls: plan.calls,
        ..BenchReport::default()
    };
    let first = targets.borrow().clone();
    if first.list.is_empty() {
        return Err(format!("{} has no ready task", plan.service));
    }
    let mut revisions = first.revisions.clone();
    let setup = Instant::now();
    let opened = open(plan, &first.list, &mut report).await?;
    report.setup_ms = setup.elapsed().as_secs_f64() * 1000.0;
    progress.send_replace(Arc::new(report.clone()));

    let started = Instant::now();
    let crew = worker::Crew {
        plan: Arc::new(plan.clone()),
        targets,
        budget: plan.calls.map(|calls| Arc::new(AtomicU64::new(calls))),
        last_error: Arc::default(),
        moves: Arc::default(),
        retries: Arc::default(),
        deadline: plan.duration.map(|d| started + d),
        // Each worker keeps its own schedule, so no lock is shared to pace.
        every: plan
            .rate
            .filter(|rate| *rate > 0.0)
            .map(|rate| Duration::from_secs_f64(opened.len() as f64 / rate)),
        cancel: cancel.clone(),
    };
    let lanes: Vec<Arc<Lane>> = opened.iter().map(|_| Arc::default()).collect();
    let mut workers = tokio::task::JoinSet::new();
    for ((n, session, url, replica), lane) in opened.into_iter().zip(&lanes) {
        let worker = worker::Worker {
            n,
            session,
            url,
            replica,
            lane: lane.clone(),
        };
        workers.spawn(worker.run(crew.clone()));
    }

    let mut totals = Totals::default();
    let mut ticks = tokio::time::interval_at((started + TICK).into(), TICK);
    let mut last_tick = started;
    loop {
        let finished = tokio::select! {
            _ = ticks.tick() => false,
            joined = workers.join_next() => {
                if joined.is_some() {
                    continue;
                }
                true
            }
        };
        let now = Instant::now();
        totals.collect(&lanes, now - started, now - last_tick);
        last_tick = now;
        // Tasks gone from the fleet keep the revision they were seen with.
        revisions.extend(crew.targets.borrow().revisions.clone());
        report.fill(&totals, now - started, &revisions);
        report.moves = crew.moves.load(Ordering::Relaxed);
        report.retries = crew.retries.load(Ordering::Relaxed);
        report.last_error = crew
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if finished {
            report.done = true;
            report.stopped_early = cancel.is_cancelled();
            break;
        }
        progress.send_replace(Arc::new(report.clone()));
    }
    progress.send_replace(Arc::new(report.clone()));
    Ok(report)
}

/// Opens every worker's conversation before the measured window: one handshake per worker,
/// or per endpoint in a stateless run. Workers are dealt to the endpoints in turn.
async fn open(
    plan: &BenchPlan,
    targets: &[BenchTarget],
    report: &mut BenchReport,
) -> Result<Vec<(usize, session::Session, String, Option<Replica>)>, String> {
    let mut lines = Vec::new();
    for target in targets {
        lines.push(session::Line::new(&target.url, &target.auth, plan.timeout)?);
    }
    let workers = plan.concurrency.max(1);
    let dealt = (0..workers).map(|n| n % targets.len());
    let handshakes = if plan.stateless {
        let templates =
            futures_util::future::join_all(lines.iter().map(|line| line.handshake(true))).await;
        dealt
            .map(|t| match &templates[t] {
                Ok(template) => Ok(template.stateless_copy()),
                Err(error) => Err(error.clone()),
            })
            .collect::<Vec<_>>()
    } else {
        let dealt: Vec<usize> = dealt.collect();
        futures_util::future::join_all(dealt.iter().map(|&t| lines[t].handshake(false))).await
    };
    let mut sessions = Vec::new();
    for (n, handshake) in handshakes.into_iter().enumerate() {
        let target = &targets[n % targets.len()];
        match handshake {
            Ok(mut session) => {
                session.prepare(&plan.tool, &plan.arguments, (n as u64 + 1) * IDS_PER_WORKER)?;
                report
                    .protocol
                    .get_or_insert_with(|| session.flavor().protocol().to_string());
                report.sessions += usize::from(session.has_session());
                sessions.push((n, session, target.url.clone(), target.replica.clone()));
            }
            Err(error) => {
                let who = target
                    .replica
                    .as_ref()
                    .map_or_else(|| target.url.clone(), |r| format!("task {}", r.label()));
                let line = format!("{who}: {error}");
                if !report.not_started.contains(&line) {
                    report.not_started.push(line);
                }
            }
        }
    }
    if sessions.is_empty() {
        return Err(report.not_started.join("; "));
    }
    Ok(sessions)
}
