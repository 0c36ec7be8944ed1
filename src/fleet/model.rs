//! The fleet as the console sees it: services → deployments → tasks → MCP endpoints, with
//! ECS's vocabulary so the same screens serve the local fleet and real ECS. A snapshot is
//! complete and immutable; a source replaces it whole.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::EndpointAuth;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Local,
    Aws,
    Static,
}

impl SourceKind {
    /// Whether this source can change its services (scale, deploy, roll back, stop a task):
    /// a static server's deployment is not ours to touch.
    pub fn acts_on_services(self) -> bool {
        self != SourceKind::Static
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetSnapshot {
    pub source: SourceKind,
    /// "local", "cluster @ region", or the config file for static.
    pub context: String,
    pub services: Vec<Service>,
    /// When the data in this snapshot was last fetched successfully.
    #[serde(with = "crate::fleet::time")]
    pub fetched_at: SystemTime,
    /// Set when the last refresh failed: the data is the last good one.
    pub stale: Option<String>,
    pub api_calls: u64,
    pub api_errors: u64,
    /// Per-operation API counters, for sources that call remote APIs (`:stats`).
    pub api: Vec<ApiStat>,
    /// True until the source has finished its first look at the fleet.
    pub loading: bool,
    /// Where each cluster's picture stands, for sources that read clusters (AWS): a big
    /// cluster arrives in stages and may lag a small one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<ClusterState>,
}

/// One cluster's picture: when it was last read whole, and how far the read in progress is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterState {
    pub name: String,
    /// When a read of all its services and their running tasks last completed.
    #[serde(with = "crate::fleet::time::option")]
    pub fetched_at: Option<SystemTime>,
    /// Services listed in the read under way, and how many of them are described so far;
    /// both zero between reads.
    pub listed: usize,
    pub described: usize,
    /// Running tasks whose task definition is not read yet (their endpoints are unknown).
    pub definitions_missing: usize,
}

impl ClusterState {
    /// Whether its picture is still arriving: never read whole, or endpoints still unknown.
    pub fn loading(&self) -> bool {
        self.fetched_at.is_none() || self.definitions_missing > 0
    }
}

/// Calls to one remote API operation since the source started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiStat {
    /// `ecs:DescribeServices`, `logs:FilterLogEvents`, …
    pub operation: String,
    /// HTTP attempts, retries included.
    pub calls: u64,
    pub errors: u64,
    pub last_error: Option<String>,
}

impl FleetSnapshot {
    pub fn empty(source: SourceKind, context: impl Into<String>) -> Self {
        Self {
            source,
            context: context.into(),
            services: Vec::new(),
            fetched_at: SystemTime::now(),
            stale: None,
            api_calls: 0,
            api_errors: 0,
            api: Vec::new(),
            loading: false,
            clusters: Vec::new(),
        }
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|service| service.name == name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    /// Newest first; the PRIMARY deployment is the target of the current rollout.
    pub deployments: Vec<Deployment>,
    pub tasks: Vec<Task>,
    /// Newest first, in ECS's wording ("has reached a steady state").
    pub events: Vec<ServiceEvent>,
    pub mcp_path: String,
    /// What the source noticed that an operator should know: a missing named port, a log group
    /// that does not exist, a Cloud Map instance with no running task.
    pub notes: Vec<String>,
    /// Service-level traffic from outside the tasks (CloudWatch Service Connect metrics).
    pub traffic: Option<Traffic>,
    /// How deployments replace tasks, when the source knows.
    pub policy: Option<DeploymentPolicy>,
    /// Its tasks keep dying (`crashloop::mark`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_loop: Option<super::crashloop::CrashLoop>,
    /// The highest task-definition revision the source has registered for the service, older
    /// deployments long gone included, where it knows it (the local fleet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_revision: Option<u32>,
}

/// ECS's deploymentConfiguration: the task count bounds during a rollout, the circuit
/// breaker and the deployment alarms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentPolicy {
    pub min_healthy_percent: u32,
    pub max_percent: u32,
    pub circuit_breaker: bool,
    /// The breaker rolls back to the last completed deployment when it trips.
    pub rollback: bool,
    /// CloudWatch alarms watched during a deployment and its bake time: one going into ALARM
    /// fails the deployment, whose tasks may all be healthy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<DeploymentAlarm>,
    /// A deployment failed by an alarm rolls back to the last completed one.
    #[serde(default)]
    pub alarm_rollback: bool,
}

