//! Every kind of bad input gets a clear, specific answer, and the replica keeps serving after it.

mod common;

use common::{RawClient, assert_still_serving, base, start, text};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn wrong_host_is_forbidden() {
    let server = start(|_| {}).await;
    let client = RawClient::new(&server).header("host", "attacker.example:8080");
    let reply = client
        .send(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.text.contains("Host"), "{}", reply.text);
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn configured_host_is_allowed() {
    let server =
        start(|c| c.allowed_hosts = vec!["mcpfleet-server".into(), "127.0.0.1".into()]).await;
    let mut client = RawClient::new(&server).header("host", "mcpfleet-server:8080");
    client.initialize().await;
    let result = client
        .call_ok("echo", json!({"message": "via service connect"}))
        .await;
    assert_eq!(text(&result), "via service connect");
}

#[tokio::test]
async fn wrong_origin_is_forbidden() {
    let server =
        start(|c| c.allowed_origins = vec!["https://console.example.com:443".into()]).await;
    let bad = RawClient::new(&server).header("origin", "https://evil.example.com");
    let reply = bad
        .send(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.text.contains("Origin"), "{}", reply.text);

    let mut good = RawClient::new(&server).header("origin", "https://console.example.com");
    good.initialize().await;
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn default_origins_admit_loopback_pages_only() {
    let server = start(|_| {}).await;
    let rebinding = RawClient::new(&server).header("origin", "http://evil.example.com");
    let reply = rebinding
        .send(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let mut local_page = RawClient::new(&server).header("origin", "http://localhost:6274");
    local_page.initialize().await;
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn empty_origin_list_refuses_every_origin() {
    let server = start(|c| c.allowed_origins = vec![String::new()]).await;
    let browser = RawClient::new(&server).header("origin", "http://localhost:3000");
    let reply = browser
        .send(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn oversized_body_is_413() {
    let server = start(|c| c.max_body_bytes = 4096).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    let big = "x".repeat(64 * 1024);
    let reply = client.call("echo", json!({"message": big})).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text
    );
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn malformed_json_is_a_parse_error() {
    let server = start(|_| {}).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    let response = client
        .post_raw("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ")
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.expect("a JSON-RPC error body");
    assert_eq!(body["error"]["code"], -32700, "{body}");
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn unknown_tool_names_the_tool() {
    let server = start(|_| {}).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;
    let reply = client.call("no_such_tool", json!({})).await;
    let response = reply.response();
    let error = &response["error"];
    assert!(
        error.is_object(),
        "expected a protocol error, got {response}"
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("no_such_tool") && message.contains("echo"),
        "{error}"
    );
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn schema_invalid_arguments_name_the_field() {
    let server = start(|_| {}).await;
    let mut client = RawClient::new(&server);
    client.initialize().await;

    // Invalid arguments are a tool execution error (isError) naming each bad field, so a model
    // or a person can correct the call.
    for (tool, arguments, expected) in [
        (
            "echo",
            json!({"message": 42}),
            "/message: 42 is not of type \"string\"",
        ),
        ("sleep", json!({}), "\"duration_ms\" is a required property"),
        ("fail", json!({"kind": "explode"}), "/kind:"),
        ("sleep", json!({"duration_ms": -5}), "/duration_ms:"),
    ] {
        let result = client.call_ok(tool, arguments).await;
        assert_eq!(result["isError"], true, "{result}");
        let message = text(&result);
        assert!(
            message.starts_with(&format!("invalid arguments for `{tool}`")),
            "{message}"
        );
        assert!(message.contains(expected), "{tool}: {message}");
    }
    assert_still_serving(&server).await;
}

#[tokio::test]
async fn missing_or_wrong_token_is_401_with_a_challenge() {
    let server = start(|c| c.auth_token = Some("correct horse".into())).await;
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Basic Y29ycmVjdCBob3JzZQ=="),
    ] {
        let mut client = RawClient::new(&server);
        if let Some(auth) = auth {
            client = client.header("authorization", auth);
        }
        let reply = client
            .send(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        let challenge = reply.headers["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.starts_with("Bearer resource_metadata=\""),
            "{challenge}"
        );
        assert!(
            challenge.contains("/.well-known/oauth-protected-resource"),
            "{challenge}"
        );
        assert!(!reply.text.contains("correct horse"));
    }
    let metadata: serde_json::Value = reqwest::get(format!(
        "{}/.well-known/oauth-protected-resource",
        base(&server)
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(
        metadata["resource"].as_str().unwrap().ends_with("/mcp"),
        "{metadata}"
    );
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
    // Health and metrics stay open so ECS and scrapers need no token.
    assert_eq!(
        reqwest::get(format!("{}/metrics", base(&server)))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_still_serving(&server).await;
}
