//! `mcpfleet repro SERVICE TOOL`: the same call many times, a few at once, and per replica
//! how often and how it failed, with the replica that stands out named and the first failure
//! of each kind saved as an incident file (which `replay` sends again).

use std::{
    collections::VecDeque,
    io::IsTerminal,
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    fleet::LogLine,
    inert::inert_line,
    mcp::{
        self, Clearance, McpError,
        incident::Incident,
        repro::{self, ReproPlan, ReproReport},
    },
};

use super::{CliError, GlobalArgs, call, exit, probed, source, table};

/// Log lines kept while a run lasts, for the incidents' context.
const LOG_LINES_KEPT: usize = 100_000;
/// How long log lines are waited for after the last call, since they arrive after the calls.
const LOG_SETTLE: Duration = Duration::from_millis(1500);

pub struct ReproArgs {
    pub service: String,
    pub tool: String,
    pub args_json: Option<String>,
    pub pairs: Vec<String>,
    pub calls: usize,
    pub concurrency: usize,
    pub task: Option<String>,
    pub spread: bool,
    pub force: bool,
    pub timeout: Option<f64>,
    pub json: bool,
}

/// Where incident files go: `incidents/` under the state directory.
pub fn incidents_dir() -> Option<PathBuf> {
    super::history::file_path().and_then(|file| Some(file.parent()?.join("incidents")))
}

pub async fn run(global: &GlobalArgs, args: ReproArgs) -> Result<u8, CliError> {
    let mut probed = probed::probed(global, &args.service, args.task.as_deref()).await?;
    let logs = collect_logs(&mut probed.opened.handle.logs.rx);
    let (snapshot, service, worker) = (&probed.snapshot, &probed.service, &probed.worker);
    let tool = probed.tool(&args.tool)?;
    if let Clearance::Refused(why) = tool.clearance(global.read_only) {
        return Err(CliError::new(exit::READ_ONLY, why));
    }
    if let Some(why) = repro::repeat_refusal(tool, args.calls).filter(|_| !args.force) {
        return Err(CliError::new(exit::USAGE, why));
    }
    let arguments = call::arguments(args.args_json.as_deref(), &args.pairs, Some(tool))?;
    let mut request = mcp::CallRequest::new(service, &args.tool, arguments).with_timeout(Some(
        args.timeout
            .map_or(mcp::DEFAULT_TIMEOUT, Duration::from_secs_f64),
    ));
    if let Some(task) = &args.task {
        request = request.on_task(task.clone());
    }
    let spread = if args.spread {
        repro::spread_over(snapshot, service).map_err(|error| match error {
            McpError::SharedUrl { .. } => CliError::new(exit::USAGE, error.to_string()),
            other => source::mcp_error(snapshot, other),
        })?
    } else {
        Vec::new()
    };
    let plan = ReproPlan {
        request,
        calls: args.calls.max(1),
        concurrency: args.concurrency.max(1),
        spread,
    };
    let (progress, watching) = watch::channel(Arc::new(ReproReport::default()));
    let cancel = CancellationToken::new();
    let shown = (!args.json && std::io::stderr().is_terminal()).then(|| show_progress(watching));
    let interrupted = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        })
    };
    let (report, firsts) = repro::run(worker, &plan, &progress, &cancel).await;
    interrupted.abort();
    if let Some(shown) = shown {
        shown.abort();
        eprint!("\r\x1b[2K");
    }
    let mut incidents = Vec::new();
    if !firsts.is_empty() {
        tokio::time::sleep(LOG_SETTLE).await;
        let lines: Vec<LogLine> = logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        let dir = incidents_dir().ok_or_else(|| {
            CliError::new(
                exit::USAGE,
                "no state directory for incidents (set XDG_STATE_HOME or HOME)",
            )
        })?;
        for first in &firsts {
            let incident = Incident::of(first, &lines);
            let path = incident.save(&dir).map_err(|error| {
                CliError::new(
                    exit::USAGE,
                    format!("cannot write an incident into {}: {error}", dir.display()),
                )
            })?;
            incidents.push((incident, path));
        }
    }
    if args.json {
        let mut out = serde_json::to_value(&report).expect("a report serialises");
        out["incidents"] = incidents
            .iter()
            .map(|(incident, path)| {
                json!({
                    "kind": incident.kind,
                    "task_id": incident.served_by.as_ref().and_then(|b| b.task_id.clone()),
                    "log_lines": incident.logs.len(),
                    "path": path,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON values serialise")
        );
    } else {
        print!("{}", render(&report, &incidents));
    }
    let failed = report.replicas.iter().any(|r| r.failures > 0) || report.not_sent > 0;
    Ok(if failed { exit::TOOL_ERROR } else { exit::OK })
}

/// Every log line of the fleet from now on, the newest [`LOG_LINES_KEPT`].
fn collect_logs(rx: &mut tokio::sync::mpsc::Receiver<LogLine>) -> Arc<Mutex<VecDeque<LogLine>>> {
    let mut rx = std::mem::replace(rx, tokio::sync::mpsc::channel(1).1);
    let kept = Arc::new(Mutex::new(VecDeque::new()));
    let into = kept.clone();
    tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            let mut kept = into.lock().unwrap_or_else(PoisonError::into_inner);
            if kept.len() == LOG_LINES_KEPT {
                kept.pop_front();
            }
            kept.push_back(line);
        }
    });
    kept
}

