//! The console's MCP client against real `mcpfleet-server` replicas started in-process on
//! loopback, routed through hand-built fleet snapshots.

mod mcp_support;

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use mcp_support::*;
use mcpfleet::mcp::{CallRequest, Era, McpError, OutcomeKind, Pool, PoolConfig};
use mcpfleet_server::{Mode, Profile, RunningServer};
use serde_json::{Value, json};

#[tokio::test]
async fn probe_reports_identity_protocol_tools_and_a_stable_hash() {
    let a = start(Mode::Session, "a", |_| {}).await;
    let b = start(Mode::Stateless, "b", |_| {}).await;
    let conformance = start(Mode::Session, "c", |c| c.profile = Profile::Conformance).await;
    let pool = Pool::default();
    let endpoint = |s: &RunningServer| task("x", s.local_addr).endpoint.unwrap();

    let first = pool.probe(&endpoint(&a)).await.unwrap();
    assert_eq!(first.server_name.as_deref(), Some("mcpfleet-server"));
    assert_eq!(
        first.server_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        first.protocol_version, "2026-07-28",
        "auto lifecycle prefers discover"
    );
    let names: Vec<&str> = first.tools.iter().map(|t| t.name.as_str()).collect();
    for tool in ["echo", "fail", "sleep", "whoami"] {
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
    }
    assert!(
        first.handshake.is_some(),
        "the first probe opens the client"
    );
    assert_eq!(first.resources, Some(1));

    let again = pool.probe(&endpoint(&a)).await.unwrap();
    assert!(again.handshake.is_none(), "the client is reused");
    let replica = pool.probe(&endpoint(&b)).await.unwrap();
    let other = pool.probe(&endpoint(&conformance)).await.unwrap();
    let print = |probe: &mcpfleet::mcp::Probe| probe.surface.fingerprint.clone();
    assert_eq!(print(&first), print(&again));
    assert_eq!(
        print(&first),
        print(&replica),
        "replicas of one revision fingerprint alike"
    );
    assert_ne!(
        print(&first).tools,
        print(&other).tools,
        "another tool list hashes differently"
    );

    let legacy = Pool::new(PoolConfig {
        era: Era::Initialize,
        ..PoolConfig::default()
    });
    let old = legacy.probe(&endpoint(&a)).await.unwrap();
    assert_eq!(old.protocol_version, "2025-11-25");
    assert_eq!(
        print(&old).tools,
        print(&first).tools,
        "the tools do not depend on the era"
    );
    assert_ne!(
        (print(&old).protocol, print(&old).hash),
        (print(&first).protocol, print(&first).hash),
        "the protocol version is part of the surface"
    );
    eprintln!(
        "probe on loopback: handshake {:?}, tools/list {:?} (cold), {:?} (warm)",
        first.handshake.unwrap(),
        first.latency,
        again.latency
    );
}

#[tokio::test]
async fn a_call_is_served_and_names_its_task() {
    for mode in [Mode::Session, Mode::Stateless] {
        let server = start(mode, "only", |_| {}).await;
        let pool = Pool::default();
        let fleet = fleet(&[&server]);
        let request = CallRequest::new(SERVICE, "echo", json!({"message": "hello fleet"}));
        let outcome = pool.call(&fleet, &request).await;
        assert_eq!(ok_text(&outcome), "hello fleet");
        let served = outcome.served_by.clone().expect("served_by");
        assert_eq!(served.task_id.as_deref(), Some("only"));
        assert_eq!(served.revision, Some(7));
        assert_eq!(served.address, server.local_addr.to_string());
        assert!(outcome.retries.is_empty());
        let messages = outcome.exchange.messages();
        let sent = messages
            .iter()
            .find(|m| m["method"] == "tools/call")
            .unwrap();
        let answer = messages.iter().find(|m| m.get("result").is_some()).unwrap();
        assert_eq!(sent["method"], "tools/call");
        assert_eq!(
            sent["params"]["arguments"],
            json!({"message": "hello fleet"})
        );
        assert_eq!(sent["id"], answer["id"]);
        assert_eq!(answer["result"]["content"][0]["text"], "hello fleet");

        let mut timings = Vec::new();
        for _ in 0..200 {
            let outcome = pool.call(&fleet, &request).await;
            assert_eq!(outcome.kind(), OutcomeKind::Ok);
            timings.push(outcome.duration);
        }
        timings.sort();
        eprintln!(
            "echo call on loopback ({mode:?}): p50 {:?}, p99 {:?}",
            timings[100], timings[198]
        );
    }
}

