//! End to end against a server we did not write: `@modelcontextprotocol/server-everything`
//! (the MCP project's reference server, Node, in its `streamableHttp` mode — sessions only, it
//! has no stateless mode), driven through the real `mcpfleet` binary from the command line and
//! from the console under tmux.
//!
//! Each test starts its own server on a free loopback port (nextest runs each test in its own
//! process, so there is nothing to share) and kills it when the test ends, panics included.
//! Node 22 and the server come from `tests/run.sh` (`MCPFLEET_NODE`, `MCPFLEET_EVERYTHING`, else
//! the repository's `.tools/npm`); without them these tests fail and say how to get them.
//! `tests/everything/loopback.js`, preloaded with `node -r`, holds the server to 127.0.0.1.
//!
//! The assertions read this version's tool outputs; the version is pinned here and in
//! tests/run.sh.

use std::{
    process::{Output, Stdio},
    time::Duration,
};

use base64::Engine;
use serde_json::{Value, json};

mod everything_support;
use everything_support::Everything;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

/// `mcpfleet --url URL ARGS…`, with no config file, stdin closed.
async fn mcpfleet(url: &str, args: &[&str]) -> Output {
    let command = tokio::process::Command::new(BIN)
        // Calls go to a history file of the tests' own, never the developer's.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
        .arg("--url")
        .arg(url)
        .args(args)
        .env("MCPFLEET_CONFIG", "/dev/null")
        .env_remove("MCPFLEET_PROTOCOL_ERA")
        .env_remove("BROWSER")
        .stdin(Stdio::null())
        .output();
    tokio::time::timeout(Duration::from_secs(60), command)
        .await
        .expect("the command ends by itself")
        .expect("mcpfleet runs")
}

