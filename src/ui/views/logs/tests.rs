//! Tests of the logs view: keys, filters, save, the incremental match cache, snapshots.

use super::*;
use crate::{
    fleet::LogLine,
    ui::views::{fixtures::Fixture, snapshot_support::render},
};

const SERVER: &str = "mcpfleet-server";
const TASK: &str = "0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c";

fn keys(view: &mut LogsView, ctx: &Context, keys: &[KeyId]) {
    for &key in keys {
        assert_eq!(view.on_key(key, ctx), None);
    }
}

fn screen(view: &mut LogsView, ctx: &Context) -> String {
    render(view, ctx, 80, 24)
}

/// A line of the server's first task, arriving now.
fn arrive(fixture: &mut Fixture, stream: &str, raw: &str) {
    let now = fixture.context().now;
    let line = LogLine::parse(SERVER, TASK, stream, now, raw);
    fixture.logs.push(line);
}

fn selected_message(view: &LogsView, ctx: &Context) -> String {
    line_at(ctx.logs, view.selected).unwrap().message.clone()
}

#[test]
fn titles_name_the_scope() {
    assert_eq!(LogsView::new(Scope::fleet()).title(), "logs(all)");
    assert_eq!(
        LogsView::new(Scope::service(SERVER)).title(),
        "logs(mcpfleet-server)"
    );
    assert_eq!(
        LogsView::new(Scope::task(SERVER, TASK)).title(),
        "logs(mcpfleet-server/0f2ab1c9)"
    );
}

#[test]
fn lines_name_their_service_only_when_the_fleet_has_several() {
    let mut fixture = Fixture::new();
    let mut view = LogsView::new(Scope::fleet());
    let text = screen(&mut view, &fixture.context());
    assert!(
        text.contains(" mcpfleet-server/0f2ab1c9 INFO  listening"),
        "{text}"
    );
    fixture.fleet.services.truncate(1);
    view.set_filter("^\\S+ 0f2ab1c9 ".into());
    let text = screen(&mut view, &fixture.context());
    assert!(
        text.contains("(2 match)"),
        "the filter sees the text as shown: {text}"
    );
    assert!(text.contains(" 0f2ab1c9 INFO  listening"), "{text}");
}

#[test]
fn follow_pauses_on_scrolling_and_resumes_at_the_bottom() {
    let fixture = Fixture::new();
    let ctx = fixture.context();
    let mut view = LogsView::new(Scope::service(SERVER));
    assert!(screen(&mut view, &ctx).starts_with("following · 5 lines (5 match)"));
    keys(&mut view, &ctx, &[KeyId::Down]);
    assert!(view.follow, "down at the bottom keeps following");
    keys(&mut view, &ctx, &[KeyId::Up]);
    assert!(!view.follow);
    assert_eq!(
        selected_message(&view, &ctx),
        "drain deadline reached with requests still in flight"
    );
    assert!(screen(&mut view, &ctx).starts_with("paused · 5 lines"));
    keys(&mut view, &ctx, &[KeyId::Top, KeyId::Down]);
    assert_eq!(selected_message(&view, &ctx), "listening");
    assert_eq!(
        line_at(ctx.logs, view.selected).unwrap().task_id,
        "7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f"
    );
    keys(&mut view, &ctx, &[KeyId::Bottom]);
    assert!(view.follow);
    keys(&mut view, &ctx, &[KeyId::Follow]);
    assert!(!view.follow);
    assert_eq!(selected_message(&view, &ctx), "plain text line from stderr");
    keys(&mut view, &ctx, &[KeyId::Follow]);
    assert!(view.follow);
}

#[test]
fn following_shows_lines_as_they_arrive_and_paused_keeps_its_place() {
    let mut fixture = Fixture::new();
    let mut view = LogsView::new(Scope::fleet());
    screen(&mut view, &fixture.context());
    arrive(&mut fixture, "stdout", "fresh line");
    let text = screen(&mut view, &fixture.context());
    assert!(
        text.lines().nth(6).unwrap().ends_with("fresh line"),
        "{text}"
    );
    keys(&mut view, &fixture.context(), &[KeyId::Up]);
    let before = selected_message(&view, &fixture.context());
    arrive(&mut fixture, "stdout", "newer");
    let ctx = fixture.context();
    let text = screen(&mut view, &ctx);
    assert_eq!(selected_message(&view, &ctx), before);
    assert!(text.starts_with("paused · 7 lines (7 match)"));
}

