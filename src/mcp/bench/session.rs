//! The load generator's MCP client: Streamable HTTP spoken directly over one pooled HTTP
//! client, without rmcp's per-message machinery or the wire record, so that the client is not
//! what a benchmark measures. The handshake (`initialize` and `notifications/initialized`, or
//! `server/discover`) happens before the measured window; each measured call is one POST of a
//! body built from a pre-serialised `params` and a request id unique in the run.

use std::time::{Duration, Instant};

use reqwest::{
    StatusCode,
    header::{HeaderMap, HeaderValue},
};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use super::super::{outcome::served_by_task, repro::FailureKind};
use super::direct::Lost;
pub use super::line::Line;
use super::line::{describe, is_sse};

pub(super) const LEGACY: &str = "2025-11-25";
pub(super) const MODERN: &str = "2026-07-28";
pub(super) const CLIENT: &str = "mcpfleet-bench";

/// How requests after the handshake look: with a session (2025-11-25 sessions), or without
/// one (a 2025-11-25 server that issues none, or a 2026-07-28 server: each request carries
/// the protocol in its `_meta`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flavor {
    Legacy { version: String },
    Modern,
}

impl Flavor {
    pub fn protocol(&self) -> &str {
        match self {
            Flavor::Legacy { version } => version,
            Flavor::Modern => MODERN,
        }
    }
}

/// What one measured call came to.
pub struct Answer {
    pub failure: Option<FailureKind>,
    /// The task the server named in its `Served-By` header.
    pub served_by: Option<String>,
    pub latency: Duration,
    /// Why it failed, for the report's last error.
    pub error: Option<String>,
    /// The replica certainly did not run it: the request never reached it, or it answered
    /// 503 (a draining replica refuses before running anything), so sending it to another
    /// replica cannot run it twice.
    pub unsent: bool,
}

/// A worker's conversation: the session it holds (if any) and its next request id.
pub struct Session {
    line: Line,
    flavor: Flavor,
    pub(super) session_id: Option<HeaderValue>,
    /// The tools/call body around the id: `{"jsonrpc":"2.0","id":` … `,"method":…}`.
    body_tail: String,
    /// Every header of a measured call, built once.
    call_headers: HeaderMap,
    /// The worker's own connection, for a plain-HTTP endpoint without request signing.
    direct: Option<super::direct::Direct>,
    next_id: u64,
}

impl Line {
    /// Learns how `url` wants to be spoken to: `initialize`, else `server/discover`. With
    /// `stateless`, a server that keeps sessions must speak 2026-07-28, which has none.
    pub async fn handshake(&self, stateless: bool) -> Result<Session, String> {
        match self.initialize().await {
            Ok(session) if !stateless || session.session_id.is_none() => Ok(session),
            Ok(session) => {
                session.close().await;
                self.discover().await.map_err(|error| {
                    format!(
                        "{} keeps sessions (it issued Mcp-Session-Id) and does not speak \
                         {MODERN} ({error}): run without --stateless",
                        self.url
                    )
                })
            }
            // Refused credentials, a wrong host: discovery would be refused the same way.
            Err(Refusal::Final(error)) => Err(error),
            Err(Refusal::TryDiscover(first)) => self
                .discover()
                .await
                .map_err(|error| format!("initialize: {first}; server/discover: {error}")),
        }
    }

    async fn initialize(&self) -> Result<Session, Refusal> {
        let body = json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": LEGACY,
                "capabilities": {},
                "clientInfo": {"name": CLIENT, "version": env!("CARGO_PKG_VERSION")}
            }
        });
        let (headers, result) = self
            .exchange(body.to_string(), &HeaderMap::new(), 0)
            .await
            .map_err(Refusal::classify)?;
        let version = result
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or(LEGACY)
            .to_string();
        let mut session = Session::new(self.clone(), Flavor::Legacy { version });
        session.session_id = headers.get("mcp-session-id").cloned();
        let note = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let sent = self
            .post(note.to_string(), &session.request_headers(None))
            .await
            .map_err(|error| Refusal::Final(error.1))?;
        if !sent.status().is_success() {
            return Err(Refusal::Final(format!(
                "notifications/initialized: HTTP {}",
                sent.status()
            )));
        }
        Ok(session)
    }

    async fn discover(&self) -> Result<Session, String> {
        let body = json!({
            "jsonrpc": "2.0", "id": 0, "method": "server/discover",
            "params": {"_meta": modern_meta()}
        });
        let mut headers = HeaderMap::new();
        headers.insert("mcp-protocol-version", HeaderValue::from_static(MODERN));
        headers.insert("mcp-method", HeaderValue::from_static("server/discover"));
        self.exchange(body.to_string(), &headers, 0)
            .await
            .map_err(|(_, error)| error)?;
        Ok(Session::new(self.clone(), Flavor::Modern))
    }
}

