//! A synthetic fleet for the console bench: `services` services of `tasks` tasks each, in
//! the middle of life — one rollout in progress every fifth service, a few unhealthy and
//! draining tasks, metrics on every running task — and log lines in the shapes our server
//! writes (JSON tool-call lines, warnings, plain stderr text). Deterministic, so runs compare.

use std::time::{Duration, SystemTime};

use mcpfleet::fleet::{
    Deployment, DeploymentStatus, Endpoint, FigureSource, FleetSnapshot, Health, LogLine, Recent,
    RolloutState, Service, ServiceEvent, SourceKind, Task, TaskMetrics, TaskStatus,
};

const NAMES: [&str; 10] = [
    "orders",
    "billing",
    "search",
    "catalog",
    "inventory",
    "shipping",
    "identity",
    "pricing",
    "reports",
    "notify",
];

/// A 32-hex-digit task id, like ECS's, different for every (service, task).
fn task_id(service: usize, task: usize) -> String {
    let mut x = (service as u64) << 32 | task as u64;
    // splitmix64: well spread, deterministic
    let mut next = || {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    format!("{:016x}{:016x}", next(), next())
}

pub fn service_name(index: usize) -> String {
    format!(
        "{}-mcp-{}",
        NAMES[index % NAMES.len()],
        index / NAMES.len() + 1
    )
}

fn deployment(
    revision: u32,
    status: DeploymentStatus,
    state: RolloutState,
    desired: u32,
    running: u32,
    created: SystemTime,
) -> Deployment {
    Deployment {
        id: format!("ecs-svc/{revision:019}"),
        status,
        revision,
        desired,
        running,
        pending: 0,
        failed: 0,
        rollout_state: state,
        rollout_reason: None,
        created_at: created,
        updated_at: created + Duration::from_secs(30),
        figures: None,
        bake_ends_at: None,
    }
}

fn service(index: usize, tasks: usize, now: SystemTime) -> Service {
    let name = service_name(index);
    let rolling = index.is_multiple_of(5);
    let revision = 3 + (index % 4) as u32;
    let started = now - Duration::from_secs(3600);
    let mut task_list = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let new = !rolling || t.is_multiple_of(2);
        let rev = if new { revision } else { revision - 1 };
        let port = 20_000 + (index * tasks + t) as u16;
        let (status, health, draining) = match t % 25 {
            7 if rolling => (TaskStatus::Pending, Health::Unknown, false),
            11 => (TaskStatus::Running, Health::Unhealthy, false),
            13 if rolling => (TaskStatus::Deactivating, Health::Healthy, true),
            _ => (TaskStatus::Running, Health::Healthy, false),
        };
        task_list.push(Task {
            id: task_id(index, t),
            revision: rev,
            deployment_id: format!("ecs-svc/{rev:019}"),
            last_status: status,
            desired_status: TaskStatus::Running,
            health,
            draining,
            availability_zone: Some(["us-east-1a", "us-east-1b", "us-east-1c"][t % 3].into()),
            endpoint: Some(Endpoint::new(
                format!("http://10.0.{}.{}:8080/mcp", index, t + 10),
                format!("10.0.{}.{}:8080", index, t + 10),
            )),
            started_at: Some(started + Duration::from_secs((t * 7) as u64)),
            stopped_at: None,
            stopped_reason: None,
            exit_code: None,
            stop_code: None,
            containers: Vec::new(),
            ecs: None,
            metrics: (status == TaskStatus::Running).then(|| TaskMetrics {
                in_flight: (port % 5) as u64,
                calls: 10_000 + (port as u64 * 37) % 5_000,
                errors: (port % 13) as u64,
                fetched_at: Some(now - Duration::from_secs(2)),
                calls_per_sec: Some(f64::from(port % 40) / 4.0),
                errors_per_sec: Some(f64::from(port % 13) / 100.0),
                recent: Some(Recent {
                    p50_ms: Some(1.5),
                    p99_ms: Some(f64::from(port % 9) + 4.0),
                    ..Recent::new(FigureSource::Metrics, Duration::from_secs(60), 600, 3)
                }),
                buckets: Vec::new(),
            }),
            outlier: None,
            notes: Vec::new(),
        });
    }
    let desired = tasks as u32;
    let deployments = if rolling {
        vec![
            deployment(
                revision,
                DeploymentStatus::Primary,
                RolloutState::InProgress,
                desired,
                desired / 2,
                now - Duration::from_secs(120),
            ),
            deployment(
                revision - 1,
                DeploymentStatus::Active,
                RolloutState::Completed,
                desired,
                desired / 2,
                started,
            ),
        ]
    } else {
        vec![deployment(
            revision,
            DeploymentStatus::Primary,
            RolloutState::Completed,
            desired,
            desired,
            started,
        )]
    };
    let events = (0..20)
        .map(|e| ServiceEvent {
            at: now - Duration::from_secs(60 * e),
            message: format!("(service {name}) has reached a steady state."),
        })
        .collect();
    Service {
        name,
        desired,
        running: desired,
        pending: 0,
        deployments,
        tasks: task_list,
        events,
        mcp_path: "/mcp".into(),
        notes: Vec::new(),
        traffic: None,
        policy: None,
        crash_loop: None,
        latest_revision: None,
    }
}

pub fn snapshot(services: usize, tasks: usize, now: SystemTime) -> FleetSnapshot {
    FleetSnapshot {
        source: SourceKind::Local,
        context: "bench".into(),
        services: (0..services).map(|s| service(s, tasks, now)).collect(),
        fetched_at: now,
        stale: None,
        api_calls: 0,
        api_errors: 0,
        api: Vec::new(),
        loading: false,
        clusters: Vec::new(),
    }
}

/// Log line `n` of the fleet: round-robin over every task, 10 lines per second of history.
pub fn log_line(fleet: &FleetSnapshot, n: usize, start: SystemTime) -> LogLine {
    let service = &fleet.services[n % fleet.services.len()];
    let task = &service.tasks[(n / fleet.services.len()) % service.tasks.len()];
    let at = start + Duration::from_millis(100 * n as u64);
    let raw = match n % 20 {
        0..=15 => format!(
            r#"{{"timestamp":"2027-01-15T08:{:02}:{:02}Z","level":"INFO","message":"tool call","tool":"{}","outcome":"ok","duration_ms":{}.{:02},"task_id":"{}","request_id":{n}}}"#,
            (n / 60) % 60,
            n % 60,
            ["echo", "whoami", "sleep", "http_get"][n % 4],
            n % 40,
            n % 100,
            task.short_id(),
        ),
        16 | 17 => format!(
            r#"{{"timestamp":"2027-01-15T08:{:02}:{:02}Z","level":"WARN","message":"slow upstream","tool":"http_get","duration_ms":{},"url":"https://example.com/api/items/{n}"}}"#,
            (n / 60) % 60,
            n % 60,
            900 + n % 400,
        ),
        18 => format!(
            r#"{{"timestamp":"2027-01-15T08:{:02}:{:02}Z","level":"ERROR","message":"tool failed","tool":"http_get","error":"connection reset by peer","attempt":{}}}"#,
            (n / 60) % 60,
            n % 60,
            n % 3 + 1,
        ),
        _ => format!("plain stderr text from the runtime, line {n}: gc pause 3ms, heap 41MB"),
    };
    LogLine::parse(&service.name, &task.id, "stdout", at, &raw)
}
