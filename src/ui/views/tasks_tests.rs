//! Tests of the tasks view: rows, notes, keys and clicks, snapshots.

use super::*;
use crate::fleet::{FigureSource, Recent, Traffic};
use crate::ui::views::{
    fixtures::{Fixture, at, now, numbered},
    snapshot_support::{click_after_scroll, render},
};

const SERVICE: &str = "mcpfleet-server";

/// Rows with nothing probed yet.
fn plain_rows(service: &Service) -> Vec<TaskRow> {
    let (probes, errors) = (HashMap::new(), HashMap::new());
    let calls = CallFigures::default();
    let probed = Probed {
        probes: &probes,
        errors: &errors,
        calls: &calls,
        streams: &HashMap::new(),
        idle_timeout: crate::mcp::streams::DEFAULT_IDLE_TIMEOUT,
    };
    rows(service, probed, now())
}

#[test]
fn rows_mark_revisions_and_list_stopped_tasks_last() {
    let mut fixture = Fixture::new();
    let server = &mut fixture.fleet.services[0];
    let mut crashed = server.tasks[4].clone();
    crashed.id = "aaaaaaaa11112222".into();
    (crashed.stopped_at, crashed.exit_code) = (Some(at(590)), Some(137));
    crashed.stopped_reason = Some("Essential container in task exited".into());
    server.tasks.insert(0, crashed.clone());
    let all = plain_rows(server);
    let text: Vec<_> = all.iter().map(|r| r.cells.join(" ")).collect();
    assert_eq!(
        text,
        [
            "0f2ab1c9 2 new us-east-1a 127.0.0.1:41010 RUNNING HEALTHY - 2  10.0 0.7 1.5ms 10ms metrics  55s ",
            "7a3e5c1b 2 new us-east-1b 127.0.0.1:41011 RUNNING HEALTHY - 3  10.0 0.8 1.5ms 11ms metrics  50s ",
            "e4f6a8c0 2 new us-east-1a 127.0.0.1:41012 PENDING UNKNOWN - 0  10.0 1.0 1.5ms 12ms metrics  10s ",
            "9c2d4e6f 1 old us-east-1a 127.0.0.1:41002 DRAINING HEALTHY - 2  10.0 0.5 1.5ms 11ms metrics  10m0s ",
            "aaaaaaaa 1 old us-east-1b 127.0.0.1:41003 STOPPED - - -  - - - - -  - Essential container in task exited",
            "5b1e0c9a 1 old us-east-1b 127.0.0.1:41003 STOPPED - - -  - - - - -  - Scaling activity initiated by (deployment ecs-svc/0000000000000000002)",
        ]
    );
    assert_eq!(
        detail(&crashed, now()),
        "task aaaaaaaa11112222 stopped 10s ago, exit 137: Essential container in task exited"
    );
    crashed.stop_code = Some("EssentialContainerExited".into());
    crashed.containers = vec![crate::fleet::Container {
        name: "server".into(),
        last_status: Some("STOPPED".into()),
        health: crate::fleet::Health::Unknown,
        exit_code: Some(137),
        reason: Some("OutOfMemoryError: Container killed due to memory usage".into()),
        image_digest: None,
        runtime_id: None,
        exec_agent: None,
    }];
    assert_eq!(
        detail(&crashed, now()),
        "task aaaaaaaa11112222 stopped 10s ago, exit 137 (EssentialContainerExited): Essential \
         container in task exited · container server exit 137: OutOfMemoryError: Container \
         killed due to memory usage"
    );
    // One deployment: nothing to be old or new against.
    let settled = plain_rows(&fixture.fleet.services[1])[0].cells[1..6].join(" ");
    assert_eq!(settled, "1 us-east-1b 127.0.0.1:42001 RUNNING UNHEALTHY");
    assert_eq!(stop_reason(None), "stopped from mcpfleet by operator");
    assert_eq!(stop_reason(Some("ana")), "stopped from mcpfleet by ana");
}

