//! The calls recorded, newest first, bounded in memory, each one enough to open again in the
//! call form. The MCP worker records them, appends each to the history file ([`store`]) when it
//! has one, and loads the newest from it when it starts; the UI reads its copy.

pub mod store;

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CallOutcome, CallRequest, Exchange, OutcomeKind, ServedBy, Target};

/// One recorded call; its JSON is a line of the history file and an entry of `history --json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub id: u64,
    #[serde(rename = "time", with = "store::rfc3339")]
    pub at: SystemTime,
    pub service: String,
    pub tool: String,
    pub arguments: Value,
    pub target: Target,
    #[serde(rename = "timeout_ms", with = "store::optional_millis")]
    pub timeout: Option<Duration>,
    #[serde(rename = "outcome")]
    pub kind: OutcomeKind,
    pub summary: String,
    #[serde(rename = "duration_ms", with = "store::millis")]
    pub duration: Duration,
    pub served_by: Option<ServedBy>,
    /// What crossed the wire, the server's log lines and the task, as the call kept them
    /// (credential headers already redacted); shared, since the history is copied to whoever
    /// reads it.
    pub exchange: Arc<Exchange>,
}

#[derive(Debug, Clone)]
pub struct History {
    entries: VecDeque<HistoryEntry>,
    capacity: usize,
    last_id: u64,
}

impl History {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            last_id: 0,
        }
    }

    /// A history holding `loaded` (oldest first, as the file keeps them): the newest of them
    /// when there are more than it keeps.
    pub fn with_entries(capacity: usize, loaded: Vec<HistoryEntry>) -> Self {
        let mut history = Self::new(capacity);
        for entry in loaded {
            history.last_id = history.last_id.max(entry.id);
            history.push(entry);
        }
        history
    }

    /// Records a finished call; the oldest entry goes when the list is full. Returns its id.
    pub fn record(&mut self, request: &CallRequest, outcome: &CallOutcome) -> u64 {
        let id = self.next_id();
        self.push(HistoryEntry {
            id,
            at: SystemTime::now(),
            service: request.service.clone(),
            tool: request.tool.clone(),
            arguments: request.arguments.clone(),
            target: request.target.clone(),
            timeout: request.timeout,
            kind: outcome.kind(),
            summary: outcome.summary(),
            duration: outcome.duration,
            served_by: outcome.served_by.clone(),
            exchange: Arc::new(outcome.exchange.clone()),
        });
        id
    }

    fn push(&mut self, entry: HistoryEntry) {
        if self.entries.len() == self.capacity {
            self.entries.pop_back();
        }
        self.entries.push_front(entry);
    }

    /// The nanoseconds since the epoch, kept increasing: other processes record into the same
    /// file, and a restarted console continues it, so a counter from 1 would repeat ids.
    fn next_id(&mut self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
            });
        self.last_id = now.max(self.last_id.saturating_add(1));
        self.last_id
    }

    /// Newest first.
    pub fn entries(&self) -> impl Iterator<Item = &HistoryEntry> {
        self.entries.iter()
    }

    pub fn get(&self, id: u64) -> Option<&HistoryEntry> {
        self.entries.iter().find(|entry| entry.id == id)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use serde_json::json;

    use super::*;
    use crate::mcp::{McpError, ToolResult};

    fn outcome(result: Result<ToolResult, McpError>) -> CallOutcome {
        let mut outcome = CallOutcome::failed(McpError::Cancelled, Instant::now());
        outcome.result = result;
        outcome
    }

    #[test]
    fn keeps_the_newest_with_what_each_call_asked() {
        let mut history = History::new(2);
        let request = CallRequest::new("svc", "echo", json!({"message": "one"})).on_task("abc");
        let ok = ToolResult {
            content: vec![rmcp::model::ContentBlock::text("one\nmore")],
            structured_content: None,
            is_error: false,
        };
        let first = history.record(&request, &outcome(Ok(ok)));
        let second = history.record(
            &request,
            &outcome(Err(McpError::TimedOut(Duration::from_secs(1)))),
        );
        let third = history.record(&request, &outcome(Err(McpError::Cancelled)));
        assert_eq!(history.len(), 2);
        assert!(history.get(first).is_none(), "the oldest entry was dropped");
        let ids: Vec<u64> = history.entries().map(|e| e.id).collect();
        assert_eq!(ids, vec![third, second]);
        assert_eq!(history.get(second).unwrap().kind, OutcomeKind::TimedOut);
        assert_eq!(history.get(third).unwrap().summary, "cancelled");

        let kept = history.get(third).unwrap();
        assert_eq!(kept.tool, "echo");
        assert_eq!(kept.arguments, json!({"message": "one"}));
        assert_eq!(kept.target, Target::Task("abc".into()));
    }

    #[test]
    fn loaded_entries_keep_their_order_and_new_ids_come_after_theirs() {
        let request = CallRequest::new("svc", "echo", json!({}));
        let failed = outcome(Err(McpError::Cancelled));
        let mut before = History::new(10);
        let ids: Vec<u64> = (0..3).map(|_| before.record(&request, &failed)).collect();
        let mut oldest_first: Vec<HistoryEntry> = before.entries().cloned().collect();
        oldest_first.reverse();
        // A clock that went back must not make a new id repeat an old one.
        oldest_first[2].id = u64::MAX - 1;

        let mut after = History::with_entries(2, oldest_first);
        let kept: Vec<u64> = after.entries().map(|e| e.id).collect();
        assert_eq!(
            kept,
            vec![u64::MAX - 1, ids[1]],
            "the newest two, newest first"
        );
        assert_eq!(after.record(&request, &failed), u64::MAX);
    }

    #[test]
    fn summary_is_the_first_line() {
        let ok = ToolResult {
            content: vec![rmcp::model::ContentBlock::text("one\nmore")],
            structured_content: None,
            is_error: true,
        };
        assert_eq!(outcome(Ok(ok)).summary(), "tool error: one");
    }
}
