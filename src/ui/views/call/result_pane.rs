//! The lower pane of the call view and the call's life: idle, running (the task it went to,
//! retries, a progress bar from the server's notifications, elapsed time), done (the result or
//! the protocol exchange, scrollable, over the "served by" footer).

use std::time::{Duration, SystemTime};

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph},
};

use super::{
    protocol::protocol_lines,
    result::{millis, result_lines, served_line, status, wrap},
};
use crate::{
    inert::inert_line,
    mcp::{CallUpdate, McpError, TaskOutcome, compare::Comparison},
};
use crate::{
    mcp::{CallEvent, CallOutcome, ServedBy},
    ui::{keys::KeyId, theme::Theme},
};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub progress: f64,
    pub total: Option<f64>,
    /// The latest message the server sent with its progress.
    pub message: Option<String>,
    pub updates: usize,
}

pub enum CallState {
    Idle,
    Running {
        id: u64,
        started: SystemTime,
        sent_to: Option<Box<ServedBy>>,
        progress: Option<Progress>,
        notes: Vec<String>,
        /// Sent to every ready task: how many have been sent so far.
        fanned: Option<usize>,
    },
    Done(Box<CallOutcome>),
    /// A fan-out's answers, compared, or why it could not start.
    Compared(Box<Result<Compared, McpError>>),
}

pub struct Compared {
    pub outcomes: Vec<TaskOutcome>,
    pub comparison: Comparison,
}

pub struct ResultPane {
    pub state: CallState,
    pub show_protocol: bool,
    scroll: usize,
    page: usize,
}

impl ResultPane {
    pub fn new() -> Self {
        Self {
            state: CallState::Idle,
            show_protocol: false,
            scroll: 0,
            page: 10,
        }
    }

    pub fn start(&mut self, id: u64, now: SystemTime, fan_out: bool) {
        self.state = CallState::Running {
            id,
            started: now,
            sent_to: None,
            progress: None,
            notes: Vec::new(),
            fanned: fan_out.then_some(0),
        };
        self.show_protocol = false;
        self.scroll = 0;
    }

    pub fn running(&self) -> Option<u64> {
        match self.state {
            CallState::Running { id, .. } => Some(id),
            _ => None,
        }
    }

    pub fn outcome(&self) -> Option<&CallOutcome> {
        match &self.state {
            CallState::Done(outcome) => Some(outcome),
            _ => None,
        }
    }

    pub fn toggle_protocol(&mut self) {
        self.show_protocol = !self.show_protocol;
        self.scroll = 0;
    }

    pub fn scroll(&mut self, key: KeyId) {
        self.scroll = match key {
            KeyId::Up => self.scroll.saturating_sub(1),
            KeyId::Down => self.scroll + 1,
            KeyId::PageUp => self.scroll.saturating_sub(self.page),
            KeyId::PageDown => self.scroll + self.page,
            _ => self.scroll,
        };
    }

