//! The state of one local service as the supervisor keeps it — revisions, deployments, tasks,
//! events — and how reports from a task's worker change it. Pure data: no processes, no I/O,
//! so it is tested without children. What to start or stop is decided in `rollout.rs`, the
//! snapshot model is built in `snapshot.rs`.

use std::{
    net::SocketAddr,
    time::{Duration, Instant, SystemTime},
};

use super::{
    alarm::AlarmWatch,
    child::Exit,
    events::{self, EventLog},
    spec::{LocalServiceSpec, Revision},
};
use crate::fleet::{
    DeploymentStatus, Endpoint, Health, RolloutState, TaskMetrics, TaskStatus,
    trends::CounterWindow,
};
use crate::sources::metrics_text::Scraped;

/// Finished deployments kept for the history and for `Rollback`.
const INACTIVE_KEPT: usize = 5;

/// What the supervisor must do for the scheduler.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start the process of this (PROVISIONING) task.
    Start(String),
    /// The task is marked draining; after the snapshot is published, tell its worker to stop.
    Stop(String),
}

#[derive(Debug, Clone)]
pub struct StopRequest {
    pub reason: String,
    pub code: StopCode,
}

/// ECS's `stopCode`, for the causes the local fleet has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopCode {
    TaskFailedToStart,
    EssentialContainerExited,
    UserInitiated,
    ServiceSchedulerInitiated,
}

impl StopCode {
    pub fn as_str(self) -> &'static str {
        match self {
            StopCode::TaskFailedToStart => "TaskFailedToStart",
            StopCode::EssentialContainerExited => "EssentialContainerExited",
            StopCode::UserInitiated => "UserInitiated",
            StopCode::ServiceSchedulerInitiated => "ServiceSchedulerInitiated",
        }
    }
}

#[derive(Debug)]
pub struct TaskState {
    pub id: String,
    /// Launch order: scale-in stops the newest first, replacement the oldest first.
    pub seq: u64,
    pub revision: u32,
    pub deployment_id: String,
    pub last_status: TaskStatus,
    pub desired_status: TaskStatus,
    pub health: Health,
    pub draining: bool,
    pub endpoint: Option<Endpoint>,
    pub pid: Option<u32>,
    pub created: Instant,
    pub unhealthy_since: Option<Instant>,
    pub started_at: Option<SystemTime>,
    pub stopped_at: Option<SystemTime>,
    pub stopped_reason: Option<String>,
    pub exit_code: Option<i32>,
    pub stop_code: Option<StopCode>,
    pub metrics: Option<TaskMetrics>,
    /// The scrapes the call rates come from.
    pub counters: CounterWindow,
    pub ever_healthy: bool,
    /// Set once the scheduler or a user asked the task to stop.
    pub stop: Option<StopRequest>,
}

impl TaskState {
    /// Counts toward the service: not stopped and not asked to stop.
    pub fn is_live(&self) -> bool {
        self.stop.is_none() && self.last_status != TaskStatus::Stopped
    }

    pub fn is_stopped(&self) -> bool {
        self.last_status == TaskStatus::Stopped
    }

    pub fn is_healthy(&self) -> bool {
        self.is_live() && self.last_status == TaskStatus::Running && self.health == Health::Healthy
    }

    pub fn is_pending(&self) -> bool {
        self.is_live()
            && matches!(
                self.last_status,
                TaskStatus::Provisioning | TaskStatus::Pending
            )
    }
}

#[derive(Debug, Clone)]
pub struct DeploymentState {
    pub id: String,
    pub status: DeploymentStatus,
    pub revision: u32,
    pub rollout_state: RolloutState,
    pub rollout_reason: Option<String>,
    pub failed: u32,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    /// Begun for this deployment at this instant.
    pub begun: Instant,
    /// Every task healthy, the alarm still watched until then (a service with an alarm).
    pub bake_until: Option<(Instant, SystemTime)>,
}

impl DeploymentState {
    pub fn new(revision: u32) -> Self {
        let now = SystemTime::now();
        Self {
            id: events::deployment_id(),
            status: DeploymentStatus::Primary,
            revision,
            rollout_state: RolloutState::InProgress,
            rollout_reason: None,
            failed: 0,
            created_at: now,
            updated_at: now,
            begun: Instant::now(),
            bake_until: None,
        }
    }
}

