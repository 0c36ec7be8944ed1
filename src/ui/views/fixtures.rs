//! Fixed data for the views' snapshot tests: a fleet in the middle of a rollout, a broken
//! third-party service with notes, logs, probes, call history and the same fleet as the aws
//! source would count its API calls, all at fixed times.

use std::{
    collections::HashMap,
    time::{Duration, SystemTime},
};

use serde_json::json;

use crate::{
    fleet::{
        ApiStat, Deployment, DeploymentStatus, Endpoint, FigureSource, FleetSnapshot, Health,
        LogLine, Recent, RolloutState, Service, ServiceEvent, SourceKind, Task, TaskMetrics,
        TaskStatus,
    },
    mcp::{History, Probe, ToolInfo, figures::CallFigures},
    ui::{log_buffer::LogBuffer, theme::Theme},
};

use super::Context;

pub fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

/// Twenty names, `{prefix}00` to `{prefix}19`: rows enough to scroll a list on a small screen.
pub fn numbered(prefix: &str) -> impl Iterator<Item = String> + '_ {
    (0..20).map(move |i| format!("{prefix}{i:02}"))
}

/// "Now" in every fixture: 10 minutes after the first task started.
pub fn now() -> SystemTime {
    at(600)
}

fn task(
    id: &str,
    revision: u32,
    port: u16,
    status: TaskStatus,
    health: Health,
    started: u64,
) -> Task {
    Task {
        id: id.into(),
        revision,
        deployment_id: format!("ecs-svc/{revision:019}"),
        last_status: status,
        desired_status: TaskStatus::Running,
        health,
        draining: false,
        availability_zone: Some(
            if port.is_multiple_of(2) {
                "us-east-1a"
            } else {
                "us-east-1b"
            }
            .into(),
        ),
        endpoint: Some(Endpoint::new(
            format!("http://127.0.0.1:{port}/mcp"),
            format!("127.0.0.1:{port}"),
        )),
        started_at: Some(at(started)),
        stopped_at: None,
        stopped_reason: None,
        exit_code: None,
        stop_code: None,
        containers: Vec::new(),
        ecs: None,
        metrics: Some(TaskMetrics {
            in_flight: port as u64 % 4,
            calls: 1200 + port as u64,
            errors: port as u64 % 7,
            fetched_at: Some(at(599)),
            calls_per_sec: Some(f64::from(port % 10) + 0.5),
            errors_per_sec: Some(f64::from(port % 3) * 0.1),
            recent: Some(Recent {
                p50_ms: Some(1.5),
                p99_ms: Some(f64::from(port % 9) + 4.0),
                ..Recent::new(
                    FigureSource::Metrics,
                    Duration::from_secs(60),
                    600,
                    port as u64 % 7,
                )
            }),
            buckets: Vec::new(),
        }),
        outlier: None,
        notes: Vec::new(),
    }
}

fn deployment(
    revision: u32,
    status: DeploymentStatus,
    state: RolloutState,
    running: u32,
    created: u64,
) -> Deployment {
    Deployment {
        id: format!("ecs-svc/{revision:019}"),
        status,
        revision,
        desired: 3,
        running,
        pending: 0,
        failed: 0,
        rollout_state: state,
        rollout_reason: None,
        created_at: at(created),
        updated_at: at(created + 20),
        figures: None,
        bake_ends_at: None,
    }
}

