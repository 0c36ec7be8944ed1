//! In the console, a call shows what only the wire knows: the server's log lines at the level
//! `ctrl-l` asks for, the task a call became and its polls, and the protocol pane's HTTP
//! exchanges (method, status, headers, bodies). The real binary under tmux against a replica
//! of the conformance profile.

use std::time::Duration;

use mcpfleet_server::{Mode, Profile, ServerConfig};

mod tmux;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_logs_tasks_and_the_wire() {
    let server = mcpfleet_server::start(ServerConfig {
        mode: Mode::Stateless,
        profile: Profile::Conformance,
        ..ServerConfig::loopback()
    })
    .await
    .unwrap();
    let url = format!("http://{}/mcp", server.local_addr);
    let dir = std::env::temp_dir().join(format!("mcpfleet-console-wire-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "source = \"static\"\n[static]\nservers = [{{ name = \"wired\", url = \"{url}\" }}]\n"
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let soon = Duration::from_secs(30);
    tokio::task::spawn_blocking(move || {
        let console = tmux::Console::start("wire", 140, 45, &[("MCPFLEET_CONFIG", &config)]);
        console.wait_for("wired", soon);

        // ctrl-l asks for the server's log lines; they follow the result.
        console.open_call_form("wired", "test_logging_tool", soon);
        console.send_keys(&["C-l"]);
        console.wait_for("server log ≥ debug", soon);
        console.send_keys(&["C-s"]);
        let screen = console.wait_for("server log (1)", soon);
        assert!(screen.contains("logLevel was requested"), "{screen}");

        // The protocol pane: the POST as it went, its status and headers, the bodies.
        console.send_keys(&["C-p"]);
        // A capture can land while the pane is half drawn: wait for all of it.
        console.wait_until(
            "the POST with its status, headers and body",
            soon,
            |screen| {
                screen.contains("POST http://127.0.0.1:")
                    && screen.contains("→ 200")
                    && screen.contains("→ mcp-method: tools/call")
                    && screen.contains("\"io.modelcontextprotocol/logLevel\": \"debug\"")
            },
        );
        console.go_home(soon);

        // A call the server runs as a task: followed to its end, and said so.
        console.open_call_form("wired", "slow_compute", soon);
        console.send_keys(&["C-s"]);
        let screen = console.wait_for("ran as task ", soon);
        assert!(screen.contains("(completed after "), "{screen}");
        assert!(
            screen.contains("slow_compute(compute) finished"),
            "{screen}"
        );
        console.go_home(soon);
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(soon).status, 0);
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
