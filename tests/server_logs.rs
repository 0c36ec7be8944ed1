//! A server's log lines about a call (`notifications/message` on the call's stream) reach the
//! person with the call, and `--log-level` asks for them: in the request's `_meta` on
//! 2026-07-28, with `logging/setLevel` on a 2025-11-25 session.

use std::{process::Output, time::Duration};

use mcpfleet_server::{Mode, Profile, ServerConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

async fn mcpfleet(args: &[&str]) -> Output {
    let command = tokio::process::Command::new(BIN)
        // Calls go to a history file of the tests' own, never the developer's.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
        .args(args)
        .env("MCPFLEET_CONFIG", "/dev/null")
        .output();
    tokio::time::timeout(Duration::from_secs(60), command)
        .await
        .expect("the command ends by itself")
        .expect("mcpfleet runs")
}

fn logs(output: &Output) -> Vec<String> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.starts_with("server log "))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calls_log_lines_come_with_it_at_the_level_asked() {
    let server = mcpfleet_server::start(ServerConfig {
        mode: Mode::Session,
        profile: Profile::Conformance,
        ..ServerConfig::loopback()
    })
    .await
    .unwrap();
    let url = format!("http://{}/mcp", server.local_addr);
    let call = |era: &'static str, tool: &'static str, extra: &'static [&'static str]| {
        let url = url.clone();
        async move {
            let mut args = vec!["--url", url.as_str(), "--protocol-era", era, "call", tool];
            args.extend_from_slice(extra);
            mcpfleet(&args).await
        }
    };

    // A 2025-11-25 session: the three lines the tool logs, in order, named by their logger.
    let legacy = call("legacy", "test_tool_with_logging", &["--log-level", "info"]).await;
    let lines = logs(&legacy);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("server log [info] "), "{lines:?}");
    assert!(lines[0].ends_with("Tool execution started"), "{lines:?}");
    assert!(lines[2].ends_with("Tool execution completed"), "{lines:?}");
    let quiet = call(
        "legacy",
        "test_tool_with_logging",
        &["--log-level", "error"],
    )
    .await;
    assert_eq!(logs(&quiet), Vec::<String>::new(), "above the lines' level");

    // 2026-07-28: only a request that names a level gets log lines.
    let unasked = call("modern", "test_logging_tool", &[]).await;
    assert_eq!(logs(&unasked), Vec::<String>::new());
    let asked = call("modern", "test_logging_tool", &["--log-level", "debug"]).await;
    assert_eq!(logs(&asked).len(), 1, "{:?}", logs(&asked));
    assert!(logs(&asked)[0].ends_with("logLevel was requested"));

    // --json keeps them with the result, and in the wire record of the call.
    let json = call(
        "modern",
        "test_logging_tool",
        &["--log-level", "info", "--json"],
    )
    .await;
    let out: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(out["logs"][0]["data"], "logLevel was requested", "{out}");
    let sent = out["wire"][0]["http"][0]["request_body"]["text"]
        .as_str()
        .unwrap();
    assert!(
        sent.contains(r#""io.modelcontextprotocol/logLevel":"info""#),
        "{sent}"
    );

    let bad = mcpfleet(&["--url", &url, "call", "echo", "--log-level", "loud"]).await;
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an unknown level is a usage error"
    );
}
