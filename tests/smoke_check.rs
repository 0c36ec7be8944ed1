//! `mcpfleet check` as a post-deploy gate on the local fleet: three replicas, one with injected
//! faults, named by the table, the JSON and the JUnit report alike; a file every replica passes
//! exits 0; a bad file or a tool the service does not list is a clear error before any call.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

/// A private folder per test: config, runtime dir (no shared console fleet), state, files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpfleet-check-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A local fleet of one service, `flaky`, of three replicas, the first failing every `echo`.
fn config(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[local]\nbuiltin_replicas = 0\n\n[[local.services]]\nname = \"flaky\"\nreplicas = 3\n\
         faults = \"echo:error=1\"\nfaulty_replicas = 1\n",
    )
    .unwrap();
    path
}

fn check_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn mcpfleet(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("MCPFLEET_CONFIG", config(dir))
        .env("XDG_RUNTIME_DIR", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env_remove("RUST_LOG")
        .output()
        .expect("mcpfleet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const SMOKE: &str = r#"
[[check]]
name = "echo round-trips"
tool = "echo"
args = { message = "smoke" }
latency_ms = 10000
[[check.expect]]
pointer = "/content/0/text"
equals = "smoke"

[[check]]
name = "whoami answers"
tool = "whoami"
[[check.expect]]
pointer = "/structuredContent/version"
matches = '^\d+\.\d+'
"#;

/// The testcases of a JUnit report that hold a `<failure>`: (suite, testcase, message).
fn junit_failures(xml: &str) -> (roxmltree::Document<'_>, Vec<(String, String, String)>) {
    let doc = roxmltree::Document::parse(xml).expect("the JUnit report parses");
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .map(|failure| {
            let case = failure.parent().unwrap();
            let suite = case.parent().unwrap();
            (
                suite.attribute("name").unwrap().to_string(),
                case.attribute("name").unwrap().to_string(),
                failure.attribute("message").unwrap().to_string(),
            )
        })
        .collect();
    (doc, failures)
}

#[test]
fn check_fails_naming_the_faulty_replica_in_the_table_the_json_and_the_junit_report() {
    let dir = scratch("one-of-three");
    let file = check_file(&dir, "smoke.toml", SMOKE);
    let file = file.to_str().unwrap();

    let junit = dir.join("report.xml");
    let output = mcpfleet(
        &dir,
        &["check", file, "flaky", "--junit", junit.to_str().unwrap()],
    );
    let printed = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(11),
        "{printed}{}",
        text(&output.stderr)
    );
    let rows: Vec<&str> = printed.lines().filter(|l| l.contains(" FAIL ")).collect();
    let [failed_row] = rows[..] else {
        panic!("one failing row:\n{printed}")
    };
    assert!(failed_row.starts_with("echo round-trips  "), "{printed}");
    assert!(
        failed_row.contains("outcome: expected ok, got tool error (tool error: injected fault"),
        "{printed}"
    );
    assert_eq!(printed.matches(" pass ").count(), 5, "{printed}");
    assert!(
        printed.contains("5 of 6 passed on 3 replicas; 1 failed\n"),
        "{printed}"
    );
    let named = printed
        .lines()
        .find_map(|l| l.strip_prefix("failed on task "))
        .expect("the failing replica named");
    let (task, rest) = named.split_once(' ').unwrap();
    assert_eq!(task.len(), 32, "the whole task id: {printed}");
    assert_eq!(rest, "(rev 1): echo round-trips", "{printed}");
    assert!(
        failed_row.contains(&format!("  {}  ", &task[..8])),
        "{printed}"
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    let (doc, failures) = junit_failures(&xml);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(
        (root.attribute("tests"), root.attribute("failures")),
        (Some("6"), Some("1")),
        "{xml}"
    );
    let suites: Vec<&str> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(suites, ["echo round-trips", "whoami answers"]);
    let [(suite, case, message)] = &failures[..] else {
        panic!("one failing testcase: {xml}")
    };
    assert_eq!(suite, "echo round-trips");
    assert_eq!(case, &format!("task {task} (rev 1)"));
    assert!(
        message.starts_with("outcome: expected ok, got tool error"),
        "{message}"
    );

    // --json in another run (another fleet): the same verdicts, as the JUnit report beside it.
    let junit = dir.join("report-json.xml");
    let output = mcpfleet(
        &dir,
        &[
            "check",
            file,
            "flaky",
            "--json",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(11), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (
            &report["passed"],
            &report["failed"],
            &report["replicas"],
            &report["checks"]
        ),
        (
            &Value::from(5),
            &Value::from(1),
            &Value::from(3),
            &Value::from(2)
        ),
        "{report:#}"
    );
    assert_eq!(report["service"], "flaky");
    let verdicts = report["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 6);
    for verdict in verdicts {
        assert_eq!(
            verdict["served_by"]["task_id"], verdict["task_id"],
            "{verdict:#}"
        );
    }
    let failed: Vec<&Value> = verdicts.iter().filter(|v| v["passed"] == false).collect();
    let [failed] = failed[..] else {
        panic!("one failed verdict: {report:#}")
    };
    assert_eq!(failed["check"], "echo round-trips");
    assert_eq!(failed["outcome"], "tool_error");
    assert_eq!(failed["failures"][0]["kind"], "outcome");
    assert_eq!(failed["failures"][0]["expected"], "ok");
    assert_eq!(failed["failures"][0]["got"], "tool_error");
    let task = failed["task_id"].as_str().unwrap();
    let whoami_on_it = verdicts
        .iter()
        .find(|v| v["check"] == "whoami answers" && v["task_id"] == task)
        .unwrap();
    assert_eq!(whoami_on_it["passed"], true, "only echo is faulty");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let (_, failures) = junit_failures(&xml);
    assert_eq!(
        failures
            .iter()
            .map(|(suite, case, _)| (suite.as_str(), case.as_str()))
            .collect::<Vec<_>>(),
        [("echo round-trips", format!("task {task} (rev 1)").as_str())]
    );
}

#[test]
fn a_file_every_replica_passes_exits_0_with_outcomes_and_latency_held_to_it() {
    let dir = scratch("all-pass");
    let file = check_file(
        &dir,
        "pass.toml",
        r#"
[[check]]
name = "a tool error is a tool error"
tool = "fail"
args = { kind = "tool_error", message = "on purpose" }
outcome = "tool_error"
[[check.expect]]
pointer = "/isError"
equals = true

[[check]]
name = "a protocol error is an error"
tool = "fail"
args = { kind = "protocol_error", message = "on purpose" }
outcome = "error"
[[check.expect]]
pointer = "/error"
matches = "on purpose"

[[check]]
name = "whoami within budget"
tool = "whoami"
latency_ms = 10000
"#,
    );
    let output = mcpfleet(
        &dir,
        &["check", file.to_str().unwrap(), "flaky", "--junit", "-"],
    );
    let xml = text(&output.stdout);
    let table = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{xml}{table}");
    assert!(table.contains("9 of 9 passed on 3 replicas\n"), "{table}");
    let (doc, failures) = junit_failures(&xml);
    assert!(failures.is_empty(), "{xml}");
    assert_eq!(doc.root_element().attribute("tests"), Some("9"), "{xml}");

    // The same replicas held to a budget no call can keep: every one fails it, by latency.
    let slow = check_file(
        &dir,
        "slow.toml",
        "[[check]]\nname = \"slow\"\ntool = \"sleep\"\nargs = { duration_ms = 200 }\nlatency_ms = 50\n",
    );
    let output = mcpfleet(&dir, &["check", slow.to_str().unwrap(), "flaky", "--json"]);
    assert_eq!(output.status.code(), Some(11), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["failed"], 3, "{report:#}");
    for verdict in report["verdicts"].as_array().unwrap() {
        let failure = &verdict["failures"][0];
        assert_eq!(failure["kind"], "latency", "{verdict:#}");
        assert_eq!(failure["budget_ms"], 50);
        assert!(failure["took_ms"].as_f64().unwrap() >= 200.0, "{verdict:#}");
    }
}

#[test]
fn a_bad_key_or_a_tool_the_service_does_not_list_is_a_clear_error() {
    let dir = scratch("bad-file");
    let bad_key = check_file(
        &dir,
        "bad-key.toml",
        "[[check]]\nname = \"a\"\ntool = \"echo\"\nlatency = 5\n",
    );
    let output = mcpfleet(&dir, &["check", bad_key.to_str().unwrap(), "flaky"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad-key.toml: TOML parse error at line 4")
            && stderr.contains("unknown field `latency`"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    assert!(
        !stderr.contains("starting a local fleet"),
        "a bad file stops before the fleet: {stderr}"
    );

    let unlisted = check_file(
        &dir,
        "unlisted.toml",
        "[[check]]\nname = \"fine\"\ntool = \"whoami\"\n\n[[check]]\nname = \"typo\"\ntool = \"ecko\"\n",
    );
    let junit = dir.join("never.xml");
    let output = mcpfleet(
        &dir,
        &[
            "check",
            unlisted.to_str().unwrap(),
            "flaky",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains(
            "unlisted.toml: line 5: check \"typo\": the service lists no tool \"ecko\" (it lists: "
        ) && stderr.contains("echo"),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "nothing ran: {}",
        text(&output.stdout)
    );
    assert!(!junit.exists(), "no report for checks that never ran");
}

mod tmux;

#[test]
fn in_the_console_check_shows_each_replicas_verdict_and_names_the_faulty_one() {
    let dir = scratch("console");
    let config = config(&dir).to_string_lossy().into_owned();
    let smoke = check_file(&dir, "smoke.toml", SMOKE);
    let bad = check_file(
        &dir,
        "bad.toml",
        "[[check]]\nname = \"a\"\ntool = \"echo\"\nlatency = 5\n",
    );
    let soon = std::time::Duration::from_secs(30);
    let console = tmux::Console::start("check", 200, 30, &[("MCPFLEET_CONFIG", &config)]);
    console.wait_until("three flaky replicas running", soon, |screen| {
        screen.contains("flaky") && screen.contains("3/3")
    });
    // The tool list first: a check is cleared against it.
    console.command("tools flaky");
    console.wait_until("the probed tool list", soon, |screen| {
        screen.lines().any(|l| l.starts_with("whoami "))
    });

    console.command(&format!("check {}", bad.display()));
    console.wait_until("the bad key named with its line", soon, |screen| {
        screen.contains("bad.toml: TOML parse error at line 4, column 1: unknown field `latency`")
    });

    console.command(&format!("check {}", smoke.display()));
    let screen = console.wait_until("every check answered", soon, |screen| {
        screen.contains("2/2 checks on every ready replica of flaky · done")
            && screen.contains("5 of 6 passed on 3 replicas; 1 failed")
            && screen.contains("failed on task ")
    });
    let failed: Vec<&str> = screen.lines().filter(|l| l.contains(" FAIL ")).collect();
    let [failed] = failed[..] else {
        panic!("one failing row:\n{screen}")
    };
    assert!(failed.starts_with("echo round-trips  "), "{screen}");
    assert!(
        failed.contains("outcome: expected ok, got tool error (tool error: injected fault"),
        "{screen}"
    );
    assert_eq!(screen.matches(" pass ").count(), 5, "{screen}");
    let named = screen
        .lines()
        .find_map(|l| l.trim().strip_prefix("failed on task "))
        .unwrap();
    assert!(named.ends_with(" (rev 1): echo round-trips"), "{screen}");
    assert!(failed.contains(&format!("  {}  ", &named[..8])), "{screen}");
}
