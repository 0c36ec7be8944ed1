//! A server that asks back mid-call, answered from the command line: `mcpfleet-server
//! --profile conformance` asks for a form by `elicitation/create` on a 2025-11-25 session and
//! by an `input_required` result on 2026-07-28 (stateless), and `mcpfleet call` answers with
//! `--on-elicit accept-defaults|decline` or `--elicit-json FILE`; with `--json` and no choice,
//! it declines.

use std::{path::Path, process::Output, time::Duration};

use mcpfleet_server::{Mode, Profile, ServerConfig};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

async fn mcpfleet(args: &[&str]) -> Output {
    let command = tokio::process::Command::new(BIN)
        .args(args)
        .env_remove("MCPFLEET_CONFIG")
        .env_remove("BROWSER")
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

async fn server(mode: Mode) -> mcpfleet_server::RunningServer {
    mcpfleet_server::start(ServerConfig {
        mode,
        profile: Profile::Conformance,
        ..ServerConfig::loopback()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_servers_question_is_answered_as_the_command_says() {
    let server = server(Mode::Session).await;
    let url = format!("http://{}/mcp", server.local_addr);
    let call = |extra: &'static [&'static str]| {
        let url = url.clone();
        async move {
            let mut args = vec![
                "--url",
                url.as_str(),
                "--protocol-era",
                "legacy",
                "call",
                "test_elicitation_sep1034_defaults",
            ];
            args.extend_from_slice(extra);
            mcpfleet(&args).await
        }
    };

    let accepted = call(&["--on-elicit", "accept-defaults"]).await;
    assert!(accepted.status.success(), "{}", text(&accepted.stderr));
    let said = text(&accepted.stdout);
    assert!(said.contains("action=accept"), "{said}");
    assert!(
        said.contains("\"name\":\"John Doe\"") && said.contains("\"age\":30"),
        "{said}"
    );

    let declined = call(&["--on-elicit", "decline"]).await;
    assert!(
        text(&declined.stdout).contains("action=decline"),
        "{}",
        text(&declined.stdout)
    );
    assert!(
        text(&declined.stderr).contains("declined"),
        "{}",
        text(&declined.stderr)
    );

    // A script (--json) that chose nothing declines: nobody is there to ask.
    let scripted = call(&["--json"]).await;
    let json: serde_json::Value = serde_json::from_slice(&scripted.stdout).unwrap();
    let answer = json["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(answer.contains("action=decline"), "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_required_call_is_sent_again_with_the_answer() {
    let server = server(Mode::Stateless).await;
    let url = format!("http://{}/mcp", server.local_addr);
    let dir = std::env::temp_dir().join(format!("mcpfleet-elicit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let answer = dir.join("answer.json");
    std::fs::write(&answer, r#"{"name": "Ada"}"#).unwrap();
    let answer = answer.to_string_lossy().into_owned();
    let output = mcpfleet(&[
        "--url",
        &url,
        "--protocol-era",
        "modern",
        "call",
        "test_input_required_result_elicitation",
        "--elicit-json",
        &answer,
        "--json",
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        json["result"]["content"][0]["text"], "Hello, Ada!",
        "{json}"
    );

    // Not a JSON object: a usage error before anything is sent.
    std::fs::write(Path::new(&answer), "[1, 2]").unwrap();
    let refused = mcpfleet(&["--url", &url, "call", "echo", "--elicit-json", &answer]).await;
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("must hold a JSON object"));
    let _ = std::fs::remove_dir_all(&dir);
}

mod tmux;

/// The console answers in a dialog: the form has the server's defaults filled in; ctrl-s
/// accepts them, and a second call is declined with ctrl-d.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_answers_in_a_dialog() {
    let server = server(Mode::Session).await;
    let url = format!("http://{}/mcp", server.local_addr);
    let dir = std::env::temp_dir().join(format!("mcpfleet-elicit-tui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "source = \"static\"\n[static]\nservers = [{{ name = \"asker\", url = \"{url}\" }}]\n"
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let soon = Duration::from_secs(20);
    tokio::task::spawn_blocking(move || {
        let console = tmux::Console::start(
            "elicit",
            140,
            45,
            &[
                ("MCPFLEET_CONFIG", &config),
                ("MCPFLEET_PROTOCOL_ERA", "legacy"),
            ],
        );
        console.wait_for("asker", soon);
        console.open_call_form("asker", "test_elicitation_sep1034_defaults", soon);
        console.send_keys(&["C-s"]);
        let screen = console.wait_for("asker asks", soon);
        assert!(screen.contains("Review the prefilled profile"), "{screen}");
        assert!(
            screen.contains("John Doe"),
            "defaults are filled in: {screen}"
        );
        console.send_keys(&["C-s"]);
        let screen = console.wait_for("action=accept", soon);
        assert!(screen.contains("John Doe"), "{screen}");
        console.send_keys(&["C-s"]);
        console.wait_for("asker asks", soon);
        console.send_keys(&["C-d"]);
        console.wait_for("action=decline", soon);
        console.go_home(soon);
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(soon).status, 0);
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