    /// News of call `call`; news of other calls is not this pane's.
    pub fn update(&mut self, call: u64, update: &CallUpdate) {
        let CallState::Running {
            id,
            sent_to,
            progress,
            notes,
            fanned,
            ..
        } = &mut self.state
        else {
            return;
        };
        if *id != call {
            return;
        }
        match update {
            CallUpdate::Event(CallEvent::Sent { task }) => {
                *sent_to = Some(Box::new(task.clone()));
                if let Some(count) = fanned {
                    *count += 1;
                }
            }
            CallUpdate::Event(CallEvent::Retrying { task_id, reason }) => {
                notes.push(format!("task {} refused: {reason}", short(task_id)));
            }
            CallUpdate::Event(CallEvent::Progress {
                progress: at,
                total,
                message,
                ..
            }) => {
                let last = progress.take().unwrap_or_default();
                *progress = Some(Progress {
                    progress: *at,
                    total: *total,
                    message: message.clone().or(last.message),
                    updates: last.updates + 1,
                });
            }
            CallUpdate::Event(CallEvent::Task {
                task_id,
                status,
                message,
            }) => {
                let said = message
                    .as_deref()
                    .map(|m| format!(" — {m}"))
                    .unwrap_or_default();
                let note = format!("task {}: {status}{said}", short(task_id));
                notes.push(inert_line(&note).into_owned());
            }
            CallUpdate::Event(CallEvent::Refused(note)) => {
                notes.push(inert_line(note).into_owned());
            }
            CallUpdate::Event(CallEvent::Log(log)) => {
                notes.push(inert_line(&format!("server log {log}")).into_owned());
            }
            CallUpdate::Done(outcome) => {
                self.state = CallState::Done(outcome.clone());
                self.scroll = 0;
            }
            CallUpdate::Repro(_)
            | CallUpdate::ReproDone(_)
            | CallUpdate::Bench(_)
            | CallUpdate::BenchDone(_) => {}
            CallUpdate::FannedOut(result) => {
                let compared = result.clone().map(|outcomes| Compared {
                    comparison: Comparison::of(&outcomes),
                    outcomes,
                });
                self.state = CallState::Compared(Box::new(compared));
                self.scroll = 0;
            }
        }
    }

    /// `below` follows a call's result (not its protocol): its log lines.
    pub fn render(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        now: SystemTime,
        theme: Theme,
        below: Vec<Line<'static>>,
    ) {
        let width = usize::from(area.width);
        let (title, mut right, lines, footer) = match &self.state {
            CallState::Idle => (
                " result ",
                Line::styled(" ctrl-s sends ", theme.dim()),
                vec![Line::styled(
                    "The result, the task that served it and the JSON-RPC exchange show here.",
                    theme.dim(),
                )],
                None,
            ),
            CallState::Running {
                started,
                sent_to,
                progress,
                notes,
                fanned,
                ..
            } => {
                let elapsed = now.duration_since(*started).unwrap_or_default();
                let mut lines = vec![Line::from(match (fanned, sent_to) {
                    (Some(count), _) => format!("sent to {count} ready tasks so far"),
                    (None, Some(by)) => format!("sent to {by}"),
                    (None, None) => "connecting…".into(),
                })];
                lines.extend(notes.iter().map(|n| Line::styled(n.clone(), theme.warn())));
                lines.extend(progress_lines(progress.as_ref(), elapsed, width, theme));
                let right = Line::from(vec![
                    Span::styled(format!(" running {} ", millis(elapsed)), theme.warn()),
                    Span::styled("· ctrl-x cancels ", theme.dim()),
                ]);
                (" call ", right, lines, None)
            }
            CallState::Done(outcome) => {
                let lines = if self.show_protocol {
                    protocol_lines(&outcome.exchange, theme)
                } else {
                    let mut lines = result_lines(outcome, theme);
                    lines.extend(below);
                    lines
                };
                let right = Line::from(vec![
                    Span::raw(" "),
                    status(outcome, theme),
                    Span::raw(format!(" · {} ", millis(outcome.duration))),
                ]);
                let title = if self.show_protocol {
                    " protocol "
                } else {
                    " result "
                };
                (title, right, lines, Some(served_line(outcome)))
            }
            CallState::Compared(compared) => match &**compared {
                Ok(compared) => {
                    let groups = compared.comparison.groups.len();
                    let right = Line::styled(
                        format!(
                            " {} replicas · {groups} different answer{} ",
                            compared.outcomes.len(),
                            if groups == 1 { "" } else { "s" }
                        ),
                        if groups > 1 { theme.warn() } else { theme.ok() },
                    );
                    let lines = compared_lines(compared, theme);
                    (" every replica ", right, lines, None)
                }
                Err(error) => (
                    " every replica ",
                    Line::styled(" not sent ", theme.error()),
                    vec![Line::styled(
                        inert_line(&error.to_string()).into_owned(),
                        theme.error(),
                    )],
                    None,
                ),
            },
        };
        let lines = wrap(lines, width);
        let visible = usize::from(area.height.saturating_sub(1 + u16::from(footer.is_some())));
        self.page = visible.max(1);
        self.scroll = self.scroll.min(lines.len().saturating_sub(visible));
        if lines.len() > visible {
            let last = (self.scroll + visible).min(lines.len());
            let position = format!("{}-{last}/{} ", self.scroll + 1, lines.len());
            right.spans.push(Span::styled(position, theme.dim()));
        }
        let block = Block::new()
            .borders(Borders::TOP)
            .border_style(theme.dim())
            .title(Line::styled(title, theme.title()))
            .title(right.right_aligned());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let rows = [
            Constraint::Min(0),
            Constraint::Length(u16::from(footer.is_some())),
        ];
        let [body, foot] = Layout::vertical(rows).areas(inner);
        let shown: Vec<Line> = lines.into_iter().skip(self.scroll).take(visible).collect();
        frame.render_widget(Paragraph::new(shown), body);
        if let Some(footer) = footer {
            frame.render_widget(Paragraph::new(Line::styled(footer, theme.dim())), foot);
        }
    }
}

