//! `mcpfleet bench SERVICE TOOL`: a load run — many workers calling one tool for a while, or
//! a number of calls, at full speed or a set rate — with calls per second, latency quantiles
//! and a latency histogram, overall and per replica.

use std::{io::IsTerminal, sync::Arc, time::Duration};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    inert::inert_line,
    mcp::{
        self, Clearance, McpError,
        bench::{self, BenchPlan, BenchReport, Bucket},
        repro,
    },
};

use super::{CliError, GlobalArgs, call, exit, probed, source, table};

/// Without `--duration` or `--calls`, a run lasts this long.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

pub struct BenchArgs {
    pub service: String,
    pub tool: String,
    pub args_json: Option<String>,
    pub pairs: Vec<String>,
    pub concurrency: usize,
    pub duration: Option<Duration>,
    pub calls: Option<u64>,
    pub rate: Option<f64>,
    pub task: Option<String>,
    pub stateless: bool,
    pub force: bool,
    pub timeout: Option<f64>,
    pub json: bool,
}

pub async fn run(global: &GlobalArgs, args: BenchArgs) -> Result<u8, CliError> {
    let probed = probed::probed(global, &args.service, args.task.as_deref()).await?;
    let (snapshot, service) = (probed.snapshot.clone(), probed.service.clone());
    let tool = probed.tool(&args.tool)?.clone();
    if let Clearance::Refused(why) = tool.clearance(global.read_only) {
        return Err(CliError::new(exit::READ_ONLY, why));
    }
    let doing = format!("bench would call {} again and again", tool.name);
    if let Some(why) = repro::repeat_refusal_as(&tool, &doing).filter(|_| !args.force) {
        return Err(CliError::new(exit::USAGE, why));
    }
    let arguments = call::arguments(args.args_json.as_deref(), &args.pairs, Some(&tool))?;
    let first =
        bench::Targets::of(&snapshot, &service, args.task.as_deref()).map_err(
            |error| match error {
                McpError::SharedUrl { .. } => CliError::new(exit::USAGE, error.to_string()),
                other => source::mcp_error(&snapshot, other),
            },
        )?;
    let targets = first.follow(
        probed.opened.handle.snapshots.clone(),
        service.clone(),
        args.task.clone(),
    );
    let plan = BenchPlan {
        service: service.clone(),
        tool: args.tool.clone(),
        arguments,
        concurrency: args.concurrency.max(1),
        duration: args
            .duration
            .or((args.calls.is_none()).then_some(DEFAULT_DURATION)),
        calls: args.calls,
        rate: args.rate,
        timeout: args
            .timeout
            .map_or(mcp::DEFAULT_TIMEOUT, Duration::from_secs_f64),
        stateless: args.stateless,
        idempotent: tool.read_only == Some(true) || tool.idempotent == Some(true),
    };
    // The probe's connection is not the bench's: close the worker's before measuring.
    drop(probed.worker);
    let (progress, watching) = watch::channel(Arc::new(BenchReport::default()));
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
    let ran = bench::run(&plan, targets, &progress, &cancel).await;
    interrupted.abort();
    if let Some(shown) = shown {
        shown.abort();
        eprint!("\r\x1b[2K");
    }
    let report = ran.map_err(|error| {
        CliError::new(
            exit::CONNECTION,
            format!("no worker could start: {}", inert_line(&error)),
        )
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a report serialises")
        );
    } else {
        print!("{}", render(&report));
    }
    Ok(if report.failures > 0 || !report.not_started.is_empty() {
        exit::TOOL_ERROR
    } else {
        exit::OK
    })
}

