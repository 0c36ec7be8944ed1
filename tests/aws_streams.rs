//! `mcpfleet streams` on the AWS source: every ready replica the ECS discovery found is
//! connected to and reported by its task id. The deploy assets run the replicas stateless
//! (JSON answers, no session), so no stream stays open and none is warned about — the report
//! says so rather than guessing.

mod aws_console;
mod aws_support;

use aws_console::{cli, text};
use aws_support::Emulator;
use serde_json::{Value, json};

#[tokio::test]
async fn every_discovered_replica_is_reported_by_its_task() {
    let emulator = Emulator::start().await;
    let spec = json!({"cluster": "mcp", "services": [
        {"name": "echo-mcp", "replicas": 2, "real": true, "mcp": "tag"},
    ]});
    let created = emulator.fleet(&spec).await;
    let mut tasks: Vec<String> = created["services"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    tasks.sort();
    let args = |more: &[&'static str]| {
        let mut args = vec![
            "--source",
            "aws",
            "--endpoint-url",
            &emulator.proxy_url,
            "--cluster",
            "mcp",
            "streams",
            "echo-mcp",
        ];
        args.extend_from_slice(more);
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&args).await
    };
    let output = run(args(&["--for", "2s", "--idle-timeout", "1s", "--json"])).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let replicas = report["replicas"].as_array().unwrap();
    let mut reported: Vec<String> = replicas
        .iter()
        .map(|r| r["task"].as_str().unwrap().to_string())
        .collect();
    reported.sort();
    assert_eq!(reported, tasks, "{report:#}");
    for replica in replicas {
        assert_eq!(replica["service"], "echo-mcp");
        assert_eq!(replica["error"], Value::Null, "{report:#}");
        assert_eq!(
            replica["open"], 0,
            "a stateless replica keeps no stream: {report:#}"
        );
        assert_eq!(replica["warning"], Value::Null, "{report:#}");
        assert_eq!(replica["idle_timeout_ms"], 1000);
    }
    assert_eq!(report["warning"], false);

    let output = run(args(&["--for", "1s"])).await;
    let table = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{table}");
    for task in &tasks {
        assert!(
            table.contains(&format!("echo-mcp task {task}: no SSE stream")),
            "{table}"
        );
    }
}