#[test]
fn keys_act_on_the_selected_task() {
    let fixture = Fixture::new();
    let ctx = fixture.context();
    let mut view = TasksView::new(Scope::service(SERVICE));
    render(&mut view, &ctx, 80, 24);
    let first = "0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c";
    use ViewKind::{Logs, Tools};
    let open = |kind, id| Some(Action::Open(kind, Scope::task(SERVICE, id)));
    assert_eq!(view.on_key(KeyId::Open, &ctx), open(Logs, first));
    assert_eq!(view.on_key(KeyId::Tools, &ctx), open(Tools, first));
    let reason = stop_reason(std::env::var("USER").ok().as_deref());
    let (service, task_id) = (SERVICE.into(), first.into());
    let stop = Action::Confirm(Command::StopTask {
        service,
        task_id,
        reason,
    });
    assert_eq!(view.on_key(KeyId::StopTask, &ctx), Some(stop));

    view.on_key(KeyId::Bottom, &ctx);
    let stopped = Some(Action::Message("task 5b1e0c9a is already stopped".into()));
    assert_eq!(view.on_key(KeyId::StopTask, &ctx), stopped);
    // Row 0 is the header: a click on row 2 selects the second task.
    view.on_click(2, &ctx);
    // The selection stays on its task when the rows above it go.
    let mut moved = Fixture::new();
    moved.fleet.services[0].tasks.remove(0);
    render(&mut view, &moved.context(), 80, 24);
    let second = "7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f";
    assert_eq!(view.on_key(KeyId::Open, &ctx), open(Logs, second));
    view.set_filter("old".into());
    render(&mut view, &ctx, 80, 24);
    assert_eq!(view.list.ids().len(), 2);

    let mut gone = TasksView::new(Scope::service("gone"));
    assert!(render(&mut gone, &ctx, 80, 24).starts_with("service gone is no longer"));
    assert_eq!(gone.on_key(KeyId::StopTask, &ctx), None);
}

#[test]
fn a_click_after_scrolling_selects_the_task_under_it() {
    let mut fixture = Fixture::new();
    let tasks = &mut fixture.fleet.services[0].tasks;
    // Ids whose first 8 characters, the TASK column, tell them apart.
    let ids = numbered("").map(|n| format!("aaaaaa{n}{}", "b".repeat(24)));
    let more: Vec<Task> = ids
        .map(|id| Task {
            id,
            ..tasks[0].clone()
        })
        .collect();
    tasks.splice(0..0, more);
    let ctx = fixture.context();
    let mut view = TasksView::new(Scope::service(SERVICE));
    // Stopped tasks come last: the bottom row is the fixture's stopped one.
    click_after_scroll(&mut view, &ctx, "aaaaaa00", "0f2ab1c9");
    let logs = Scope::task(SERVICE, "0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c");
    assert_eq!(
        view.on_key(KeyId::Open, &ctx),
        Some(Action::Open(ViewKind::Logs, logs))
    );
}

#[test]
fn notes_of_the_service_and_its_tasks() {
    let mut fixture = Fixture::new();
    let everything = &mut fixture.fleet.services[1];
    assert_eq!(plain_rows(everything)[0].cells[16], "unreachable from here");
    everything.tasks[0]
        .notes
        .push("not registered in Cloud Map".into());
    let notes = &plain_rows(everything)[0].cells[16];
    assert_eq!(notes, "unreachable from here; not registered in Cloud Map");

    let service_notes = &mut everything.notes;
    service_notes.push("task definition everything:1 has no port named \"mcp\"".into());
    let lines = note_lines(service_notes, 60);
    assert_eq!(
        lines,
        [
            "! log group /ecs/everything does not exist; no logs for thi…",
            "! Cloud Map instance 8e1f0c2a (10.0.1.5:8080) has… (+1 more)",
        ]
    );
    assert!(lines.iter().all(|l| l.chars().count() <= 60));
    assert_eq!(note_lines(&[], 60), Vec::<String>::new());
    // Below two lines of notes, a blank line and the header, row 4 is the first task.
    fixture.fleet.services[0].notes = fixture.fleet.services[1].notes.clone();
    let ctx = fixture.context();
    let mut view = TasksView::new(Scope::service(SERVICE));
    render(&mut view, &ctx, 80, 24);
    view.on_click(5, &ctx);
    assert_eq!(view.list.selected(), Some(1));
    view.on_click(3, &ctx);
    assert_eq!(
        view.list.selected(),
        Some(1),
        "a click on the header selects nothing"
    );
}

