//! A call the server turns into a task (the tasks extension, SEP-2663) is followed to its end:
//! polled with `tasks/get`, its questions answered with `tasks/update`, its result or failure
//! reported as a call's, and a task that never finishes cancelled with `tasks/cancel` once the
//! call's idle timeout passes without news. Against the replica's conformance tools.

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

/// The JSON-RPC methods the call sent, in order, from its wire record.
fn methods(out: &Value) -> Vec<String> {
    out["wire"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|round| round["http"].as_array().into_iter().flatten())
        .filter_map(|http| http["request_body"]["text"].as_str())
        .filter_map(|body| serde_json::from_str::<Value>(body).ok())
        .filter_map(|message| message["method"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_followed_to_its_end() {
    let server = mcpfleet_server::start(ServerConfig {
        mode: Mode::Stateless,
        profile: Profile::Conformance,
        ..ServerConfig::loopback()
    })
    .await
    .unwrap();
    let url = format!("http://{}/mcp", server.local_addr);
    let call = |extra: &[&str]| {
        let mut args = vec!["--url", url.as_str(), "call"];
        args.extend_from_slice(extra);
        let args: Vec<String> = args.into_iter().map(str::to_string).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            mcpfleet(&args).await
        }
    };
    let json = |output: &Output| -> Value {
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)))
    };

    // Completed: the result of the task, the task named, the polls in the wire record.
    let done = call(&["slow_compute", "seconds=0.3", "label=batch", "--json"]).await;
    assert_eq!(done.status.code(), Some(0));
    let out = json(&done);
    assert_eq!(
        out["result"]["content"][0]["text"],
        "slow_compute(batch) finished after 0.3s"
    );
    assert_eq!(out["task"]["status"], "completed", "{out}");
    assert!(out["task"]["polls"].as_u64().unwrap() >= 1);
    let sent = methods(&out);
    assert_eq!(sent[0], "tools/call", "{sent:?}");
    assert!(sent[1..].iter().all(|m| m == "tasks/get"), "{sent:?}");
    let text = call(&["slow_compute", "seconds=0.2"]).await;
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("── ran as task "), "{stdout}");
    assert!(stdout.contains("(completed after "), "{stdout}");

    // A tool error inside the task is a tool error; a failed task is a failure.
    let tool_error = call(&["failing_job"]).await;
    assert_eq!(tool_error.status.code(), Some(1));
    let failed = call(&["protocol_error_job"]).await;
    assert_eq!(failed.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(
        stdout.contains("failed: protocol_error_job failed on purpose"),
        "{stdout}"
    );

    // The task's question, answered from a file, goes back with tasks/update.
    let answers = std::env::temp_dir().join(format!("mcpfleet-tasks-{}.json", std::process::id()));
    std::fs::write(&answers, r#"{"confirm": true}"#).unwrap();
    let asked = call(&[
        "confirm_delete",
        "filename=report.csv",
        "--elicit-json",
        answers.to_str().unwrap(),
        "--json",
    ])
    .await;
    let out = json(&asked);
    assert_eq!(
        out["result"]["content"][0]["text"], "confirm_delete(report.csv): confirmed=true",
        "{out}"
    );
    assert!(methods(&out).contains(&"tasks/update".to_string()));
    let _ = std::fs::remove_file(&answers);

    // A task that never finishes: cancelled after the idle timeout, said so, exit 6.
    let stalled = call(&["slow_compute", "seconds=300", "--timeout", "1", "--json"]).await;
    assert_eq!(stalled.status.code(), Some(6));
    let out = json(&stalled);
    assert_eq!(out["outcome"], "timed_out");
    let error = out["error"].as_str().unwrap();
    assert!(
        error.contains("was still working after 1s without news; cancelled it"),
        "{error}"
    );
    assert_eq!(
        methods(&out).last().map(String::as_str),
        Some("tasks/cancel")
    );
}
