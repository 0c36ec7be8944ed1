//! The tools of a service (from the first ready task that was probed) or of one task: name,
//! title, annotations and description, a detail pane with the selected tool's description and
//! arguments, and the server's resources and prompts. Enter opens the call form; `u` shows a
//! tool's App UI in the detail pane (`tool_app.rs`).

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::Line,
    widgets::{Paragraph, Row, Table},
};

use super::tool_app::AppPane;
pub use super::tools_catalog::{ToolSource, tool_source};
use super::tools_catalog::{catalog_line, detail_lines, find_tool, first_line, hint_spans};
use super::{Context, Fetch, View, chrome};
use crate::{
    inert::inert_line,
    mcp::{DroppedTool, Probe, ToolInfo},
    ui::{
        action::{Action, Scope, ViewKind},
        keys::KeyId,
        widgets::{detail_pane, list::ListState},
    },
};

/// (header, widest it grows to); DESCRIPTION takes the rest.
pub const COLUMNS: &[(&str, u16)] = &[
    ("NAME", 40),
    ("TITLE", 20),
    ("HINTS", 22),
    ("DESCRIPTION", 0),
];

pub struct ToolsView {
    scope: Scope,
    list: ListState,
    /// The tools the client dropped at the last draw, with why: listed, never called.
    dropped: Vec<DroppedTool>,
    app: Option<AppPane>,
}

impl ToolsView {
    pub fn new(scope: Scope) -> Self {
        let list = ListState::default();
        Self {
            scope,
            list,
            dropped: Vec::new(),
            app: None,
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
            .filter(|t| self.list.matches(&cells(t)))
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
        if let Some(task) = &self.scope.task {
            return format!("tools(task {})", &task[..task.len().min(8)]);
        }
        let service = self.scope.service.as_ref();
        service.map_or("tools".into(), |service| format!("tools({service})"))
    }

    fn list(&self) -> Option<&ListState> {
        Some(&self.list)
    }

    fn list_mut(&mut self) -> Option<&mut ListState> {
        Some(&mut self.list)
    }

    fn on_key(&mut self, key: KeyId, ctx: &Context) -> Option<Action> {
        match key {
            KeyId::Open => {
                let tool = self.list.selected_id()?.to_string();
                if let Some(dropped) = self.dropped.iter().find(|d| d.name == tool) {
                    let why = inert_line(&dropped.reason).into_owned();
                    return Some(Action::Message(format!("{tool} is not callable: {why}")));
                }
                Some(Action::OpenCall {
                    scope: self.scope.clone(),
                    tool,
                    arguments: None,
                })
            }
            KeyId::History => Some(Action::Open(
                ViewKind::History,
                Scope {
                    task: None,
                    ..self.scope.clone()
                },
            )),
            KeyId::Resources => Some(Action::Open(ViewKind::Resources, self.scope.clone())),
            KeyId::Prompts => Some(Action::Open(ViewKind::Prompts, self.scope.clone())),
            KeyId::Skills => Some(Action::Open(ViewKind::Skills, self.scope.clone())),
            KeyId::AppUi | KeyId::OpenApp => {
                let name = self.list.selected_id()?;
                let (tool, _) = find_tool(ctx.snapshot, ctx.probes, &self.scope, name).ok()?;
                let (pane, action) = AppPane::ask(tool, &self.scope, key == KeyId::OpenApp);
                self.app = pane.or(self.app.take());
                Some(action)
            }
            other => self.list.on_key(other),
        }
    }

    fn on_fetch_started(&mut self, id: crate::mcp::CallId, fetch: &Fetch) {
        if let Some(app) = &mut self.app {
            app.on_fetch_started(id, fetch);
        }
    }

    fn on_fetch_update(
        &mut self,
        id: crate::mcp::CallId,
        update: &crate::mcp::BrowseUpdate,
        _now: std::time::SystemTime,
    ) -> Option<Fetch> {
        if let Some(app) = &mut self.app {
            app.on_fetch_update(id, update);
        }
        None
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
                self.list.clear();
                return;
            }
            ToolSource::NoTask => {
                let service = self.scope.service.as_deref().unwrap_or("this service");
                let text = format!("{service} has no ready task to list tools from");
                frame.render_widget(Paragraph::new(Line::styled(text, theme.warn())), area);
                self.list.clear();
                return;
            }
        };
        let tools = self.tools(probe);
        self.dropped = probe.dropped_tools.clone();
        let dropped = &self.dropped;