#[tokio::test]
async fn tool_errors_and_protocol_errors_are_reported_not_retried() {
    let a = start(Mode::Session, "a", |_| {}).await;
    let b = start(Mode::Session, "b", |_| {}).await;
    let pool = Pool::default();
    let fleet = fleet(&[&a, &b]);
    let tool_error = json!({"kind": "tool_error", "message": "nope"});
    let outcome = pool
        .call(&fleet, &CallRequest::new(SERVICE, "fail", tool_error))
        .await;
    assert_eq!(outcome.kind(), OutcomeKind::ToolError);
    assert_eq!(outcome.summary(), "tool error: nope");

    let protocol = json!({"kind": "protocol_error", "message": "broken", "code": -32001});
    let outcome = pool
        .call(&fleet, &CallRequest::new(SERVICE, "fail", protocol))
        .await;
    match &outcome.result {
        Err(McpError::Protocol(message)) => assert_eq!(message, "broken (code -32001)"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
    assert!(
        outcome.retries.is_empty(),
        "a call that ran is never sent again"
    );
    let messages = outcome.exchange.messages();
    let answer = messages.iter().find(|m| m.get("error").is_some()).unwrap();
    assert_eq!(answer["error"]["code"], -32001);
    let calls = tool_calls(&a, "fail").await.values().sum::<u64>()
        + tool_calls(&b, "fail").await.values().sum::<u64>();
    assert_eq!(calls, 2);
}

#[tokio::test]
async fn round_robin_spreads_calls_and_skips_a_draining_task() {
    let servers = [
        start(Mode::Stateless, "t1", |_| {}).await,
        start(Mode::Stateless, "t2", |_| {}).await,
        start(Mode::Stateless, "t3", |_| {}).await,
    ];
    let mut fleet = fleet(&servers.iter().collect::<Vec<_>>());
    mark_draining(&mut fleet, "t2");
    let pool = Pool::default();
    let mut served: HashMap<String, usize> = HashMap::new();
    for _ in 0..30 {
        let outcome = pool
            .call(&fleet, &CallRequest::new(SERVICE, "whoami", Value::Null))
            .await;
        let result = outcome.result.as_ref().expect("whoami works");
        let by = outcome.served_by.as_ref().unwrap().task_id.clone().unwrap();
        assert_eq!(
            result.structured_content.as_ref().unwrap()["task_id"],
            by.as_str(),
            "served_by is true"
        );
        *served.entry(by).or_default() += 1;
    }
    assert_eq!(served.get("t1"), Some(&15));
    assert_eq!(served.get("t3"), Some(&15));
    assert_eq!(served.get("t2"), None);
    assert!(
        tool_calls(&servers[1], "whoami").await.is_empty(),
        "the draining task saw nothing"
    );
}

#[tokio::test]
async fn invalid_arguments_are_refused_before_sending() {
    let server = start(Mode::Session, "v", |_| {}).await;
    let pool = Pool::default();
    let fleet = fleet(&[&server]);
    let outcome = pool
        .call(
            &fleet,
            &CallRequest::new(SERVICE, "echo", json!({"message": 42})),
        )
        .await;
    assert_eq!(
        invalid(outcome),
        vec!["/message: 42 is not of type \"string\""]
    );
    let outcome = pool
        .call(
            &fleet,
            &CallRequest::new(SERVICE, "sleep", json!({"progress_interval_ms": 5})),
        )
        .await;
    assert_eq!(
        invalid(outcome),
        vec!["\"duration_ms\" is a required property"]
    );
    let outcome = pool
        .call(&fleet, &CallRequest::new(SERVICE, "ech", json!({})))
        .await;
    match outcome.result {
        Err(McpError::UnknownTool { tool, available }) => {
            assert_eq!(tool, "ech");
            assert!(available.contains(&"echo".to_string()));
        }
        other => panic!("expected unknown tool, got {other:?}"),
    }
    for tool in ["echo", "sleep", "ech"] {
        assert!(
            tool_calls(&server, tool).await.is_empty(),
            "the server saw a {tool} call"
        );
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_fast_with_a_one_line_reason() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let pool = Pool::default();
    let started = Instant::now();
    let outcome = pool
        .call(
            &fleet_of(vec![task("gone", closed)]),
            &CallRequest::new(SERVICE, "echo", json!({"message": "x"})),
        )
        .await;
    let message = outcome.result.unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        message,
        format!("cannot reach http://{closed}/mcp: connection refused")
    );

    // Accepts TCP but never answers: the handshake bound ends the wait.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let quick = Pool::new(PoolConfig {
        handshake_timeout: Duration::from_secs(1),
        ..PoolConfig::default()
    });
    let started = Instant::now();
    let error = quick
        .probe(&task("mute", silent_addr).endpoint.unwrap())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        error.to_string(),
        format!("cannot reach http://{silent_addr}/mcp: no answer to the MCP handshake within 1s")
    );
    // A call's own timeout also bounds connecting.
    let fleet = fleet_of(vec![task("mute", silent_addr)]);
    let echo = CallRequest::new(SERVICE, "echo", json!({"message": "x"}));
    let outcome = Pool::default()
        .call(&fleet, &echo.with_timeout(Some(Duration::from_millis(300))))
        .await;
    assert_eq!(
        outcome.result.unwrap_err(),
        McpError::TimedOut(Duration::from_millis(300))
    );
    assert!(
        outcome.duration < Duration::from_secs(1),
        "{:?}",
        outcome.duration
    );
    holder.abort();
}

#[tokio::test]
async fn the_timeout_resets_on_progress() {
    let server = start(Mode::Session, "t", |_| {}).await;
    let pool = Pool::default();
    let fleet = fleet(&[&server]);
    let timeout = Some(Duration::from_millis(500));
    let with_progress = CallRequest::new(
        SERVICE,
        "sleep",
        json!({"duration_ms": 1500, "progress_interval_ms": 100}),
    )
    .with_timeout(timeout);
    let outcome = pool.call(&fleet, &with_progress).await;
    assert_eq!(outcome.kind(), OutcomeKind::Ok, "{:?}", outcome.result);

    // Progress only every second: the 500 ms idle timeout fires first.
    let without =
        CallRequest::new(SERVICE, "sleep", json!({"duration_ms": 1500})).with_timeout(timeout);
    let outcome = pool.call(&fleet, &without).await;
    assert_eq!(
        outcome.result.unwrap_err(),
        McpError::TimedOut(Duration::from_millis(500))
    );
    assert!(
        outcome.duration < Duration::from_millis(1200),
        "{:?}",
        outcome.duration
    );
    assert_eq!(
        wait_for_cancelled(&server, "sleep").await,
        1,
        "a timed-out call is cancelled on the server"
    );
}
