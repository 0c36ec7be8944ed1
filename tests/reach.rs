//! `mcpfleet exec` and `mcpfleet forward` against the AWS emulator, through a stand-in `aws`
//! CLI and session-manager-plugin (`reach_support`) that record their arguments: the command
//! ECS Exec is given, the Session Manager target and document, the exit code passed through,
//! each missing prerequisite named in one line (exit 16), a forward that reaches the replica,
//! is started again when its session ends, and leaves no process behind.

mod aws_support;
mod reach_support;

use std::{
    process::{Output, Stdio},
    time::{Duration, Instant},
};

use aws_support::{CLEARED_AWS_ENV, Emulator};
use reach_support::{StandIn, option};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const PREREQUISITE: i32 = 16;

fn command(emulator: &Emulator, config: &std::path::Path, path: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(BIN);
    for name in CLEARED_AWS_ENV {
        command.env_remove(name);
    }
    command
        .envs(emulator.aws_env(&emulator.proxy_url))
        .env("MCPFLEET_CONFIG", config)
        .env("PATH", path)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

async fn run(
    emulator: &Emulator,
    config: &std::path::Path,
    path: &str,
    env: &[(&str, &str)],
    args: &[&str],
) -> Output {
    let mut command = command(emulator, config, path);
    command.envs(env.iter().copied()).args(args);
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .unwrap_or_else(|_| panic!("mcpfleet {args:?} did not end within 60 s"))
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one task of `service` as `ls --json` shows it.
async fn task_of(emulator: &Emulator, config: &std::path::Path, service: &str) -> Value {
    let output = run(emulator, config, "/usr/bin:/bin", &[], &["ls", "--json"]).await;
    assert!(output.status.success(), "ls: {}", stderr(&output));
    let fleet: Value = serde_json::from_slice(&output.stdout).unwrap();
    let services = fleet["services"].as_array().unwrap();
    let found = services.iter().find(|s| s["name"] == service).unwrap();
    found["tasks"][0].clone()
}

#[tokio::test]
async fn exec_runs_the_command_through_ecs_exec_and_names_what_is_missing() {
    let emulator = Emulator::start().await;
    emulator
        .fleet(&json!({"cluster": "mcp", "services": [
            {"name": "echo-mcp", "replicas": 1, "execute_command": true},
            {"name": "plain-mcp", "replicas": 1},
        ]}))
        .await;
    let config = emulator.config_file("reach-exec");
    let standin = StandIn::new("exec", &["aws", "plugin"]);
    let task = task_of(&emulator, &config, "echo-mcp").await;
    assert_eq!(task["ecs"]["exec_enabled"], true, "{task}");
    assert_eq!(task["containers"][0]["exec_agent"], "RUNNING", "{task}");

    let output = run(
        &emulator,
        &config,
        &standin.path(),
        &[],
        &["exec", "echo-mcp", "--", "exit", "3"],
    )
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let calls = standin.aws_calls(&["ecs", "execute-command"]);
    let [argv] = calls.as_slice() else {
        panic!("one execute-command expected: {calls:?}")
    };
    assert_eq!(
        option(argv, "--cluster"),
        task["ecs"]["cluster_arn"].as_str()
    );
    assert!(option(argv, "--cluster").unwrap().ends_with(":cluster/mcp"));
    assert_eq!(option(argv, "--task"), task["ecs"]["task_arn"].as_str());
    assert_eq!(option(argv, "--container"), Some("mcp"));
    assert!(argv.contains(&"--interactive".to_string()), "{argv:?}");
    assert_eq!(option(argv, "--command"), Some("exit 3"));
    assert_eq!(option(argv, "--region"), Some("us-east-1"));
    assert_eq!(
        option(argv, "--endpoint-url"),
        Some(emulator.proxy_url.as_str())
    );

    // IAM short: the CLI's own code, and the likely cause said.
    let denied = run(
        &emulator,
        &config,
        &standin.path(),
        &[("STANDIN_DENY", "1")],
        &["exec", "echo-mcp"],
    )
    .await;
    assert_eq!(denied.status.code(), Some(254));
    assert!(
        stderr(&denied).contains("likely IAM: the task role needs ssmmessages:"),
        "{}",
        stderr(&denied)
    );

    let off = run(
        &emulator,
        &config,
        &standin.path(),
        &[],
        &["exec", "plain-mcp"],
    )
    .await;
    assert_eq!(off.status.code(), Some(PREREQUISITE));
    assert!(
        stderr(&off).contains("enableExecuteCommand is false"),
        "{}",
        stderr(&off)
    );

    let no_cli = StandIn::new("exec-no-cli", &[]);
    let output = run(
        &emulator,
        &config,
        &no_cli.path(),
        &[],
        &["exec", "echo-mcp"],
    )
    .await;
    assert_eq!(output.status.code(), Some(PREREQUISITE));
    assert_eq!(
        stderr(&output).trim(),
        "mcpfleet: the aws CLI is not on PATH: install AWS CLI v2"
    );
    let no_plugin = StandIn::new("exec-no-plugin", &["aws"]);
    let output = run(
        &emulator,
        &config,
        &no_plugin.path(),
        &[],
        &["exec", "echo-mcp"],
    )
    .await;
    assert_eq!(output.status.code(), Some(PREREQUISITE));
    assert!(
        stderr(&output).contains("session-manager-plugin is not on PATH"),
        "{}",
        stderr(&output)
    );
    assert!(no_cli.calls().is_empty() && no_plugin.calls().is_empty());

    let output = run(
        &emulator,
        &config,
        &standin.path(),
        &[],
        &["--source", "local", "exec", "echo-mcp"],
    )
    .await;
    assert_eq!(output.status.code(), Some(PREREQUISITE));
    assert!(
        stderr(&output).contains("need the AWS source"),
        "{}",
        stderr(&output)
    );
    let _ = std::fs::remove_file(&config);
    emulator.shutdown().await;
}

/// Whether `pid` still runs (a zombie waiting for its parent does not).
fn alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().next());
    state.is_some_and(|state| state != "Z" && state != "X")
}

