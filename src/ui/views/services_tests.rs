//! Tests of the services view: rows, drift, notes, Service Connect traffic, keys, snapshots.

use super::*;
use crate::ui::views::{
    fixtures::{Fixture, at, now, numbered},
    snapshot_support::{click_after_scroll, render},
};

#[test]
fn rows_sum_live_tasks_and_spot_drift() {
    let mut fixture = Fixture::new();
    let server = row(&fixture.fleet.services[0], &fixture.probes);
    assert_eq!(server.counts, "3/3/1");
    assert_eq!(server.ready, 2, "draining and pending tasks are not ready");
    assert_eq!(server.protocol, "2026-07-28");
    assert!(!server.drift);
    assert_eq!((server.notes, server.traffic), (0, None));
    assert_eq!(row(&fixture.fleet.services[1], &fixture.probes).notes, 2);
    let mut probes = fixture.probes.clone();
    let odd = probes.get_mut("7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f").unwrap();
    // Only the server's version differs: the fingerprint covers the whole surface.
    odd.surface = std::sync::Arc::new(crate::mcp::surface::Surface::new(
        serde_json::json!({"name": "mcpfleet-server", "version": "0.2.0"}),
        odd.surface.protocol_version.clone(),
        odd.surface.capabilities.clone(),
        odd.surface.tools.values().cloned(),
    ));
    assert!(row(&fixture.fleet.services[0], &probes).drift);

    // Mid-rollout the column says it quietly; at rest it is the alarm.
    fixture.probes = probes;
    let line = |fixture: &Fixture| {
        let text = render(&mut ServicesView::new(), &fixture.context(), 160, 24);
        let line = text.lines().find(|l| l.starts_with("mcpfleet-server"));
        line.unwrap().trim_end().to_string()
    };
    assert!(line(&fixture).ends_with(" drift"), "{}", line(&fixture));
    let primary = &mut fixture.fleet.services[0].deployments[0];
    primary.rollout_state = RolloutState::Completed;
    assert!(line(&fixture).ends_with(" DRIFT"), "{}", line(&fixture));
}

#[test]
fn a_crash_loop_takes_the_health_cell() {
    let mut fixture = Fixture::new();
    let line = |fixture: &Fixture| {
        let text = render(&mut ServicesView::new(), &fixture.context(), 160, 24);
        let line = text.lines().find(|l| l.starts_with("mcpfleet-server"));
        line.unwrap().to_string()
    };
    assert!(line(&fixture).contains(" 2/3 ready "), "{}", line(&fixture));
    fixture.fleet.services[0].crash_loop = Some(crate::fleet::crashloop::CrashLoop {
        died: 3,
        last: "task e: EssentialContainerExited, exit 1: Essential container in task exited".into(),
    });
    assert!(row(&fixture.fleet.services[0], &fixture.probes).crash_loop);
    assert!(line(&fixture).contains(" CRASHLOOP "), "{}", line(&fixture));
}

#[test]
fn traffic_stands_in_when_no_live_task_has_metrics() {
    let mut fixture = Fixture::new();
    let traffic = Traffic {
        active_connections: vec![1.0, 2.0, 4.4, 3.6],
        requests: vec![60.0, 90.0, 120.0, 300.0],
        errors_5xx: vec![0.0, 0.0, 1.0, 6.0],
        response_ms: vec![12.0, 14.0, 13.0, 15.0],
        fetched_at: at(590),
    };
    // The task of "everything" reports no metrics of its own.
    fixture.fleet.services[1].traffic = Some(traffic.clone());
    let everything = row(&fixture.fleet.services[1], &fixture.probes);
    assert_eq!(
        everything.in_flight, 4,
        "the last minute's connections, rounded"
    );
    let load = TrafficLoad {
        calls_per_sec: Some(5.0),
        error_share: Some(2.0),
        connections: vec![1, 2, 4, 4],
    };
    assert_eq!(everything.traffic, Some(load));
    // Wide enough for the TREND column; PROTOCOL ("-") comes last.
    let text = render(&mut ServicesView::new(), &fixture.context(), 160, 24);
    let line = text.lines().find(|l| l.starts_with("everything")).unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells[cells.len() - 5..],
        ["4", "▃▅██", "5.0", "2.0", "-"],
        "{line}"
    );

    let quiet = Traffic {
        requests: vec![0.0],
        ..traffic.clone()
    };
    assert_eq!(
        traffic_load(&quiet).error_share,
        None,
        "no requests, no error share"
    );
    // Tasks that measure themselves win over the service's traffic.
    fixture.fleet.services[0].traffic = Some(traffic);
    let server = row(&fixture.fleet.services[0], &fixture.probes);
    assert_eq!((server.traffic, server.in_flight), (None, 7));
}

