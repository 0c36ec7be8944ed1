//! MCP Apps (SEP-1865) from the CLI, against an app server of the tests' own: `tools` marks a
//! tool with an App UI (`APP`, `ui_resource` in --json), `app` reads the UI resource and shows
//! its MIME type, size, CSP and permissions with the server's text inert, and `--open` writes
//! the HTML to a private file handed to `$BROWSER`.

mod apps_server;

use std::{process::Output, time::Duration};

use apps_server::{AppsServer, HTML, UI_URI};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

async fn mcpfleet(args: &[&str], browser: Option<&str>) -> Output {
    // An empty config file keeps a developer's own configuration out of the test.
    let config = std::env::temp_dir().join(format!("mcpfleet-apps-{}.toml", std::process::id()));
    std::fs::write(&config, "").unwrap();
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(args)
        .env("MCPFLEET_CONFIG", &config)
        .env_remove("BROWSER")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null());
    if let Some(browser) = browser {
        command.env("BROWSER", browser);
    }
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the command ends by itself")
        .expect("mcpfleet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_with_an_app_ui_is_marked_and_its_ui_shown() {
    let server = AppsServer::start().await;
    let url = server.url.as_str();

    let tools = mcpfleet(&["--url", url, "tools"], None).await;
    let stdout = text(&tools.stdout);
    assert_eq!(tools.status.code(), Some(0), "{}", text(&tools.stderr));
    let chart = stdout
        .lines()
        .find(|l| l.starts_with("show_chart"))
        .unwrap();
    assert!(chart.contains("APP"), "{stdout}");
    let plain = stdout
        .lines()
        .find(|l| l.starts_with("plain_tool"))
        .unwrap();
    assert!(!plain.contains("APP"), "{stdout}");
    let json = mcpfleet(&["--url", url, "tools", "--json"], None).await;
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    let by_name = |name: &str| {
        json["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("show_chart")["ui_resource"], UI_URI);
    assert!(by_name("plain_tool").get("ui_resource").is_none());

    let shown = mcpfleet(&["--url", url, "app", "show_chart"], None).await;
    let stdout = text(&shown.stdout);
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
    let expected = [
        "tool:                show_chart".to_string(),
        format!("ui resource:         {UI_URI}"),
        "mime type:           text/html;profile=mcp-app".into(),
        format!("size:                {} bytes", HTML.len()),
        "csp connectDomains:  https://api.charts.example".into(),
        "csp resourceDomains: https://cdn.charts.example https://evil\\u{1b}[2J.example".into(),
        "permissions:         camera".into(),
        "prefers border:      true".into(),
    ];
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected, "{stdout}");
    assert!(!stdout.contains('\u{1b}'));
    assert!(shown.stderr.is_empty(), "{}", text(&shown.stderr));

    let json = mcpfleet(&["--url", url, "app", "show_chart", "--json"], None).await;
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["uri"], UI_URI);
    assert_eq!(json["mime_type"], "text/html;profile=mcp-app");
    assert_eq!(json["size"], HTML.len());
    assert_eq!(
        json["csp"]["connectDomains"][0],
        "https://api.charts.example"
    );
    assert!(json["permissions"]["camera"].is_object(), "{json}");
    assert!(json.get("html").is_none());

    let none = mcpfleet(&["--url", url, "app", "plain_tool"], None).await;
    assert_eq!(none.status.code(), Some(5));
    assert_eq!(
        text(&none.stderr).trim_end(),
        "mcpfleet: tool plain_tool has no App UI (no _meta.ui.resourceUri)"
    );
    let unknown = mcpfleet(&["--url", url, "app", "nope"], None).await;
    assert_eq!(unknown.status.code(), Some(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_writes_a_private_page_and_hands_it_to_the_browser() {
    let server = AppsServer::start().await;
    let copy =
        std::env::temp_dir().join(format!("mcpfleet-apps-opened-{}.html", std::process::id()));
    let _ = std::fs::remove_file(&copy);
    let browser = format!("cp %s {}", copy.display());
    let opened = mcpfleet(
        &["--url", &server.url, "app", "show_chart", "--open"],
        Some(&browser),
    )
    .await;
    let stderr = text(&opened.stderr);
    assert_eq!(opened.status.code(), Some(0), "{stderr}");
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), HTML);
    let path = stderr
        .trim_end()
        .strip_prefix("mcpfleet: opened ")
        .and_then(|rest| rest.strip_suffix(" with cp"))
        .unwrap_or_else(|| panic!("{stderr}"));
    let path = std::path::Path::new(path);
    assert_eq!(std::fs::read_to_string(path).unwrap(), HTML);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
    let _ = std::fs::remove_file(&copy);
}
