//! `?` help: every key of the current view and the global ones, generated from the key table,
//! and the `:` commands. Dangerous keys are marked, and absent under --read-only.

use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    text::{Line, Span},
    widgets::{Paragraph, Row, Table},
};

use super::{Context, View};
use crate::ui::{
    action::{Action, Scope, ViewKind},
    command_line::COMMANDS,
    keys::{self, KeyId},
};

pub struct HelpView {
    scope: Scope,
    /// The view the help is about.
    about: ViewKind,
    about_is_list: bool,
    scroll: u16,
}

impl HelpView {
    pub fn new(about: ViewKind, about_is_list: bool) -> Self {
        Self {
            scope: Scope::fleet(),
            about,
            about_is_list,
            scroll: 0,
        }
    }
}

impl View for HelpView {
    fn kind(&self) -> ViewKind {
        ViewKind::Help
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        format!("help({})", self.about.name())
    }

    fn is_list(&self) -> bool {
        false
    }

    fn on_key(&mut self, key: KeyId, _ctx: &Context) -> Option<Action> {
        match key {
            KeyId::Help => Some(Action::Back),
            KeyId::Down => {
                self.scroll = self.scroll.saturating_add(1);
                None
            }
            KeyId::Up => {
                self.scroll = self.scroll.saturating_sub(1);
                None
            }
            _ => None,
        }
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let bindings = keys::bindings(self.about, self.about_is_list, ctx.offered());
        let key_rows = bindings.iter().map(|b| {
            let keys: Vec<String> = std::iter::once(b.label.to_string()).collect();
            let style = if b.dangerous {
                theme.dangerous()
            } else {
                theme.key()
            };
            let note = if b.dangerous {
                "  (asks to confirm)"
            } else {
                ""
            };
            Row::new(vec![
                Line::from(Span::styled(keys.join(" "), style)),
                Line::from(format!("{}{note}", b.description)),
            ])
        });
        let mut rows: Vec<Row> = key_rows.collect();
        rows.push(Row::new(vec![Line::from(""), Line::from("")]));
        for (name, aliases, what) in COMMANDS {
            if !ctx.offered().fleet_commands() && ["scale", "deploy", "rollback"].contains(name) {
                continue;
            }
            let alias = if aliases.is_empty() {
                String::new()
            } else {
                format!(" ({})", aliases.join(", "))
            };
            rows.push(Row::new(vec![
                Line::from(Span::styled(format!(":{name}"), theme.key())),
                Line::from(format!("{what}{alias}")),
            ]));
        }
        let skip = usize::from(self.scroll).min(rows.len().saturating_sub(1));
        let table = Table::new(
            rows.into_iter().skip(skip),
            [Constraint::Length(14), Constraint::Min(20)],
        )
        .header(Row::new(vec!["KEY", "WHAT IT DOES"]).style(theme.header()));
        let [note, body] =
            ratatui::layout::Layout::vertical([Constraint::Length(1), Constraint::Min(1)])
                .areas(area);
        let intro = format!(
            "Keys in {} (and everywhere); mouse: wheel scrolls, click selects.",
            self.about.name()
        );
        frame.render_widget(Paragraph::new(Span::styled(intro, theme.dim())), note);
        frame.render_widget(table, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::fixtures::Fixture;

    #[test]
    fn snapshots() {
        let fixture = Fixture::new();
        let mut view = HelpView::new(ViewKind::Services, true);
        crate::assert_view_snapshots!("help_services", &mut view, &fixture.context());
    }

    #[test]
    fn read_only_help_has_no_dangerous_keys() {
        let fixture = Fixture::new();
        let mut ctx = fixture.context();
        ctx.read_only = true;
        let text = crate::ui::views::snapshot_support::render(
            &mut HelpView::new(ViewKind::Services, true),
            &ctx,
            160,
            48,
        );
        assert!(!text.contains("scale"), "{text}");
        assert!(text.contains("services"), "{text}");
    }

    #[test]
    fn static_servers_are_offered_no_scale_or_deploy() {
        let fixture = Fixture::new();
        let mut fixed = (*fixture.context().snapshot).clone();
        fixed.source = crate::fleet::SourceKind::Static;
        let mut ctx = fixture.context();
        ctx.snapshot = &fixed;
        let text = crate::ui::views::snapshot_support::render(
            &mut HelpView::new(ViewKind::Services, true),
            &ctx,
            160,
            48,
        );
        for gone in ["scale", "force new deployment", ":deploy", ":rollback"] {
            assert!(!text.contains(gone), "{gone}: {text}");
        }
        assert!(text.contains("rollout"), "{text}");
        let hints = crate::ui::views::chrome::hints(
            ViewKind::Services,
            true,
            ctx.offered(),
            400,
            ctx.theme,
        );
        let hints: String = hints.spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(
            !hints.contains("scale") && hints.contains("rollout"),
            "{hints}"
        );
    }
}
