//! A server that asks back mid-call, answered from the command line: `mcpfleet-server
//! --profile conformance` asks for a form by `elicitation/create` on a 2025-11-25 session and
//! by an `input_required` result on 2026-07-28 (stateless), and `mcpfleet call` answers with
//! `--on-elicit accept-defaults|decline` or `--elicit-json FILE`; with `--json` and no choice,
//! it declines. A server may also ask for a model's reply (sampling), which a person writes
//! (here: `--elicit-json`'s `sampling.reply`) or declines, and for the console's roots, which
//! come from the config file's `[roots]`.

use std::{path::Path, process::Output, time::Duration};

use mcpfleet_server::{Mode, Profile, ServerConfig};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

async fn mcpfleet(args: &[&str]) -> Output {
    let command = tokio::process::Command::new(BIN)
        // Calls go to a history file of the tests' own, never the developer's.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
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

/// A scratch directory for one test's files, removed when the test passes.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mcpfleet-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Sampling in both eras: the reply from the file is sent as the operator's; declined, a
/// 2025-11-25 session gets the spec's error and a 2026-07-28 call (whose input responses
/// cannot say no) ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sampling_request_is_answered_by_a_person_or_declined() {
    let scratch = Scratch::new("sampling");
    let answers = scratch.file(
        "answers.json",
        r#"{"sampling": {"reply": "Paris, typed by a person"}}"#,
    );
    let session = server(Mode::Session).await;
    let url = format!("http://{}/mcp", session.local_addr);
    let args = |extra: &[&str]| {
        let mut args = vec![
            "--url".to_string(),
            url.clone(),
            "--protocol-era".into(),
            "legacy".into(),
            "call".into(),
            "test_sampling".into(),
            "prompt=Capital of France?".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let run = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        mcpfleet(&args).await
    };
    let answered = run(args(&["--elicit-json", &answers])).await;
    assert!(answered.status.success(), "{}", text(&answered.stderr));
    assert!(
        text(&answered.stdout).starts_with("LLM response: Paris, typed by a person\n"),
        "{}",
        text(&answered.stdout)
    );
    let declined = run(args(&["--on-elicit", "decline"])).await;
    assert!(
        text(&declined.stdout).contains("User rejected sampling request"),
        "{}",
        text(&declined.stdout)
    );
    assert!(
        text(&declined.stderr).contains("asked for a model's reply (sampling); declined"),
        "{}",
        text(&declined.stderr)
    );
    let defaults = run(args(&["--on-elicit", "accept-defaults"])).await;
    assert!(
        text(&defaults.stderr).contains("a sampling request has no default reply"),
        "{}",
        text(&defaults.stderr)
    );

    let stateless = server(Mode::Stateless).await;
    let url = format!("http://{}/mcp", stateless.local_addr);
    let modern = |extra: &'static [&'static str]| {
        let url = url.clone();
        let answers = answers.clone();
        async move {
            let mut args = vec![
                "--url",
                url.as_str(),
                "--protocol-era",
                "modern",
                "call",
                "test_input_required_result_sampling",
            ];
            if extra.is_empty() {
                args.extend(["--elicit-json", answers.as_str()]);
            }
            args.extend_from_slice(extra);
            mcpfleet(&args).await
        }
    };
    let answered = modern(&[]).await;
    assert!(answered.status.success(), "{}", text(&answered.stderr));
    assert!(
        text(&answered.stdout).starts_with("Sampling response: Paris, typed by a person\n"),
        "{}",
        text(&answered.stdout)
    );
    let declined = modern(&["--on-elicit", "decline"]).await;
    assert_eq!(
        declined.status.code(),
        Some(3),
        "{}",
        text(&declined.stderr)
    );
    assert!(
        text(&declined.stdout).contains("declined the server's request for a model's reply"),
        "{}",
        text(&declined.stdout)
    );
}

/// Roots come from the config file: none by default (the capability is not declared and a
/// roots input request gets an empty list), the configured `file://` URIs when given; a
/// root that is not `file://` is a config error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roots_are_answered_from_the_config_file() {
    let scratch = Scratch::new("roots");
    let server = server(Mode::Stateless).await;
    let url = format!("http://{}/mcp", server.local_addr);
    let config = scratch.file(
        "config.toml",
        "[roots]\nuris = [\"file:///srv/app\", { uri = \"file:///data\", name = \"data\" }]\n",
    );
    let call = |config: String| {
        let url = url.clone();
        async move {
            mcpfleet(&[
                "--config",
                &config,
                "--url",
                &url,
                "--protocol-era",
                "modern",
                "call",
                "test_input_required_result_list_roots",
            ])
            .await
        }
    };
    let listed = call(config).await;
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(
        text(&listed.stdout).starts_with("Client roots: [file:///srv/app, file:///data]\n"),
        "{}",
        text(&listed.stdout)
    );
    let none = call("/dev/null".into()).await;
    assert!(
        text(&none.stdout).starts_with("Client roots: []\n"),
        "{}",
        text(&none.stdout)
    );
    let bad = scratch.file("bad.toml", "[roots]\nuris = [\"https://example.com/\"]\n");
    let refused = call(bad).await;
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("\"https://example.com/\" is not a file:// URI"),
        "{}",
        text(&refused.stderr)
    );
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
