//! `mcpfleet drift [SERVICE]`: every ready task of each service (or of the one named) probed at
//! once, grouped by the fingerprint of the surface it presents, and what differs between the
//! groups. Exits `DRIFT` when any service's replicas disagree, so it can gate a pipeline.

use std::collections::HashMap;

use futures_util::future::join_all;
use serde_json::json;

use crate::{
    fleet::FleetSnapshot,
    mcp::{self, McpClient, Probe, drift::ServiceDrift},
};

use super::{CliError, GlobalArgs, exit, source};

pub async fn run(global: &GlobalArgs, service: Option<&str>, json: bool) -> Result<u8, CliError> {
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    if let Some(name) = service
        && snapshot.service(name).is_none()
    {
        return Err(source::mcp_error(
            &snapshot,
            mcp::McpError::UnknownService(name.to_string()),
        ));
    }
    let answerer = super::elicit::answer(super::elicit::Policy::Refuse);
    let config = global.worker_config(&opened.config, answerer.asks);
    let worker = mcp::worker::spawn(opened.handle.snapshots.clone(), config);
    let (probes, errors) = probe_ready(&worker, &snapshot, service).await;
    let reports: Vec<ServiceDrift> = snapshot
        .services
        .iter()
        .filter(|s| service.is_none_or(|name| s.name == name))
        .map(|s| ServiceDrift::of(s, &probes, &errors))
        .collect();
    let drifting = reports.iter().any(|r| r.drift);
    if json {
        let out = json!({"drift": drifting, "services": reports});
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON values serialise")
        );
    } else {
        for report in &reports {
            for line in report.describe() {
                println!("{line}");
            }
        }
    }
    Ok(if drifting {
        exit::DRIFT
    } else if !errors.is_empty() {
        // Uniform as far as it could see, but a ready task did not answer: not a pass.
        exit::CONNECTION
    } else {
        exit::OK
    })
}

/// Every ready task of the services in question, probed at once: the probes and, for the
/// tasks whose probe failed, why.
async fn probe_ready(
    worker: &McpClient,
    snapshot: &FleetSnapshot,
    service: Option<&str>,
) -> (HashMap<String, Probe>, HashMap<String, String>) {
    let tasks = snapshot
        .services
        .iter()
        .filter(|s| service.is_none_or(|name| s.name == name))
        .flat_map(|s| {
            s.ready_tasks()
                .map(move |t| (s.name.as_str(), t.id.as_str()))
        });
    let probed = join_all(tasks.map(|(service, task)| async move {
        (task.to_string(), worker.probe(service, Some(task)).await)
    }))
    .await;
    let (mut probes, mut errors) = (HashMap::new(), HashMap::new());
    for (task, result) in probed {
        match result {
            Ok(probe) => {
                probes.insert(task, probe);
            }
            Err(error) => {
                errors.insert(task, error.to_string());
            }
        }
    }
    (probes, errors)
}
