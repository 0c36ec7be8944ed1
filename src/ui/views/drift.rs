//! The drift diff (`D` on the services and tasks views, `:drift [SERVICE]`): per service, its
//! live tasks grouped by the surface they present (`mcp::drift`), each group with its revisions
//! and tasks, and what sets it apart from the largest group — a tool added or removed, a schema
//! property, a description, an annotation, a capability, the server's version. Drift at rest
//! is drawn as an alarm, drift during a rollout as expected. Scrollable; `/` filters services.

use ratatui::{
    Frame,
    layout::Rect,
    style::{Modifier, Style},
    text::Line,
    widgets::Paragraph,
};

use super::{Context, View};
use crate::{
    mcp::drift::ServiceDrift,
    ui::{
        action::{Action, Scope, ViewKind},
        keys::KeyId,
        theme::Theme,
        widgets::list::{matches_filter, move_selection},
    },
};

pub struct DriftView {
    scope: Scope,
    filter: String,
    /// The first line shown.
    scroll: usize,
    /// Lines and page height at the last draw, for scrolling.
    lines: usize,
    page: usize,
}

impl DriftView {
    pub fn new(scope: Scope) -> Self {
        Self {
            scope,
            filter: String::new(),
            scroll: 0,
            lines: 0,
            page: 0,
        }
    }
}

/// The lines for `reports`, styled (a pure function, tested alone): the verdict by how much it
/// should alarm, group heads as titles, changes plain.
pub fn lines(reports: &[ServiceDrift], theme: Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for report in reports {
        let verdict = match (report.drift, report.rollout_in_progress) {
            (true, false) => theme.error().add_modifier(Modifier::REVERSED),
            (true, true) => theme.warn(),
            (false, _) if report.groups.is_empty() => theme.dim(),
            (false, _) => theme.ok(),
        };
        for (i, text) in report.describe().into_iter().enumerate() {
            let style = match i {
                0 => verdict,
                _ if text.starts_with("  group ") => theme.title(),
                _ if text.starts_with("  unprobed ") => theme.warn(),
                _ => Style::default(),
            };
            out.push(Line::styled(text, style));
        }
        out.push(Line::raw(""));
    }
    out
}

impl View for DriftView {
    fn kind(&self) -> ViewKind {
        ViewKind::Drift
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        match &self.scope.service {
            Some(service) => format!("drift({service})"),
            None => "drift".into(),
        }
    }

    fn filter(&self) -> &str {
        &self.filter
    }

    fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.scroll = 0;
    }

    fn on_key(&mut self, key: KeyId, _ctx: &Context) -> Option<Action> {
        let last_page = self.lines.saturating_sub(self.page) + 1;
        self.scroll = move_selection(self.scroll, last_page, key, self.page);
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let services = ctx.snapshot.services.iter().filter(|s| {
            self.scope
                .service
                .as_ref()
                .is_none_or(|name| *name == s.name)
                && matches_filter(&self.filter, std::slice::from_ref(&s.name))
        });
        let reports: Vec<ServiceDrift> = services
            .map(|s| ServiceDrift::of(s, ctx.probes, ctx.probe_errors))
            .collect();
        let mut shown = lines(&reports, ctx.theme);
        if reports.is_empty() {
            let what = match &self.scope.service {
                Some(service) => format!("service {service} is not in the fleet"),
                None => "no service matches".into(),
            };
            shown.push(Line::styled(what, ctx.theme.warn()));
        }
        self.lines = shown.len();
        self.page = usize::from(area.height);
        self.scroll = self.scroll.min(self.lines.saturating_sub(self.page));
        let visible: Vec<Line> = shown.into_iter().skip(self.scroll).collect();
        frame.render_widget(Paragraph::new(visible), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::{fixtures::Fixture, snapshot_support::render};

    fn view() -> DriftView {
        DriftView::new(Scope::service("mcpfleet-server"))
    }

    #[test]
    fn a_uniform_service_says_so_and_an_odd_replica_is_named_with_its_change() {
        let mut fixture = Fixture::new();
        let text = render(&mut view(), &fixture.context(), 110, 14);
        assert!(
            text.contains("mcpfleet-server: uniform, 2 tasks present one surface"),
            "{text}"
        );
        let odd = fixture
            .probes
            .get_mut("7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f")
            .unwrap();
        let surface = &odd.surface;
        odd.surface = std::sync::Arc::new(crate::mcp::surface::Surface::new(
            surface.server.clone(),
            surface.protocol_version.clone(),
            surface.capabilities.clone(),
            [],
        ));
        let text = render(&mut view(), &fixture.context(), 110, 14);
        // The fixture's service is rolling out: drift is told as expected.
        assert!(text.contains("DRIFT during a rollout"), "{text}");
        assert!(
            text.contains("group B · revision 2 · 1 task (7a3e5c1b)"),
            "{text}"
        );
        assert!(text.contains("tool removed: echo"), "{text}");
        assert!(
            text.contains("unprobed 9c2d4e6f · revision 1: not ready"),
            "{text}"
        );
    }
}
