//! Rates on the local fleet are right: a known call rate (20 calls/s for 18 s, spread over
//! three replicas) read back from the services screen and from the snapshot `ls --json`
//! prints, on every snapshot once the first rate window has passed — within ±15 %, never 0.

mod aws_console;

use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use aws_console::screen;
use mcpfleet::{
    fleet::{FleetSnapshot, Source, trends::RATE_WINDOW},
    mcp::{self, CallRequest, WorkerConfig},
    sources::local::{LocalConfig, LocalSource},
    ui::{app::App, theme::Theme},
};
use serde_json::json;
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const SERVICE: &str = "mcpfleet-server";
const RATE: f64 = 20.0;
const LOAD: Duration = Duration::from_secs(18);

/// CALLS/S of the service's row on the services screen.
fn screen_rate(snapshot: &Arc<FleetSnapshot>) -> f64 {
    let mut app = App::for_snapshot(snapshot.clone(), 100, Theme::plain());
    let text = screen(&mut app, 80, 12, SystemTime::now());
    let header = text
        .lines()
        .find(|l| l.starts_with("SERVICE"))
        .expect("header");
    let column = header.find("CALLS/S").expect("CALLS/S column");
    let row = text
        .lines()
        .find(|l| l.starts_with(SERVICE))
        .expect("service row");
    let cell = row[column..].split_whitespace().next().unwrap_or("-");
    cell.parse()
        .unwrap_or_else(|_| panic!("CALLS/S reads {cell:?}:\n{text}"))
}

/// The calls per second of the service's live tasks in the snapshot's JSON (what `ls --json`
/// prints), summed.
fn json_rate(snapshot: &FleetSnapshot) -> f64 {
    let json = serde_json::to_value(snapshot).unwrap();
    let service = json["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == SERVICE)
        .unwrap();
    service["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["stopped_at"].is_null())
        .map(|t| t["metrics"]["calls_per_sec"].as_f64().unwrap_or(0.0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driven_call_rate_reads_back_within_fifteen_percent_on_every_refresh() {
    let mut handle = Box::new(LocalSource::new(LocalConfig::default_fleet(BIN)).unwrap()).start();
    handle
        .wait_for(Duration::from_secs(30), |s| {
            s.service(SERVICE)
                .is_some_and(|svc| svc.ready_tasks().count() == 3)
        })
        .await
        .expect("three ready replicas");
    let mcp = mcp::worker::spawn(handle.snapshots.clone(), WorkerConfig::one_shot());

    let started = Instant::now();
    let load = tokio::spawn(async move {
        let (updates, mut done) = mpsc::unbounded_channel();
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / RATE));
        let mut sent = 0u32;
        while started.elapsed() < LOAD {
            tick.tick().await;
            let echo = CallRequest::new(SERVICE, "echo", json!({"message": "rate"}));
            mcp.invoke(echo, updates.clone());
            sent += 1;
            while done.try_recv().is_ok() {}
        }
        sent
    });

    // From one scrape interval past the first full window on, every snapshot is checked.
    let checked_from = RATE_WINDOW + Duration::from_secs(3);
    let mut readings: Vec<(f64, f64, f64)> = Vec::new();
    while started.elapsed() < LOAD {
        let Ok(Ok(())) =
            tokio::time::timeout(Duration::from_secs(5), handle.snapshots.changed()).await
        else {
            panic!("no snapshot for 5 s under load");
        };
        let snapshot = handle.snapshots.borrow_and_update().clone();
        if started.elapsed() < checked_from {
            continue;
        }
        let at = started.elapsed().as_secs_f64();
        readings.push((at, screen_rate(&snapshot), json_rate(&snapshot)));
    }
    let sent = load.await.unwrap();
    println!(
        "sent {sent} calls in {:?}; (s, screen, json): {readings:?}",
        LOAD
    );
    assert!(
        readings.len() >= 3,
        "too few snapshots after the first window: {readings:?}"
    );
    for (at, on_screen, in_json) in &readings {
        for (what, rate) in [("screen", on_screen), ("json", in_json)] {
            assert!(
                (rate - RATE).abs() <= RATE * 0.15,
                "{what} at {at:.1} s reads {rate:.2} calls/s, driven {RATE}: {readings:?}"
            );
        }
    }
}
