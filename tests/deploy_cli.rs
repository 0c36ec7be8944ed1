//! `mcpfleet deploy` and `rollback` from another terminal act on a running console's local
//! fleet: `--wait` exits 0 once a good revision is deployed and 13, with the circuit breaker's
//! reason and the revision rolled back to, when the new tasks cannot start; an image, or a
//! static server, is refused (exit 15); a rollback says what it started. Afterwards the
//! console's deploy dialog names the revision the fleet will really make, and a deploy on a
//! terminal, one live line, makes that one. A read-only console refuses the commands (exit 8),
//! as does `--read-only` itself, and with no console running nothing is started.

mod tmux;

use std::{path::Path, process::Output, time::Duration};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

fn config(dir: &Path) -> String {
    let path = dir.join("orders.toml");
    std::fs::write(
        &path,
        "[local]\nbuiltin_replicas = 0\n\n[[local.services]]\nname = \"orders\"\nreplicas = 2\n",
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

/// `mcpfleet ARGS` as another terminal would run it beside the console.
fn mcpfleet(runtime: &Path, config: &str, dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(BIN)
        .args(args)
        .env("MCPFLEET_CONFIG", config)
        .env("XDG_RUNTIME_DIR", runtime)
        .env("XDG_STATE_HOME", dir.join("cli"))
        .output()
        .expect("mcpfleet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The words inside the Confirm dialog's box in one line, so a sentence wrapped inside it
/// reads whole; empty while no dialog is drawn.
fn dialog_words(screen: &str) -> String {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let Some((top, left)) = lines.iter().enumerate().find_map(|(i, line)| {
        let title = line.iter().collect::<String>().find(" Confirm ")?;
        let column = line.iter().collect::<String>()[..title].chars().count();
        let left = line[..column].iter().rposition(|&c| c == '┌')?;
        Some((i, left))
    }) else {
        return String::new();
    };
    let Some(right) = lines[top][left..].iter().position(|&c| c == '┐') else {
        return String::new();
    };
    let inside = lines[top + 1..]
        .iter()
        .take_while(|line| line.get(left) == Some(&'│'))
        .map(|line| {
            line[left + 1..(left + right).min(line.len())]
                .iter()
                .collect::<String>()
        });
    let text: Vec<String> = inside.collect();
    text.join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn deploy_and_rollback_from_another_terminal_act_on_the_consoles_fleet() {
    let dir = std::env::temp_dir().join(format!("mcpfleet-deploy-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = config(&dir);
    let console = tmux::Console::start("deploy-cli", 160, 45, &[("MCPFLEET_CONFIG", &config)]);
    console.wait_for("2/2 ready", Duration::from_secs(60));
    let run = |args: &[&str]| mcpfleet(&console.runtime_dir(), &config, &dir, args);

    let good = run(&["deploy", "orders", "--force", "--wait", "--timeout", "60s"]);
    let said = text(&good.stdout);
    assert_eq!(good.status.code(), Some(0), "{said}{}", text(&good.stderr));
    assert!(said.contains("started for revision 2"), "{said}");
    assert!(
        said.contains("PRIMARY rev 2 IN_PROGRESS"),
        "a line per change: {said}"
    );
    assert!(
        said.contains("orders: revision 2 is deployed, 2/2 running"),
        "{said}"
    );

    let bad = run(&[
        "deploy",
        "orders",
        "--env",
        "MCPFLEET_FAULTS=bogus-rule",
        "--wait",
        "--timeout",
        "60s",
        "--json",
    ]);
    let lines = text(&bad.stderr);
    assert_eq!(bad.status.code(), Some(13), "{lines}");
    let report: Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(report["outcome"], "failed", "{report:#}");
    assert_eq!(report["action"], "deploy");
    assert_eq!(
        (report["revision"].as_u64(), report["back_to"].as_u64()),
        (Some(3), Some(2))
    );
    let reason = report["reason"].as_str().unwrap();
    assert!(reason.contains("tasks failed to start"), "{reason}");
    assert!(
        !text(&bad.stdout).contains("bogus-rule") && !lines.contains("bogus-rule"),
        "a variable's value is not repeated"
    );

    let image = run(&["deploy", "orders", "--image", "registry.example/orders:2"]);
    assert_eq!(image.status.code(), Some(15), "{}", text(&image.stderr));
    assert!(text(&image.stderr).contains("runs processes, not images"));

    // A static server, here one of the console's replicas by its URL, is not ours to deploy.
    let fleet: Value = serde_json::from_slice(&run(&["ls", "--json"]).stdout).unwrap();
    let url = fleet["services"][0]["tasks"][0]["endpoint"]["url"]
        .as_str()
        .unwrap();
    let fixed = dir.join("static.toml");
    let servers = format!(
        "source = \"static\"\n[static]\nservers = [{{ name = \"fixed\", url = \"{url}\" }}]\n"
    );
    std::fs::write(&fixed, servers).unwrap();
    let fixed = fixed.to_string_lossy().into_owned();
    let refused = mcpfleet(
        &console.runtime_dir(),
        &fixed,
        &dir,
        &["deploy", "fixed", "--force"],
    );
    let why = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(15), "{why}");
    assert!(
        why.contains("static servers cannot be scaled, deployed or stopped"),
        "{why}"
    );

    // Once revision 2 is back, roll back to revision 1 without waiting.
    console.command("rollout orders");
    console.wait_until(
        "revision 2 deployed again",
        Duration::from_secs(60),
        |screen| screen.contains("revision 2 is deployed"),
    );
    let rollback = run(&["rollback", "orders"]);
    let said = text(&rollback.stdout);
    assert_eq!(
        rollback.status.code(),
        Some(0),
        "{}",
        text(&rollback.stderr)
    );
    assert!(said.contains("rolls back to revision 1"), "{said}");
    assert!(
        said.contains(", revision 1)"),
        "the deployment it started: {said}"
    );

    // Revisions 1 to 3 exist; the console's dialog promises the one the fleet will make.
    console.wait_until("revision 1 deployed", Duration::from_secs(60), |screen| {
        screen.contains("revision 1 is deployed")
    });
    console.send_keys(&["d"]);
    let dialog = console.wait_until("the deploy dialog", Duration::from_secs(10), |screen| {
        let words = dialog_words(screen);
        words.starts_with("Force a new deployment of orders:") && words.contains("esc/n cancel")
    });
    assert!(
        dialog_words(&dialog)
            .starts_with("Force a new deployment of orders: revision 4 replaces revision 1 "),
        "{dialog}"
    );
    console.send_keys(&["n"]);
    console.wait_for("cancelled", Duration::from_secs(10));

    // On a terminal the rollout is one live line; the deployment is the revision promised.
    let runtime = console.runtime_dir().to_string_lossy().into_owned();
    let terminal = tmux::Console::start_with_args(
        "deploy-cli-live",
        160,
        20,
        &[("MCPFLEET_CONFIG", &config), ("XDG_RUNTIME_DIR", &runtime)],
        &["deploy", "orders", "--force", "--wait", "--timeout", "60s"],
    );
    assert_eq!(terminal.wait_exit(Duration::from_secs(60)).status, 0);
    let screen = terminal.capture();
    assert!(screen.contains("started for revision 4"), "{screen}");
    assert!(
        screen.contains("orders: revision 4 is deployed"),
        "{screen}"
    );
    let progress: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("PRIMARY rev"))
        .collect();
    assert_eq!(progress.len(), 1, "one line, redrawn: {screen}");
    assert!(
        progress[0].contains("PRIMARY rev 4 COMPLETED 2/2 running"),
        "{screen}"
    );
    console.send_keys(&["q"]);
    assert_eq!(console.wait_exit(Duration::from_secs(10)).status, 0);

    let read_only = tmux::Console::start_with_args(
        "deploy-cli-ro",
        160,
        45,
        &[("MCPFLEET_CONFIG", &config)],
        &["--read-only"],
    );
    read_only.wait_for("2/2 ready", Duration::from_secs(60));
    let refused = mcpfleet(
        &read_only.runtime_dir(),
        &config,
        &dir,
        &["deploy", "orders", "--force"],
    );
    let why = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(8), "{why}");
    assert!(why.contains("is read-only (--read-only)"), "{why}");
    let own = mcpfleet(
        &read_only.runtime_dir(),
        &config,
        &dir,
        &["--read-only", "rollback", "orders"],
    );
    assert_eq!(own.status.code(), Some(8), "{}", text(&own.stderr));
    assert!(text(&own.stderr).contains("rollback changes the fleet; refused under --read-only"));
    read_only.send_keys(&["q"]);
    assert_eq!(read_only.wait_exit(Duration::from_secs(10)).status, 0);

    let alone = mcpfleet(
        &dir.join("nobody"),
        &config,
        &dir,
        &["deploy", "orders", "--force"],
    );
    let why = text(&alone.stderr);
    assert_eq!(alone.status.code(), Some(3), "{why}");
    assert!(why.contains("no console is running"), "{why}");
    assert!(why.contains("start the console"), "{why}");
    let _ = std::fs::remove_dir_all(&dir);
}
