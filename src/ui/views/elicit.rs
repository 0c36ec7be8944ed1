//! A server's question in the middle of a call (elicitation, or one input request of an
//! `input_required` round), answered in a dialog: a form from the requested schema, drawn by
//! the call view's form (defaults filled in, choices for enums, required fields marked), or
//! for URL mode the address to open. `ctrl-s` accepts, `ctrl-d` declines, `esc` cancels. The
//! same dialog, with nobody waiting on an answer, offers the pages of a call that ended with
//! "open this page first" (-32042). The server's text is shown inert.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph, Wrap},
};
use rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
use serde_json::Value;
use tokio::sync::oneshot;

use super::call::form_pane::FormPane;
use crate::{
    inert::inert_line as inert,
    mcp::ask::{message_of, schema_of},
    ui::widgets::dialog_area,
    ui::{action::Action, theme::Theme},
};

pub struct ElicitDialog {
    /// Who asks: the service, else the endpoint's URL.
    pub asker: String,
    message: String,
    /// The form of form mode; `None` in URL mode.
    form: Option<(FormPane, Value)>,
    /// The page of URL mode.
    page: Option<String>,
    reply: Option<oneshot::Sender<ElicitResult>>,
    /// The pages a failed call asks to open first; nobody waits on an answer.
    prerequisite: bool,
    problem: Option<String>,
}

impl ElicitDialog {
    pub fn new(
        asker: String,
        request: &ElicitRequestParams,
        reply: oneshot::Sender<ElicitResult>,
    ) -> Self {
        let schema = schema_of(request);
        let page = match request {
            ElicitRequestParams::UrlElicitationParams { url, .. } => Some(url.clone()),
            _ => None,
        };
        Self {
            asker,
            message: message_of(request).to_string(),
            form: schema.map(|schema| (FormPane::new(&schema, None), schema)),
            page,
            reply: Some(reply),
            prerequisite: false,
            problem: None,
        }
    }

    /// A call ended because the server wants `page` opened first (URLElicitationRequired):
    /// the page to open, and nothing to answer.
    pub fn prerequisite(asker: String, message: String, page: String) -> Self {
        Self {
            asker,
            message: format!("{message} Open the page, then call again."),
            form: None,
            page: Some(page),
            reply: None,
            prerequisite: true,
            problem: None,
        }
    }

    fn answer(&mut self, result: ElicitResult) {
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(result);
        }
    }

    /// Some(action) closes the dialog (after answering the server).
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers == KeyModifiers::CONTROL;
        match key.code {
            KeyCode::Esc | KeyCode::Enter if self.prerequisite => Some(Action::Message(format!(
                "call again once the page {} asked for is done",
                self.asker
            ))),
            KeyCode::Char('s' | 'd') if ctrl && self.prerequisite => None,
            KeyCode::Esc => {
                self.answer(ElicitResult::new(ElicitationAction::Cancel));
                Some(Action::Message(format!(
                    "cancelled the answer to {}",
                    self.asker
                )))
            }
            KeyCode::Char('d') if ctrl => {
                self.answer(ElicitResult::new(ElicitationAction::Decline));
                Some(Action::Message(format!(
                    "declined to answer {}",
                    self.asker
                )))
            }
            KeyCode::Char('s') if ctrl => self.accept(),
            KeyCode::Char('o') if self.page.is_some() => {
                let page = self.page.clone().unwrap_or_default();
                // An opener gets a moment to fail; that wait is not the screen's.
                std::thread::spawn(move || crate::oauth::browser::open(&page));
                self.problem = Some("opening the page in the browser…".into());
                None
            }
            KeyCode::Enter if self.page.is_some() => self.accept(),
            KeyCode::Tab | KeyCode::BackTab => {
                if let Some((pane, _)) = &mut self.form {
                    pane.move_focus(key.code == KeyCode::Tab);
                }
                None
            }
            _ => {
                if let Some((pane, _)) = &mut self.form {
                    pane.type_key(key);
                }
                None
            }
        }
    }

    fn accept(&mut self) -> Option<Action> {
        let content = match &mut self.form {
            Some((pane, schema)) => match pane.validated(schema) {
                Ok(content) => Some(content),
                Err(problem) => {
                    self.problem = Some(problem);
                    return None;
                }
            },
            None => None,
        };
        let mut result = ElicitResult::new(ElicitationAction::Accept);
        if let Some(content) = content {
            result = result.with_content(content);
        }
        self.answer(result);
        Some(Action::Message(format!("answered {}", self.asker)))
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: Theme) {
        let width = area.width.saturating_sub(4).min(100);
        // As tall as its content: the message, the page or the fields, the keys.
        let fields = match &self.form {
            Some((pane, _)) if pane.raw.is_some() => 8,
            Some((pane, _)) => pane.form.fields.len() as u16 + 1,
            None => 2,
        };
        let message = (self.message.chars().count() as u16 / width.saturating_sub(2).max(1)) + 1;
        let dialog = dialog_area(frame, area, width, message + 2 + fields + 2 + 2);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(format!(" {} asks ", self.asker), theme.key()));
        let inner = block.inner(dialog);
        frame.render_widget(block, dialog);
        let key = |k: &'static str| Span::styled(k, theme.key());
        let mut keys = vec![key("ctrl-s"), Span::raw(" accept   ")];
        if self.prerequisite {
            keys = vec![
                key("o"),
                Span::raw(" open the page   "),
                key("enter"),
                Span::raw("/"),
                key("esc"),
                Span::raw(" close"),
            ];
        } else if self.page.is_some() {
            keys = vec![
                key("o"),
                Span::raw(" open the page   "),
                key("enter"),
                Span::raw(" done   "),
            ];
        } else {
            keys.extend([key("tab"), Span::raw(" next field   ")]);
        }
        if !self.prerequisite {
            keys.extend([
                key("ctrl-d"),
                Span::raw(" decline   "),
                key("esc"),
                Span::raw(" cancel"),
            ]);
        }
        let mut head = vec![Line::from(inert(&self.message)), Line::from("")];
        if let Some(page) = &self.page {
            head.push(Line::from(if self.prerequisite {
                "Open this page first:"
            } else {
                "Open this page to answer:"
            }));
            head.push(Line::styled(inert(page), theme.dim()));
        }
        let head_height = (head.len() as u16 + 1).min(inner.height);
        let [top, middle, bottom] = Layout::vertical([
            Constraint::Length(head_height),
            Constraint::Fill(1),
            Constraint::Length(2),
        ])
        .areas(inner);
        frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: true }), top);
        if let Some((pane, _)) = &mut self.form {
            pane.render(frame, middle, middle.height, theme);
        }
        let mut footer = Vec::new();
        if let Some(problem) = &self.problem {
            footer.push(Line::styled(problem.clone(), theme.error()));
        } else {
            footer.push(Line::from(""));
        }
        footer.push(Line::from(keys));
        frame.render_widget(Paragraph::new(footer), bottom);
    }
}

impl Drop for ElicitDialog {
    /// A dialog closed without an answer (the console quit, the source switched) cancels.
    fn drop(&mut self) {
        self.answer(ElicitResult::new(ElicitationAction::Cancel));
    }
}
