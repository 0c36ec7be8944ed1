//! The calls made from this console and by `mcpfleet call`, before and since it started (the
//! worker loads the newest from the history file), newest first (of one service, or all):
//! when, what, how it ended, how long it took and which task served it. `/` filters on these
//! and on the arguments. Enter re-opens the call form with the same arguments and target, to
//! run it again or change it first.

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Paragraph, Row, Table},
};

use super::call::{
    protocol::protocol_lines,
    result::{json_lines, millis},
};
use super::{Context, View};
use crate::{
    inert::inert_line,
    mcp::{HistoryEntry, OutcomeKind, Target},
    ui::{
        action::{Action, Scope, ViewKind},
        keys::KeyId,
        theme::Theme,
        widgets::{detail_pane, list::ListState},
    },
};

/// (header, width); SUMMARY takes the rest.
pub const COLUMNS: &[(&str, u16)] = &[
    ("TIME", 8),
    ("SERVICE", 20),
    ("TOOL", 20),
    ("OUTCOME", 10),
    ("DURATION", 9),
    ("TASK", 8),
    ("SUMMARY", 0),
];

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub id: u64,
    /// UTC, like the timestamps of the logs.
    pub time: String,
    pub service: String,
    pub tool: String,
    pub kind: OutcomeKind,
    pub duration: String,
    pub task: String,
    pub summary: String,
}

pub fn row(entry: &HistoryEntry) -> HistoryRow {
    let stamp = humantime::format_rfc3339_seconds(entry.at).to_string();
    HistoryRow {
        id: entry.id,
        time: stamp.get(11..19).unwrap_or("").to_string(),
        service: entry.service.clone(),
        tool: entry.tool.clone(),
        kind: entry.kind,
        duration: millis(entry.duration),
        task: entry
            .served_by
            .as_ref()
            .map_or("-".into(), |s| s.short_task().to_string()),
        summary: entry.summary.clone(),
    }
}

pub fn outcome_label(kind: OutcomeKind, theme: Theme) -> Span<'static> {
    match kind {
        OutcomeKind::Ok => Span::styled("ok", theme.ok()),
        OutcomeKind::ToolError => Span::styled("tool error", theme.error()),
        OutcomeKind::Failed => Span::styled("failed", theme.error()),
        OutcomeKind::TimedOut => Span::styled("timed out", theme.warn()),
        OutcomeKind::Cancelled => Span::styled("cancelled", theme.warn()),
    }
}

pub struct HistoryView {
    scope: Scope,
    /// Rows are named by the entry's id.
    list: ListState,
    /// The detail pane shows the selected call's wire record rather than its details.
    show_protocol: bool,
}

impl HistoryView {
    pub fn new(scope: Scope) -> Self {
        let list = ListState::default();
        Self {
            scope,
            list,
            show_protocol: false,
        }
    }

    fn entries<'a>(&self, ctx: &'a Context) -> Vec<&'a HistoryEntry> {
        ctx.history
            .entries()
            .filter(|e| self.scope.service.as_ref().is_none_or(|s| *s == e.service))
            .filter(|e| {
                let task = e.served_by.as_ref().and_then(|s| s.task_id.clone());
                let cells = [e.service.clone(), e.tool.clone(), e.summary.clone()];
                let cells: Vec<String> = cells
                    .into_iter()
                    .chain([e.arguments.to_string()])
                    .chain(task)
                    .collect();
                self.list.matches(&cells)
            })
            .collect()
    }
}

impl View for HistoryView {
    fn kind(&self) -> ViewKind {
        ViewKind::History
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        match &self.scope.service {
            Some(service) => format!("history({service})"),
            None => "history".into(),
        }
    }

    fn list(&self) -> Option<&ListState> {
        Some(&self.list)
    }

    fn list_mut(&mut self) -> Option<&mut ListState> {
        Some(&mut self.list)
    }

