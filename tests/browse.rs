//! Everything a server offers besides tools, from the command line, against
//! `mcpfleet-server --profile conformance`: resources and templates, reading text and binary
//! resources (raw bytes to a file), prompts, and a prompt with arguments; `--json` forms parse.

use std::{process::Output, time::Duration};

use mcpfleet_server::{Mode, Profile, ServerConfig};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

async fn mcpfleet(args: &[&str]) -> Output {
    let command = tokio::process::Command::new(BIN)
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
