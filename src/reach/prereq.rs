//! What ECS Exec and a Session Manager port forward need, each missing piece said in one line
//! that names it and what to do: the AWS source, the task, the `aws` CLI and the
//! session-manager-plugin on PATH, `enableExecuteCommand`, a RUNNING ExecuteCommandAgent; and,
//! once the CLI has failed, the IAM permissions it most likely lacked.

use std::path::{Path, PathBuf};

use crate::fleet::SourceKind;

pub const AWS_CLI: &str = "aws";
pub const PLUGIN: &str = "session-manager-plugin";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    #[error(
        "ECS Exec and port forwarding need the AWS source (--source aws); this is the {} source",
        source_name(*.0)
    )]
    NotAws(SourceKind),
    #[error("no service {0:?}")]
    NoService(String),
    #[error("{}", no_task(service, task.as_deref()))]
    NoTask {
        service: String,
        task: Option<String>,
    },
    #[error("ECS has not described task {task} yet; try again after the next refresh")]
    Undescribed { task: String },
    #[error("{}", no_container(task, container.as_deref()))]
    NoContainer {
        task: String,
        container: Option<String>,
    },
    #[error(
        "ECS Exec is off for task {task} (enableExecuteCommand is false): turn it on with `aws \
         ecs update-service --enable-execute-command --force-new-deployment`"
    )]
    ExecDisabled { task: String },
    #[error(
        "the ExecuteCommandAgent of container {container} in task {task} is {}, not RUNNING: \
         ECS Exec cannot reach it yet",
        status.as_deref().unwrap_or("absent")
    )]
    AgentNotRunning {
        task: String,
        container: String,
        status: Option<String>,
    },
    #[error("the aws CLI is not on PATH: install AWS CLI v2")]
    NoAwsCli,
    #[error(
        "session-manager-plugin is not on PATH: install the Session Manager plugin for the AWS CLI"
    )]
    NoPlugin,
    #[error("ECS reports no runtime id for container {container} of task {task} yet")]
    NoRuntimeId { task: String, container: String },
    #[error("task {task} has no MCP port to forward")]
    NoPort { task: String },
}

fn source_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Local => "local",
        SourceKind::Aws => "aws",
        SourceKind::Static => "static",
    }
}

fn no_task(service: &str, task: Option<&str>) -> String {
    match task {
        Some(task) => format!("service {service} has no task {task}"),
        None => format!("service {service} has no running task"),
    }
}

fn no_container(task: &str, container: Option<&str>) -> String {
    match container {
        Some(name) => format!("task {task} has no container {name}"),
        None => format!("task {task} has no container"),
    }
}

/// The `aws` CLI and the plugin, found on `path` (a PATH value), or the first one missing.
pub fn programs(path: Option<&std::ffi::OsStr>) -> Result<PathBuf, Missing> {
    let aws = find(AWS_CLI, path).ok_or(Missing::NoAwsCli)?;
    find(PLUGIN, path).ok_or(Missing::NoPlugin)?;
    Ok(aws)
}

/// The CLI and plugin on this process's PATH.
pub fn programs_on_path() -> Result<PathBuf, Missing> {
    programs(std::env::var_os("PATH").as_deref())
}

fn find(name: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .map(|dir| dir.join(name))
        .find(|candidate| executable(candidate))
}

fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What most likely went wrong when the CLI failed saying `stderr`: ECS Exec's and Session
/// Manager's refusals come as AccessDenied or TargetNotConnected when IAM is short.
pub fn iam_hint(stderr: &str) -> Option<&'static str> {
    let refused = ["AccessDenied", "TargetNotConnected"];
    refused.iter().any(|word| stderr.contains(word)).then_some(
        "likely IAM: the task role needs ssmmessages:CreateControlChannel, \
         CreateDataChannel, OpenControlChannel and OpenDataChannel, and you need \
         ecs:ExecuteCommand (and ssm:StartSession for a port forward)",
    )
}
