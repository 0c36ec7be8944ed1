//! `mcpfleet tools SERVICE`: the tools a service's task offers, with their annotations.

use serde_json::json;

use crate::mcp::{self, McpError, Probe};

use super::{
    CliError, GlobalArgs,
    login::{self, Attempt},
    source, table,
};

pub const COLUMNS: &[&str] = &["TOOL", "HINTS", "TITLE", "DESCRIPTION"];

pub fn render(probe: &Probe) -> String {
    let rows: Vec<Vec<String>> = probe
        .tools
        .iter()
        .map(|tool| {
            let description = tool.description.as_deref().unwrap_or("");
            vec![
                tool.name.clone(),
                tool.hints().join(","),
                tool.title.clone().unwrap_or_default(),
                description.lines().next().unwrap_or("").to_string(),
            ]
        })
        .collect();
    let mut out = format!(
        "{} {} · protocol {} · {} tools · {:.0} ms\n\n",
        probe.server_name.as_deref().unwrap_or("(unnamed server)"),
        probe.server_version.as_deref().unwrap_or(""),
        probe.protocol_version,
        probe.tools.len(),
        probe.latency.as_secs_f64() * 1000.0
    );
    out.push_str(&table::render(COLUMNS, &rows));
    out
}

pub async fn run(
    global: &GlobalArgs,
    service: &str,
    task: Option<&str>,
    json: bool,
) -> Result<(), CliError> {
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let service = global.url.as_ref().map_or(service, |_| "url");
    let label = if global.url.is_some() { "" } else { service };
    let probe = login::with_sign_ins(
        global,
        json,
        label,
        login::configured(
            &snapshot,
            if global.url.is_some() { "url" } else { service },
        ),
        || async {
            let answerer = super::elicit::answer(super::elicit::Policy::Refuse);
            let config = global.worker_config(&opened.config, answerer.asks);
            let worker = mcp::worker::spawn(opened.handle.snapshots.clone(), config);
            match worker.probe(service, task).await {
                Ok(probe) => Ok(Attempt::Done(probe)),
                Err(error @ McpError::AuthRequired { .. }) => Ok(Attempt::NeedsSignIn(error)),
                Err(error) => Err(source::mcp_error(&snapshot, error)),
            }
        },
    )
    .await?;
    if json {
        let out = json!({
            "server": {"name": probe.server_name, "version": probe.server_version},
            "protocol_version": probe.protocol_version,
            "url": probe.url,
            "tools_hash": probe.surface.fingerprint.tools,
            "fingerprint": probe.surface.fingerprint,
            "tools": probe.tools,
            "dropped": probe.dropped_tools,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON values serialise")
        );
    } else {
        print!("{}", render(&probe));
        for dropped in &probe.dropped_tools {
            eprintln!(
                "mcpfleet: dropped {}: {}",
                crate::inert::inert_line(&dropped.name),
                crate::inert::inert_line(&dropped.reason)
            );
        }
    }
    Ok(())
}
