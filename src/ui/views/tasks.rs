//! The tasks of one service: revision (old/new during a rollout), zone, address, status,
//! health, the MCP probe's latency, in-flight calls now and over time, the last minute's calls
//! per second, error rate and p50/p99 latency (and where they came from), whether the task
//! stands out from the rest of its service (or has an SSE stream silent for longer than the
//! idle timeout in front of it: `! sse`, spelled out with its streams' figures below the
//! table), uptime and the source's notes on each task;
//! stopped tasks last, with their reason. The source's notes on the service stand above the
//! table. Enter opens the task's logs, `o` its tools, `D` the doctor's check of its
//! connection, `x` stops it (after confirmation).

use std::{cmp::Reverse, collections::HashMap, time::SystemTime};

use ratatui::layout::{Constraint::Length, Constraint::Max, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};
use ratatui::{Frame, style::Style};

use super::{Context, View, chrome::age};
use crate::fleet::{
    Command, DeploymentStatus, FigureSource, Outlier, Service, Task, TaskStatus, crashloop,
};
use crate::mcp::{Probe, figures::CallFigures};
use crate::ui::action::{Action, Scope, ViewKind};
use crate::ui::keys::KeyId;
use crate::ui::log_buffer::LogBuffer;
use crate::ui::widgets::{list::ListState, sparkline_text};

/// (header, widest it gets, shown only on wide terminals); columns shrink to their content
/// and NOTES (a stopped task's reason) takes the rest.
pub const COLUMNS: &[(&str, u16, bool)] = &[
    ("TASK", 8, false),
    ("REV", 5, false),
    ("AZ", 15, true),
    ("ADDRESS", 21, true),
    ("STATUS", 12, false),
    ("HEALTH", 9, false),
    ("PROBE", 7, false),
    ("IN-FLIGHT", 9, false),
    ("TREND", 8, true),
    ("CALLS/S", 7, false),
    ("ERR%", 5, false),
    ("P50", 7, true),
    ("P99", 7, false),
    ("FROM", 7, true),
    ("OUTLIER", 9, false),
    ("UPTIME", 6, true),
    ("NOTES", 0, false),
];
const TREND: usize = 8;
/// Below this width the wide-only columns go (the detail line below spells out the address).
const WIDE: u16 = 140;
/// In-flight samples kept per task: as many as the TREND column shows.
const TREND_POINTS: usize = 8;
/// Lines under the table for the selected task spelled out (full id, URL, stop reason, a
/// stream warning, notes, its streams' figures).
const DETAIL_LINES: u16 = 5;
/// Lines above the table for the service's notes; the last one counts those left out.
const NOTE_LINES: usize = 2;

/// One row of the table, computed from the service alone (a pure function, tested alone).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub id: String,
    pub stopped: bool,
    /// The text of each `COLUMNS` entry; TREND is left to the view.
    pub cells: [String; 17],
}

/// What the MCP worker says of each task, by task id: its probes, and the figures of the
/// console's own calls where the task's server has no metrics.
#[derive(Clone, Copy)]
pub struct Probed<'a> {
    pub probes: &'a HashMap<String, Probe>,
    pub errors: &'a HashMap<String, String>,
    pub calls: &'a CallFigures,
    /// Each task's SSE streams, judged against the idle timeout in front of the service.
    pub streams: &'a crate::mcp::StreamsByTask,
    pub idle_timeout: std::time::Duration,
}

impl Probed<'_> {
    fn stream_warned(&self, task_id: &str, now: SystemTime) -> bool {
        let health = self.streams.get(task_id);
        health.is_some_and(|h| h.judge(self.idle_timeout, now).is_some())
    }

    /// The last probe's `tools/list` round trip, or that it failed.
    fn cell(&self, task_id: &str) -> Option<String> {
        if self.errors.contains_key(task_id) {
            return Some("failed".into());
        }
        let probe = self.probes.get(task_id)?;
        Some(millis(probe.latency.as_secs_f64() * 1000.0))
    }
}

