//! The services list, the console's home: per service its counts, health, rollout state,
//! in-flight calls now and over time, call rate, error share, protocol and drift of the surface
//! its replicas present (quiet mid-rollout, loud at rest; `D` opens the diff), and
//! a `!` after the name when the source has notes on it, and how many of its tasks stand out
//! from the rest (`fleet::outliers`). Load comes from the tasks' own
//! metrics; when no live task has any, from the service's Service Connect traffic. `! sse` in
//! OUTLIER marks a service with a task whose SSE stream stays silent for longer than the idle
//! timeout in front of it.

use std::collections::{HashMap, HashSet};

use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    style::{Modifier, Style},
    text::{Line, Span},
    widgets::{Paragraph, Row, Table, Wrap},
};

use super::{Context, View};
use crate::fleet::{Command, RevisionChange};
use crate::{
    fleet::{FleetSnapshot, RolloutState, Service, Traffic},
    ui::{
        action::{Action, Scope, ViewKind},
        keys::KeyId,
        theme::Theme,
        widgets::{list::ListState, sparkline_text},
    },
};

/// (header, width, the narrowest terminal it is shown on); SERVICE takes the rest.
pub const COLUMNS: &[(&str, u16, u16)] = &[
    ("SERVICE", 14, 0),
    ("D/R/P", 7, 0),
    ("HEALTH", 10, 0),
    ("ROLLOUT", 11, 0),
    ("IN-FLIGHT", 9, 0),
    ("TREND", 8, 90),
    ("CALLS/S", 7, 0),
    ("ERR%", 5, 0),
    ("OUTLIER", 8, 0),
    ("PROTOCOL", 10, WIDE),
    ("DRIFT", 5, WIDE),
];
/// Below this width the wide-only columns go; drift then marks the service name.
const WIDE: u16 = 110;

/// One row of the table, computed from the snapshot alone (a pure function, tested alone).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    pub name: String,
    pub counts: String,
    pub ready: usize,
    pub desired: u32,
    pub rollout: Option<RolloutState>,
    pub in_flight: u64,
    /// Summed over the live tasks' rates (or the Service Connect figures); none while no task
    /// has scraped long enough to have one.
    pub calls_per_sec: Option<f64>,
    /// Errors as a percentage of calls over the same window; none without calls.
    pub error_share: Option<f64>,
    pub protocol: String,
    /// The live tasks present more than one surface (`mcp::drift`): expected while the
    /// rollout is in progress, alarming otherwise.
    pub drift: bool,
    /// How many notes the source has on the service.
    pub notes: usize,
    /// Live tasks marked as outliers.
    pub outliers: usize,
    /// Service Connect figures, standing in for the tasks' metrics when none has any.
    pub traffic: Option<TrafficLoad>,
    /// Live tasks with a stream silent for longer than the idle timeout in front of them.
    pub stream_warnings: usize,
    /// Its tasks keep dying (`fleet::crashloop`).
    pub crash_loop: bool,
}

/// The newest minute of a service's Service Connect traffic, as the load columns show it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficLoad {
    pub calls_per_sec: Option<f64>,
    /// 5xx responses as a percentage of requests; none without requests.
    pub error_share: Option<f64>,
    /// Active connections per minute, rounded, oldest first: the TREND.
    pub connections: Vec<u64>,
}

pub fn traffic_load(traffic: &Traffic) -> TrafficLoad {
    let requests = traffic.requests.last().copied();
    let errors = traffic.errors_5xx.last().copied().unwrap_or(0.0);
    TrafficLoad {
        calls_per_sec: requests.map(|r| r / 60.0),
        error_share: requests.filter(|&r| r > 0.0).map(|r| 100.0 * errors / r),
        connections: traffic
            .active_connections
            .iter()
            .map(|&c| c.max(0.0).round() as u64)
            .collect(),
    }
}

