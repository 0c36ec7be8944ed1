//! A resource gigabytes long is read with a bound: a server that answers `resources/read`
//! with an endless body (as JSON, or as one endless SSE event) gets a clear error and exit 3,
//! after the client has read no more than its limit. The server here is a few lines of axum
//! speaking just enough MCP (2025-11-25 handshake, then the endless answer), since no real
//! server should ever do this.

use std::{net::SocketAddr, process::Output, time::Duration};

use axum::{
    Router,
    body::{Body, Bytes},
    http::{StatusCode, header},
    response::Response,
    routing::post,
};
use futures_util::stream;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const CHUNK: usize = 1 << 20;

/// A body that starts a JSON-RPC result and never ends its text.
fn endless(prefix: String) -> Body {
    let head = stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(prefix)) });
    let tail = stream::repeat_with(|| Ok(Bytes::from(vec![b'a'; CHUNK])));
    Body::from_stream(futures_util::StreamExt::chain(head, tail))
}

async fn mcp(sse: bool, body: String) -> Response {
    let message: Value = serde_json::from_str(&body).unwrap_or_default();
    let id = message["id"].clone();
    let json_response = |value: Value| {
        Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(value.to_string()))
            .unwrap()
    };
    match message["method"].as_str() {
        Some("initialize") => json_response(json!({
            "jsonrpc": "2.0", "id": id, "result": {
                "protocolVersion": "2025-11-25",
                "capabilities": {"resources": {}},
                "serverInfo": {"name": "hoarder", "version": "1"}
            }
        })),
        Some("resources/read") => {
            let start = format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"contents":[{{"uri":"big://file","text":""#
            );
            if sse {
                Response::builder()
                    .header(header::CONTENT_TYPE, "text/event-stream")
                    .body(endless(format!("data: {start}")))
                    .unwrap()
            } else {
                Response::builder()
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(endless(start))
                    .unwrap()
            }
        }
        Some(_) if id.is_null() => Response::builder()
            .status(StatusCode::ACCEPTED)
            .body(Body::empty())
            .unwrap(),
        _ => json_response(json!({"jsonrpc": "2.0", "id": id, "result": {}})),
    }
}

async fn hoarder(sse: bool) -> SocketAddr {
    let app = Router::new().route("/mcp", post(move |body: String| mcp(sse, body)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

async fn read(address: SocketAddr) -> Output {
    let url = format!("http://{address}/mcp");
    let command = tokio::process::Command::new(BIN)
        .args([
            "--url",
            &url,
            "--protocol-era",
            "legacy",
            "read",
            "big://file",
        ])
        .env("MCPFLEET_CONFIG", "/dev/null")
        .output();
    tokio::time::timeout(Duration::from_secs(60), command)
        .await
        .expect("the read ends by itself")
        .expect("mcpfleet runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_resource_is_refused_after_a_bounded_read() {
    for sse in [false, true] {
        let output = read(hoarder(sse).await).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "sse {sse}: {stderr}");
        assert!(
            stderr.contains("larger than 16 MiB"),
            "sse {sse}: the limit is named: {stderr}"
        );
    }
}