        let table_height = ((tools.len() + self.dropped.len()) as u16 + 1)
            .clamp(2, (area.height.saturating_sub(1) / 2).max(2));
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
            match dropped.len() {
                0 => String::new(),
                n => format!("{n} dropped"),
            },
            format!(
                "tools/list in {:.0} ms",
                probe.latency.as_secs_f64() * 1000.0
            ),
        ] {
            if !part.is_empty()
                && summary_text.chars().count() + part.chars().count() + 3
                    <= usize::from(area.width)
            {
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
                &mut tools.iter().map(|t| t.hints().join(" ").len()),
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
        // Listed by the server, refused by the client: shown with why, never callable.
        let refused = dropped.iter().map(|d| {
            Row::new(vec![
                Line::styled(inert_line(&d.name).into_owned(), theme.error()),
                Line::from(""),
                Line::styled("DROPPED", theme.error()),
                Line::styled(inert_line(&d.reason).into_owned(), theme.error()),
            ])
        });
        let rows = rows.chain(refused);
        let constraints = widths
            .iter()
            .map(|w| Constraint::Length(*w))
            .chain([Constraint::Fill(1)]);
        let table = Table::new(rows, constraints)
            .header(Row::new(COLUMNS.iter().map(|c| c.0)).style(theme.header()))
            .column_spacing(2);
        let ids = tools
            .iter()
            .map(|t| t.name.clone())
            .chain(dropped.iter().map(|d| d.name.clone()))
            .collect();
        self.list.draw(frame, table_area, table, ids, theme);

        let [detail, catalog] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(detail_area);
        if let Some(tool) = self.list.selected().and_then(|i| tools.get(i)) {
            let mut lines = detail_lines(tool, theme);
            if let Some(app) = &self.app {
                lines.extend(app.lines(&tool.name, theme));
            }
            let hint = if tool.ui_resource.is_some() {
                "enter calls it · u app UI · U opens it"
            } else {
                "enter calls it"
            };
            let pane = detail_pane(tool.name.clone(), hint, lines, theme);
            frame.render_widget(pane, detail);
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
    use crate::ui::views::{
        fixtures::{Fixture, numbered},
        snapshot_support::{self, click_after_scroll},
    };

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
    fn a_click_after_scrolling_selects_the_tool_under_it() {
        let mut fixture = Fixture::new();
        let probe = fixture.probes.get_mut(TASK).unwrap();
        let echo = probe.tools[0].clone();
        let more = numbered("tool-").map(|name| ToolInfo {
            name,
            ..echo.clone()
        });
        probe.tools.extend(more);
        let mut view = ToolsView::new(Scope::service("mcpfleet-server"));
        click_after_scroll(&mut view, &fixture.context(), "echo", "tool-17");
        assert_eq!(view.list.selected_id(), Some("tool-17"));
    }

    #[test]
    fn u_shows_the_app_ui_of_a_tool_in_the_detail_pane() {
        let mut fixture = Fixture::new();
        let probe = fixture.probes.get_mut(TASK).unwrap();
        probe.tools[0].ui_resource = Some("ui://charts/chart.html".into());
        let name = probe.tools[0].name.clone();
        let ctx = fixture.context();
        let mut view = ToolsView::new(Scope::service("mcpfleet-server"));
        let before = snapshot_support::render(&mut view, &ctx, 100, 30);
        assert!(before.contains("APP"), "{before}");
        assert!(before.contains("u app UI"), "{before}");
        let Some(Action::Fetch(scope, fetch)) = view.on_key(KeyId::AppUi, &ctx) else {
            panic!("u asks the worker for the App UI")
        };
        assert_eq!(scope, Scope::service("mcpfleet-server"));
        assert_eq!(
            fetch,
            Fetch::Browse(crate::mcp::Browse::App { tool: name.clone() })
        );
        view.on_fetch_started(3, &fetch);
        let app = crate::mcp::apps::AppUi {
            tool: name,
            uri: "ui://charts/chart.html".into(),
            mime_type: Some("text/html;profile=mcp-app".into()),
            size: 56,
            csp: Some(json!({"connectDomains": ["https://api.example"]})),
            permissions: Some(json!({"camera": {}})),
            domain: None,
            prefers_border: None,
            html: String::new(),
        };
        let answer = crate::mcp::BrowseUpdate::Answer(Ok(crate::mcp::Browsed::App(app)));
        view.on_fetch_update(3, &answer, ctx.now);
        let after = snapshot_support::render(&mut view, &ctx, 100, 30);
        for line in [
            "App UI",
            "ui resource:        ui://charts/chart.html",
            "csp connectDomains: https://api.example",
            "permissions:        camera",
        ] {
            assert!(after.contains(line), "{line} in {after}");
        }
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
            ui_resource: None,
        });
        let mut view = ToolsView::new(Scope::service("mcpfleet-server"));
        crate::assert_view_snapshots!("tools", &mut view, &fixture.context());
        let mut probing = ToolsView::new(Scope::task("mcpfleet-server", "e4f6a8c0"));
        let text = snapshot_support::render(&mut probing, &fixture.context(), 80, 24);
        assert_eq!(text.lines().next(), Some("probing task e4f6a8c0…"));
    }
}
