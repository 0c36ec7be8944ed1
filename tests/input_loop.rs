//! A server that answers every round of a call with `input_required` again never gets a
//! result out of the client: after `MAX_INPUT_ROUNDS` (8) requests the call ends with a
//! protocol error saying so (exit 3), the server having seen 8 `tools/call`. The server is a
//! few lines of axum, since no real server should do this.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::State,
    http::{StatusCode, header},
    response::Response,
    routing::post,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

async fn mcp(State(calls): State<Arc<AtomicUsize>>, body: String) -> Response {
    let message: Value = serde_json::from_str(&body).unwrap_or_default();
    let id = message["id"].clone();
    let result = |result: Value| {
        Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(),
            ))
            .unwrap()
    };
    match message["method"].as_str() {
        Some("initialize") => result(json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "asker-forever", "version": "1"}
        })),
        Some("tools/list") => result(json!({"tools": [
            {"name": "forever", "inputSchema": {"type": "object"}}
        ]})),
        Some("tools/call") => {
            let round = calls.fetch_add(1, Ordering::SeqCst);
            result(json!({
                "resultType": "input_required",
                "inputRequests": {"roots": {"method": "roots/list"}},
                "requestState": format!("round-{round}")
            }))
        }
        _ if id.is_null() => Response::builder()
            .status(StatusCode::ACCEPTED)
            .body(Body::empty())
            .unwrap(),
        _ => result(json!({})),
    }
}

async fn server(calls: Arc<AtomicUsize>) -> SocketAddr {
    let app = Router::new().route("/mcp", post(mcp)).with_state(calls);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_keeps_asking_gets_no_more_than_the_round_limit() {
    let calls = Arc::new(AtomicUsize::new(0));
    let url = format!("http://{}/mcp", server(calls.clone()).await);
    let command = tokio::process::Command::new(BIN)
        // Calls go to a history file of the tests' own, never the developer's.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
        .args([
            "--url",
            &url,
            "--protocol-era",
            "legacy",
            "call",
            "forever",
            "--json",
        ])
        .env("MCPFLEET_CONFIG", "/dev/null")
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), command)
        .await
        .expect("the call ends by itself")
        .expect("mcpfleet runs");
    assert_eq!(output.status.code(), Some(3));
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        out["error"],
        "protocol error: the server asked for input 8 times without a result; gave up",
        "{out}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 8);
    assert_eq!(
        out["wire"].as_array().map(Vec::len),
        Some(8),
        "every round is in the record of the call"
    );
}
