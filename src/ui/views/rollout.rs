//! A service's rollout: its deployments (status, revision, counts, rollout state and reason),
//! a summary of where the rollout stands, and the service events, newest first and scrollable.
//! `b` rolls back and `d` forces a new deployment, both after confirmation.

use std::{cmp::Reverse, time::SystemTime};

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};
use ratatui::{
    Frame,
    style::{Modifier, Style},
};

use super::{Context, View, chrome::age, tasks::clip};
use crate::fleet::{
    AlarmState, Command, Deployment, DeploymentPolicy, DeploymentStatus, RevisionChange,
    RolloutState,
};
use crate::fleet::{Service, ServiceEvent};
use crate::mcp::drift::ServiceDrift;
use crate::ui::action::{Action, Scope, ViewKind};
use crate::ui::widgets::list::{matches_filter, move_selection};
use crate::ui::{keys::KeyId, theme::Theme, views::services::rollout_label};

/// (header, width, shown only on wide terminals); REASON takes the rest.
pub const COLUMNS: &[(&str, u16, bool)] = &[
    ("STATUS", 8, false),
    ("REVISION", 8, false),
    ("DESIRED", 7, false),
    ("RUNNING", 7, false),
    ("PENDING", 7, true),
    ("FAILED", 6, false),
    ("ROLLOUT", 11, false),
    ("CALLS/S", 7, false),
    ("ERR%", 6, false),
    ("P99 MS", 7, false),
    ("CREATED", 7, true),
    ("UPDATED", 7, true),
    ("REASON", 0, false),
];
const STATE: usize = 6;
const ERRORS: usize = 8;
const WIDE: u16 = 110;
/// Width of the events' age column ("10m30s ago").
const AGE_WIDTH: usize = 10;

/// One deployment as the text of each `COLUMNS` entry (a pure function, tested alone); its
/// revision's calls/s, error rate and slowest task's p99 over the recent window, `-` without.
pub fn deployment_cells(d: &Deployment, now: SystemTime) -> [String; 13] {
    let status = format!("{:?}", d.status).to_uppercase();
    let counts = [d.revision, d.desired, d.running, d.pending, d.failed].map(|n| n.to_string());
    let [revision, desired, running, pending, failed] = counts;
    let state = rollout_label(Some(d.rollout_state)).to_string();
    let (created, updated) = (age(d.created_at, now), age(d.updated_at, now));
    let reason = d.rollout_reason.clone().unwrap_or_default();
    let figures = d.figures.as_ref();
    let rate = figures.map_or("-".into(), |f| format!("{:.1}", f.calls_per_sec));
    let errors = figures
        .and_then(|f| f.error_rate)
        .map_or("-".into(), |e| format!("{e:.1}"));
    let p99 = figures
        .and_then(|f| f.p99_ms)
        .map_or("-".into(), |p| format!("{p:.1}"));
    [
        status, revision, desired, running, pending, failed, state, rate, errors, p99, created,
        updated, reason,
    ]
}

fn state_style(state: RolloutState, theme: Theme) -> Style {
    match state {
        RolloutState::InProgress => theme.warn(),
        RolloutState::Completed => theme.ok(),
        RolloutState::Failed => theme.error(),
    }
}

/// A revision whose calls fail stands out before the breaker decides: red from 5 %.
fn errors_style(d: &Deployment, theme: Theme) -> Style {
    match d.figures.as_ref().and_then(|f| f.error_rate) {
        Some(rate) if rate >= 5.0 => theme.error().add_modifier(Modifier::BOLD),
        Some(rate) if rate > 0.0 => theme.warn(),
        _ => Style::default(),
    }
}

