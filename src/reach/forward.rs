//! A task's MCP port on a local port: `aws ssm start-session --target
//! ecs:CLUSTER_TASKID_RUNTIMEID --document-name AWS-StartPortForwardingSession`, kept up —
//! started again, with backoff, whenever the session ends — until the future is dropped,
//! which ends the CLI and the plugin it started (their own process group) with it.

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use super::{AwsCli, Missing, Target, exec};

pub const DOCUMENT: &str = "AWS-StartPortForwardingSession";
/// The first wait before a session is started again, doubled after each quick end.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A session that lasted this long ended for a reason of its own: start again promptly.
const STEADY: Duration = Duration::from_secs(30);

/// Session Manager's name of the target's container.
pub fn session_target(target: &Target) -> Result<String, Missing> {
    let runtime = target
        .runtime_id
        .as_deref()
        .ok_or_else(|| Missing::NoRuntimeId {
            task: target.task_id.clone(),
            container: target.container.clone(),
        })?;
    Ok(format!(
        "ecs:{}_{}_{runtime}",
        target.cluster_name, target.task_id
    ))
}

/// The `aws` CLI's arguments that forward `local_port` to the target's MCP port.
pub fn arguments(cli: &AwsCli, target: &Target, local_port: u16) -> Result<Vec<String>, Missing> {
    let session = session_target(target)?;
    let port = target.port.ok_or_else(|| Missing::NoPort {
        task: target.task_id.clone(),
    })?;
    let parameters = serde_json::json!({
        "portNumber": [port.to_string()],
        "localPortNumber": [local_port.to_string()],
    });
    let mut args: Vec<String> = [
        "ssm",
        "start-session",
        "--target",
        &session,
        "--document-name",
        DOCUMENT,
        "--parameters",
        &parameters.to_string(),
    ]
    .map(str::to_string)
    .to_vec();
    args.extend(cli.flags());
    Ok(args)
}

/// The URL an MCP client uses through the forward.
pub fn local_url(local_port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{local_port}{path}")
}

/// A loopback port free now, for a forward not given one.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

/// Where a session's output goes: this terminal (a command), or nowhere but the kept end of
/// its stderr (the console, whose screen it would garble).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Terminal,
    Quiet,
}

/// Runs the CLI with `args` again and again, telling `ended` how each session ended (or why it
/// could not start) and how long until the next; never returns. Drop the future to end the forward.
pub async fn keep(
    aws: PathBuf,
    args: Vec<String>,
    output: Output,
    mut ended: impl FnMut(std::io::Result<exec::Ended>, Duration),
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let started = Instant::now();
        let end = session(&aws, &args, output).await;
        if started.elapsed() >= STEADY {
            backoff = FIRST_BACKOFF;
        }
        ended(end, backoff);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn session(aws: &PathBuf, args: &[String], output: Output) -> std::io::Result<exec::Ended> {
    let out = match output {
        Output::Terminal => Stdio::inherit(),
        Output::Quiet => Stdio::null(),
    };
    let mut child = tokio::process::Command::new(aws)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    let _group = child.id().map(Group);
    let passed = exec::pass_stderr(child.stderr.take(), output == Output::Terminal);
    let status = child.wait().await?;
    Ok(exec::ended(status, passed.await.unwrap_or_default()))
}

/// The session's process group, ended when the session is dropped: the CLI's
/// session-manager-plugin would outlive a CLI killed alone.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        use nix::{sys::signal, unistd::Pid};
        if let Ok(pid) = i32::try_from(self.0) {
            let _ = signal::killpg(Pid::from_raw(pid), signal::Signal::SIGTERM);
        }
    }
}
