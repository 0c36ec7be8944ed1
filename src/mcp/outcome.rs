//! How a call ended: the tool's result or the error, which task served it, retries, and its
//! HTTP exchanges for the protocol pane.

use std::time::{Duration, Instant};

use rmcp::model::{CallToolResult, ContentBlock};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{McpError, route::Candidate, wire::Round};

/// The task a call was sent to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedBy {
    pub task_id: String,
    pub revision: u32,
    /// `host:port` of the task's endpoint.
    pub address: String,
    pub url: String,
}

impl From<&Candidate> for ServedBy {
    fn from(candidate: &Candidate) -> Self {
        Self {
            task_id: candidate.task_id.clone(),
            revision: candidate.revision,
            address: candidate.endpoint.address.clone(),
            url: candidate.endpoint.url.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub content: Vec<ContentBlock>,
    pub structured_content: Option<Value>,
    /// The tool reported a failure (`isError: true`); the call itself worked.
    pub is_error: bool,
}

impl ToolResult {
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
