//! A bad revision under load: every call to its tasks fails while their health checks pass,
//! so only the deployment alarm can stop it. The rollout screen shows the revision failing
//! before the alarm fails the deployment, then the rollback.

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
    console.command("deploy orders MCPFLEET_FAULTS=echo:error=1.0");
    console.wait_for("Deploy a new revision of orders", Duration::from_secs(10));
    console.send_keys(&["y"]);

    let failing = console.wait_until(
        "revision 2 failing its calls, still in progress",
        Duration::from_secs(60),
        |screen| {
            row(screen, "PRIMARY").is_some_and(|cells| {
                cells[1] == "2" && cells[6] == "IN_PROGRESS" && number(&cells, 8) >= 99.0
            })
        },
    );
    println!("before the alarm decides:\n{failing}");
    let rolled_back = console.wait_until(
        "the alarm failed revision 2 and rolls back to revision 1",
        Duration::from_secs(60),
        |screen| {
            screen.contains("alarm orders-tool-errors ALARM")
                && screen.contains("went into ALARM")
                && screen.contains("rolling back to revision 1")
                && row(screen, "PRIMARY").is_some_and(|cells| cells[1] == "1")
                && screen
                    .lines()
                    .any(|l| l.starts_with("ACTIVE") && l.contains(" FAILED "))
        },
    );
    println!("after:\n{rolled_back}");
    let recovered = console.wait_until(
        "revision 1 deployed again, the alarm OK",
        Duration::from_secs(90),
        |screen| {
            screen.contains("revision 1 is deployed")
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