/// A progress bar on stderr, redrawn as calls end.
fn show_progress(mut watching: watch::Receiver<Arc<ReproReport>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while watching.changed().await.is_ok() {
            let report = watching.borrow_and_update().clone();
            let width = 30;
            let filled = (report.done * width)
                .checked_div(report.planned)
                .unwrap_or(0);
            let failures: u64 = report.replicas.iter().map(|r| r.failures).sum();
            eprint!(
                "\r\x1b[2K[{}{}] {}/{} calls · {failures} failed",
                "#".repeat(filled),
                ".".repeat(width - filled.min(width)),
                report.done,
                report.planned
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

pub fn render(report: &ReproReport, incidents: &[(Incident, PathBuf)]) -> String {
    let rows: Vec<Vec<String>> = report
        .replicas
        .iter()
        .map(|r| {
            vec![
                repro::replica_label(r.task_id.as_deref()),
                r.revision.map_or("-".into(), |v| v.to_string()),
                r.calls.to_string(),
                r.failures.to_string(),
                format!(
                    "{} ({:.1}–{:.1})",
                    percent(r.failure_rate),
                    r.failure_rate_low * 100.0,
                    r.failure_rate_high * 100.0
                ),
                format!("{:.1}", r.p50_ms),
                format!("{:.1}", r.p90_ms),
                format!("{:.1}", r.p99_ms),
                format!("{:.1}", r.max_ms),
                repro::kinds_text(&r.failures_by_kind),
            ]
        })
        .collect();
    let mut out = table::render(
        &[
            "TASK",
            "REV",
            "CALLS",
            "FAILED",
            "RATE (95% CI)",
            "P50 MS",
            "P90 MS",
            "P99 MS",
            "MAX MS",
            "FAILURES",
        ],
        &rows,
    );
    out.push_str(&format!("{} of {} calls made", report.done, report.planned));
    if report.not_sent > 0 {
        out.push_str(&format!(
            "; {} could not be sent: {}",
            report.not_sent,
            inert_line(report.last_error.as_deref().unwrap_or("?"))
        ));
    }
    out.push('\n');
    match report.standing_out() {
        Some((suspect, others)) => {
            out.push_str(&format!(
                "task {} stands out: it fails {} (95 % CI {:.1}–{:.1} %), the others {} ({:.1}–{:.1} %)\n",
                suspect.task_id.as_deref().unwrap_or("?"),
                percent(suspect.failure_rate),
                suspect.failure_rate_low * 100.0,
                suspect.failure_rate_high * 100.0,
                percent(others.rate),
                others.low * 100.0,
                others.high * 100.0
            ));
        }
        None if report.replicas.iter().any(|r| r.failures > 0) => {
            out.push_str("no replica stands out from the others\n");
        }
        None => out.push_str("no call failed\n"),
    }
    for (incident, path) in incidents {
        let task = incident
            .served_by
            .as_ref()
            .map_or("?".to_string(), |by| by.short_task().to_string());
        out.push_str(&format!(
            "incident ({} on task {task}, {} log lines): {}\n",
            incident.kind.replace('_', " "),
            incident.logs.len(),
            path.display()
        ));
    }
    out
}
