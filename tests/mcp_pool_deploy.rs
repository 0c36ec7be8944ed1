//! The console's MCP client through the life of a fleet: draining replicas and rolling
//! deploys (retries that never repeat a call), restarted servers (session expiry), bearer
//! auth, fan-out, and clients dropped when their endpoint leaves the fleet.

mod mcp_support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Router, http::StatusCode, response::IntoResponse};
use mcp_support::*;
use mcpfleet::{
    fleet::{EndpointAuth, FleetSnapshot},
    mcp::{CallRequest, Era, McpError, OutcomeKind, Pool, PoolConfig},
};
use mcpfleet_server::Mode;
use serde_json::{Value, json};
use tokio::sync::watch;

/// A replica that is shutting down: every request gets 503 with Retry-After.
async fn draining_stub() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let refuse = || async {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "2")],
            "draining\n",
        )
            .into_response()
    };
    let app = Router::new().fallback(refuse);
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

#[tokio::test]
async fn a_503_is_retried_on_another_ready_task_but_never_for_a_chosen_task() {
    let stub = draining_stub().await;
    let real = start(Mode::Stateless, "b-real", |_| {}).await;
    // Ids sort the stub first, so round-robin starts on it.
    let fleet = fleet_of(vec![task("a-stub", stub), task("b-real", real.local_addr)]);
    let pool = Pool::default();
    let mut retries = Vec::new();
    for _ in 0..4 {
        let outcome = pool
            .call(
                &fleet,
                &CallRequest::new(SERVICE, "echo", json!({"message": "m"})),
            )
            .await;
        assert_eq!(ok_text(&outcome), "m");
        assert_eq!(
            outcome.served_by.as_ref().unwrap().task_id.as_deref(),
            Some("b-real")
        );
        retries.extend(outcome.retries);
    }
    assert_eq!(
        retries.len(),
        2,
        "every other call started on the stub: {retries:?}"
    );
    assert_eq!(retries[0].task_id, "a-stub");
    let reason =
        format!("http://{stub}/mcp refused the request: HTTP 503, draining, retry after 2s");
    assert_eq!(retries[0].reason, reason);
    assert_eq!(
        tool_calls(&real, "echo").await.get("ok"),
        Some(&4),
        "each call ran exactly once"
    );

    let chosen = pool
        .call(
            &fleet,
            &CallRequest::new(SERVICE, "echo", json!({"message": "m"})).on_task("a-stub"),
        )
        .await;
    assert!(
        matches!(chosen.result, Err(McpError::Refused { .. })),
        "{:?}",
        chosen.result
    );
    assert!(chosen.retries.is_empty());
}

