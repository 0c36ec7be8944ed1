//! Credentials of static servers reach every probe and call: a real server that wants a bearer
//! token, one static entry that reads the token from `bearer_env` and one that sends it as a
//! configured header. `ls`, `tools` and `call` succeed, and so do the console's tool list and
//! call form (the real binary under tmux); with a wrong token each says 401 in one line. The
//! history file keeps those calls with their wire records, and never the token.

mod tmux;

use std::{
    path::{Path, PathBuf},
    process::Output,
    time::Duration,
};

use mcpfleet_server::ServerConfig;
use tmux::Console;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const TOKEN: &str = "s3cret-static-token";
const SOON: Duration = Duration::from_secs(30);

fn write_config(dir: &Path, url: &str, header_token: &str) -> PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        r#"source = "static"

[static]
servers = [
  {{ name = "tools", url = "{url}", bearer_env = "TOOLS_TOKEN" }},
  {{ name = "keyed", url = "{url}", headers = {{ Authorization = "Bearer {header_token}" }} }},
]
"#
    );
    std::fs::write(&path, text).unwrap();
    path
}

async fn mcpfleet(config: &Path, token: &str, args: &[&str]) -> Output {
    let output = tokio::process::Command::new(BIN)
        .args(args)
        .env("MCPFLEET_CONFIG", config)
        .env("TOOLS_TOKEN", token)
        .env("XDG_STATE_HOME", state_dir(config))
        .output();
    tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("the command ends by itself")
        .expect("mcpfleet runs")
}

/// XDG_STATE_HOME of the commands run with `config`: beside it.
fn state_dir(config: &Path) -> PathBuf {
    config.parent().unwrap().join("state")
}

/// The history file under `state`, which must hold `calls` calls, each with its request's
/// authorization header as the wire record keeps it — redacted — and nowhere the token.
fn assert_kept_without_the_token(state: &Path, calls: usize) {
    let kept = std::fs::read_to_string(state.join("mcpfleet").join("history.jsonl")).unwrap();
    assert_eq!(kept.lines().count(), calls, "{kept}");
    for line in kept.lines() {
        assert!(line.contains(r#"["authorization","Bearer …"]"#), "{line}");
    }
    assert!(!kept.contains(TOKEN), "the token stays out of the history");
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A server that wants `TOKEN`, and a config naming it twice, under a fresh folder: the
/// server (keep it alive), the folder and the config file.
async fn guarded_server(name: &str) -> (mcpfleet_server::RunningServer, PathBuf, PathBuf) {
    let server = mcpfleet_server::start(ServerConfig {
        auth_token: Some(TOKEN.into()),
        ..ServerConfig::loopback()
    })
    .await
    .unwrap();
    let url = format!("http://{}/mcp", server.local_addr);
    let dir = temp_dir(name);
    let config = write_config(&dir, &url, TOKEN);
    (server, dir, config)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpfleet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_credentials_reach_ls_tools_and_call() {
    let (server, dir, config) = guarded_server("static-auth").await;
    let url = format!("http://{}/mcp", server.local_addr);

    let ls = mcpfleet(&config, TOKEN, &["ls"]).await;
    assert!(ls.status.success(), "{}", text(&ls.stderr));
    let table = text(&ls.stdout);
    assert!(!table.contains("401"), "{table}");
    for service in ["tools", "keyed"] {
        assert!(
            table
                .lines()
                .any(|l| l.starts_with(service) && l.contains("1/1")),
            "{service} is ready: {table}"
        );
        let tools = mcpfleet(&config, TOKEN, &["tools", service]).await;
        assert!(tools.status.success(), "{service}: {}", text(&tools.stderr));
        assert!(
            text(&tools.stdout).contains("echo"),
            "{}",
            text(&tools.stdout)
        );
        let call = mcpfleet(&config, TOKEN, &["call", service, "echo", "message=hi"]).await;
        assert!(call.status.success(), "{service}: {}", text(&call.stderr));
        assert!(
            text(&call.stdout).starts_with("hi\n"),
            "{}",
            text(&call.stdout)
        );
    }
    assert!(!table.contains(TOKEN) && !text(&ls.stderr).contains(TOKEN));
    assert_kept_without_the_token(&state_dir(&config), 2);

    // Wrong credentials: one line naming 401 each, and the exit code of a refused connection.
    let wrong = write_config(&dir, &url, "wrong");
    let ls = mcpfleet(&wrong, "wrong", &["ls"]).await;
    assert!(ls.status.success(), "{}", text(&ls.stderr));
    let notes: Vec<String> = text(&ls.stdout)
        .lines()
        .filter(|l| l.contains("401"))
        .map(str::to_string)
        .collect();
    assert_eq!(
        notes.len(),
        2,
        "one 401 line per server: {}",
        text(&ls.stdout)
    );
    for service in ["tools", "keyed"] {
        for args in [
            vec!["tools", service],
            vec!["call", service, "echo", "message=hi"],
        ] {
            let output = mcpfleet(&wrong, "wrong", &args).await;
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(3), "{args:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
            assert!(stderr.contains("HTTP 401"), "{args:?}: {stderr}");
            assert!(!stderr.contains("wrong"), "the token stays out: {stderr}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_lists_and_calls_tools_with_static_credentials() {
    let (_server, dir, config) = guarded_server("static-auth-tui").await;
    let config_path = config.to_string_lossy().into_owned();

    // tmux is driven with blocking waits: keep them off the server's runtime threads.
    tokio::task::spawn_blocking(move || {
        let console = Console::start(
            "static-auth",
            140,
            40,
            &[("MCPFLEET_CONFIG", &config_path), ("TOOLS_TOKEN", TOKEN)],
        );
        console.wait_for("keyed", SOON);
        for service in ["tools", "keyed"] {
            console.open_call_form(service, "echo", SOON);
            let message = format!("through-{service}");
            console.type_text(&message);
            console.send_keys(&["C-s"]);
            let screen = console.wait_for("served by task", SOON);
            assert!(screen.contains(&message), "{screen}");
            assert!(!screen.contains("401"), "{screen}");
            console.go_home(SOON);
        }
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(SOON).status, 0);
        assert_kept_without_the_token(&console.state_dir(), 2);

        // A wrong token: the tool list says 401 in one line, and the console carries on.
        let wrong = Console::start(
            "static-auth-wrong",
            140,
            40,
            &[("MCPFLEET_CONFIG", &config_path), ("TOOLS_TOKEN", "wrong")],
        );
        wrong.wait_for("keyed", SOON);
        wrong.command("tools tools");
        // The services page may already say 401 (the probe's message): wait for the list.
        let screen = wrong.wait_until("the tool list says 401", SOON, |screen| {
            let crumbs = screen.lines().nth(1).unwrap_or("");
            crumbs.contains("tools(tools)") && screen.contains("HTTP 401")
        });
        assert!(!screen.contains("wrong"), "the token stays out: {screen}");
        wrong.back(SOON);
        wrong.command("tools keyed");
        wrong.wait_for("Return the message unchanged.", SOON);
        wrong.send_keys(&["q"]);
        assert_eq!(wrong.wait_exit(SOON).status, 0);
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
