//! The tools of a service (from the first ready task that was probed) or of one task: name,
//! title, annotations and description, a detail pane with the selected tool's description and
//! arguments, and the server's resources and prompts. Enter opens the call form.

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::Line,
    widgets::{Block, Borders, Paragraph, Row, Table, TableState, Wrap},
};

pub use super::tools_catalog::{ToolSource, tool_source};
use super::tools_catalog::{catalog_line, detail_lines, first_line, hint_spans, hints};
use super::{Context, View, chrome, matches_filter, move_selection};
use crate::{
    mcp::{Probe, ToolInfo},
    ui::{
        action::{Action, Scope, ViewKind},
        keys::KeyId,
    },
};

/// (header, widest it grows to); DESCRIPTION takes the rest.
pub const COLUMNS: &[(&str, u16)] = &[
    ("NAME", 24),
    ("TITLE", 20),
    ("HINTS", 22),
    ("DESCRIPTION", 0),
];

pub struct ToolsView {
    scope: Scope,
    selected: usize,
    filter: String,
    visible: Vec<String>,
}

impl ToolsView {
    pub fn new(scope: Scope) -> Self {
        Self {
            scope,
            selected: 0,
            filter: String::new(),
            visible: Vec::new(),
        }
    }

    fn tools<'a>(&self, probe: &'a Probe) -> Vec<&'a ToolInfo> {
        let cells = |t: &ToolInfo| {
            [
                t.name.clone(),
                t.title.clone().unwrap_or_default(),
                first_line(t.description.as_deref()),
            ]
        };
        probe
            .tools
            .iter()
            .filter(|t| matches_filter(&self.filter, &cells(t)))
            .collect()
    }
}

impl View for ToolsView {
    fn kind(&self) -> ViewKind {
        ViewKind::Tools
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        match (&self.scope.service, &self.scope.task) {
            (_, Some(task)) => format!("tools(task {})", &task[..task.len().min(8)]),
            (Some(service), None) => format!("tools({service})"),
            _ => "tools".into(),
        }
    }

    fn filter(&self) -> &str {
        &self.filter
    }

    fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.selected = 0;
    }

    fn on_click(&mut self, row: u16, _ctx: &Context) -> Option<Action> {
        // Row 0 is the summary, row 1 the header.
        if let Some(index) = super::clicked_index(row, 2, self.visible.len()) {
            self.selected = index;
        }
        None
    }

    fn on_key(&mut self, key: KeyId, _ctx: &Context) -> Option<Action> {
        match key {
            KeyId::Open => Some(Action::OpenCall {
                scope: self.scope.clone(),
                tool: self.visible.get(self.selected)?.clone(),
                arguments: None,
            }),
            KeyId::History => Some(Action::Open(
                ViewKind::History,
                Scope {
                    task: None,
                    ..self.scope.clone()
                },
            )),
            other => {
                self.selected = move_selection(self.selected, self.visible.len(), other, 10);
                None
            }
        }
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let (task_id, probe) = match tool_source(ctx.snapshot, &self.scope, ctx.probes) {
            ToolSource::Probed { task_id, probe } => (task_id, probe),
            ToolSource::Probing(task) => {
                let short = &task[..task.len().min(8)];
                let line = match ctx.probe_errors.get(&task) {
                    Some(error) => Line::styled(format!("task {short}: {error}"), theme.warn()),
                    None => Line::styled(format!("probing task {short}…"), theme.dim()),
                };
                frame.render_widget(Paragraph::new(line), area);
                self.visible.clear();
                return;
            }
            ToolSource::NoTask => {
                let service = self.scope.service.as_deref().unwrap_or("this service");
                let text = format!("{service} has no ready task to list tools from");
                frame.render_widget(Paragraph::new(Line::styled(text, theme.warn())), area);
                self.visible.clear();
                return;
            }
        };
        let tools = self.tools(probe);
        self.visible = tools.iter().map(|t| t.name.clone()).collect();
        self.selected = self.selected.min(tools.len().saturating_sub(1));

        let table_height =
            (tools.len() as u16 + 1).clamp(2, (area.height.saturating_sub(1) / 2).max(2));
        let [summary, table_area, detail_area] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(table_height),
            Constraint::Min(0),
        ])
        .areas(area);
        // What fits of: server, protocol, task, age, then the extras.
        let mut summary_text = format!(
            "{} {}",
            probe.server_name.as_deref().unwrap_or("(unnamed server)"),
            probe.server_version.as_deref().unwrap_or("")
        );
        for part in [
            format!("protocol {}", probe.protocol_version),
            format!("task {}", &task_id[..task_id.len().min(8)]),
            format!("probed {} ago", chrome::age(probe.fetched_at, ctx.now)),
            format!("{} tools", probe.tools.len()),
            format!(
                "tools/list in {:.0} ms",
                probe.latency.as_secs_f64() * 1000.0
            ),
        ] {
            if summary_text.chars().count() + part.chars().count() + 3 <= usize::from(area.width) {
                summary_text = format!("{summary_text} · {part}");
            }
        }
        frame.render_widget(
            Paragraph::new(Line::styled(summary_text, theme.dim())),
            summary,
        );

        let width_of = |cells: &mut dyn Iterator<Item = usize>, header: usize, max: u16| {
            cells.max().unwrap_or(0).max(header).min(usize::from(max)) as u16
        };
        let widths = [
            width_of(
                &mut tools.iter().map(|t| t.name.chars().count()),
                4,
                COLUMNS[0].1,
            ),
            width_of(
                &mut tools
                    .iter()
                    .map(|t| t.title.as_deref().map_or(0, |s| s.chars().count())),
                5,
                COLUMNS[1].1,
            ),
            width_of(
                &mut tools.iter().map(|t| hints(t).join(" ").len()),
                5,
                COLUMNS[2].1,
            ),
        ];
        let rows = tools.iter().map(|t| {
            Row::new(vec![
                Line::from(t.name.clone()),
                Line::from(t.title.clone().unwrap_or_default()),
                hint_spans(t, theme),
                Line::styled(first_line(t.description.as_deref()), theme.dim()),
            ])
        });
        let constraints = widths
            .iter()
            .map(|w| Constraint::Length(*w))
            .chain([Constraint::Fill(1)]);
        let table = Table::new(rows, constraints)
            .header(Row::new(COLUMNS.iter().map(|c| c.0)).style(theme.header()))
            .row_highlight_style(theme.selected())
            .column_spacing(2);
        let mut state =
            TableState::default().with_selected((!tools.is_empty()).then_some(self.selected));
        frame.render_stateful_widget(table, table_area, &mut state);

        let [detail, catalog] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(detail_area);
        if let Some(tool) = tools.get(self.selected) {
            let block = Block::new()
                .borders(Borders::TOP)
                .border_style(theme.dim())
                .title(Line::styled(format!(" {} ", tool.name), theme.title()))
                .title(
                    Line::from(" enter calls it ")
                        .right_aligned()
                        .style(theme.dim()),
                );
            let text = Paragraph::new(detail_lines(tool, theme))
                .block(block)
                .wrap(Wrap { trim: false });
            frame.render_widget(text, detail);
        }
        frame.render_widget(
            Paragraph::new(Line::styled(catalog_line(probe), theme.dim())),
            catalog,
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ui::views::{fixtures::Fixture, snapshot_support};

    const TASK: &str = "0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c";

    #[test]
    fn keys_call_the_selected_tool_and_open_history() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = ToolsView::new(Scope::service("mcpfleet-server"));
        snapshot_support::render(&mut view, &ctx, 80, 24);
        view.on_key(KeyId::Down, &ctx);
        assert_eq!(
            view.on_key(KeyId::Open, &ctx),
            Some(Action::OpenCall {
                scope: Scope::service("mcpfleet-server"),
                tool: "whoami".into(),
                arguments: None
            })
        );
        assert_eq!(
            view.on_key(KeyId::History, &ctx),
            Some(Action::Open(
                ViewKind::History,
                Scope::service("mcpfleet-server")
            ))
        );
        view.set_filter("echo".into());
        snapshot_support::render(&mut view, &ctx, 80, 24);
        assert_eq!(
            view.on_key(KeyId::Open, &ctx)
                .map(|a| matches!(a, Action::OpenCall { tool, .. } if tool == "echo")),
            Some(true)
        );
    }

    #[test]
    fn snapshots() {
        let mut fixture = Fixture::new();
        let probe = fixture.probes.get_mut(TASK).unwrap();
        probe.tools[0].description = Some(
            "Return the message unchanged.\nUseful to measure the round trip through the fleet."
                .into(),
        );
        probe.tools[0].input_schema = json!({"type": "object", "required": ["message"], "properties": {
            "message": {"type": "string", "description": "What to send back."},
            "repeat": {"type": "integer", "minimum": 1, "default": 1}}});
        probe.tools.push(ToolInfo {
            name: "stop_replica".into(),
            title: Some("Stop a replica".into()),
            description: Some("Exit the process after draining.".into()),
            input_schema: json!({"type": "object"}),
            output_schema: None,
            read_only: Some(false),
            destructive: Some(true),
            idempotent: None,
            open_world: Some(true),
        });
        let mut view = ToolsView::new(Scope::service("mcpfleet-server"));
        crate::assert_view_snapshots!("tools", &mut view, &fixture.context());
        let mut probing = ToolsView::new(Scope::task("mcpfleet-server", "e4f6a8c0"));
        let text = snapshot_support::render(&mut probing, &fixture.context(), 80, 24);
        assert_eq!(text.lines().next(), Some("probing task e4f6a8c0…"));
    }
}
