//! A running console's local fleet from another shell: `mcpfleet ls` and
//! `mcpfleet call … --task T` attach to the console's fleet (the same task ids), and the
//! console's "copy as `mcpfleet call`" runs as copied.

mod tmux;

use std::{
    process::{Command, Output},
    time::Duration,
};

use serde_json::Value;
use tmux::Console;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const READY: Duration = Duration::from_secs(30);
const SOON: Duration = Duration::from_secs(10);

/// A one-shot command in the console's environment (its runtime directory and empty config).
fn beside(console: &Console, command: &mut Command) -> Output {
    command
        .env("XDG_RUNTIME_DIR", console.runtime_dir())
        .env("XDG_STATE_HOME", console.state_dir())
        .env("MCPFLEET_CONFIG", "/dev/null")
        .output()
        .expect("the command runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn one_shot_commands_use_the_fleet_of_the_running_console() {
    let console = Console::start("attach", 160, 45, &[]);
    console.wait_for("3/3 ready", READY);

    let ls = beside(&console, Command::new(BIN).args(["ls", "--json"]));
    assert!(ls.status.success(), "{}", text(&ls.stderr));
    assert!(
        text(&ls.stderr).contains("on the local fleet of the console running as pid"),
        "it says which fleet: {}",
        text(&ls.stderr)
    );
    let fleet: Value = serde_json::from_slice(&ls.stdout).unwrap();
    let ids: Vec<String> = fleet["services"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["health"] == "HEALTHY")
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3, "{fleet}");

    // The console shows the same tasks.
    console.command("tasks mcpfleet-server");
    let screen = console.wait_for("tasks(mcpfleet-server)", SOON);
    for id in &ids {
        assert!(
            screen.contains(&id[..8]),
            "task {id} is the console's: {screen}"
        );
    }

    // A call to one of them by its short id.
    let call = beside(
        &console,
        Command::new(BIN).args(["call", "mcpfleet-server", "whoami", "--task", &ids[1][..8]]),
    );
    assert!(call.status.success(), "{}", text(&call.stderr));
    assert!(
        text(&call.stdout).contains(&format!("task {}", &ids[1][..8])),
        "served by the chosen task: {}",
        text(&call.stdout)
    );

    // Copy as `mcpfleet call` from the call form, aimed at one task, and run the copy.
    console.open_call_form("mcpfleet-server", "echo", SOON);
    let message = format!("copied-{}", std::process::id());
    console.type_text(&message);
    console.send_keys(&["C-t", "C-k"]);
    let copied = console.clipboard(SOON);
    assert!(
        copied.starts_with("mcpfleet call mcpfleet-server echo"),
        "{copied}"
    );
    assert!(copied.contains("--task"), "aimed at a task: {copied}");
    let run = beside(
        &console,
        Command::new("sh")
            .args(["-c", &copied])
            .env("PATH", path_with_bin()),
    );
    assert!(run.status.success(), "{copied}: {}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains(&message),
        "{}",
        text(&run.stdout)
    );

    console.go_home(SOON);
    console.send_keys(&["q"]);
    assert_eq!(console.wait_exit(SOON).status, 0);
    // With the console gone, a command starts its own fleet again and says so.
    let alone = beside(&console, Command::new(BIN).args(["ls"]));
    assert!(alone.status.success(), "{}", text(&alone.stderr));
    assert!(
        text(&alone.stderr).contains("starting a local fleet"),
        "{}",
        text(&alone.stderr)
    );
}

/// PATH with the test build's `mcpfleet` first, as `mcpfleet` on a person's PATH.
fn path_with_bin() -> String {
    let dir = std::path::Path::new(BIN)
        .parent()
        .unwrap()
        .display()
        .to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}
