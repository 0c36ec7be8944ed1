//! `mcpfleet skills` against a skills server of the tests' own (SEP-2640): the list, a skill's
//! manifest, and `--verify` reading every file — passing on a server that serves the bytes its
//! manifest describes, failing with exit 9 and the file named on one that alters a file. A
//! server without the extension is told as such (exit 5).

mod scratch_server;
mod skills_server;

use std::{path::PathBuf, process::Output, time::Duration};

use scratch_server::ScratchServer;
use serde_json::Value;
use skills_server::{Honesty, SkillsServer};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const NOT_FOUND_EXIT: i32 = 5;
const INTEGRITY_EXIT: i32 = 9;
const ALTERED: &str = "skill://billing/scripts/report.py";

async fn mcpfleet(args: &[&str]) -> Output {
    // An empty config file keeps a developer's own configuration out of the test.
    let config = std::env::temp_dir().join(format!("mcpfleet-skills-{}.toml", std::process::id()));
    std::fs::write(&config, "").unwrap();
    let command = tokio::process::Command::new(BIN)
        .args(args)
        .env("MCPFLEET_CONFIG", &config)
        .env_remove("BROWSER")
        .env_remove("RUST_LOG")
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

/// Two skills: `billing` with a script and a binary file (served as a blob), `notes` alone.
fn skills_dir(tag: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("mcpfleet-skills-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let billing = root.join("billing");
    std::fs::create_dir_all(billing.join("scripts")).unwrap();
    std::fs::create_dir_all(billing.join("assets")).unwrap();
    std::fs::write(
        billing.join("SKILL.md"),
        "---\nname: billing\ndescription: Reconcile invoices\n---\nRun scripts/report.py.\n",
    )
    .unwrap();
    std::fs::write(billing.join("scripts/report.py"), "print('report')\n").unwrap();
    std::fs::write(billing.join("assets/logo.bin"), [0u8, 159, 146, 150, 255]).unwrap();
    let notes = root.join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(
        notes.join("SKILL.md"),
        "---\nname: notes\ndescription: Take notes\n---\n",
    )
    .unwrap();
    root
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skills_are_listed_and_a_manifest_shown() {
    let root = skills_dir("list");
    let server = SkillsServer::start(&root, Honesty::Honest).await;
    let url = server.url.as_str();

    let listed = mcpfleet(&["--url", url, "skills"]).await;
    let stdout = text(&listed.stdout);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("SKILL"), "{stdout}");
    assert!(lines[0].contains("FILES"), "{stdout}");
    assert!(
        lines[1].starts_with("billing")
            && lines[1].contains("Reconcile invoices")
            && lines[1].contains("skill://billing/SKILL.md")
            && lines[1].trim_end().ends_with('3'),
        "{stdout}"
    );
    assert!(lines[2].starts_with("notes") && lines[2].trim_end().ends_with('1'));

    let json = mcpfleet(&["--url", url, "skills", "--json"]).await;
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["skills"].as_array().unwrap().len(), 2, "{json}");
    assert_eq!(json["skills"][0]["frontmatter"]["name"], "billing");

    // By name or by URI, the manifest: every file with its size and digest.
    for which in ["billing", "skill://billing/SKILL.md"] {
        let shown = mcpfleet(&["--url", url, "skills", which]).await;
        let stdout = text(&shown.stdout);
        assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
        assert!(stdout.starts_with("skill:       billing\n"), "{stdout}");
        assert!(
            stdout.contains("description: Reconcile invoices"),
            "{stdout}"
        );
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(ALTERED) && l.contains(" 16 ") && l.contains("sha256:")),
            "{stdout}"
        );
    }

    let unknown = mcpfleet(&["--url", url, "skills", "payroll"]).await;
    assert_eq!(unknown.status.code(), Some(NOT_FOUND_EXIT));
    assert_eq!(
        text(&unknown.stderr).trim_end(),
        "mcpfleet: no skill `payroll` here; available: billing, notes"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_on_an_honest_server_and_names_the_altered_file() {
    let root = skills_dir("verify");
    let honest = SkillsServer::start(&root, Honesty::Honest).await;
    let verified = mcpfleet(&["--url", &honest.url, "skills", "billing", "--verify"]).await;
    let stdout = text(&verified.stdout);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stderr)
    );
    let checks: Vec<&str> = stdout.lines().filter(|l| l.starts_with("ok ")).collect();
    assert_eq!(
        checks,
        [
            "ok         skill://billing/SKILL.md",
            "ok         skill://billing/assets/logo.bin",
            "ok         skill://billing/scripts/report.py",
        ],
        "{stdout}"
    );

    let liar = SkillsServer::start(&root, Honesty::Lies(ALTERED.into())).await;
    let caught = mcpfleet(&["--url", &liar.url, "skills", "billing", "--verify"]).await;
    let stdout = text(&caught.stdout);
    let stderr = text(&caught.stderr);
    assert_eq!(caught.status.code(), Some(INTEGRITY_EXIT), "{stderr}");
    assert!(
        stdout.lines().any(
            |l| l.starts_with("MISMATCH   skill://billing/scripts/report.py")
                && l.contains("has digest sha256:")
        ),
        "{stdout}"
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("ok ")).count(), 2);
    assert_eq!(
        stderr.trim_end(),
        "mcpfleet: skill billing does not verify: 1 of the manifest's files failed: \
         skill://billing/scripts/report.py"
    );

    let json = mcpfleet(&[
        "--url", &liar.url, "skills", "billing", "--verify", "--json",
    ])
    .await;
    assert_eq!(json.status.code(), Some(INTEGRITY_EXIT));
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    let files = json["files"].as_array().unwrap();
    let statuses: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f["uri"].as_str().unwrap(), f["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("skill://billing/SKILL.md", "ok"),
            ("skill://billing/assets/logo.bin", "ok"),
            (ALTERED, "mismatch"),
        ],
        "{json}"
    );
    assert_eq!(json["skill"]["uri"], "skill://billing/SKILL.md");
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_the_extension_is_told_so() {
    let server = ScratchServer::start().await;
    let refused = mcpfleet(&["--url", &server.url, "skills"]).await;
    assert_eq!(refused.status.code(), Some(NOT_FOUND_EXIT));
    assert_eq!(
        text(&refused.stderr).trim_end(),
        format!(
            "mcpfleet: {} does not serve skills (no io.modelcontextprotocol/skills extension)",
            server.url
        )
    );
    assert!(refused.stdout.is_empty());
}
