//! Shared by the MCP client tests: replicas started in-process on loopback, hand-built fleet
//! snapshots pointing at them, and readers for the replicas' /metrics.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    net::SocketAddr,
    time::{Duration, Instant, SystemTime},
};

use mcpfleet::{
    fleet::{Endpoint, FleetSnapshot, Service, SourceKind, Task},
    mcp::{CallOutcome, McpError},
};
use mcpfleet_server::{Mode, RunningServer, ServerConfig};

pub const SERVICE: &str = "ops";

pub async fn start(
    mode: Mode,
    replica: &str,
    configure: impl FnOnce(&mut ServerConfig),
) -> RunningServer {
    let mut config = ServerConfig::loopback();
    config.mode = mode;
    config.replica = Some(replica.to_string());
    config.drain_deadline_secs = 5;
    configure(&mut config);
    mcpfleet_server::start(config).await.expect("server starts")
}

pub fn task(id: &str, address: SocketAddr) -> Task {
    Task {
        revision: 7,
        deployment_id: "ecs-svc/1".into(),
        started_at: Some(SystemTime::now()),
        ..Task::serving(
            id,
            Endpoint::new(format!("http://{address}/mcp"), address.to_string()),
        )
    }
}

/// Tasks named after the replicas, so `whoami` can confirm which one served a call.
pub fn fleet(servers: &[&RunningServer]) -> FleetSnapshot {
    let tasks = servers
        .iter()
        .map(|s| task(&s.replica.identity.replica, s.local_addr))
        .collect();
    fleet_of(tasks)
}

pub fn fleet_of(tasks: Vec<Task>) -> FleetSnapshot {
    let mut fleet = FleetSnapshot::empty(SourceKind::Static, "test");
    fleet.services.push(Service {
        name: SERVICE.into(),
        desired: tasks.len() as u32,
        running: tasks.len() as u32,
        pending: 0,
        deployments: Vec::new(),
        tasks,
        events: Vec::new(),
        mcp_path: "/mcp".into(),
        notes: Vec::new(),
        traffic: None,
        policy: None,
        crash_loop: None,
        latest_revision: None,
    });
    fleet
}

pub fn mark_draining(fleet: &mut FleetSnapshot, id: &str) {
    let task = fleet.services[0]
        .tasks
        .iter_mut()
        .find(|t| t.id == id)
        .expect("task");
    task.draining = true;
}

/// `mcpfleet_tool_calls_total` for `tool`, by outcome, from the replica's /metrics.
pub async fn tool_calls(server: &RunningServer, tool: &str) -> HashMap<String, u64> {
    let text = reqwest::get(format!("http://{}/metrics", server.local_addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut calls = HashMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("mcpfleet_tool_calls_total{"))
    {
        if !line.contains(&format!("tool=\"{tool}\"")) {
            continue;
        }
        let outcome = line
            .split("outcome=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap();
        let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        calls.insert(outcome.to_string(), count as u64);
    }
    calls
}

pub async fn wait_for_cancelled(server: &RunningServer, tool: &str) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let cancelled = tool_calls(server, tool)
            .await
            .get("cancelled")
            .copied()
            .unwrap_or(0);
        if cancelled > 0 || Instant::now() > deadline {
            return cancelled;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn ok_text(outcome: &CallOutcome) -> String {
    match &outcome.result {
        Ok(result) => result.text(),
        Err(error) => panic!("call failed: {error}"),
    }
}

/// The problems of a call refused for invalid arguments.
pub fn invalid(outcome: CallOutcome) -> Vec<String> {
    match outcome.result {
        Err(McpError::InvalidArguments(problems)) => problems,
        other => panic!("expected invalid arguments, got {other:?}"),
    }
}