#[test]
fn snapshots_with_notes() {
    let fixture = Fixture::new();
    let mut view = TasksView::new(Scope::service("everything"));
    crate::assert_view_snapshots!("tasks_notes", &mut view, &fixture.context());
}

#[test]
fn snapshots() {
    let fixture = Fixture::new();
    let mut view = TasksView::new(Scope::service(SERVICE));
    // The stopped task is selected, so the detail line shows its full reason.
    render(&mut view, &fixture.context(), 80, 24);
    view.on_key(KeyId::Bottom, &fixture.context());
    crate::assert_view_snapshots!("tasks", &mut view, &fixture.context());
}

#[test]
fn probe_figures_and_the_outlier_mark_fill_their_cells() {
    let mut fixture = Fixture::new();
    let server = &mut fixture.fleet.services[0];
    server.tasks[1].outlier = Some(Outlier::Errors);
    let errors = HashMap::from([(server.tasks[2].id.clone(), "refused".to_string())]);
    let probed = Probed {
        probes: &fixture.probes,
        errors: &errors,
        calls: &fixture.calls,
        streams: &HashMap::new(),
        idle_timeout: crate::mcp::streams::DEFAULT_IDLE_TIMEOUT,
    };
    let all = rows(server, probed, now());
    let column = |name: &str| COLUMNS.iter().position(|c| c.0 == name).unwrap();
    let cells = |i: usize| {
        let names = ["PROBE", "CALLS/S", "ERR%", "P50", "P99", "FROM", "OUTLIER"];
        names.map(|n| all[i].cells[column(n)].clone())
    };
    assert_eq!(
        cells(0),
        ["3.0ms", "10.0", "0.7", "1.5ms", "10ms", "metrics", ""]
    );
    assert_eq!(
        cells(1),
        [
            "3.0ms", "10.0", "0.8", "1.5ms", "11ms", "metrics", "! errors"
        ]
    );
    assert_eq!(all[2].cells[column("PROBE")], "failed");
    assert_eq!(millis(0.42), "0.4ms");
    assert_eq!(millis(123.4), "123ms");
    let text = render(
        &mut TasksView::new(Scope::service(SERVICE)),
        &fixture.context(),
        80,
        24,
    );
    assert!(text.contains("! errors"), "{text}");
}

#[test]
fn service_connect_traffic_is_said_of_the_whole_service() {
    let mut fixture = Fixture::new();
    let everything = &mut fixture.fleet.services[1];
    everything.traffic = Some(Traffic {
        active_connections: vec![2.0],
        requests: vec![300.0],
        errors_5xx: vec![6.0],
        response_ms: vec![12.0],
        fetched_at: at(590),
    });
    assert_eq!(
        traffic_line(everything).unwrap(),
        "whole service (Service Connect, last minute): 5.0 calls/s, 2.0% 5xx; per-task \
         figures need each task's /metrics"
    );
    // Once the tasks have figures of their own, those are shown instead.
    let server = &mut fixture.fleet.services[0];
    server.traffic = everything_traffic();
    assert_eq!(traffic_line(server), None);
}

fn everything_traffic() -> Option<Traffic> {
    Some(Traffic {
        active_connections: vec![1.0],
        requests: vec![60.0],
        errors_5xx: vec![0.0],
        response_ms: vec![5.0],
        fetched_at: at(590),
    })
}

