//! `mcpfleet replay FILE`: an incident's call sent again — to any ready task or the one named —
//! and what changed: outcome, replica, HTTP status, result, latency.

use std::path::Path;

use serde_json::json;

use crate::mcp::{
    self, CallOutcome, Clearance,
    compare::{Difference, differences},
    incident::Incident,
    repro::FailureKind,
};

use super::{CliError, GlobalArgs, call, exit, outcome, source};

/// What differs between the incident's outcome and the replay's, one line each.
fn changes(before: &CallOutcome, after: &CallOutcome, incident: &Incident) -> Vec<String> {
    let mut changes = Vec::new();
    if before.kind() != after.kind() {
        changes.push(format!(
            "outcome: {} → {}",
            before.kind().label(),
            after.kind().label()
        ));
    }
    let replica = |o: &CallOutcome| {
        o.served_by
            .as_ref()
            .map_or("none".into(), |b| b.to_string())
    };
    let (was, now) = (
        before.served_by.as_ref().map(|b| (&b.task_id, b.revision)),
        after.served_by.as_ref().map(|b| (&b.task_id, b.revision)),
    );
    if was != now {
        changes.push(format!(
            "served by: {} → {}",
            replica(before),
            replica(after)
        ));
    }
    let status = FailureKind::of(after).and_then(|kind| match kind {
        FailureKind::HttpStatus(code) => Some(code),
        _ => None,
    });
    if incident.http_status.is_some() && incident.http_status != status {
        let shown = |s: Option<u16>| s.map_or("2xx".to_string(), |s| s.to_string());
        changes.push(format!(
            "HTTP status: {} → {}",
            shown(incident.http_status),
            shown(status)
        ));
    }
    if before.result.is_ok() && after.result.is_ok() || before.kind() == after.kind() {
        changes.extend(
            differences(before, after)
                .into_iter()
                .filter(|d| {
                    !matches!(d, Difference::Outcome { .. }) || before.kind() == after.kind()
                })
                .map(|d| d.to_string()),
        );
    }
    changes.push(format!(
        "latency: {:.1} ms → {:.1} ms",
        before.duration.as_secs_f64() * 1000.0,
        after.duration.as_secs_f64() * 1000.0
    ));
    changes
}

pub async fn replay(
    global: &GlobalArgs,
    file: &Path,
    task: Option<String>,
    json: bool,
) -> Result<u8, CliError> {
    let incident = Incident::load(file).map_err(|why| CliError::new(exit::USAGE, why))?;
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let answerer = super::elicit::answer(super::elicit::Policy::Refuse);
    let mut config = global.worker_config(&opened.config, answerer.asks);
    config.history_file = super::history::file_path();
    let worker = mcp::worker::spawn(opened.handle.snapshots.clone(), config);
    let probe = worker
        .probe(&incident.service, task.as_deref())
        .await
        .map_err(|error| source::mcp_error(&snapshot, error))?;
    if let Some(Clearance::Refused(why)) = probe
        .tools
        .iter()
        .find(|t| t.name == incident.tool)
        .map(|t| t.clearance(global.read_only))
    {
        return Err(CliError::new(exit::READ_ONLY, why));
    }
    let mut request = incident.request();
    if let Some(task) = task {
        request = request.on_task(task);
    }
    let after = worker.call(request).await;
    let before = incident.outcome();
    let changes = changes(&before, &after, &incident);
    let failed_as = FailureKind::of(&after).map(|kind| kind.slug());
    let reproduced = failed_as.as_deref() == Some(incident.kind.as_str());
    if json {
        let out = json!({
            "outcome": outcome::outcome_json(&after),
            "incident": {
                "path": file,
                "kind": incident.kind,
                "at": incident.at,
                "served_by": incident.served_by,
                "http_status": incident.http_status,
            },
            "reproduced": reproduced,
            "changes": changes,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON values serialise")
        );
    } else {
        print!("{}", outcome::render(&after));
        let was = incident
            .served_by
            .as_ref()
            .map_or("?".to_string(), |by| by.to_string());
        println!(
            "── replay of {} ({} on {was} at {})",
            file.display(),
            incident.kind.replace('_', " "),
            incident.at
        );
        println!(
            "{}",
            if reproduced {
                "the failure happened again"
            } else {
                "the failure did not happen again"
            }
        );
        println!("what changed:");
        for change in &changes {
            println!("  {change}");
        }
    }
    Ok(call::exit_code(&after))
}
