//! The MCP worker without a terminal, against real replicas on loopback: calls and their
//! events, cancellation (on both protocol eras), fan-out, probes of new tasks, and the history
//! it publishes — the same path the console and the one-shot commands take.

mod mcp_support;

use std::{sync::Arc, time::Duration};

use mcp_support::*;
use mcpfleet::{
    fleet::FleetSnapshot,
    mcp::{
        self, CallEvent, CallRequest, CallUpdate, Era, McpClient, OutcomeKind, PoolConfig,
        WorkerConfig,
    },
};
use mcpfleet_server::Mode;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

const SOON: Duration = Duration::from_secs(10);

fn worker(
    fleet: FleetSnapshot,
    config: WorkerConfig,
) -> (McpClient, watch::Sender<Arc<FleetSnapshot>>) {
    let (snapshots, receiver) = watch::channel(Arc::new(fleet));
    (mcp::worker::spawn(receiver, config), snapshots)
}

fn one_shot(era: Era) -> WorkerConfig {
    WorkerConfig {
        pool: PoolConfig {
            era,
            ..PoolConfig::default()
        },
        ..WorkerConfig::one_shot()
    }
}

#[tokio::test]
async fn a_call_reports_its_events_then_its_outcome_and_lands_in_the_history() {
    let server = start(Mode::Session, "p", |_| {}).await;
    let (mcp, _source) = worker(fleet(&[&server]), one_shot(Era::Auto));
    let (updates, mut received) = mpsc::unbounded_channel();
    let request = CallRequest::new(
        SERVICE,
        "sleep",
        json!({"duration_ms": 600, "progress_interval_ms": 100}),
    );
    let id = mcp.invoke(request, updates);
    let mut progress = Vec::new();
    let mut sent = None;
    let outcome = loop {
        let (for_id, update) = tokio::time::timeout(SOON, received.recv())
            .await
            .expect("an update in time")
            .expect("the worker runs");
        assert_eq!(for_id, id, "updates carry the call's id");
        match update {
            CallUpdate::Event(CallEvent::Sent { task }) => sent = Some(task.task_id),
            CallUpdate::Event(CallEvent::Progress {
                task_id,
                progress: done,
                total,
                message,
            }) => {
                assert_eq!(task_id, "p");
                assert_eq!(total, Some(600.0));
                assert!(message.unwrap().starts_with("slept "));
                progress.push(done);
            }
            CallUpdate::Event(other) => panic!("unexpected event {other:?}"),
            CallUpdate::Done(outcome) => break *outcome,
            other => panic!("not a call's update: {other:?}"),
        }
    };
    assert_eq!(outcome.kind(), OutcomeKind::Ok, "{:?}", outcome.result);
    assert_eq!(
        sent.flatten().as_deref(),
        Some("p"),
        "Sent comes before the outcome"
    );
    assert!(progress.len() >= 3, "progress: {progress:?}");
    assert!(
        progress.windows(2).all(|w| w[0] < w[1]),
        "progress grows: {progress:?}"
    );
    let notified = outcome.exchange.messages();
    let notified = notified
        .iter()
        .filter(|m| m["method"] == "notifications/progress");
    assert_eq!(notified.count(), progress.len());

    let history = mcp.history.borrow().clone();
    let entry = history
        .entries()
        .next()
        .expect("the call is in the history");
    assert_eq!(
        (entry.tool.as_str(), entry.kind),
        ("sleep", OutcomeKind::Ok)
    );
    assert_eq!(
        entry.served_by.as_ref().unwrap().task_id.as_deref(),
        Some("p")
    );
}

#[tokio::test]
async fn cancel_through_the_worker_stops_a_long_sleep_on_both_eras() {
    for (mode, era) in [
        (Mode::Session, Era::Initialize),
        (Mode::Session, Era::Auto),
        (Mode::Stateless, Era::Auto),
    ] {
        let server = start(mode, "s", |_| {}).await;
        let (mcp, _source) = worker(fleet(&[&server]), one_shot(era));
        let (updates, mut received) = mpsc::unbounded_channel();
        let request = CallRequest::new(
            SERVICE,
            "sleep",
            json!({"duration_ms": 30_000, "progress_interval_ms": 100}),
        );
        let id = mcp.invoke(request, updates);
        // Cancel once the call is on the server, as a person pressing ctrl-x would.
        let outcome = loop {
            match tokio::time::timeout(SOON, received.recv())
                .await
                .unwrap()
                .unwrap()
            {
                (_, CallUpdate::Event(CallEvent::Progress { .. })) => mcp.cancel(id),
                (_, CallUpdate::Done(outcome)) => break *outcome,
                _ => {}
            }
        };
        assert_eq!(outcome.kind(), OutcomeKind::Cancelled, "{mode:?} {era:?}");
        assert!(
            outcome.duration < Duration::from_secs(5),
            "{:?}",
            outcome.duration
        );
        assert_eq!(outcome.served_by.unwrap().task_id.as_deref(), Some("s"));
        assert_eq!(
            wait_for_cancelled(&server, "sleep").await,
            1,
            "{mode:?} {era:?}: the server did not see the cancel"
        );
        let history = mcp.history.borrow().clone();
        assert_eq!(
            history.entries().next().unwrap().kind,
            OutcomeKind::Cancelled
        );
    }
}

