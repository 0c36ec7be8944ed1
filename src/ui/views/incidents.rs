//! The incident files the reproducer saved, newest first: when, which call, how it failed and
//! on which replica, with the call, its error and the task's log lines in the detail pane;
//! `r` sends the call again and the pane says what changed.

use std::path::PathBuf;

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Paragraph, Row, Table},
};

use super::{Context, View, call::result::json_lines};
use crate::{
    inert::inert_line,
    mcp::{CallId, CallOutcome, CallUpdate, incident::Incident},
    ui::{
        action::{Action, Scope, ViewKind},
        keys::KeyId,
        theme::Theme,
        widgets::{detail_pane, list::ListState},
    },
};

/// At most this many files are read, the newest.
const MAX_LISTED: usize = 500;
/// Log lines shown in the detail pane, the last of the incident's.
const LOG_LINES_SHOWN: usize = 12;

/// (header, width); PATH takes the rest.
const COLUMNS: &[(&str, u16)] = &[
    ("TIME", 19),
    ("SERVICE", 16),
    ("TOOL", 16),
    ("KIND", 14),
    ("TASK", 9),
    ("LOGS", 5),
    ("FILE", 0),
];

/// The incident files in `dir`, newest first (their names start with the time), and how many
/// could not be read.
pub fn load(dir: Option<&std::path::Path>) -> (Vec<(PathBuf, Incident)>, usize) {
    let Some(entries) = dir.and_then(|dir| std::fs::read_dir(dir).ok()) else {
        return (Vec::new(), 0);
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths.reverse();
    paths.truncate(MAX_LISTED);
    let mut unreadable = 0;
    let incidents = paths
        .into_iter()
        .filter_map(|path| match Incident::load(&path) {
            Ok(incident) => Some((path, incident)),
            Err(_) => {
                unreadable += 1;
                None
            }
        })
        .collect();
    (incidents, unreadable)
}

pub struct IncidentsView {
    scope: Scope,
    incidents: Vec<(PathBuf, Incident)>,
    unreadable: usize,
    list: ListState,
    /// The replay in flight or done: which incident, the call's id, its outcome once in.
    replay: Option<(usize, Option<CallId>, Option<Box<CallOutcome>>)>,
}

impl IncidentsView {
    pub fn new(scope: Scope, dir: Option<&std::path::Path>) -> Self {
        let (incidents, unreadable) = load(dir);
        Self {
            scope,
            incidents,
            unreadable,
            list: ListState::default(),
            replay: None,
        }
    }

    fn shown(&self) -> Vec<usize> {
        self.incidents
            .iter()
            .enumerate()
            .filter(|(_, (path, i))| {
                let task = i.served_by.as_ref().and_then(|b| b.task_id.clone());
                let cells = [i.service.clone(), i.tool.clone(), i.kind.clone()];
                let cells: Vec<String> = cells
                    .into_iter()
                    .chain(task)
                    .chain([path.display().to_string()])
                    .collect();
                self.list.matches(&cells)
            })
            .map(|(index, _)| index)
            .collect()
    }

    fn selected(&self) -> Option<usize> {
        self.list.selected_id()?.parse().ok()
    }
}

impl View for IncidentsView {
    fn kind(&self) -> ViewKind {
        ViewKind::Incidents
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        "incidents".into()
    }

    fn list(&self) -> Option<&ListState> {
        Some(&self.list)
    }

    fn list_mut(&mut self) -> Option<&mut ListState> {
        Some(&mut self.list)
    }

    fn on_key(&mut self, key: KeyId, _ctx: &Context) -> Option<Action> {
        match key {
            KeyId::Replay => {
                let index = self.selected()?;
                self.replay = Some((index, None, None));
                let request = self.incidents[index].1.request();
                Some(Action::StartCall(Box::new(request)))
            }
            KeyId::TraceLogs => {
                let incident = &self.incidents[self.selected()?].1;
                Some(Action::trace_logs(
                    &incident.service,
                    incident.served_by.as_ref(),
                    incident.exchange.trace_id.as_deref(),
                ))
            }
            other => self.list.on_key(other),
        }
    }

    fn on_call_started(&mut self, id: CallId, _at: std::time::SystemTime) {
        if let Some((_, call, _)) = &mut self.replay {
            *call = Some(id);
        }
    }

    fn on_call_update(&mut self, id: CallId, update: &CallUpdate) {
        if let (Some((_, Some(call), outcome)), CallUpdate::Done(done)) = (&mut self.replay, update)
            && *call == id
        {
            *outcome = Some(done.clone());
        }
    }

    fn animating(&self) -> bool {
        matches!(self.replay, Some((_, _, None)))
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let shown = self.shown();
        if shown.is_empty() {
            self.list.clear();
            let text = if self.incidents.is_empty() {
                "no incidents: ctrl-e on a call form (or mcpfleet repro) saves the first failure \
                 of each kind"
            } else {
                "no incidents match"
            };
            frame.render_widget(Paragraph::new(Line::styled(text, theme.dim())), area);
            return;
        }
        let table_height = (shown.len() as u16 + 1).min(area.height.saturating_sub(8));
        let [table_area, detail_area] =
            Layout::vertical([Constraint::Length(table_height), Constraint::Min(0)]).areas(area);
        let rows = shown.iter().map(|&index| {
            let (path, incident) = &self.incidents[index];
            let task = incident
                .served_by
                .as_ref()
                .map_or("-".into(), |by| by.short_task().to_string());
            let file = path.file_name().unwrap_or_default().to_string_lossy();
            Row::new(vec![
                Line::from(
                    incident
                        .at
                        .get(..19)
                        .unwrap_or(&incident.at)
                        .replace('T', " "),
                ),
                Line::from(incident.service.clone()),
                Line::from(incident.tool.clone()),
                Line::styled(incident.kind.replace('_', " "), theme.error()),
                Line::from(task),
                Line::from(incident.logs.len().to_string()).right_aligned(),
                Line::from(file.into_owned()),
            ])
        });
        let widths = COLUMNS.iter().map(|(_, width)| match width {
            0 => Constraint::Fill(1),
            w => Constraint::Length(*w),
        });
        let table = Table::new(rows, widths)
            .header(Row::new(COLUMNS.iter().map(|c| c.0)).style(theme.header()));
        let ids = shown.iter().map(ToString::to_string).collect();
        self.list.draw(frame, table_area, table, ids, theme);
        let Some(index) = self.selected() else {
            return;
        };
        let (path, incident) = &self.incidents[index];
        let name = format!("{} on {}", incident.tool, incident.service);
        let pane = detail_pane(
            name,
            "r sends it again",
            self.detail(index, path, incident, theme),
            theme,
        );
        frame.render_widget(pane, detail_area);
    }
}

impl IncidentsView {
    fn detail(
        &self,
        index: usize,
        path: &std::path::Path,
        incident: &Incident,
        theme: Theme,
    ) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        match &self.replay {
            Some((at, _, None)) if *at == index => {
                lines.push(Line::styled(
                    "sent again, waiting for the result…",
                    theme.warn(),
                ));
            }
            Some((at, _, Some(after))) if *at == index => {
                let again = incident.happened_again(after);
                lines.push(Line::styled(
                    if again {
                        "sent again: the failure happened again"
                    } else {
                        "sent again: the failure did not happen again"
                    },
                    if again { theme.error() } else { theme.ok() },
                ));
                for change in incident.changes(after) {
                    lines.push(Line::raw(format!("  {}", inert_line(&change))));
                }
            }
            _ => {}
        }
        let header = |text: &'static str| Span::styled(text, theme.header());
        let by = incident
            .served_by
            .as_ref()
            .map_or("not sent".to_string(), ToString::to_string);
        lines.push(Line::from(vec![header("served by "), Span::raw(by)]));
        let said = match (&incident.error, &incident.result) {
            (Some(error), _) => error.clone(),
            (None, Some(result)) => result["content"][0]["text"]
                .as_str()
                .unwrap_or("(a result without text)")
                .to_string(),
            (None, None) => "(nothing recorded)".into(),
        };
        lines.push(Line::from(vec![
            header("result "),
            Span::raw(inert_line(&said).into_owned()),
        ]));
        if let Some(trace) = &incident.exchange.trace_id {
            lines.push(Line::from(vec![
                header("trace "),
                Span::raw(format!("{trace} (ctrl-g: the task's log lines of it)")),
            ]));
        }
        lines.push(Line::from(vec![
            header("file "),
            Span::styled(path.display().to_string(), theme.dim()),
        ]));
        lines.push(Line::styled("arguments", theme.header()));
        lines.extend(json_lines(&incident.arguments, theme));
        let logs = &incident.logs;
        lines.push(Line::styled(
            format!("the task's log lines around it ({})", logs.len()),
            theme.header(),
        ));
        for log in logs.iter().skip(logs.len().saturating_sub(LOG_LINES_SHOWN)) {
            let time = log.at.get(11..23).unwrap_or(&log.at);
            let text = format!("{time} {}", log.message);
            lines.push(Line::styled(inert_line(&text).into_owned(), theme.dim()));
        }
        if self.unreadable > 0 {
            lines.push(Line::styled(
                format!(
                    "{} files in the folder are not incident files",
                    self.unreadable
                ),
                theme.warn(),
            ));
        }
        lines
    }
}
