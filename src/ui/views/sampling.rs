//! A server's request for a model's reply (sampling) in the middle of a call, answered in a
//! dialog by the person at the console: the server's messages (role and text; images and
//! audio as a line saying what they are), the system prompt, the token limit and the model
//! preferences, all inert, over an editor for the reply. The console never calls a model:
//! `ctrl-s` sends what was typed as the assistant's message from "mcpfleet-operator",
//! `ctrl-d` declines (the spec's "user rejected" error), `esc` cancels.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph, Wrap},
};
use ratatui_textarea::TextArea;
use tokio::sync::oneshot;

use crate::{
    inert::inert_line as inert,
    mcp::{
        Sampled,
        ask::{OPERATOR_MODEL, SamplingRequest, describe_sampling},
    },
    ui::widgets::dialog_area,
    ui::{action::Action, theme::Theme},
};

/// Rows of the reply editor.
const EDITOR_ROWS: u16 = 6;

pub struct SamplingDialog {
    /// Who asks: the service, else the endpoint's URL.
    pub asker: String,
    /// The request as it reads, inert.
    conversation: Vec<(String, String)>,
    details: Vec<(&'static str, String)>,
    editor: TextArea<'static>,
    /// Lines of the conversation scrolled past (page up / page down).
    scroll: u16,
    reply: Option<oneshot::Sender<Sampled>>,
    problem: Option<String>,
}

impl SamplingDialog {
    pub fn new(asker: String, request: &SamplingRequest, reply: oneshot::Sender<Sampled>) -> Self {
        let shown = describe_sampling(request);
        let conversation = shown
            .messages
            .into_iter()
            .flat_map(|(role, parts)| {
                parts
                    .into_iter()
                    .map(move |part| (role.clone(), part))
                    .collect::<Vec<_>>()
            })
            .collect();
        let details = shown
            .details
            .into_iter()
            .map(|(label, value)| (label, inert(&value).into_owned()))
            .collect();
        let mut editor = TextArea::default();
        editor.set_placeholder_text("the reply, as the assistant's message");
        Self {
            asker,
            conversation,
            details,
            editor,
            scroll: 0,
            reply: Some(reply),
            problem: None,
        }
    }

    fn answer(&mut self, answer: Sampled) {
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(answer);
        }
    }

    /// Some(action) closes the dialog (after answering the server).
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers == KeyModifiers::CONTROL;
        match key.code {
            KeyCode::Esc => {
                self.answer(Sampled::Cancel);
                Some(Action::Message(format!(
                    "cancelled the reply to {}",
                    self.asker
                )))
            }
            KeyCode::Char('d') if ctrl => {
                self.answer(Sampled::Decline);
                Some(Action::Message(format!(
                    "declined {}'s request for a model's reply",
                    self.asker
                )))
            }
            KeyCode::Char('s') if ctrl => {
                let text = self.editor.lines().join("\n");
                if text.trim().is_empty() {
                    self.problem = Some("type a reply first, or ctrl-d to decline".into());
                    return None;
                }
                self.answer(Sampled::Reply(text));
                Some(Action::Message(format!(
                    "sent your reply to {} (as {OPERATOR_MODEL})",
                    self.asker
                )))
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(5);
                None
            }
            KeyCode::PageDown => {
                self.scroll = self.scroll.saturating_add(5);
                None
            }
            _ => {
                if self.editor.input(key) {
                    self.problem = None;
                }
                None
            }
        }
    }

    /// The conversation and the request's details, as lines.
    fn lines(&self, theme: Theme) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        for (role, part) in &self.conversation {
            let mut rows = part.split('\n');
            let first = inert(rows.next().unwrap_or("")).into_owned();
            lines.push(Line::from(vec![
                Span::styled(format!("{role}: "), theme.key()),
                Span::raw(first),
            ]));
            let indent = " ".repeat(role.chars().count() + 2);
            lines.extend(rows.map(|row| Line::raw(format!("{indent}{}", inert(row)))));
        }
        lines.push(Line::raw(""));
        for (label, value) in &self.details {
            lines.push(Line::styled(format!("{label}: {value}"), theme.dim()));
        }
        lines
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: Theme) {
        let width = area.width.saturating_sub(4).min(100);
        let lines = self.lines(theme);
        let inner_width = width.saturating_sub(2).max(1);
        let text_rows: u16 = lines
            .iter()
            .map(|line| (line.width() as u16).div_ceil(inner_width).max(1))
            .sum();
        // Borders, the conversation, the editor with its label, the footer.
        let height = 2 + text_rows + 1 + EDITOR_ROWS + 2 + 2;
        let dialog = dialog_area(
            frame,
            area,
            width,
            height.min(area.height.saturating_sub(2)),
        );
        let block = Block::default().borders(Borders::ALL).title(Span::styled(
            format!(" {} asks for a model's reply ", self.asker),
            theme.key(),
        ));
        let inner = block.inner(dialog);
        frame.render_widget(block, dialog);
        let [top, label, editor, bottom] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(1),
            Constraint::Length(EDITOR_ROWS + 2),
            Constraint::Length(2),
        ])
        .areas(inner);
        self.scroll = self.scroll.min(text_rows.saturating_sub(top.height));
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0)),
            top,
        );
        let label_line = Line::from(vec![
            Span::styled("Your reply", theme.title()),
            Span::styled(
                format!(" — no model writes it; it is sent as {OPERATOR_MODEL}'s"),
                theme.dim(),
            ),
        ]);
        frame.render_widget(Paragraph::new(label_line), label);
        let mut shown = self.editor.clone();
        shown.set_block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.dim()),
        );
        frame.render_widget(&shown, editor);
        let key = |k: &'static str| Span::styled(k, theme.key());
        let mut keys = vec![
            key("ctrl-s"),
            Span::raw(" send   "),
            key("ctrl-d"),
            Span::raw(" decline   "),
            key("esc"),
            Span::raw(" cancel"),
        ];
        if text_rows > top.height {
            keys.extend([Span::raw("   "), key("pgup/pgdn"), Span::raw(" scroll")]);
        }
        let footer = vec![
            match &self.problem {
                Some(problem) => Line::styled(problem.clone(), theme.error()),
                None => Line::raw(""),
            },
            Line::from(keys),
        ];
        frame.render_widget(Paragraph::new(footer), bottom);
    }
}