/// Milliseconds with one decimal below 10 ms, where loopback calls sit, and none above.
pub fn millis(ms: f64) -> String {
    match ms < 10.0 {
        true => format!("{ms:.1}ms"),
        false => format!("{ms:.0}ms"),
    }
}

fn is_stopped(task: &Task) -> bool {
    task.stopped_at.is_some() || task.last_status == TaskStatus::Stopped
}

/// ECS spells statuses and health as our variant names in capitals ("DEACTIVATING").
fn label(value: impl std::fmt::Debug) -> String {
    format!("{value:?}").to_uppercase()
}

/// Live tasks in the source's order, then stopped ones, most recently stopped first.
/// Revisions are marked new/old against the PRIMARY deployment while older ones are active.
pub fn rows(service: &Service, probed: Probed, now: SystemTime) -> Vec<TaskRow> {
    let (deployments, inactive) = (service.deployments.iter(), DeploymentStatus::Inactive);
    let rolling = deployments.filter(|d| d.status != inactive).count() > 1;
    let primary = service.primary().map(|d| d.revision);
    let mut tasks: Vec<&Task> = service.tasks.iter().collect();
    tasks.sort_by_key(|t| (is_stopped(t), Reverse(t.stopped_at)));
    let or_dash = |text: Option<String>| text.unwrap_or_else(|| "-".into());
    let row = |task: &Task| {
        let stopped = is_stopped(task);
        let live = |text: String| (!stopped).then_some(text);
        let revision = match primary {
            Some(new) if rolling && new == task.revision => format!("{new} new"),
            Some(_) if rolling => format!("{} old", task.revision),
            _ => task.revision.to_string(),
        };
        let status = match task.draining && !stopped {
            true => "DRAINING".into(),
            false => label(task.last_status),
        };
        let in_flight = task.metrics.as_ref().map(|m| m.in_flight.to_string());
        let recent = task.metrics.as_ref().and_then(|m| m.recent.as_ref());
        let recent = recent.or(probed.calls.by_task.get(&task.id));
        let recent = recent.filter(|_| !stopped);
        let outlier = task
            .outlier
            .or(probed.calls.outliers.get(&task.id).copied());
        let figure = |f: fn(&crate::fleet::Recent) -> Option<String>| or_dash(recent.and_then(f));
        let cells = [
            task.id.chars().take(8).collect(),
            revision,
            or_dash(task.availability_zone.clone()),
            or_dash(task.endpoint.as_ref().map(|e| e.address.clone())),
            status,
            or_dash(live(label(task.health))),
            or_dash(probed.cell(&task.id).and_then(live)),
            or_dash(in_flight.and_then(live)),
            String::new(),
            figure(|r| Some(format!("{:.1}", r.calls_per_sec))),
            figure(|r| r.error_rate.map(|e| format!("{e:.1}"))),
            figure(|r| r.p50_ms.map(millis)),
            figure(|r| r.p99_ms.map(millis)),
            figure(|r| {
                Some(match r.from {
                    FigureSource::Metrics => "metrics".into(),
                    FigureSource::Console => "console".into(),
                })
            }),
            match outlier.filter(|_| !stopped) {
                Some(Outlier::Errors) => "! errors".into(),
                Some(Outlier::Latency) => "! latency".into(),
                // A stream that outlasts the idle timeout in front; the detail says more.
                None if !stopped && probed.stream_warned(&task.id, now) => "! sse".into(),
                None => String::new(),
            },
            or_dash(task.started_at.and_then(|at| live(age(at, now)))),
            match stopped {
                true => task.stopped_reason.clone().unwrap_or_default(),
                false => task.notes.join("; "),
            },
        ];
        let id = task.id.clone();
        TaskRow { id, stopped, cells }
    };
    tasks.into_iter().map(row).collect()
}

