//! `mcpfleet check FILE SERVICE`: the smoke checks of a file on every ready replica — every
//! check cleared before anything is sent (the tool listed, its arguments fitting its schema,
//! its clearance), then a table of check × replica, or `--json`, and a JUnit XML report.

use std::{path::PathBuf, time::Duration};

use serde_json::{Value, json};

use crate::{
    inert::inert_line,
    mcp::{
        self, ToolInfo,
        smoke::{self, Check, CheckFile, Verdict, clear::Why},
    },
};

use super::{CliError, GlobalArgs, exit, probed, source, table};

pub struct CheckArgs {
    pub file: PathBuf,
    pub service: String,
    pub junit: Option<PathBuf>,
    pub force: bool,
    pub timeout: Option<f64>,
    pub json: bool,
}

impl CheckArgs {
    fn junit_to_stdout(&self) -> bool {
        self.junit.as_deref() == Some(std::path::Path::new("-"))
    }
}

pub async fn run(global: &GlobalArgs, args: CheckArgs) -> Result<u8, CliError> {
    if args.json && args.junit_to_stdout() {
        return Err(CliError::new(
            exit::USAGE,
            "--json and --junit - both want stdout: give --junit a file",
        ));
    }
    let shown = args.file.display();
    let text = std::fs::read_to_string(&args.file)
        .map_err(|error| CliError::new(exit::USAGE, format!("cannot read {shown}: {error}")))?;
    let file = CheckFile::parse(&text)
        .map_err(|error| CliError::new(exit::USAGE, format!("{shown}: {error}")))?;
    let probed = probed::probed(global, &args.service, None).await?;
    let (snapshot, service, worker, probe) = (
        &probed.snapshot,
        &probed.service,
        &probed.worker,
        &probed.probe,
    );
    clear(&file.checks, &probe.tools, global.read_only, args.force).map_err(|(code, lines)| {
        let message = match &lines[..] {
            [line] => format!("{shown}: {line}"),
            lines => format!(
                "{shown}: {} checks cannot run:\n  {}",
                lines.len(),
                lines.join("\n  ")
            ),
        };
        CliError::new(code, message)
    })?;
    let timeout = args
        .timeout
        .map_or(mcp::DEFAULT_TIMEOUT, Duration::from_secs_f64);
    let verdicts = smoke::run(worker, service, &file.checks, timeout)
        .await
        .map_err(|error| match error {
            mcp::McpError::SharedUrl { .. } => CliError::new(exit::USAGE, error.to_string()),
            other => source::mcp_error(snapshot, other),
        })?;
    // What the reports call the service: with --url, the URL.
    let label = global.url.as_deref().unwrap_or(&args.service);
    if args.json {
        let out = to_json(&shown.to_string(), label, &verdicts);
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON values serialise")
        );
    } else if args.junit_to_stdout() {
        // The XML is stdout's; the table goes beside it.
        eprint!("{}", render(&verdicts));
    } else {
        print!("{}", render(&verdicts));
    }
    if let Some(path) = &args.junit {
        let xml = junit(label, &file.checks, &verdicts);
        if args.junit_to_stdout() {
            print!("{xml}");
        } else {
            std::fs::write(path, xml).map_err(|error| {
                CliError::new(exit::USAGE, format!("--junit {}: {error}", path.display()))
            })?;
        }
    }
    Ok(if verdicts.iter().all(Verdict::passed) {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}

/// The file's refusals against the service's tools, one per line, with the exit code of the
/// first; a destructive tool wants --force.
fn clear(
    checks: &[Check],
    tools: &[ToolInfo],
    read_only: bool,
    force: bool,
) -> Result<(), (u8, Vec<String>)> {
    let refused = smoke::clear::refusals(checks, tools, read_only, force);
    let Some(first) = refused.first() else {
        return Ok(());
    };
    let code = |why| match why {
        Why::NotListed => exit::NOT_FOUND,
        Why::ReadOnly => exit::READ_ONLY,
        Why::NeedsConsent | Why::Arguments => exit::USAGE,
    };
    let lines = refused
        .iter()
        .map(|refusal| {
            let line = inert_line(&refusal.message).into_owned();
            match refusal.why {
                Why::NeedsConsent => format!("{line}; pass --force to send it anyway"),
                _ => line,
            }
        })
        .collect();
    Err((code(first.why), lines))
}

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}

fn reasons(verdict: &Verdict) -> Vec<String> {
    verdict
        .failures
        .iter()
        .map(|miss| inert_line(&miss.to_string()).into_owned())
        .collect()
}

pub fn render(verdicts: &[Verdict]) -> String {
    let rows: Vec<Vec<String>> = verdicts
        .iter()
        .map(|v| {
            let (task, revision) = v.replica();
            let why = reasons(v);
            vec![
                v.check.clone(),
                short(task).to_string(),
                revision.map_or("-".into(), |r| r.to_string()),
                if v.passed() { "pass" } else { "FAIL" }.to_string(),
                format!("{:.1} ms", v.latency_ms),
                if why.is_empty() {
                    "-".into()
                } else {
                    why.join("; ")
                },
            ]
        })
        .collect();
    let mut out = table::render(
        &["CHECK", "TASK", "REV", "VERDICT", "LATENCY", "WHY"],
        &rows,
    );
    out.push_str(&smoke::summary(verdicts));
    out.push('\n');
    for (replica, checks) in smoke::failing(verdicts) {
        out.push_str(&format!("failed on {replica}: {}\n", checks.join(", ")));
    }
    out
}

pub fn to_json(file: &str, service: &str, verdicts: &[Verdict]) -> Value {
    let failed = verdicts.iter().filter(|v| !v.passed()).count();
    let mut checks: Vec<&str> = verdicts.iter().map(|v| v.check.as_str()).collect();
    checks.dedup();
    let replicas = smoke::replicas(verdicts);
    let verdicts: Vec<Value> = verdicts
        .iter()
        .map(|v| {
            let mut value = serde_json::to_value(v).expect("a verdict serialises");
            value["passed"] = json!(v.passed());
            for (failure, miss) in value["failures"]
                .as_array_mut()
                .into_iter()
                .flatten()
                .zip(&v.failures)
            {
                failure["message"] = json!(inert_line(&miss.to_string()));
            }
            value
        })
        .collect();
    json!({
        "file": file,
        "service": service,
        "checks": checks.len(),
        "replicas": replicas,
        "passed": verdicts.len() - failed,
        "failed": failed,
        "verdicts": verdicts,
    })
}

/// The JUnit XML report: a testsuite per check, a testcase per replica, each failure's message
/// naming what fell short.
pub fn junit(service: &str, checks: &[Check], verdicts: &[Verdict]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("mcpfleet check");
    for check in checks {
        let mut suite = TestSuite::new(check.name.as_str());
        suite.add_property(("tool", check.tool.as_str()));
        for verdict in verdicts.iter().filter(|v| v.check == check.name) {
            let status = if verdict.passed() {
                TestCaseStatus::success()
            } else {
                let why = reasons(verdict);
                let kind = serde_json::to_value(&verdict.failures[0]).unwrap_or_default();
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(why.join("; "))
                    .set_type(kind["kind"].as_str().unwrap_or("failure"))
                    .set_description(why.join("\n"));
                status
            };
            let mut case = TestCase::new(smoke::replica_name(verdict), status);
            case.set_classname(format!("{service}.{}", check.name))
                .set_time(Duration::from_secs_f64(verdict.latency_ms / 1000.0));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("a JUnit report serialises")
}
