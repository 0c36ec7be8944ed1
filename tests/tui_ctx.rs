//! `:ctx` in the real console under tmux: a bad source name or a source that cannot open is
//! a message line and the console keeps its fleet; a good one replaces the fleet in place
//! (the local fleet's children stop), and switching back starts a new local fleet. The calls
//! made before a switch are still in the history after it.

mod procs;
mod tmux;

use std::time::Duration;

use mcpfleet_server::ServerConfig;
use procs::marked_processes;
use tmux::Console;

const READY: Duration = Duration::from_secs(30);
const SOON: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctx_switches_in_place_and_a_bad_context_is_a_message() {
    let server = mcpfleet_server::start(ServerConfig::loopback())
        .await
        .unwrap();
    let mark = format!("tui-ctx-{}", std::process::id());
    let dir = std::env::temp_dir().join(&mark);
    std::fs::create_dir_all(&dir).unwrap();
    let with_static = dir.join("with-static.toml");
    let url = format!("http://{}/mcp", server.local_addr);
    std::fs::write(
        &with_static,
        format!("[static]\nservers = [{{ name = \"tools\", url = \"{url}\" }}]\n"),
    )
    .unwrap();
    let with_static = with_static.to_string_lossy().into_owned();

    tokio::task::spawn_blocking(move || {
        // No [static] section: `:ctx static` cannot open.
        let console = Console::start("ctx", 140, 30, &[("MCPFLEET_TEST_MARK", &mark)]);
        console.wait_for("3/3 ready", READY);
        // The tmux server, the pane's shells, the console and its three replicas.
        let running = marked_processes(&mark).len();
        console.command("ctx prod");
        console.wait_for("no source prod: :ctx local|static|aws", SOON);
        console.command("ctx static");
        let screen = console.wait_for("no servers under [static]", SOON);
        assert!(
            screen.contains("3/3 ready"),
            "the local fleet is still there: {screen}"
        );
        assert!(console.alternate_screen(), "the console is still running");
        assert_eq!(marked_processes(&mark).len(), running, "its replicas too");
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(SOON).status, 0);

        // With a [static] section: the console switches in place and back.
        let console = Console::start(
            "ctx-switch",
            140,
            30,
            &[
                ("MCPFLEET_TEST_MARK", &mark),
                ("MCPFLEET_CONFIG", &with_static),
            ],
        );
        console.wait_for("3/3 ready", READY);
        let marker = format!("before-ctx-{}", std::process::id());
        console.open_call_form("mcpfleet-server", "echo", SOON);
        console.type_text(&marker);
        console.send_keys(&["C-s"]);
        console.wait_until("the echoed result", SOON, |s| {
            s.contains("served by task") && s.lines().any(|l| l.trim() == marker)
        });
        console.go_home(SOON);
        let running = marked_processes(&mark).len();
        console.command("ctx static");
        console.wait_until("the static fleet", SOON, |s| {
            s.lines()
                .any(|l| l.starts_with("tools") && l.contains("1/1 ready"))
        });
        // The new source's worker starts with the history file's calls.
        console.command("history");
        console.wait_until("the call made before the switch", SOON, |s| {
            s.lines()
                .any(|l| l.contains(" echo ") && l.trim_end().ends_with(&marker))
        });
        let deadline = std::time::Instant::now() + SOON;
        while marked_processes(&mark).len() > running - 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "the local fleet's replicas outlived the switch: {:?}",
                marked_processes(&mark)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        console.command("ctx local");
        console.wait_for("3/3 ready", READY);
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(SOON).status, 0);
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
