//! Tools annotated `destructiveHint: true`: `--read-only` refuses them before anything is sent
//! (`mcpfleet call` with exit code 8, the console with a message line), and the console asks
//! before calling one, naming the tool, the service and the task. The server is the tests'
//! own scratch-list server on loopback, which records every `tools/call` that reaches it.

mod scratch_server;
mod tmux;

use std::{process::Output, time::Duration};

use scratch_server::ScratchServer;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const READ_ONLY_EXIT: i32 = 8;

async fn mcpfleet(args: &[&str]) -> Output {
    // An empty config file keeps a developer's own configuration out of the test.
    let config =
        std::env::temp_dir().join(format!("mcpfleet-destructive-{}.toml", std::process::id()));
    std::fs::write(&config, "").unwrap();
    let command = tokio::process::Command::new(BIN)
        // Calls go to a history file of the tests' own, never the developer's.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
        .args(args)
        .env("MCPFLEET_CONFIG", &config)
        .env_remove("BROWSER")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .output();
    tokio::time::timeout(Duration::from_secs(60), command)
        .await
        .expect("the command ends by itself")
        .expect("mcpfleet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_call_of_a_destructive_tool_sends_nothing() {
    let server = ScratchServer::start().await;
    let url = server.url.as_str();
    let refused = mcpfleet(&[
        "--url",
        url,
        "--read-only",
        "call",
        "wipe_scratch",
        "prefix=tmp",
    ])
    .await;
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(READ_ONLY_EXIT), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "mcpfleet: wipe_scratch is annotated destructive (destructiveHint: true): refused \
         under --read-only"
    );
    assert!(refused.stdout.is_empty(), "{}", text(&refused.stdout));

    // A script gets it as JSON, and fanning out is refused the same way.
    let scripted = mcpfleet(&[
        "--url",
        url,
        "--read-only",
        "call",
        "wipe_scratch",
        "--args",
        r#"{"prefix": "tmp"}"#,
        "--all-tasks",
        "--json",
    ])
    .await;
    assert_eq!(scripted.status.code(), Some(READ_ONLY_EXIT));
    let json: Value = serde_json::from_slice(&scripted.stdout).unwrap();
    assert_eq!(json["outcome"], "refused", "{json}");
    assert!(
        json["error"]
            .as_str()
            .is_some_and(|e| e.contains("destructiveHint: true")),
        "{json}"
    );
    assert_eq!(server.calls(), Vec::<String>::new(), "nothing was sent");

    // A tool that only reads (or only adds) is called as usual under --read-only.
    let counted = mcpfleet(&["--url", url, "--read-only", "call", "count_items"]).await;
    assert!(counted.status.success(), "{}", text(&counted.stderr));
    assert!(text(&counted.stdout).contains("0 names"));
    let added = mcpfleet(&[
        "--url",
        url,
        "--read-only",
        "call",
        "add_item",
        "name=tmp-1",
    ])
    .await;
    assert!(added.status.success(), "{}", text(&added.stderr));

    // Without --read-only the command line is the person's say-so: no question asked.
    let wiped = mcpfleet(&["--url", url, "call", "wipe_scratch", "prefix=tmp"]).await;
    assert!(wiped.status.success(), "{}", text(&wiped.stderr));
    assert!(
        text(&wiped.stdout).contains("wiped 1 names starting with \"tmp\""),
        "{}",
        text(&wiped.stdout)
    );
    assert_eq!(
        server.calls(),
        vec!["count_items", "add_item", "wipe_scratch"]
    );
}

fn console_config(dir: &std::path::Path, url: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "source = \"static\"\n[static]\nservers = [{{ name = \"scratch\", url = \"{url}\" }}]\n"
        ),
    )
    .unwrap();
    config.to_string_lossy().into_owned()
}

