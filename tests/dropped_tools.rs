//! A tool whose `x-mcp-header` annotations break the 2026-07-28 rules is dropped by the client
//! (it could not send the headers the server relies on), and the person is told which and why,
//! instead of the tool silently missing. The server is the official conformance suite's
//! http-invalid-tool-headers scenario; the command the suite runs is `mcpfleet tools`.

use std::{path::PathBuf, time::Duration};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

fn installed(var: &str, default: &str) -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".tools/npm/node_modules").join(default));
    assert!(
        path.is_file(),
        "{} is missing (${var}); tests/run.sh installs it",
        path.display()
    );
    path
}

#[test]
fn dropped_tools_are_named_with_why() {
    let node = installed("MCPFLEET_NODE", ".bin/node");
    let suite = installed(
        "MCPFLEET_CONFORMANCE",
        "@modelcontextprotocol/conformance/dist/index.js",
    );
    let dir = std::env::temp_dir().join(format!("mcpfleet-dropped-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("tools.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n# The suite appends the server URL.\nfor url; do :; done\n\
             MCPFLEET_CONFIG=/dev/null '{BIN}' --url \"$url\" tools >'{out}' 2>'{err}'\n",
            out = dir.join("out").display(),
            err = dir.join("err").display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(&script)
        .status()
        .unwrap();
    let mut run = std::process::Command::new(node)
        .arg(suite)
        .args([
            "client",
            "--scenario",
            "http-invalid-tool-headers",
            "--command",
        ])
        .arg(&script)
        .arg("-o")
        .arg(dir.join("results"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while run.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the scenario ends by itself"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = std::fs::read_to_string(dir.join("out")).unwrap();
    let err = std::fs::read_to_string(dir.join("err")).unwrap();
    assert!(out.contains("valid_tool"), "{out}");
    for (tool, why) in [
        (
            "invalid_empty_header",
            "x-mcp-header must be a non-empty HTTP token",
        ),
        (
            "invalid_object_header",
            "needs a string, integer or boolean, not object",
        ),
        (
            "invalid_duplicate_diff_case",
            "x-mcp-header `myfield` is used twice",
        ),
        ("invalid_non_ascii_name", "not \"Région\""),
    ] {
        assert!(
            err.lines().any(
                |line| line.starts_with(&format!("mcpfleet: dropped {tool}: "))
                    && line.contains(why)
            ),
            "{tool}: {err}"
        );
        assert!(
            !out.contains(tool),
            "{tool} is not listed as callable: {out}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