pub fn fleet() -> FleetSnapshot {
    let mut stopped = task(
        "5b1e0c9a7d3f4e2a8c6b0d1e2f3a4b5c",
        1,
        41003,
        TaskStatus::Stopped,
        Health::Unknown,
        0,
    );
    stopped.stopped_at = Some(at(560));
    stopped.stopped_reason =
        Some("Scaling activity initiated by (deployment ecs-svc/0000000000000000002)".into());
    stopped.exit_code = Some(0);
    stopped.metrics = None;
    let mut draining = task(
        "9c2d4e6f8a0b1c3d5e7f9a1b3c5d7e9f",
        1,
        41002,
        TaskStatus::Deactivating,
        Health::Healthy,
        0,
    );
    draining.draining = true;
    let server = Service {
        name: "mcpfleet-server".into(),
        desired: 3,
        running: 3,
        pending: 1,
        deployments: vec![
            deployment(2, DeploymentStatus::Primary, RolloutState::InProgress, 2, 540),
            deployment(1, DeploymentStatus::Active, RolloutState::Completed, 1, 0),
        ],
        tasks: vec![
            task("0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c", 2, 41010, TaskStatus::Running, Health::Healthy, 545),
            task("7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f", 2, 41011, TaskStatus::Running, Health::Healthy, 550),
            task("e4f6a8c0b2d4e6f8a0c2e4f6a8b0d2f4", 2, 41012, TaskStatus::Pending, Health::Unknown, 590),
            draining,
            stopped,
        ],
        events: vec![
            ServiceEvent { at: at(590), message: "(service mcpfleet-server) has started 1 tasks: (task e4f6a8c0b2d4e6f8a0c2e4f6a8b0d2f4).".into() },
            ServiceEvent { at: at(560), message: "(service mcpfleet-server) has stopped 1 running tasks: (task 5b1e0c9a7d3f4e2a8c6b0d1e2f3a4b5c).".into() },
            ServiceEvent { at: at(540), message: "(service mcpfleet-server) has started 2 tasks: (task 0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c) (task 7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f).".into() },
            ServiceEvent { at: at(30), message: "(service mcpfleet-server) has reached a steady state.".into() },
        ],
        mcp_path: "/mcp".into(),
        notes: Vec::new(),
        traffic: None,
        policy: None,
        crash_loop: None,
        latest_revision: None,
    };
    let mut broken = task(
        "c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6",
        1,
        42001,
        TaskStatus::Running,
        Health::Unhealthy,
        120,
    );
    broken.metrics = None;
    broken.notes = vec!["unreachable from here".into()];
    let everything = Service {
        name: "everything".into(),
        desired: 1,
        running: 1,
        pending: 0,
        deployments: vec![deployment(
            1,
            DeploymentStatus::Primary,
            RolloutState::Completed,
            1,
            100,
        )],
        tasks: vec![broken],
        events: vec![ServiceEvent {
            at: at(130),
            message: "(service everything) has reached a steady state.".into(),
        }],
        mcp_path: "/mcp".into(),
        notes: vec![
            "log group /ecs/everything does not exist; no logs for this service".into(),
            "Cloud Map instance 8e1f0c2a (10.0.1.5:8080) has no running task".into(),
        ],
        traffic: None,
        policy: None,
        crash_loop: None,
        latest_revision: None,
    };
    FleetSnapshot {
        source: SourceKind::Local,
        context: "local".into(),
        services: vec![server, everything],
        fetched_at: at(598),
        stale: None,
        api_calls: 0,
        api_errors: 0,
        api: Vec::new(),
        loading: false,
        clusters: Vec::new(),
    }
}

/// The fleet as the aws source would show it mid-refresh: its API calls per operation, and the
/// last refresh throttled, so the data is a minute old.
pub fn aws_fleet() -> FleetSnapshot {
    let stat = |operation: &str, calls, errors, last_error: Option<&str>| ApiStat {
        operation: operation.into(),
        calls,
        errors,
        last_error: last_error.map(str::to_string),
    };
    let api = vec![
        stat("ecs:ListServices", 102, 0, None),
        stat("ecs:DescribeServices", 412, 0, None),
        stat("ecs:ListTasks", 408, 0, None),
        stat("ecs:DescribeTasks", 415, 7, Some("HTTP 429")),
        stat("ecs:DescribeTaskDefinition", 6, 0, None),
        stat(
            "servicediscovery:DiscoverInstances",
            204,
            1,
            Some("no response"),
        ),
        stat("logs:FilterLogEvents", 1210, 3, Some("HTTP 400")),
        stat("cloudwatch:GetMetricData", 134, 1, Some("HTTP 403")),
    ];
    FleetSnapshot {
        source: SourceKind::Aws,
        context: "mcpfleet-demo @ us-east-1".into(),
        fetched_at: at(540),
        stale: Some("ecs:DescribeTasks: ThrottlingException: Rate exceeded".into()),
        api_calls: api.iter().map(|s| s.calls).sum(),
        api_errors: api.iter().map(|s| s.errors).sum(),
        api,
        ..fleet()
    }
}

