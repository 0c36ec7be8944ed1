//! `mcpfleet doctor SERVICE [--task T]` / `mcpfleet doctor --url U`: the connection to one
//! task checked step by step (DNS, TCP, TLS, HTTP, /healthz, the MCP handshake, tools/list),
//! as a table with each step's latency and, under a failed step, what to check. Never signs
//! in: a server that wants a sign-in is a finding, not a prompt.

use serde_json::json;

use crate::{
    inert::inert_line,
    mcp::{
        self,
        doctor::{Diagnosis, DoctorUpdate, Step},
    },
};

use super::{CliError, GlobalArgs, exit, source, table};

pub const COLUMNS: &[&str] = &["STEP", "RESULT", "LATENCY", "DETAIL"];

/// The steps as a table, then what to check under the failed one.
pub fn render(task: Option<&str>, diagnosis: &Diagnosis) -> String {
    let rows: Vec<Vec<String>> = diagnosis
        .steps
        .iter()
        .map(|step: &Step| {
            vec![
                step.step.label().to_string(),
                step.outcome.label().to_string(),
                step.latency_text(),
                inert_line(&step.detail).into_owned(),
            ]
        })
        .collect();
    let task = task.map(|t| format!("task {} · ", &t[..t.len().min(8)]));
    let mut out = format!(
        "{}{}\n\n",
        task.unwrap_or_default(),
        inert_line(&diagnosis.url)
    );
    out.push_str(&table::render(COLUMNS, &rows));
    if let Some(failed) = diagnosis.failed() {
        let hint = failed.hint.as_deref().unwrap_or("");
        out.push_str(&format!(
            "\n{} failed: {}\n",
            failed.step.label(),
            inert_line(hint)
        ));
    }
    out
}

/// Runs the doctor; exit 0 when every step passed, `exit::DIAGNOSIS` when one failed.
pub async fn run(
    global: &GlobalArgs,
    service: &str,
    task: Option<&str>,
    json: bool,
) -> Result<u8, CliError> {
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let service = global.url.as_ref().map_or(service, |_| "url");
    let answerer = super::elicit::answer(super::elicit::Policy::Refuse);
    let config = global.worker_config(&opened.config, answerer.asks);
    let worker = mcp::worker::spawn(opened.handle.snapshots.clone(), config);
    let mut updates = worker.doctor(service, task);
    let mut task_id = None;
    let diagnosis = loop {
        match updates.recv().await {
            Some(DoctorUpdate::Target { task_id: id, .. }) => task_id = Some(id),
            Some(DoctorUpdate::Step(_)) => {}
            Some(DoctorUpdate::Done(Ok(diagnosis))) => break diagnosis,
            Some(DoctorUpdate::Done(Err(error))) => {
                return Err(source::mcp_error(&snapshot, error));
            }
            None => {
                return Err(CliError::new(exit::CONNECTION, "the MCP worker stopped"));
            }
        }
    };
    let shown_task = task_id.as_deref().filter(|_| global.url.is_none());
    if json {
        let failed = diagnosis.failed().map(|step| step.step);
        let out = json!({
            "service": (global.url.is_none()).then_some(service),
            "task": shown_task,
            "url": diagnosis.url,
            "ok": failed.is_none(),
            "failed": failed,
            "steps": diagnosis.steps,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON values serialise")
        );
    } else {
        print!("{}", render(shown_task, &diagnosis));
    }
    Ok(match diagnosis.failed() {
        Some(_) => exit::DIAGNOSIS,
        None => exit::OK,
    })
}
