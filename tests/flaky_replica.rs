//! Finding the flaky replica on the local fleet: one replica of three with injected faults,
//! fan-out grouping it apart from the others with what differs, and under load the tasks view
//! marking it as the outlier.

use std::{path::PathBuf, process::Command};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

/// A private folder per test: config, runtime dir (no shared console fleet) and state.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpfleet-flaky-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A local fleet of one service, `flaky`, of three built-in replicas, the first with `faults`.
fn config(dir: &std::path::Path, faults: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[local]\nbuiltin_replicas = 0\n\n[[local.services]]\nname = \"flaky\"\n\
             replicas = 3\nfaults = \"{faults}\"\nfaulty_replicas = 1\n"
        ),
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
fn fan_out_groups_the_odd_replica_apart_and_says_what_differs() {
    let dir = scratch("fan-out");
    let config = config(&dir, "echo:error=1");
    let output = mcpfleet(
        &dir,
        &config,
        &[
            "call",
            "flaky",
            "echo",
            "message=hello",
            "--all-tasks",
            "--json",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "a tool error: {}",
        text(&output.stderr)
    );
    let fanned: Value = serde_json::from_slice(&output.stdout).unwrap();
    let groups = fanned["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{fanned:#}");
    assert_eq!(groups[0]["label"], "A");
    assert_eq!(groups[0]["outcome"], "ok");
    assert_eq!(groups[0]["tasks"].as_array().unwrap().len(), 2);
    assert_eq!(groups[1]["outcome"], "tool_error");
    let odd = groups[1]["tasks"][0].as_str().unwrap();
    assert_eq!(groups[1]["differences"][0]["kind"], "outcome", "{fanned:#}");
    let replicas = fanned["replicas"].as_array().unwrap();
    assert_eq!(replicas.len(), 3);
    for replica in replicas {
        let task = replica["task_id"].as_str().unwrap();
        assert_eq!(replica["served_by"]["task_id"], task);
        let group = if task == odd { "B" } else { "A" };
        assert_eq!(replica["group"], group, "{replica:#}");
        assert_eq!(replica["result_hash"].as_str().unwrap().len(), 12);
    }

    let printed = mcpfleet(
        &dir,
        &config,
        &["call", "flaky", "echo", "message=hello", "--all-tasks"],
    );
    let printed = text(&printed.stdout);
    assert!(
        printed.contains("2 different answers from 3 replicas"),
        "{printed}"
    );
    assert!(
        printed.contains("group B differs from group A:\n  outcome: hello → tool error:"),
        "{printed}"
    );
    assert!(
        printed.contains("TASK      REV  ZONE  LATENCY"),
        "{printed}"
    );
}

mod tmux;

#[test]
fn in_the_console_ctrl_a_fans_the_call_out_and_sets_the_odd_replica_apart() {
    let dir = scratch("console-fan-out");
    let config = config(&dir, "echo:error=1");
    let config = config.to_string_lossy().into_owned();
    let soon = std::time::Duration::from_secs(30);
    let console = tmux::Console::start("fan-out", 150, 45, &[("MCPFLEET_CONFIG", &config)]);
    console.wait_for("flaky", soon);
    console.open_call_form("flaky", "echo", soon);
    console.send_keys(&["Enter"]);
    console.type_text("hello");
    console.send_keys(&["C-a"]);
    let screen = console.wait_until("the compared answers", soon, |screen| {
        screen.contains("group B differs from group A:") && screen.contains("── group B · ")
    });
    assert!(
        screen.contains("3 replicas · 2 different answers"),
        "{screen}"
    );
    assert!(screen.contains("outcome: hello → tool error:"), "{screen}");
    let odd: Vec<&str> = screen
        .lines()
        .filter(|l| l.trim_end().ends_with("  B"))
        .collect();
    assert_eq!(odd.len(), 1, "one replica in group B:\n{screen}");
    assert!(odd[0].contains("tool error"), "{screen}");
}

/// `mcpfleet` attached to the console's fleet (its runtime dir), with its own state dir.
fn attached(
    console: &tmux::Console,
    state: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("MCPFLEET_CONFIG", "/dev/null")
        .env("XDG_RUNTIME_DIR", console.runtime_dir())
        .env("XDG_STATE_HOME", state)
        .env_remove("RUST_LOG")
        .output()
        .expect("mcpfleet runs")
}

#[test]
fn repro_names_the_flaky_replica_keeps_an_incident_and_replay_shows_what_changed() {
    let dir = scratch("repro");
    let config = config(&dir, "echo:error=0.2");
    let config = config.to_string_lossy().into_owned();
    let soon = std::time::Duration::from_secs(30);
    let console = tmux::Console::start("repro", 120, 30, &[("MCPFLEET_CONFIG", &config)]);
    console.wait_until("three flaky replicas running", soon, |screen| {
        screen.contains("flaky") && screen.contains("3/3")
    });
    let state = dir.join("state");

    let output = attached(
        &console,
        &state,
        &[
            "repro",
            "flaky",
            "echo",
            "message=hi",
            "-n",
            "500",
            "-c",
            "8",
            "--spread",
            "--json",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "failures found: {}",
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["done"], 500);
    let replicas = report["replicas"].as_array().unwrap();
    assert_eq!(replicas.len(), 3, "{report:#}");
    let suspect = report["suspect"].as_str().expect("a replica stands out");
    for replica in replicas {
        let rate = replica["failure_rate"].as_f64().unwrap();
        if replica["task_id"] == suspect {
            assert!(
                (rate - 0.2).abs() <= 0.05,
                "the flaky replica's rate {rate}: {report:#}"
            );
            assert_eq!(
                replica["failures_by_kind"]["tool_error"],
                replica["failures"]
            );
            assert!(replica["p99_ms"].as_f64().unwrap() >= replica["p50_ms"].as_f64().unwrap());
        } else {
            assert_eq!(rate, 0.0, "{report:#}");
        }
    }
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "one kind of failure: {report:#}");
    assert_eq!(incidents[0]["kind"], "tool_error");
    assert_eq!(incidents[0]["task_id"], suspect);
    let path = incidents[0]["path"].as_str().unwrap();
    let incident: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(incident["served_by"]["task_id"], suspect);
    assert_eq!(incident["result"]["isError"], true);
    assert!(
        incident["exchange"]["rounds"][0]["http"][0]["status"] == 200,
        "{incident:#}"
    );
    let logs = incident["logs"].as_array().unwrap();
    assert!(!logs.is_empty(), "the task's log lines around it");
    assert!(
        logs.iter().all(|line| line["task_id"] == suspect),
        "{:?}",
        logs[0]
    );
    assert!(
        logs.iter().any(|line| line["fields"]["tool"] == "echo"),
        "the task's own line about an echo call: {:?}",
        logs[0]
    );

    // Sent again to a healthy replica: it works, and the replay says what changed.
    let healthy = replicas
        .iter()
        .map(|r| r["task_id"].as_str().unwrap())
        .find(|id| *id != suspect)
        .unwrap();
    let replayed = attached(&console, &state, &["replay", path, "--task", healthy]);
    let printed = text(&replayed.stdout);
    assert_eq!(
        replayed.status.code(),
        Some(0),
        "{printed}{}",
        text(&replayed.stderr)
    );
    assert!(printed.starts_with("hi\n"), "{printed}");
    assert!(
        printed.contains("the failure did not happen again"),
        "{printed}"
    );
    assert!(printed.contains("  outcome: tool error → ok"), "{printed}");
    assert!(
        printed.contains(&format!("  served by: task {} ", &suspect[..8]))
            && printed.contains(&format!(" → task {} ", &healthy[..8])),
        "{printed}"
    );
}

#[test]
fn in_the_console_ctrl_e_runs_the_reproducer_live_and_saves_an_incident() {
    let dir = scratch("console-repro");
    let config = config(&dir, "echo:error=0.3");
    let config = config.to_string_lossy().into_owned();
    let soon = std::time::Duration::from_secs(30);
    let console = tmux::Console::start("repro-screen", 150, 40, &[("MCPFLEET_CONFIG", &config)]);
    console.wait_for("flaky", soon);
    console.open_call_form("flaky", "echo", soon);
    console.send_keys(&["Enter"]);
    console.type_text("hello");
    console.send_keys(&["C-e"]);
    let screen = console.wait_until("the run's end", soon, |screen| {
        screen.contains("200/200 calls") && screen.contains("incident saved: ")
    });
    assert!(screen.contains("repro(echo)"), "{screen}");
    assert!(screen.contains(" stands out: it fails "), "{screen}");
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("tool_error="))
        .collect();
    assert_eq!(rows.len(), 1, "only the faulty replica fails:\n{screen}");
    let incidents = console.state_dir().join("mcpfleet/incidents");
    let saved: Vec<_> = std::fs::read_dir(&incidents).unwrap().collect();
    assert_eq!(saved.len(), 1, "{incidents:?}");

    // The incidents screen lists it; r sends its call again and says what changed.
    console.command("incidents");
    let screen = console.wait_until("the incident listed", soon, |screen| {
        screen.contains("tool error") && screen.contains("the task's log lines around it")
    });
    assert!(screen.contains("echo on flaky"), "{screen}");
    console.send_keys(&["r"]);
    let screen = console.wait_until("the replay's changes", soon, |screen| {
        screen.contains("sent again: the failure") && screen.contains("  latency: ")
    });
    assert!(screen.contains("served by task"), "{screen}");

    // ctrl-g: the failed call's own log lines, on the task that served it.
    let incident: Value =
        serde_json::from_slice(&std::fs::read(saved[0].as_ref().unwrap().path()).unwrap()).unwrap();
    let trace = incident["exchange"]["trace_id"]
        .as_str()
        .expect("the call's trace");
    let task = incident["served_by"]["task_id"].as_str().unwrap();
    console.send_keys(&["C-g"]);
    let title = format!("logs(flaky/{}) trace {}…", &task[..8], &trace[..8]);
    console.wait_until("the failed call's log line", soon, |screen| {
        screen.contains(&title)
            && screen.contains("(1 match)")
            && screen
                .lines()
                .any(|l| l.contains("tool call tool=echo outcome=tool_error"))
    });
}

