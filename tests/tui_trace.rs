//! A call's log lines, found by its trace, in a real terminal (tmux) on the local fleet: the
//! trace id on the result's status line, the serving task's line of it below the result, and
//! `ctrl-g` from the result and from the history to that task's logs showing that trace only.

mod tmux;

use std::time::Duration;

use tmux::Console;

const READY: Duration = Duration::from_secs(20);
const SOON: Duration = Duration::from_secs(10);

/// The 32 hex digits after " · trace " on the result's status line, once it is fully drawn.
fn trace_on(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains("served by task "))?;
    let at = line.find(" · trace ")? + " · trace ".len();
    let id = line.get(at..at + 32)?;
    id.bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| id.to_string())
}

/// The 8-character task id after "served by task ".
fn served_by(screen: &str) -> String {
    let at = screen.find("served by task ").expect("served by line") + "served by task ".len();
    screen[at..at + 8].to_string()
}

#[test]
fn ctrl_g_goes_from_a_call_to_its_log_lines() {
    let console = Console::start("trace", 200, 50, &[]);
    console.wait_for("3/3 ready", READY);
    console.open_call_form("mcpfleet-server", "echo", SOON);
    console.type_text("first");
    console.send_keys(&["C-s"]);
    let screen = console.wait_until("the first call's trace", SOON, |s| trace_on(s).is_some());
    let first = trace_on(&screen).unwrap();

    // A second call: its own trace, and its line shows below its result as it arrives.
    console.send_keys(&["C-s"]);
    let screen = console.wait_until("the second call's line below it", SOON, |s| {
        trace_on(s).is_some_and(|t| t != first)
            && s.lines()
                .any(|l| l.contains("tool call") && l.contains(&trace_on(s).unwrap()))
    });
    let second = trace_on(&screen).unwrap();
    let task = served_by(&screen);
    assert!(
        screen.contains(&format!("log lines of trace {}…", &second[..8])),
        "{screen}"
    );

    // ctrl-g: that task's logs, that trace's line alone.
    console.send_keys(&["Escape"]);
    console.wait_until("field editing stopped", SOON, |s| {
        !s.contains("editing (esc stops)")
    });
    console.send_keys(&["C-g"]);
    let title = format!("logs(mcpfleet-server/{task}) trace {}…", &second[..8]);
    let screen = console.wait_until("the second call's line in its task's logs", SOON, |s| {
        s.contains(&title)
            && s.lines()
                .any(|l| l.contains("tool call") && l.contains(&second))
    });
    assert!(!screen.contains(&first), "another trace's line: {screen}");
    assert!(
        screen
            .lines()
            .filter(|l| l.contains(" INFO ") || l.contains(" WARN ") || l.contains(" ERROR "))
            .all(|l| l.contains(&second)),
        "only lines of the trace: {screen}"
    );

    // Esc drops the trace and stays on the task's logs; the next goes back to the call.
    console.send_keys(&["Escape"]);
    console.wait_until("the task's logs without the trace", SOON, |s| {
        s.contains(&format!("logs(mcpfleet-server/{task})")) && !s.contains(" trace ")
    });

    // From the history: the newest call is the second, and ctrl-g goes to its line too.
    console.command("history");
    console.wait_until("the history with both calls", SOON, |s| {
        s.contains(&format!("trace {second}"))
    });
    console.send_keys(&["C-g"]);
    console.wait_until("the second call's line, from the history", SOON, |s| {
        s.contains(&title)
            && s.lines()
                .any(|l| l.contains("tool call") && l.contains(&second))
    });

    console.send_keys(&["q"]);
    assert_eq!(console.wait_exit(SOON).status, 0);
}
