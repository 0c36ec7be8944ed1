//! The protocol record of a call is what crossed the wire: a recording proxy on loopback
//! between the `mcpfleet` binary and a replica sees each HTTP request and response, and every
//! JSON-RPC body the call's record holds (`call --json`'s `wire`, the same record the
//! console's protocol pane draws) matches the proxy's bytes exactly — request bodies, JSON
//! response bodies and each SSE event's data — with the same statuses and MCP headers.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    response::Response,
};
use futures_util::StreamExt;
use mcpfleet_server::{Mode, ServerConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

/// One HTTP exchange as the proxy saw it.
#[derive(Debug, Clone, Default)]
struct Seen {
    method: String,
    request_headers: Vec<(String, String)>,
    request_body: Vec<u8>,
    status: u16,
    content_type: String,
    response_body: Vec<u8>,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let mut seen = Seen {
        method: parts.method.to_string(),
        request_headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        request_body: body.to_vec(),
        ..Seen::default()
    };
    let mut upstream = proxy
        .http
        .request(parts.method, format!("{}{}", proxy.upstream, parts.uri))
        .body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.send().await.expect("the replica answers");
    seen.status = answer.status().as_u16();
    seen.content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            response = response.header(name, value);
        }
    }
    let index = {
        let mut all = proxy.seen.lock().unwrap();
        all.push(seen);
        all.len() - 1
    };
    // The body passes through chunk by chunk (an SSE stream stays open), recorded as it goes.
    let record = proxy.seen.clone();
    let chunks = answer.bytes_stream().map(move |chunk| {
        let chunk: Bytes = chunk?;
        record.lock().unwrap()[index]
            .response_body
            .extend_from_slice(&chunk);
        Ok::<_, reqwest::Error>(chunk)
    });
    response.body(Body::from_stream(chunks)).unwrap()
}

async fn start_proxy(upstream: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let proxy = Proxy {
        upstream: format!("http://{upstream}"),
        http: reqwest::Client::new(),
        seen: Arc::default(),
    };
    let seen = proxy.seen.clone();
    let app = Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, seen)
}

/// The data of each event of an SSE body, as the bytes carried them.
fn sse_data(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
    text.split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .filter(|data| !data.is_empty())
        .collect()
}

async fn call_json(url: &str, args: &[&str]) -> Value {
    let output = tokio::process::Command::new(BIN)
        // Calls go to a history file of the tests' own, never the developer's.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
        .args(["--url", url, "call"])
        .args(args)
        .arg("--json")
        .env("MCPFLEET_CONFIG", "/dev/null")
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("the call ends by itself")
        .expect("mcpfleet runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("--json prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_record_of_a_call_is_what_a_proxy_saw_byte_for_byte() {
    for mode in [Mode::Session, Mode::Stateless] {
        let mut config = ServerConfig::loopback();
        config.mode = mode;
        let server = mcpfleet_server::start(config).await.unwrap();
        let (proxy, seen) = start_proxy(server.local_addr).await;
        let url = format!("http://{proxy}/mcp");

        let called = call_json(
            &url,
            &["sleep", "duration_ms=300", "progress_interval_ms=50"],
        )
        .await;
        assert_eq!(called["outcome"], "ok", "{mode:?}: {called}");
        let rounds = called["wire"].as_array().expect("the record of the call");
        assert_eq!(rounds.len(), 1, "{mode:?}: one request, one round");
        let http = rounds[0]["http"].as_array().unwrap();
        let seen = seen.lock().unwrap().clone();

        let mut progress = 0;
        for recorded in http {
            let sent = recorded["request_body"]["text"].as_str().unwrap();
            let proxied = seen
                .iter()
                .find(|s| s.request_body == sent.as_bytes())
                .unwrap_or_else(|| panic!("{mode:?}: the proxy never saw {sent}"));
            assert_eq!(recorded["method"], proxied.method.as_str());
            assert_eq!(recorded["status"], proxied.status, "{mode:?}");
            // The MCP headers as they went out (no credential is involved here).
            for (name, value) in &proxied.request_headers {
                if name.starts_with("mcp-") {
                    let header = recorded["request_headers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|h| h[0] == name.as_str());
                    assert_eq!(header.map(|h| &h[1]), Some(&Value::from(value.as_str())));
                }
            }
            if proxied.content_type.starts_with("text/event-stream") {
                let events: Vec<&str> = recorded["events"]
                    .as_array()
                    .map(|events| {
                        events
                            .iter()
                            .filter_map(|e| e["data"]["text"].as_str())
                            .filter(|d| !d.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                assert_eq!(events, sse_data(&proxied.response_body), "{mode:?}");
                progress += events
                    .iter()
                    .filter(|e| e.contains("notifications/progress"))
                    .count();
            } else if !proxied.response_body.is_empty() {
                let body = recorded["response_body"]["text"].as_str().unwrap();
                assert_eq!(
                    body.as_bytes(),
                    proxied.response_body.as_slice(),
                    "{mode:?}"
                );
            }
        }
        let call = seen
            .iter()
            .find(|s| String::from_utf8_lossy(&s.request_body).contains("tools/call"))
            .expect("the proxy saw the call");
        assert!(
            http.iter().any(|h| h["request_body"]["text"]
                .as_str()
                .is_some_and(|t| t.as_bytes() == call.request_body)),
            "{mode:?}: the call's own POST is in its record"
        );
        if mode == Mode::Session {
            assert!(progress >= 2, "progress notifications are in the record");
        }
    }
}
