//! A bad revision under load: every call to its tasks fails while their health checks pass,
//! so only the deployment alarm can stop it. The rollout screen shows the revision failing
//! before the alarm fails the deployment, then the rollback; `rollout wait` follows a good
//! deploy to its end (exit 0) and the bad one to its failure (exit 13), with the figures.

mod tmux;

use std::{process::Command as Process, time::Duration};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("alarmed.toml");
    std::fs::write(
        &path,
        "[local]\nbuiltin_replicas = 0\n\n\
         [[local.services]]\nname = \"orders\"\nreplicas = 3\n\n\
         [local.services.alarm]\nthreshold = 50\nperiod = 2\nevaluation_periods = 3\n",
    )
    .unwrap();
    path
}

/// The cells of the rollout table's row that starts with `status`.
fn row(screen: &str, status: &str) -> Option<Vec<String>> {
    let row = screen.lines().find(|line| line.starts_with(status))?;
    Some(row.split_whitespace().map(str::to_string).collect())
}

fn number(cells: &[String], index: usize) -> f64 {
    cells
        .get(index)
        .and_then(|c| c.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Waits until the rollout screen's PRIMARY row is `revision`: the deploy was taken.
fn primary_is(console: &tmux::Console, revision: &str) {
    console.wait_until(
        &format!("revision {revision} is the primary deployment"),
        Duration::from_secs(10),
        |screen| row(screen, "PRIMARY").is_some_and(|cells| cells[1] == revision),
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `mcpfleet rollout wait orders --json` on the console's fleet, to its end.
fn wait_rollout(
    console: &tmux::Console,
    config: &str,
    dir: &std::path::Path,
) -> std::process::Output {
    wait_rollout_in(&console.runtime_dir(), config, dir)
}

fn wait_rollout_in(
    runtime: &std::path::Path,
    config: &str,
    dir: &std::path::Path,
) -> std::process::Output {
    Process::new(BIN)
        .args(["rollout", "wait", "orders", "--timeout", "90s", "--json"])
        .env("MCPFLEET_CONFIG", config)
        .env("XDG_RUNTIME_DIR", runtime)
        .env("XDG_STATE_HOME", dir.join("wait"))
        .output()
        .expect("mcpfleet rollout wait runs")
}

#[test]
fn a_revision_whose_calls_all_fail_shows_on_the_rollout_screen_before_its_alarm_rolls_it_back() {
    let dir = std::env::temp_dir().join(format!("mcpfleet-bad-revision-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = config(&dir);
    let config = config.to_string_lossy().into_owned();
    let console = tmux::Console::start("bad-revision", 160, 45, &[("MCPFLEET_CONFIG", &config)]);
    console.wait_for("3/3 ready", Duration::from_secs(60));
    let mut bench = Process::new(BIN)
        .args([
            "bench",
            "orders",
            "echo",
            "message=checkout",
            "--rate",
            "200",
        ])
        .args(["-c", "8", "-d", "150s", "--json"])
        .env("MCPFLEET_CONFIG", &config)
        .env("XDG_RUNTIME_DIR", console.runtime_dir())
        .env("XDG_STATE_HOME", dir.join("bench"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mcpfleet bench starts");

    console.command("rollout orders");
    console.wait_until(
        "revision 1 deployed, under load, its alarm OK",
        Duration::from_secs(60),
        |screen| {
            screen.contains("revision 1 is deployed")
                && screen.contains("alarm orders-tool-errors OK")
                && row(screen, "PRIMARY").is_some_and(|cells| number(&cells, 7) > 50.0)
        },
    );
    // A good deploy, waited on as a pipeline would.
    console.send_keys(&["d"]);
    console.wait_for("Force a new deployment of orders", Duration::from_secs(10));
    console.send_keys(&["y"]);
    primary_is(&console, "2");
    let good = wait_rollout(&console, &config, &dir);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
    let report: serde_json::Value = serde_json::from_slice(&good.stdout).unwrap();
    assert_eq!(
        (report["outcome"].as_str(), report["revision"].as_u64()),
        (Some("deployed"), Some(2))
    );
    let lines = text(&good.stderr);
    assert!(lines.contains("PRIMARY rev 2 IN_PROGRESS"), "{lines}");
    assert!(
        lines.contains("rev 2: ") && lines.contains("calls/s, 0.0 % errors"),
        "{lines}"
    );

    console.command("deploy orders MCPFLEET_FAULTS=echo:error=1.0");
    console.wait_for("Deploy a new revision of orders", Duration::from_secs(10));
    console.send_keys(&["y"]);
    primary_is(&console, "3");
    let waiting = std::thread::spawn({
        let (console_runtime, config, dir) = (console.runtime_dir(), config.clone(), dir.clone());
        move || wait_rollout_in(&console_runtime, &config, &dir)
    });

    let failing = console.wait_until(
        "revision 3 failing its calls, still in progress",
        Duration::from_secs(60),
        |screen| {
            row(screen, "PRIMARY").is_some_and(|cells| {
                cells[1] == "3" && cells[6] == "IN_PROGRESS" && number(&cells, 8) >= 99.0
            })
        },
    );
    println!("before the alarm decides:\n{failing}");
    let rolled_back = console.wait_until(
        "the alarm failed revision 3 and rolls back to revision 2",
        Duration::from_secs(60),
        |screen| {
            screen.contains("alarm orders-tool-errors ALARM")
                && screen.contains("went into ALARM")
                && screen.contains("rolling back to revision 2")
                && row(screen, "PRIMARY").is_some_and(|cells| cells[1] == "2")
                && screen
                    .lines()
                    .any(|l| l.starts_with("ACTIVE") && l.contains(" FAILED "))
        },
    );
    println!("after:\n{rolled_back}");
    let bad = waiting.join().unwrap();
    let lines = text(&bad.stderr);
    assert_eq!(bad.status.code(), Some(13), "{lines}");
    let report: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(report["outcome"], "failed", "{report}");
    assert_eq!(
        (report["revision"].as_u64(), report["back_to"].as_u64()),
        (Some(3), Some(2))
    );
    let reason = report["reason"].as_str().unwrap();
    assert_eq!(
        reason,
        "ECS deployment alarms: alarm orders-tool-errors went into ALARM."
    );
    assert!(
        lines.contains("rev 3: ") && lines.contains("100.0 % errors"),
        "{lines}"
    );
    assert!(
        lines.contains(
            "orders: revision 3 failed: ECS deployment alarms: alarm orders-tool-errors \
             went into ALARM; rolling back to revision 2"
        ),
        "{lines}"
    );
    println!("rollout wait:\n{lines}");
    let recovered = console.wait_until(
        "revision 2 deployed again, the alarm OK",
        Duration::from_secs(90),
        |screen| {
            screen.contains("revision 2 is deployed")
                && screen.contains("alarm orders-tool-errors OK")
        },
    );
    println!("recovered:\n{recovered}");
    let _ = bench.kill();
    let _ = bench.wait();
    console.send_keys(&["q"]);
    assert_eq!(console.wait_exit(Duration::from_secs(10)).status, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
