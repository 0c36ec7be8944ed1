//! Test support for driving the console's AWS source against the emulator: fake credentials
//! that never reach a real account, the settings the tests share, and waiting on snapshots.

#![allow(dead_code)]

use std::{
    process::Output,
    sync::Arc,
    time::{Duration, SystemTime},
};

use mcpfleet::{
    fleet::{FleetSnapshot, Source, SourceHandle},
    sources::aws::{AwsSettings, AwsSource},
    ui::app::App,
};

pub const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
pub const REGION: &str = "us-east-1";

/// Credentials and configuration for the SDK's standard chain: static fake keys, and no
/// config or credentials files from the home directory.
pub fn fake_aws_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", REGION),
        ("AWS_CONFIG_FILE", "/nonexistent/mcpfleet-test/config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/mcpfleet-test/credentials",
        ),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
}

/// Puts the fake credentials in this test process's environment, for the in-process source.
/// Call before any thread starts (first thing in a `#[test]`, before building a runtime):
/// each test runs in its own process under nextest.
pub fn use_fake_aws_env() {
    for (key, value) in fake_aws_env() {
        // SAFETY: no other thread exists yet; see above.
        unsafe { std::env::set_var(key, value) };
    }
    unsafe { std::env::remove_var("AWS_PROFILE") };
    unsafe { std::env::remove_var("AWS_ENDPOINT_URL") };
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

pub fn settings(endpoint: &str, cluster: &str) -> AwsSettings {
    AwsSettings {
        endpoint_url: Some(endpoint.to_string()),
        region: Some(REGION.to_string()),
        clusters: vec![cluster.to_string()],
        interval_secs: 1,
        ..AwsSettings::default()
    }
}

pub fn start(settings: AwsSettings) -> SourceHandle {
    Box::new(AwsSource::new(settings)).start()
}

/// Waits for a snapshot that satisfies `predicate`; panics with the last one after `limit`.
pub async fn wait_for(
    handle: &mut SourceHandle,
    limit: Duration,
    what: &str,
    predicate: impl FnMut(&FleetSnapshot) -> bool,
) -> Arc<FleetSnapshot> {
    match handle.wait_for(limit, predicate).await {
        Some(snapshot) => snapshot,
        None => {
            let last = handle.snapshot();
            panic!(
                "no snapshot with {what} within {limit:?}; last: {}",
                serde_json::to_string_pretty(&*last).unwrap()
            )
        }
    }
}

/// Runs the console binary with the fake credentials and `args`, with a time limit.
pub async fn cli(args: &[&str]) -> Output {
    cli_without(args, &[]).await
}

/// `cli`, with the variables in `unset` left out of the environment.
pub async fn cli_without(args: &[&str], unset: &[&str]) -> Output {
    cli_env(args, unset, &[]).await
}

/// `cli`, with `unset` left out of the environment and `set` added to it.
pub async fn cli_env(args: &[&str], unset: &[&str], set: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(args)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("MCPFLEET_CONFIG", "/dev/null")
        .kill_on_drop(true);
    for (key, value) in fake_aws_env() {
        command.env(key, value);
    }
    for key in unset {
        command.env_remove(key);
    }
    command.envs(set.iter().copied());
    match tokio::time::timeout(Duration::from_secs(60), command.output()).await {
        Ok(output) => output.expect("the console binary runs"),
        Err(_) => panic!("mcpfleet {args:?} did not finish within 60 s"),
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What the console draws at `now` on a `width`×`height` terminal, line by line, trailing
/// blanks trimmed.
pub fn screen(app: &mut App, width: u16, height: u16, now: SystemTime) -> String {
    use ratatui::{Terminal, backend::TestBackend};
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal.draw(|frame| app.render(frame, now)).expect("draw");
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        let line: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
