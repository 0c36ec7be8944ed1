//! Test support for `exec`, `forward` and the console's `e` and `f`: a stand-in `aws` CLI and
//! session-manager-plugin (`standin.py`) put on a PATH of their own in a temp directory,
//! which record their arguments and play ECS Exec and Session Manager on loopback.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A directory with `bin/aws` and `bin/session-manager-plugin`, the calls they recorded and
/// the ports their forwards reach. Removed on drop unless the test panicked.
pub struct StandIn {
    pub dir: PathBuf,
}

impl StandIn {
    /// Both programs, or only those `with` names ("aws", "plugin").
    pub fn new(name: &str, with: &[&str]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("mcpfleet-standin-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        let python = crate::aws_support::venv_python();
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reach_support/standin.py");
        for (kind, file) in [("aws", "aws"), ("plugin", "session-manager-plugin")] {
            if !with.contains(&kind) {
                continue;
            }
            let wrapper = format!(
                "#!/bin/sh\nSTANDIN_DIR='{}' exec '{}' '{}' {kind} \"$@\"\n",
                dir.display(),
                python.display(),
                script.display()
            );
            write_executable(&dir.join("bin").join(file), &wrapper);
        }
        std::fs::write(dir.join("targets.json"), "{}").unwrap();
        Self { dir }
    }

    /// PATH with the stand-ins first, then the system's own directories (never a real aws).
    pub fn path(&self) -> String {
        format!("{}:/usr/bin:/bin", self.dir.join("bin").display())
    }

    /// The Session Manager targets the forwards may reach, and the loopback port of each.
    pub fn set_targets(&self, targets: &Value) {
        std::fs::write(self.dir.join("targets.json"), targets.to_string()).unwrap();
    }

    /// Every argument list recorded, oldest first: (program, arguments).
    pub fn calls(&self) -> Vec<(String, Vec<String>)> {
        let text = std::fs::read_to_string(self.dir.join("calls.jsonl")).unwrap_or_default();
        text.lines()
            .map(|line| {
                let call: Value = serde_json::from_str(line).unwrap();
                let argv = call["argv"].as_array().unwrap();
                (
                    call["program"].as_str().unwrap().to_string(),
                    argv.iter()
                        .map(|a| a.as_str().unwrap().to_string())
                        .collect(),
                )
            })
            .collect()
    }

    /// The calls of the `aws` CLI whose arguments start with `words`.
    pub fn aws_calls(&self, words: &[&str]) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|(program, argv)| {
                program == "aws"
                    && argv.len() >= words.len()
                    && argv.iter().zip(words).all(|(a, w)| a == w)
            })
            .map(|(_, argv)| argv)
            .collect()
    }

    /// How many connections session `n`'s forwarder took.
    pub fn connections(&self, n: u32) -> usize {
        let path = self.dir.join(format!("connections-{n}"));
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .count()
    }

    /// The pid of session `n`'s forwarder, once it listens.
    pub fn session_pid(&self, n: u32) -> Option<i32> {
        std::fs::read_to_string(self.dir.join(format!("session-{n}.pid")))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The value after `flag` in `argv`.
pub fn option<'a>(argv: &'a [String], flag: &str) -> Option<&'a str> {
    let at = argv.iter().position(|a| a == flag)?;
    argv.get(at + 1).map(String::as_str)
}
