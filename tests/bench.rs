//! The load generator against real replicas on loopback: every call counted once and on the
//! replica that served it (the replicas' own /metrics agree), unique request ids, sessions
//! opened before the window (or none in a stateless run), failures by kind, a dead replica
//! named without stopping the run, the CLI's report, and the console's run reporting on its
//! sink.

mod mcp_support;

use std::{collections::HashMap, process::Command, sync::Arc, time::Duration};

use mcp_support::{SERVICE, fleet, start, task, tool_calls};
use mcpfleet::mcp::bench::{self, BenchPlan, BenchReport};
use mcpfleet_server::Mode;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

fn plan(calls: u64, concurrency: usize, stateless: bool) -> BenchPlan {
    BenchPlan {
        service: SERVICE.into(),
        tool: "echo".into(),
        arguments: json!({"message": "load"}),
        concurrency,
        duration: None,
        calls: Some(calls),
        rate: None,
        timeout: Duration::from_secs(10),
        stateless,
        idempotent: true,
    }
}

async fn run(plan: &BenchPlan, fleet: &mcpfleet::fleet::FleetSnapshot) -> BenchReport {
    let now = bench::Targets::of(fleet, SERVICE, None).unwrap();
    let (_publish, targets) = watch::channel(Arc::new(now));
    let (progress, _) = watch::channel(Arc::new(BenchReport::default()));
    bench::run(plan, targets, &progress, &CancellationToken::new())
        .await
        .expect("the run starts")
}