/// One deployment alarm and, where the source knows it, its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentAlarm {
    pub name: String,
    pub state: Option<AlarmState>,
    /// Why it is in its state, in CloudWatch's manner ("3 datapoints ≥ 50 %").
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    pub fn label(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// Service Connect traffic per minute, oldest first, as CloudWatch reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    pub active_connections: Vec<f64>,
    pub requests: Vec<f64>,
    pub errors_5xx: Vec<f64>,
    /// Average target response time in milliseconds.
    pub response_ms: Vec<f64>,
    #[serde(with = "crate::fleet::time")]
    pub fetched_at: SystemTime,
}

impl Service {
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments
            .iter()
            .find(|d| d.status == DeploymentStatus::Primary)
    }

    /// Tasks a call may be routed to: running, healthy, not draining, with an endpoint.
    pub fn ready_tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|task| task.is_ready())
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks
            .iter()
            .find(|task| task.id == id || task.id.starts_with(id))
    }

    /// The revision a new revision of this service will be: one past the highest it has ever
    /// had, which after a rollback is not the primary's revision + 1.
    pub fn next_revision(&self) -> u32 {
        let seen = self.deployments.iter().map(|d| d.revision);
        let running = self.tasks.iter().map(|t| t.revision);
        let highest = seen.chain(running).chain(self.latest_revision).max();
        highest.unwrap_or(0) + 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStatus {
    Primary,
    Active,
    Inactive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RolloutState {
    InProgress,
    Completed,
    Failed,
}

impl RolloutState {
    /// As ECS writes it.
    pub fn label(self) -> &'static str {
        match self {
            RolloutState::InProgress => "IN_PROGRESS",
            RolloutState::Completed => "COMPLETED",
            RolloutState::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    pub status: DeploymentStatus,
    /// Task definition revision this deployment runs.
    pub revision: u32,
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    pub failed: u32,
    pub rollout_state: RolloutState,
    pub rollout_reason: Option<String>,
    #[serde(with = "crate::fleet::time")]
    pub created_at: SystemTime,
    #[serde(with = "crate::fleet::time")]
    pub updated_at: SystemTime,
    /// What the revision's tasks did over the recent window (`revisions::roll_up`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<super::RevisionFigures>,
    /// While every task of the deployment runs healthy and the deployment alarms are still
    /// watched before it completes: when that bake time ends.
    #[serde(
        default,
        with = "crate::fleet::time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub bake_ends_at: Option<SystemTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    Provisioning,
    Pending,
    Activating,
    Running,
    Deactivating,
    Stopping,
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Health {
    Healthy,
    Unhealthy,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Full MCP URL, e.g. http://127.0.0.1:41235/mcp.
    pub url: String,
    /// `host:port` the URL points at (an IP for tasks, a name for static servers).
    pub address: String,
    /// What every request to this endpoint carries; never serialised.
    #[serde(skip)]
    pub auth: EndpointAuth,
    /// The URL reaches the service, not this task: a load balancer or Service Connect alias in
    /// front of every task (a URL override). A call through it cannot be steered to this task,
    /// nor attributed to it by its route.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

impl Endpoint {
    pub fn new(url: impl Into<String>, address: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            address: address.into(),
            auth: EndpointAuth::default(),
            shared: false,
        }
    }

    /// An endpoint in front of every task of a service.
    pub fn shared(mut self) -> Self {
        self.shared = true;
        self
    }

    pub fn with_auth(mut self, auth: EndpointAuth) -> Self {
        self.auth = auth;
        self
    }
}

/// Per-task load, scraped from the server's /metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskMetrics {
    pub in_flight: u64,
    /// Counters since the process started.
    pub calls: u64,
    pub errors: u64,
    #[serde(with = "crate::fleet::time::option")]
    pub fetched_at: Option<SystemTime>,
    /// Over the last `trends::RATE_WINDOW` of scrapes; none until two scrapes are far enough
    /// apart.
    pub calls_per_sec: Option<f64>,
    pub errors_per_sec: Option<f64>,
    /// Calls, error rate and latency over the last `recent::RECENT_WINDOW`.
    #[serde(default)]
    pub recent: Option<super::Recent>,
    /// The latency histogram of this scrape (cumulative, summed over tools), which the
    /// counter window turns into `recent`'s quantiles and then drops.
    #[serde(skip)]
    pub buckets: Vec<super::Bucket>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub revision: u32,
    pub deployment_id: String,
    pub last_status: TaskStatus,
    pub desired_status: TaskStatus,
    pub health: Health,
    /// True once the task was told to stop and no longer takes new calls.
    pub draining: bool,
    pub availability_zone: Option<String>,
    pub endpoint: Option<Endpoint>,
    #[serde(with = "crate::fleet::time::option")]
    pub started_at: Option<SystemTime>,
    #[serde(with = "crate::fleet::time::option")]
    pub stopped_at: Option<SystemTime>,
    pub stopped_reason: Option<String>,
    /// ECS's `stopCode`: `TaskFailedToStart`, `EssentialContainerExited`, `UserInitiated`,
    /// `ServiceSchedulerInitiated`, `SpotInterruption`, `TerminationNotice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_code: Option<String>,
    pub exit_code: Option<i32>,
    /// Each container as ECS reports it: its own health, exit code and reason, image digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    /// Where ECS runs it, for reaching into it from outside the VPC; AWS source only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecs: Option<EcsTask>,
    pub metrics: Option<TaskMetrics>,
    /// This task's recent errors or latency stand out from the rest of its service
    /// (`outliers::mark`).
    #[serde(default)]
    pub outlier: Option<super::Outlier>,
    /// Remarks on this task: "unreachable from here", "not registered in Cloud Map", …
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Container {
    pub name: String,
    /// RUNNING, STOPPED, … as ECS says it.
    pub last_status: Option<String>,
    /// The container's own health check; `Unknown` without one.
    pub health: Health,
    pub exit_code: Option<i32>,
    /// Why it stopped ("Essential container in task exited", an OOM kill, …).
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    /// The container runtime's id (Docker's), part of a Session Manager target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_id: Option<String>,
    /// The lastStatus of its ExecuteCommandAgent (RUNNING when ECS Exec can reach it); none
    /// without ECS Exec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_agent: Option<String>,
}

/// A task as ECS names it, with what ECS Exec and Session Manager need to reach into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EcsTask {
    pub cluster_arn: String,
    pub task_arn: String,
    /// The task's `enableExecuteCommand`: fixed when the task started, from its service's.
    pub exec_enabled: bool,
    /// The container that serves MCP, and its port inside the task.
    pub mcp_container: Option<String>,
    pub mcp_port: Option<u16>,
}

impl EcsTask {
    pub fn cluster_name(&self) -> &str {
        self.cluster_arn
            .rsplit('/')
            .next()
            .unwrap_or(&self.cluster_arn)
    }
}

impl Task {
    /// A running, healthy task of revision 1 serving MCP at `endpoint`, with nothing else known:
    /// how a static server is described, and the base that fuller descriptions start from.
    pub fn serving(id: impl Into<String>, endpoint: Endpoint) -> Self {
        Self {
            id: id.into(),
            revision: 1,
            deployment_id: String::new(),
            last_status: TaskStatus::Running,
            desired_status: TaskStatus::Running,
            health: Health::Healthy,
            draining: false,
            availability_zone: None,
            endpoint: Some(endpoint),
            started_at: None,
            stopped_at: None,
            stopped_reason: None,
            exit_code: None,
            stop_code: None,
            containers: Vec::new(),
            ecs: None,
            metrics: None,
            outlier: None,
            notes: Vec::new(),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.last_status == TaskStatus::Running
            && self.health == Health::Healthy
            && !self.draining
            && self.endpoint.is_some()
    }

    /// The first 8 characters, as ECS consoles show task ids.
    pub fn short_id(&self) -> &str {
        &self.id[..self.id.len().min(8)]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceEvent {
    #[serde(with = "crate::fleet::time")]
    pub at: SystemTime,
    pub message: String,
}
