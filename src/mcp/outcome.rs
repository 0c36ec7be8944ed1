//! How a call ended: the tool's result or the error, which task served it, retries, and its
//! HTTP exchanges for the protocol pane.

use std::time::{Duration, Instant};

use rmcp::model::{CallToolResult, ContentBlock};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{McpError, route::Candidate, wire::Round};

/// Which replica answered a call, and how that is known. Through a task's own address the
/// route says it; through a URL in front of every task (a URL override) only the server can,
/// with its `Served-By` header; otherwise the replica is unknown and nothing claims one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedBy {
    /// None when the replica is unknown.
    pub task_id: Option<String>,
    pub revision: Option<u32>,
    /// The availability zone, when the server named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    pub known_by: KnownBy,
    /// `host:port` of the endpoint the call went to.
    pub address: String,
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KnownBy {
    /// Sent to the task's own address.
    Address,
    /// The server named itself in its `Served-By` response header.
    Header,
    /// Sent through a URL in front of every task, and the server did not say.
    Unknown,
}

impl From<&Candidate> for ServedBy {
    fn from(candidate: &Candidate) -> Self {
        let shared = candidate.endpoint.shared;
        Self {
            task_id: (!shared).then(|| candidate.task_id.clone()),
            revision: (!shared).then_some(candidate.revision),
            zone: None,
            known_by: if shared {
                KnownBy::Unknown
            } else {
                KnownBy::Address
            },
            address: candidate.endpoint.address.clone(),
            url: candidate.endpoint.url.clone(),
        }
    }
}

impl ServedBy {
    /// What the server said of itself in the last response of `exchange` that carried a
    /// `Served-By` header, which outranks the route: an address can be reused by a newer task.
    pub(crate) fn learn(&mut self, exchange: &Exchange) {
        let named = exchange
            .rounds
            .iter()
            .flat_map(|round| &round.http)
            .flat_map(|http| &http.response_headers)
            .filter(|(name, _)| name.eq_ignore_ascii_case(SERVED_BY))
            .filter_map(|(_, value)| served_by_header(value))
            .next_back();
        let Some(named) = named else { return };
        self.zone = named.zone;
        if self.task_id.as_deref() == Some(named.task.as_str()) {
            // The server confirms the route.
            self.revision = named.revision.or(self.revision);
            return;
        }
        self.task_id = Some(named.task);
        self.revision = named.revision;
        self.known_by = KnownBy::Header;
    }

    /// The task's first 8 characters, as ECS consoles show task ids, or `?`.
    pub fn short_task(&self) -> &str {
        match &self.task_id {
            Some(id) => &id[..id.len().min(8)],
            None => "?",
        }
    }
}

impl std::fmt::Display for ServedBy {
    /// ` task 0a1b2c3d (rev 3, 10.0.1.5:8080)`, or how little is known.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let revision = self
            .revision
            .map(|r| format!("rev {r}, "))
            .unwrap_or_default();
        match self.known_by {
            KnownBy::Address => {
                write!(f, "task {} ({revision}{})", self.short_task(), self.address)
            }
            KnownBy::Header => write!(
                f,
                "task {} ({revision}named by the server, via {})",
                self.short_task(),
                self.address
            ),
            KnownBy::Unknown => write!(f, "via {}, replica unknown", self.url),
        }
    }
}

/// The response header by which a server names the replica that answered.
pub const SERVED_BY: &str = "served-by";

/// The task a `Served-By` header value names, if it names one.
pub(crate) fn served_by_task(value: &str) -> Option<String> {
    served_by_header(value).map(|named| named.task)
}

struct Named {
    task: String,
    revision: Option<u32>,
    zone: Option<String>,
}

/// `task="…", revision=3, zone="…"`: an RFC 8941 dictionary, read leniently (unknown keys
/// ignored, quotes optional); None without a usable `task`.
fn served_by_header(value: &str) -> Option<Named> {
    let mut named = Named {
        task: String::new(),
        revision: None,
        zone: None,
    };
    for member in value.split(',') {
        let Some((key, raw)) = member.split_once('=') else {
            continue;
        };
        let raw = raw.split(';').next().unwrap_or("").trim();
        let text = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(quoted) => quoted.replace("\\\"", "\"").replace("\\\\", "\\"),
            None => raw.to_string(),
        };
        match key.trim() {
            "task" => named.task = text,
            "revision" => named.revision = text.parse().ok(),
            "zone" => named.zone = Some(text).filter(|z| !z.is_empty()),
            _ => {}
        }
    }
    let usable = !named.task.is_empty() && named.task.chars().all(|c| c.is_ascii_graphic());
    usable.then_some(named)
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub content: Vec<ContentBlock>,
    pub structured_content: Option<Value>,
    /// The tool reported a failure (`isError: true`); the call itself worked.
    pub is_error: bool,
}

impl ToolResult {
    /// As MCP sends it: `content`, `structuredContent`, `isError`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "content": self.content,
            "structuredContent": self.structured_content,
            "isError": self.is_error,
        })
    }

    /// The text blocks, one per line.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .content
            .iter()
            .filter_map(|block| block.as_text())
            .map(|t| t.text.as_str())
            .collect();
        texts.join("\n")
    }
}

impl From<CallToolResult> for ToolResult {
    fn from(result: CallToolResult) -> Self {
        Self {
            content: result.content,
            structured_content: result.structured_content,
            is_error: result.is_error == Some(true),
        }
    }
}