fn by_task(report: &BenchReport) -> HashMap<String, u64> {
    report
        .replicas
        .iter()
        .map(|r| (r.task_id.clone().unwrap(), r.calls))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_is_counted_once_on_the_replica_that_served_it() {
    for (mode, stateless) in [(Mode::Session, false), (Mode::Stateless, true)] {
        let a = start(mode, "bench-a", |_| {}).await;
        let b = start(mode, "bench-b", |_| {}).await;
        let c = start(mode, "bench-c", |_| {}).await;
        let report = run(&plan(600, 6, stateless), &fleet(&[&a, &b, &c])).await;

        assert_eq!((report.calls, report.failures), (600, 0), "{report:#?}");
        assert!(report.done && !report.stopped_early);
        assert_eq!(report.mode, if stateless { "stateless" } else { "session" });
        // Sessions are opened before the window, one per worker, or none at all.
        assert_eq!(report.sessions, if stateless { 0 } else { 6 });
        let counted = by_task(&report);
        for server in [&a, &b, &c] {
            let served = tool_calls(server, "echo").await;
            let replica = &server.replica.identity.replica;
            assert_eq!(
                served.get("ok").copied(),
                Some(counted[replica]),
                "{replica}: the replica's own count and the bench's agree"
            );
            // Workers are dealt to replicas in turn and share one budget of calls.
            assert!(counted[replica] >= 100, "{replica}: {}", counted[replica]);
        }
        let revision = report
            .replicas
            .iter()
            .map(|r| r.revision)
            .collect::<Vec<_>>();
        assert!(revision.iter().all(|r| *r == Some(7)), "{revision:?}");
        let histogram: u64 = report
            .replicas
            .iter()
            .flat_map(|r| &r.histogram)
            .map(|b| b.count)
            .sum();
        assert_eq!(histogram, 600, "every call is in a histogram bucket");
        assert!(report.latency.p50_ms > 0.0 && report.latency.p99_ms >= report.latency.p50_ms);
        assert!(!report.timeline.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_counted_by_kind_and_a_dead_replica_is_named() {
    let healthy = start(Mode::Session, "bench-ok", |_| {}).await;
    let failing = start(Mode::Session, "bench-bad", |config| {
        config.faults = "echo:error=1.0".parse().unwrap();
    })
    .await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = closed.local_addr().unwrap();
    drop(closed);
    let mut fleet = fleet(&[&healthy, &failing]);
    fleet.services[0].tasks.push(task("bench-dead", dead));

    let report = run(&plan(200, 3, false), &fleet).await;

    assert_eq!(report.not_started.len(), 1, "{:?}", report.not_started);
    assert!(
        report.not_started[0].starts_with("task bench-de"),
        "{:?}",
        report.not_started
    );
    assert_eq!(report.calls, 200);
    let bad = report
        .replicas
        .iter()
        .find(|r| r.task_id.as_deref() == Some("bench-bad"))
        .unwrap();
    let good = report
        .replicas
        .iter()
        .find(|r| r.task_id.as_deref() == Some("bench-ok"))
        .unwrap();
    assert_eq!(bad.failures, bad.calls, "{bad:?}");
    assert_eq!(good.failures, 0, "{good:?}");
    let kinds: Vec<&String> = bad.failures_by_kind.keys().collect();
    assert_eq!(kinds.len(), 1, "one kind of failure: {kinds:?}");
    assert!(
        ["tool_error", "protocol_error"].contains(&kinds[0].as_str()),
        "{kinds:?}"
    );
    assert_eq!(report.failures, bad.calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_paces_the_run_and_a_duration_ends_it() {
    let server = start(Mode::Stateless, "bench-paced", |_| {}).await;
    let mut paced = plan(0, 4, true);
    paced.calls = None;
    paced.duration = Some(Duration::from_secs(2));
    paced.rate = Some(100.0);
    let report = run(&paced, &fleet(&[&server])).await;
    // 100 calls/s for 2 s, give or take a tick at each end.
    assert!((170..=210).contains(&report.calls), "{}", report.calls);
    assert!(
        (1.9..2.6).contains(&report.elapsed_s),
        "{}",
        report.elapsed_s
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reports_per_replica() {
    let server = start(Mode::Stateless, "bench-cli", |_| {}).await;
    let url = format!("http://{}/mcp", server.local_addr);
    let out = Command::new(BIN)
        .args(["--url", &url, "bench", "echo", "message=hi", "-n", "150"])
        .args(["-c", "3", "--stateless", "--json"])
        .env("MCPFLEET_CONFIG", "/dev/null")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["calls"], 150);
    assert_eq!(report["failures"], 0);
    assert_eq!(report["mode"], "stateless");
    assert_eq!(report["replicas"].as_array().unwrap().len(), 1);
    assert!(report["replicas"][0]["histogram"][0]["le_ms"].is_number());
    assert!(report["latency"]["p99_ms"].is_number());

    let text = Command::new(BIN)
        .args(["--url", &url, "bench", "echo", "message=hi", "-n", "30"])
        .env("MCPFLEET_CONFIG", "/dev/null")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("30 calls, 0 failed"), "{stdout}");
    assert!(stdout.contains("latency histogram"), "{stdout}");
}

/// The console's way in: the run spawned through `McpClient::bench`, its reports and its end
/// on the caller's sink under one id, the end last, a cancel ending it early with what it
/// measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_started_for_the_console_reports_on_its_sink_until_stopped() {
    let a = start(Mode::Session, "bench-console-a", |_| {}).await;
    let b = start(Mode::Session, "bench-console-b", |_| {}).await;
    let fleet = fleet(&[&a, &b]);
    let mut plan = plan(0, 4, false);
    (plan.calls, plan.duration) = (None, Some(Duration::from_secs(60)));
    let (_publish, targets) =
        watch::channel(Arc::new(bench::Targets::of(&fleet, SERVICE, None).unwrap()));
    let (sink, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let (id, cancel) = mcpfleet::mcp::McpClient::detached().bench(plan, targets, sink);
    let mut seen = 0;
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some((from, update)) = updates.recv().await {
            assert_eq!(from, id);
            match update {
                mcpfleet::mcp::CallUpdate::Bench(report) => {
                    assert!(report.calls >= seen, "the figures only grow");
                    seen = report.calls;
                    if report.replicas.len() == 2 && report.replicas.iter().all(|r| r.calls > 0) {
                        cancel.cancel();
                    }
                }
                mcpfleet::mcp::CallUpdate::BenchDone(end) => return end,
                other => panic!("not a bench update: {other:?}"),
            }
        }
        panic!("the sink closed without an end");
    })
    .await
    .expect("the run stops within the timeout");
    let report = ended.expect("the run started");
    assert!(report.done && report.stopped_early, "{report:#?}");
    assert!(report.calls >= seen && seen > 0, "{report:#?}");
    assert!(report.elapsed_s < 30.0, "{report:#?}");
    assert!(
        updates.recv().await.is_none(),
        "nothing comes after the end"
    );
}