/// Runs, expecting success; its stdout.
async fn ok(url: &str, args: &[&str]) -> String {
    let output = mcpfleet(url, args).await;
    assert!(
        output.status.success(),
        "{args:?} exited {}: {}{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Runs with `--json`, expecting success; its stdout parsed.
async fn ok_json(url: &str, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let stdout = ok(url, &args).await;
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

/// Runs, expecting exit `code`; stdout and stderr together.
async fn fails(url: &str, args: &[&str], code: i32) -> String {
    let output = mcpfleet(url, args).await;
    let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(code), "{args:?}: {said}");
    said
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_are_listed_and_called_from_the_command_line() {
    let server = Everything::start("tools");
    let url = server.url.as_str();

    let listed = ok(url, &["tools"]).await;
    assert!(
        listed.starts_with("mcp-servers/everything 2.0.0 · protocol 2025-11-25"),
        "{listed}"
    );
    for tool in [
        "echo",
        "get-sum",
        "get-structured-content",
        "get-tiny-image",
        "trigger-long-running-operation",
    ] {
        assert!(
            listed
                .lines()
                .any(|line| line.starts_with(&format!("{tool} "))),
            "{tool}: {listed}"
        );
    }
    // `tools` declares what the client can answer, as `call` does, so the server shows the
    // tools that ask back (a command with nobody to ask declines when asked).
    for tool in [
        "trigger-elicitation-request",
        "trigger-url-elicitation",
        "trigger-sampling-request",
    ] {
        assert!(
            listed
                .lines()
                .any(|line| line.starts_with(&format!("{tool} "))),
            "{tool}: {listed}"
        );
    }
    let tools = ok_json(url, &["tools"]).await;
    let get_sum = tools["tools"]
        .as_array()
        .and_then(|tools| tools.iter().find(|tool| tool["name"] == "get-sum"))
        .unwrap_or_else(|| panic!("{tools}"));
    assert_eq!(get_sum["input_schema"]["properties"]["a"]["type"], "number");
    assert_eq!(get_sum["read_only"], true, "{get_sum}");

    let echoed = ok(url, &["call", "echo", "message=hello everything"]).await;
    assert!(
        echoed.starts_with("Echo: hello everything\n── ok in "),
        "{echoed}"
    );

    // Numbers by the tool's schema; refused before sending when they do not fit it.
    let sum = ok(url, &["call", "get-sum", "a=2", "b=3.5"]).await;
    assert!(sum.starts_with("The sum of 2 and 3.5 is 5.5.\n"), "{sum}");
    let refused = fails(url, &["call", "get-sum", "a=2", "b=x"], 2).await;
    assert!(
        refused.contains(r#"invalid arguments: /b: "x" is not of type "number""#),
        "{refused}"
    );
    let missing = fails(url, &["call", "get-sum", "a=2"], 2).await;
    assert!(
        missing.contains(r#""b" is a required property"#),
        "{missing}"
    );
    // Sent anyway, the server's own answer is a tool error (exit 1).
    let unchecked = fails(url, &["call", "get-sum", "a=2", "b=x", "--no-check"], 1).await;
    assert!(
        unchecked.contains("Input validation error") && unchecked.contains("── tool error in"),
        "{unchecked}"
    );
    let city = fails(
        url,
        &["call", "get-structured-content", "location=Paris"],
        2,
    )
    .await;
    assert!(city.contains("is not one of"), "{city}");

    // Structured output: in --json as the server sent it.
    let weather = ok_json(url, &["call", "get-structured-content", "location=Chicago"]).await;
    assert_eq!(weather["outcome"], "ok", "{weather}");
    assert_eq!(
        weather["result"]["structuredContent"],
        json!({"temperature": 36, "conditions": "Light rain / drizzle", "humidity": 82})
    );
    let weather = ok(url, &["call", "get-structured-content", "location=Chicago"]).await;
    assert!(
        weather.starts_with(r#"{"temperature":36,"conditions":"Light rain / drizzle""#),
        "{weather}"
    );
    assert!(
        !weather.contains("\"temperature\": 36"),
        "structuredContent equal to the text is not printed again: {weather}"
    );

    // An image block: named in text, whole in --json, where it decodes to a PNG.
    let image = ok(url, &["call", "get-tiny-image"]).await;
    // Blocks in the server's order, the image described where it stands.
    let lines: Vec<&str> = image.lines().collect();
    assert_eq!(lines[0], "Here's the image you requested:", "{image}");
    assert!(
        lines[1].starts_with("[image image/png, ") && lines[1].ends_with(" bytes]"),
        "{image}"
    );
    assert_eq!(lines[2], "The image above is the MCP logo.", "{image}");
    let image = ok_json(url, &["call", "get-tiny-image"]).await;
    let block = image["result"]["content"]
        .as_array()
        .and_then(|blocks| blocks.iter().find(|block| block["type"] == "image"))
        .unwrap_or_else(|| panic!("{image}"));
    assert_eq!(block["mimeType"], "image/png");
    let png = base64::engine::general_purpose::STANDARD
        .decode(block["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "the decoded PNG");
    // --output FILE --output-format raw writes the image's bytes, as Inspector's CLI does.
    let file = server.dir.join("tiny.png");
    let file = file.to_str().unwrap();
    ok(
        url,
        &[
            "call",
            "get-tiny-image",
            "--output",
            file,
            "--output-format",
            "raw",
        ],
    )
    .await;
    assert_eq!(std::fs::read(file).unwrap(), png, "the same bytes, decoded");
    let two = fails(
        url,
        &[
            "call",
            "echo",
            "message=x",
            "--output",
            file,
            "--output-format",
            "raw",
        ],
        2,
    )
    .await;
    assert!(
        two.contains("needs exactly one image, audio or blob block"),
        "{two}"
    );
}

/// The CLI shows no progress, but progress is what keeps a call alive: `--timeout` counts
/// from the last progress notification, so a 2 s operation reporting every 0.5 s outlives a
/// 1 s timeout, and one that reports only at its end does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_running_call_lives_on_its_progress() {
    let server = Everything::start("progress");
    let url = server.url.as_str();
    let tool = "trigger-long-running-operation";
    let done = ok(
        url,
        &["call", tool, "duration=2", "steps=4", "--timeout", "1"],
    )
    .await;
    assert!(
        done.starts_with("Long running operation completed. Duration: 2 seconds, Steps: 4.\n"),
        "{done}"
    );
    let silent = fails(
        url,
        &["call", tool, "duration=2", "steps=1", "--timeout", "1"],
        6,
    )
    .await;
    assert!(
        silent.contains("timed out: no result or progress for 1s"),
        "{silent}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_and_prompts_are_listed_read_and_got_from_the_command_line() {
    let server = Everything::start("browse");
    let url = server.url.as_str();

    let listed = ok(url, &["resources"]).await;
    assert!(
        listed.contains("demo://resource/static/document/features.md")
            && listed.contains("text/markdown"),
        "{listed}"
    );
    assert!(
        listed.contains("demo://resource/dynamic/text/{resourceId}")
            && listed.contains("demo://resource/dynamic/blob/{resourceId}"),
        "templates too: {listed}"
    );
    let json = ok_json(url, &["resources"]).await;
    assert_eq!(
        json["resources"].as_array().map(Vec::len),
        Some(7),
        "{json}"
    );
    assert_eq!(
        json["templates"].as_array().map(Vec::len),
        Some(2),
        "{json}"
    );

    let document = ok(
        url,
        &["read", "demo://resource/static/document/features.md"],
    )
    .await;
    assert!(
        document.starts_with("# Everything Server - Features\n"),
        "{document}"
    );
    let dynamic = ok(url, &["read", "demo://resource/dynamic/text/3"]).await;
    assert!(
        dynamic.starts_with("Resource 3: This is a plaintext resource created at "),
        "{dynamic}"
    );
    // A blob is named, not printed; --output-format raw writes its decoded bytes.
    let blob = ok(url, &["read", "demo://resource/dynamic/blob/7"]).await;
    assert!(
        blob.starts_with("[blob, ") && blob.contains("text/plain] (--output FILE"),
        "{blob}"
    );
    let path = server.dir.join("blob.bin");
    let path_arg = path.to_string_lossy().into_owned();
    let args = [
        "read",
        "demo://resource/dynamic/blob/7",
        "--output",
        &path_arg,
        "--output-format",
        "raw",
    ];
    ok(url, &args).await;
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.starts_with(b"Resource 7: This is a base64 blob created at "),
        "{}",
        text(&bytes)
    );
    // The server refuses an id its template does not allow: its error, exit 3.
    let unknown = fails(url, &["read", "demo://resource/dynamic/text/0"], 3).await;
    assert!(
        unknown.contains("Unknown resource: demo://resource/dynamic/text/0"),
        "{unknown}"
    );

    let prompts = ok(url, &["prompts"]).await;
    for (prompt, arguments) in [
        ("simple-prompt", ""),
        ("args-prompt", "city* state"),
        ("resource-prompt", "resourceType* resourceId*"),
    ] {
        assert!(
            prompts
                .lines()
                .any(|line| line.starts_with(prompt) && line.contains(arguments)),
            "{prompt}: {prompts}"
        );
    }
    let simple = ok(url, &["prompt", "simple-prompt"]).await;
    assert_eq!(simple, "user: This is a simple prompt without arguments.\n");
    let weather = ok(url, &["prompt", "args-prompt", "city=Paris", "state=TX"]).await;
    assert_eq!(weather, "user: What's weather in Paris, TX?\n");
    // Checked before sending, as tool arguments are: a usage error, a not-found.
    let missing = fails(url, &["prompt", "args-prompt", "state=TX"], 2).await;
    assert!(
        missing.contains("missing required argument `city`"),
        "{missing}"
    );
    let unknown = fails(url, &["prompt", "no-such-prompt"], 5).await;
    assert!(
        unknown.contains("no prompt `no-such-prompt` here; available: simple-prompt"),
        "{unknown}"
    );
    let embedded = ok_json(
        url,
        &[
            "prompt",
            "resource-prompt",
            "resourceType=Blob",
            "resourceId=2",
        ],
    )
    .await;
    assert_eq!(
        embedded["messages"][1]["content"]["resource"]["uri"], "demo://resource/dynamic/blob/2",
        "{embedded}"
    );
}

/// `trigger-elicitation-request` asks for a form of thirteen fields (`name` required, several
/// with defaults) and reports what it got back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_question_is_answered_as_the_command_says() {
    let server = Everything::start("elicit");
    let url = server.url.as_str();
    let tool = "trigger-elicitation-request";

    // `name` is required and has no default: there is nobody to fill it in, so the question
    // is declined, and stderr says why.
    let defaults = mcpfleet(url, &["call", tool, "--on-elicit", "accept-defaults"]).await;
    assert!(defaults.status.success(), "{}", text(&defaults.stderr));
    assert!(
        text(&defaults.stdout).contains("User declined to provide the requested information."),
        "{}",
        text(&defaults.stdout)
    );
    assert!(
        text(&defaults.stderr).contains("no default for the required name"),
        "{}",
        text(&defaults.stderr)
    );

    // An answer that breaks the form is not sent: exit 2, each problem named.
    let bad = server.file(
        "bad.json",
        r#"{"name": "Ada", "integer": 500, "email": "not-an-email"}"#,
    );
    let refused = fails(url, &["call", tool, "--elicit-json", &bad], 2).await;
    assert!(
        refused.contains("does not fit the form")
            && refused.contains("/integer: 500 is greater than the maximum of 100")
            && refused.contains(r#"/email: "not-an-email" is not a "email""#),
        "{refused}"
    );

    let answer = server.file(
        "answer.json",
        r#"{"name": "Ada Lovelace", "check": true, "integer": 7}"#,
    );
    let answered = ok(url, &["call", tool, "--elicit-json", &answer]).await;
    assert!(
        answered.contains("- Name: Ada Lovelace\n- Agreed to terms: true\n- Favorite Integer: 7\n"),
        "{answered}"
    );

    let declined = mcpfleet(url, &["call", tool, "--on-elicit", "decline"]).await;
    assert!(declined.status.success(), "{}", text(&declined.stderr));
    assert!(
        text(&declined.stdout).contains("User declined to provide the requested information."),
        "{}",
        text(&declined.stdout)
    );
    assert!(
        text(&declined.stderr)
            .contains(r#"asked "Please provide inputs for the following fields:"; declined"#),
        "{}",
        text(&declined.stderr)
    );
    // A script (--json) that chose nothing declines: nobody is there to ask.
    let scripted = ok_json(url, &["call", tool]).await;
    assert!(
        scripted["result"]["content"]
            .to_string()
            .contains("User declined"),
        "{scripted}"
    );
}

/// `trigger-sampling-request` asks for a model's reply, which a person writes (here: the
/// `sampling.reply` of `--elicit-json`) or declines; `get-roots-list` shows the roots of the
/// config file; `trigger-url-elicitation` asks for a page, by request or by -32042 error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_roots_and_pages_from_the_command_line() {
    let server = Everything::start("sampling");
    let url = server.url.as_str();
    let reply = server.file(
        "reply.json",
        r#"{"sampling": {"reply": "Paris, from a person"}}"#,
    );
    let tool = "trigger-sampling-request";
    let answered = ok(
        url,
        &[
            "call",
            tool,
            "prompt=Capital of France?",
            "--elicit-json",
            &reply,
        ],
    )
    .await;
    assert!(
        answered.contains(r#""model": "mcpfleet-operator""#)
            && answered.contains(r#""text": "Paris, from a person""#)
            && answered.contains(r#""stopReason": "endTurn""#),
        "{answered}"
    );
    let declined = mcpfleet(url, &["call", tool, "prompt=x", "--on-elicit", "decline"]).await;
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
    let defaults = mcpfleet(
        url,
        &["call", tool, "prompt=x", "--on-elicit", "accept-defaults"],
    )
    .await;
    assert!(
        text(&defaults.stderr).contains("a sampling request has no default reply"),
        "{}",
        text(&defaults.stderr)
    );

    // Roots: only with some configured is the capability declared (and the tool shown).
    let config = server.file(
        "roots.toml",
        "[roots]\nuris = [{ uri = \"file:///srv/app\", name = \"app\" }]\n",
    );
    let listed = ok(url, &["tools"]).await;
    assert!(!listed.contains("get-roots-list"), "{listed}");
    let roots = ok(url, &["--config", &config, "call", "get-roots-list"]).await;
    assert!(
        roots.contains("Current MCP Roots (1 total):")
            && roots.contains("1. app\n   URI: file:///srv/app"),
        "{roots}"
    );

    // A page to open: accept-defaults declines and says so; the -32042 error names the page.
    let page = "https://example.com/consent";
    let args = ["call", "trigger-url-elicitation", &format!("url={page}")];
    let mut defaults_args = args.to_vec();
    defaults_args.extend(["--on-elicit", "accept-defaults"]);
    let defaults = mcpfleet(url, &defaults_args).await;
    assert!(
        text(&defaults.stdout).contains("User declined to open the URL"),
        "{}",
        text(&defaults.stdout)
    );
    assert!(
        text(&defaults.stderr)
            .contains("declined (--on-elicit accept-defaults: a page to open has no default)"),
        "{}",
        text(&defaults.stderr)
    );
    let mut error_args = args.to_vec();
    error_args.push("errorPath=true");
    let required = fails(url, &error_args, 3).await;
    assert!(
        required.contains(
            "This request requires browser-based authorization. Open \
             https://modelcontextprotocol.io in a browser, then call again (code -32042)"
        ),
        "{required}"
    );
}

mod tmux;

/// The console on a static config naming the server: the tool list, the call form of `echo`
/// and its result, then `trigger-elicitation-request` answered in the dialog — choices by
/// their titles, multiple choices ticked, and no accepting until the required name is filled
/// in and the birthdate is a date — and a page offered when a call needs one opened first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_calls_echo_and_answers_a_question() {
    let server = Everything::start("tui");
    let config = server.file(
        "config.toml",
        &format!(
            "source = \"static\"\n[static]\nservers = [{{ name = \"everything\", url = \"{}\" }}]\n",
            server.url
        ),
    );
    let soon = Duration::from_secs(20);
    tokio::task::spawn_blocking(move || {
        let console = tmux::Console::start("everything", 140, 45, &[("MCPFLEET_CONFIG", &config)]);
        console.wait_until("the service ready", soon, |screen| {
            screen
                .lines()
                .any(|line| line.starts_with("everything ") && line.contains("1/1 ready"))
        });

        console.command("tools everything");
        let screen = console.wait_for("trigger-elicitation-request", soon);
        assert!(
            screen.contains("mcp-servers/everything 2.0.0 · protocol 2025-11-25"),
            "{screen}"
        );
        console.open_call_form("everything", "echo", soon);
        console.type_text("hello from tmux");
        console.send_keys(&["C-s"]);
        console.wait_for("Echo: hello from tmux", soon);
        console.go_home(soon);

        console.open_call_form("everything", "trigger-elicitation-request", soon);
        console.send_keys(&["C-s"]);
        let screen = console.wait_for("everything asks", soon);
        assert!(
            screen.contains("Please provide inputs for the following fields:")
                && screen.contains("It was a dark and stormy night."),
            "defaults are filled in: {screen}"
        );
        // Choices read by their titles (a titled oneOf, the legacy enumNames); multiple
        // choices are ticked, not raw JSON.
        assert!(
            screen.contains("‹ Superman ›")
                && screen.contains("‹ Cats ›")
                && screen.contains("[x] Tuna")
                && screen.contains("[x] Guitar  [ ] Piano"),
            "{screen}"
        );
        console.send_keys(&["C-s"]);
        console.wait_for("1 problem to fix first", soon);
        console.type_text("Ada Lovelace");
        // The next field is the birthdate, a `date`: a name there is refused before sending.
        console.send_keys(&["Tab"]);
        console.type_text("Ada Lovelace");
        console.send_keys(&["C-s"]);
        console.wait_for(r#""Ada Lovelace" is not a "date""#, soon);
        console.send_keys(&["BSpace"; 12]);
        console.type_text("1815-12-10");
        console.send_keys(&["C-s"]);
        let screen = console.wait_for("- Name: Ada Lovelace", soon);
        assert!(
            screen.contains("\"integer\": 42") && screen.contains("- Birthdate: 1815-12-10"),
            "{screen}"
        );
        let answered = console.capture();
        assert!(
            answered.contains(r#""titledSingleSelectEnum": "hero-1""#),
            "the value is sent, not its title: {answered}"
        );
        console.go_home(soon);

        // A call the server refuses until a page is opened (-32042): the page is offered.
        console.open_call_form("everything", "trigger-url-elicitation", soon);
        console.type_text("https://example.com/consent");
        console.send_keys(&["Tab", "Tab", "Left"]);
        console.send_keys(&["C-s"]);
        let screen = console.wait_for("Open this page first:", soon);
        assert!(
            screen.contains("https://modelcontextprotocol.io")
                && screen.contains("This request requires browser-based authorization."),
            "{screen}"
        );
        console.send_keys(&["Escape"]);
        console.wait_for(
            "call again once the page everything asked for is done",
            soon,
        );
        console.go_home(soon);
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(soon).status, 0);
    })
    .await
    .unwrap();
    drop(server);
}

/// `trigger-sampling-request` in the console: the dialog shows the server's messages and
/// system prompt; the reply typed there (two lines) comes back in the tool's result, from the
/// operator "model". A second request is declined with ctrl-d.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_answers_a_sampling_request() {
    let server = Everything::start("tui-sampling");
    let config = server.file(
        "config.toml",
        &format!(
            "source = \"static\"\n[static]\nservers = [{{ name = \"everything\", url = \"{}\" }}]\n",
            server.url
        ),
    );
    let soon = Duration::from_secs(20);
    tokio::task::spawn_blocking(move || {
        let console = tmux::Console::start(
            "everything-sampling",
            140,
            45,
            &[("MCPFLEET_CONFIG", &config)],
        );
        console.wait_until("the service ready", soon, |screen| {
            screen
                .lines()
                .any(|line| line.starts_with("everything ") && line.contains("1/1 ready"))
        });
        console.open_call_form("everything", "trigger-sampling-request", soon);
        console.type_text("Capital of France?");
        console.send_keys(&["C-s"]);
        let screen = console.wait_for("everything asks for a model's reply", soon);
        assert!(
            screen.contains("user: Resource trigger-sampling-request context: Capital of France?")
                && screen.contains("system prompt: You are a helpful test server.")
                && screen.contains("max tokens: 100"),
            "{screen}"
        );
        console.type_text("Paris");
        console.send_keys(&["Enter"]);
        console.type_text("(typed at the console)");
        console.send_keys(&["C-s"]);
        let screen = console.wait_for(r#""model": "mcpfleet-operator""#, soon);
        assert!(
            screen.contains(r#""text": "Paris\n(typed at the console)""#),
            "{screen}"
        );
        console.send_keys(&["C-s"]);
        console.wait_for("everything asks for a model's reply", soon);
        console.send_keys(&["C-d"]);
        console.wait_for("User rejected sampling request", soon);
        console.go_home(soon);
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(soon).status, 0);
    })
    .await
    .unwrap();
    drop(server);
}
