//! History that lasts, in a real terminal (tmux) on the local fleet: calls made in one console
//! are in the history view of the next one started with the same state directory, `/` finds a
//! call by its argument, and enter re-opens it in the call form to send it again.

mod tmux;

use std::time::Duration;

use tmux::Console;

const READY: Duration = Duration::from_secs(20);
const SOON: Duration = Duration::from_secs(10);

/// Rows of the history list whose summary (what `echo` answered) is `message`.
fn rows_of(screen: &str, message: &str) -> usize {
    screen
        .lines()
        .filter(|line| line.contains(" echo ") && line.trim_end().ends_with(message))
        .count()
}

#[test]
fn a_call_from_the_last_console_is_found_and_sent_again() {
    let marker = format!("lasting-{}", std::process::id());
    let other = format!("other-{}", std::process::id());

    let first = Console::start("history-first", 160, 45, &[]);
    first.wait_for("3/3 ready", READY);
    for message in [&marker, &other] {
        first.open_call_form("mcpfleet-server", "echo", SOON);
        first.type_text(message);
        first.send_keys(&["C-s"]);
        first.wait_until("the echoed result", SOON, |screen| {
            screen.contains("served by task") && screen.contains(message.as_str())
        });
        first.go_home(SOON);
    }
    first.send_keys(&["q"]);
    assert_eq!(first.wait_exit(SOON).status, 0);

    // A new console with the same state directory: its own fleet, the last one's history.
    let state = first.state_dir().to_string_lossy().into_owned();
    let second = Console::start("history-second", 160, 45, &[("XDG_STATE_HOME", &state)]);
    second.wait_for("3/3 ready", READY);
    second.command("history");
    second.wait_until("both earlier calls listed", SOON, |screen| {
        rows_of(screen, &marker) == 1 && rows_of(screen, &other) == 1
    });

    // `/` on an argument's value leaves that call alone.
    second.send_keys(&["/"]);
    second.type_text(&format!("\"{marker}\""));
    second.send_keys(&["Enter"]);
    second.wait_until("the filtered list", SOON, |screen| {
        rows_of(screen, &marker) == 1 && rows_of(screen, &other) == 0
    });

    // Enter opens it in the call form with its arguments; ctrl-s sends it again.
    second.send_keys(&["Enter"]);
    second.wait_until("the call form, filled in", SOON, |screen| {
        screen.contains("call(echo)") && screen.contains(&marker) && !screen.contains("served by")
    });
    second.send_keys(&["C-s"]);
    // The result pane: the echoed message on a line of its own, and the task that served it.
    second.wait_until("the new result", SOON, |screen| {
        screen.contains("served by task") && screen.lines().any(|line| line.trim() == marker)
    });

    // The history now holds the call twice: the last console's and this one's.
    second.go_home(SOON);
    second.command("history");
    second.wait_until("the call listed twice", SOON, |screen| {
        rows_of(screen, &marker) == 2 && rows_of(screen, &other) == 1
    });
    second.send_keys(&["q"]);
    assert_eq!(second.wait_exit(SOON).status, 0);
}
