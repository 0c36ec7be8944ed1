//! The console's `e` and `f` on the tasks screen of the AWS source, the real binary under
//! tmux with a stand-in `aws` CLI and session-manager-plugin (`reach_support`): `e` hands the
//! terminal to an ECS Exec shell and, once it exits, the console is back as it was — same
//! screen, same selection, every cell redrawn; `f` opens a forward the header shows, which
//! reaches the task's replica, carries the console's own calls to the task, and ends with the
//! console. Under `--read-only` `e` is refused, and without the CLI on PATH the message line
//! names it.

mod aws_support;
mod reach_support;
mod tmux;

use std::time::{Duration, Instant};

use aws_support::Emulator;
use reach_support::{StandIn, option};
use serde_json::{Value, json};
use tmux::Console;

const SOON: Duration = Duration::from_secs(20);
const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

fn env<'a>(config: &'a str, path: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("MCPFLEET_CONFIG", config),
        ("PATH", path),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_CONFIG_FILE", "/nonexistent/mcpfleet-test/config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/mcpfleet-test/credentials",
        ),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
}

/// The tasks of echo-mcp as `ls --json` shows them.
fn tasks(emulator: &Emulator, config: &std::path::Path) -> Vec<Value> {
    let mut command = std::process::Command::new(BIN);
    for name in aws_support::CLEARED_AWS_ENV {
        command.env_remove(name);
    }
    let output = command
        .envs(emulator.aws_env(&emulator.proxy_url))
        .env("MCPFLEET_CONFIG", config)
        .args(["ls", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let fleet: Value = serde_json::from_slice(&output.stdout).unwrap();
    fleet["services"][0]["tasks"].as_array().unwrap().clone()
}

/// The full id of the task the tasks screen's detail line names.
fn selected(screen: &str) -> Option<String> {
    let line = screen
        .lines()
        .find(|l| l.starts_with("task ") && l.contains(" · "))?;
    Some(line["task ".len()..].split(' ').next()?.to_string())
}

/// The 30-line screen but the header's first line (its refresh age moves) and the footer's
/// two (hints, and the message line), each line's first four words: a row's task, revision,
/// zone and address, not its uptime or probe latency, which move on their own. The capture
/// leaves out blank lines at the bottom.
fn body(screen: &str) -> Vec<String> {
    let mut lines: Vec<String> = screen
        .lines()
        .map(|line| {
            line.split_whitespace()
                .take(4)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    lines.resize(30, String::new());
    lines[1..28].to_vec()
}

fn alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().next());
    state.is_some_and(|state| state != "Z" && state != "X")
}

/// The local port of the forward to `short` the header shows.
fn forward_port(screen: &str, short: &str) -> Option<u16> {
    let header = screen.lines().next()?;
    let mark = format!("⇄ {short} → 127.0.0.1:");
    let at = header.find(&mark)? + mark.len();
    header[at..].split_whitespace().next()?.parse().ok()
}

/// The message line, when there is one: the screen's last line unless that is the hints.
fn message(screen: &str) -> Option<&str> {
    let last = screen.lines().last()?;
    (!last.starts_with("enter ") && !last.is_empty()).then_some(last)
}

/// The pid of session `n`'s forwarder, once it listens.
fn wait_pid(standin: &StandIn, n: u32) -> i32 {
    let deadline = Instant::now() + SOON;
    loop {
        if let Some(pid) = standin.session_pid(n) {
            return pid;
        }
        assert!(Instant::now() < deadline, "session {n} never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for `pid` to end; fails with `what` after 5 s.
fn gone(pid: i32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn a_shell_in_the_task_hands_the_terminal_back_as_it_was_and_a_forward_reaches_it() {
    let emulator = Emulator::start().await;
    emulator
        .fleet(&json!({"cluster": "mcp", "services": [
            {"name": "echo-mcp", "replicas": 2, "execute_command": true},
        ]}))
        .await;
    let config = emulator.config_file("reach-tui");
    let standin = StandIn::new("tui", &["aws", "plugin"]);
    let mut targets = json!({});
    for task in tasks(&emulator, &config) {
        let target = format!(
            "ecs:mcp_{}_{}",
            task["id"].as_str().unwrap(),
            task["containers"][0]["runtime_id"].as_str().unwrap()
        );
        let address = task["endpoint"]["address"].as_str().unwrap();
        targets[target] = json!(address.rsplit(':').next().unwrap().parse::<u16>().unwrap());
    }
    standin.set_targets(&targets);
    let path = standin.path();
    let console = Console::start("reach", 160, 30, &env(config.to_str().unwrap(), &path));
    console.wait_for("2/2 ready", Duration::from_secs(60));
    console.command("tasks echo-mcp");
    let first =
        selected(&console.wait_until("a task selected", SOON, |s| selected(s).is_some())).unwrap();
    console.send_keys(&["j"]);
    let before = console.wait_until("the second task selected", SOON, |s| {
        selected(s).is_some_and(|id| id != first)
    });
    let task = selected(&before).unwrap();
    assert!(
        before.contains("e shell in the task"),
        "footer hint:\n{before}"
    );

    console.send_keys(&["e"]);
    let shell = console.wait_until("the shell on the plain screen", SOON, |s| {
        s.contains("stand-in shell in mcp: type a line") && !console.alternate_screen()
    });
    assert!(shell.contains("ECS Exec into task"), "{shell}");
    console.type_text("hello");
    console.send_keys(&["Enter"]);
    let after = console.wait_until("the console back", SOON, |s| {
        console.alternate_screen() && s.contains("the shell in task") && s.contains("ended")
    });
    assert_eq!(selected(&after).as_deref(), Some(task.as_str()), "{after}");
    assert_eq!(body(&after), body(&before), "the screen as it was");
    assert!(
        !after.contains("stand-in shell"),
        "every cell redrawn:\n{after}"
    );
    let calls = standin.aws_calls(&["ecs", "execute-command"]);
    let [argv] = calls.as_slice() else {
        panic!("one execute-command expected: {calls:?}")
    };
    assert!(
        option(argv, "--task")
            .unwrap()
            .ends_with(&format!("/mcp/{task}")),
        "{argv:?}"
    );
    assert!(option(argv, "--cluster").unwrap().ends_with(":cluster/mcp"));
    assert_eq!(option(argv, "--container"), Some("mcp"));
    assert_eq!(option(argv, "--command"), Some("/bin/sh"));
    assert!(argv.contains(&"--interactive".to_string()));
    assert_eq!(
        option(argv, "--endpoint-url"),
        Some(emulator.proxy_url.as_str())
    );

    // The keys still reach the console: a forward of the selected task.
    console.send_keys(&["f"]);
    let short = &task[..8];
    // The message line goes after a few seconds: whatever `f` answered is caught first.
    let answer = console.wait_until("an answer to f", SOON, |s| {
        forward_port(s, short).is_some()
            || message(s).is_some_and(|m| !m.starts_with("the shell in task"))
    });
    let port = forward_port(&answer, short)
        .unwrap_or_else(|| panic!("f did not open a forward:\n{answer}"));
    let url = format!("http://127.0.0.1:{port}/mcp");
    wait_pid(&standin, 1);
    let called = std::process::Command::new(BIN)
        .env("MCPFLEET_CONFIG", "/dev/null")
        .args(["--url", &url, "call", "echo", "message=from-the-console"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&called.stdout).contains("from-the-console"),
        "{called:?}"
    );
    let sessions = standin.aws_calls(&["ssm", "start-session"]);
    assert_eq!(sessions.len(), 1);
    assert!(option(&sessions[0], "--target").unwrap().contains(&task));

    // The console's own calls to the task now go through the forward.
    let through_before = standin.connections(1);
    console.send_keys(&["o"]);
    console.wait_until("the task's tools", SOON, |s| {
        s.lines().any(|l| l.starts_with("echo "))
    });
    console.send_keys(&["/"]);
    console.type_text("echo");
    console.send_keys(&["Enter", "Enter"]);
    console.wait_for("call(echo)", SOON);
    console.type_text("via-forward");
    console.send_keys(&["C-s"]);
    let screen = console.wait_for(&format!("served by task {short}"), SOON);
    assert!(screen.contains("via-forward"), "{screen}");
    assert!(
        standin.connections(1) > through_before,
        "the call did not go through the forward"
    );
    console.go_home(SOON);

    // Several at once; `:ctx` ends them all with the source they came from.
    console.command("tasks echo-mcp");
    let screen = console.wait_until("a task selected", SOON, |s| selected(s).is_some());
    if selected(&screen).as_deref() == Some(task.as_str()) {
        console.send_keys(&["j"]);
    }
    console.wait_until("the other task selected", SOON, |s| {
        selected(s).is_some_and(|id| id != task)
    });
    console.send_keys(&["f"]);
    console.wait_until("two forwards in the header", SOON, |s| {
        s.lines().next().is_some_and(|l| l.contains("⇄ 2 forwards"))
    });
    let forwarders = [wait_pid(&standin, 1), wait_pid(&standin, 2)];
    console.command("ctx aws");
    console.wait_until("no forward in the header", SOON, |s| {
        s.lines().next().is_some_and(|l| !l.contains('⇄'))
    });
    for pid in forwarders {
        gone(pid, "the forward outlived :ctx");
    }

    // And the console's end ends the forwards it has.
    console.wait_for("2/2 ready", SOON);
    console.command("tasks echo-mcp");
    console.wait_until("a task selected", SOON, |s| selected(s).is_some());
    console.send_keys(&["f"]);
    let forwarder = wait_pid(&standin, 3);
    console.send_keys(&["q"]);
    assert_eq!(console.wait_exit(SOON).status, 0);
    gone(forwarder, "the forward outlived the console");

    // Read-only refuses the shell; without the CLI the message line names it.
    let bare = StandIn::new("tui-bare", &[]);
    let bare_path = bare.path();
    let console = Console::start_with_args(
        "reach-ro",
        160,
        30,
        &env(config.to_str().unwrap(), &bare_path),
        &["--read-only"],
    );
    console.wait_for("2/2 ready", Duration::from_secs(60));
    console.command("tasks echo-mcp");
    console.wait_until("a task selected", SOON, |s| selected(s).is_some());
    console.send_keys(&["e"]);
    console.wait_for("--read-only: no shell in a task", SOON);
    console.send_keys(&["f"]);
    console.wait_for("the aws CLI is not on PATH: install AWS CLI v2", SOON);
    assert!(bare.calls().is_empty());
    console.send_keys(&["q"]);
    assert_eq!(console.wait_exit(SOON).status, 0);
    let _ = std::fs::remove_file(&config);
    emulator.shutdown().await;
}
