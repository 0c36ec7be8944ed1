//! The ops toolbox over real HTTP: results, annotations, progress, cancellation, probes,
//! fault injection and the metrics each call leaves behind.

mod common;

use std::time::{Duration, Instant};

use common::{RawClient, metrics, start, text};
use serde_json::{Value, json};

#[tokio::test]
async fn tools_carry_annotations_and_output_schemas() {
    let server = start(|_| {}).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    let reply = client.request("tools/list", json!({})).await;
    let tools = reply.response()["result"]["tools"]
        .as_array()
        .unwrap()
        .clone();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for expected in [
        "echo",
        "whoami",
        "sleep",
        "fail",
        "dns_resolve",
        "tcp_check",
        "http_check",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for tool in &tools {
        let annotations = &tool["annotations"];
        assert_eq!(annotations["readOnlyHint"], true, "{tool}");
        assert!(annotations["idempotentHint"].is_boolean(), "{tool}");
    }
    let by_name = |name: &str| tools.iter().find(|t| t["name"] == name).unwrap().clone();
    for structured in ["whoami", "sleep", "dns_resolve", "tcp_check", "http_check"] {
        assert!(
            by_name(structured)["outputSchema"].is_object(),
            "{structured} lacks outputSchema"
        );
    }
    assert_eq!(by_name("http_check")["annotations"]["openWorldHint"], true);
}

#[tokio::test]
async fn echo_and_whoami() {
    let server = start(|c| c.replica = Some("replica-7".into())).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    assert_eq!(
        text(&client.call_ok("echo", json!({"message": "héllo ✓"})).await),
        "héllo ✓"
    );

    let who = client.call_ok("whoami", json!({})).await;
    let who = &who["structuredContent"];
    assert_eq!(who["replica"], "replica-7");
    assert_eq!(who["task_id"], "replica-7");
    assert_eq!(who["source"], "local");
    assert_eq!(who["mode"], "session");
    assert_eq!(who["draining"], false);
    assert_eq!(who["in_flight"], 1, "whoami counts itself: {who}");
    assert!(who["fault_plan"].is_null());

    let resource = client
        .request(
            "resources/read",
            json!({"uri": "mcpfleet://replica/identity"}),
        )
        .await;
    let contents = &resource.response()["result"]["contents"][0];
    assert_eq!(contents["mimeType"], "application/json");
    let identity: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
    assert_eq!(identity["replica"], "replica-7");
}

#[tokio::test]
async fn fail_gives_tool_errors_and_protocol_errors() {
    let server = start(|_| {}).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    let tool_error = client
        .call_ok("fail", json!({"kind": "tool_error", "message": "boom"}))
        .await;
    assert_eq!(tool_error["isError"], true);
    assert_eq!(text(&tool_error), "boom");

    let reply = client
        .call("fail", json!({"kind": "protocol_error", "code": -32001}))
        .await;
    let error = &reply.response()["error"];
    assert_eq!(error["code"], -32001);
    assert_eq!(error["message"], "requested failure");

    let text = metrics(&server).await;
    assert!(
        text.contains(r#"mcpfleet_tool_calls_total{tool="fail",outcome="tool_error"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"mcpfleet_tool_calls_total{tool="fail",outcome="protocol_error"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn sleep_reports_progress() {
    let server = start(|_| {}).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    let reply = client
        .request(
            "tools/call",
            json!({
                "name": "sleep",
                "arguments": {"duration_ms": 300, "progress_interval_ms": 50},
                "_meta": {"progressToken": "p-1"}
            }),
        )
        .await;
    let progress = reply.notifications("notifications/progress");
    assert!(
        progress.len() >= 3,
        "expected progress events, got {:?}",
        reply.messages
    );
    let values: Vec<f64> = progress
        .iter()
        .map(|n| n["params"]["progress"].as_f64().unwrap())
        .collect();
    assert!(
        values.windows(2).all(|w| w[0] < w[1]),
        "progress must increase: {values:?}"
    );
    assert!(
        progress
            .iter()
            .all(|n| n["params"]["progressToken"] == "p-1")
    );
    assert_eq!(progress[0]["params"]["total"], 300.0);
    let result = &reply.response()["result"]["structuredContent"];
    assert_eq!(result["slept_ms"], 300);
}

#[tokio::test]
async fn cancelled_sleep_stops_early_and_is_counted() {
    let server = start(|_| {}).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    let session = client.session.clone();
    let url = client.url.clone();
    let started = Instant::now();
    let call = tokio::spawn(async move {
        let mut caller = RawClient::for_url(url);
        caller.session = session;
        caller
            .request(
                "tools/call",
                json!({"name": "sleep", "arguments": {"duration_ms": 20000}}),
            )
            .await
    });
    // The call above is request id 1 of its client.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cancel = client
        .send(json!({
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": 1, "reason": "operator pressed cancel"}
        }))
        .await;
    assert!(cancel.status.is_success(), "{}", cancel.status);
    let _ = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("call ends once cancelled");
    assert!(started.elapsed() < Duration::from_secs(5));
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let text = metrics(&server).await;
        if text.contains(r#"mcpfleet_tool_calls_total{tool="sleep",outcome="cancelled"} 1"#) {
            assert!(text.contains("mcpfleet_in_flight_calls 0"), "{text}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "cancellation not counted:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn probes_refuse_targets_off_the_allow_list() {
    let server = start(|_| {}).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    for (tool, arguments) in [
        ("dns_resolve", json!({"host": "localhost"})),
        ("tcp_check", json!({"host": "169.254.169.254", "port": 80})),
        (
            "http_check",
            json!({"url": "http://169.254.169.254/latest/meta-data/"}),
        ),
    ] {
        let result = client.call_ok(tool, arguments).await;
        assert_eq!(result["isError"], true, "{tool}: {result}");
        assert!(
            text(&result).contains("not on the probe allow-list"),
            "{tool}: {result}"
        );
    }
}

#[tokio::test]
async fn probes_reach_allowed_loopback_targets() {
    let server = start(|c| c.probe_allow = "localhost:*,127.0.0.1:*".parse().unwrap()).await;
    let port = server.local_addr.port();
    let mut client = RawClient::new(&server);
    client.initialize().await;

    let dns = client
        .call_ok("dns_resolve", json!({"host": "localhost"}))
        .await;
    let addresses = dns["structuredContent"]["addresses"].as_array().unwrap();
    assert!(
        addresses.iter().any(|a| a == "127.0.0.1" || a == "::1"),
        "{dns}"
    );

    let tcp = client
        .call_ok("tcp_check", json!({"host": "127.0.0.1", "port": port}))
        .await;
    assert_eq!(tcp["structuredContent"]["connected"], true, "{tcp}");

    let url = format!("http://127.0.0.1:{port}/healthz");
    let http = client.call_ok("http_check", json!({"url": url})).await;
    assert_eq!(http["structuredContent"]["status"], 200, "{http}");
    assert_eq!(http["structuredContent"]["body_bytes"], 3, "{http}");

    // A closed port is a result (connected: false), not a tool failure.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let refused = client
        .call_ok("tcp_check", json!({"host": "127.0.0.1", "port": closed}))
        .await;
    assert_eq!(
        refused["structuredContent"]["connected"], false,
        "{refused}"
    );
    assert!(refused["structuredContent"]["error"].is_string());
}

#[tokio::test]
async fn fault_injection_is_seeded_and_visible() {
    let configure = |c: &mut mcpfleet_server::ServerConfig| {
        c.faults = "echo:error=0.5".parse().unwrap();
        c.fault_seed = 42;
    };
    let outcomes = |server| async move {
        let mut client = RawClient::new(server);
        client.initialize().await;
        let mut failed = Vec::new();
        for i in 0..40 {
            let result = client
                .call_ok("echo", json!({"message": format!("m{i}")}))
                .await;
            failed.push(result["isError"] == true);
        }
        failed
    };
    let first = start(configure).await;
    let second = start(configure).await;
    let (a, b) = (outcomes(&first).await, outcomes(&second).await);
    assert_eq!(a, b, "the same seed must fail the same calls");
    let failures = a.iter().filter(|&&f| f).count();
    assert!(
        (8..=32).contains(&failures),
        "{failures} of 40 failed at rate 0.5"
    );

    let mut client = RawClient::new(&first);
    client.initialize().await;
    let who = client.call_ok("whoami", json!({})).await;
    assert_eq!(who["structuredContent"]["fault_plan"], "echo:error=0.5");
    assert_eq!(who["structuredContent"]["fault_seed"], 42);
    let text = metrics(&first).await;
    assert!(
        text.contains(r#"mcpfleet_fault_plan_info{plan="echo:error=0.5",seed="42"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            r#"mcpfleet_faults_injected_total{{tool="echo"}} {failures}"#
        )),
        "{text}"
    );
}

#[tokio::test]
async fn injected_latency_delays_the_call() {
    let server = start(|c| c.faults = "*:latency=200ms".parse().unwrap()).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    let started = Instant::now();
    let result = client.call_ok("echo", json!({"message": "slow"})).await;
    assert_eq!(text(&result), "slow");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn metrics_count_calls_latency_and_sessions() {
    let server = start(|_| {}).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    for _ in 0..3 {
        client.call_ok("echo", json!({"message": "x"})).await;
    }
    let text = metrics(&server).await;
    assert!(
        text.contains(r#"mcpfleet_tool_calls_total{tool="echo",outcome="ok"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"mcpfleet_tool_call_duration_seconds_count{tool="echo"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"mcpfleet_tool_call_duration_seconds_bucket{le="+Inf",tool="echo"} 3"#),
        "{text}"
    );
    assert!(text.contains("mcpfleet_in_flight_calls 0"), "{text}");
    assert!(text.contains("mcpfleet_open_sessions 1"), "{text}");
    assert!(text.contains("mcpfleet_build_info{version="), "{text}");
    assert!(
        text.contains("# TYPE mcpfleet_tool_call_duration_seconds histogram"),
        "{text}"
    );
}
