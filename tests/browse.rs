//! Everything a server offers besides tools, from the command line, against
//! `mcpfleet-server --profile conformance`: resources and templates, reading text and binary
//! resources (raw bytes to a file), prompts, and a prompt with arguments; `--json` forms parse.

use std::{process::Output, time::Duration};

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
        .stdin(std::process::Stdio::null())
        .output();
    tokio::time::timeout(Duration::from_secs(60), command)
        .await
        .expect("the command ends by itself")
        .expect("mcpfleet runs")
}

/// Runs against `url`, expecting success.
async fn run(url: &str, args: &[&str]) -> Output {
    let mut all = vec!["--url", url];
    all.extend_from_slice(args);
    let output = mcpfleet(&all).await;
    assert!(
        output.status.success(),
        "{args:?}: {}",
        text(&output.stderr)
    );
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_and_prompts_are_listed_read_and_got() {
    let server = mcpfleet_server::start(ServerConfig {
        mode: Mode::Session,
        profile: Profile::Conformance,
        ..ServerConfig::loopback()
    })
    .await
    .unwrap();
    let url = format!("http://{}/mcp", server.local_addr);
    let listed = text(&run(&url, &["resources"]).await.stdout);
    assert!(
        listed.contains("test://static-text") && listed.contains("text/plain"),
        "{listed}"
    );
    assert!(
        listed.contains("test://template/{id}/data"),
        "templates too: {listed}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&run(&url, &["resources", "--json"]).await.stdout).unwrap();
    assert!(
        json["resources"].as_array().is_some_and(|r| r.len() >= 3),
        "{json}"
    );

    let read = text(&run(&url, &["read", "test://static-text"]).await.stdout);
    assert_eq!(read, "This is the content of the static text resource.\n");
    let dir = std::env::temp_dir().join(format!("mcpfleet-browse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("pixel.png");
    let png_arg = png.to_string_lossy().into_owned();
    let args = [
        "read",
        "test://static-binary",
        "--output",
        &png_arg,
        "--output-format",
        "raw",
    ];
    run(&url, &args).await;
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "the decoded PNG");

    let prompts = text(&run(&url, &["prompts"]).await.stdout);
    assert!(
        prompts.contains("test_prompt_with_arguments") && prompts.contains("arg1* arg2*"),
        "{prompts}"
    );
    let got = text(
        &run(
            &url,
            &[
                "prompt",
                "test_prompt_with_arguments",
                "arg1=hello",
                "arg2=world",
            ],
        )
        .await
        .stdout,
    );
    assert_eq!(
        got.trim(),
        "user: Prompt with arguments: arg1='hello', arg2='world'"
    );

    // A resource that is not there: the server's error, exit 3.
    let missing = mcpfleet(&["--url", &url, "read", "test://nothing-here"]).await;
    assert_eq!(missing.status.code(), Some(3), "{}", text(&missing.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

async fn conformance_server() -> String {
    let server = mcpfleet_server::start(ServerConfig {
        mode: Mode::Session,
        profile: Profile::Conformance,
        ..ServerConfig::loopback()
    })
    .await
    .unwrap();
    format!("http://{}/mcp", server.local_addr)
}

/// `complete` asks the server for an argument's values: a prompt's, narrowed by what is
/// typed, and a resource template's variable, as the server's JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_offers_the_servers_values() {
    let url = conformance_server().await;
    for era in ["legacy", "modern"] {
        let args = [
            "--protocol-era",
            era,
            "complete",
            "--prompt",
            "test_prompt_with_arguments",
            "arg1",
            "pa",
        ];
        let values = text(&run(&url, &args).await.stdout);
        assert_eq!(values, "paris\npark\nparty\n", "{era}");
    }
    let args = [
        "complete",
        "--resource-template",
        "test://template/{id}/data",
        "id",
        "--context",
        "other=1",
        "--json",
    ];
    let json: serde_json::Value = serde_json::from_slice(&run(&url, &args).await.stdout).unwrap();
    assert_eq!(
        json["values"],
        serde_json::json!(["1", "2", "3", "42", "123"])
    );
    assert_eq!(json["hasMore"], false);
    let bad = mcpfleet(&[
        "--url",
        &url,
        "complete",
        "--prompt",
        "p",
        "a",
        "--context",
        "x",
    ])
    .await;
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

/// `read --follow` prints the resource, then again after each update the server sends, on a
/// 2025-11-25 session (`resources/subscribe`) and on 2026-07-28 (`subscriptions/listen`); it
/// ends by itself after `--count` updates. The updates come from a tool of the conformance
/// profile, called from another process until the follower has heard enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_follow_prints_each_update_in_both_eras() {
    let url = conformance_server().await;
    for (era, how) in [
        ("legacy", "resources/subscribe"),
        ("modern", "subscriptions/listen"),
    ] {
        let follower = tokio::process::Command::new(BIN)
            // Calls go to a history file of the tests' own, never the developer's.
            .env(
                "XDG_STATE_HOME",
                std::env::temp_dir().join("mcpfleet-tests-state"),
            )
            .args(["--url", &url, "--protocol-era", era, "read"])
            .args([
                "test://watched-resource",
                "--follow",
                "--count",
                "2",
                "--json",
            ])
            .env_remove("MCPFLEET_CONFIG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let output = follower.wait_with_output();
        tokio::pin!(output);
        let trigger = [
            "call",
            "test_trigger_resource_update",
            "uri=test://watched-resource",
        ];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let output = loop {
            tokio::select! {
                output = &mut output => break output.unwrap(),
                _ = tokio::time::sleep(Duration::from_millis(300)) => {
                    assert!(tokio::time::Instant::now() < deadline, "{era}: no end in 30 s");
                    run(&url, &trigger).await;
                }
            }
        };
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert!(output.status.success(), "{era}: {stderr}");
        let reads: Vec<serde_json::Value> = stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(
            reads.len(),
            3,
            "{era}: the first read and one per update: {stdout}"
        );
        assert_eq!(reads[2]["contents"][0]["uri"], "test://watched-resource");
        assert!(stderr.contains(&format!("({how})")), "{era}: {stderr}");
        assert_eq!(stderr.matches("# updated ").count(), 2, "{era}: {stderr}");
    }
}