#[test]
fn keys_open_views_of_the_selected_service() {
    let fixture = Fixture::new();
    let ctx = fixture.context();
    let mut view = ServicesView::new();
    render(&mut view, &ctx, 80, 24);
    let open = |kind, service| Some(Action::Open(kind, Scope::service(service)));
    let server = "mcpfleet-server";
    assert_eq!(
        view.on_key(KeyId::Open, &ctx),
        open(ViewKind::Tasks, server)
    );
    view.on_key(KeyId::Down, &ctx);
    let logs = view.on_key(KeyId::Logs, &ctx);
    assert_eq!(logs, open(ViewKind::Logs, "everything"));
    view.set_filter("mcp".into());
    render(&mut view, &ctx, 80, 24);
    assert_eq!(
        view.on_key(KeyId::Tools, &ctx),
        open(ViewKind::Tools, server)
    );
}

#[test]
fn a_click_after_scrolling_selects_the_service_under_it() {
    let mut fixture = Fixture::new();
    let everything = fixture.fleet.services[1].clone();
    let more = numbered("svc-").map(|name| Service {
        name,
        ..everything.clone()
    });
    fixture.fleet.services.extend(more);
    let ctx = fixture.context();
    let mut view = ServicesView::new();
    click_after_scroll(&mut view, &ctx, "mcpfleet-server", "svc-12");
    let tasks = Some(Action::Open(ViewKind::Tasks, Scope::service("svc-12")));
    assert_eq!(view.on_key(KeyId::Open, &ctx), tasks);
}

#[test]
fn snapshots() {
    let fixture = Fixture::new();
    let mut view = ServicesView::new();
    crate::assert_view_snapshots!("services", &mut view, &fixture.context());
}

#[test]
fn an_empty_list_says_why() {
    let mut fixture = Fixture::new();
    fixture.fleet.services.clear();
    fixture.fleet.source = crate::fleet::SourceKind::Aws;
    fixture.fleet.stale = Some(
        "no AWS credentials found; set AWS_PROFILE or pass --profile, or export \
         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            .into(),
    );
    let mut view = ServicesView::new();
    let screen = render(&mut view, &fixture.context(), 80, 24);
    let text: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        "the whole reason, wrapped:\n{screen}"
    );
    fixture.fleet.stale = None;
    let (hint, _) = empty_reason(&fixture.fleet, false);
    assert!(hint.contains("mcpfleet:path"), "{hint}");
    fixture.fleet.loading = true;
    assert_eq!(
        empty_reason(&fixture.fleet, false).0,
        "looking at the fleet…"
    );
    assert_eq!(
        empty_reason(&fixture.fleet, true).0,
        "no service matches the filter"
    );
}

#[test]
fn a_service_whose_task_streams_outlast_the_idle_timeout_is_flagged() {
    let mut fixture = Fixture::new();
    let task = fixture.fleet.services[0].tasks[0].id.clone();
    let silent_since = now() - std::time::Duration::from_secs(400);
    let health = crate::mcp::streams::StreamHealth {
        open: 1,
        opened: 1,
        quiet_since: Some(silent_since),
        ..Default::default()
    };
    fixture.streams.insert(task, health);
    let mut view = ServicesView::new();
    let screen = render(&mut view, &fixture.context(), 80, 10);
    let line = |name: &str| {
        let found = screen.lines().find(|l| l.starts_with(name));
        found
            .unwrap_or_else(|| panic!("{name} in\n{screen}"))
            .to_string()
    };
    let (flagged, other) = (
        &fixture.fleet.services[0].name,
        &fixture.fleet.services[1].name,
    );
    assert!(
        line(flagged).ends_with("! sse"),
        "silent 400 s > 300 s:\n{screen}"
    );
    assert!(!line(other).contains("sse"), "{screen}");
}