pub fn row(service: &Service, probes: &HashMap<String, crate::mcp::Probe>) -> ServiceRow {
    let live: Vec<_> = service
        .tasks
        .iter()
        .filter(|t| t.stopped_at.is_none())
        .collect();
    let metrics: Vec<_> = live.iter().filter_map(|t| t.metrics.as_ref()).collect();
    let in_flight = metrics.iter().map(|m| m.in_flight).sum();
    let rated: Vec<_> = metrics
        .iter()
        .filter(|m| m.calls_per_sec.is_some())
        .collect();
    let calls_per_sec: Option<f64> =
        (!rated.is_empty()).then(|| rated.iter().filter_map(|m| m.calls_per_sec).sum());
    let errors_per_sec: f64 = rated.iter().filter_map(|m| m.errors_per_sec).sum();
    let task_probes: Vec<_> = live.iter().filter_map(|t| probes.get(&t.id)).collect();
    let protocols: HashSet<&str> = task_probes
        .iter()
        .map(|p| p.protocol_version.as_str())
        .collect();
    // The whole surface (server, protocol, capabilities, tools), as `mcpfleet drift` groups it.
    let hashes: HashSet<&str> = task_probes
        .iter()
        .map(|p| p.surface.fingerprint.hash.as_str())
        .collect();
    let mut protocols: Vec<&str> = protocols.into_iter().collect();
    protocols.sort();
    let measured = live.iter().any(|t| t.metrics.is_some());
    let traffic = service
        .traffic
        .as_ref()
        .filter(|_| !measured)
        .map(traffic_load);
    let (in_flight, calls_per_sec, error_share) = match &traffic {
        Some(load) => (
            load.connections.last().copied().unwrap_or(0),
            load.calls_per_sec,
            load.error_share,
        ),
        None => (
            in_flight,
            calls_per_sec,
            calls_per_sec
                .filter(|&calls| calls > 0.0)
                .map(|calls| 100.0 * errors_per_sec / calls),
        ),
    };
    ServiceRow {
        crash_loop: service.crash_loop.is_some(),
        name: service.name.clone(),
        counts: format!(
            "{}/{}/{}",
            service.desired, service.running, service.pending
        ),
        ready: service.ready_tasks().count(),
        desired: service.desired,
        rollout: service.primary().map(|d| d.rollout_state),
        in_flight,
        calls_per_sec,
        error_share,
        protocol: if protocols.is_empty() {
            "-".into()
        } else {
            protocols.join(",")
        },
        drift: hashes.len() > 1,
        notes: service.notes.len(),
        outliers: live.iter().filter(|t| t.outlier.is_some()).count(),
        traffic,
        stream_warnings: 0,
    }
}

pub fn rollout_label(state: Option<RolloutState>) -> &'static str {
    state.map_or("-", RolloutState::label)
}

pub struct ServicesView {
    scope: Scope,
    list: ListState,
}

impl ServicesView {
    pub fn new() -> Self {
        Self {
            scope: Scope::fleet(),
            list: ListState::default(),
        }
    }

    fn rows(&self, ctx: &Context) -> Vec<ServiceRow> {
        let cells = |r: &ServiceRow| [r.name.clone(), rollout_label(r.rollout).to_string()];
        let rows = ctx.snapshot.services.iter().map(|s| {
            let mut row = row(s, ctx.probes);
            // Marks from the console's own calls, for services without metrics.
            let marked = |t: &&crate::fleet::Task| ctx.calls.outliers.contains_key(&t.id);
            row.outliers += s.tasks.iter().filter(marked).count();
            let live = s.tasks.iter().filter(|t| t.stopped_at.is_none());
            let warned = |t: &&crate::fleet::Task| {
                ctx.stream_health(&s.name, &t.id)
                    .is_some_and(|(_, warning)| warning.is_some())
            };
            row.stream_warnings = live.filter(warned).count();
            row
        });
        rows.filter(|r| self.list.matches(&cells(r))).collect()
    }
}

impl Default for ServicesView {
    fn default() -> Self {
        Self::new()
    }
}

impl View for ServicesView {
    fn kind(&self) -> ViewKind {
        ViewKind::Services
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        "services".into()
    }

    fn list(&self) -> Option<&ListState> {
        Some(&self.list)
    }

    fn list_mut(&mut self) -> Option<&mut ListState> {
        Some(&mut self.list)
    }