#[derive(Debug)]
pub struct ServiceState {
    pub spec: LocalServiceSpec,
    /// Task-definition revisions; revision n is at index n - 1.
    pub revisions: Vec<Revision>,
    pub desired: u32,
    pub deployments: Vec<DeploymentState>,
    pub tasks: Vec<TaskState>,
    pub events: EventLog,
    /// Failed task starts since a task last became healthy; drives the restart backoff.
    pub failed_in_a_row: u32,
    pub next_start_at: Option<Instant>,
    pub steady: bool,
    pub next_seq: u64,
    pub start_timeout: Duration,
    pub stopped_kept: usize,
    /// Set by every change; the supervisor publishes a snapshot and clears it.
    pub changed: bool,
    pub actions: Vec<Action>,
    pub alarm: Option<AlarmWatch>,
}

impl ServiceState {
    pub fn new(spec: LocalServiceSpec, start_timeout: Duration, stopped_kept: usize) -> Self {
        Self {
            revisions: vec![Revision::first(&spec)],
            desired: spec.replicas,
            deployments: vec![DeploymentState::new(1)],
            tasks: Vec::new(),
            events: EventLog::default(),
            failed_in_a_row: 0,
            next_start_at: None,
            steady: false,
            next_seq: 0,
            start_timeout,
            stopped_kept,
            changed: true,
            actions: Vec::new(),
            alarm: spec
                .alarm
                .clone()
                .map(|alarm| AlarmWatch::new(alarm, &spec.name, Instant::now())),
            spec,
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn primary(&self) -> &DeploymentState {
        self.deployments
            .iter()
            .find(|d| d.status == DeploymentStatus::Primary)
            .expect("a service always has a primary deployment")
    }

    pub fn primary_mut(&mut self) -> &mut DeploymentState {
        self.deployments
            .iter_mut()
            .find(|d| d.status == DeploymentStatus::Primary)
            .expect("a service always has a primary deployment")
    }

    pub fn deployment_mut(&mut self, id: &str) -> Option<&mut DeploymentState> {
        self.deployments.iter_mut().find(|d| d.id == id)
    }

    pub fn task_index(&self, id: &str) -> Option<usize> {
        self.tasks.iter().position(|task| task.id == id)
    }

    pub fn revision(&self, number: u32) -> &Revision {
        &self.revisions[number as usize - 1]
    }

    /// The worker started the process (again, after a port clash) and knows its address.
    pub fn on_started(&mut self, id: &str, pid: u32, address: SocketAddr) {
        let path = self.spec.mcp_path.clone();
        let Some(task) = self
            .tasks
            .iter_mut()
            .find(|t| t.id == id && !t.is_stopped())
        else {
            return;
        };
        if task.last_status == TaskStatus::Provisioning {
            task.last_status = TaskStatus::Pending;
        }
        task.pid = Some(pid);
        task.endpoint = Some(Endpoint::new(
            format!("http://{address}{path}"),
            address.to_string(),
        ));
        self.changed = true;
    }

    /// SIGTERM has been sent.
    pub fn on_stopping(&mut self, id: &str) {
        if let Some(task) = self.tasks.iter_mut().find(|t| t.id == id)
            && task.last_status == TaskStatus::Deactivating
        {
            task.last_status = TaskStatus::Stopping;
            self.changed = true;
        }
    }

    /// Health turned (workers report transitions only).
    pub fn on_health(&mut self, id: &str, healthy: bool, now: Instant) {
        let Some(task) = self.tasks.iter_mut().find(|t| t.id == id && t.is_live()) else {
            return;
        };
        if healthy {
            if task.last_status != TaskStatus::Running {
                task.last_status = TaskStatus::Running;
                task.started_at = Some(SystemTime::now());
            }
            task.health = Health::Healthy;
            task.ever_healthy = true;
            task.unhealthy_since = None;
            self.failed_in_a_row = 0;
            self.next_start_at = None;
        } else if task.last_status == TaskStatus::Running {
            task.health = Health::Unhealthy;
            task.unhealthy_since = Some(now);
        }
        self.changed = true;
    }

    pub fn on_metrics(&mut self, id: &str, scraped: Scraped, at: SystemTime) {
        let Some(task) = self
            .tasks
            .iter_mut()
            .find(|t| t.id == id && !t.is_stopped())
        else {
            return;
        };
        let fresh = task.counters.observe(TaskMetrics {
            in_flight: scraped.in_flight,
            calls: scraped.calls,
            errors: scraped.errors,
            fetched_at: Some(at),
            buckets: scraped.buckets,
            ..TaskMetrics::default()
        });
        // Only new figures are worth a snapshot (a rate counts as new when it moved by more
        // than a rounding step); the fetch time rides along with the next one.
        let shown = |m: &TaskMetrics| {
            let tenths = |rate: Option<f64>| rate.map(|r| (r * 10.0).round() as i64);
            let recent = m.recent.as_ref().map(|r| {
                let figures = [Some(r.calls_per_sec), r.error_rate, r.p50_ms, r.p99_ms];
                figures.map(tenths)
            });
            (
                (m.in_flight, m.calls, m.errors),
                (tenths(m.calls_per_sec), tenths(m.errors_per_sec)),
                recent,
            )
        };
        let same = task
            .metrics
            .as_ref()
            .is_some_and(|m| shown(m) == shown(&fresh));
        task.metrics = Some(fresh);
        self.changed |= !same;
    }

    /// The process is gone. An exit nobody asked for before the task was ever healthy is a
    /// failed start: it counts toward the deployment's circuit breaker.
    pub fn on_exited(&mut self, id: &str, exit: &Exit, now: Instant) {
        let Some(index) = self.task_index(id) else {
            return;
        };
        let task = &mut self.tasks[index];
        if task.is_stopped() {
            return;
        }
        let unexpected = task.stop.is_none();
        task.last_status = TaskStatus::Stopped;
        task.desired_status = TaskStatus::Stopped;
        task.health = Health::Unknown;
        task.pid = None;
        task.metrics = None;
        task.exit_code = exit.exit_code();
        task.stopped_at = Some(SystemTime::now());
        task.stopped_reason = Some(match &task.stop {
            Some(request) => request.reason.clone(),
            None => exit.stopped_reason(),
        });
        let failed_start = unexpected && !task.ever_healthy;
        // A process that failed on its own before it was ever healthy failed to start, even
        // when the scheduler had meanwhile asked it to stop.
        let failed_by_itself = !task.ever_healthy
            && matches!(exit, Exit::Status { code: Some(code), signal: None } if *code != 0)
            || matches!(exit, Exit::SpawnFailed(_));
        task.stop_code = Some(match &task.stop {
            _ if failed_start || failed_by_itself => StopCode::TaskFailedToStart,
            Some(request) => request.code,
            None => StopCode::EssentialContainerExited,
        });
        let deployment = task.deployment_id.clone();
        if let Exit::SpawnFailed(error) = exit {
            let message = events::launch_failed(
                &self.spec.name,
                &format!("CannotStartContainerError: {error}"),
            );
            self.events.push(message);
        }
        if failed_start {
            self.record_failed_start(&deployment, now);
        }
        self.prune_stopped();
        self.changed = true;
    }

    pub fn record_failed_start(&mut self, deployment: &str, now: Instant) {
        let is_primary = self.primary().id == deployment;
        if let Some(deployment) = self.deployment_mut(deployment) {
            deployment.failed += 1;
            deployment.updated_at = SystemTime::now();
        }
        if is_primary {
            // Like the ECS scheduler's throttling: retry a failing service ever more slowly.
            self.failed_in_a_row += 1;
            if self.failed_in_a_row >= 3 {
                let doublings = (self.failed_in_a_row - 3).min(7);
                let delay =
                    (Duration::from_millis(250) * (1 << doublings)).min(Duration::from_secs(30));
                self.next_start_at = Some(now + delay);
            }
        }
    }

    fn prune_stopped(&mut self) {
        let mut stopped: Vec<(SystemTime, String)> = self
            .tasks
            .iter()
            .filter(|t| t.is_stopped())
            .map(|t| (t.stopped_at.unwrap_or(SystemTime::UNIX_EPOCH), t.id.clone()))
            .collect();
        if stopped.len() <= self.stopped_kept {
            return;
        }
        stopped.sort();
        let excess = stopped.len() - self.stopped_kept;
        let drop: Vec<String> = stopped.into_iter().take(excess).map(|(_, id)| id).collect();
        self.tasks.retain(|t| !drop.contains(&t.id));
    }

    /// Keeps the newest few finished deployments, and always the newest completed one (the
    /// rollback target).
    pub fn prune_inactive(&mut self) {
        let mut inactive: Vec<(SystemTime, String, bool)> = self
            .deployments
            .iter()
            .filter(|d| d.status == DeploymentStatus::Inactive)
            .map(|d| {
                (
                    d.updated_at,
                    d.id.clone(),
                    d.rollout_state == RolloutState::Completed,
                )
            })
            .collect();
        inactive.sort_by_key(|d| std::cmp::Reverse(d.0));
        let newest_completed = inactive.iter().find(|d| d.2).map(|d| d.1.clone());
        let drop: Vec<String> = inactive
            .into_iter()
            .skip(INACTIVE_KEPT)
            .map(|d| d.1)
            .filter(|id| Some(id) != newest_completed.as_ref())
            .collect();
        self.deployments.retain(|d| !drop.contains(&d.id));
    }
}
