//! `:auth`: the stored OAuth sign-ins — which service, from which issuer, with which scopes,
//! until when, and whether they can be refreshed; never a token. `enter` signs in again,
//! `d` puts `:logout SERVICE` on the command line for the person to confirm with enter.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    style::Style,
    text::Line,
    widgets::{Paragraph, Row, Table, Wrap},
};

use super::{Context, View, tasks::clip};
use crate::{
    oauth::Status,
    ui::{
        action::{Action, Scope, ViewKind},
        keys::KeyId,
        widgets::list::ListState,
    },
};

pub const COLUMNS: &[(&str, u16)] = &[
    ("SERVICE", 16),
    ("ISSUER", 30),
    ("SCOPES", 24),
    ("EXPIRES", 12),
    ("REFRESH", 7),
    ("RESOURCE", 0),
];
const EXPIRES: usize = 3;

/// How a sign-in is named on the command line: its service, else its URL.
fn target(status: &Status) -> String {
    status
        .label
        .clone()
        .unwrap_or_else(|| status.resource.clone())
}

/// "in 52m", "expired", "-" when the server gave no lifetime.
pub fn expires(status: &Status, now: SystemTime) -> String {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    match status.expires_at {
        Some(at) if at <= now => "expired".into(),
        Some(at) => {
            let left = Duration::from_secs(at - now);
            // Minutes are enough to tell; seconds would make the screen tick.
            let rounded = Duration::from_secs(left.as_secs() / 60 * 60);
            if rounded.is_zero() {
                "in <1m".into()
            } else {
                format!("in {}", humantime::format_duration(rounded))
            }
        }
        None => "-".into(),
    }
}

pub fn cells(status: &Status, now: SystemTime) -> [String; 6] {
    [
        status.label.clone().unwrap_or_else(|| "-".into()),
        status.issuer.clone().unwrap_or_else(|| "-".into()),
        if status.scopes.is_empty() {
            "-".into()
        } else {
            status.scopes.join(" ")
        },
        expires(status, now),
        if status.refreshable { "yes" } else { "no" }.into(),
        status.resource.clone(),
    ]
}

#[derive(Default)]
pub struct AuthView {
    scope: Scope,
    /// Rows are named by their resource.
    list: ListState,
}

impl AuthView {
    pub fn new() -> Self {
        Self::default()
    }

    fn selected<'a>(&self, ctx: &'a Context) -> Option<&'a Status> {
        let id = self.list.selected_id()?;
        ctx.sign_ins.iter().find(|s| s.resource == id)
    }
}

impl View for AuthView {
    fn kind(&self) -> ViewKind {
        ViewKind::Auth
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        self.kind().name().into()
    }

    fn list(&self) -> Option<&ListState> {
        Some(&self.list)
    }

    fn list_mut(&mut self) -> Option<&mut ListState> {
        Some(&mut self.list)
    }

    fn on_key(&mut self, key: KeyId, ctx: &Context) -> Option<Action> {
        match key {
            KeyId::Open => self.selected(ctx).map(|s| Action::SignIn(target(s))),
            KeyId::SignOut => self
                .selected(ctx)
                .map(|s| Action::CommandLineWith(format!("logout {}", target(s)))),
            other => self.list.on_key(other),
        }
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let rows: Vec<(String, [String; 6])> = ctx
            .sign_ins
            .iter()
            .map(|s| (s.resource.clone(), cells(s, ctx.now)))
            .filter(|(_, cells)| self.list.matches(cells))
            .collect();
        if rows.is_empty() {
            self.list.clear();
            let text = if ctx.sign_ins.is_empty() {
                vec![
                    Line::from("No stored sign-ins."),
                    Line::styled(
                        "A service that asks for OAuth offers one; :login SERVICE asks for it.",
                        theme.dim(),
                    ),
                ]
            } else {
                vec![Line::styled(
                    format!("no sign-in matches /{}", self.list.filter()),
                    theme.dim(),
                )]
            };
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
            return;
        }
        let mut widths: Vec<usize> = COLUMNS.iter().map(|c| usize::from(c.1)).collect();
        let used: usize = widths.iter().map(|w| w + 1).sum();
        let last = widths.len() - 1;
        widths[last] = (usize::from(area.width) + 1).saturating_sub(used);
        let table_rows = rows.iter().map(|(_, cells)| {
            let cells = cells.iter().enumerate().map(|(i, text)| {
                let style = if i == EXPIRES && text == "expired" {
                    theme.warn()
                } else {
                    Style::default()
                };
                Line::styled(clip(text, widths[i]), style)
            });
            Row::new(cells.collect::<Vec<_>>())
        });
        let header = Row::new(COLUMNS.iter().map(|c| Line::from(c.0)).collect::<Vec<_>>())
            .style(theme.header());
        let constraints = widths.iter().map(|&w| Constraint::Length(w as u16));
        let table = Table::new(table_rows, constraints).header(header);
        let ids = rows.into_iter().map(|(id, _)| id).collect();
        self.list.draw(frame, area, table, ids, theme);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::{fixtures::Fixture, snapshot_support::render};

    fn status(label: &str, expires_at: Option<u64>) -> Status {
        Status {
            resource: format!("https://{label}.example.com/mcp"),
            label: Some(label.into()),
            issuer: Some("https://login.example.com".into()),
            client_id: "client".into(),
            scopes: vec!["mcp".into(), "offline_access".into()],
            expires_at,
            refreshable: true,
        }
    }

    #[test]
    fn rows_say_until_when_and_keys_sign_in_or_out() {
        let mut fixture = Fixture::new();
        let now = fixture
            .context()
            .now
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        fixture.sign_ins = vec![
            status("tools", Some(now + 3600)),
            status("batch", Some(now - 5)),
        ];
        let ctx = fixture.context();
        let mut view = AuthView::new();
        let text = render(&mut view, &ctx, 140, 10);
        assert!(text.contains("in 1h"), "{text}");
        assert!(text.contains("expired"), "{text}");
        assert!(text.contains("mcp offline_access"), "{text}");
        assert_eq!(
            view.on_key(KeyId::Open, &ctx),
            Some(Action::SignIn("tools".into()))
        );
        view.on_key(KeyId::Down, &ctx);
        assert_eq!(
            view.on_key(KeyId::SignOut, &ctx),
            Some(Action::CommandLineWith("logout batch".into()))
        );
    }

    #[test]
    fn nothing_stored_says_how_to_get_there() {
        let fixture = Fixture::new();
        let text = render(&mut AuthView::new(), &fixture.context(), 100, 6);
        assert!(text.starts_with("No stored sign-ins."), "{text}");
    }
}
