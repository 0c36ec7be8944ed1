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
use crate::{inert::inert_line, mcp::CallUpdate};
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
    },
    Done(Box<CallOutcome>),
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

    pub fn start(&mut self, id: u64, now: SystemTime) {
        self.state = CallState::Running {
            id,
            started: now,
            sent_to: None,
            progress: None,
            notes: Vec::new(),
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
            ..
        } = &mut self.state
        else {
            return;
        };
        if *id != call {
            return;
        }
        match update {
            CallUpdate::Event(CallEvent::Sent { task }) => *sent_to = Some(Box::new(task.clone())),
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
            CallUpdate::FannedOut(_) => {}
        }
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, now: SystemTime, theme: Theme) {
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
                ..
            } => {
                let elapsed = now.duration_since(*started).unwrap_or_default();
                let mut lines = vec![Line::from(match sent_to {
                    Some(by) => format!("sent to {by}"),
                    None => "connecting…".into(),
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
                    result_lines(outcome, theme)
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
        pane.start(7, SystemTime::UNIX_EPOCH);
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