/// What went over the wire for the attempt that was sent: per request of the call (one, or
/// one per `input_required` round), its HTTP exchanges as recorded by the connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub rounds: Vec<Round>,
    /// The server's log lines while the call ran, in arrival order (on the call's own
    /// stream, or on a 2025-11-25 session's stream while the call was in flight).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<super::ServerLog>,
    /// The server's questions during the call that the client answered with an error, each
    /// with why (a form no dialog can show).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<String>,
    /// The task the server turned the call into, as last seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<super::task::TaskNote>,
    /// The trace id of the `traceparent` the call was sent with (`mcp::trace`), by which the
    /// server's log lines for it are found. Absent in lines written before calls carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

impl Exchange {
    /// The JSON-RPC messages that crossed the wire, parsed, in order: each request's body,
    /// then what came back for it (a JSON body or the events of its stream).
    pub fn messages(&self) -> Vec<Value> {
        let http = self.rounds.iter().flat_map(|round| &round.http);
        http.flat_map(|http| {
            let sent = http.request_body.iter();
            let received = http.response_body.iter();
            let events = http.events.iter().filter_map(|event| event.data.as_ref());
            sent.chain(received).chain(events)
        })
        .filter_map(|body| serde_json::from_str(&body.text).ok())
        .collect()
    }
}

/// A task that refused the call before running it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retry {
    pub task_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Ok,
    ToolError,
    Failed,
    TimedOut,
    Cancelled,
}

impl OutcomeKind {
    /// In words, as tables and status lines show it.
    pub fn label(self) -> &'static str {
        match self {
            OutcomeKind::Ok => "ok",
            OutcomeKind::ToolError => "tool error",
            OutcomeKind::Failed => "failed",
            OutcomeKind::TimedOut => "timed out",
            OutcomeKind::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub result: Result<ToolResult, McpError>,
    /// Set once the request was sent, also when it then failed or timed out.
    pub served_by: Option<ServedBy>,
    pub duration: Duration,
    pub retries: Vec<Retry>,
    pub exchange: Exchange,
}

impl CallOutcome {
    pub(crate) fn failed(error: McpError, started: Instant) -> Self {
        Self {
            result: Err(error),
            served_by: None,
            duration: started.elapsed(),
            retries: Vec::new(),
            exchange: Exchange::default(),
        }
    }

    pub fn kind(&self) -> OutcomeKind {
        match &self.result {
            Ok(result) if result.is_error => OutcomeKind::ToolError,
            Ok(_) => OutcomeKind::Ok,
            Err(McpError::TimedOut(_) | McpError::TaskStalled { .. }) => OutcomeKind::TimedOut,
            Err(McpError::Cancelled) => OutcomeKind::Cancelled,
            Err(_) => OutcomeKind::Failed,
        }
    }

    /// One line for lists: the first line of the result text, or the error.
    pub fn summary(&self) -> String {
        match &self.result {
            Ok(result) => {
                let text = result.text();
                let first = text.lines().next().unwrap_or("");
                let first: String = first.chars().take(120).collect();
                let shown = if first.is_empty() && result.structured_content.is_some() {
                    "structured result".to_string()
                } else {
                    first
                };
                if result.is_error {
                    format!("tool error: {shown}")
                } else {
                    shown
                }
            }
            Err(error) => error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::wire::WireLog;

    fn answered_with(headers: &[(&str, &str)]) -> Exchange {
        let log = WireLog::default();
        let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#;
        let seq = log.begin("POST", "http://h/mcp", Vec::new(), Some(body));
        let headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string()));
        log.responded(seq, 200, headers.collect());
        Exchange {
            rounds: log.rounds(&[serde_json::json!(1)]),
            ..Exchange::default()
        }
    }

    fn routed(shared: bool) -> ServedBy {
        ServedBy {
            task_id: (!shared).then(|| "aaaa1111".into()),
            revision: (!shared).then_some(3),
            zone: None,
            known_by: if shared {
                KnownBy::Unknown
            } else {
                KnownBy::Address
            },
            address: "10.0.0.1:8080".into(),
            url: "http://10.0.0.1:8080/mcp".into(),
        }
    }

    #[test]
    fn the_header_names_the_replica_behind_a_shared_url() {
        let mut by = routed(true);
        by.learn(&answered_with(&[(
            "Served-By",
            r#"task="bbbb2222", revision=4, zone="eu-west-1b""#,
        )]));
        assert_eq!(by.task_id.as_deref(), Some("bbbb2222"));
        assert_eq!((by.revision, by.known_by), (Some(4), KnownBy::Header));
        assert_eq!(by.zone.as_deref(), Some("eu-west-1b"));
        assert!(by.to_string().contains("named by the server"), "{by}");
    }

    #[test]
    fn a_header_that_agrees_confirms_the_route_and_one_that_differs_wins() {
        let mut by = routed(false);
        by.learn(&answered_with(&[("served-by", r#"task="aaaa1111""#)]));
        assert_eq!((by.known_by, by.revision), (KnownBy::Address, Some(3)));
        by.learn(&answered_with(&[("served-by", "task=cccc3333")]));
        assert_eq!(by.task_id.as_deref(), Some("cccc3333"));
        assert_eq!(by.revision, None, "the route's revision was another task's");
    }

    #[test]
    fn without_a_usable_header_nothing_is_claimed() {
        for headers in [
            vec![],
            vec![("served-by", "revision=2")],
            vec![("served-by", "task=\"has space\"")],
        ] {
            let mut by = routed(true);
            by.learn(&answered_with(&headers));
            assert_eq!(by.task_id, None, "{headers:?}");
            assert_eq!(
                by.to_string(),
                "via http://10.0.0.1:8080/mcp, replica unknown"
            );
        }
    }
}
