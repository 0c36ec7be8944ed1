//! Tests of the app state: trends sampled whatever screen is on top.

use ratatui::{Terminal, backend::TestBackend};

use super::*;
use crate::{mcp::CallRequest, ui::views::fixtures};

fn screen(app: &mut App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(100, 20)).expect("test backend");
    terminal
        .draw(|frame| app.render(frame, fixtures::now()))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    (0..20)
        .map(|y| {
            (0..100)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn trends_keep_sampling_while_another_view_is_on_top() {
    let fleet = fixtures::fleet();
    let mut app = App::for_snapshot(Arc::new(fleet.clone()), 100, Theme::plain());
    app.apply(Action::Open(ViewKind::Logs, Scope::fleet()));
    for in_flight in [0, 4, 8, 2, 6] {
        let mut snapshot = fleet.clone();
        for task in &mut snapshot.services[0].tasks {
            if let Some(metrics) = &mut task.metrics {
                metrics.in_flight = in_flight;
            }
        }
        app.set_snapshot(Arc::new(snapshot));
        assert!(app.sample_trends(), "a new in-flight figure is news");
        screen(&mut app);
    }
    app.apply(Action::Back);
    let text = screen(&mut app);
    let row = text
        .lines()
        .find(|l| l.starts_with("mcpfleet-server"))
        .expect("the service's row");
    assert!(
        row.contains("▁▅█▃▆"),
        "five points, one per sample taken under the logs view: {row}"
    );
}

/// The console over the fixture fleet, its probes listing `wipe` (annotated destructive)
/// beside `echo`, with `wipe`'s call form open.
fn app_calling_wipe(read_only: bool) -> App {
    let mut app = App::for_snapshot(Arc::new(fixtures::fleet()), 100, Theme::plain());
    let mut by_task = fixtures::probes();
    for probe in by_task.values_mut() {
        let wipe = crate::mcp::ToolInfo {
            name: "wipe".into(),
            read_only: Some(false),
            destructive: Some(true),
            ..probe.tools[0].clone()
        };
        probe.tools.push(wipe);
    }
    app.data.probes = Arc::new(Probes {
        by_task,
        ..Probes::default()
    });
    app.data.read_only = read_only;
    app.apply(Action::OpenCall {
        scope: Scope::service("mcpfleet-server"),
        tool: "wipe".into(),
        arguments: None,
    });
    assert_eq!(app.top().title(), "call(wipe)");
    app
}

fn call_of(tool: &str) -> Action {
    let arguments = serde_json::json!({"message": "x"});
    Action::StartCall(Box::new(CallRequest::new(
        "mcpfleet-server",
        tool,
        arguments,
    )))
}

fn said(app: &App) -> &str {
    app.message
        .as_ref()
        .map_or("", |(text, _, _)| text.as_str())
}

#[test]
fn a_destructive_call_waits_for_a_yes() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
    let mut app = app_calling_wipe(false);
    app.apply(call_of("wipe"));
    assert!(matches!(app.mode, Mode::Confirm(_)));
    assert!(app.calls.is_empty(), "nothing is sent before the yes");
    let text = screen(&mut app);
    assert!(
        text.contains("Call wipe of service mcpfleet-server on any ready task?"),
        "{text}"
    );

    app.on_key(key(KeyCode::Esc));
    assert!(matches!(app.mode, Mode::Normal));
    assert!(app.calls.is_empty());
    assert_eq!(said(&app), "cancelled: wipe was not called");
    assert_eq!(
        app.top().title(),
        "call(wipe)",
        "esc closes the dialog, not the form"
    );

    app.apply(call_of("wipe"));
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.calls.len(), 1, "enter sends it");
    app.apply(call_of("echo"));
    assert!(matches!(app.mode, Mode::Normal), "echo is not destructive");
    assert_eq!(app.calls.len(), 2);
}

#[test]
fn read_only_refuses_a_destructive_call_and_sends_nothing() {
    let mut app = app_calling_wipe(true);
    let refusal =
        "wipe is annotated destructive (destructiveHint: true): refused under --read-only";
    for action in [
        call_of("wipe"),
        Action::ConfirmedCall(Box::new(CallRequest::new(
            "mcpfleet-server",
            "wipe",
            serde_json::json!({}),
        ))),
    ] {
        app.apply(action);
        assert!(matches!(app.mode, Mode::Normal), "no dialog to say yes in");
        assert!(app.calls.is_empty());
        assert_eq!(said(&app), refusal);
    }
    assert!(screen(&mut app).contains(refusal));
    app.apply(call_of("echo"));
    assert_eq!(
        app.calls.len(),
        1,
        "a tool that does not destroy is still called"
    );
}

fn bench_of(tool: &str) -> Action {
    match call_of(tool) {
        Action::StartCall(request) => Action::StartBench(request),
        _ => unreachable!(),
    }
}

#[test]
fn bench_refuses_what_the_cli_refuses_and_starts_nothing() {
    let mut app = app_calling_wipe(true);
    app.apply(bench_of("wipe"));
    assert_eq!(
        said(&app),
        "wipe is annotated destructive (destructiveHint: true): refused under --read-only"
    );
    assert!(app.calls.is_empty());
    assert_eq!(app.top().title(), "call(wipe)", "no bench page opens");

    let mut app = app_calling_wipe(false);
    app.apply(bench_of("wipe"));
    let why = said(&app);
    assert!(
        why.starts_with("bench would call wipe again and again, and its server annotates it destructiveHint: true"),
        "{why}"
    );
    assert!(
        why.ends_with("`mcpfleet bench --force` sends it anyway"),
        "{why}"
    );
    assert!(app.calls.is_empty());
    assert_eq!(app.top().title(), "call(wipe)");
}

#[test]
fn a_service_named_before_the_source_has_it_opens_when_it_arrives() {
    let fleet = fixtures::fleet();
    let wanted = fleet.services[0].name.clone();
    let mut loading = FleetSnapshot::empty(fleet.source, "loading");
    loading.loading = true;
    let mut app = App::for_snapshot(Arc::new(loading), 100, Theme::plain());
    app.open_service(&wanted);
    assert_eq!(app.top().title(), "services", "nothing to open yet");
    assert_eq!(
        app.looked_at(),
        Some(wanted.as_str()),
        "the source reads it first"
    );
    app.set_snapshot(Arc::new(fleet));
    assert_eq!(app.top().title(), format!("tasks({wanted})"));
    assert_eq!(app.looked_at(), Some(wanted.as_str()));
}
