//! The load generator through three rolling deploys of the local fleet: its workers follow the
//! fleet as tasks are replaced, no idempotent call fails, the rate holds above 200 calls/s,
//! and the report gives every revision's figures; in the console, the rollout screen shows
//! each revision's calls/s, error rate and p99 under that load.

mod tmux;

use std::{process::Command as Process, sync::Arc, time::Duration};

use mcpfleet::{
    fleet::{Command, FleetSnapshot, RevisionChange, RolloutState, Source, TaskStatus},
    mcp::bench::{self, BenchPlan, BenchReport, Targets},
    sources::local::{LocalConfig, LocalSource},
};
use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const SERVICE: &str = "mcpfleet-server";

fn rolled_out(fleet: &FleetSnapshot, revision: u32) -> bool {
    let service = fleet.service(SERVICE).unwrap();
    service
        .primary()
        .is_some_and(|d| d.revision == revision && d.rollout_state == RolloutState::Completed)
        && service
            .tasks
            .iter()
            .filter(|t| t.last_status != TaskStatus::Stopped)
            .all(|t| t.revision == revision)
        && service.ready_tasks().count() == 3
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bench_through_three_rolling_deploys_loses_no_call() {
    let mut handle = Box::new(LocalSource::new(LocalConfig::default_fleet(BIN)).unwrap()).start();
    handle
        .wait_for(Duration::from_secs(20), |s| {
            s.service(SERVICE)
                .is_some_and(|s| s.ready_tasks().count() == 3)
        })
        .await
        .expect("three ready replicas");

    let plan = BenchPlan {
        service: SERVICE.into(),
        tool: "echo".into(),
        arguments: json!({"message": "through the rollout"}),
        concurrency: 12,
        duration: None,
        calls: None,
        rate: Some(250.0),
        timeout: Duration::from_secs(10),
        stateless: false,
        idempotent: true,
    };
    let first = Targets::of(&handle.snapshots.borrow(), SERVICE, None).expect("ready replicas");
    let targets = first.follow(handle.snapshots.clone(), SERVICE.into(), None);
    let cancel = CancellationToken::new();
    let (progress, mut watching) = watch::channel(Arc::new(BenchReport::default()));
    let running = {
        let cancel = cancel.clone();
        tokio::spawn(async move { bench::run(&plan, targets, &progress, &cancel).await })
    };
    // Loaded before the first deploy.
    watching
        .wait_for(|report| report.calls > 200)
        .await
        .expect("the run reports");

    for revision in 2..=4 {
        handle
            .execute(Command::Deploy {
                service: SERVICE.into(),
                change: RevisionChange::default(),
            })
            .await
            .expect("deploy accepted");
        handle
            .wait_for(Duration::from_secs(60), |s| rolled_out(s, revision))
            .await
            .unwrap_or_else(|| panic!("revision {revision} rolled out"));
    }
    // Some load on the last revision alone.
    tokio::time::sleep(Duration::from_secs(1)).await;
    cancel.cancel();
    let report = running.await.unwrap().expect("the run started");

    eprintln!(
        "{} calls in {:.1} s ({:.0}/s), {} moves, {} retries, {} failures",
        report.calls,
        report.elapsed_s,
        report.calls_per_sec,
        report.moves,
        report.retries,
        report.failures
    );
    assert_eq!(
        report.failures, 0,
        "failed idempotent calls: {:?}, last: {:?}",
        report.failures_by_kind, report.last_error
    );
    assert!(
        report.calls_per_sec >= 200.0,
        "{:.0} calls/s",
        report.calls_per_sec
    );
    assert!(
        report.moves >= 12,
        "workers followed the fleet: {}",
        report.moves
    );
    let mut revisions: Vec<u32> = report.replicas.iter().filter_map(|r| r.revision).collect();
    revisions.sort_unstable();
    revisions.dedup();
    assert_eq!(revisions, vec![1, 2, 3, 4], "every revision served calls");
    assert!(
        report
            .replicas
            .iter()
            .all(|r| r.task_id.is_some() && r.calls > 0),
        "{:#?}",
        report.replicas
    );
}

/// The PRIMARY row's revision and its CALLS/S cell, on a 160-column rollout screen.
fn primary_figures(screen: &str) -> Option<(String, String)> {
    let row = screen.lines().find(|line| line.starts_with("PRIMARY"))?;
    let cells: Vec<&str> = row.split_whitespace().collect();
    Some((cells.get(1)?.to_string(), cells.get(7)?.to_string()))
}

#[test]
fn the_rollout_screen_shows_each_revision_under_load() {
    let console = tmux::Console::start("bench-rollout", 160, 45, &[]);
    console.wait_for("3/3 ready", Duration::from_secs(60));
    let state = console.state_dir().join("bench");
    let mut bench = Process::new(BIN)
        .args([
            "bench",
            SERVICE,
            "echo",
            "message=under load",
            "--rate",
            "150",
        ])
        .args(["-c", "6", "-d", "60s", "--json"])
        .env("MCPFLEET_CONFIG", "/dev/null")
        .env("XDG_RUNTIME_DIR", console.runtime_dir())
        .env("XDG_STATE_HOME", &state)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mcpfleet bench starts");

    console.command("rollout mcpfleet-server");
    let loaded = |revision: &'static str| {
        move |screen: &str| {
            primary_figures(screen).is_some_and(|(rev, rate)| {
                rev == revision && rate.parse::<f64>().is_ok_and(|r| r > 50.0)
            })
        }
    };
    console.wait_until(
        "revision 1 under load",
        Duration::from_secs(45),
        loaded("1"),
    );
    console.send_keys(&["d"]);
    console.wait_for("revision 2 replaces", Duration::from_secs(10));
    console.send_keys(&["y"]);
    let screen = console.wait_until(
        "revision 2 under load",
        Duration::from_secs(60),
        loaded("2"),
    );
    let _ = bench.kill();
    let _ = bench.wait();
    eprintln!("{screen}");
    let row = screen.lines().find(|l| l.starts_with("PRIMARY")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[8], "0.0", "no call of the new revision failed: {row}");
    assert!(cells[9].parse::<f64>().is_ok(), "its p99: {row}");
    console.send_keys(&["q"]);
    assert_eq!(console.wait_exit(Duration::from_secs(10)).status, 0);
}