/// The side-by-side table, what sets each odd group apart, then each group's result once.
fn compared_lines(compared: &Compared, theme: Theme) -> Vec<Line<'static>> {
    let comparison = &compared.comparison;
    let mut lines = vec![Line::styled(
        format!(
            "{:<9} {:>4}  {:<12} {:>10}  {:<10}  {:<12}  GROUP",
            "TASK", "REV", "ZONE", "LATENCY", "OUTCOME", "RESULT"
        ),
        theme.title(),
    )];
    for replica in &comparison.replicas {
        let odd = replica.group != "A";
        let row = format!(
            "{:<9} {:>4}  {:<12} {:>10}  {:<10}  {:<12}  {}",
            short(&replica.task_id),
            replica.revision,
            replica.zone.as_deref().unwrap_or("-"),
            format!("{:.1} ms", replica.duration_ms),
            replica.outcome.label(),
            replica.hash,
            replica.group
        );
        lines.push(if odd {
            Line::styled(row, theme.warn())
        } else {
            Line::from(row)
        });
    }
    lines.push(Line::raw(""));
    if comparison.unanimous() {
        lines.push(Line::styled("every replica answered the same", theme.ok()));
    }
    for group in comparison.groups.iter().skip(1) {
        for text in group.describe() {
            let style = match text.trim_start().chars().next() {
                Some('-') => theme.error(),
                Some('+') => theme.ok(),
                _ => theme.warn(),
            };
            lines.push(Line::styled(text, style));
        }
    }
    for group in &comparison.groups {
        let Some(first) = group.first(&compared.outcomes) else {
            continue;
        };
        let tasks: Vec<&str> = group.tasks.iter().map(|t| short(t)).collect();
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("── group {} · {}", group.label, tasks.join(", ")),
            theme.title(),
        ));
        lines.extend(result_lines(&first.outcome, theme));
    }
    lines
}

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// A bar when the server gave a total; else a block that moves, so a person sees it is alive.
pub fn progress_lines(
    progress: Option<&Progress>,
    elapsed: Duration,
    width: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let Some(progress) = progress else {
        return vec![Line::styled("waiting for the result…", theme.dim())];
    };
    let bar_width = width.saturating_sub(16).clamp(10, 60);
    let (bar, label) = match progress.total.filter(|t| *t > 0.0) {
        Some(total) => {
            let share = (progress.progress / total).clamp(0.0, 1.0);
            let filled = (share * bar_width as f64).round() as usize;
            let bar = "█".repeat(filled) + &"░".repeat(bar_width - filled);
            let label = format!(
                " {}/{} {:.0}%",
                number(progress.progress),
                number(total),
                share * 100.0
            );
            (bar, label)
        }
        None => {
            let at = (elapsed.as_millis() / 100) as usize % bar_width;
            let bar = (0..bar_width)
                .map(|i| if i == at { '█' } else { '░' })
                .collect();
            (bar, format!(" {} (no total)", number(progress.progress)))
        }
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(bar, theme.ok()),
        Span::raw(label),
    ])];
    if let Some(message) = &progress.message {
        lines.push(Line::from(message.clone()));
    }
    let plural = if progress.updates == 1 { "" } else { "s" };
    let count = format!("{} progress notification{plural}", progress.updates);
    lines.push(Line::styled(count, theme.dim()));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn progress_bar_with_and_without_total() {
        let half = Progress {
            progress: 5.0,
            total: Some(10.0),
            message: Some("step 5".into()),
            updates: 5,
        };
        assert_eq!(
            text(&progress_lines(
                Some(&half),
                Duration::ZERO,
                36,
                Theme::plain()
            )),
            vec![
                "██████████░░░░░░░░░░ 5/10 50%",
                "step 5",
                "5 progress notifications"
            ]
        );
        let open = Progress {
            progress: 3.0,
            updates: 1,
            ..Progress::default()
        };
        let lines = text(&progress_lines(
            Some(&open),
            Duration::from_millis(250),
            26,
            Theme::plain(),
        ));
        assert_eq!(
            lines,
            vec!["░░█░░░░░░░ 3 (no total)", "1 progress notification"]
        );
    }

    #[test]
    fn keeps_only_its_own_calls_news() {
        let mut pane = ResultPane::new();
        pane.start(7, SystemTime::UNIX_EPOCH, false);
        let progress = |p: f64, message: Option<&str>| {
            CallUpdate::Event(CallEvent::Progress {
                task_id: "t".into(),
                progress: p,
                total: Some(4.0),
                message: message.map(Into::into),
            })
        };
        pane.update(8, &progress(1.0, Some("other call")));
        pane.update(7, &progress(1.0, Some("loading")));
        pane.update(7, &progress(2.0, None));
        let CallState::Running {
            progress: Some(p), ..
        } = &pane.state
        else {
            panic!("running with progress");
        };
        assert_eq!(
            (p.progress, p.message.as_deref(), p.updates),
            (2.0, Some("loading"), 2)
        );
        assert_eq!(pane.running(), Some(7));
    }
}