#[test]
fn level_and_wrap_keys() {
    let fixture = Fixture::new();
    let ctx = fixture.context();
    let mut view = LogsView::new(Scope::fleet());
    let counts: Vec<usize> = (0..4)
        .map(|_| {
            keys(&mut view, &ctx, &[KeyId::Level]);
            screen(&mut view, &ctx);
            view.index.matches().len()
        })
        .collect();
    assert_eq!(counts, [4, 1, 0, 5], "info+, warn+, error, all");
    keys(&mut view, &ctx, &[KeyId::Level, KeyId::Level]);
    let text = screen(&mut view, &ctx);
    assert!(text.starts_with("following · 5 lines (1 match) · 0 dropped · level warn+"));

    let mut view = LogsView::new(Scope::fleet());
    let cut = render(&mut view, &ctx, 60, 12);
    keys(&mut view, &ctx, &[KeyId::Wrap]);
    let wrapped = render(&mut view, &ctx, 60, 12);
    let rows = |text: &str| text.lines().filter(|l| !l.is_empty()).count();
    assert_eq!(rows(&cut), 6);
    assert!(rows(&wrapped) > 6, "{wrapped}");
    assert!(wrapped.contains("still in flight"), "{wrapped}");
    assert!(!cut.contains("still in flight"));
}