#[tokio::test]
async fn fan_out_and_one_shot_probes_go_through_the_worker() {
    let a = start(Mode::Session, "a", |_| {}).await;
    let b = start(Mode::Stateless, "b", |_| {}).await;
    let (mcp, _source) = worker(fleet(&[&a, &b]), WorkerConfig::one_shot());
    let outcomes = mcp
        .fan_out_all(CallRequest::new(SERVICE, "whoami", Value::Null))
        .await
        .unwrap();
    let served: Vec<&str> = outcomes.iter().map(|o| o.task_id.as_str()).collect();
    assert_eq!(served, ["a", "b"]);
    assert_eq!(
        mcp.history.borrow().len(),
        2,
        "each task's call is in the history"
    );

    let probe = mcp.probe(SERVICE, Some("b")).await.unwrap();
    assert!(probe.tools.iter().any(|t| t.name == "echo"));
    let unknown = mcp.probe("nope", None).await.unwrap_err();
    assert_eq!(unknown.to_string(), "no service named nope");
}

#[tokio::test]
async fn the_console_worker_probes_a_task_as_soon_as_it_is_ready() {
    let a = start(Mode::Session, "a", |_| {}).await;
    let b = start(Mode::Session, "b", |_| {}).await;
    let (mcp, source) = worker(fleet(&[&a]), WorkerConfig::console());
    let mut probes = mcp.probes.clone();
    tokio::time::timeout(SOON, probes.wait_for(|p| p.by_task.contains_key("a")))
        .await
        .expect("the first ready task is probed")
        .unwrap();
    source.send_replace(Arc::new(fleet(&[&a, &b])));
    let seen = tokio::time::timeout(SOON, probes.wait_for(|p| p.by_task.contains_key("b")))
        .await
        .expect("a task that joins is probed without waiting for the round")
        .unwrap()
        .clone();
    assert_eq!(
        seen.by_task["b"].surface.fingerprint,
        seen.by_task["a"].surface.fingerprint
    );
    source.send_replace(Arc::new(fleet(&[&b])));
    tokio::time::timeout(SOON, probes.wait_for(|p| !p.by_task.contains_key("a")))
        .await
        .expect("a task that left the fleet leaves the probes")
        .unwrap();
}

#[tokio::test]
async fn a_worker_with_a_history_file_keeps_calls_for_the_next_one() {
    let server = start(Mode::Session, "h", |_| {}).await;
    let dir = std::env::temp_dir().join(format!("mcpfleet-worker-history-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let with_file = || WorkerConfig {
        history_file: Some(dir.join("history.jsonl")),
        ..WorkerConfig::one_shot()
    };
    let echo = |message: &str| CallRequest::new(SERVICE, "echo", json!({"message": message}));

    let (first, _source) = worker(fleet(&[&server]), with_file());
    let outcome = first.call(echo("before")).await;
    assert_eq!(outcome.kind(), OutcomeKind::Ok, "{:?}", outcome.result);
    // The outcome arrives once the call is on disk.
    let file = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert_eq!(file.lines().count(), 1, "{file}");
    let before = first.history.borrow().entries().next().unwrap().id;
    drop(first);

    // A new worker (a restarted console, or `:ctx`) starts with it and goes on after it.
    let (second, _source) = worker(fleet(&[&server]), with_file());
    let mut history = second.history.clone();
    let loaded = history
        .wait_for(|h| !h.is_empty())
        .await
        .unwrap()
        .entries()
        .next()
        .unwrap()
        .clone();
    assert_eq!(loaded.id, before);
    assert_eq!(loaded.arguments, json!({"message": "before"}));
    assert_eq!(loaded.served_by.unwrap().task_id.as_deref(), Some("h"));
    assert!(
        !loaded.exchange.messages().is_empty(),
        "with its wire record"
    );

    second.call(echo("after")).await;
    let kept: Vec<(u64, Value)> = second
        .history
        .borrow()
        .entries()
        .map(|e| (e.id, e.arguments["message"].clone()))
        .collect();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0].1, "after");
    assert!(kept[0].0 > before, "ids go on after the loaded ones");
    let file = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert_eq!(file.lines().count(), 2, "{file}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_worker_counts_its_own_calls_per_task_and_marks_the_failing_one() {
    let a = start(Mode::Stateless, "a", |config| {
        config.faults = "echo:error=0.3".parse().unwrap();
    })
    .await;
    let b = start(Mode::Stateless, "b", |_| {}).await;
    let c = start(Mode::Stateless, "c", |_| {}).await;
    // A static fleet: its tasks carry no metrics, so figures come from the calls alone.
    let (mut mcp, _source) = worker(fleet(&[&a, &b, &c]), WorkerConfig::one_shot());
    let mut errors = 0;
    for _ in 0..60 {
        let outcomes = mcp
            .fan_out_all(CallRequest::new(SERVICE, "echo", json!({"message": "x"})))
            .await
            .unwrap();
        let failed = |o: &&mcp::TaskOutcome| o.outcome.kind() != OutcomeKind::Ok;
        errors += outcomes
            .iter()
            .filter(failed)
            .filter(|o| o.task_id == "a")
            .count() as u64;
        assert!(outcomes.iter().filter(failed).all(|o| o.task_id == "a"));
    }
    let figures = tokio::time::timeout(SOON, async {
        loop {
            let calls = mcp.probes.borrow_and_update().calls.clone();
            if calls.by_task.len() == 3 {
                return calls;
            }
            mcp.probes.changed().await.unwrap();
        }
    })
    .await
    .expect("the figures of the calls are published");
    let failing = &figures.by_task["a"];
    assert_eq!((failing.calls, failing.errors), (60, errors));
    assert_eq!(failing.from, mcpfleet::fleet::FigureSource::Console);
    assert!(failing.p99_ms.is_some());
    assert_eq!(figures.by_task["b"].errors, 0);
    assert_eq!(
        figures.outliers,
        std::collections::HashMap::from([("a".to_string(), mcpfleet::fleet::Outlier::Errors)]),
        "{errors} errors in 60 calls"
    );
}
