//! The history file through the real binary: calls made with `mcpfleet call` on the local fleet
//! are kept, and `mcpfleet history` finds them by what they asked (`--grep`), by service, the
//! newest first, as a table or as JSON with each call's wire record.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

/// A folder of the test's own: the config, XDG_STATE_HOME (where the history is kept) and
/// XDG_RUNTIME_DIR (no console shares a fleet there, so each command starts its own).
struct Home(PathBuf);

impl Home {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mcpfleet-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["state", "run"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(dir.join("empty.toml"), "").unwrap();
        Self(dir)
    }

    fn mcpfleet(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("MCPFLEET_CONFIG", self.0.join("empty.toml"))
            .env("XDG_STATE_HOME", self.0.join("state"))
            .env("XDG_RUNTIME_DIR", self.0.join("run"))
            .env_remove("RUST_LOG")
            .output()
            .expect("mcpfleet runs")
    }

    fn history_file(&self) -> PathBuf {
        self.0.join("state").join("mcpfleet").join("history.jsonl")
    }

    /// `mcpfleet history ARGS --json`, which must succeed.
    fn history(&self, args: &[&str]) -> Vec<Value> {
        let args = [&["history"], args, &["--json"]].concat();
        let output = self.mcpfleet(&args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn call(home: &Home, args: &[&str]) -> Value {
    let output = home.mcpfleet(&[&["call", "mcpfleet-server"], args, &["--json"]].concat());
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{args:?}: {}", text(&output.stderr)))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn calls_made_with_call_are_found_by_history() {
    let home = Home::new("history-cli");
    let marker = format!("kept-{}", std::process::id());
    let echo = call(&home, &["echo", &format!("message={marker}")]);
    assert_eq!(echo["outcome"], "ok", "{echo}");
    let failed = call(&home, &["fail", "kind=tool_error", "message=nope"]);
    assert_eq!(failed["outcome"], "tool_error", "{failed}");
    let fanned = home.mcpfleet(&["call", "mcpfleet-server", "whoami", "--all-tasks"]);
    assert!(fanned.status.success(), "{}", text(&fanned.stderr));
    assert_eq!(mode(&home.history_file()), 0o600, "it holds the arguments");

    // By an argument's value: the echo alone, with what it asked, how it ended and its wire
    // record.
    let found = home.history(&["--grep", &marker]);
    assert_eq!(found.len(), 1, "{found:?}");
    let kept = &found[0];
    assert_eq!(kept["service"], "mcpfleet-server");
    assert_eq!(kept["tool"], "echo");
    assert_eq!(kept["arguments"]["message"], marker.as_str());
    assert_eq!(kept["outcome"], "ok");
    assert_eq!(kept["summary"], marker.as_str());
    assert_eq!(kept["target"], "any_ready");
    assert_eq!(kept["served_by"], echo["served_by"]);
    assert_eq!(
        kept["exchange"]["rounds"], echo["wire"],
        "the same wire record"
    );
    let sent = kept["exchange"]["rounds"][0]["http"][0]["request_body"]["text"]
        .as_str()
        .unwrap();
    assert!(
        sent.contains("tools/call") && sent.contains(&marker),
        "{sent}"
    );

    // By the task that served it.
    let task = echo["served_by"]["task_id"].as_str().unwrap();
    let by_task = home.history(&["--grep", task]);
    assert!(
        by_task.iter().any(|c| c["tool"] == "echo"),
        "{task}: {by_task:?}"
    );
    assert!(by_task.iter().all(|c| c["served_by"]["task_id"] == task));

    // By its trace id, which the server logged: that call alone.
    let trace_id = echo["trace_id"].as_str().unwrap();
    let by_trace = home.history(&["--grep", trace_id]);
    assert_eq!(by_trace.len(), 1, "{trace_id}: {by_trace:?}");
    assert_eq!(by_trace[0]["exchange"]["trace_id"], trace_id);

    // Newest first: the fan-out's three calls, each on its task, then the failure, the echo.
    let all = home.history(&["--service", "mcpfleet-server"]);
    let tools: Vec<&str> = all.iter().map(|c| c["tool"].as_str().unwrap()).collect();
    assert_eq!(tools, ["whoami", "whoami", "whoami", "fail", "echo"]);
    for fanned in &all[..3] {
        assert_eq!(fanned["target"]["task"], fanned["served_by"]["task_id"]);
    }
    // A fan-out is one call per task, each with a trace of its own.
    let mut traces: Vec<&str> = all[..3]
        .iter()
        .map(|c| c["exchange"]["trace_id"].as_str().unwrap())
        .collect();
    traces.sort();
    traces.dedup();
    assert_eq!(traces.len(), 3, "{traces:?}");
    assert_eq!(all[3]["summary"], "tool error: nope");
    assert_eq!(home.history(&["--limit", "2"]).len(), 2);
    assert!(home.history(&["--service", "other"]).is_empty());
    let mut ids: Vec<u64> = all.iter().map(|c| c["id"].as_u64().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5, "one id per call, across processes");

    // The table: aligned, newest first, the arguments as JSON.
    let table = home.mcpfleet(&["history", "--grep", "echo|fail"]);
    assert!(table.status.success(), "{}", text(&table.stderr));
    let table = text(&table.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("TIME "), "{table}");
    assert!(lines[0].contains("ARGUMENTS") && lines[0].ends_with("SUMMARY"));
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[1].contains(" fail ") && lines[1].contains("tool error"),
        "{table}"
    );
    assert!(
        lines[2].contains(&format!("{{\"message\":\"{marker}\"}}")),
        "{table}"
    );
    let column = lines[0].find("TOOL").unwrap();
    assert!(
        lines[1..]
            .iter()
            .all(|l| l[column..].starts_with(['e', 'f']))
    );

    let bad = home.mcpfleet(&["history", "--grep", "("]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));

    // A line a crash cut short is named on stderr; the calls around it still read.
    let mut kept = std::fs::read(home.history_file()).unwrap();
    kept.extend_from_slice(br#"{"id": 1, "time": "2026-"#);
    std::fs::write(home.history_file(), &kept).unwrap();
    let output = home.mcpfleet(&["history", "--json"]);
    assert!(output.status.success());
    assert!(
        text(&output.stderr).contains("history.jsonl line 6 skipped"),
        "{}",
        text(&output.stderr)
    );
    let calls: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(calls.len(), 5);
}

#[test]
fn no_history_yet_is_an_empty_list() {
    let home = Home::new("history-empty");
    assert!(home.history(&[]).is_empty());
    let table = home.mcpfleet(&["history"]);
    assert!(table.status.success());
    assert!(table.stdout.is_empty());
    assert!(text(&table.stderr).contains("no calls match"));
    assert!(!home.history_file().exists(), "reading makes no file");
}
