//! Rates on the local fleet are right, read where an operator reads them: a console runs under
//! tmux, 20 calls/s go to its fleet for 20 s (from this test, attached to the console's fleet
//! like any one-shot command), and once the first rate window has passed, every read of the
//! services screen (each second) and of `mcpfleet ls --json` (run beside the console) shows
//! 20 calls/s within ±15 % — never 0 in between.

mod tmux;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use mcpfleet::{
    fleet::trends::RATE_WINDOW,
    mcp::{self, CallRequest, WorkerConfig},
    sources::local::share,
};
use serde_json::{Value, json};
use tmux::Console;
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const SERVICE: &str = "mcpfleet-server";
const RATE: f64 = 20.0;
const LOAD: Duration = Duration::from_secs(20);

/// CALLS/S of the service's row on the console's screen (columns counted in characters: the
/// sparkline's are several bytes each).
fn screen_rate(screen: &str) -> Option<f64> {
    let header = screen.lines().find(|l| l.starts_with("SERVICE"))?;
    let column = header[..header.find("CALLS/S")?].chars().count();
    let row = screen.lines().find(|l| l.starts_with(SERVICE))?;
    let cell: String = row.chars().skip(column).take_while(|c| *c != ' ').collect();
    cell.parse().ok()
}

/// The calls per second of the service's live tasks in `ls --json`, summed.
fn ls_rate(console: &Console) -> f64 {
    let output = Command::new(BIN)
        .args(["ls", "--json"])
        .env("XDG_RUNTIME_DIR", console.runtime_dir())
        .env("MCPFLEET_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let fleet: Value = serde_json::from_slice(&output.stdout).unwrap();
    fleet["services"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["stopped_at"].is_null())
        .map(|t| t["metrics"]["calls_per_sec"].as_f64().unwrap_or(0.0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driven_call_rate_reads_back_within_fifteen_percent_on_every_refresh() {
    let console = Console::start("rates", 120, 20, &[]);
    let console = tokio::task::spawn_blocking(move || {
        console.wait_for("3/3 ready", Duration::from_secs(30));
        console
    })
    .await
    .unwrap();
    let socket = console.runtime_dir().join("mcpfleet").join("local.sock");
    let (fleet, _) = share::attach(&socket)
        .await
        .expect("the console shares its fleet");
    let mcp = mcp::worker::spawn(fleet.snapshots.clone(), WorkerConfig::one_shot());

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

    // From one scrape interval past the first full window on.
    let checked_from = RATE_WINDOW + Duration::from_secs(3);
    let readings = tokio::task::spawn_blocking(move || {
        let mut readings: Vec<(f64, &str, f64)> = Vec::new();
        while started.elapsed() < LOAD - Duration::from_secs(1) {
            std::thread::sleep(Duration::from_secs(1));
            if started.elapsed() < checked_from {
                continue;
            }
            let at = started.elapsed().as_secs_f64();
            let screen = console.capture();
            let on_screen = screen_rate(&screen)
                .unwrap_or_else(|| panic!("no CALLS/S figure at {at:.1} s:\n{screen}"));
            readings.push((at, "screen", on_screen));
            if readings.len() % 2 == 1 {
                readings.push((
                    started.elapsed().as_secs_f64(),
                    "ls --json",
                    ls_rate(&console),
                ));
            }
        }
        readings
    })
    .await
    .unwrap();
    let sent = load.await.unwrap();
    println!("sent {sent} calls in {LOAD:?}; readings (s, where, calls/s): {readings:?}");
    assert!(readings.len() >= 8, "too few readings: {readings:?}");
    for (at, what, rate) in &readings {
        assert!(
            (rate - RATE).abs() <= RATE * 0.15,
            "{what} at {at:.1} s reads {rate:.2} calls/s, driven {RATE}: {readings:?}"
        );
    }
}