#[test]
fn a_server_without_metrics_shows_the_console_calls_marked_as_such() {
    let mut fixture = Fixture::new();
    let everything = &fixture.fleet.services[1];
    let id = everything.tasks[0].id.clone();
    let recent = Recent {
        p50_ms: Some(40.0),
        p99_ms: Some(120.0),
        ..Recent::new(
            FigureSource::Console,
            std::time::Duration::from_secs(60),
            120,
            30,
        )
    };
    fixture.calls.by_task.insert(id.clone(), recent);
    fixture.calls.outliers.insert(id, Outlier::Errors);
    let text = render(
        &mut TasksView::new(Scope::service("everything")),
        &fixture.context(),
        160,
        24,
    );
    let row = text.lines().find(|l| l.starts_with("c1d2e3f4")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert!(
        cells
            .windows(7)
            .any(|w| w == ["2.0", "25.0", "40ms", "120ms", "console", "!", "errors"]),
        "{row}"
    );
}

#[test]
fn a_stream_outlasting_the_idle_timeout_marks_its_task_and_the_detail_says_what_to_change() {
    use crate::mcp::streams::StreamHealth;
    let mut fixture = Fixture::new();
    fixture.idle_timeouts =
        crate::config::Config::parse("[streams.services.mcpfleet-server]\nidle_timeout_secs = 2\n")
            .unwrap()
            .streams;
    let (first, second) = (
        fixture.fleet.services[0].tasks[0].id.clone(),
        fixture.fleet.services[0].tasks[1].id.clone(),
    );
    let health = |gap_ms: u64| StreamHealth {
        open: 1,
        opened: 3,
        reconnects: 1,
        longest_gap: Some(std::time::Duration::from_millis(gap_ms)),
        last_gap: Some(std::time::Duration::from_millis(gap_ms)),
        quiet_since: Some(now()),
    };
    fixture.streams.insert(first, health(5000));
    fixture.streams.insert(second, health(500));
    let ctx = fixture.context();
    let mut view = TasksView::new(Scope::service(SERVICE));
    let screen = render(&mut view, &ctx, 80, 24);
    let row = |prefix: &str| {
        screen
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} in\n{screen}"))
            .to_string()
    };
    assert!(row("0f2ab1c9").contains("! sse"), "{screen}");
    assert!(!row("7a3e5c1b").contains("! sse"), "{screen}");
    // The detail under the table wraps: read it as one text.
    let words = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "! stream silent 5 s > 2 s idle timeout: set the server's --sse-keep-alive below \
             2 s, or raise the idle timeout in front"
        ),
        "{screen}"
    );
    assert!(
        words.contains("streams: 1 open · 3 opened · 1 reconnects · keep-alive 5 s"),
        "{screen}"
    );
}

#[test]
fn a_crash_loop_is_said_above_the_tasks() {
    let mut fixture = Fixture::new();
    fixture.fleet.services[0].crash_loop = Some(crate::fleet::crashloop::CrashLoop {
        died: 4,
        last: "task aaaaaaaa: TaskFailedToStart, exit 3: Essential container in task exited".into(),
    });
    let mut view = TasksView::new(Scope::service("mcpfleet-server"));
    let text = render(&mut view, &fixture.context(), 160, 30);
    assert!(
        text.contains(
            "crash loop: 4 tasks died in the last 10 min; newest task aaaaaaaa: \
             TaskFailedToStart, exit 3"
        ),
        "{text}"
    );
}

#[test]
fn a_stopped_task_keeps_its_last_words() {
    let mut logs = crate::ui::views::fixtures::logs();
    for (n, text) in [
        "starting",
        "config invalid: \u{1b}[31mport\u{1b}[0m",
        "exiting",
    ]
    .iter()
    .enumerate()
    {
        logs.push(crate::fleet::LogLine::parse(
            "mcpfleet-server",
            "deadbeef",
            "stderr",
            at(596 + n as u64),
            text,
        ));
    }
    let words = last_words(&logs, "deadbeef", 2);
    assert_eq!(
        words,
        ["config invalid: \\u{1b}[31mport\\u{1b}[0m", "exiting"]
    );
    assert!(last_words(&logs, "nobody", 2).is_empty());
}
