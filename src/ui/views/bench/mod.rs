//! The bench page: the call form's call run by many workers for a while, drawn live in the
//! manner of oha — progress against the planned duration, calls/s and p50/p99 over time,
//! failures per second and by kind, a row per replica, the latency histogram — and the
//! summary when the run ends. Leaving the page stops the run.

mod charts;
#[cfg(test)]
mod tests;

use std::{sync::Arc, time::SystemTime};

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    style::Style,
    text::{Line, Span},
    widgets::{Paragraph, Wrap},
};
use tokio_util::sync::CancellationToken;

use super::{Context, View};
use crate::{
    inert::inert_line,
    mcp::{
        CallId, CallUpdate,
        bench::{BenchPlan, BenchReport, ms_text},
        repro::replica_label,
    },
    ui::{
        action::{Action, Scope, ViewKind},
        keys::KeyId,
        theme::Theme,
    },
};

/// At this width and up the replica table and the histogram sit side by side.
const SIDE_BY_SIDE: u16 = 120;

/// Where the run is.
enum State {
    /// Opening the workers' conversations, before the measured window.
    Opening,
    Running,
    Ended,
    /// No worker could start, and why.
    Failed(String),
}

pub struct BenchView {
    scope: Scope,
    tool: String,
    /// What the page runs, in one line.
    plan: String,
    planned_s: f64,
    workers: usize,
    report: Arc<BenchReport>,
    state: State,
    started: Option<CallId>,
    /// Stops the run; cancelled when the page goes.
    cancel: Option<CancellationToken>,
}

impl BenchView {
    pub fn new(scope: Scope, plan: &BenchPlan, replicas: usize) -> Self {
        let over = match &scope.task {
            Some(task) => format!("task {} only", replica_label(Some(task))),
            None => format!("ready replicas ({replicas} now)"),
        };
        let arguments = if plan.arguments.is_null() {
            "{}".to_string()
        } else {
            plan.arguments.to_string()
        };
        let planned_s = plan.duration.map_or(0.0, |d| d.as_secs_f64());
        Self {
            plan: inert_line(&format!(
                "{} {arguments} · {} workers × {planned_s:.0} s · {} · on {over}",
                plan.tool,
                plan.concurrency,
                if plan.stateless {
                    "stateless"
                } else {
                    "sessions"
                },
            ))
            .into_owned(),
            tool: plan.tool.clone(),
            planned_s,
            workers: plan.concurrency,
            report: Arc::new(BenchReport::default()),
            state: State::Opening,
            started: None,
            cancel: None,
            scope,
        }
    }

    pub fn running(&mut self, cancel: CancellationToken) {
        self.cancel = Some(cancel);
    }

    fn take(&mut self, report: Arc<BenchReport>, ended: bool) {
        self.report = report;
        self.state = if ended { State::Ended } else { State::Running };
    }

    fn ended(&self) -> bool {
        matches!(self.state, State::Ended | State::Failed(_))
    }
}

impl Drop for BenchView {
    fn drop(&mut self) {
        if let Some(cancel) = &self.cancel {
            cancel.cancel();
        }
    }
}

impl View for BenchView {
    fn kind(&self) -> ViewKind {
        ViewKind::Bench
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        format!("bench({})", self.tool)
    }

    fn is_list(&self) -> bool {
        false
    }

    fn on_key(&mut self, key: KeyId, _ctx: &Context) -> Option<Action> {
        match (key, &self.cancel) {
            (KeyId::CancelCall, Some(cancel)) if !self.ended() => {
                cancel.cancel();
                Some(Action::Message("stopping after the calls in flight".into()))
            }
            (KeyId::CancelCall, _) => Some(Action::Message("the run has ended".into())),
            _ => None,
        }
    }

    fn on_call_started(&mut self, id: CallId, _at: SystemTime) {
        self.started = Some(id);
    }

    fn on_call_update(&mut self, id: CallId, update: &CallUpdate) {
        if self.started != Some(id) {
            return;
        }
        match update {
            CallUpdate::Bench(report) => self.take(report.clone(), false),
            CallUpdate::BenchDone(Ok(report)) => self.take(report.clone(), true),
            CallUpdate::BenchDone(Err(why)) => self.state = State::Failed(why.clone()),
            _ => {}
        }
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        draw(frame, area, self, ctx.theme);
    }
}

