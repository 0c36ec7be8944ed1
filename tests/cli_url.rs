//! `--url` names one MCP server for every command that talks to one, before or after the
//! subcommand alike.

use std::{process::Output, time::Duration};

use mcpfleet_server::ServerConfig;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

async fn mcpfleet(args: &[&str]) -> Output {
    let output = tokio::process::Command::new(BIN)
        // Calls go to a history file of the tests' own, never the developer's.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
        .args(args)
        .env("MCPFLEET_CONFIG", "/dev/null")
        .output();
    tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("the command ends by itself")
        .expect("mcpfleet runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_goes_before_or_after_the_subcommand() {
    let server = mcpfleet_server::start(ServerConfig::loopback())
        .await
        .unwrap();
    let url = format!("http://{}/mcp", server.local_addr);
    let cases: [(&[&str], &str); 6] = [
        (&["--url", &url, "tools"], "echo"),
        (&["tools", "--url", &url], "echo"),
        (&["--url", &url, "call", "echo", "message=before"], "before"),
        (&["call", "--url", &url, "echo", "message=after"], "after"),
        (&["--url", &url, "ls"], "url"),
        (&["ls", "--url", &url], "url"),
    ];
    for (args, expected) in cases {
        let output = mcpfleet(args).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains(expected), "{args:?}: {stdout}");
    }
    let missing = mcpfleet(&["tools"]).await;
    assert_eq!(
        missing.status.code(),
        Some(2),
        "no service and no --url is a usage error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_escape_sequences_are_printed_inert() {
    let server = mcpfleet_server::start(ServerConfig::loopback())
        .await
        .unwrap();
    let url = format!("http://{}/mcp", server.local_addr);
    let hostile = "\u{1b}[2J\u{1b}]0;owned\u{7}after";
    let message = format!("message={hostile}");
    let output = mcpfleet(&["--url", &url, "call", "echo", &message]).await;
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "no control character reaches the terminal: {stdout:?}"
    );
    assert!(
        stdout.starts_with("\\u{1b}[2J\\u{1b}]0;owned\\u{7}after\n"),
        "{stdout:?}"
    );
    // --json keeps the text exact (JSON escapes it).
    let output = mcpfleet(&["--url", &url, "call", "echo", &message, "--json"]).await;
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["result"]["content"][0]["text"], hostile);
}