/// The selected task spelled out: what the columns abbreviate or cut.
pub fn detail(task: &Task, now: SystemTime) -> String {
    if is_stopped(task) {
        let when = task.stopped_at.map(|at| format!(" {} ago", age(at, now)));
        let exit = task.exit_code.map(|code| format!(", exit {code}"));
        let code = task.stop_code.as_ref().map(|code| format!(" ({code})"));
        let reason = task.stopped_reason.as_deref().unwrap_or("no reason given");
        let (when, exit) = (when.unwrap_or_default(), exit.unwrap_or_default());
        let code = code.unwrap_or_default();
        // Each container's own end, where it says more than the task does.
        let containers: String = task
            .containers
            .iter()
            .filter_map(|c| {
                let exit = c.exit_code.map(|code| format!(" exit {code}"));
                let said = [exit, c.reason.as_ref().map(|r| format!(": {r}"))];
                let said: String = said.into_iter().flatten().collect();
                (!said.is_empty()).then(|| format!(" · container {}{said}", c.name))
            })
            .collect();
        return format!(
            "task {} stopped{when}{exit}{code}: {reason}{containers}",
            task.id
        );
    }
    let url = task.endpoint.as_ref().map_or("no endpoint", |e| &e.url);
    let (id, deployment) = (&task.id, &task.deployment_id);
    format!("task {id} · {url} · deployment {deployment}")
}

/// The last `n` lines a task logged, oldest first, from the console's log buffer: for a
/// stopped task, what it said before it died.
pub fn last_words(logs: &LogBuffer, task_id: &str, n: usize) -> Vec<String> {
    let mut words: Vec<String> = logs
        .lines()
        .iter()
        .rev()
        .filter(|line| line.task_id == task_id)
        .take(n)
        .map(|line| crate::inert::inert_line(&line.message).into_owned())
        .collect();
    words.reverse();
    words
}

/// A service whose tasks have no figures of their own but whose Service Connect traffic is
/// known: that traffic is the whole service's, said once above the table rather than spread
/// over the tasks.
pub fn traffic_line(service: &Service) -> Option<String> {
    let traffic = service.traffic.as_ref()?;
    let live = service.tasks.iter().filter(|t| !is_stopped(t));
    let measured = live
        .filter_map(|t| t.metrics.as_ref())
        .any(|m| m.recent.is_some());
    let requests = traffic.requests.last().copied().filter(|_| !measured)?;
    let errors = traffic.errors_5xx.last().copied().unwrap_or(0.0);
    let share = (requests > 0.0).then(|| format!(", {:.1}% 5xx", 100.0 * errors / requests));
    let (rate, share) = (requests / 60.0, share.unwrap_or_default());
    Some(format!(
        "whole service (Service Connect, last minute): {rate:.1} calls/s{share}; \
         per-task figures need each task's /metrics"
    ))
}

/// The service's notes as lines of at most `width` characters, marked `!`: the first
/// `NOTE_LINES` of them, the last line saying how many more there are.
pub fn note_lines(notes: &[String], width: usize) -> Vec<String> {
    let shown = notes.len().min(NOTE_LINES);
    let more = notes.len() - shown;
    let line = |(i, note): (usize, &String)| {
        let last = i + 1 == shown && more > 0;
        let tail = if last {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        let room = width.saturating_sub(tail.chars().count());
        format!("{}{tail}", clip(&format!("! {note}"), room))
    };
    notes[..shown].iter().enumerate().map(line).collect()
}

/// `text` cut to `width` characters, with an ellipsis when something was cut.
pub fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let kept = text.chars().take(width.saturating_sub(1));
    kept.chain((width > 0).then_some('…')).collect()
}

/// The reason an operator's stop is recorded with in ECS.
pub fn stop_reason(user: Option<&str>) -> String {
    let user = user.filter(|u| !u.is_empty()).unwrap_or("operator");
    format!("stopped from mcpfleet by {user}")
}

#[derive(Default)]
pub struct TasksView {
    scope: Scope,
    service: String,
    list: ListState,
}

impl TasksView {
    pub fn new(scope: Scope) -> Self {
        let service = scope.service.clone().unwrap_or_default();
        Self {
            service,
            scope,
            ..Self::default()
        }
    }
}

