use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, SystemTime},
};

use serde_json::{Value, json};

use super::*;
use crate::{
    fleet::{Deployment, DeploymentStatus, Service},
    mcp::{
        route::tests::{fleet, task},
        surface::Surface,
    },
};

fn tool(name: &str, max_length: u32) -> Value {
    json!({
        "name": name,
        "inputSchema": {
            "type": "object",
            "properties": {"message": {"type": "string", "maxLength": max_length}},
        },
    })
}

fn probe(tools: Vec<Value>) -> Probe {
    let surface = Surface::new(
        json!({"name": "mcpfleet-server", "version": "0.1.0"}),
        "2025-11-25".into(),
        json!({"tools": {}}),
        tools,
    );
    Probe {
        url: "http://127.0.0.1:1/mcp".into(),
        latency: Duration::from_millis(1),
        handshake: None,
        server_name: Some("mcpfleet-server".into()),
        server_version: Some("0.1.0".into()),
        protocol_version: "2025-11-25".into(),
        tools: Vec::new(),
        dropped_tools: Vec::new(),
        surface: Arc::new(surface),
        resources: None,
        prompts: None,
        resource_names: Vec::new(),
        prompt_names: Vec::new(),
        fetched_at: SystemTime::now(),
    }
}

/// Tasks `t1`..`tN`, task n on revision `revisions[n-1]`.
fn service(revisions: &[u32], rolling: bool) -> Service {
    let tasks = revisions
        .iter()
        .enumerate()
        .map(|(i, &revision)| {
            let address = SocketAddr::from(([127, 0, 0, 1], 4000 + i as u16));
            let mut task = task(&format!("t{}", i + 1), address);
            task.revision = revision;
            task
        })
        .collect();
    let mut service = fleet("svc", tasks).services.remove(0);
    let now = SystemTime::now();
    service.deployments.push(Deployment {
        id: "ecs-svc/2".into(),
        status: DeploymentStatus::Primary,
        revision: *revisions.iter().max().unwrap(),
        desired: revisions.len() as u32,
        running: revisions.len() as u32,
        pending: 0,
        failed: 0,
        rollout_state: if rolling {
            RolloutState::InProgress
        } else {
            RolloutState::Completed
        },
        rollout_reason: None,
        created_at: now,
        updated_at: now,
        figures: None,
        bake_ends_at: None,
    });
    service
}

#[test]
fn the_odd_replica_is_its_own_group_named_by_revision_and_change() {
    let usual = vec![tool("echo", 1000), tool("sleep", 10)];
    let odd = vec![tool("echo", 2000)];
    let probes: HashMap<String, Probe> = [
        ("t1", probe(usual.clone())),
        ("t2", probe(odd)),
        ("t3", probe(usual)),
    ]
    .into_iter()
    .map(|(id, p)| (id.to_string(), p))
    .collect();
    let drift = ServiceDrift::of(&service(&[7, 8, 7], false), &probes, &HashMap::new());
    assert!(drift.drift && !drift.rollout_in_progress);
    assert_eq!(drift.groups.len(), 2);
    let (a, b) = (&drift.groups[0], &drift.groups[1]);
    assert_eq!((a.label.as_str(), a.revisions.clone()), ("A", vec![7]));
    let members: Vec<&str> = a.tasks.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(members, ["t1", "t3"]);
    assert!(a.changes.is_empty());
    assert_eq!((b.label.as_str(), b.revisions.clone()), ("B", vec![8]));
    let lines: Vec<String> = b.changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "echo: inputSchema /properties/message/maxLength 1000 → 2000",
            "tool removed: sleep",
        ]
    );
    let text = drift.describe().join("\n");
    assert!(
        text.starts_with("svc: DRIFT with no rollout in progress — 2 surfaces across 3 tasks"),
        "{text}"
    );
    assert!(text.contains("group B · revision 8 ·"), "{text}");
    assert!(text.contains("      tool removed: sleep"), "{text}");
}

#[test]
fn drift_mid_rollout_is_told_as_expected_and_unprobed_tasks_are_listed() {
    let probes: HashMap<String, Probe> = [
        ("t1".to_string(), probe(vec![tool("echo", 1)])),
        ("t2".to_string(), probe(vec![tool("echo", 2)])),
    ]
    .into();
    let errors: HashMap<String, String> = [("t3".to_string(), "refused".to_string())].into();
    let drift = ServiceDrift::of(&service(&[1, 2, 2], true), &probes, &errors);
    assert!(drift.drift && drift.rollout_in_progress);
    assert_eq!(drift.unprobed.len(), 1);
    assert_eq!(drift.unprobed[0].reason, "refused");
    let text = drift.describe().join("\n");
    assert!(text.contains("DRIFT during a rollout"), "{text}");
    assert!(text.contains("unprobed t3 · revision 2: refused"), "{text}");
}

#[test]
fn one_surface_everywhere_is_uniform() {
    let probes: HashMap<String, Probe> = ["t1", "t2"]
        .into_iter()
        .map(|id| (id.to_string(), probe(vec![tool("echo", 5)])))
        .collect();
    let drift = ServiceDrift::of(&service(&[3, 3], false), &probes, &HashMap::new());
    assert!(!drift.drift);
    assert_eq!(drift.groups.len(), 1);
    assert_eq!(
        drift.describe()[0],
        "svc: uniform, 2 tasks present one surface"
    );
}