pub fn logs() -> LogBuffer {
    let mut buffer = LogBuffer::new(1000);
    let lines = [
        (
            "0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c",
            546,
            r#"{"timestamp":"2027-01-15T08:09:06Z","level":"INFO","message":"listening","address":"127.0.0.1:41010"}"#,
        ),
        (
            "7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f",
            551,
            r#"{"timestamp":"2027-01-15T08:09:11Z","level":"INFO","message":"listening","address":"127.0.0.1:41011"}"#,
        ),
        (
            "0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c",
            580,
            r#"{"timestamp":"2027-01-15T08:09:40Z","level":"INFO","message":"tool call","tool":"echo","outcome":"ok","duration_ms":0.41,"task_id":"0f2ab1c9"}"#,
        ),
        (
            "7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f",
            585,
            r#"{"timestamp":"2027-01-15T08:09:45Z","level":"WARN","message":"drain deadline reached with requests still in flight","abandoned":1}"#,
        ),
        (
            "9c2d4e6f8a0b1c3d5e7f9a1b3c5d7e9f",
            595,
            "plain text line from stderr",
        ),
    ];
    for (task, secs, raw) in lines {
        buffer.push(LogLine::parse(
            "mcpfleet-server",
            task,
            "stdout",
            at(secs),
            raw,
        ));
    }
    buffer
}

pub fn probes() -> HashMap<String, Probe> {
    let tool = |name: &str, description: &str, read_only: bool| ToolInfo {
        name: name.into(),
        title: None,
        description: Some(description.into()),
        input_schema: json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}),
        output_schema: None,
        read_only: Some(read_only),
        destructive: Some(false),
        idempotent: Some(true),
        open_world: None,
        ui_resource: None,
    };
    let probe = Probe {
        url: "http://127.0.0.1:41010/mcp".into(),
        latency: Duration::from_millis(3),
        handshake: None,
        server_name: Some("mcpfleet-server".into()),
        server_version: Some("0.1.0".into()),
        protocol_version: "2026-07-28".into(),
        dropped_tools: Vec::new(),
        tools: vec![
            tool("echo", "Return the message unchanged.", true),
            tool(
                "whoami",
                "Describe the replica that served this call.",
                true,
            ),
        ],
        surface: std::sync::Arc::new(crate::mcp::surface::Surface::new(
            json!({"name": "mcpfleet-server", "version": "0.1.0"}),
            "2026-07-28".into(),
            json!({"tools": {}, "resources": {}}),
            [json!({"name": "echo", "inputSchema": {"type": "object"}})],
        )),
        resources: Some(1),
        prompts: None,
        resource_names: vec!["identity".into()],
        prompt_names: Vec::new(),
        fetched_at: at(590),
    };
    let mut probes = HashMap::new();
    probes.insert(
        "0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c".to_string(),
        probe.clone(),
    );
    probes.insert("7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f".to_string(), probe);
    probes
}

/// Owns what a `Context` borrows.
pub struct Fixture {
    pub fleet: FleetSnapshot,
    pub logs: LogBuffer,
    pub probes: HashMap<String, Probe>,
    pub calls: CallFigures,
    pub probe_errors: HashMap<String, String>,
    pub history: History,
    pub trends: crate::fleet::trends::Trends,
    pub sign_ins: Vec<crate::oauth::Status>,
    pub streams: crate::mcp::StreamsByTask,
    pub idle_timeouts: crate::config::StreamsSection,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    pub fn new() -> Self {
        let fleet = fleet();
        let mut trends = crate::fleet::trends::Trends::default();
        trends.sample(&fleet);
        Self {
            fleet,
            logs: logs(),
            probes: probes(),
            probe_errors: HashMap::new(),
            calls: CallFigures::default(),
            history: History::new(50),
            trends,
            sign_ins: Vec::new(),
            streams: Default::default(),
            idle_timeouts: Default::default(),
        }
    }

    pub fn context(&self) -> Context<'_> {
        Context {
            snapshot: &self.fleet,
            logs: &self.logs,
            probes: &self.probes,
            probe_errors: &self.probe_errors,
            calls: &self.calls,
            streams: &self.streams,
            idle_timeouts: &self.idle_timeouts,
            history: &self.history,
            sign_ins: &self.sign_ins,
            trends: &self.trends,
            theme: Theme::plain(),
            now: now(),
            read_only: false,
        }
    }
}