/// The MCP URLs of the service's ready tasks, read with `ls --json` from the console's fleet.
fn ready_urls(
    runtime_dir: &std::path::Path,
    config: &str,
    soon: std::time::Duration,
) -> Vec<String> {
    let deadline = std::time::Instant::now() + soon;
    loop {
        let output = Command::new(BIN)
            .args(["ls", "--json"])
            .env("MCPFLEET_CONFIG", config)
            .env("XDG_RUNTIME_DIR", runtime_dir)
            .env_remove("RUST_LOG")
            .output()
            .expect("mcpfleet runs");
        let fleet: Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        let tasks = fleet["services"][0]["tasks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let urls: Vec<String> = tasks
            .iter()
            .filter(|t| t["health"] == "HEALTHY" && t["stopped_at"].is_null())
            .filter_map(|t| t["endpoint"]["url"].as_str().map(str::to_string))
            .collect();
        if urls.len() == 3 {
            return urls;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "three ready tasks: {fleet:#}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// Sends `echo` calls to the replicas in turn, about `per_second` in all, until dropped.
fn load(urls: Vec<String>, per_second: u64) -> tokio::runtime::Runtime {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.spawn(async move {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut sessions = Vec::new();
        for url in &urls {
            sessions.push(open_session(&http, url).await);
        }
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(1000 / per_second));
        for turn in 0.. {
            tick.tick().await;
            let (url, session) = &sessions[turn % sessions.len()];
            let call = serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "echo", "arguments": {"message": "load"}}});
            let request = post(&http, url, Some(session), call);
            tokio::spawn(async move {
                if let Ok(response) = request.send().await {
                    let _ = response.bytes().await;
                }
            });
        }
    });
    runtime
}

