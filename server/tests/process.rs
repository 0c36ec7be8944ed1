//! The real `mcpfleet-server` binary as a process: graceful drain on SIGTERM, the per-call JSON
//! log line, secrets kept out of logs, the `healthcheck` subcommand, ECS task metadata.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Json, Router, routing::get};
use common::{RawClient, text};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet-server");

struct Process {
    child: Child,
    base: String,
    output: Arc<Mutex<Vec<String>>>,
}

impl Process {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(BIN);
        command
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("server binary starts");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            let address_tx = address_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Ok(event) = serde_json::from_str::<Value>(&line)
                        && event["message"] == "listening"
                    {
                        let _ = address_tx.send(event["address"].as_str().unwrap().to_string());
                    }
                    output.lock().unwrap().push(line);
                }
            });
        }
        let address = address_rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no listening line; output: {:?}", output.lock().unwrap()));
        Self {
            child,
            base: format!("http://{address}"),
            output,
        }
    }

    fn client(&self) -> RawClient {
        RawClient::for_url(format!("{}/mcp", self.base))
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status();
        assert!(status.unwrap().success());
    }

    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "process still running after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn lines(&self) -> Vec<String> {
        self.output.lock().unwrap().clone()
    }

    fn call_logs(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| event["target"] == "mcpfleet::call")
            .collect()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn sigterm_drains_in_flight_calls_and_exits_zero() {
    let mut server = Process::start(&["--drain-deadline-secs", "10"], &[]);
    let mut caller = server.client();
    caller.initialize().await;
    let mut late = server.client();
    late.initialize().await;

    let in_flight = tokio::spawn(async move {
        caller
            .call_ok(
                "sleep",
                json!({"duration_ms": 2000, "progress_interval_ms": 500}),
            )
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    server.signal("TERM");

    let ready = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let status = ready
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .unwrap()
            .status();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        assert!(Instant::now() < deadline, "readyz never turned 503");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = late.call("echo", json!({"message": "too late"})).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers.contains_key("retry-after"));

    let result = in_flight.await.unwrap();
    assert_eq!(result["structuredContent"]["slept_ms"], 2000, "{result}");
    let status = tokio::task::spawn_blocking(move || {
        let status = server.wait_exit(Duration::from_secs(10));
        (status, server)
    })
    .await
    .unwrap();
    assert_eq!(status.0.code(), Some(0), "{:?}", status.1.lines());
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "drain took {:?}",
        signalled.elapsed()
    );
}

