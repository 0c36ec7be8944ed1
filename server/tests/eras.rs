//! Protocol eras and modes: 2025-11-25 with sessions, 2025-11-25 stateless (any replica serves
//! any request, as behind Service Connect), and 2026-07-28 (server/discover, no session).

mod common;

use common::{RawClient, start, text};
use mcpfleet_server::Mode;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn session_mode_issues_a_session_and_requires_it() {
    let server = start(|_| {}).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    assert!(
        client.session.is_some(),
        "session mode must issue Mcp-Session-Id"
    );

    let mut stranger = RawClient::new(&server);
    stranger.session = Some("not-a-session".into());
    let reply = stranger.call("echo", json!({"message": "x"})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
}

#[tokio::test]
async fn stateless_replicas_serve_each_others_clients() {
    let a = start(|c| c.mode = Mode::Stateless).await;
    let b = start(|c| c.mode = Mode::Stateless).await;
    let mut client = RawClient::new(&a);
    let init = client.initialize().await;
    assert!(
        client.session.is_none(),
        "stateless mode must not issue a session"
    );
    assert_eq!(init.headers["content-type"], "application/json");

    // The next request lands on another replica, as round-robin would send it.
    client.url = format!("http://{}/mcp", b.local_addr);
    let result = client.call_ok("echo", json!({"message": "hopped"})).await;
    assert_eq!(text(&result), "hopped");
}

fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "mcpfleet-tests", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

async fn modern(client: &RawClient, method: &str, mut params: Value) -> common::Reply {
    params["_meta"] = modern_meta();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut request = client
        .http
        .post(&client.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(name) = params.get("name").and_then(Value::as_str) {
        request = request.header("mcp-name", name);
    }
    let response = request.body(body.to_string()).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers["content-type"].to_str().unwrap_or("").to_string();
    let text = response.text().await.unwrap();
    let messages = if status.is_success() {
        common::messages(&content_type, &text)
    } else {
        Vec::new()
    };
    common::Reply {
        status,
        headers,
        messages,
        text,
    }
}

#[tokio::test]
async fn modern_era_discovers_and_calls_without_a_session() {
    for mode in [Mode::Session, Mode::Stateless] {
        let server = start(|c| c.mode = mode).await;
        let client = RawClient::new(&server);

        let discover = modern(&client, "server/discover", json!({})).await;
        assert_eq!(
            discover.status,
            StatusCode::OK,
            "{mode:?}: {}",
            discover.text
        );
        assert!(discover.headers.get("mcp-session-id").is_none());
        let result = &discover.response()["result"];
        let versions = result["supportedVersions"].to_string();
        assert!(
            versions.contains("2026-07-28") && versions.contains("2025-11-25"),
            "{result}"
        );
        assert!(result["capabilities"]["tools"].is_object(), "{result}");

        let call = modern(
            &client,
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "new era"}}),
        )
        .await;
        assert_eq!(call.status, StatusCode::OK, "{mode:?}: {}", call.text);
        assert_eq!(text(&call.response()["result"]), "new era");
    }
}
