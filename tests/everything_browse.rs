//! The console's resources and prompts screens against `@modelcontextprotocol/server-everything`
//! (a server we did not write), under tmux: the resource list, reading a document, a resource
//! template's form with completion, a subscription that hears the server's updates, and a
//! prompt's form with completion and the messages it returns.
//!
//! Node 22 and the server come from `tests/run.sh` (`MCPFLEET_NODE`, `MCPFLEET_EVERYTHING`, else
//! the repository's `.tools/npm`), as for `everything.rs`; without them this test fails and says
//! how to get them. `tests/everything/loopback.js` holds the server to 127.0.0.1.

use std::time::Duration;

mod everything_support;
mod tmux;

use everything_support::Everything;

/// One console session: the server's updates are switched on for the console's session with
/// its `toggle-subscriber-updates` tool (server-everything sends them only to the session that
/// asked, every 5 s), then the resources screen reads a document, subscribes to it and sees an
/// update arrive, fills in a template with a completed value and reads it; then the prompts
/// screen completes an argument and gets a prompt with arguments.
#[test]
fn the_console_reads_subscribes_completes_and_gets_prompts() {
    let server = Everything::start("browse");
    let config = server.dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "source = \"static\"\n[static]\nservers = [{{ name = \"everything\", url = \"{}\" }}]\n",
            server.url
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    // Patient: the server sends updates every 5 s, and the whole suite shares two cores.
    let soon = Duration::from_secs(30);
    let console = tmux::Console::start("browse", 140, 45, &[("MCPFLEET_CONFIG", &config)]);
    console.wait_until("the service ready", soon, |screen| {
        screen
            .lines()
            .any(|line| line.starts_with("everything ") && line.contains("1/1 ready"))
    });

    console.open_call_form("everything", "toggle-subscriber-updates", soon);
    console.send_keys(&["C-s"]);
    console.wait_for("Started simulated resource updated notifications", soon);
    console.go_home(soon);

    console.command("resources everything");
    // Both parts of the list: a capture can land while the table is half drawn.
    let screen = console.wait_until("the resources and the templates", soon, |screen| {
        screen.contains("architecture.md")
            && screen.contains("demo://resource/dynamic/text/{resourceId}")
    });
    assert!(screen.contains("list changes"), "{screen}");
    console.send_keys(&["/"]);
    console.type_text("architecture");
    console.send_keys(&["Enter", "Enter"]);
    console.wait_for("# Everything Server – Architecture", soon);
    console.send_keys(&["s"]);
    console.wait_for("subscribed (resources/subscribe)", soon);
    let screen = console.wait_for("● updated", soon);
    assert!(
        screen.contains("# Everything Server – Architecture"),
        "{screen}"
    );

    // A template: its form, a completed value, the expanded URI read. `/` starts from the
    // filter in place, which is erased first.
    console.send_keys(&["/"]);
    console.send_keys(&["BSpace"; 12]);
    console.type_text("dynamic/text");
    console.send_keys(&["Enter", "Enter"]);
    console.wait_for("resourceId*", soon);
    console.type_text("7");
    console.send_keys(&["Tab"]);
    console.wait_for("1 value for resourceId", soon);
    console.send_keys(&["Enter", "C-s"]);
    console.wait_for("Resource 7: This is a plaintext resource created at", soon);
    console.send_keys(&["Escape"]);
    console.wait_until("editing stopped", soon, |s| {
        !s.contains("editing (esc stops)")
    });
    console.send_keys(&["Escape"]);
    console.wait_until("the form closed", soon, |s| !s.contains("resourceId*"));

    // Prompts: completion of the first argument, then a prompt with arguments.
    console.command("prompts everything");
    console.wait_for("args-prompt", soon);
    console.send_keys(&["/"]);
    console.type_text("completable");
    console.send_keys(&["Enter", "Enter"]);
    console.wait_for("department*", soon);
    console.type_text("Eng");
    console.send_keys(&["Tab"]);
    console.wait_for("1 value for department", soon);
    console.send_keys(&["Enter", "Down"]);
    console.type_text("A");
    console.send_keys(&["Tab"]);
    let screen = console.wait_for("Alice", soon);
    assert!(
        screen.contains("Engineering"),
        "the first choice taken: {screen}"
    );
    console.send_keys(&["Enter", "C-s"]);
    console.wait_for(
        "user: Please promote Alice to the head of the Engineering team.",
        soon,
    );
    console.send_keys(&["Escape"]);
    console.wait_until("editing stopped", soon, |s| {
        !s.contains("editing (esc stops)")
    });
    console.escape_and_pause();

    console.send_keys(&["/"]);
    console.send_keys(&["BSpace"; 11]);
    console.type_text("args-prompt");
    console.send_keys(&["Enter", "Enter"]);
    console.wait_for("city*", soon);
    console.type_text("Paris");
    console.send_keys(&["C-s"]);
    console.wait_for("user: What's weather in Paris?", soon);
    console.send_keys(&["Escape"]);
    console.wait_until("editing stopped", soon, |s| {
        !s.contains("editing (esc stops)")
    });
    console.escape_and_pause();
    console.back(soon);
    console.go_home(soon);
    console.send_keys(&["q"]);
    assert_eq!(console.wait_exit(soon).status, 0);
    drop(server);
}
