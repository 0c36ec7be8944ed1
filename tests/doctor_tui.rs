//! `D` on a task in the console's tasks view opens the doctor for that task (the real binary
//! under tmux): on a task whose port has nothing listening it names the TCP step and what to
//! check, on a healthy one every step passes.

mod tmux;

use std::time::Duration;

use mcpfleet_server::ServerConfig;
use tmux::Console;

const SOON: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_on_a_task_checks_its_connection() {
    let server = mcpfleet_server::start(ServerConfig::loopback())
        .await
        .unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = closed.local_addr().unwrap();
    drop(closed);
    let dir = std::env::temp_dir().join(format!("mcpfleet-doctor-tui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    let text = format!(
        r#"source = "static"

[static]
servers = [
  {{ name = "down", url = "http://{down}/mcp" }},
  {{ name = "up", url = "http://{}/mcp" }},
]
"#,
        server.local_addr
    );
    std::fs::write(&config, text).unwrap();
    let config = config.to_string_lossy().into_owned();

    // tmux is driven with blocking waits: keep them off the server's runtime threads.
    tokio::task::spawn_blocking(move || {
        let console = Console::start("doctor", 140, 40, &[("MCPFLEET_CONFIG", &config)]);
        console.wait_for("down", SOON);
        console.command("tasks down");
        console.wait_for("tasks(down)", SOON);
        console.send_keys(&["D"]);
        let screen = console.wait_until("the doctor's verdict on down", SOON, |screen| {
            screen.contains("doctor(")
                && screen.contains("tcp        failed")
                && screen.contains("handshake  skipped  -        tcp failed")
                && screen.contains("what to check: check that the task is running")
        });
        assert!(screen.contains(&format!("http://{down}/mcp")), "{screen}");
        assert!(screen.contains("nothing listening"), "{screen}");

        console.back(SOON);
        console.wait_for("tasks(down)", SOON);
        console.command("tasks up");
        console.wait_for("tasks(up)", SOON);
        console.send_keys(&["D"]);
        let screen = console.wait_until("the doctor's verdict on up", SOON, |screen| {
            screen.contains("every step passed") && screen.contains("tools      ok")
        });
        assert!(screen.contains("handshake  ok"), "{screen}");
        assert!(!screen.contains("failed"), "{screen}");
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(SOON).status, 0);
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