    fn on_key(&mut self, key: KeyId, ctx: &Context) -> Option<Action> {
        let service = self.list.selected_id().map(str::to_string);
        let open = |kind| {
            service
                .clone()
                .map(|s| Action::Open(kind, Scope::service(s)))
        };
        match key {
            KeyId::Open | KeyId::Tasks => open(ViewKind::Tasks),
            KeyId::Logs => open(ViewKind::Logs),
            KeyId::Tools => open(ViewKind::Tools),
            KeyId::Resources => open(ViewKind::Resources),
            KeyId::Prompts => open(ViewKind::Prompts),
            KeyId::Skills => open(ViewKind::Skills),
            KeyId::Rollout => open(ViewKind::Rollout),
            KeyId::Drift => open(ViewKind::Drift),
            KeyId::Scale => {
                let service = service?;
                let desired = ctx.snapshot.service(&service)?.desired;
                Some(Action::Confirm(Command::Scale { service, desired }))
            }
            KeyId::ForceDeploy => service.map(|service| {
                Action::Confirm(Command::Deploy {
                    service,
                    change: RevisionChange::default(),
                })
            }),
            other => self.list.on_key(other),
        }
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let rows = self.rows(ctx);
        let wide = area.width >= WIDE;
        let fits = |c: &&(&str, u16, u16)| area.width >= c.2;
        let columns: Vec<&(&str, u16, u16)> = COLUMNS.iter().filter(fits).collect();
        let table_rows = rows.iter().map(|r| {
            let health_style = if r.ready as u32 >= r.desired {
                theme.ok()
            } else {
                theme.warn()
            };
            let rollout_style = match r.rollout {
                Some(RolloutState::Failed) => theme.error(),
                Some(RolloutState::InProgress) => theme.warn(),
                _ => theme.ok(),
            };
            let one_decimal = |value: Option<f64>| value.map_or("-".into(), |v| format!("{v:.1}"));
            let trend = match &r.traffic {
                Some(load) => sparkline_text(&load.connections, 8),
                None => ctx
                    .trends
                    .services
                    .get(&r.name)
                    .map(|p| sparkline_text(p, 8))
                    .unwrap_or_default(),
            };
            let (rate, error_share) = (one_decimal(r.calls_per_sec), one_decimal(r.error_share));
            // Mid-rollout drift is expected and shown quietly; drift at rest is the alarm.
            let rolling = r.rollout == Some(RolloutState::InProgress);
            let drift_style = if rolling {
                theme.warn()
            } else {
                theme.error().add_modifier(Modifier::REVERSED)
            };
            let mut name = vec![if r.drift && !wide {
                Span::styled(format!("{} ⚠", r.name), drift_style)
            } else {
                Span::raw(r.name.clone())
            }];
            if r.notes > 0 {
                name.push(Span::styled(" !", theme.warn()));
            }
            let cells = vec![
                Line::from(name),
                Line::from(r.counts.clone()),
                // Tasks that keep dying matter more than how many are up right now.
                match r.crash_loop {
                    true => Line::styled("CRASHLOOP", theme.error().add_modifier(Modifier::BOLD)),
                    false => Line::styled(format!("{}/{} ready", r.ready, r.desired), health_style),
                },
                Line::from(Span::styled(rollout_label(r.rollout), rollout_style)),
                Line::from(r.in_flight.to_string()),
                Line::from(Span::styled(trend, theme.title())),
                Line::from(rate),
                Line::from(error_share),
                // A task whose stream outlasts the idle timeout in front stands out too (the
                // tasks screen says which and why), where no other task does.
                match r.outliers {
                    0 if r.stream_warnings > 0 => Line::styled("! sse", theme.warn()),
                    0 => Line::from(""),
                    1 => Line::styled("! 1 task", theme.warn()),
                    n => Line::styled(format!("! {n} tasks"), theme.warn()),
                },
                Line::from(r.protocol.clone()),
                Line::from(match (r.drift, rolling) {
                    (true, true) => Span::styled("drift", drift_style),
                    (true, false) => Span::styled("DRIFT", drift_style),
                    (false, _) => Span::raw(""),
                }),
            ];
            let shown = COLUMNS.iter().map(|c| fits(&c));
            let cells = cells.into_iter().zip(shown).filter(|c| c.1).map(|c| c.0);
            Row::new(cells)
        });
        let widths: Vec<Constraint> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    Constraint::Min(c.1)
                } else {
                    Constraint::Length(c.1)
                }
            })
            .collect();
        let table = Table::new(table_rows, widths)
            .header(Row::new(columns.iter().map(|c| c.0)).style(theme.header()));
        let ids = rows.iter().map(|r| r.name.clone()).collect();
        self.list.draw(frame, area, table, ids, theme);
        if rows.is_empty() && area.height > 2 {
            let below = Rect {
                y: area.y + 2,
                height: area.height - 2,
                ..area
            };
            let (text, style) = empty_reason(ctx.snapshot, !self.list.filter().is_empty());
            let reason =
                Paragraph::new(Span::styled(text, style(&theme))).wrap(Wrap { trim: true });
            frame.render_widget(reason, below);
        }
    }
}

/// Why the list is empty, in full (the header has room for a line at most).
pub fn empty_reason(snapshot: &FleetSnapshot, filtered: bool) -> (String, fn(&Theme) -> Style) {
    if filtered {
        return ("no service matches the filter".into(), Theme::dim);
    }
    if let Some(reason) = &snapshot.stale {
        return (reason.clone(), Theme::error);
    }
    if snapshot.loading {
        return ("looking at the fleet…".into(), Theme::dim);
    }
    let hint = match snapshot.source {
        crate::fleet::SourceKind::Aws => {
            "no MCP services here: a service counts when it has the tag mcpfleet:path or a \
             Service Connect port (--all shows every service; --cluster picks clusters)"
        }
        _ => "no services",
    };
    (hint.into(), Theme::dim)
}

#[cfg(test)]
#[path = "services_tests.rs"]
mod tests;