fn plural(n: u32, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Where the rollout of the PRIMARY deployment stands, in one sentence.
pub fn summary(service: &Service, now: SystemTime) -> Option<(String, RolloutState)> {
    let primary = service.primary()?;
    let (revision, running, desired) = (primary.revision, primary.running, primary.desired);
    let text = match primary.rollout_state {
        RolloutState::InProgress if primary.bake_ends_at.is_some() => {
            let left = primary
                .bake_ends_at
                .and_then(|end| end.duration_since(now).ok())
                .map_or("0s".into(), |left| {
                    humantime::format_duration(std::time::Duration::from_secs(left.as_secs()))
                        .to_string()
                });
            format!(
                "revision {revision} is baking: {running}/{desired} running, \
                 deployment alarms watched {left} more"
            )
        }
        RolloutState::InProgress => {
            let active = service.deployments.iter();
            let active = active.filter(|d| d.status == DeploymentStatus::Active);
            let old: u32 = active.map(|d| d.running).sum();
            // A FAILED deployment still running beside the primary is what it rolls back from.
            let verb = match service.deployments.iter().any(|d| {
                d.status == DeploymentStatus::Active && d.rollout_state == RolloutState::Failed
            }) {
                true => "rolling back to",
                false => "rolling out",
            };
            let mut text = format!("{verb} revision {revision}: {running}/{desired} running");
            if primary.pending > 0 {
                text += &format!(", {} pending", primary.pending);
            }
            if primary.failed > 0 {
                text += &format!(", {} failed to start", plural(primary.failed, "task"));
            }
            match old {
                0 => text + ", no old tasks left",
                n => text + &format!(", {} still running", plural(n, "old task")),
            }
        }
        RolloutState::Completed => {
            format!("revision {revision} is deployed: {running}/{desired} running")
        }
        RolloutState::Failed => {
            let reason = primary.rollout_reason.as_deref();
            let reason = reason.unwrap_or("no reason given");
            format!("rollout of revision {revision} failed: {reason}")
        }
    };
    Some((text, primary.rollout_state))
}

/// Whether the replicas present more than one surface, in one sentence: what a rollout is
/// expected to cause while it lasts, and what should be gone when it completes.
pub fn drift_text(drift: &ServiceDrift) -> Option<String> {
    if !drift.drift {
        return None;
    }
    let groups = drift.groups.iter().map(|g| {
        let revisions: Vec<String> = g.revisions.iter().map(u32::to_string).collect();
        let tasks = plural(g.tasks.len() as u32, "task");
        format!("{} on revision {}", tasks, revisions.join(","))
    });
    let groups: Vec<String> = groups.collect();
    Some(format!(
        "replicas present {} surfaces ({}) · D shows what differs",
        drift.groups.len(),
        groups.join(" / ")
    ))
}

/// The service's deployment bounds and circuit breaker, in one phrase.
pub fn policy_text(policy: &DeploymentPolicy) -> String {
    let breaker = match (policy.circuit_breaker, policy.rollback) {
        (true, true) => "circuit breaker on, rolls back",
        (true, false) => "circuit breaker on, no rollback",
        (false, _) => "circuit breaker off",
    };
    let alarms = match (policy.alarms.len(), policy.alarm_rollback) {
        (0, _) => String::new(),
        (n, rollback) => format!(
            " · {} alarm{}{}",
            n,
            if n == 1 { "" } else { "s" },
            if rollback { ", rolls back" } else { "" }
        ),
    };
    format!(
        "min {} % / max {} % · {breaker}{alarms}",
        policy.min_healthy_percent, policy.max_percent
    )
}

/// Each deployment alarm whose state is known, in one line: the state, then why.
pub fn alarm_lines(policy: &DeploymentPolicy, theme: Theme) -> Vec<Line<'static>> {
    let known = policy
        .alarms
        .iter()
        .filter_map(|alarm| Some((alarm, alarm.state?)));
    known
        .map(|(alarm, state)| {
            let style = match state {
                AlarmState::Alarm => theme.error().add_modifier(Modifier::BOLD),
                AlarmState::Ok => theme.ok(),
                AlarmState::InsufficientData => theme.dim(),
            };
            let reason = alarm.reason.as_deref().map(|r| format!(" · {r}"));
            Line::from(vec![
                Span::raw(format!("alarm {} ", alarm.name)),
                Span::styled(state.label(), style),
                Span::styled(reason.unwrap_or_default(), theme.dim()),
            ])
        })
        .collect()
}

/// ECS starts every event with "(service NAME)"; in a view of that service it says nothing.
fn event_text<'a>(service: &str, event: &'a ServiceEvent) -> &'a str {
    let message = event.message.as_str();
    message
        .strip_prefix(&format!("(service {service}) "))
        .unwrap_or(message)
}

/// Splits `text` into lines of at most `width` characters, at spaces where it can.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.len() <= width => line.push(' '),
            _ => lines.push(String::new()),
        }
        while word.len() > width {
            let rest = word.split_off(width);
            lines.last_mut().expect("a line was pushed").extend(word);
            lines.push(String::new());
            word = rest;
        }
        lines.last_mut().expect("a line was pushed").extend(word);
    }
    lines
}

