//! What a person asks for when calling a tool, how whoever runs the call steers and watches
//! it, and the events a running call reports.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{ServedBy, Target};

/// MCP's log levels (RFC 5424's), least severe first.
pub const LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// Idle timeout of a call unless the request says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq)]
pub struct CallRequest {
    pub service: String,
    pub tool: String,
    /// A JSON object, or `null` for no arguments.
    pub arguments: Value,
    pub target: Target,
    /// The call fails with `TimedOut` when neither its result nor a progress notification
    /// arrives for this long; `None` waits forever.
    pub timeout: Option<Duration>,
    /// Check the arguments against the tool's inputSchema before sending (the default). Off,
    /// they go as they are: to see how the server itself answers bad input.
    pub check_schema: bool,
    /// The least severe log level the server should send for this call (one of
    /// [`LOG_LEVELS`]): the request's `_meta` on 2026-07-28, `logging/setLevel` before the
    /// call on a 2025-11-25 session.
    pub log_level: Option<String>,
    /// Kept in the call history (the default); a reproducer's hundreds of calls are not.
    pub record: bool,
}

impl CallRequest {
    pub fn new(service: impl Into<String>, tool: impl Into<String>, arguments: Value) -> Self {
        Self {
            service: service.into(),
            tool: tool.into(),
            arguments,
            target: Target::AnyReady,
            timeout: Some(DEFAULT_TIMEOUT),
            check_schema: true,
            log_level: None,
            record: true,
        }
    }

    /// Left out of the call history.
    pub fn unrecorded(mut self) -> Self {
        self.record = false;
        self
    }

    /// Sends the arguments without checking them against the tool's schema.
    pub fn unchecked(mut self) -> Self {
        self.check_schema = false;
        self
    }

    pub fn on_task(mut self, task_id: impl Into<String>) -> Self {
        self.target = Target::Task(task_id.into());
        self
    }

    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }
}

/// How a running call is steered and watched, held by whoever runs it (the MCP worker).
#[derive(Debug, Clone, Default)]
pub struct CallControl {
    /// Where `CallEvent`s go. Sent with `try_send`: a full channel drops an event rather than
    /// stall the call.
    pub events: Option<mpsc::Sender<CallEvent>>,
    /// Cancelling it ends the call with `Cancelled` and tells the server.
    pub cancel: CancellationToken,
}

impl CallControl {
    pub(crate) fn notify(&self, event: CallEvent) {
        if let Some(events) = &self.events {
            let _ = events.try_send(event);
        }
    }

    /// The same event sink with a cancellation that follows this one's.
    pub(crate) fn child(&self) -> Self {
        Self {
            events: self.events.clone(),
            cancel: self.cancel.child_token(),
        }
    }
}

/// What happens while a call runs.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// The request was sent to this task.
    Sent { task: ServedBy },
    /// This task refused the call before running it; the next ready task is tried.
    Retrying { task_id: String, reason: String },
    Progress {
        task_id: String,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    },
    /// A log line the server sent while running the call.
    Log(ServerLog),
    /// The server asked a question the client answered with an error, for this reason.
    Refused(String),
    /// The server runs the call as a task (SEP-2663), which is now in `status`.
    Task {
        task_id: String,
        status: String,
        message: Option<String>,
    },
}

/// A `notifications/message` from a server: a log line about the request it came with.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ServerLog {
    pub level: String,
    pub logger: Option<String>,
    pub data: Value,
}

impl ServerLog {
    /// The log line a JSON-RPC message carries, if it is one.
    pub fn from_message(message: &Value) -> Option<Self> {
        if message["method"] != "notifications/message" {
            return None;
        }
        let params = &message["params"];
        Some(Self {
            level: params["level"].as_str().unwrap_or("info").to_string(),
            logger: params["logger"].as_str().map(str::to_string),
            data: params["data"].clone(),
        })
    }
}

/// `[warning] logger: data`, a string's data as it is and other data as compact JSON. The
/// server's text: show it through `crate::inert`.
impl std::fmt::Display for ServerLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] ", self.level)?;
        if let Some(logger) = &self.logger {
            write!(f, "{logger}: ")?;
        }
        match &self.data {
            Value::String(text) => f.write_str(text),
            other => write!(f, "{other}"),
        }
    }
}
