use std::{collections::BTreeMap, time::Duration};

use serde_json::json;

use super::*;
use crate::{
    assert_view_snapshots,
    mcp::bench::{Bucket, Latency, ReplicaReport, Sample},
    ui::views::{fixtures::Fixture, snapshot_support::render},
};

const TASKS: [&str; 3] = ["0f2a9c31d4e5", "5b7e21c0aa10", "c3d4e5f60718"];

fn plan() -> BenchPlan {
    BenchPlan {
        service: "mcpfleet-server".into(),
        tool: "echo".into(),
        arguments: json!({"message": "hi"}),
        concurrency: 16,
        duration: Some(Duration::from_secs(30)),
        calls: None,
        rate: None,
        timeout: Duration::from_secs(30),
        stateless: false,
        idempotent: true,
    }
}

fn latency(p50_ms: f64, p99_ms: f64) -> Latency {
    Latency {
        p50_ms,
        p90_ms: (p50_ms + p99_ms) / 2.0,
        p99_ms,
        max_ms: p99_ms * 2.0,
        mean_ms: p50_ms * 1.1,
    }
}

fn replica(n: usize, calls: u64, failures: u64, p99_ms: f64) -> ReplicaReport {
    let bounds = [0.4, 0.8, 1.6, 3.2, 6.4, 12.8];
    let shares = [1, 20, 50, 20, 8, 1];
    ReplicaReport {
        task_id: Some(TASKS[n].into()),
        revision: Some(3),
        calls,
        failures,
        failures_by_kind: if failures > 0 {
            BTreeMap::from([("http_503".to_string(), failures)])
        } else {
            BTreeMap::new()
        },
        failure_rate: failures as f64 / calls as f64,
        calls_per_sec: calls as f64 / 12.0,
        latency: latency(1.2, p99_ms),
        histogram: bounds
            .iter()
            .zip(shares)
            .map(|(&le_ms, share)| Bucket {
                le_ms,
                count: calls * share / 100,
            })
            .collect(),
    }
}

/// Twelve seconds into a thirty-second run over three replicas, the third failing a little
/// and slower.
fn report(done: bool) -> BenchReport {
    let timeline = (1..=24)
        .map(|tick| {
            let t_s = f64::from(tick) / 2.0;
            let wave = f64::from(tick % 6) * 40.0;
            let by_replica = TASKS
                .iter()
                .enumerate()
                .map(|(n, task)| (task[..8].to_string(), 600.0 + wave - 100.0 * n as f64))
                .collect();
            Sample {
                t_s,
                calls_per_sec: 1500.0 + 3.0 * wave,
                failures_per_sec: if tick % 5 == 0 { 4.0 } else { 0.0 },
                p50_ms: 1.2 + f64::from(tick % 3) * 0.1,
                p99_ms: 4.0 + f64::from(tick % 4),
                by_replica,
            }
        })
        .collect();
    let replicas = vec![
        replica(0, 7200, 0, 4.1),
        replica(1, 6000, 0, 4.4),
        replica(2, 4800, 10, 9.8),
    ];
    BenchReport {
        service: "mcpfleet-server".into(),
        tool: "echo".into(),
        mode: "session",
        protocol: Some("2025-11-25".into()),
        concurrency: 16,
        sessions: 16,
        setup_ms: 41.0,
        elapsed_s: 12.0,
        planned_s: Some(30.0),
        calls: 18000,
        failures: 10,
        calls_per_sec: 1500.0,
        failures_by_kind: BTreeMap::from([("http_503".to_string(), 10)]),
        latency: latency(1.2, 6.3),
        replicas,
        timeline,
        done,
        stopped_early: done,
        ..BenchReport::default()
    }
}

fn opened() -> BenchView {
    let mut view = BenchView::new(Scope::service("mcpfleet-server"), &plan(), 3);
    view.running(CancellationToken::new());
    view.on_call_started(7, SystemTime::now());
    view
}

#[test]
fn the_page_draws_the_run_live() {
    let mut view = opened();
    let fixture = Fixture::new();
    let ctx = fixture.context();
    let opening = render(&mut view, &ctx, 80, 24);
    assert!(opening.contains("opening 16 conversations…"), "{opening}");
    assert!(opening.contains("no calls yet"), "{opening}");
    view.on_call_update(7, &CallUpdate::Bench(Arc::new(report(false))));
    assert_view_snapshots!("bench_running", &mut view, &ctx);
    // Another run's news is not this page's.
    view.on_call_update(8, &CallUpdate::BenchDone(Err("stray".into())));
    let screen = render(&mut view, &ctx, 80, 24);
    assert!(screen.contains("running · ctrl-x stops"), "{screen}");
}

#[test]
fn ctrl_x_stops_the_run_and_the_summary_stays() {
    let mut view = opened();
    let cancel = view.cancel.clone().unwrap();
    let fixture = Fixture::new();
    let ctx = fixture.context();
    view.on_call_update(7, &CallUpdate::Bench(Arc::new(report(false))));
    assert!(matches!(
        view.on_key(KeyId::CancelCall, &ctx),
        Some(Action::Message(_))
    ));
    assert!(cancel.is_cancelled());
    view.on_call_update(7, &CallUpdate::BenchDone(Ok(Arc::new(report(true)))));
    assert_view_snapshots!("bench_stopped", &mut view, &ctx);
    assert_eq!(
        view.on_key(KeyId::CancelCall, &ctx),
        Some(Action::Message("the run has ended".into()))
    );
}

#[test]
fn leaving_the_page_stops_the_run() {
    let view = opened();
    let cancel = view.cancel.clone().unwrap();
    drop(view);
    assert!(cancel.is_cancelled());
}

#[test]
fn a_run_that_could_not_start_says_why_inertly() {
    let mut view = opened();
    let why = "task 0f2a9c31: connection refused\u{1b}[2J";
    view.on_call_update(7, &CallUpdate::BenchDone(Err(why.into())));
    let fixture = Fixture::new();
    let screen = render(&mut view, &fixture.context(), 80, 24);
    assert!(screen.contains("not started"), "{screen}");
    assert!(
        screen.contains("no worker could start: task 0f2a9c31: connection refused\\u{1b}[2J"),
        "{screen}"
    );
}