fn draw(frame: &mut Frame, area: Rect, view: &BenchView, theme: Theme) {
    let report = &view.report;
    let wide = area.width >= SIDE_BY_SIDE;
    let head = head_lines(view, theme);
    // Long lines wrap rather than lose their end on a narrow screen.
    let head_height: u16 = head
        .iter()
        .map(|line| (line.width() as u16).div_ceil(area.width.max(1)).max(1))
        .sum();
    let table = charts::replica_lines(report, theme);
    let table_height = table.len() as u16;
    let [head_area, middle, errors, bottom] = Layout::vertical([
        Constraint::Length(head_height),
        Constraint::Fill(1),
        Constraint::Length(1),
        if wide {
            Constraint::Length(table_height.max(10))
        } else {
            Constraint::Fill(1)
        },
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), head_area);
    let [calls, latency] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(middle);
    charts::calls_chart(frame, calls, report, view.planned_s, theme);
    charts::latency_chart(frame, latency, report, view.planned_s, theme);
    charts::errors_line(frame, errors, report, theme);
    let (table_area, histogram_area) = if wide {
        let [left, right] =
            Layout::horizontal([Constraint::Fill(3), Constraint::Fill(2)]).areas(bottom);
        (left, right)
    } else {
        let [top, below] =
            Layout::vertical([Constraint::Length(table_height), Constraint::Fill(1)]).areas(bottom);
        (top, below)
    };
    frame.render_widget(Paragraph::new(table), table_area);
    charts::histogram(frame, histogram_area, report, theme);
}

/// The progress bar, what runs, and the figures so far (the summary once it ended).
fn head_lines(view: &BenchView, theme: Theme) -> Vec<Line<'static>> {
    let report = &view.report;
    let width = 30;
    let share = if view.planned_s > 0.0 {
        (report.elapsed_s / view.planned_s).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let filled = ((share * width as f64) as usize).min(width);
    let state = match &view.state {
        State::Opening => format!("opening {} conversations…", view.workers),
        State::Running => "running · ctrl-x stops".to_string(),
        State::Ended if report.stopped_early => "stopped early".to_string(),
        State::Ended => "done".to_string(),
        State::Failed(_) => "not started".to_string(),
    };
    let gauge = Line::from(vec![
        Span::styled("█".repeat(filled), theme.ok()),
        Span::styled("░".repeat(width - filled), theme.dim()),
        Span::raw(format!(
            " {:.1}/{:.0} s · {state}",
            report.elapsed_s, view.planned_s
        )),
    ]);
    let figures = match &view.state {
        State::Failed(why) => Line::styled(
            format!("no worker could start: {}", inert_line(why)),
            theme.error(),
        ),
        State::Opening => Line::styled(
            "the measured window opens once every worker has its conversation",
            theme.dim(),
        ),
        State::Running | State::Ended => {
            let l = &report.latency;
            Line::styled(
                format!(
                    "{} calls · {} failed · {:.0} calls/s · p50 {} · p99 {} · max {} ms",
                    report.calls,
                    report.failures,
                    report.calls_per_sec,
                    ms_text(l.p50_ms),
                    ms_text(l.p99_ms),
                    ms_text(l.max_ms)
                ),
                if view.ended() {
                    theme.title()
                } else {
                    Style::default()
                },
            )
        }
    };
    let mut lines = vec![gauge, Line::styled(view.plan.clone(), theme.dim()), figures];
    if let State::Ended = view.state {
        lines.push(Line::styled(
            format!(
                "{} sessions ({}) opened in {:.0} ms before the window · {} moves · {} retries",
                report.sessions,
                report.protocol.as_deref().unwrap_or("?"),
                report.setup_ms,
                report.moves,
                report.retries
            ),
            theme.dim(),
        ));
    }
    for line in &report.not_started {
        lines.push(Line::styled(
            format!("not started: {}", inert_line(line)),
            theme.warn(),
        ));
    }
    lines
}