/// One line on stderr, redrawn every tick: where the run is and its last tick's figures.
fn show_progress(mut watching: watch::Receiver<Arc<BenchReport>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while watching.changed().await.is_ok() {
            let report = watching.borrow_and_update().clone();
            let width = 24;
            let share = match (report.planned_s, report.planned_calls) {
                (Some(planned), _) if planned > 0.0 => report.elapsed_s / planned,
                (_, Some(calls)) if calls > 0 => report.calls as f64 / calls as f64,
                _ => 0.0,
            };
            let filled = ((share.clamp(0.0, 1.0) * width as f64) as usize).min(width);
            let (rate, p50, p99) = report
                .last()
                .map_or((0.0, 0.0, 0.0), |s| (s.calls_per_sec, s.p50_ms, s.p99_ms));
            eprint!(
                "\r\x1b[2K[{}{}] {:.1} s · {rate:.0} calls/s · p50 {p50:.2} ms · p99 {p99:.2} ms · {} failed",
                "#".repeat(filled),
                ".".repeat(width - filled),
                report.elapsed_s,
                report.failures
            );
        }
    })
}

pub fn render(report: &BenchReport) -> String {
    let mut out = format!(
        "{} {} · {} at once{} · {} ({}, {} sessions) · {:.1} s measured, {:.0} ms to open\n",
        report.service,
        report.tool,
        report.concurrency,
        report
            .rate
            .map(|rate| format!(" at {rate} calls/s"))
            .unwrap_or_default(),
        report.mode,
        report.protocol.as_deref().unwrap_or("?"),
        report.sessions,
        report.elapsed_s,
        report.setup_ms
    );
    let l = &report.latency;
    out.push_str(&format!(
        "{} calls, {} failed · {:.1} calls/s · latency p50 {} ms · p90 {} ms · p99 {} ms · max {} ms\n",
        report.calls,
        report.failures,
        report.calls_per_sec,
        bench::ms_text(l.p50_ms),
        bench::ms_text(l.p90_ms),
        bench::ms_text(l.p99_ms),
        bench::ms_text(l.max_ms)
    ));
    if report.stopped_early {
        out.push_str("stopped before its planned end\n");
    }
    let rows: Vec<Vec<String>> = report
        .replicas
        .iter()
        .map(|r| {
            vec![
                repro::replica_label(r.task_id.as_deref()),
                r.revision.map_or("-".into(), |v| v.to_string()),
                r.calls.to_string(),
                format!("{:.1}", r.calls_per_sec),
                format!("{:.2} %", r.failure_rate * 100.0),
                bench::ms_text(r.latency.p50_ms),
                bench::ms_text(r.latency.p90_ms),
                bench::ms_text(r.latency.p99_ms),
                bench::ms_text(r.latency.max_ms),
                repro::kinds_text(&r.failures_by_kind),
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&table::render(
        &[
            "TASK", "REV", "CALLS", "CALLS/S", "FAILED", "P50 MS", "P90 MS", "P99 MS", "MAX MS",
            "FAILURES",
        ],
        &rows,
    ));
    let mut all: Vec<Bucket> = Vec::new();
    for bucket in report.replicas.iter().flat_map(|r| &r.histogram) {
        match all.iter_mut().find(|b| b.le_ms == bucket.le_ms) {
            Some(found) => found.count += bucket.count,
            None => all.push(bucket.clone()),
        }
    }
    all.sort_by(|a, b| a.le_ms.total_cmp(&b.le_ms));
    if !all.is_empty() {
        out.push_str("\nlatency histogram\n");
        out.push_str(&histogram(&all));
    }
    for line in &report.not_started {
        out.push_str(&format!("not started: {}\n", inert_line(line)));
    }
    if let Some(error) = &report.last_error {
        out.push_str(&format!("last failure: {}\n", inert_line(error)));
    }
    out
}

/// `   ≤ 1.60 ms  [ 1234] ■■■■■■` lines, the longest bar 40 wide.
fn histogram(buckets: &[Bucket]) -> String {
    let most = buckets.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    let digits = most.to_string().len();
    buckets
        .iter()
        .map(|b| {
            let bar = ((b.count as f64 / most as f64) * 40.0).ceil() as usize;
            format!(
                "  ≤ {:>9} ms [{:>digits$}] {}\n",
                bench::ms_text(b.le_ms),
                b.count,
                "■".repeat(bar)
            )
        })
        .collect()
}
