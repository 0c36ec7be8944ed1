//! The real console binary under tmux on the AWS source (moto through the fault proxy): it
//! shows the fleet, its API counters per operation, quits with the terminal restored — and at
//! the most verbose log level, its log file holds no credential; a call's `ctrl-g` lands on the
//! serving replica's line of its trace, shipped through CloudWatch Logs.

mod aws_support;
mod tmux;

use std::time::Duration;

use aws_support::Emulator;
use serde_json::json;
use tmux::Console;

const SECRET_KEY: &str = "secret-probe-7f3a9c";
const SESSION_TOKEN: &str = "session-probe-41d2e8";

#[tokio::test]
async fn the_console_on_aws_shows_the_fleet_and_logs_no_secret() {
    let emulator = Emulator::start().await;
    emulator
        .fleet(&json!({"cluster": "mcp", "services": [
            {"name": "echo-mcp", "replicas": 2, "real": true, "mcp": "tag"},
        ]}))
        .await;
    let config = emulator.config_file("aws-tui");
    let config_path = config.to_str().unwrap();
    let console = Console::start(
        "aws",
        120,
        30,
        &[
            ("MCPFLEET_CONFIG", config_path),
            ("MCPFLEET_LOG", "trace"),
            ("AWS_ACCESS_KEY_ID", "AKIAPROBE"),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_SESSION_TOKEN", SESSION_TOKEN),
            ("AWS_CONFIG_FILE", "/nonexistent/mcpfleet-test/config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/mcpfleet-test/credentials",
            ),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    let screen = console.wait_for("2/2 ready", Duration::from_secs(60));
    assert!(screen.contains("aws mcp @ us-east-1"), "{screen}");
    assert!(screen.contains("echo-mcp"), "{screen}");
    console.send_keys(&[":"]);
    console.type_text("stats");
    console.send_keys(&["Enter"]);
    let screen = console.wait_for("ecs:DescribeServices", Duration::from_secs(10));
    assert!(screen.contains("OPERATION"), "{screen}");
    console.send_keys(&["q"]);
    let exit = console.wait_exit(Duration::from_secs(10));
    assert_eq!(exit.status, 0);
    assert_eq!(
        exit.stty_before, exit.stty_after,
        "terminal settings restored"
    );

    let log = std::fs::read_to_string(console.log_path()).expect("the console wrote its log");
    let _ = std::fs::remove_file(&config);
    // Trace level reached the console's own code, so the file is not empty by luck.
    assert!(
        log.contains("aws refresh"),
        "no trace lines from the AWS source:\n{log}"
    );
    for secret in [SECRET_KEY, SESSION_TOKEN] {
        assert!(
            !log.contains(secret),
            "the log holds a credential ({secret})"
        );
    }
}

#[tokio::test]
async fn ctrl_g_lands_on_the_calls_line_in_cloudwatch_logs() {
    let emulator = Emulator::start().await;
    emulator
        .fleet(&json!({"cluster": "mcp", "services": [
            {"name": "echo-mcp", "replicas": 2, "real": true, "mcp": "tag"},
        ]}))
        .await;
    let config = emulator.config_file("aws-trace");
    let console = Console::start(
        "aws-trace",
        200,
        50,
        &[
            ("MCPFLEET_CONFIG", config.to_str().unwrap()),
            ("AWS_ACCESS_KEY_ID", "AKIAPROBE"),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_CONFIG_FILE", "/nonexistent/mcpfleet-test/config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/mcpfleet-test/credentials",
            ),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    const SOON: Duration = Duration::from_secs(20);
    console.wait_for("2/2 ready", Duration::from_secs(60));
    console.open_call_form("echo-mcp", "echo", SOON);
    console.type_text("hi");
    console.send_keys(&["C-s"]);
    let trace_of = |screen: &str| {
        let line = screen.lines().find(|l| l.contains("served by task "))?;
        let at = line.find(" · trace ")? + " · trace ".len();
        let id = line.get(at..at + 32)?;
        id.bytes()
            .all(|b| b.is_ascii_hexdigit())
            .then(|| id.to_string())
    };
    let screen = console.wait_until("the call's trace", SOON, |s| trace_of(s).is_some());
    let trace = trace_of(&screen).unwrap();
    console.send_keys(&["Escape"]);
    console.wait_until("field editing stopped", SOON, |s| {
        !s.contains("editing (esc stops)")
    });
    console.send_keys(&["C-g"]);
    // The line comes through the log shipper and CloudWatch Logs, a few seconds after the call.
    let screen = console.wait_until(
        "the call's line in the task's logs",
        Duration::from_secs(40),
        |s| {
            s.contains(&format!("trace {}…", &trace[..8]))
                && s.lines()
                    .any(|l| l.contains("tool call") && l.contains(&trace))
        },
    );
    assert!(
        screen.contains("logs(echo-mcp/"),
        "the serving task's logs: {screen}"
    );
    console.send_keys(&["q"]);
    assert_eq!(console.wait_exit(SOON).status, 0);
    let _ = std::fs::remove_file(&config);
}
