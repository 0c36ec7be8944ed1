//! Drawing the console: the header, the page on top, the footer's hints or prompt or
//! message, and the dialog of the moment over it.

use std::time::SystemTime;

use ratatui::{
    Frame,
    layout::{Constraint, Layout},
    text::Line,
    widgets::Paragraph,
};

use super::{App, MIN_HEIGHT, MIN_WIDTH, Mode};
use crate::ui::views::chrome;

impl App {
    pub fn render(&mut self, frame: &mut Frame, now: SystemTime) {
        let area = frame.area();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let note = format!(
                "mcpfleet needs at least {MIN_WIDTH}×{MIN_HEIGHT}; this terminal is {}×{}.",
                area.width, area.height
            );
            frame.render_widget(
                Paragraph::new(vec![
                    Line::from(note),
                    Line::from("Enlarge it, or q to quit."),
                ]),
                area,
            );
            return;
        }
        let [header, body, footer] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(1),
            Constraint::Length(2),
        ])
        .areas(area);
        self.body = body;
        let crumbs: Vec<String> = self.stack.iter().map(|p| p.view.title()).collect();
        let top = self.stack.len() - 1;
        let filter = match &self.mode {
            Mode::Filter { text } => text.clone(),
            _ => self.stack[top].view.filter().to_string(),
        };
        let info = chrome::HeaderInfo {
            snapshot: &self.data.snapshot,
            now,
            read_only: self.data.read_only,
            crumbs,
            filter: &filter,
            dropped_logs: self.data.logs.dropped_upstream(),
            forwards: self.forwards_label(),
        };
        chrome::render_header(frame, header, &info, self.data.theme);
        {
            let ctx = self.data.context(now);
            self.stack[top].view.render(frame, body, &ctx);
        }
        let view = &self.stack[top].view;
        let hints = chrome::hints(
            view.kind(),
            view.is_list(),
            self.data.offered(),
            footer.width,
            self.data.theme,
        );
        let bottom = match &self.mode {
            Mode::Command { text, completions } => chrome::BottomLine::Prompt {
                sigil: ':',
                text,
                completions,
            },
            Mode::Filter { text } => chrome::BottomLine::Prompt {
                sigil: '/',
                text,
                completions: &[],
            },
            _ => match &self.message {
                Some((text, error, _)) => chrome::BottomLine::Message {
                    text,
                    error: *error,
                },
                None => chrome::BottomLine::Empty,
            },
        };
        chrome::render_footer(frame, footer, hints, bottom, self.data.theme);
        match &mut self.mode {
            Mode::Confirm(dialog) => {
                dialog.render(frame, body, &self.data.snapshot, self.data.theme)
            }
            Mode::SignIn(dialog) => dialog.render(frame, body, self.data.theme),
            Mode::Elicit(dialog) => dialog.render(frame, body, self.data.theme),
            Mode::Sample(dialog) => dialog.render(frame, body, self.data.theme),
            _ => {}
        }
    }
}
