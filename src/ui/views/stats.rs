//! `:stats`: the remote API calls the source has made since it started, per operation, with
//! their errors and the last error of each, busiest first; above them the source, the totals,
//! the age of the data and why it is stale, if it is. Sources without remote APIs say so.

use ratatui::{
    Frame,
    layout::{Alignment, Constraint, Layout, Rect},
    style::Style,
    text::Line,
    widgets::{Paragraph, Row, Table, Wrap},
};

use super::{
    Context, View,
    chrome::{refreshed_label, source_label},
    tasks::clip,
};
use crate::{
    fleet::{ApiStat, FleetSnapshot, SourceKind},
    ui::{
        action::{Action, Scope, ViewKind},
        keys::KeyId,
        widgets::list::ListState,
    },
};

/// (header, width, alignment: numbers to the right); OPERATION is as wide as its longest name
/// up to its width, LAST ERROR takes the rest.
pub const COLUMNS: &[(&str, u16, Alignment)] = &[
    ("OPERATION", 40, Alignment::Left),
    ("CALLS", 8, Alignment::Right),
    ("ERRORS", 7, Alignment::Right),
    ("ERR%", 6, Alignment::Right),
    ("LAST ERROR", 0, Alignment::Left),
];
const ERRORS: usize = 2;
const LAST_ERROR: usize = 4;

/// One operation as the text of each `COLUMNS` entry (a pure function, tested alone).
#[derive(Debug, Clone, PartialEq)]
pub struct StatRow {
    pub errors: u64,
    pub cells: [String; 5],
}

/// Errors as a share of calls, in percent with one decimal; "-" before the first call.
pub fn error_share(errors: u64, calls: u64) -> String {
    match calls {
        0 => "-".into(),
        _ => format!("{:.1}", 100.0 * errors as f64 / calls as f64),
    }
}

/// The operations, most called first (ties by name, so the order holds still between refreshes).
pub fn rows(api: &[ApiStat]) -> Vec<StatRow> {
    let mut stats: Vec<&ApiStat> = api.iter().collect();
    stats.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.operation.cmp(&b.operation)));
    let row = |stat: &ApiStat| StatRow {
        errors: stat.errors,
        cells: [
            stat.operation.clone(),
            stat.calls.to_string(),
            stat.errors.to_string(),
            error_share(stat.errors, stat.calls),
            stat.last_error.clone().unwrap_or_default(),
        ],
    };
    stats.into_iter().map(row).collect()
}

/// "2891 API calls, 12 errors (0.4%) since the source started".
pub fn totals(snapshot: &FleetSnapshot) -> String {
    let (calls, errors) = (snapshot.api_calls, snapshot.api_errors);
    let share = match calls {
        0 => String::new(),
        _ => format!(" ({}%)", error_share(errors, calls)),
    };
    format!("{calls} API calls, {errors} errors{share} since the source started")
}

#[derive(Default)]
pub struct StatsView {
    scope: Scope,
    /// Rows are named by their operation.
    list: ListState,
}

impl StatsView {
    pub fn new() -> Self {
        Self::default()
    }

    fn render_table(&mut self, frame: &mut Frame, area: Rect, ctx: &Context, rows: &[StatRow]) {
        let theme = ctx.theme;
        let longest = rows.iter().map(|r| r.cells[0].chars().count()).max();
        let name_width = longest.unwrap_or(0).max(COLUMNS[0].0.len());
        let mut widths: Vec<usize> = COLUMNS.iter().map(|c| usize::from(c.1)).collect();
        widths[0] = name_width.min(widths[0]);
        let used: usize = widths.iter().map(|w| w + 1).sum();
        widths[LAST_ERROR] = (usize::from(area.width) + 1).saturating_sub(used);
        let align = |line: Line<'static>, i: usize| line.alignment(COLUMNS[i].2);
        let table_rows = rows.iter().map(|r| {
            let cells = r.cells.iter().enumerate().map(|(i, text)| {
                let style = match i {
                    ERRORS | LAST_ERROR if r.errors > 0 => theme.warn(),
                    _ => Style::default(),
                };
                align(Line::styled(clip(text, widths[i]), style), i)
            });
            Row::new(cells.collect::<Vec<_>>())
        });
        let header = COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| align(Line::from(c.0), i));
        let constraints = widths.iter().map(|&w| Constraint::Length(w as u16));
        let table = Table::new(table_rows, constraints)
            .header(Row::new(header.collect::<Vec<_>>()).style(theme.header()));
        let ids = rows.iter().map(|r| r.cells[0].clone()).collect();
        self.list.draw(frame, area, table, ids, theme);
    }
}

