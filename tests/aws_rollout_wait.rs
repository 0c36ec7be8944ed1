//! `mcpfleet rollout wait` on the AWS source: a service whose deployment the emulator reports
//! COMPLETED, every task running, is deployed at once (exit 0), with its deployments in the
//! JSON; a service that does not exist is named (exit 5).

mod aws_console;
mod aws_support;

use aws_console::{cli, text};
use aws_support::Emulator;
use serde_json::{Value, json};

#[tokio::test]
async fn a_settled_service_is_deployed_and_an_unknown_one_is_named() {
    let emulator = Emulator::start().await;
    let spec = json!({"cluster": "mcp", "services": [
        {"name": "echo-mcp", "replicas": 2, "real": true, "mcp": "tag"},
    ]});
    emulator.fleet(&spec).await;
    let wait = |service: &'static str| {
        let endpoint = emulator.proxy_url.clone();
        async move {
            let args = [
                "--source",
                "aws",
                "--endpoint-url",
                &endpoint,
                "--cluster",
                "mcp",
                "rollout",
                "wait",
                service,
                "--timeout",
                "30s",
                "--json",
            ];
            cli(&args).await
        }
    };
    let output = wait("echo-mcp").await;
    let lines = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{lines}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["outcome"], "deployed", "{report:#}");
    assert_eq!(report["service"], "echo-mcp");
    let primary = &report["deployments"][0];
    assert_eq!(primary["status"], "PRIMARY", "{report:#}");
    assert_eq!(report["revision"], primary["revision"]);
    assert!(lines.contains("PRIMARY rev "), "{lines}");
    assert!(lines.contains("echo-mcp: revision "), "{lines}");

    let output = wait("nope").await;
    assert_eq!(output.status.code(), Some(5), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("no service nope"));
}