impl Drop for SamplingDialog {
    /// A dialog closed without an answer (the console quit, the source switched) cancels.
    fn drop(&mut self) {
        self.answer(Sampled::Cancel);
    }
}

#[cfg(test)]
mod tests {
    use ratatui::{Terminal, backend::TestBackend};
    use serde_json::json;

    use super::*;

    fn request() -> SamplingRequest {
        serde_json::from_value(json!({
            "messages": [{"role": "user", "content": {"type": "text",
                "text": "Capital of France?\u{1b}]0;pwned\u{7}"}}],
            "systemPrompt": "You are a helpful test server.",
            "maxTokens": 100,
            "temperature": 0.7
        }))
        .unwrap()
    }

    fn screen(dialog: &mut SamplingDialog) -> String {
        let mut terminal = Terminal::new(TestBackend::new(90, 24)).unwrap();
        terminal
            .draw(|frame| dialog.render(frame, frame.area(), Theme::plain()))
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn typed(dialog: &mut SamplingDialog, text: &str) {
        for c in text.chars() {
            dialog.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    #[test]
    fn the_request_shows_inert_and_the_typed_reply_is_sent() {
        let (reply, answer) = oneshot::channel();
        let mut dialog = SamplingDialog::new("everything".into(), &request(), reply);
        let shown = screen(&mut dialog);
        assert!(
            shown.contains(r"user: Capital of France?\u{1b}]0;pwned\u{7}"),
            "{shown}"
        );
        assert!(
            shown.contains("system prompt: You are a helpful test server.")
                && shown.contains("max tokens: 100")
                && shown.contains("everything asks for a model's reply"),
            "{shown}"
        );
        let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
        assert!(dialog.on_key(ctrl('s')).is_none(), "nothing typed yet");
        assert!(screen(&mut dialog).contains("type a reply first"));
        typed(&mut dialog, "Paris");
        dialog.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        typed(&mut dialog, "(the capital)");
        assert!(dialog.on_key(ctrl('s')).is_some());
        assert_eq!(
            answer.blocking_recv().unwrap(),
            Sampled::Reply("Paris\n(the capital)".into())
        );
    }

    #[test]
    fn ctrl_d_declines_and_closing_cancels() {
        let (reply, answer) = oneshot::channel();
        let mut dialog = SamplingDialog::new("s".into(), &request(), reply);
        let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert!(dialog.on_key(ctrl_d).is_some());
        assert_eq!(answer.blocking_recv().unwrap(), Sampled::Decline);
        let (reply, answer) = oneshot::channel();
        drop(SamplingDialog::new("s".into(), &request(), reply));
        assert_eq!(answer.blocking_recv().unwrap(), Sampled::Cancel);
    }
}