#[tokio::test]
async fn drain_deadline_bounds_the_wait() {
    let mut server = Process::start(&["--drain-deadline-secs", "1"], &[]);
    let mut caller = server.client();
    caller.initialize().await;
    let stuck =
        tokio::spawn(async move { caller.call("sleep", json!({"duration_ms": 60000})).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let signalled = Instant::now();
    server.signal("TERM");
    let status = tokio::task::spawn_blocking(move || server.wait_exit(Duration::from_secs(8)))
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let took = signalled.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
    stuck.abort();
}

#[tokio::test]
async fn each_call_logs_one_json_line_with_correlation_fields() {
    let server = Process::start(&["--replica", "r-3"], &[]);
    let mut client = server.client();
    client.initialize().await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let reply = client
        .request(
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "x"}, "_meta": {"traceparent": traceparent}}),
        )
        .await;
    assert_eq!(text(&reply.response()["result"]), "x");
    client.call_ok("fail", json!({"kind": "tool_error"})).await;
    // A client that sends the trace only as the HTTP header is traced too; `_meta` wins over
    // the header when both are there.
    let in_header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let mut by_header = server.client().header("traceparent", in_header);
    by_header.initialize().await;
    by_header.call_ok("echo", json!({"message": "y"})).await;
    by_header
        .request(
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "z"}, "_meta": {"traceparent": traceparent}}),
        )
        .await;

    let deadline = Instant::now() + Duration::from_secs(2);
    while server.call_logs().len() < 4 {
        assert!(
            Instant::now() < deadline,
            "call log lines missing: {:?}",
            server.lines()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let logs = server.call_logs();
    assert_eq!(logs.len(), 4, "{logs:?}");
    let echo = &logs[0];
    assert_eq!(echo["tool"], "echo");
    assert_eq!(echo["outcome"], "ok");
    assert_eq!(echo["level"], "INFO");
    assert_eq!(echo["task_id"], "r-3");
    assert_eq!(echo["traceparent"], traceparent);
    assert_eq!(echo["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(echo["session_id"].as_str(), client.session.as_deref());
    assert!(echo["request_id"].is_string(), "{echo}");
    assert!(echo["duration_ms"].as_f64().unwrap() >= 0.0, "{echo}");
    assert!(echo["timestamp"].as_str().unwrap().ends_with('Z'), "{echo}");
    assert_eq!(logs[1]["outcome"], "tool_error");
    assert!(logs[1].get("traceparent").is_none(), "{}", logs[1]);
    assert!(logs[1].get("trace_id").is_none(), "{}", logs[1]);
    assert_eq!(logs[2]["traceparent"], in_header, "{}", logs[2]);
    assert_eq!(logs[2]["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(logs[3]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
}

#[tokio::test]
async fn tokens_never_reach_the_logs() {
    let secret = "tok-5f3a9c1e-do-not-log";
    let server = Process::start(
        &[],
        &[("MCPFLEET_AUTH_TOKEN", secret), ("RUST_LOG", "trace")],
    );
    let mut good = server
        .client()
        .header("authorization", &format!("Bearer {secret}"));
    good.initialize().await;
    good.call_ok("echo", json!({"message": "authorised"})).await;
    let bad = server
        .client()
        .header("authorization", "Bearer tok-guessed-wrong");
    let refused = bad
        .send(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let output = server.lines().join("\n");
    assert!(
        output.contains("\"tool\":\"echo\""),
        "the call was logged: {output}"
    );
    assert!(!output.contains(secret), "the token leaked into the logs");
    assert!(
        !output.contains("tok-guessed-wrong"),
        "a presented token leaked into the logs"
    );
}

#[tokio::test]
async fn healthcheck_subcommand_reports_health() {
    let server = Process::start(&[], &[]);
    let url = format!("{}/healthz", server.base);
    let ok = Command::new(BIN)
        .args(["healthcheck", "--url", &url])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let bind = closed.to_string();
    let down = Command::new(BIN)
        .args(["healthcheck"])
        .env("MCPFLEET_BIND", &bind)
        .output()
        .unwrap();
    assert_eq!(down.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("unhealthy"),
        "{down:?}"
    );
}

/// Serves task metadata v4 shaped like ECS's on loopback.
async fn fake_metadata_endpoint() -> String {
    let task = json!({
        "Cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/mcpfleet",
        "TaskARN": "arn:aws:ecs:us-east-1:123456789012:task/mcpfleet/0f2ab1c9d8e74f6a9b3c",
        "Family": "mcpfleet-server",
        "Revision": "7",
        "AvailabilityZone": "us-east-1b",
        "LaunchType": "FARGATE"
    });
    let container = json!({
        "Name": "mcp",
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mcpfleet-server:1.4.0",
        "Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["10.0.1.23"]}]
    });
    let app = Router::new()
        .route("/v4/abc/task", get(move || async move { Json(task) }))
        .route("/v4/abc", get(move || async move { Json(container) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/v4/abc")
}

// Multi-threaded: the metadata endpoint must answer while this thread waits for the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_comes_from_ecs_task_metadata() {
    let uri = fake_metadata_endpoint().await;
    let server = Process::start(&[], &[("ECS_CONTAINER_METADATA_URI_V4", &uri)]);
    let mut client = server.client();
    client.initialize().await;
    let who = client.call_ok("whoami", json!({})).await;
    let who = &who["structuredContent"];
    assert_eq!(who["source"], "ecs");
    assert_eq!(who["task_id"], "0f2ab1c9d8e74f6a9b3c");
    assert_eq!(who["task_definition"], "mcpfleet-server:7");
    assert_eq!(who["revision"], "7");
    assert_eq!(who["availability_zone"], "us-east-1b");
    assert_eq!(
        who["image"],
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/mcpfleet-server:1.4.0"
    );

    // The task's own IP is an allowed Host, so clients that dial the task directly get in;
    // the request itself still goes to loopback.
    let mut direct = server.client().header("host", "10.0.1.23:8080");
    direct.initialize().await;
    assert_eq!(
        text(&direct.call_ok("echo", json!({"message": "direct"})).await),
        "direct"
    );
}
