//! Request-body checks in front of the MCP transport, so a bad body gets a JSON-RPC answer a
//! client can show: over the limit → 413, not JSON → 400 with a -32700 parse error.

use axum::{
    Json,
    body::{Body, to_bytes},
    extract::Request,
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

fn jsonrpc_error(status: StatusCode, code: i32, message: String) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    (status, Json(body)).into_response()
}

/// Buffers POST bodies up to `limit` bytes and checks that they are JSON before the transport
/// sees them; `Err` is the answer for a body that fails.
pub async fn buffer_json(request: Request, limit: usize) -> Result<Request, Response> {
    if request.method() != Method::POST {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Err(jsonrpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                -32600,
                format!("request body exceeds the limit of {limit} bytes"),
            ));
        }
    };
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        return Err(jsonrpc_error(
            StatusCode::BAD_REQUEST,
            -32700,
            format!("parse error: {error}"),
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