    fn on_key(&mut self, key: KeyId, ctx: &Context) -> Option<Action> {
        match key {
            KeyId::Open => {
                let entry = ctx.history.get(self.list.selected_id()?.parse().ok()?)?;
                let scope = match &entry.target {
                    Target::Task(task) => Scope::task(&entry.service, task),
                    Target::AnyReady => Scope::service(&entry.service),
                };
                Some(Action::OpenCall {
                    scope,
                    tool: entry.tool.clone(),
                    arguments: Some(entry.arguments.clone()),
                })
            }
            KeyId::Protocol => {
                self.show_protocol = !self.show_protocol;
                None
            }
            KeyId::TraceLogs => {
                let entry = ctx.history.get(self.list.selected_id()?.parse().ok()?)?;
                Some(Action::trace_logs(
                    &entry.service,
                    entry.served_by.as_ref(),
                    entry.exchange.trace_id.as_deref(),
                ))
            }
            other => self.list.on_key(other),
        }
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let entries = self.entries(ctx);
        if entries.is_empty() {
            self.list.clear();
            let text = if ctx.history.is_empty() {
                "no calls yet: o on a service lists its tools, enter on a tool opens the call form"
            } else {
                "no calls match"
            };
            frame.render_widget(Paragraph::new(Line::styled(text, theme.dim())), area);
            return;
        }
        let table_height = (entries.len() as u16 + 1).min(area.height.saturating_sub(6));
        let [table_area, detail_area] =
            Layout::vertical([Constraint::Length(table_height), Constraint::Min(0)]).areas(area);
        let rows = entries.iter().map(|entry| {
            let r = row(entry);
            Row::new(vec![
                Line::from(r.time),
                Line::from(r.service),
                Line::from(r.tool),
                Line::from(outcome_label(r.kind, theme)),
                Line::from(r.duration).right_aligned(),
                Line::from(r.task),
                Line::from(r.summary),
            ])
        });
        // SERVICE and TOOL are as wide as their longest value, up to their column's width.
        let longest = |cells: Vec<usize>, header: &str, max: u16| {
            let widest = cells.into_iter().max().unwrap_or(0).max(header.len());
            widest.min(usize::from(max)) as u16
        };
        let service_width = longest(
            entries.iter().map(|e| e.service.chars().count()).collect(),
            "SERVICE",
            COLUMNS[1].1,
        );
        let tool_width = longest(
            entries.iter().map(|e| e.tool.chars().count()).collect(),
            "TOOL",
            COLUMNS[2].1,
        );
        let widths = COLUMNS
            .iter()
            .enumerate()
            .map(|(i, (_, width))| match (i, width) {
                (1, _) => Constraint::Length(service_width),
                (2, _) => Constraint::Length(tool_width),
                (_, 0) => Constraint::Fill(1),
                (_, w) => Constraint::Length(*w),
            });
        let table = Table::new(rows, widths)
            .header(Row::new(COLUMNS.iter().map(|c| c.0)).style(theme.header()));
        let ids = entries.iter().map(|e| e.id.to_string()).collect();
        self.list.draw(frame, table_area, table, ids, theme);

        let Some(entry) = self.list.selected().map(|i| entries[i]) else {
            return;
        };
        let target = match &entry.target {
            Target::Task(task) => format!("task {}", &task[..task.len().min(8)]),
            Target::AnyReady => "any ready task".into(),
        };
        let name = format!("{} on {} ({target})", entry.tool, entry.service);
        let exchange = &entry.exchange;
        let lines = if self.show_protocol {
            protocol_lines(exchange, theme)
        } else {
            let mut lines = vec![Line::from(vec![
                Span::styled("result ", theme.header()),
                Span::raw(inert_line(&entry.summary).into_owned()),
            ])];
            if let Some(trace_id) = &exchange.trace_id {
                lines.push(Line::from(vec![
                    Span::styled("trace ", theme.header()),
                    Span::raw(inert_line(trace_id).into_owned()),
                    Span::styled("  ctrl-g: its log lines", theme.dim()),
                ]));
            }
            let notes = exchange.refused.iter().cloned();
            let task = exchange.task.iter().map(ToString::to_string);
            for note in notes.chain(task) {
                lines.push(Line::styled(inert_line(&note).into_owned(), theme.dim()));
            }
            for log in &exchange.logs {
                let log = format!("server log {log}");
                lines.push(Line::styled(inert_line(&log).into_owned(), theme.dim()));
            }
            lines.push(Line::styled("arguments", theme.header()));
            lines.extend(json_lines(&entry.arguments, theme));
            lines
        };
        let pane = detail_pane(name, "enter opens it to run again", lines, theme);
        frame.render_widget(pane, detail_area);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::json;

    use super::*;
    use crate::{
        mcp::{CallOutcome, CallRequest, ContentBlock, McpError, ToolResult},
        ui::views::{
            call::fixtures::served_outcome,
            fixtures::{Fixture, numbered},
            snapshot_support::click_after_scroll,
        },
    };

    fn outcome(result: Result<ToolResult, McpError>, micros: u64) -> CallOutcome {
        served_outcome(result, Duration::from_micros(micros))
    }

    fn ok(text: &str, is_error: bool) -> Result<ToolResult, McpError> {
        Ok(ToolResult {
            content: vec![ContentBlock::text(text)],
            structured_content: None,
            is_error,
        })
    }

    fn fixture() -> Fixture {
        let mut fixture = Fixture::new();
        let history = &mut fixture.history;
        let echo = CallRequest::new("mcpfleet-server", "echo", json!({"message": "hello"}));
        history.record(&echo, &outcome(ok("hello", false), 412));
        let pinned = CallRequest::new("mcpfleet-server", "whoami", json!({}))
            .on_task("7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f");
        history.record(&pinned, &outcome(ok("task 7a3e5c1b rev 2", false), 1_250));
        let mut timed_out = outcome(Err(McpError::TimedOut(Duration::from_secs(60))), 60_000_000);
        timed_out.served_by = None;
        let sleep = CallRequest::new("everything", "sleep", json!({"duration_ms": 90000}));
        history.record(&sleep, &timed_out);
        let mut cancelled = CallOutcome::failed(McpError::Cancelled, Instant::now());
        cancelled.duration = Duration::from_millis(3_400);
        history.record(&sleep, &cancelled);
        history.record(&echo, &outcome(ok("message must not be empty", true), 980));
        fixture
    }

    /// Entries are stamped when recorded, so the clock column is masked.
    fn masked(text: &str) -> String {
        let clock = regex::Regex::new(r"\b\d\d:\d\d:\d\d\b").unwrap();
        clock.replace_all(text, "hh:mm:ss").into_owned()
    }

    #[test]
    fn rows_and_reopening_a_call() {
        let fixture = fixture();
        let ctx = fixture.context();
        let newest = fixture.history.entries().next().unwrap();
        let r = row(newest);
        assert_eq!(
            (r.kind, r.duration.as_str(), r.task.as_str()),
            (OutcomeKind::ToolError, "1.0 ms", "0f2ab1c9")
        );
        let mut view = HistoryView::new(Scope::service("mcpfleet-server"));
        crate::ui::views::snapshot_support::render(&mut view, &ctx, 80, 24);
        assert_eq!(view.list.ids().len(), 3, "only this service's calls");
        view.on_key(KeyId::Down, &ctx);
        assert_eq!(
            view.on_key(KeyId::Open, &ctx),
            Some(Action::OpenCall {
                scope: Scope::task("mcpfleet-server", "7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f"),
                tool: "whoami".into(),
                arguments: Some(json!({})),
            })
        );
    }

    #[test]
    fn the_filter_finds_a_call_by_its_arguments_and_its_task() {
        let fixture = fixture();
        let ctx = fixture.context();
        let mut view = HistoryView::new(Scope::fleet());
        let shown = |view: &mut HistoryView, filter: &str| {
            view.list.set_filter(filter.into());
            crate::ui::views::snapshot_support::render(view, &ctx, 120, 30);
            view.list.ids().len()
        };
        assert_eq!(
            shown(&mut view, "duration_ms\":90000"),
            2,
            "both sleep calls"
        );
        assert_eq!(
            shown(&mut view, "\"HELLO\""),
            2,
            "the echoes of hello, by argument"
        );
        assert_eq!(
            shown(&mut view, "0f2ab1c9"),
            3,
            "the calls that task served"
        );
        assert_eq!(shown(&mut view, "no such thing"), 0);
    }

    #[test]
    fn a_click_after_scrolling_selects_the_call_under_it() {
        let mut fixture = Fixture::new();
        for tool in numbered("tool-") {
            let call = CallRequest::new("mcpfleet-server", tool, json!({}));
            let done = outcome(ok("done", false), 500);
            fixture.history.record(&call, &done);
        }
        let ctx = fixture.context();
        let mut view = HistoryView::new(Scope::fleet());
        // Newest first: the last call is on top.
        click_after_scroll(&mut view, &ctx, "tool-19", "tool-03");
        let call = view.on_key(KeyId::Open, &ctx);
        assert!(matches!(call, Some(Action::OpenCall { tool, .. }) if tool == "tool-03"));
    }

    #[test]
    fn ctrl_g_goes_to_the_log_lines_of_the_task_that_served_the_call() {
        use crate::ui::views::call::fixtures::{TASK, TRACE};
        let mut fixture = Fixture::new();
        let call = CallRequest::new("mcpfleet-server", "search_logs", json!({}));
        let mut unsent = outcome(Err(McpError::Cancelled), 10);
        unsent.served_by = None;
        fixture.history.record(&call, &unsent);
        fixture
            .history
            .record(&call, &crate::ui::views::call::fixtures::outcome(false));
        let ctx = fixture.context();
        let mut view = HistoryView::new(Scope::fleet());
        let text = crate::ui::views::snapshot_support::render(&mut view, &ctx, 120, 40);
        assert!(text.contains(&format!("trace {TRACE}")), "{text}");
        assert_eq!(
            view.on_key(KeyId::TraceLogs, &ctx),
            Some(Action::OpenTraceLogs {
                scope: Scope::task("mcpfleet-server", TASK),
                trace_id: TRACE.into(),
            })
        );
        view.on_key(KeyId::Down, &ctx);
        assert!(matches!(
            view.on_key(KeyId::TraceLogs, &ctx),
            Some(Action::Message(m)) if m.contains("never sent")
        ));
    }

    #[test]
    fn a_kept_call_shows_its_wire_record_on_ctrl_p() {
        let mut fixture = Fixture::new();
        let call = CallRequest::new("mcpfleet-server", "search_logs", json!({}));
        fixture
            .history
            .record(&call, &crate::ui::views::call::fixtures::outcome(false));
        let ctx = fixture.context();
        let mut view = HistoryView::new(Scope::fleet());
        let render = |view: &mut HistoryView| {
            crate::ui::views::snapshot_support::render(view, &ctx, 120, 40)
        };
        assert!(render(&mut view).contains("arguments"));
        assert_eq!(view.on_key(KeyId::Protocol, &ctx), None);
        let text = render(&mut view);
        assert!(
            text.contains("POST http://10.0.1.17:8080/mcp → 200"),
            "{text}"
        );
        assert!(text.contains("\"method\": \"tools/call\""), "{text}");
    }

    #[test]
    fn snapshots() {
        let fixture = fixture();
        let ctx = fixture.context();
        let mut view = HistoryView::new(Scope::fleet());
        for (width, height) in crate::ui::views::snapshot_support::SIZES {
            let text = crate::ui::views::snapshot_support::render(&mut view, &ctx, width, height);
            insta::assert_snapshot!(format!("history_{width}x{height}"), masked(&text));
        }
        let empty = Fixture::new();
        let text = crate::ui::views::snapshot_support::render(&mut view, &empty.context(), 80, 24);
        assert!(text.starts_with("no calls yet"));
    }
}
