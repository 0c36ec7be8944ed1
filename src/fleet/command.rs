//! What an operator asks a source to do. Each command is answered on its own channel with the
//! outcome in words, so the CLI and the UI can show it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

/// Changes a deployment makes to the service's task definition (a new revision).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RevisionChange {
    pub env: BTreeMap<String, String>,
    pub args: Option<Vec<String>>,
    /// The service container's image (ECS); the local fleet has no images and refuses it.
    pub image: Option<String>,
}

impl RevisionChange {
    /// Nothing changes: a new deployment of the same revision.
    pub fn is_empty(&self) -> bool {
        self.env.is_empty() && self.args.is_none() && self.image.is_none()
    }
}

/// Serialised, it crosses the local fleet's socket from a command to the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Set the desired task count.
    Scale { service: String, desired: u32 },
    /// Start a rolling deployment: a new revision with `change` applied (force new deployment
    /// when the change is empty).
    Deploy {
        service: String,
        change: RevisionChange,
    },
    /// Deploy the revision of the last COMPLETED deployment again.
    Rollback { service: String },
    /// Stop one task; the service scheduler replaces it.
    StopTask {
        service: String,
        task_id: String,
        reason: String,
    },
}

impl Command {
    pub fn service(&self) -> &str {
        match self {
            Command::Scale { service, .. }
            | Command::Deploy { service, .. }
            | Command::Rollback { service }
            | Command::StopTask { service, .. } => service,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandError {
    #[error("no service named {0}")]
    UnknownService(String),
    #[error("service {service} has no task {task}")]
    UnknownTask { service: String, task: String },
    #[error("{0}")]
    Refused(String),
    /// The fleet's owner runs read-only (a console under `--read-only`).
    #[error("{0}")]
    ReadOnly(String),
    #[error("the source has stopped")]
    SourceGone,
}

pub struct CommandRequest {
    pub command: Command,
    pub reply: oneshot::Sender<Result<String, CommandError>>,
}