/// Why a handshake failed: for good, or in a way a 2026-07-28-only server would answer
/// `initialize` (a 4xx other than auth and host refusals, a JSON-RPC error).
enum Refusal {
    Final(String),
    TryDiscover(String),
}

impl Refusal {
    fn classify((status, error): (Option<StatusCode>, String)) -> Self {
        match status {
            Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) | None => Refusal::Final(error),
            Some(status) if status.is_server_error() => Refusal::Final(error),
            Some(_) => Refusal::TryDiscover(error),
        }
    }
}

impl Session {
    pub(super) fn new(line: Line, flavor: Flavor) -> Self {
        Self {
            line,
            flavor,
            session_id: None,
            body_tail: String::new(),
            call_headers: HeaderMap::new(),
            direct: None,
            next_id: 1,
        }
    }

    pub fn flavor(&self) -> &Flavor {
        &self.flavor
    }

    /// The id the next call will carry.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    pub fn has_session(&self) -> bool {
        self.session_id.is_some()
    }

    /// A conversation speaking the same way without a session, for a worker of a stateless
    /// run.
    pub fn stateless_copy(&self) -> Self {
        Session::new(self.line.clone(), self.flavor.clone())
    }

    /// Sets the call every measured request makes; ids start at `first_id`.
    pub fn prepare(&mut self, tool: &str, arguments: &Value, first_id: u64) -> Result<(), String> {
        let mut params = json!({"name": tool, "arguments": arguments});
        if self.flavor == Flavor::Modern {
            params["_meta"] = modern_meta();
        }
        self.body_tail = format!(r#","method":"tools/call","params":{params}}}"#);
        let tool = HeaderValue::from_str(tool)
            .map_err(|_| format!("tool name {tool:?} cannot be sent in a header"))?;
        let mut headers = self.line.headers.clone();
        headers.extend(self.request_headers(Some(("tools/call", &tool))));
        self.call_headers = headers;
        self.next_id = first_id;
        if self.line.auth.sigv4.is_none() {
            self.direct = super::direct::Direct::for_url(&self.line.parsed, self.line.timeout);
        }
        Ok(())
    }

    pub(super) fn request_headers(
        &self,
        method: Option<(&'static str, &HeaderValue)>,
    ) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(version) = HeaderValue::from_str(self.flavor.protocol()) {
            headers.insert("mcp-protocol-version", version);
        }
        if let Some(id) = &self.session_id {
            headers.insert("mcp-session-id", id.clone());
        }
        if let (Flavor::Modern, Some((method, name))) = (&self.flavor, method) {
            headers.insert("mcp-method", HeaderValue::from_static(method));
            headers.insert("mcp-name", name.clone());
        }
        headers
    }

    /// One measured `tools/call`.
    pub async fn call(&mut self) -> Answer {
        let id = self.next_id;
        self.next_id += 1;
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id}{}"#, self.body_tail);
        let started = Instant::now();
        let failed = |kind: FailureKind, error: String, served_by, unsent| Answer {
            failure: Some(kind),
            served_by,
            latency: started.elapsed(),
            error: Some(error),
            unsent,
        };
        let (status, served_by, sse, bytes) = match self.send(body).await {
            Ok(answered) => answered,
            Err(lost) => {
                let kind = if lost.timed_out {
                    FailureKind::Timeout
                } else {
                    FailureKind::Connection
                };
                return failed(kind, lost.why, None, lost.unsent);
            }
        };
        if !(200..300).contains(&status) {
            let error = format!("HTTP {status}");
            return failed(
                FailureKind::HttpStatus(status),
                error,
                served_by,
                status == 503,
            );
        }
        let verdict = reply_to(sse, &bytes, id);
        let latency = started.elapsed();
        let (failure, error) = match verdict {
            Err(error) => (Some(FailureKind::ProtocolError), Some(error)),
            Ok(Reply { error: Some(_), .. }) => (
                Some(FailureKind::ProtocolError),
                Some("JSON-RPC error".to_string()),
            ),
            Ok(Reply {
                result: Some(CallResult { is_error: true }),
                ..
            }) => (
                Some(FailureKind::ToolError),
                Some("isError: true".to_string()),
            ),
            Ok(Reply {
                result: Some(_), ..
            }) => (None, None),
            Ok(Reply { result: None, .. }) => (
                Some(FailureKind::ProtocolError),
                Some("an answer without a result".to_string()),
            ),
        };
        Answer {
            failure,
            served_by,
            latency,
            error,
            unsent: false,
        }
    }

    /// The call's POST through the worker's own connection or the pooled client: status,
    /// the task named in `Served-By`, whether the body is SSE, and the body.
    async fn send(
        &mut self,
        body: String,
    ) -> Result<(u16, Option<String>, bool, bytes::Bytes), Lost> {
        let served_by = |headers: &HeaderMap| {
            headers
                .get(super::super::outcome::SERVED_BY)
                .and_then(|value| value.to_str().ok())
                .and_then(served_by_task)
        };
        if let Some(direct) = &mut self.direct {
            let answered = direct.post(&self.call_headers, body).await?;
            let named = served_by(&answered.headers);
            return Ok((
                answered.status,
                named,
                is_sse(&answered.headers),
                answered.body,
            ));
        }
        let response = self.line.send_call(body, &self.call_headers).await?;
        let status = response.status().as_u16();
        let named = served_by(response.headers());
        let sse = is_sse(response.headers());
        let bytes = response.bytes().await.map_err(|error| Lost {
            timed_out: error.is_timeout(),
            unsent: false,
            why: describe(error),
        })?;
        Ok((status, named, sse, bytes))
    }

    /// Ends the session the server issued, if any (DELETE), so a run leaves none behind.
    pub async fn close(self) {
        let Some(id) = &self.session_id else { return };
        let mut request = self
            .line
            .http
            .delete(&self.line.url)
            .headers(self.line.headers.clone())
            .header("mcp-session-id", id.clone());
        if let Ok(version) = HeaderValue::from_str(self.flavor.protocol()) {
            request = request.header("mcp-protocol-version", version);
        }
        let _ = request.send().await;
    }
}

