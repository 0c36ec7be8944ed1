//! The AWS source against moto with the fidelity layer: the console lists what the fleet
//! simulator created — services, tasks, endpoints, health — and a call through an
//! AWS-discovered endpoint is served by the replica it names.

mod aws_console;
mod aws_support;

use std::time::{Duration, SystemTime};

use aws_console::{
    cli, cli_env, runtime, screen, settings, start, text, use_fake_aws_env, wait_for,
};
use aws_support::Emulator;
use mcpfleet::{
    fleet::{Health, TaskStatus},
    ui::{app::App, theme::Theme},
};
use serde_json::{Value, json};

fn fleet_spec() -> Value {
    json!({"cluster": "mcp", "services": [
        {"name": "echo-mcp", "replicas": 3, "real": true, "mcp": "tag"},
        {"name": "connect-only", "replicas": 1, "real": true, "mcp": "service_connect"},
        {"name": "batch-jobs", "replicas": 1, "real": false, "mcp": "none"},
    ]})
}

/// (task id, port) of each task the simulator started for `service`.
fn created_tasks(created: &Value, service: &str) -> Vec<(String, u64)> {
    let service = created["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == service)
        .unwrap_or_else(|| panic!("the simulator made no {service}: {created}"));
    service["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["port"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn ls_lists_the_mcp_services_tasks_endpoints_and_health() {
    let emulator = Emulator::start().await;
    let created = emulator.fleet(&fleet_spec()).await;
    let output = cli(&[
        "--source",
        "aws",
        "--endpoint-url",
        &emulator.proxy_url,
        "--cluster",
        "mcp",
        "ls",
        "--json",
    ])
    .await;
    assert!(
        output.status.success(),
        "ls failed: {}",
        text(&output.stderr)
    );
    let listed: Value = serde_json::from_slice(&output.stdout).expect("ls --json prints JSON");
    let names: Vec<&str> = listed["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    // Tagged and Service Connect services count as MCP; the untagged batch service does not.
    assert_eq!(names, ["connect-only", "echo-mcp"], "{listed}");
    assert_eq!(listed["source"], "aws");
    assert!(listed["stale"].is_null(), "{}", listed["stale"]);
    let echo = &listed["services"][1];
    assert_eq!(
        (echo["desired"].as_u64(), echo["running"].as_u64()),
        (Some(3), Some(3))
    );
    let mut want = created_tasks(&created, "echo-mcp");
    want.sort();
    let mut got: Vec<(String, u64)> = echo["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["last_status"], "RUNNING", "{t}");
            assert_eq!(t["health"], "HEALTHY", "{t}");
            assert!(
                t["availability_zone"]
                    .as_str()
                    .unwrap()
                    .starts_with("us-east-1")
            );
            let address = t["endpoint"]["address"].as_str().unwrap();
            let port = address.strip_prefix("127.0.0.1:").unwrap().parse().unwrap();
            assert_eq!(t["endpoint"]["url"], format!("http://{address}/mcp"));
            (t["id"].as_str().unwrap().to_string(), port)
        })
        .collect();
    got.sort();
    assert_eq!(got, want);
    let calls = listed["api_calls"].as_u64().unwrap();
    assert!(
        calls > 0 && calls <= 80,
        "cold discovery took {calls} calls"
    );
}

#[tokio::test]
async fn aws_endpoint_url_from_the_environment_is_honoured() {
    let emulator = Emulator::start().await;
    emulator.fleet(&fleet_spec()).await;
    emulator.reset_stats().await;
    let output = cli_env(
        &["--source", "aws", "--cluster", "mcp", "ls", "--json"],
        &[],
        &[("AWS_ENDPOINT_URL", &emulator.proxy_url)],
    )
    .await;
    assert!(
        output.status.success(),
        "ls failed: {}",
        text(&output.stderr)
    );
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed["services"].as_array().unwrap().len(), 2, "{listed}");
    let seen = emulator.proxy_stats().await["total_requests"]
        .as_u64()
        .unwrap();
    assert_eq!(
        seen,
        listed["api_calls"].as_u64().unwrap(),
        "every call went to the endpoint"
    );
}

#[tokio::test]
async fn a_call_through_a_discovered_endpoint_is_served_by_that_replica() {
    let emulator = Emulator::start().await;
    let created = emulator.fleet(&fleet_spec()).await;
    for (task, _) in created_tasks(&created, "echo-mcp") {
        let output = cli(&[
            "--source",
            "aws",
            "--endpoint-url",
            &emulator.proxy_url,
            "--cluster",
            "mcp",
            "call",
            "echo-mcp",
            "whoami",
            "--task",
            &task,
            "--json",
        ])
        .await;
        assert!(
            output.status.success(),
            "call failed: {}",
            text(&output.stderr)
        );
        let answer = text(&output.stdout);
        // whoami reads the ECS task metadata the simulator serves for that task.
        assert!(
            answer.contains(&format!("\"task_id\": \"{task}\""))
                || answer.contains(&format!("\"task_id\":\"{task}\"")),
            "task {task} did not answer: {answer}"
        );
        assert!(
            answer.contains("\"source\": \"ecs\"") || answer.contains("\"source\":\"ecs\""),
            "{answer}"
        );
    }
}

#[test]
fn the_console_shows_the_aws_fleet() {
    use_fake_aws_env();
    runtime().block_on(async {
        let emulator = Emulator::start().await;
        emulator.fleet(&fleet_spec()).await;
        let mut handle = start(settings(&emulator.proxy_url, "mcp"));
        let snapshot = wait_for(
            &mut handle,
            Duration::from_secs(60),
            "3 healthy echo tasks with their metrics",
            |s| {
                s.service("echo-mcp").is_some_and(|svc| {
                    svc.tasks
                        .iter()
                        .filter(|t| {
                            t.last_status == TaskStatus::Running
                                && t.health == Health::Healthy
                                && t.metrics.is_some()
                        })
                        .count()
                        == 3
                })
            },
        )
        .await;
        let mut app = App::for_snapshot(snapshot, 1000, Theme::plain());
        let screen = screen(&mut app, 120, 16, SystemTime::now());
        assert!(screen.contains("aws mcp @ us-east-1"), "{screen}");
        let row = screen
            .lines()
            .find(|l| l.starts_with("echo-mcp"))
            .unwrap_or_else(|| panic!("no echo-mcp row:\n{screen}"));
        assert!(row.contains("3/3/0"), "{row}");
        assert!(row.contains("3/3 ready"), "{row}");
        assert!(screen.contains("connect-only"), "{screen}");
        assert!(!screen.contains("batch-jobs"), "{screen}");
        insta::assert_snapshot!("aws_services_120x16", redact(&screen));
    });
}

/// Hides what differs from run to run: counters, ages, load figures.
fn redact(screen: &str) -> String {
    let counters = regex::Regex::new(r"API \d+ calls?, \d+ errors?").unwrap();
    let age = regex::Regex::new(r"refreshed [^│]*").unwrap();
    let screen = counters.replace_all(screen, "API [n] calls, [n] errors");
    age.replace_all(&screen, "refreshed [age] ").into_owned()
}

#[test]
fn cloud_map_mismatches_are_marked() {
    use_fake_aws_env();
    runtime().block_on(async {
        let emulator = Emulator::start().await;
        let created = emulator.fleet(&fleet_spec()).await;
        let mut handle = start(settings(&emulator.proxy_url, "mcp"));
        let first = wait_for(
            &mut handle,
            Duration::from_secs(60),
            "the echo service",
            |s| {
                s.service("echo-mcp")
                    .is_some_and(|svc| svc.ready_tasks().count() == 3)
            },
        )
        .await;
        let echo = first.service("echo-mcp").unwrap();
        assert!(echo.notes.is_empty(), "{:?}", echo.notes);
        assert!(
            echo.tasks.iter().all(|t| t.notes.is_empty()),
            "{:?}",
            echo.tasks
        );
        let discover = first
            .api
            .iter()
            .find(|a| a.operation == "servicediscovery:DiscoverInstances")
            .expect("the cross-check asked Cloud Map");
        assert_eq!(discover.errors, 0, "{discover:?}");

        // A registration left behind by a dead task, and a running task that lost its own.
        let cloudmap = aws_sdk_servicediscovery::Client::new(
            &aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(&emulator.moto_url)
                .load()
                .await,
        );
        let services = cloudmap.list_services().send().await.unwrap();
        let service_id = services
            .services()
            .iter()
            .find(|s| s.name() == Some("echo-mcp"))
            .and_then(|s| s.id())
            .expect("the Service Connect service in Cloud Map")
            .to_string();
        cloudmap
            .register_instance()
            .service_id(&service_id)
            .instance_id("ghost")
            .attributes("AWS_INSTANCE_IPV4", "127.0.0.1")
            .attributes("AWS_INSTANCE_PORT", "9")
            .send()
            .await
            .unwrap();
        let (lost, _) = &created_tasks(&created, "echo-mcp")[0];
        cloudmap
            .deregister_instance()
            .service_id(&service_id)
            .instance_id(lost)
            .send()
            .await
            .unwrap();
        let marked = wait_for(&mut handle, Duration::from_secs(60), "both marks", |s| {
            s.service("echo-mcp").is_some_and(|svc| {
                !svc.notes.is_empty() && svc.task(lost).is_some_and(|t| !t.notes.is_empty())
            })
        })
        .await;
        let echo = marked.service("echo-mcp").unwrap();
        assert_eq!(
            echo.notes,
            ["Cloud Map instance ghost (127.0.0.1:9) has no running task"]
        );
        assert_eq!(
            echo.task(lost).unwrap().notes,
            ["not registered in Cloud Map"]
        );
    });
}

#[tokio::test]
async fn a_calls_trace_finds_its_server_line_in_cloudwatch_logs() {
    let emulator = Emulator::start().await;
    emulator.fleet(&fleet_spec()).await;
    let aws = [
        "--source",
        "aws",
        "--endpoint-url",
        &emulator.proxy_url,
        "--cluster",
        "mcp",
    ];
    let call = cli(&[
        &aws[..],
        &["call", "echo-mcp", "echo", "message=hi", "--json"],
    ]
    .concat())
    .await;
    assert!(call.status.success(), "call failed: {}", text(&call.stderr));
    let call: Value = serde_json::from_str(&text(&call.stdout)).unwrap();
    let trace_id = call["trace_id"].as_str().expect("a trace id").to_string();
    let task = call["served_by"]["task_id"].as_str().unwrap().to_string();

    // The replica's stdout reaches CloudWatch Logs through the shipper a moment later.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let found = loop {
        let logs = cli(&[&aws[..], &["logs", "echo-mcp", "--grep", &trace_id]].concat()).await;
        assert!(logs.status.success(), "logs failed: {}", text(&logs.stderr));
        let found = text(&logs.stdout);
        if found.contains(&trace_id) {
            break found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no line of trace {trace_id} in CloudWatch Logs"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let lines: Vec<&str> = found.lines().collect();
    assert!(lines.iter().all(|l| l.contains(&trace_id)), "{found}");
    assert!(
        lines.iter().any(|l| l.contains("tool call")
            && l.contains(&format!("echo-mcp/{}", &task[..8]))
            && l.contains(&format!("trace_id={trace_id}"))
            && l.contains("tool=echo")),
        "the serving task's call line: {found}"
    );
}
