//! The whole console as an operator uses it, in a real terminal (tmux) on the local fleet:
//! three healthy tasks, the tools of the service, a call of `echo` through the form with typed
//! arguments, its result and the task that served it, that call's line in the logs, a rolling
//! deployment watched to completion, and the terminal given back as it was.

mod tmux;

use std::time::Duration;

use tmux::Console;

const READY: Duration = Duration::from_secs(20);
const SOON: Duration = Duration::from_secs(10);

/// The 8-character task id after "served by task ".
fn served_by(screen: &str) -> String {
    let at = screen.find("served by task ").expect("served by line") + "served by task ".len();
    screen[at..at + 8].to_string()
}

#[test]
fn operator_journey_on_the_local_fleet() {
    let console = Console::start("journey", 160, 45, &[]);
    let screen = console.wait_for("3/3 ready", READY);
    assert!(screen.contains("mcpfleet-server"), "{screen}");

    // Tools of the service, then the echo tool's call form.
    console.open_call_form("mcpfleet-server", "echo", SOON);
    let message = format!("journey-{}", std::process::id());
    console.type_text(&message);
    console.send_keys(&["C-s"]);
    let screen = console.wait_for("served by task", SOON);
    assert!(
        screen.contains(&message),
        "the result shows the echoed text: {screen}"
    );
    let task = served_by(&screen);

    // That call's line in the service's logs, from the task that served it.
    console.go_home(SOON);
    console.command("logs mcpfleet-server");
    let screen = console.wait_until("the call's log line", SOON, |screen| {
        screen
            .lines()
            .any(|line| line.contains("tool call") && line.contains(&task) && line.contains("echo"))
    });
    assert!(screen.contains("logs(mcpfleet-server"), "{screen}");

    // A rolling deployment, confirmed, watched until it completes on revision 2.
    console.command("rollout mcpfleet-server");
    console.wait_for("rollout(mcpfleet-server)", SOON);
    console.send_keys(&["d"]);
    console.wait_for("revision 2 replaces", SOON);
    console.send_keys(&["y"]);
    console.wait_until("revision 2 COMPLETED", Duration::from_secs(30), |screen| {
        screen
            .lines()
            .any(|l| l.starts_with("PRIMARY") && l.contains(" 2 ") && l.contains("COMPLETED"))
    });

    // Quit, and the terminal is as it was.
    console.send_keys(&["q"]);
    let exit = console.wait_exit(SOON);
    assert_eq!(exit.status, 0);
    assert_eq!(
        exit.stty_before, exit.stty_after,
        "stty -g differs after the console"
    );
    assert!(!console.alternate_screen());
}