impl View for TasksView {
    fn kind(&self) -> ViewKind {
        ViewKind::Tasks
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        format!("tasks({})", self.service)
    }

    fn list(&self) -> Option<&ListState> {
        Some(&self.list)
    }

    fn list_mut(&mut self) -> Option<&mut ListState> {
        Some(&mut self.list)
    }

    fn on_key(&mut self, key: KeyId, ctx: &Context) -> Option<Action> {
        let service = self.service.clone();
        let task = match key {
            KeyId::Open
            | KeyId::Tools
            | KeyId::StopTask
            | KeyId::Doctor
            | KeyId::Exec
            | KeyId::Forward => self.list.selected_id()?,
            KeyId::Logs => return Some(Action::Open(ViewKind::Logs, Scope::service(service))),
            other => return self.list.on_key(other),
        };
        // A task gone from the fleet since the rows were drawn counts as stopped.
        let stopped = ctx
            .snapshot
            .service(&service)?
            .task(task)
            .is_none_or(is_stopped);
        let (task_id, short) = (task.to_string(), &task[..task.len().min(8)]);
        Some(match key {
            KeyId::Open => Action::Open(ViewKind::Logs, Scope::task(service, task_id)),
            KeyId::StopTask if stopped => {
                Action::Message(format!("task {short} is already stopped"))
            }
            KeyId::Doctor if stopped => {
                Action::Message(format!("task {short} is stopped: nothing answers there"))
            }
            KeyId::Doctor => Action::Open(ViewKind::Doctor, Scope::task(service, task_id)),
            KeyId::Exec | KeyId::Forward if stopped => {
                Action::Message(format!("task {short} is stopped: nothing runs there"))
            }
            KeyId::Exec => Action::Exec(Scope::task(service, task_id)),
            KeyId::Forward => Action::Forward(Scope::task(service, task_id)),
            _ if stopped => Action::Message(format!("task {short} is stopped: it has no tools")),
            KeyId::Tools => Action::Open(ViewKind::Tools, Scope::task(service, task_id)),
            _ => {
                let reason = stop_reason(std::env::var("USER").ok().as_deref());
                Action::Confirm(Command::StopTask {
                    service,
                    task_id,
                    reason,
                })
            }
        })
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let Some(service) = ctx.snapshot.service(&self.service) else {
            self.list.clear();
            let note = format!("service {} is no longer in the fleet", self.service);
            frame.render_widget(Paragraph::new(Span::styled(note, theme.warn())), area);
            return;
        };
        let probed = Probed {
            probes: ctx.probes,
            errors: ctx.probe_errors,
            calls: ctx.calls,
            streams: ctx.streams,
            idle_timeout: ctx.idle_timeouts.idle_timeout(&self.service),
        };
        let mut rows = rows(service, probed, ctx.now);
        rows.retain(|r| self.list.matches(&r.cells));
        for r in &mut rows {
            let points = ctx.trends.tasks.get(&r.id).into_iter().flatten();
            // Padded, so the column does not grow while the history fills.
            r.cells[TREND] = format!("{:TREND_POINTS$}", sparkline_text(points, TREND_POINTS));
        }
        let hidden = |i: usize| COLUMNS[i].2 && area.width < WIDE;
        let shown: Vec<usize> = (0..COLUMNS.len()).filter(|&i| !hidden(i)).collect();
        // Each column as wide as its widest cell, up to its limit; the reason gets the rest.
        let width = |i: usize| {
            let (header, limit, _) = COLUMNS[i];
            let cells = rows.iter().map(|r| r.cells[i].chars().count());
            cells.fold(header.len(), usize::max).min(usize::from(limit))
        };
        let mut widths: Vec<usize> = shown.iter().map(|&i| width(i)).collect();
        let used: usize = widths.iter().map(|w| w + 1).sum();
        let last = shown.len() - 1;
        widths[last] = (usize::from(area.width) + 1).saturating_sub(used);
        let table_rows = rows.iter().map(|r| {
            let cells = shown.iter().zip(&widths).map(|(&i, &width)| {
                let style = match (COLUMNS[i].0, &r.cells[i][..]) {
                    ("STATUS", "DRAINING") => theme.warn(),
                    ("HEALTH", "UNKNOWN") => theme.dim(),
                    ("HEALTH", "HEALTHY") => theme.ok(),
                    ("HEALTH", "UNHEALTHY") => theme.error(),
                    ("PROBE", "failed") => theme.error(),
                    ("OUTLIER", _) => theme.warn(),
                    ("FROM", _) => theme.dim(),
                    ("TREND", _) => theme.title(),
                    _ => Style::default(),
                };
                Line::styled(clip(&r.cells[i], width), style)
            });
            let (row, dim) = (Row::new(cells), theme.dim());
            if r.stopped { row.style(dim) } else { row }
        });
        let header: Vec<&str> = shown.iter().map(|&i| COLUMNS[i].0).collect();
        let constraints = widths.iter().map(|&w| Length(w as u16));
        let table =
            Table::new(table_rows, constraints).header(Row::new(header).style(theme.header()));

        let crash = service.crash_loop.as_ref().map(|crash| {
            let text = format!(
                "crash loop: {} tasks died in the last {} min; newest {}",
                crash.died,
                crashloop::WINDOW.as_secs() / 60,
                crate::inert::inert_line(&crash.last)
            );
            Line::styled(clip(&text, usize::from(area.width)), theme.error())
        });
        let mut notes: Vec<Line> = crash.into_iter().collect();
        notes.extend(
            note_lines(&service.notes, usize::from(area.width))
                .into_iter()
                .map(|n| Line::styled(n, theme.warn())),
        );
        notes.extend(traffic_line(service).map(|t| Line::styled(t, theme.dim())));
        // The notes, and a blank line between them and the table.
        let above_table = notes.len() as u16 + u16::from(!notes.is_empty());
        let room = area.height.saturating_sub(above_table + 1 + DETAIL_LINES);
        let height = (rows.len() as u16 + 1).min(room);
        let (notes_height, table_height) = (Length(above_table), Length(height.max(2)));
        let layout = Layout::vertical([notes_height, table_height, Length(1), Max(DETAIL_LINES)]);
        let [notes_area, table_area, _, detail_area] = layout.areas(area);

        frame.render_widget(Paragraph::new(notes), notes_area);
        let ids = rows.iter().map(|r| r.id.clone()).collect();
        self.list.draw(frame, table_area, table, ids, theme);

        let selected = self.list.selected_id().and_then(|id| service.task(id));
        let text = match selected {
            Some(task) => detail(task, ctx.now),
            None if service.tasks.is_empty() => "no tasks".into(),
            None => format!("no task matches /{}", self.list.filter()),
        };
        let mut lines = vec![Line::styled(text, theme.dim())];
        let streams = selected.and_then(|t| ctx.stream_health(&self.service, &t.id));
        if let Some((_, Some(warning))) = &streams {
            lines.push(Line::styled(
                format!("! {}", warning.advice()),
                theme.warn(),
            ));
        }
        if let Some(task) = selected.filter(|t| !t.notes.is_empty()) {
            lines.push(Line::styled(
                format!("! {}", task.notes.join("; ")),
                theme.warn(),
            ));
        }
        if let Some(task) = selected.filter(|t| is_stopped(t)) {
            let words = last_words(ctx.logs, &task.id, 2);
            lines.extend(
                words
                    .into_iter()
                    .map(|w| Line::styled(format!("» {w}"), theme.dim())),
            );
        }
        if let Some((health, _)) = streams {
            let summary = format!("streams: {}", health.summary(ctx.now));
            lines.push(Line::styled(summary, theme.dim()));
        }
        let detail = Paragraph::new(lines).wrap(Wrap { trim: true });
        frame.render_widget(detail, detail_area);
    }
}

#[cfg(test)]
#[path = "tasks_tests.rs"]
mod tests;
