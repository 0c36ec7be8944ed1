//! A command in a task's container through ECS Exec: `aws ecs execute-command … --interactive
//! --command CMD`, on this terminal. ECS Exec has no non-interactive mode, so every command,
//! a shell or one line, runs with `--interactive`.

use std::{io::Write, path::Path, process::Stdio};

use tokio::io::AsyncReadExt;

use super::{AwsCli, Target, prereq};

/// What a person gets without naming a command.
pub const SHELL: &str = "/bin/sh";
/// The end of the CLI's stderr kept to read why it failed.
const STDERR_KEPT: usize = 8 * 1024;

/// The `aws` CLI's arguments that run `command` in `target`.
pub fn arguments(cli: &AwsCli, target: &Target, command: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        "ecs",
        "execute-command",
        "--cluster",
        &target.cluster_arn,
        "--task",
        &target.task_arn,
        "--container",
        &target.container,
        "--interactive",
        "--command",
        command,
    ]
    .map(str::to_string)
    .to_vec();
    args.extend(cli.flags());
    args
}

/// How the CLI ended: its exit code (128 + the signal that killed it), and what most likely
/// went wrong when it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub code: i32,
    pub hint: Option<&'static str>,
}

/// Runs `aws` (the CLI found on PATH) with `args` on this terminal — stdin and stdout
/// inherited, stderr passed through as it comes and its end kept — until it exits.
pub async fn run(aws: &Path, args: &[String]) -> std::io::Result<Ended> {
    let mut child = tokio::process::Command::new(aws)
        .args(args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let passed = pass_stderr(child.stderr.take(), true);
    let status = child.wait().await?;
    Ok(ended(status, passed.await.unwrap_or_default()))
}

/// Reads the child's stderr to its end — copied to this process's stderr when `echo` — and
/// answers its last few kilobytes.
pub(super) fn pass_stderr(
    stderr: Option<tokio::process::ChildStderr>,
    echo: bool,
) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let Some(mut stderr) = stderr else {
            return String::new();
        };
        let mut kept = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            if echo {
                // A terminal's stderr takes a few kilobytes without blocking for long.
                let mut out = std::io::stderr().lock();
                let _ = out.write_all(&chunk[..n]);
                let _ = out.flush();
            }
            kept.extend_from_slice(&chunk[..n]);
            let over = kept.len().saturating_sub(STDERR_KEPT);
            kept.drain(..over);
        }
        String::from_utf8_lossy(&kept).into_owned()
    })
}

pub(super) fn ended(status: std::process::ExitStatus, stderr: String) -> Ended {
    Ended {
        code: exit_code(status),
        hint: (!status.success())
            .then(|| prereq::iam_hint(&stderr))
            .flatten(),
    }
}

pub(super) fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(1)
}