#[cfg(test)]
mod fan_out_tests {
    use super::*;
    use crate::ui::views::call::fixtures::outcome;

    #[test]
    fn a_fan_out_shows_the_table_the_groups_and_what_differs() {
        let mut pane = ResultPane::new();
        pane.start(3, SystemTime::UNIX_EPOCH, true);
        pane.update(
            3,
            &CallUpdate::Event(CallEvent::Sent {
                task: super::super::fixtures::served(),
            }),
        );
        let CallState::Running { fanned, .. } = &pane.state else {
            panic!("running");
        };
        assert_eq!(*fanned, Some(1));
        let replica = |id: &str, is_error| TaskOutcome {
            task_id: id.into(),
            revision: 2,
            zone: None,
            outcome: outcome(is_error),
        };
        let outcomes = vec![
            replica("aaaa1111", false),
            replica("bbbb2222", true),
            replica("cccc3333", false),
        ];
        pane.update(3, &CallUpdate::FannedOut(Ok(outcomes)));
        let CallState::Compared(compared) = &pane.state else {
            panic!("compared");
        };
        let lines: Vec<String> =
            compared_lines(compared.as_ref().as_ref().unwrap(), Theme::plain())
                .iter()
                .map(|l| l.to_string())
                .collect();
        assert!(lines[0].starts_with("TASK"), "{lines:#?}");
        assert!(
            lines[2].starts_with("bbbb2222") && lines[2].ends_with("  B"),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&"group B differs from group A:".to_string()),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("  outcome: 2 lines match")),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&"── group A · aaaa1111, cccc3333".to_string()),
            "{lines:#?}"
        );
    }
}