#[test]
fn enter_expands_and_collapses_the_selected_line() {
    let fixture = Fixture::new();
    let ctx = fixture.context();
    let mut view = LogsView::new(Scope::task(SERVER, "0f2a"));
    keys(&mut view, &ctx, &[KeyId::Expand]);
    assert!(!view.follow, "expanding pauses");
    let text = screen(&mut view, &ctx);
    assert!(text.contains(r#"    "duration_ms": 0.41,"#), "{text}");
    assert!(text.contains(&format!(
        "    2027-01-15T08:09:40.000Z · stdout · task {TASK}"
    )));
    keys(&mut view, &ctx, &[KeyId::Expand]);
    assert_eq!(
        screen(&mut view, &ctx)
            .lines()
            .filter(|l| !l.is_empty())
            .count(),
        3
    );
}

#[test]
fn the_filter_matches_the_line_as_shown() {
    let mut fixture = Fixture::new();
    let mut view = LogsView::new(Scope::fleet());
    view.set_filter("LISTENING.*4101[01]".into());
    assert!(screen(&mut view, &fixture.context()).starts_with("following · 5 lines (2 match)"));
    view.set_filter("0f2ab1c9 INFO".into());
    assert!(screen(&mut view, &fixture.context()).contains("(2 match)"));
    view.set_filter("mcpfleet-server/9c2d".into());
    assert!(screen(&mut view, &fixture.context()).contains("(1 match)"));

    arrive(&mut fixture, "stderr", "calling echo(1) failed");
    view.set_filter("ECHO(1".into());
    let text = screen(&mut view, &fixture.context());
    assert!(
        text.starts_with("following · 6 lines (1 match) (text match)"),
        "{text}"
    );
    assert!(text.contains("calling echo(1) failed"));

    view.set_filter("nothing like this".into());
    let text = screen(&mut view, &fixture.context());
    assert!(text.contains("no line matches (filter /nothing like this/, level all)"));

    // A new filter works back from the newest line, a budget per frame.
    let ctx = fixture.context();
    view.index.budget = 4;
    view.set_filter("mcpfleet".into());
    let text = screen(&mut view, &ctx);
    assert!(text.starts_with("following · 6 lines (4 match) (searching older lines…)"));
    assert!(view.animating());
    screen(&mut view, &ctx);
    assert!(!view.animating());
}

#[test]
fn save_writes_every_matching_line_as_shown() {
    let fixture = Fixture::new();
    let ctx = fixture.context();
    let dir = std::env::temp_dir().join(format!("mcpfleet-logs-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut view = LogsView::new(Scope::service(SERVER));
    view.save_dir = dir.clone();
    view.set_filter("listening".into());
    let path = dir.join("mcpfleet-logs-mcpfleet-server-20270115T081000Z.txt");
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        view.on_key(KeyId::Save, &ctx),
        Some(Action::Message(format!(
            "saved 2 lines to {}",
            path.display()
        )))
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "08:09:06.000 0f2ab1c9 INFO  listening address=127.0.0.1:41010\n\
         08:09:11.000 7a3e5c1b INFO  listening address=127.0.0.1:41011\n"
    );
    let Some(Action::Message(again)) = view.on_key(KeyId::Save, &ctx) else {
        panic!("save answers with a message");
    };
    assert!(
        again.starts_with("could not save logs to"),
        "an existing file is kept: {again}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    view.save_dir = PathBuf::from("/nonexistent/dir");
    let Some(Action::Message(failed)) = view.on_key(KeyId::Save, &ctx) else {
        panic!("save answers with a message");
    };
    assert!(
        failed.starts_with("could not save logs to /nonexistent/dir/"),
        "{failed}"
    );
}

#[test]
fn a_click_selects_the_line_under_it() {
    let fixture = Fixture::new();
    let ctx = fixture.context();
    let mut view = LogsView::new(Scope::fleet());
    screen(&mut view, &ctx);
    view.on_click(2, &ctx);
    assert!(!view.follow);
    assert_eq!(
        line_at(ctx.logs, view.selected).unwrap().task_id,
        "7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f"
    );
}

#[test]
fn a_full_ring_shows_its_newest_and_oldest_lines() {
    let mut fixture = Fixture::new();
    fixture.logs = crate::ui::log_buffer::LogBuffer::new(1_000);
    for i in 0..1_500u64 {
        let raw = format!(r#"{{"level":"INFO","message":"call {i}","tool":"echo"}}"#);
        arrive(&mut fixture, "stdout", &raw);
    }
    let ctx = fixture.context();
    let mut view = LogsView::new(Scope::service(SERVER));
    // Indexed in one go, however slow the machine running the test.
    view.index.deadline = None;
    let text = screen(&mut view, &ctx);
    assert!(
        text.starts_with(
            "following · 1000 lines (1000 match) · 500 dropped (0 upstream, 500 evicted)"
        ),
        "{text}"
    );
    assert!(
        text.lines()
            .nth(23)
            .unwrap()
            .contains("call 1499 tool=echo")
    );
    keys(&mut view, &ctx, &[KeyId::Top]);
    assert!(
        screen(&mut view, &ctx)
            .lines()
            .nth(1)
            .unwrap()
            .contains("call 500 ")
    );
}

#[test]
fn snapshots() {
    let fixture = Fixture::new();
    let ctx = fixture.context();
    let mut view = LogsView::new(Scope::fleet());
    crate::assert_view_snapshots!("logs_fleet", &mut view, &ctx);
    let mut view = LogsView::new(Scope::task(SERVER, TASK));
    keys(&mut view, &ctx, &[KeyId::Expand]);
    crate::assert_view_snapshots!("logs_task_expanded", &mut view, &ctx);
    let mut view = LogsView::new(Scope::service(SERVER));
    keys(&mut view, &ctx, &[KeyId::Wrap, KeyId::Up]);
    crate::assert_view_snapshots!("logs_service_wrapped_paused", &mut view, &ctx);
}

#[test]
fn a_trace_shows_its_lines_only_says_so_in_the_title_and_esc_drops_it() {
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut fixture = Fixture::new();
    let call = |trace: &str, tool: &str| {
        format!(
            r#"{{"level":"INFO","message":"tool call","tool":"{tool}","trace_id":"{trace}","target":"mcpfleet::call"}}"#
        )
    };
    arrive(&mut fixture, "stdout", &call(TRACE, "echo"));
    arrive(
        &mut fixture,
        "stdout",
        &call("0af7651916cd43dd8448eb211c80319c", "whoami"),
    );
    let mut view = LogsView::for_trace(Scope::task(SERVER, TASK), TRACE.into());
    assert_eq!(
        view.title(),
        "logs(mcpfleet-server/0f2ab1c9) trace 4bf92f35…"
    );
    assert_eq!(
        view.filter(),
        TRACE,
        "`/` shows it, to edit like any filter"
    );
    let text = screen(&mut view, &fixture.context());
    assert!(text.contains("(1 match)"), "{text}");
    assert!(text.contains("tool=echo"), "{text}");
    assert!(!text.contains("whoami"), "{text}");

    // A line of the trace that arrives later shows too.
    arrive(&mut fixture, "stdout", &call(TRACE, "late"));
    let text = screen(&mut view, &fixture.context());
    assert!(
        text.contains("(2 match)") && text.contains("tool=late"),
        "{text}"
    );

    // Esc drops the trace and the page stays, with every line of the task; the next leaves.
    assert!(view.on_back());
    assert_eq!(view.title(), "logs(mcpfleet-server/0f2ab1c9)");
    assert_eq!(view.filter(), "");
    let text = screen(&mut view, &fixture.context());
    assert!(text.contains("whoami"), "{text}");
    assert!(!view.on_back());

    // A filter typed over the trace replaces it.
    let mut typed = LogsView::for_trace(Scope::service(SERVER), TRACE.into());
    typed.set_filter("whoami".into());
    assert_eq!(typed.title(), "logs(mcpfleet-server)");
    assert!(!typed.on_back());
}