fn post(
    http: &reqwest::Client,
    url: &str,
    session: Option<&String>,
    body: Value,
) -> reqwest::RequestBuilder {
    let request = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&body);
    match session {
        Some(id) => request.header("mcp-session-id", id),
        None => request,
    }
}

async fn open_session(http: &reqwest::Client, url: &str) -> (String, String) {
    let init = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "flaky-replica-load", "version": "0"}}});
    let response = post(http, url, None, init).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "initialize: {}",
        response.status()
    );
    let id = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    let _ = response.bytes().await;
    let initialized = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let _ = post(http, url, Some(&id), initialized).send().await;
    (url.to_string(), id)
}

/// The text of the `header` column in `row`, by where the header starts on screen.
fn cell(screen: &str, header: &str, row: &str) -> String {
    let header_line = screen
        .lines()
        .find(|l| l.starts_with("TASK "))
        .unwrap_or_default();
    let Some(at) = header_line.find(header) else {
        return String::new();
    };
    // Characters, not bytes: the TREND column's sparkline is multi-byte.
    let start = header_line[..at].chars().count();
    let rest: String = row.chars().skip(start).collect();
    rest.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn under_load_the_tasks_view_marks_the_replica_that_fails_a_fifth_of_its_calls() {
    let dir = scratch("outlier");
    let config = config(&dir, "echo:error=0.2");
    let config = config.to_string_lossy().into_owned();
    let soon = std::time::Duration::from_secs(30);
    let console = tmux::Console::start("outlier", 200, 30, &[("MCPFLEET_CONFIG", &config)]);
    console.wait_for("flaky", soon);
    let urls = ready_urls(&console.runtime_dir(), &config, soon);
    console.command("tasks flaky");
    console.wait_for("OUTLIER", soon);

    let started = std::time::Instant::now();
    let _load = load(urls, 30);
    let marked = |screen: &str| {
        let rows: Vec<&str> = screen.lines().filter(|l| l.contains("! errors")).collect();
        let [row] = rows[..] else { return None };
        let rate: f64 = cell(screen, "ERR%", row).parse().ok()?;
        let from = cell(screen, "FROM", row);
        (from == "metrics" && (rate - 20.0).abs() <= 5.0).then(|| (row.to_string(), rate))
    };
    let screen = console.wait_until("one task marked at about 20 % errors", soon, |screen| {
        marked(screen).is_some()
    });
    let (row, rate) = marked(&screen).unwrap();
    eprintln!(
        "marked after {:?} at {rate} % errors: {row}",
        started.elapsed()
    );
    let others: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains(" RUNNING ") && !l.contains("! errors"))
        .collect();
    assert_eq!(others.len(), 2, "{screen}");
    for other in others {
        let rate: f64 = cell(&screen, "ERR%", other).parse().unwrap();
        assert!(rate == 0.0, "the healthy replicas fail nothing: {screen}");
    }

    console.command("svc");
    let services = console.wait_until("the service's outlier", soon, |screen| {
        screen
            .lines()
            .any(|l| l.starts_with("flaky") && l.contains("! 1 task"))
    });
    let marked_id = row.split_whitespace().next().unwrap().to_string();
    let output = Command::new(BIN)
        .args(["ls", "--json"])
        .env("MCPFLEET_CONFIG", &config)
        .env("XDG_RUNTIME_DIR", console.runtime_dir())
        .output()
        .unwrap();
    let fleet: Value = serde_json::from_slice(&output.stdout).unwrap();
    let tasks = fleet["services"][0]["tasks"].as_array().unwrap();
    let outliers: Vec<&Value> = tasks.iter().filter(|t| t["outlier"] == "errors").collect();
    assert_eq!(outliers.len(), 1, "{fleet:#}\n{services}");
    let outlier = outliers[0];
    assert!(outlier["id"].as_str().unwrap().starts_with(&marked_id));
    let recent = &outlier["metrics"]["recent"];
    assert_eq!(recent["from"], "metrics", "{recent:#}");
    let json_rate = recent["error_rate"].as_f64().unwrap();
    assert!((json_rate - 20.0).abs() <= 5.0, "{recent:#}");
    assert!(recent["p99_ms"].as_f64().is_some(), "{recent:#}");
}
