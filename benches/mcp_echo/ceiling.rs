//! The ceiling: a bare axum handler that answers JSON-RPC on POST /mcp with results
//! shaped like MCP's, without any MCP machinery (no sessions, no SSE, no schema
//! validation). It runs in its own process, started by re-executing the bench binary.

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// Serve on 127.0.0.1:`port` until killed.
pub fn serve(port: u16) -> ! {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result: std::io::Result<()> = rt.block_on(async move {
        let app = Router::new().route("/mcp", post(handle));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        axum::serve(listener, app).await
    });
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("ceiling server on 127.0.0.1:{port}: {e}");
            std::process::exit(1)
        }
    }
}

async fn handle(body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return rpc(Value::Null, Err((-32700, "parse error"))).into_response();
    };
    let Some(id) = req.get("id").cloned() else {
        return StatusCode::ACCEPTED.into_response(); // a notification
    };
    let params = req.get("params").unwrap_or(&Value::Null);
    let outcome = match req.get("method").and_then(Value::as_str) {
        Some("initialize") => Ok(json!({
            "protocolVersion": params.get("protocolVersion").cloned().unwrap_or(json!("2025-11-25")),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "axum-ceiling", "version": "0.0.0"}
        })),
        Some("ping") => Ok(json!({})),
        Some("tools/call") => match params.pointer("/arguments/message").and_then(Value::as_str) {
            Some(text) => {
                Ok(json!({"content": [{"type": "text", "text": text}], "isError": false}))
            }
            None => Err((-32602, "missing arguments.message")),
        },
        _ => Err((-32601, "method not found")),
    };
    rpc(id, outcome).into_response()
}

fn rpc(id: Value, outcome: Result<Value, (i64, &str)>) -> axum::Json<Value> {
    axum::Json(match outcome {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message)) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        }
    })
}