#[tokio::test]
async fn a_replica_draining_with_a_call_in_flight_hands_new_calls_over() {
    let a = start(Mode::Session, "a", |_| {}).await;
    let b = start(Mode::Session, "b", |_| {}).await;
    let fleet = fleet(&[&a, &b]);
    let pool = Pool::default();
    // Warm both clients, then keep `a` busy so its drain lasts.
    for _ in 0..2 {
        assert_eq!(
            pool.call(&fleet, &CallRequest::new(SERVICE, "whoami", Value::Null))
                .await
                .kind(),
            OutcomeKind::Ok
        );
    }
    let (slow_pool, slow_fleet) = (pool.clone(), fleet.clone());
    let slow = tokio::spawn(async move {
        let request = CallRequest::new(SERVICE, "sleep", json!({"duration_ms": 1500})).on_task("a");
        slow_pool.call(&slow_fleet, &request).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let drained = tokio::spawn(a.drain());
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The snapshot still says `a` is ready, as a stale one would during a rollout.
    let mut retried = 0;
    for _ in 0..6 {
        let outcome = pool
            .call(&fleet, &CallRequest::new(SERVICE, "whoami", Value::Null))
            .await;
        assert_eq!(outcome.kind(), OutcomeKind::Ok, "{:?}", outcome.result);
        assert_eq!(
            outcome.served_by.as_ref().unwrap().task_id.as_deref(),
            Some("b")
        );
        retried += outcome.retries.len();
    }
    assert!(
        retried >= 2,
        "calls routed to the draining replica moved on ({retried} retries)"
    );
    assert_eq!(
        slow.await.unwrap().kind(),
        OutcomeKind::Ok,
        "the in-flight call finished during the drain"
    );
    drained.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_restarted_server_gets_a_new_session_transparently() {
    let first = start(Mode::Session, "r", |c| c.drain_deadline_secs = 1).await;
    let address = first.local_addr;
    let fleet = fleet(&[&first]);
    let pool = Pool::new(PoolConfig {
        era: Era::Initialize,
        ..PoolConfig::default()
    });
    let echo = CallRequest::new(SERVICE, "echo", json!({"message": "before"}));
    assert_eq!(ok_text(&pool.call(&fleet, &echo).await), "before");
    first.drain().await.unwrap();

    // Same port, new process state: the old Mcp-Session-Id is unknown there (404).
    let second = start(Mode::Session, "r", |c| c.bind = address).await;
    let echo = CallRequest::new(SERVICE, "echo", json!({"message": "after"}));
    let outcome = pool.call(&fleet, &echo).await;
    assert_eq!(ok_text(&outcome), "after");
    assert_eq!(tool_calls(&second, "echo").await.get("ok"), Some(&1));
}

#[tokio::test]
async fn the_bearer_token_is_sent_and_never_printed() {
    const TOKEN: &str = "tok-3f9a-very-secret";
    let server = start(Mode::Session, "auth", |c| c.auth_token = Some(TOKEN.into())).await;
    let fleet = fleet(&[&server]);
    let pool = Pool::default();
    let echo = CallRequest::new(SERVICE, "echo", json!({"message": "let me in"}));
    let refused = pool.call(&fleet, &echo).await;
    let message = refused.result.unwrap_err().to_string();
    assert!(message.contains("HTTP 401"), "{message}");

    // Credentials travel with the endpoint: a snapshot whose endpoint carries them is enough,
    // and the client made without them is replaced.
    let auth = EndpointAuth::bearer(TOKEN).with_header("x-team", "ops");
    let with_auth = |auth: &EndpointAuth| {
        let mut fleet = fleet.clone();
        for task in &mut fleet.services[0].tasks {
            let endpoint = task.endpoint.take().unwrap();
            task.endpoint = Some(endpoint.with_auth(auth.clone()));
        }
        fleet
    };
    let outcome = pool.call(&with_auth(&auth), &echo).await;
    assert_eq!(ok_text(&outcome), "let me in");
    let printed = format!(
        "{auth:?} {pool:?} {outcome:?} {:?} {}",
        outcome.exchange,
        serde_json::to_string(&with_auth(&auth)).unwrap()
    );
    assert!(!printed.contains(TOKEN), "the token leaked: {printed}");

    let wrong = pool
        .call(&with_auth(&EndpointAuth::bearer("wrong")), &echo)
        .await
        .result
        .unwrap_err()
        .to_string();
    assert!(
        wrong.contains("HTTP 401") && !wrong.contains("wrong"),
        "{wrong}"
    );
}

#[tokio::test]
async fn fan_out_calls_every_ready_task_once() {
    let servers = [
        start(Mode::Stateless, "f1", |_| {}).await,
        start(Mode::Session, "f2", |_| {}).await,
        start(Mode::Stateless, "f3", |_| {}).await,
    ];
    let mut fleet = fleet(&servers.iter().collect::<Vec<_>>());
    fleet.services[0].tasks.push(task(
        "f4-gone",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap(),
    ));
    let pool = Pool::default();
    let outcomes = pool
        .fan_out(&fleet, &CallRequest::new(SERVICE, "whoami", Value::Null))
        .await
        .unwrap();
    let ids: Vec<&str> = outcomes.iter().map(|o| o.task_id.as_str()).collect();
    assert_eq!(ids, vec!["f1", "f2", "f3", "f4-gone"]);
    for each in &outcomes[..3] {
        let result = each.outcome.result.as_ref().unwrap();
        assert_eq!(
            result.structured_content.as_ref().unwrap()["task_id"],
            each.task_id.as_str()
        );
    }
    assert!(matches!(
        outcomes[3].outcome.result,
        Err(McpError::Unreachable { .. })
    ));
    assert!(
        outcomes[3].outcome.retries.is_empty(),
        "fan-out never moves a call"
    );
}

#[tokio::test]
async fn clients_of_departed_endpoints_are_dropped() {
    let a = start(Mode::Stateless, "a", |_| {}).await;
    let b = start(Mode::Stateless, "b", |_| {}).await;
    let both = fleet(&[&a, &b]);
    let pool = Pool::default();
    pool.fan_out(&both, &CallRequest::new(SERVICE, "whoami", Value::Null))
        .await
        .unwrap();
    assert_eq!(pool.clients().len(), 2);
    pool.prune(&fleet(&[&b]));
    assert_eq!(pool.clients(), vec![format!("http://{}/mcp", b.local_addr)]);
}

/// A client loop during a rolling deploy: one of three replicas is marked draining in the
/// snapshot, then drained, while calls keep coming. None may fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_keep_succeeding_while_a_replica_drains() {
    let servers = vec![
        start(Mode::Stateless, "d1", |_| {}).await,
        start(Mode::Stateless, "d2", |_| {}).await,
        start(Mode::Stateless, "d3", |_| {}).await,
    ];
    let initial: FleetSnapshot = fleet(&servers.iter().collect::<Vec<_>>());
    let (publish, snapshots) = watch::channel(Arc::new(initial.clone()));
    let pool = Pool::default();
    let (calls, failures, retries) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let run_for = Duration::from_secs(3);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..4 {
        let (pool, snapshots) = (pool.clone(), snapshots.clone());
        let (calls, failures, retries) = (calls.clone(), failures.clone(), retries.clone());
        workers.push(tokio::spawn(async move {
            while started.elapsed() < run_for {
                let fleet = snapshots.borrow().clone();
                let message = format!("w{worker}");
                let outcome = pool
                    .call(
                        &fleet,
                        &CallRequest::new(SERVICE, "echo", json!({"message": message})),
                    )
                    .await;
                calls.fetch_add(1, Ordering::Relaxed);
                retries.fetch_add(outcome.retries.len() as u64, Ordering::Relaxed);
                if outcome.result.as_ref().map(|r| r.text()) != Ok(message) {
                    failures.fetch_add(1, Ordering::Relaxed);
                    eprintln!("failed call: {:?}", outcome.result);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let mut servers = servers;
    let leaving = servers.remove(1);
    let before = tool_calls(&leaving, "echo")
        .await
        .get("ok")
        .copied()
        .unwrap_or(0);
    assert!(
        before > 0,
        "the leaving replica took its share before the drain"
    );
    let mut next = initial;
    mark_draining(&mut next, "d2");
    publish.send(Arc::new(next)).unwrap();
    let drained = tokio::spawn(leaving.drain());
    for worker in workers {
        worker.await.unwrap();
    }
    drained.await.unwrap().unwrap();
    let (calls, failures) = (
        calls.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
    );
    let rate = calls as f64 / started.elapsed().as_secs_f64();
    eprintln!(
        "rolling drain: {calls} calls, {rate:.0}/s, {failures} failures, {} retries",
        retries.load(Ordering::Relaxed)
    );
    assert_eq!(failures, 0);
    assert!(rate >= 100.0, "only {rate:.0} calls/s");
}