impl View for StatsView {
    fn kind(&self) -> ViewKind {
        ViewKind::Stats
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

    fn on_key(&mut self, key: KeyId, _ctx: &Context) -> Option<Action> {
        self.list.on_key(key)
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let (theme, snapshot) = (ctx.theme, ctx.snapshot);
        if snapshot.api.is_empty() && snapshot.source != SourceKind::Aws {
            self.list.clear();
            let source = match snapshot.source {
                SourceKind::Static => format!("static source ({})", snapshot.context),
                _ => source_label(snapshot),
            };
            let lines = vec![
                Line::from(format!(
                    "The {source} makes no remote API calls, so there is nothing to count here."
                )),
                Line::styled(
                    "API calls are counted for the aws source (:ctx aws).",
                    theme.dim(),
                ),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), area);
            return;
        }
        let mut rows = rows(&snapshot.api);
        rows.retain(|r| self.list.matches(&r.cells));

        // The source and the age of its data, why it is stale (up to two lines), the totals.
        let (source, age) = (source_label(snapshot), refreshed_label(snapshot, ctx.now));
        let mut lines = vec![Line::styled(format!("{source} │ {age}"), theme.title())];
        let mut height = 2;
        if let Some(reason) = &snapshot.stale {
            let text = format!("STALE: {reason}");
            height += 1 + u16::from(text.chars().count() > usize::from(area.width));
            lines.push(Line::styled(text, theme.error()));
        }
        lines.push(Line::from(totals(snapshot)));
        let [summary_area, _, table_area] = Layout::vertical([
            Constraint::Length(height),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(area);
        let summary = Paragraph::new(lines).wrap(Wrap { trim: true });
        frame.render_widget(summary, summary_area);
        let empty = match (snapshot.api.is_empty(), rows.is_empty()) {
            (true, _) => "no API calls yet".to_string(),
            (false, true) => format!("no operation matches /{}", self.list.filter()),
            (false, false) => return self.render_table(frame, table_area, ctx, &rows),
        };
        self.list.clear();
        frame.render_widget(Paragraph::new(Line::styled(empty, theme.dim())), table_area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::{
        fixtures::{Fixture, aws_fleet, numbered},
        snapshot_support::{click_after_scroll, render},
    };

    fn fixture() -> Fixture {
        Fixture {
            fleet: aws_fleet(),
            ..Fixture::new()
        }
    }

    #[test]
    fn rows_put_the_busiest_operation_first() {
        let fleet = aws_fleet();
        let all = rows(&fleet.api);
        let text: Vec<String> = all.iter().take(3).map(|r| r.cells.join(" ")).collect();
        assert_eq!(
            text,
            [
                "logs:FilterLogEvents 1210 3 0.2 HTTP 400",
                "ecs:DescribeTasks 415 7 1.7 HTTP 429",
                "ecs:DescribeServices 412 0 0.0 ",
            ]
        );
        assert_eq!(error_share(0, 0), "-");
        let expected = "2891 API calls, 12 errors (0.4%) since the source started";
        assert_eq!(totals(&fleet), expected);
    }

    #[test]
    fn keys_scroll_and_the_filter_narrows() {
        let fixture = fixture();
        let ctx = fixture.context();
        let mut view = StatsView::new();
        render(&mut view, &ctx, 80, 24);
        view.on_key(KeyId::Bottom, &ctx);
        assert_eq!(view.list.selected(), Some(fixture.fleet.api.len() - 1));
        // Source, stale reason, totals, a blank line and the header: row 6 is the second one.
        view.on_click(6, &ctx);
        assert_eq!(view.list.selected(), Some(1));
        view.set_filter("ecs:".into());
        let text = render(&mut view, &ctx, 80, 24);
        assert!(!text.contains("logs:FilterLogEvents"), "{text}");
        assert!(text.contains("ecs:DescribeTasks"), "{text}");
        view.set_filter("nothing like it".into());
        let text = render(&mut view, &ctx, 80, 24);
        assert!(
            text.contains("no operation matches /nothing like it"),
            "{text}"
        );
    }

    #[test]
    fn a_click_after_scrolling_selects_the_operation_under_it() {
        let mut fixture = fixture();
        let called_once = |operation| ApiStat {
            operation,
            calls: 1,
            errors: 0,
            last_error: None,
        };
        fixture
            .fleet
            .api
            .extend(numbered("test:Op").map(called_once));
        let mut view = StatsView::new();
        // The busiest first: the operations called once come last.
        let busiest = "logs:FilterLogEvents";
        click_after_scroll(&mut view, &fixture.context(), busiest, "test:Op15");
        assert_eq!(view.list.selected_id(), Some("test:Op15"));
    }

    #[test]
    fn sources_without_remote_apis_say_so() {
        let local = Fixture::new();
        let text = render(&mut StatsView::new(), &local.context(), 80, 24);
        assert!(
            text.starts_with("The local fleet makes no remote API calls"),
            "{text}"
        );
        let mut fixed = Fixture::new();
        (fixed.fleet.source, fixed.fleet.context) = (SourceKind::Static, "servers.toml".into());
        let text = render(&mut StatsView::new(), &fixed.context(), 80, 24);
        let polite = "The static source (servers.toml) makes no remote API calls";
        assert!(text.starts_with(polite), "{text}");
        let mut starting = fixture();
        (starting.fleet.api, starting.fleet.api_calls) = (Vec::new(), 0);
        let text = render(&mut StatsView::new(), &starting.context(), 80, 24);
        assert!(text.contains("no API calls yet"), "{text}");
    }

    #[test]
    fn snapshots() {
        let fixture = fixture();
        let mut view = StatsView::new();
        crate::assert_view_snapshots!("stats", &mut view, &fixture.context());
    }
}
