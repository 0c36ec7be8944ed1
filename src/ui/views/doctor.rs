//! The doctor's screen for one task: the steps of the connection check (DNS, TCP, TLS, HTTP,
//! /healthz, the MCP handshake, tools/list) filled in as they end, each with its latency and
//! detail, and under a failed step what to check. `r` checks again. The MCP worker runs the
//! check (`Fetch::Doctor`); this page only draws what comes back.

use std::time::SystemTime;

use ratatui::{
    Frame,
    layout::{Constraint::Length, Constraint::Min, Layout, Rect},
    text::{Line, Span},
    widgets::{Paragraph, Row, Table, Wrap},
};

use super::{Context, View};
use crate::{
    inert::inert_line,
    mcp::{
        BrowseUpdate, CallId,
        doctor::{DoctorUpdate, Outcome, Step, StepName},
    },
    ui::{
        action::{Action, Fetch, Scope, ViewKind},
        keys::KeyId,
        theme::Theme,
    },
};

pub const COLUMNS: &[(&str, u16)] = &[("STEP", 10), ("RESULT", 8), ("LATENCY", 8), ("DETAIL", 0)];

/// Where the check stands.
#[derive(Debug, Clone, PartialEq)]
enum Progress {
    Running,
    Done,
    /// There was nothing to check (no such task, no endpoint), and why.
    Refused(String),
}

pub struct DoctorView {
    scope: Scope,
    /// The check whose news this page takes; an older one's is ignored.
    current: Option<CallId>,
    url: Option<String>,
    steps: Vec<Step>,
    progress: Progress,
}

impl DoctorView {
    pub fn new(scope: Scope) -> Self {
        Self {
            scope,
            current: None,
            url: None,
            steps: Vec::new(),
            progress: Progress::Running,
        }
    }

    fn failed(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.outcome == Outcome::Failed)
    }
}

/// The rows: every step there will be, those not ended yet as waiting (the next one as
/// running while the check runs).
pub fn rows(steps: &[Step], running: bool) -> Vec<[String; 4]> {
    StepName::ALL
        .iter()
        .enumerate()
        .map(|(i, name)| match steps.iter().find(|s| s.step == *name) {
            Some(step) => [
                name.label().to_string(),
                step.outcome.label().to_string(),
                step.latency_text(),
                inert_line(&step.detail).into_owned(),
            ],
            None => {
                let state = match running && i == steps.len() {
                    true => "running",
                    false => "waiting",
                };
                [name.label().into(), state.into(), "-".into(), String::new()]
            }
        })
        .collect()
}

impl View for DoctorView {
    fn kind(&self) -> ViewKind {
        ViewKind::Doctor
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        let task = self.scope.task.as_deref().unwrap_or("");
        format!("doctor({})", &task[..task.len().min(8)])
    }

    fn is_list(&self) -> bool {
        false
    }

    fn on_key(&mut self, key: KeyId, _ctx: &Context) -> Option<Action> {
        match key {
            KeyId::Again if self.progress != Progress::Running => {
                Some(Action::Fetch(self.scope.clone(), Fetch::Doctor))
            }
            KeyId::Again => Some(Action::Message("the check is still running".into())),
            _ => None,
        }
    }

    fn initial_fetches(&self) -> Vec<Fetch> {
        vec![Fetch::Doctor]
    }

    fn on_fetch_started(&mut self, id: CallId, _fetch: &Fetch) {
        *self = Self {
            current: Some(id),
            ..Self::new(self.scope.clone())
        };
    }

    fn on_fetch_update(
        &mut self,
        id: CallId,
        update: &BrowseUpdate,
        _now: SystemTime,
    ) -> Option<Fetch> {
        let BrowseUpdate::Doctor(update) = update else {
            return None;
        };
        if self.current != Some(id) {
            return None;
        }
        match update {
            DoctorUpdate::Target { url, .. } => self.url = Some(url.clone()),
            DoctorUpdate::Step(step) => self.steps.push(step.clone()),
            DoctorUpdate::Done(Ok(diagnosis)) => {
                self.steps = diagnosis.steps.clone();
                self.progress = Progress::Done;
            }
            DoctorUpdate::Done(Err(error)) => self.progress = Progress::Refused(error.to_string()),
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let task = self.scope.task.as_deref().unwrap_or("");
        let url = self.url.as_deref().map_or("…".into(), inert_line);
        let heading = Line::from(vec![
            Span::styled(format!("task {task}"), theme.title()),
            Span::styled(format!(" · {url}"), theme.dim()),
        ]);
        let [head_area, table_area, verdict_area] =
            Layout::vertical([Length(2), Length(StepName::ALL.len() as u16 + 1), Min(0)])
                .areas(area);
        frame.render_widget(Paragraph::new(heading), head_area);

        let running = self.progress == Progress::Running;
        let table_rows = rows(&self.steps, running).into_iter().map(|cells| {
            let style = result_style(theme, &cells[1]);
            let [step, result, latency, detail] = cells;
            Row::new(vec![
                Line::raw(step),
                Line::styled(result, style),
                Line::raw(latency),
                Line::raw(detail),
            ])
        });
        let widths = COLUMNS.iter().map(|&(_, width)| match width {
            0 => Min(0),
            width => Length(width),
        });
        let header = Row::new(COLUMNS.iter().map(|&(name, _)| name)).style(theme.header());
        frame.render_widget(Table::new(table_rows, widths).header(header), table_area);

        let verdict: Vec<Line> = match (&self.progress, self.failed()) {
            (Progress::Refused(why), _) => vec![Line::styled(why.clone(), theme.error())],
            (_, Some(step)) => vec![
                Line::styled(format!("{} failed", step.step.label()), theme.error()),
                Line::raw(format!(
                    "what to check: {}",
                    inert_line(step.hint.as_deref().unwrap_or(""))
                )),
            ],
            (Progress::Done, None) => vec![Line::styled("every step passed", theme.ok())],
            (Progress::Running, None) => vec![Line::styled("checking…", theme.dim())],
        };
        let verdict = Paragraph::new(verdict).wrap(Wrap { trim: true });
        frame.render_widget(
            verdict,
            verdict_area.inner(ratatui::layout::Margin::new(0, 1)),
        );
    }
}

fn result_style(theme: Theme, result: &str) -> ratatui::style::Style {
    match result {
        "ok" => theme.ok(),
        "failed" => theme.error(),
        "running" => theme.title(),
        _ => theme.dim(),
    }
}

#[cfg(test)]
#[path = "doctor_tests.rs"]
mod tests;