pub(super) fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": CLIENT, "version": env!("CARGO_PKG_VERSION")},
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

/// The fields of an answer the verdict needs; the rest is skipped unparsed.
#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    result: Option<CallResult>,
    #[serde(default)]
    error: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct CallResult {
    #[serde(default, rename = "isError")]
    is_error: bool,
}

/// The answer to `id` read in one pass: the JSON body, or the SSE event carrying it.
fn reply_to(sse: bool, body: &[u8], id: u64) -> Result<Reply, String> {
    let malformed = |error: serde_json::Error| format!("malformed answer: {error}");
    if !sse {
        let reply: Reply = serde_json::from_slice(body).map_err(malformed)?;
        return if reply.id == Some(id) {
            Ok(reply)
        } else {
            Err(format!("the answer is not to request {id}"))
        };
    }
    let text =
        std::str::from_utf8(body).map_err(|_| "an SSE body that is not UTF-8".to_string())?;
    text.split('\n')
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| data.trim_start_matches(' ').trim_end_matches('\r'))
        .filter_map(|data| serde_json::from_str::<Reply>(data).ok())
        .find(|reply| reply.id == Some(id))
        .ok_or_else(|| format!("no answer to request {id} in the stream"))
}

#[cfg(test)]
mod tests {
    use reqwest::header::CONTENT_TYPE;

    use super::super::line::message_with_id;
    use super::*;

    fn json_headers(kind: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(kind).unwrap());
        headers
    }

    #[test]
    fn the_answer_is_found_by_its_id_in_json_and_in_sse() {
        let json = br#"{"jsonrpc":"2.0","id":7,"result":{"content":[]}}"#;
        let found = message_with_id(&json_headers("application/json"), json, 7).unwrap();
        assert!(found.get().contains("content"));
        assert!(message_with_id(&json_headers("application/json"), json, 8).is_none());

        let sse = b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n\
                    id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"isError\":true}}\r\n\r\n";
        let found = message_with_id(&json_headers("text/event-stream"), sse, 7).unwrap();
        let reply: Reply = serde_json::from_str(found.get()).unwrap();
        assert!(reply.result.unwrap().is_error);
    }
}
