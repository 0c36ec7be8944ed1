//! The `mcpfleet` binary's one-shot commands over the real local fleet: what they print, in
//! JSON and as tables, and the documented exit codes.

use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

fn mcpfleet(args: &[&str]) -> Output {
    // An empty config file keeps a developer's own configuration out of the tests.
    let config =
        std::env::temp_dir().join(format!("mcpfleet-cli-test-{}.toml", std::process::id()));
    if !config.exists() {
        std::fs::write(&config, "").unwrap();
    }
    Command::new(BIN)
        // Calls go to a history file of the tests' own, never the developer's.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
        .args(args)
        .env("MCPFLEET_CONFIG", &config)
        .env("XDG_RUNTIME_DIR", runtime_dir())
        .env_remove("RUST_LOG")
        .output()
        .expect("mcpfleet runs")
}

/// A runtime directory no console shares a fleet in, so every command starts its own.
fn runtime_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpfleet-cli-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn ls_json_lists_three_healthy_replicas() {
    let output = mcpfleet(&["ls", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let fleet: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(fleet["source"], "local");
    let service = &fleet["services"][0];
    assert_eq!(service["name"], "mcpfleet-server");
    assert_eq!(service["desired"], 3);
    let tasks = service["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    for task in tasks {
        assert_eq!(task["last_status"], "RUNNING", "{task}");
        assert_eq!(task["health"], "HEALTHY", "{task}");
        assert!(
            task["endpoint"]["url"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:")
        );
        assert_eq!(task["id"].as_str().unwrap().len(), 32);
    }
}

#[test]
fn ls_prints_aligned_tables() {
    let output = mcpfleet(&["ls"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("SERVICE "), "{text}");
    assert!(text.contains("mcpfleet-server  3        3"), "{text}");
    assert_eq!(text.matches("RUNNING  HEALTHY").count(), 3, "{text}");
    assert!(
        text.lines().all(|line| !line.ends_with(' ')),
        "trailing blanks:\n{text}"
    );
}

#[test]
fn call_is_served_and_names_its_task() {
    let output = mcpfleet(&["call", "mcpfleet-server", "whoami", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let call: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(call["outcome"], "ok");
    let served_by = call["served_by"]["task_id"].as_str().unwrap();
    // The replica that answered says the same task id the console routed to.
    assert_eq!(call["result"]["structuredContent"]["task_id"], served_by);
    // A fresh W3C trace, sent in the request's `_meta` and as the POST's header.
    let trace_id = call["trace_id"].as_str().unwrap();
    assert_eq!(trace_id.len(), 32, "{trace_id}");
    assert!(
        trace_id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let post = &call["wire"][0]["http"][0];
    let body: Value = serde_json::from_str(post["request_body"]["text"].as_str().unwrap()).unwrap();
    let traceparent = body["params"]["_meta"]["traceparent"].as_str().unwrap();
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")) && traceparent.ends_with("-01"),
        "{traceparent}"
    );
    assert!(
        post["request_headers"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["traceparent", traceparent])),
        "{post}"
    );
    let again = mcpfleet(&["call", "mcpfleet-server", "whoami", "--json"]);
    let again: Value = serde_json::from_str(&stdout(&again)).unwrap();
    assert_ne!(again["trace_id"], call["trace_id"], "a trace per call");

    let text = mcpfleet(&["call", "mcpfleet-server", "echo", "message=007"]);
    assert_eq!(text.status.code(), Some(0));
    let printed = stdout(&text);
    assert!(
        printed.starts_with("007\n"),
        "string properties keep their text: {printed}"
    );
    assert!(printed.contains("── ok in"), "{printed}");
    assert!(printed.contains("(rev 1, 127.0.0.1:"), "{printed}");
    assert!(printed.contains(" · trace "), "{printed}");
}

#[test]
fn call_all_tasks_reaches_every_replica() {
    let output = mcpfleet(&["call", "mcpfleet-server", "whoami", "--all-tasks", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let fanned: Value = serde_json::from_str(&stdout(&output)).unwrap();
    // whoami names each replica, so each answer is a group of its own.
    assert_eq!(fanned["groups"].as_array().unwrap().len(), 3, "{fanned:#}");
    let mut tasks: Vec<&str> = fanned["replicas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["served_by"]["task_id"].as_str().unwrap())
        .collect();
    tasks.sort();
    tasks.dedup();
    assert_eq!(tasks.len(), 3);
}

#[test]
fn exit_codes_tell_how_a_call_ended() {
    let tool_error = mcpfleet(&[
        "call",
        "mcpfleet-server",
        "fail",
        "kind=tool_error",
        "message=nope",
    ]);
    assert_eq!(tool_error.status.code(), Some(1));
    assert!(stdout(&tool_error).starts_with("nope\n"));

    let invalid = mcpfleet(&["call", "mcpfleet-server", "sleep", "duration_ms=soon"]);
    assert_eq!(invalid.status.code(), Some(2));
    assert!(
        stdout(&invalid).contains("/duration_ms"),
        "the refusal names the field: {}",
        stdout(&invalid)
    );

    let protocol = mcpfleet(&["call", "mcpfleet-server", "fail", "kind=protocol_error"]);
    assert_eq!(protocol.status.code(), Some(3));

    let unknown_service = mcpfleet(&["call", "nosuch", "echo"]);
    assert_eq!(unknown_service.status.code(), Some(5));
    assert!(stderr(&unknown_service).contains("no service nosuch"));

    let unknown_tool = mcpfleet(&["call", "mcpfleet-server", "nosuch"]);
    assert_eq!(
        unknown_tool.status.code(),
        Some(5),
        "{}",
        stdout(&unknown_tool)
    );
}

#[test]
fn an_unreachable_url_is_exit_3_with_one_line() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}/mcp");
    let output = mcpfleet(&["--url", &url, "call", "echo", "message=x"]);
    assert_eq!(output.status.code(), Some(3));
    let error = stderr(&output);
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.contains(&url) && error.contains("connection refused"),
        "{error}"
    );
}

#[test]
fn a_malformed_config_names_file_line_and_key() {
    let path = std::env::temp_dir().join(format!("mcpfleet-bad-{}.toml", std::process::id()));
    std::fs::write(&path, "[local]\nbuiltin_replicas = 2\nreplcas = 5\n").unwrap();
    let output = Command::new(BIN)
        // Calls go to a history file of the tests' own, never the developer's.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
        .args(["--config", path.to_str().unwrap(), "ls"])
        .env("XDG_RUNTIME_DIR", runtime_dir())
        .output()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(output.status.code(), Some(4));
    let error = stderr(&output);
    assert!(error.contains(path.to_str().unwrap()), "{error}");
    assert!(error.contains("line 3"), "{error}");
    assert!(error.contains("replcas"), "{error}");
}

#[test]
fn tools_lists_annotations() {
    let output = mcpfleet(&["tools", "mcpfleet-server"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("mcpfleet-server 0.1.0"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("echo") && l.contains("ro,idem")),
        "{text}"
    );

    let json = mcpfleet(&["tools", "mcpfleet-server", "--json"]);
    let tools: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(tools["tools"].as_array().unwrap().len(), 7);
    assert!(tools["tools_hash"].is_string());
    assert_eq!(tools["fingerprint"]["tools"], tools["tools_hash"]);
    assert_eq!(
        tools["fingerprint"]["hash"].as_str().map(str::len),
        Some(12)
    );
}

#[test]
fn logs_show_the_fleet_starting() {
    let output = mcpfleet(&["logs", "--grep", "listening"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(
        text.lines().count(),
        3,
        "one listening line per replica: {text}"
    );
    assert!(
        text.lines()
            .all(|l| l.contains("mcpfleet-server/") && l.contains("INFO")),
        "{text}"
    );
}

#[test]
fn completions_are_generated() {
    let output = mcpfleet(&["completions", "bash"]);
    assert!(output.status.success());
    assert!(stdout(&output).contains("mcpfleet"));
}
