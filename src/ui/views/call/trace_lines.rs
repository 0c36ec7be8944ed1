//! The serving task's log lines that carry a call's trace id, shown below its result as they
//! arrive (a replica's lines reach the console a moment after the call's answer). The log
//! buffer is scanned once when the result arrives (its newest `SCAN` lines) and after that only
//! for the lines pushed since, so a frame costs the new lines, not the buffer.

use ratatui::text::{Line, Span};

use crate::{
    fleet::LogLine,
    ui::{log_buffer::LogBuffer, theme::Theme, views::logs::text_into},
};

/// Lines looked at when the result arrives: the call's lines are among the newest.
const SCAN: usize = 5_000;
/// Lines kept: a call that logs more is read in the logs view (`ctrl-g`).
const SHOWN: usize = 20;

#[derive(Debug)]
pub struct TraceLines {
    trace_id: String,
    service: String,
    /// None when the replica is unknown: any task of the service.
    task_id: Option<String>,
    /// `LogBuffer::pushed` when last looked.
    seen: u64,
    lines: Vec<String>,
}

impl TraceLines {
    pub fn new(trace_id: &str, service: &str, task_id: Option<&str>, logs: &LogBuffer) -> Self {
        let mut found = Self {
            trace_id: trace_id.to_string(),
            service: service.to_string(),
            task_id: task_id.map(str::to_string),
            seen: logs.pushed().saturating_sub(SCAN as u64),
            lines: Vec::new(),
        };
        found.refresh(logs);
        found
    }

    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    fn carries(&self, line: &LogLine) -> bool {
        line.service == self.service
            && self
                .task_id
                .as_ref()
                .is_none_or(|task| &line.task_id == task)
            && line.mentions(&self.trace_id)
    }

    /// Looks at the lines pushed since the last look (those still in the ring).
    pub fn refresh(&mut self, logs: &LogBuffer) {
        let new = logs.pushed() - self.seen;
        self.seen = logs.pushed();
        if self.lines.len() >= SHOWN {
            return;
        }
        let new = usize::try_from(new).unwrap_or(usize::MAX).min(logs.len());
        let start = logs.len() - new;
        for line in logs.lines().range(start..) {
            if self.lines.len() < SHOWN && self.carries(line) {
                let mut text = String::new();
                text_into(line, false, &mut text);
                self.lines.push(text);
            }
        }
    }

    /// A heading and the lines found, or a note that none came yet.
    pub fn lines(&self, theme: Theme) -> Vec<Line<'static>> {
        let short = &self.trace_id[..self.trace_id.len().min(8)];
        let mut out = vec![
            Line::default(),
            Line::from(vec![
                Span::styled(format!("log lines of trace {short}…"), theme.header()),
                Span::styled("  ctrl-g: in the logs view", theme.dim()),
            ]),
        ];
        if self.lines.is_empty() {
            out.push(Line::styled("none yet", theme.dim()));
        }
        out.extend(self.lines.iter().map(|text| Line::raw(text.clone())));
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn push(logs: &mut LogBuffer, task: &str, trace: &str) {
        let raw = format!(r#"{{"level":"INFO","message":"tool call","trace_id":"{trace}"}}"#);
        logs.push(LogLine::parse(
            "svc",
            task,
            "stdout",
            SystemTime::UNIX_EPOCH,
            &raw,
        ));
    }

    #[test]
    fn the_serving_tasks_lines_of_the_trace_are_found_as_they_arrive() {
        let mut logs = LogBuffer::new(100);
        push(&mut logs, "t1", TRACE);
        push(&mut logs, "t2", TRACE);
        push(&mut logs, "t1", "0af7651916cd43dd8448eb211c80319c");
        let mut found = TraceLines::new(TRACE, "svc", Some("t1"), &logs);
        assert_eq!(found.lines.len(), 1, "{:?}", found.lines);
        assert!(found.lines[0].contains(TRACE));

        push(&mut logs, "t1", TRACE);
        push(&mut logs, "t2", TRACE);
        found.refresh(&logs);
        assert_eq!(found.lines.len(), 2, "only t1's: {:?}", found.lines);
        found.refresh(&logs);
        assert_eq!(found.lines.len(), 2, "each line looked at once");

        let anywhere = TraceLines::new(TRACE, "svc", None, &logs);
        assert_eq!(anywhere.lines.len(), 4, "an unknown replica: any task");
    }

    #[test]
    fn only_the_newest_lines_are_scanned_and_few_are_kept() {
        let mut logs = LogBuffer::new(SCAN * 2);
        push(&mut logs, "t1", TRACE);
        for _ in 0..SCAN {
            push(&mut logs, "t1", "0af7651916cd43dd8448eb211c80319c");
        }
        assert!(
            TraceLines::new(TRACE, "svc", Some("t1"), &logs)
                .lines
                .is_empty()
        );
        for _ in 0..SHOWN + 5 {
            push(&mut logs, "t1", TRACE);
        }
        let found = TraceLines::new(TRACE, "svc", Some("t1"), &logs);
        assert_eq!(found.lines.len(), SHOWN);
    }
}