/// The console asks before a destructive call: Esc leaves the form as it was and sends
/// nothing; Enter sends it. The dialog names the task the call goes to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_confirms_a_destructive_call() {
    let server = ScratchServer::start().await;
    let dir = std::env::temp_dir().join(format!("mcpfleet-destructive-tui-{}", std::process::id()));
    let config = console_config(&dir, &server.url);
    let soon = Duration::from_secs(20);
    let calls = {
        let state = std::sync::Arc::new(server);
        let server = state.clone();
        tokio::task::spawn_blocking(move || {
            let console =
                tmux::Console::start("destructive", 140, 40, &[("MCPFLEET_CONFIG", &config)]);
            console.wait_for("scratch", soon);
            console.open_call_form("scratch", "wipe_scratch", soon);
            console.type_text("tmp");
            console.send_keys(&["C-s"]);
            let screen = console.wait_for("Confirm", soon);
            assert!(
                screen.contains("Call wipe_scratch of service scratch on any ready task?"),
                "{screen}"
            );
            assert!(screen.contains("destructiveHint: true"), "{screen}");
            assert!(server.calls().is_empty(), "nothing is sent before the yes");

            console.send_keys(&["Escape"]);
            let screen = console.wait_for("cancelled: wipe_scratch was not called", soon);
            assert!(!screen.contains("Confirm"), "{screen}");
            assert!(
                screen.contains("tmp"),
                "the form keeps what was typed: {screen}"
            );
            assert!(server.calls().is_empty(), "esc sends nothing");

            // Pinned to the one task, the dialog names it; enter sends the call.
            // (The static source names its one task after the service.)
            console.send_keys(&["C-t"]);
            console.wait_for("→ task scratch (rev 1)", soon);
            console.send_keys(&["C-s"]);
            let screen = console.wait_for("Confirm", soon);
            assert!(
                screen.contains("Call wipe_scratch of service scratch on task scratch (rev 1)?"),
                "the dialog names the task: {screen}"
            );
            console.send_keys(&["Enter"]);
            console.wait_for("wiped 0 names starting with \"tmp\"", soon);
            console.go_home(soon);
            console.send_keys(&["q"]);
            assert_eq!(console.wait_exit(soon).status, 0);
            server.calls()
        })
        .await
        .unwrap()
    };
    assert_eq!(calls, vec!["wipe_scratch"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Under --read-only the console refuses the send with a message line and sends nothing; a
/// read-only tool still answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_only_console_refuses_a_destructive_call() {
    let server = std::sync::Arc::new(ScratchServer::start().await);
    let dir = std::env::temp_dir().join(format!("mcpfleet-destructive-ro-{}", std::process::id()));
    let config = console_config(&dir, &server.url);
    let soon = Duration::from_secs(20);
    let watched = server.clone();
    tokio::task::spawn_blocking(move || {
        let console = tmux::Console::start_with_args(
            "destructive-ro",
            140,
            40,
            &[("MCPFLEET_CONFIG", &config)],
            &["--read-only"],
        );
        console.wait_for("READ-ONLY", soon);
        console.wait_for("scratch", soon);
        console.open_call_form("scratch", "wipe_scratch", soon);
        console.type_text("tmp");
        console.send_keys(&["C-s"]);
        let screen = console.wait_for(
            "wipe_scratch is annotated destructive (destructiveHint: true): refused under \
             --read-only",
            soon,
        );
        assert!(
            !screen.contains("Confirm"),
            "no dialog to say yes in: {screen}"
        );
        assert!(watched.calls().is_empty(), "nothing was sent");

        console.go_home(soon);
        console.open_call_form("scratch", "count_items", soon);
        console.send_keys(&["C-s"]);
        console.wait_for("0 names", soon);
        console.go_home(soon);
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(soon).status, 0);
    })
    .await
    .unwrap();
    assert_eq!(server.calls(), vec!["count_items"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repro_refuses_to_repeat_a_destructive_tool_without_force_and_says_why() {
    let server = ScratchServer::start().await;
    let url = server.url.as_str();
    let refused = mcpfleet(&[
        "--url",
        url,
        "repro",
        "wipe_scratch",
        "prefix=tmp",
        "-n",
        "20",
    ])
    .await;
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "repro would call wipe_scratch 20 times, and its server annotates it \
             destructiveHint: true, so each call may destroy whatever reached the replica"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("pass --force to send it anyway"),
        "{stderr}"
    );
    assert_eq!(server.calls(), Vec::<String>::new(), "nothing was sent");

    // With --force it goes, every time.
    let forced = mcpfleet(&[
        "--url",
        url,
        "repro",
        "wipe_scratch",
        "prefix=tmp",
        "-n",
        "5",
        "-c",
        "2",
        "--force",
        "--json",
    ])
    .await;
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    let report: Value = serde_json::from_slice(&forced.stdout).unwrap();
    assert_eq!(report["done"], 5, "{report}");
    assert_eq!(server.calls().len(), 5);
}
