//! `mcpfleet replay FILE`: an incident's call sent again — to any ready task or the one named —
//! and what changed: outcome, replica, HTTP status, result, latency.

use std::path::Path;

use serde_json::json;

use crate::mcp::{self, Clearance, incident::Incident};

use super::{CliError, GlobalArgs, call, exit, outcome, source};

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
    let changes = incident.changes(&after);
    let reproduced = incident.happened_again(&after);
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