#[tokio::test]
async fn forward_reaches_the_replica_again_after_its_session_ends_and_leaves_nothing_behind() {
    let emulator = Emulator::start().await;
    emulator
        .fleet(&json!({"cluster": "mcp", "services": [
            {"name": "echo-mcp", "replicas": 1, "execute_command": true},
        ]}))
        .await;
    let config = emulator.config_file("reach-forward");
    let standin = StandIn::new("forward", &["aws", "plugin"]);
    let task = task_of(&emulator, &config, "echo-mcp").await;
    let (id, runtime) = (
        task["id"].as_str().unwrap(),
        task["containers"][0]["runtime_id"].as_str().unwrap(),
    );
    let session_target = format!("ecs:mcp_{id}_{runtime}");
    let address = task["endpoint"]["address"].as_str().unwrap();
    let replica_port: u16 = address.rsplit(':').next().unwrap().parse().unwrap();
    standin.set_targets(&json!({ session_target.clone(): replica_port }));

    let mut forward = command(&emulator, &config, &standin.path());
    forward
        .env("STANDIN_FIRST_SESSION_SECS", "1")
        .args(["forward", "echo-mcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut forward = forward.spawn().unwrap();
    let mut stdout = BufReader::new(forward.stdout.take().unwrap());
    let mut url = String::new();
    tokio::time::timeout(Duration::from_secs(60), stdout.read_line(&mut url))
        .await
        .expect("forward prints its URL")
        .unwrap();
    let url = url.trim().to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
        "{url}"
    );
    let local_port = url["http://127.0.0.1:".len()..url.len() - "/mcp".len()].to_string();

    // The first session ends after a second; the second is started after the backoff.
    let deadline = Instant::now() + Duration::from_secs(30);
    while standin.session_pid(2).is_none() {
        assert!(
            Instant::now() < deadline,
            "no second session: {:?}",
            standin.calls()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first = standin.session_pid(1).unwrap();
    assert!(!alive(first), "the first session's forwarder is gone");
    let called = run(
        &emulator,
        &config,
        "/usr/bin:/bin",
        &[],
        &["--url", &url, "call", "echo", "message=through-the-forward"],
    )
    .await;
    assert!(called.status.success(), "{}", stderr(&called));
    assert!(
        String::from_utf8_lossy(&called.stdout).contains("through-the-forward"),
        "{called:?}"
    );

    let sessions = standin.aws_calls(&["ssm", "start-session"]);
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    for argv in &sessions {
        assert_eq!(option(argv, "--target"), Some(session_target.as_str()));
        assert_eq!(
            option(argv, "--document-name"),
            Some("AWS-StartPortForwardingSession")
        );
        let parameters: Value =
            serde_json::from_str(option(argv, "--parameters").unwrap()).unwrap();
        assert_eq!(
            parameters,
            json!({"portNumber": ["8080"], "localPortNumber": [local_port]})
        );
        assert_eq!(
            option(argv, "--endpoint-url"),
            Some(emulator.proxy_url.as_str())
        );
    }

    // Ctrl-C ends the command and the session's processes with it.
    let pid = forward.id().unwrap() as i32;
    let second = standin.session_pid(2).unwrap();
    assert!(alive(second));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), forward.wait())
        .await
        .expect("forward ends on SIGINT")
        .unwrap();
    assert_eq!(status.code(), Some(130));
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(second) {
        assert!(
            Instant::now() < deadline,
            "the forwarder outlived the command"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = std::fs::remove_file(&config);
    emulator.shutdown().await;
}