pub struct RolloutView {
    scope: Scope,
    service: String,
    filter: String,
    /// Index of the first event shown, and how many there were at the last draw.
    scroll: usize,
    events: usize,
    page: usize,
}

impl RolloutView {
    pub fn new(scope: Scope) -> Self {
        let service = scope.service.clone().unwrap_or_default();
        let (filter, scroll, events, page) = (String::new(), 0, 0, 1);
        Self {
            scope,
            service,
            filter,
            scroll,
            events,
            page,
        }
    }

    fn render_events(&mut self, frame: &mut Frame, area: Rect, ctx: &Context, service: &Service) {
        let filter =
            |e: &&ServiceEvent| matches_filter(&self.filter, std::slice::from_ref(&e.message));
        let mut events: Vec<&ServiceEvent> = service.events.iter().filter(filter).collect();
        events.sort_by_key(|e| Reverse(e.at));
        self.events = events.len();
        self.scroll = self.scroll.min(events.len().saturating_sub(1));
        self.page = usize::from(area.height.saturating_sub(1)).max(1);
        let title = match (events.len(), self.scroll) {
            (0, _) => "EVENTS (none)".to_string(),
            (n, 0) => format!("EVENTS ({n}, newest first)"),
            (n, from) => format!("EVENTS ({n}, newest first, from #{})", from + 1),
        };
        let mut lines = vec![Line::styled(title, ctx.theme.header())];
        let width = usize::from(area.width).saturating_sub(AGE_WIDTH + 2);
        for event in events.iter().skip(self.scroll) {
            let when = format!("{} ago", age(event.at, ctx.now));
            let parts = wrap(event_text(&service.name, event), width);
            for (i, part) in parts.into_iter().enumerate() {
                let when = if i == 0 { when.as_str() } else { "" };
                let when = Span::styled(format!("{when:>AGE_WIDTH$}  "), ctx.theme.dim());
                lines.push(Line::from(vec![when, Span::raw(part)]));
            }
            if lines.len() > usize::from(area.height) {
                break;
            }
        }
        frame.render_widget(Paragraph::new(lines), area);
    }
}

impl View for RolloutView {
    fn kind(&self) -> ViewKind {
        ViewKind::Rollout
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        format!("rollout({})", self.service)
    }

    fn filter(&self) -> &str {
        &self.filter
    }

    fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.scroll = 0;
    }

    fn on_key(&mut self, key: KeyId, ctx: &Context) -> Option<Action> {
        let service = self.service.clone();
        let command = match key {
            KeyId::Drift => return Some(Action::Open(ViewKind::Drift, self.scope.clone())),
            KeyId::Rollback => Command::Rollback { service },
            KeyId::ForceDeploy => {
                let change = RevisionChange::default();
                Command::Deploy { service, change }
            }
            other => {
                self.scroll = move_selection(self.scroll, self.events, other, self.page);
                return None;
            }
        };
        Some(match ctx.snapshot.service(&self.service) {
            Some(_) => Action::Confirm(command),
            None => Action::Message(format!("no service {}", self.service)),
        })
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let Some(service) = ctx.snapshot.service(&self.service) else {
            self.events = 0;
            let note = format!("service {} is no longer in the fleet", self.service);
            frame.render_widget(Paragraph::new(Span::styled(note, theme.warn())), area);
            return;
        };
        let hidden = |i: usize| COLUMNS[i].2 && area.width < WIDE;
        let shown: Vec<usize> = (0..COLUMNS.len()).filter(|&i| !hidden(i)).collect();
        let mut widths: Vec<u16> = shown.iter().map(|&i| COLUMNS[i].1).collect();
        let used: u16 = widths.iter().map(|w| w + 1).sum();
        let last = shown.len() - 1;
        widths[last] = (area.width + 1).saturating_sub(used);
        let rows = service.deployments.iter().map(|d| {
            let cells = deployment_cells(d, ctx.now);
            let cells = shown.iter().zip(&widths).map(|(&i, &width)| {
                let style = match i {
                    STATE => state_style(d.rollout_state, theme),
                    ERRORS => errors_style(d, theme),
                    _ => Style::default(),
                };
                Line::styled(clip(&cells[i], usize::from(width)), style)
            });
            Row::new(cells)
        });
        let header = shown.iter().map(|&i| COLUMNS[i].0);
        let table = Table::new(rows, widths.iter().map(|&w| Constraint::Length(w)))
            .header(Row::new(header).style(theme.header()));

        let (text, style) = match summary(service, ctx.now) {
            Some((text, state)) => (text, state_style(state, theme)),
            None => ("no deployments".to_string(), theme.dim()),
        };
        let policy = service
            .policy
            .as_ref()
            .map(|p| format!(" · {}", policy_text(p)))
            .unwrap_or_default();
        let table_height = (service.deployments.len() as u16 + 1).min(area.height / 3);
        let summary_height =
            if text.chars().count() + policy.chars().count() > usize::from(area.width) {
                2
            } else {
                1
            };
        let alarms = service
            .policy
            .as_ref()
            .map_or_else(Vec::new, |p| alarm_lines(p, theme));
        let [
            table_area,
            summary_area,
            alarm_area,
            drift_area,
            events_area,
        ] = Layout::vertical([
            Constraint::Length(table_height.max(1)),
            Constraint::Length(summary_height),
            Constraint::Length(alarms.len() as u16),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(area);
        frame.render_widget(Paragraph::new(alarms), alarm_area);
        frame.render_widget(table, table_area);
        let summary = Line::from(vec![
            Span::styled(text, style),
            Span::styled(policy, theme.dim()),
        ]);
        let summary = Paragraph::new(summary).wrap(Wrap { trim: true });
        frame.render_widget(summary, summary_area);
        let drift = ServiceDrift::of(service, ctx.probes, ctx.probe_errors);
        if let Some(text) = drift_text(&drift) {
            // Loud either way: expected mid-rollout, an alarm once it is over.
            let style = match drift.rollout_in_progress {
                true => theme.warn().add_modifier(Modifier::BOLD),
                false => theme.error().add_modifier(Modifier::REVERSED),
            };
            frame.render_widget(Paragraph::new(Span::styled(text, style)), drift_area);
        }
        self.render_events(frame, events_area, ctx, service);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_phrases() {
        let mut policy = DeploymentPolicy {
            min_healthy_percent: 100,
            max_percent: 200,
            circuit_breaker: true,
            rollback: true,
            alarms: Vec::new(),
            alarm_rollback: false,
        };
        assert_eq!(
            policy_text(&policy),
            "min 100 % / max 200 % · circuit breaker on, rolls back"
        );
        policy.circuit_breaker = false;
        assert_eq!(
            policy_text(&policy),
            "min 100 % / max 200 % · circuit breaker off"
        );
    }
    use crate::ui::views::{
        fixtures::{Fixture, now},
        snapshot_support::render,
    };

    const SERVICE: &str = "mcpfleet-server";

    #[test]
    fn cells_and_summary_describe_the_rollout() {
        let fixture = Fixture::new();
        let server = &fixture.fleet.services[0];
        let cells = deployment_cells(&server.deployments[0], now()).join(" ");
        assert_eq!(cells, "PRIMARY 2 3 2 0 0 IN_PROGRESS - - - 1m0s 40s ");
        let mut failing = server.deployments[0].clone();
        failing.figures = Some(crate::fleet::RevisionFigures {
            tasks: 2,
            calls: 400,
            errors: 400,
            calls_per_sec: 133.3,
            error_rate: Some(100.0),
            p99_ms: Some(12.5),
        });
        let cells = deployment_cells(&failing, now()).join(" ");
        assert_eq!(
            cells,
            "PRIMARY 2 3 2 0 0 IN_PROGRESS 133.3 100.0 12.5 1m0s 40s "
        );
        let theme = Theme::colored();
        assert_eq!(
            errors_style(&failing, theme),
            theme.error().add_modifier(Modifier::BOLD)
        );
        let (text, state) = summary(server, now()).unwrap();
        let expected = "rolling out revision 2: 2/3 running, 1 old task still running";
        assert_eq!((&text[..], state), (expected, RolloutState::InProgress));
        let settled = summary(&fixture.fleet.services[1], now()).unwrap().0;
        assert_eq!(settled, "revision 1 is deployed: 1/3 running");
        let steady = event_text(&server.name, &server.events[3]);
        assert_eq!(steady, "has reached a steady state.");
        assert_eq!(wrap("ab cd efghij", 4), ["ab", "cd", "efgh", "ij"]);
    }

    #[test]
    fn a_failed_rollout_says_why() {
        let mut fixture = Fixture::new();
        let server = &mut fixture.fleet.services[0];
        server.deployments[1].running = 3;
        let primary = &mut server.deployments[0];
        (primary.revision, primary.running, primary.failed) = (3, 0, 3);
        primary.rollout_state = RolloutState::Failed;
        let reason = "ECS deployment circuit breaker: tasks failed to start.";
        primary.rollout_reason = Some(reason.into());
        let text = summary(server, now()).unwrap().0;
        assert_eq!(text, format!("rollout of revision 3 failed: {reason}"));
        let mut view = RolloutView::new(Scope::service(SERVICE));
        crate::assert_view_snapshots!("rollout_failed", &mut view, &fixture.context());
    }

    #[test]
    fn a_baking_rollout_counts_down_under_its_alarm() {
        let mut fixture = Fixture::new();
        let server = &mut fixture.fleet.services[0];
        server.policy = Some(DeploymentPolicy {
            min_healthy_percent: 100,
            max_percent: 200,
            circuit_breaker: true,
            rollback: true,
            alarms: vec![crate::fleet::DeploymentAlarm {
                name: "mcpfleet-server-tool-errors".into(),
                state: Some(AlarmState::Alarm),
                reason: Some("3 datapoints in a row ≥ 50 % of calls failing".into()),
            }],
            alarm_rollback: true,
        });
        let primary = &mut server.deployments[0];
        primary.running = 3;
        primary.bake_ends_at = Some(now() + std::time::Duration::from_millis(12_400));
        let text = summary(server, now()).unwrap().0;
        let expected = "revision 2 is baking: 3/3 running, deployment alarms watched 12s more";
        assert_eq!(text, expected);
        let policy = policy_text(server.policy.as_ref().unwrap());
        assert!(policy.ends_with("· 1 alarm, rolls back"), "{policy}");
        let mut view = RolloutView::new(Scope::service(SERVICE));
        let screen = render(&mut view, &fixture.context(), 120, 24);
        let line = screen.lines().find(|l| l.starts_with("alarm ")).unwrap();
        assert!(
            line.starts_with("alarm mcpfleet-server-tool-errors ALARM · 3 datapoints"),
            "{screen}"
        );
    }

    #[test]
    fn keys_confirm_fleet_commands_and_scroll_events() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = RolloutView::new(Scope::service(SERVICE));
        let confirm = |command| Some(Action::Confirm(command));
        let (service, change) = (SERVICE.to_string(), RevisionChange::default());
        let rollback = Command::Rollback {
            service: service.clone(),
        };
        assert_eq!(view.on_key(KeyId::Rollback, &ctx), confirm(rollback));
        let deploy = Command::Deploy { service, change };
        assert_eq!(view.on_key(KeyId::ForceDeploy, &ctx), confirm(deploy));

        render(&mut view, &ctx, 80, 24);
        view.on_key(KeyId::Down, &ctx);
        let text = render(&mut view, &ctx, 80, 24);
        assert!(
            text.contains("from #2") && !text.contains("started 1 tasks"),
            "{text}"
        );
        view.set_filter("steady".into());
        let text = render(&mut view, &ctx, 80, 24);
        assert!(text.contains("EVENTS (1, newest first)"), "{text}");

        let mut gone = RolloutView::new(Scope::service("gone"));
        assert!(render(&mut gone, &ctx, 80, 24).starts_with("service gone is no longer"));
        let message = Some(Action::Message("no service gone".into()));
        assert_eq!(gone.on_key(KeyId::Rollback, &ctx), message);
    }

    #[test]
    fn drift_mid_rollout_is_stated_with_its_revisions() {
        let mut fixture = Fixture::new();
        let mut view = RolloutView::new(Scope::service(SERVICE));
        let quiet = render(&mut view, &fixture.context(), 120, 20);
        assert!(!quiet.contains("surfaces"), "{quiet}");
        let odd = fixture.probes.values_mut().next().unwrap();
        let (server, protocol) = (serde_json::json!({"name": "x"}), "2025-11-25".to_string());
        let surface = crate::mcp::surface::Surface::new(server, protocol, Default::default(), []);
        odd.surface = std::sync::Arc::new(surface);
        let loud = render(&mut view, &fixture.context(), 120, 20);
        let line = "replicas present 2 surfaces (1 task on revision 2 / 1 task on revision 2)";
        assert!(loud.contains(line), "{loud}");
    }

    #[test]
    fn snapshots() {
        let fixture = Fixture::new();
        let mut view = RolloutView::new(Scope::service(SERVICE));
        crate::assert_view_snapshots!("rollout", &mut view, &fixture.context());
    }
}
