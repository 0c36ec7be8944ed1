//! The sign-in dialog: a server answered 401 with an OAuth challenge. First it offers ("sign
//! in to SERVICE at ISSUER?"); once accepted it says where the browser was sent, shows the URL
//! to open by hand (copyable, for a console reached over SSH) and waits for the loopback
//! redirect. Esc declines or stops waiting; nothing is stored until tokens arrive.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph, Wrap},
};

use crate::{
    oauth::{Prompt, browser::Opened, signin::Discovered},
    ui::widgets::dialog_area,
    ui::{action::Action, theme::Theme},
};

pub enum SignInDialog {
    /// Discovery found the authorization server; the person decides.
    Offer {
        service: String,
        url: String,
        insufficient_scope: bool,
        discovered: Option<Box<Discovered>>,
    },
    /// The browser is out; waiting for it to come back.
    Waiting {
        service: String,
        issuer: String,
        prompt: Option<Prompt>,
    },
}

impl SignInDialog {
    pub fn service(&self) -> &str {
        match self {
            Self::Offer { service, .. } | Self::Waiting { service, .. } => service,
        }
    }

    /// Some(action) ends or advances the dialog.
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Action> {
        match (self, key.code) {
            (Self::Offer { .. }, KeyCode::Enter | KeyCode::Char('y')) => Some(Action::SignInAccept),
            (Self::Offer { service, .. }, KeyCode::Esc | KeyCode::Char('n')) => {
                Some(Action::Message(format!(
                    "not signed in to {service}; :login {service} when you want to"
                )))
            }
            (Self::Waiting { .. }, KeyCode::Esc) => Some(Action::SignInAbandon),
            (
                Self::Waiting {
                    prompt: Some(prompt),
                    ..
                },
                KeyCode::Char('c'),
            ) => Some(Action::Copy(prompt.url.clone())),
            _ => None,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let mut lines = Vec::new();
        let key = |k: &'static str| Span::styled(k, theme.key());
        match self {
            Self::Offer {
                service,
                url,
                insufficient_scope,
                discovered,
            } => {
                let issuer = discovered.as_ref().map_or("", |d| d.issuer.as_str());
                lines.push(Line::from(if *insufficient_scope {
                    format!("{service} needs more permissions than the current sign-in grants.")
                } else {
                    format!("{service} asks for a sign-in ({url} answered 401).")
                }));
                lines.push(Line::from(""));
                lines.push(Line::from(format!("Sign in to {service} at {issuer}?")));
                lines.push(Line::from(""));
                lines.push(Line::from(vec![
                    key("enter/y"),
                    Span::raw(" sign in with the browser   "),
                    key("esc/n"),
                    Span::raw(" not now"),
                ]));
            }
            Self::Waiting {
                service,
                issuer,
                prompt,
            } => {
                lines.push(Line::from(format!("Signing in to {service} at {issuer}.")));
                lines.push(Line::from(""));
                match prompt {
                    None => lines.push(Line::from("Registering with the authorization server…")),
                    Some(prompt) => {
                        lines.push(Line::from(match &prompt.opened {
                            Opened::With(program) => {
                                format!(
                                    "The sign-in page opened with {program}. If it did not, open:"
                                )
                            }
                            Opened::NotOpened => "Open this address in a browser:".to_string(),
                        }));
                        lines.push(Line::from(Span::styled(prompt.url.clone(), theme.dim())));
                        lines.push(Line::from(""));
                        lines.push(Line::from("Waiting for the browser to come back…"));
                    }
                }
                lines.push(Line::from(""));
                let mut keys = vec![key("esc"), Span::raw(" stop waiting")];
                if prompt.is_some() {
                    keys.extend([Span::raw("   "), key("c"), Span::raw(" copy the address")]);
                }
                lines.push(Line::from(keys));
            }
        }
        // As wide as its longest line, up to 100 columns; a long address wraps inside.
        let longest = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 2;
        let width = longest.clamp(50, 100).min(area.width.saturating_sub(4));
        let text_width = width.saturating_sub(2).max(1) as usize;
        let height: u16 = lines
            .iter()
            .map(|line| (line.width().max(1)).div_ceil(text_width) as u16)
            .sum::<u16>()
            + 2;
        let dialog = dialog_area(frame, area, width, height);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(" Sign in ", theme.key()));
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(block),
            dialog,
        );
    }
}
