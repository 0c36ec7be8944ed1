//! The calls made since the console started, newest first, bounded in memory, each one enough
//! to open again in the call form. The MCP worker records them; the UI reads its copy.

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, SystemTime},
};

use serde_json::Value;

use super::{CallOutcome, CallRequest, Exchange, OutcomeKind, ServedBy, Target};

#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub id: u64,
    pub at: SystemTime,
    pub service: String,
    pub tool: String,
    pub arguments: Value,
    pub target: Target,
    pub timeout: Option<Duration>,
    pub kind: OutcomeKind,
    pub summary: String,
    pub duration: Duration,
    pub served_by: Option<ServedBy>,
    /// What crossed the wire, the server's log lines and the task, as the call kept them;
    /// shared, since the history is copied to whoever reads it.
    pub exchange: Arc<Exchange>,
}

#[derive(Debug, Clone)]
pub struct History {
    entries: VecDeque<HistoryEntry>,
    capacity: usize,
    next_id: u64,
}

impl History {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            next_id: 1,
        }
    }

    /// Records a finished call; the oldest entry goes when the list is full. Returns its id.
    pub fn record(&mut self, request: &CallRequest, outcome: &CallOutcome) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        if self.entries.len() == self.capacity {
            self.entries.pop_back();
        }
        self.entries.push_front(HistoryEntry {
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
    fn summary_is_the_first_line() {
        let ok = ToolResult {
            content: vec![rmcp::model::ContentBlock::text("one\nmore")],
            structured_content: None,
            is_error: true,
        };
        assert_eq!(outcome(Ok(ok)).summary(), "tool error: one");
    }
}
