//! The console end to end in a real terminal (tmux): it shows the local fleet, answers keys,
//! adapts to a resize, and gives the terminal back exactly as it found it — after `q`, a
//! panic, SIGTERM or SIGHUP.

mod tmux;

use std::time::Duration;

use tmux::Console;

const READY: Duration = Duration::from_secs(20);
const SOON: Duration = Duration::from_secs(5);
const EXIT: Duration = Duration::from_secs(10);
const FLEET_READY: &str = "3/3 ready";

fn start(name: &str, env: &[(&str, &str)]) -> Console {
    Console::start(name, 120, 35, env)
}

fn wait_for_fleet(console: &Console) -> String {
    let screen = console.wait_for(FLEET_READY, READY);
    assert!(screen.contains("mcpfleet-server"), "{screen}");
    screen
}

/// After the console ended: the terminal modes are as before, the alternate screen is gone and
/// the pane shows the shell's output instead of the console.
fn assert_terminal_restored(console: &Console, exit: &tmux::Exit) -> String {
    assert_eq!(
        exit.stty_before, exit.stty_after,
        "stty -g differs after the console"
    );
    assert!(
        !console.alternate_screen(),
        "the pane is still on the alternate screen"
    );
    let marker = format!("[console exited with status {}]", exit.status);
    let screen = console.wait_for(&marker, SOON);
    assert!(
        !screen.contains(FLEET_READY),
        "console output left on the shell's screen:\n{screen}"
    );
    screen
}

#[test]
fn keys_drive_the_console_and_q_restores_the_terminal() {
    let console = start("quit", &[]);
    wait_for_fleet(&console);

    console.send_keys(&["?"]);
    console.wait_for("WHAT IT DOES", SOON);

    console.type_text(":svc");
    console.send_keys(&["Enter"]);
    console.wait_until("the services screen again", SOON, |screen| {
        screen.contains(FLEET_READY) && !screen.contains("WHAT IT DOES")
    });

    console.send_keys(&["q"]);
    let exit = console.wait_exit(EXIT);
    assert_eq!(exit.status, 0, "{exit:?}");
    assert_terminal_restored(&console, &exit);
}

#[test]
fn a_panic_restores_the_terminal_and_names_the_log() {
    if !cfg!(debug_assertions) {
        panic!(
            "this test needs a debug build: release builds have no MCPFLEET_PANIC_AFTER_MS hook"
        );
    }
    let console = start("panic", &[("MCPFLEET_PANIC_AFTER_MS", "1500")]);
    let exit = console.wait_exit(READY);
    assert_ne!(exit.status, 0, "{exit:?}");
    let screen = assert_terminal_restored(&console, &exit);
    assert!(
        screen.contains("injected panic: MCPFLEET_PANIC_AFTER_MS=1500"),
        "{screen}"
    );
    let log = console.log_path();
    let names_log = format!("its log is at {}", log.display());
    let (at_log, at_exit) = (screen.find(&names_log), screen.find("[console exited"));
    assert!(
        matches!((at_log, at_exit), (Some(a), Some(b)) if a < b),
        "the panic message must name the log and stay above the shell's next output:\n{screen}"
    );
    assert!(log.is_file(), "no log at {}", log.display());
}

fn a_signal_restores_the_terminal(signal: &str) {
    let console = start(&signal.to_lowercase(), &[]);
    wait_for_fleet(&console);
    console.signal(signal);
    let exit = console.wait_exit(EXIT);
    assert_eq!(
        exit.status, 0,
        "SIGTERM/SIGHUP end the console cleanly: {exit:?}"
    );
    assert_terminal_restored(&console, &exit);
}

#[test]
fn sigterm_restores_the_terminal() {
    a_signal_restores_the_terminal("TERM");
}

#[test]
fn sighup_restores_the_terminal() {
    a_signal_restores_the_terminal("HUP");
}

#[test]
fn a_small_terminal_gets_a_note_until_it_grows() {
    let console = start("resize", &[]);
    wait_for_fleet(&console);

    console.resize(50, 10);
    let screen = console.wait_for("needs at least", SOON);
    assert!(!screen.contains(FLEET_READY), "{screen}");

    console.resize(120, 35);
    console.wait_until("the services screen again", SOON, |screen| {
        screen.contains(FLEET_READY) && !screen.contains("needs at least")
    });

    console.send_keys(&["q"]);
    let exit = console.wait_exit(EXIT);
    assert_eq!(exit.status, 0, "{exit:?}");
}
