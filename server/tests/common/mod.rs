//! Test support: start a replica in-process on a loopback port, and a raw JSON-RPC client that
//! shows exactly what goes over the wire (status codes, headers, SSE events).

#![allow(dead_code)]

use std::time::Duration;

use mcpfleet_server::{RunningServer, ServerConfig};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub const PROTOCOL: &str = "2025-11-25";

pub async fn start(configure: impl FnOnce(&mut ServerConfig)) -> RunningServer {
    let mut config = ServerConfig::loopback();
    configure(&mut config);
    mcpfleet_server::start(config).await.expect("server starts")
}

pub fn base(server: &RunningServer) -> String {
    format!("http://{}", server.local_addr)
}

/// Parses a JSON-RPC body that is either plain JSON or an SSE stream; returns every message.
pub fn messages(content_type: &str, body: &str) -> Vec<Value> {
    if content_type.starts_with("text/event-stream") {
        body.lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .map(str::trim)
            .filter(|data| !data.is_empty())
            .map(|data| serde_json::from_str(data).expect("SSE data is JSON"))
            .collect()
    } else {
        vec![serde_json::from_str(body).expect("body is JSON")]
    }
}

pub struct RawClient {
    pub http: reqwest::Client,
    pub url: String,
    pub session: Option<String>,
    pub headers: Vec<(String, String)>,
    next_id: u64,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub messages: Vec<Value>,
    pub text: String,
}

impl Reply {
    /// The JSON-RPC response (the message with an id and a result or error).
    pub fn response(&self) -> &Value {
        self.messages
            .iter()
            .find(|m| m.get("result").is_some() || m.get("error").is_some())
            .unwrap_or_else(|| {
                panic!(
                    "no JSON-RPC response in {:?} ({})",
                    self.messages, self.text
                )
            })
    }

    pub fn notifications(&self, method: &str) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|m| m["method"] == method)
            .collect()
    }
}

impl RawClient {
    pub fn new(server: &RunningServer) -> Self {
        Self::for_url(format!("{}/mcp", base(server)))
    }

    pub fn for_url(url: String) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            url,
            session: None,
            headers: Vec::new(),
            next_id: 1,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub async fn post_raw(&self, body: impl Into<reqwest::Body>) -> Response {
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", PROTOCOL);
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request.body(body).send().await.expect("request is sent")
    }

    pub async fn send(&self, message: Value) -> Reply {
        let response = self.post_raw(message.to_string()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = response.text().await.expect("body is read");
        let messages = if text.trim().is_empty() || !status.is_success() {
            Vec::new()
        } else {
            messages(&content_type, &text)
        };
        Reply {
            status,
            headers,
            messages,
            text,
        }
    }

    pub async fn request(&mut self, method: &str, params: Value) -> Reply {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await
    }

    pub async fn initialize(&mut self) -> Reply {
        let reply = self
            .request(
                "initialize",
                json!({
                    "protocolVersion": PROTOCOL,
                    "capabilities": {},
                    "clientInfo": {"name": "mcpfleet-tests", "version": "0"}
                }),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "initialize failed: {}",
            reply.text
        );
        self.session = reply
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let ack = self
            .send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert!(
            ack.status.is_success(),
            "initialized notification refused: {}",
            ack.status
        );
        reply
    }

    pub async fn call(&mut self, tool: &str, arguments: Value) -> Reply {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
            .await
    }

    /// Calls `tool` and returns the CallToolResult, failing on a protocol error.
    pub async fn call_ok(&mut self, tool: &str, arguments: Value) -> Value {
        let reply = self.call(tool, arguments).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let response = reply.response();
        assert!(
            response.get("error").is_none(),
            "protocol error: {response}"
        );
        response["result"].clone()
    }
}

/// The text of the first content block of a CallToolResult.
pub fn text(result: &Value) -> &str {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content in {result}"))
}

/// Asserts the replica still answers health checks and a normal tool call.
pub async fn assert_still_serving(server: &RunningServer) {
    let health = reqwest::get(format!("{}/healthz", base(server)))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let mut client = RawClient::new(server);
    for (name, value) in auth_headers(server) {
        client = client.header(&name, &value);
    }
    client.initialize().await;
    let result = client
        .call_ok("echo", json!({"message": "still here"}))
        .await;
    assert_eq!(text(&result), "still here");
}

fn auth_headers(server: &RunningServer) -> Vec<(String, String)> {
    match &server.replica.config.auth_token {
        Some(token) => vec![("authorization".into(), format!("Bearer {token}"))],
        None => Vec::new(),
    }
}

pub async fn metrics(server: &RunningServer) -> String {
    reqwest::get(format!("{}/metrics", base(server)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
