//! The bench page (the real binary under tmux, over the embedded local fleet): `ctrl-o` on
//! echo's call form loads the service's three replicas, the page shows calls/s and a row per
//! replica as they come, `ctrl-x` stops the run early and the summary stays.

mod tmux;

use std::time::Duration;

use tmux::Console;

const SOON: Duration = Duration::from_secs(60);

/// The replica table's rows: a task id's first 8 hex characters, its revision, calls.
fn replica_rows(screen: &str) -> Vec<(String, u64)> {
    screen
        .lines()
        .filter_map(|line| {
            let mut cells = line.split_whitespace();
            let task = cells.next()?;
            let _revision: u32 = cells.next()?.parse().ok()?;
            let calls: u64 = cells.next()?.parse().ok()?;
            let hex = task.len() == 8 && task.chars().all(|c| c.is_ascii_hexdigit());
            hex.then(|| (task.to_string(), calls))
        })
        .collect()
}

/// The calls/s the chart's title says the newest tick had.
fn calls_per_sec_now(screen: &str) -> Option<f64> {
    let (_, after) = screen.split_once("calls/s · now ")?;
    after.split_whitespace().next()?.parse().ok()
}

#[test]
fn ctrl_o_benches_the_call_live_per_replica_and_ctrl_x_stops_it() {
    let console = Console::start("bench", 130, 40, &[]);
    console.wait_until("three replicas running", SOON, |screen| {
        screen.contains("mcpfleet-server") && screen.contains("3/3")
    });
    console.open_call_form("mcpfleet-server", "echo", SOON);
    console.send_keys(&["Enter"]);
    console.type_text("hi");
    console.send_keys(&["C-o"]);
    let screen = console.wait_until("calls/s > 0 and a row per replica", SOON, |screen| {
        screen.contains("bench(echo)")
            && screen.contains("running · ctrl-x stops")
            && calls_per_sec_now(screen).is_some_and(|rate| rate > 0.0)
            && replica_rows(screen).len() == 3
            && replica_rows(screen).iter().all(|(_, calls)| *calls > 0)
    });
    assert!(
        screen.contains(
            r#"echo {"message":"hi"} · 16 workers × 30 s · sessions · on ready replicas (3 now)"#
        ),
        "{screen}"
    );
    assert!(
        screen.contains("TASK        REV    CALLS  CALLS/S  FAILED   P50 MS   P99 MS"),
        "{screen}"
    );
    // From 120 columns the histogram sits beside the replica table.
    assert!(
        screen
            .lines()
            .any(|line| line.starts_with("TASK ") && line.contains(" calls by latency, up to ms ")),
        "{screen}"
    );
    assert!(screen.contains("failures 0 (0.00 %)"), "{screen}");

    // At the smallest comfortable size it goes below the table, which stays whole.
    console.resize(80, 24);
    console.wait_until("the page redrawn at 80x24", SOON, |screen| {
        screen
            .lines()
            .any(|line| line.starts_with(" calls by latency, up to ms "))
            && replica_rows(screen).len() == 3
            && screen.contains("calls/s · now ")
    });

    console.send_keys(&["C-x"]);
    let screen = console.wait_until("the summary of a run stopped early", SOON, |screen| {
        screen.contains("· stopped early") && screen.contains("opened in ")
    });
    let summary = screen
        .lines()
        .find(|line| line.contains(" calls · ") && line.contains(" failed · "))
        .unwrap_or_else(|| panic!("a summary line:\n{screen}"));
    let calls: u64 = summary.split_whitespace().next().unwrap().parse().unwrap();
    let per_replica: u64 = replica_rows(&screen).iter().map(|(_, calls)| calls).sum();
    assert!(calls > 0, "{screen}");
    assert_eq!(
        calls, per_replica,
        "the rows add up to the total:\n{screen}"
    );
    assert!(summary.contains(" 0 failed · "), "{screen}");

    // Leaving the page goes back to the form.
    console.back(SOON);
    console.wait_for("call(echo)", SOON);
}
