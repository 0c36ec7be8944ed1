//! An incident: one failed call kept whole in a file — what was asked, what crossed the wire
//! (credentials already redacted as recorded), which replica served it, when, and that task's
//! log lines from the seconds around it — so it can be read later, shared, and replayed.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    CallOutcome, CallRequest, Exchange, McpError, ServedBy, ToolResult,
    compare::{Difference, differences},
    repro::{FailureKind, FirstFailure},
};
use crate::fleet::LogLine;

/// The format of the file, for readers of older ones.
const VERSION: u32 = 1;
/// Log lines of the serving task this long before and after the failure are kept.
pub const LOG_WINDOW: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Incident {
    pub version: u32,
    /// `tool_error`, `http_503`, `timeout`, …
    pub kind: String,
    /// When the call ended, RFC 3339.
    pub at: String,
    pub service: String,
    pub tool: String,
    pub arguments: Value,
    pub served_by: Option<ServedBy>,
    pub duration_ms: f64,
    /// The result as the server sent it (`content`, `structuredContent`, `isError`), or none.
    pub result: Option<Value>,
    pub error: Option<String>,
    /// The last HTTP status other than 2xx, if any.
    pub http_status: Option<u16>,
    pub exchange: Exchange,
    pub logs: Vec<IncidentLog>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IncidentLog {
    pub at: String,
    pub task_id: String,
    pub stream: String,
    pub message: String,
    /// The line's fields, when it was a JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Value>,
}

impl Incident {
    /// `failure`, with the lines of `logs` its task wrote within [`LOG_WINDOW`] of it.
    pub fn of(failure: &FirstFailure, logs: &[LogLine]) -> Self {
        let FirstFailure {
            kind,
            at,
            request,
            outcome,
        } = failure;
        let task = outcome.served_by.as_ref().and_then(|by| by.task_id.clone());
        let near = |line: &&LogLine| {
            let gap = match line.at.duration_since(*at) {
                Ok(after) => after,
                Err(before) => before.duration(),
            };
            gap <= LOG_WINDOW + outcome.duration && Some(&line.task_id) == task.as_ref()
        };
        let result = outcome.result.as_ref().ok().map(|r| {
            serde_json::json!({
                "content": r.content,
                "structuredContent": r.structured_content,
                "isError": r.is_error,
            })
        });
        Self {
            version: VERSION,
            kind: kind.slug(),
            at: humantime::format_rfc3339_millis(*at).to_string(),
            service: request.service.clone(),
            tool: request.tool.clone(),
            arguments: request.arguments.clone(),
            served_by: outcome.served_by.clone(),
            duration_ms: (outcome.duration.as_secs_f64() * 1e6).round() / 1e3,
            result,
            error: outcome.result.as_ref().err().map(|e| e.to_string()),
            http_status: match kind {
                FailureKind::HttpStatus(code) => Some(*code),
                _ => None,
            },
            exchange: outcome.exchange.clone(),
            logs: logs
                .iter()
                .filter(near)
                .map(|line| IncidentLog {
                    at: humantime::format_rfc3339_millis(line.at).to_string(),
                    task_id: line.task_id.clone(),
                    stream: line.stream.clone(),
                    message: line.message.clone(),
                    fields: line.fields().map(Value::Object),
                })
                .collect(),
        }
    }

    /// Writes the incident into `dir` (made private if new) as one JSON file readable only by
    /// its owner; returns its path.
    pub fn save(&self, dir: &Path) -> std::io::Result<PathBuf> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let stamp: String = self
            .at
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let name = |n: usize| {
            let suffix = if n == 0 {
                String::new()
            } else {
                format!("-{n}")
            };
            let tool: String = self
                .tool
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            dir.join(format!("{stamp}-{tool}-{}{suffix}.json", self.kind))
        };
        let text = serde_json::to_vec_pretty(self).expect("an incident serialises");
        for n in 0..100 {
            let path = name(n);
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path);
            match file {
                Ok(mut file) => {
                    std::io::Write::write_all(&mut file, &text)?;
                    return Ok(path);
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(error),
            }
        }
        Err(std::io::Error::other("100 incident files of the same name"))
    }

    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let incident: Self = serde_json::from_slice(&text)
            .map_err(|e| format!("{} is not an incident file: {e}", path.display()))?;
        if incident.version > VERSION {
            return Err(format!(
                "{} is an incident file of a newer mcpfleet (format {})",
                path.display(),
                incident.version
            ));
        }
        Ok(incident)
    }

    /// The call again, as first asked.
    pub fn request(&self) -> CallRequest {
        CallRequest::new(&self.service, &self.tool, self.arguments.clone())
    }

    /// The recorded outcome, as a call outcome to compare a replay with.
    pub fn outcome(&self) -> CallOutcome {
        let result = match (&self.result, &self.error) {
            (Some(result), _) => {
                serde_json::from_value::<rmcp::model::CallToolResult>(result.clone())
                    .map(ToolResult::from)
                    .map_err(|e| McpError::Recorded(format!("unreadable recorded result: {e}")))
            }
            (None, Some(error)) => Err(McpError::Recorded(error.clone())),
            (None, None) => Err(McpError::Recorded("no result recorded".into())),
        };
        CallOutcome {
            result,
            served_by: self.served_by.clone(),
            duration: Duration::from_secs_f64(self.duration_ms.max(0.0) / 1000.0),
            retries: Vec::new(),
            exchange: Exchange::default(),
        }
    }

    /// What differs between the recorded outcome and `after` (the call sent again), one
    /// line each: outcome, replica, HTTP status, result, latency.
    pub fn changes(&self, after: &CallOutcome) -> Vec<String> {
        let before = &self.outcome();
        let incident = self;
        let mut changes = Vec::new();
        if before.kind() != after.kind() {
            changes.push(format!(
                "outcome: {} → {}",
                before.kind().label(),
                after.kind().label()
            ));
        }
        let replica = |o: &CallOutcome| {
            o.served_by
                .as_ref()
                .map_or("none".into(), |b| b.to_string())
        };
        let (was, now) = (
            before.served_by.as_ref().map(|b| (&b.task_id, b.revision)),
            after.served_by.as_ref().map(|b| (&b.task_id, b.revision)),
        );
        if was != now {
            changes.push(format!(
                "served by: {} → {}",
                replica(before),
                replica(after)
            ));
        }
        let status = FailureKind::of(after).and_then(|kind| match kind {
            FailureKind::HttpStatus(code) => Some(code),
            _ => None,
        });
        if incident.http_status.is_some() && incident.http_status != status {
            let shown = |s: Option<u16>| s.map_or("2xx".to_string(), |s| s.to_string());
            changes.push(format!(
                "HTTP status: {} → {}",
                shown(incident.http_status),
                shown(status)
            ));
        }
        if before.result.is_ok() && after.result.is_ok() || before.kind() == after.kind() {
            changes.extend(
                differences(before, after)
                    .into_iter()
                    .filter(|d| {
                        !matches!(d, Difference::Outcome { .. }) || before.kind() == after.kind()
                    })
                    .map(|d| d.to_string()),
            );
        }
        changes.push(format!(
            "latency: {:.1} ms → {:.1} ms",
            before.duration.as_secs_f64() * 1000.0,
            after.duration.as_secs_f64() * 1000.0
        ));
        changes
    }

    /// `after` failed the same way.
    pub fn happened_again(&self, after: &CallOutcome) -> bool {
        FailureKind::of(after).map(|kind| kind.slug()).as_deref() == Some(self.kind.as_str())
    }
}
