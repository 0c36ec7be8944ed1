//! A server that asks with a form no dialog can show (a property that is an object; MCP forms
//! hold only strings, numbers, booleans and choices) gets an error naming the property, and
//! the call says so: on stderr and in `--json`'s `refused`, kept with the call. The server is a
//! few lines of axum speaking the 2025-11-25 handshake: no real server library lets one build
//! such a form.

use std::{
    net::SocketAddr,
    process::Output,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{StatusCode, header},
    response::Response,
    routing::post,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

#[derive(Clone, Default)]
struct Asker {
    /// Where the client's answer to the question goes, while a call waits for it.
    answer: Arc<Mutex<Option<mpsc::UnboundedSender<Value>>>>,
}

fn sse_event(message: &Value) -> Bytes {
    Bytes::from(format!("data: {message}\n\n"))
}

async fn mcp(State(asker): State<Asker>, body: String) -> Response {
    let message: Value = serde_json::from_str(&body).unwrap_or_default();
    let id = message["id"].clone();
    let json_response = |value: Value| {
        Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .header("mcp-session-id", "s-1")
            .body(Body::from(value.to_string()))
            .unwrap()
    };
    let accepted = || {
        Response::builder()
            .status(StatusCode::ACCEPTED)
            .body(Body::empty())
            .unwrap()
    };
    match message["method"].as_str() {
        Some("initialize") => json_response(json!({
            "jsonrpc": "2.0", "id": id, "result": {
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "asker", "version": "1"}
            }
        })),
        Some("tools/list") => json_response(json!({
            "jsonrpc": "2.0", "id": id, "result": {"tools": [{
                "name": "register", "inputSchema": {"type": "object"}
            }]}
        })),
        Some("tools/call") => {
            let (sender, mut answers) = mpsc::unbounded_channel();
            *asker.answer.lock().unwrap() = Some(sender);
            let question = json!({
                "jsonrpc": "2.0", "id": "q-1", "method": "elicitation/create", "params": {
                    "message": "Where do you live?",
                    "requestedSchema": {"type": "object", "properties": {
                        "address": {"type": "object", "properties": {"street": {"type": "string"}}}
                    }}
                }
            });
            let events = async_stream(id, question, async move { answers.recv().await });
            Response::builder()
                .header(header::CONTENT_TYPE, "text/event-stream")
                .body(Body::from_stream(events))
                .unwrap()
        }
        None if message.get("error").is_some() || message.get("result").is_some() => {
            if let Some(answer) = asker.answer.lock().unwrap().take() {
                let _ = answer.send(message);
            }
            accepted()
        }
        _ if id.is_null() => accepted(),
        _ => json_response(json!({"jsonrpc": "2.0", "id": id, "result": {}})),
    }
}

/// The question, then — once the client answered — the result saying what it answered.
fn async_stream(
    id: Value,
    question: Value,
    answer: impl std::future::Future<Output = Option<Value>> + Send + 'static,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let first = futures_util::stream::once(async move { Ok(sse_event(&question)) });
    let then = futures_util::stream::once(async move {
        let answer = answer.await.unwrap_or_default();
        let said = answer["error"]["message"]
            .as_str()
            .unwrap_or("no error")
            .to_string();
        Ok(sse_event(&json!({
            "jsonrpc": "2.0", "id": id, "result": {
                "content": [{"type": "text", "text": format!("the client said: {said}")}],
                "isError": true
            }
        })))
    });
    futures_util::StreamExt::chain(first, then)
}

async fn asker() -> SocketAddr {
    let app = Router::new()
        .route("/mcp", post(mcp))
        .with_state(Asker::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

async fn call(address: SocketAddr, json: bool) -> Output {
    let url = format!("http://{address}/mcp");
    let mut args = vec![
        "--url",
        &url,
        "--protocol-era",
        "legacy",
        "call",
        "register",
    ];
    if json {
        args.push("--json");
    }
    let command = tokio::process::Command::new(BIN)
        // Calls go to a history file of the tests' own, never the developer's.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
        .args(&args)
        .env("MCPFLEET_CONFIG", "/dev/null")
        .output();
    tokio::time::timeout(Duration::from_secs(60), command)
        .await
        .expect("the call ends by itself")
        .expect("mcpfleet runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_that_cannot_be_shown_is_refused_and_said() {
    let address = asker().await;
    let output = call(address, false).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    let why = "property `address` is of type object; an MCP form holds only strings, numbers, \
               booleans and choices";
    assert!(
        stdout.contains(&format!("the client said: {why}")),
        "the server heard why: {stdout}"
    );
    assert!(
        stderr.contains("the server asked a question that cannot be shown (elicitation/create)")
            && stderr.contains(why),
        "{stderr}"
    );

    let output = call(address, true).await;
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(out["refused"][0].as_str().unwrap().contains(why), "{out}");
}
