//! The drift radar on the local fleet: a service of three built-in replicas whose first one is
//! a canary started with a different tool set (`sleep` hidden) and a changed schema bound
//! (echo's `message` limited), beside a uniform service. `mcpfleet drift` flags the one and
//! names the tool and the schema property; the console's services screen flags it, its diff
//! view names them too, and a deploy that replaces the canary clears the flag.

use std::{path::PathBuf, process::Command, time::Duration};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

/// A private folder per test: config, runtime dir (no shared console fleet) and state.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpfleet-drift-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `drifty`: three replicas, the first a canary without `sleep` and with echo bounded;
/// `steady`: two replicas alike.
fn config(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[local]\nbuiltin_replicas = 0\n\n\
         [[local.services]]\nname = \"drifty\"\nreplicas = 3\n\
         canary_env = { MCPFLEET_HIDE_TOOLS = \"sleep\", MCPFLEET_ECHO_MAX_LENGTH = \"2000\" }\n\n\
         [[local.services]]\nname = \"steady\"\nreplicas = 2\n",
    )
    .unwrap();
    path
}

fn mcpfleet(
    dir: &std::path::Path,
    config: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("MCPFLEET_CONFIG", config)
        .env("XDG_RUNTIME_DIR", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env_remove("RUST_LOG")
        .output()
        .expect("mcpfleet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn drift_flags_the_canary_and_names_the_missing_tool_and_the_schema_bound() {
    let dir = scratch("cli");
    let config = config(&dir);
    let output = mcpfleet(&dir, &config, &["drift", "--json"]);
    assert_eq!(
        output.status.code(),
        Some(10),
        "drift exits 10: {}",
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["drift"], true);
    let services = report["services"].as_array().unwrap();
    let service = |name: &str| {
        services
            .iter()
            .find(|s| s["service"] == name)
            .unwrap_or_else(|| panic!("{name} in {report:#}"))
    };
    let steady = service("steady");
    assert_eq!(steady["drift"], false, "{steady:#}");
    assert_eq!(steady["groups"].as_array().unwrap().len(), 1);
    let drifty = service("drifty");
    assert_eq!(drifty["drift"], true);
    assert_eq!(drifty["rollout_in_progress"], false, "{drifty:#}");
    let groups = drifty["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{drifty:#}");
    assert_eq!(groups[0]["tasks"].as_array().unwrap().len(), 2);
    assert_eq!(groups[0]["changes"].as_array().unwrap().len(), 0);
    let canary = &groups[1];
    assert_eq!(canary["label"], "B");
    assert_eq!(canary["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(canary["revisions"], serde_json::json!([1]));
    assert_ne!(
        canary["fingerprint"]["tools"], groups[0]["fingerprint"]["tools"],
        "the tools part differs"
    );
    assert_eq!(
        canary["fingerprint"]["server"], groups[0]["fingerprint"]["server"],
        "the server part does not"
    );
    let changes = canary["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "tool_removed" && c["tool"] == "sleep"),
        "{drifty:#}"
    );
    assert!(
        changes.iter().any(|c| c["kind"] == "tool"
            && c["tool"] == "echo"
            && c["part"] == "inputSchema"
            && c["pointer"] == "/properties/message/maxLength"
            && c["expected"].is_null()
            && c["found"] == 2000),
        "{drifty:#}"
    );

    let printed = mcpfleet(&dir, &config, &["drift", "drifty"]);
    assert_eq!(printed.status.code(), Some(10));
    let printed = text(&printed.stdout);
    assert!(
        printed
            .starts_with("drifty: DRIFT with no rollout in progress — 2 surfaces across 3 tasks"),
        "{printed}"
    );
    assert!(printed.contains("      tool removed: sleep\n"), "{printed}");
    assert!(
        printed.contains("      echo: inputSchema /properties/message/maxLength (absent) → 2000\n"),
        "{printed}"
    );

    let uniform = mcpfleet(&dir, &config, &["drift", "steady"]);
    assert_eq!(uniform.status.code(), Some(0), "{}", text(&uniform.stderr));
    assert!(
        text(&uniform.stdout).starts_with("steady: uniform, 2 tasks present one surface"),
        "{}",
        text(&uniform.stdout)
    );
    let missing = mcpfleet(&dir, &config, &["drift", "nope"]);
    assert_eq!(missing.status.code(), Some(5), "{}", text(&missing.stderr));
}

#[test]
fn the_canarys_bound_holds_and_a_tool_that_is_not_there_cannot_be_hidden() {
    let dir = scratch("serve");
    let refused = Command::new(BIN)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--hide-tools",
            "sleep,nope",
        ])
        .env_remove("RUST_LOG")
        .output()
        .expect("mcpfleet runs");
    assert!(!refused.status.success());
    let said = text(&refused.stderr);
    assert!(said.contains("--hide-tools: no tool nope"), "{said}");

    // Sent to every replica unchecked by the client: only the canary's schema refuses it.
    let config = config(&dir);
    let long = format!("message={}", "x".repeat(2001));
    let output = mcpfleet(
        &dir,
        &config,
        &[
            "call",
            "drifty",
            "echo",
            &long,
            "--all-tasks",
            "--no-check",
            "--json",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let fanned: Value = serde_json::from_slice(&output.stdout).unwrap();
    let groups = fanned["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{fanned:#}");
    assert_eq!(groups[0]["outcome"], "ok");
    assert_eq!(groups[0]["tasks"].as_array().unwrap().len(), 2);
    assert_eq!(groups[1]["outcome"], "tool_error", "{fanned:#}");
    assert!(
        fanned.to_string().contains("longer than 2000"),
        "{fanned:#}"
    );
}

mod tmux;

#[test]
fn the_services_screen_flags_the_service_and_d_shows_what_differs() {
    let dir = scratch("console");
    let config = config(&dir);
    let config = config.to_string_lossy().into_owned();
    let soon = Duration::from_secs(45);
    let console = tmux::Console::start("drift", 140, 40, &[("MCPFLEET_CONFIG", &config)]);
    let screen = console.wait_until("drifty flagged, steady not", soon, |screen| {
        let row = |name: &str| {
            screen
                .lines()
                .find(|l| l.starts_with(name))
                .map(str::to_string)
        };
        row("drifty").is_some_and(|r| r.contains("3/3 ready") && r.trim_end().ends_with("DRIFT"))
            && row("steady").is_some_and(|r| r.contains("2/2 ready"))
    });
    let steady = screen.lines().find(|l| l.starts_with("steady")).unwrap();
    assert!(!steady.contains("DRIFT"), "{screen}");
    console.command("drift drifty");
    let screen = console.wait_until("the diff", soon, |screen| {
        screen.contains("tool removed: sleep") && screen.contains("maxLength")
    });
    assert!(
        screen.contains("drifty: DRIFT with no rollout in progress"),
        "{screen}"
    );
    assert!(
        screen.contains("echo: inputSchema /properties/message/maxLength (absent) → 2000"),
        "{screen}"
    );
    console.back(soon);
    console.send_keys(&["/"]);
    console.type_text("drifty");
    console.send_keys(&["Enter", "D"]);
    console.wait_until("D opens the diff of the selected service", soon, |screen| {
        screen.contains("drift(drifty)") && screen.contains("tool removed: sleep")
    });

    // A deploy replaces the canary with tasks of the revision as it is: the drift is gone.
    console.back(soon);
    console.send_keys(&["d"]);
    console.wait_for("revision 2 replaces", soon);
    console.send_keys(&["y"]);
    console.wait_until(
        "drifty rolled out and uniform",
        Duration::from_secs(90),
        |screen| {
            screen
                .lines()
                .find(|l| l.starts_with("drifty"))
                .is_some_and(|row| {
                    row.contains("3/3 ready")
                        && row.contains("COMPLETED")
                        && !row.to_lowercase().contains("drift ")
                        && !row.trim_end().to_lowercase().ends_with("drift")
                })
        },
    );
    console.command("drift drifty");
    console.wait_for("drifty: uniform, 3 tasks present one surface", soon);
}
