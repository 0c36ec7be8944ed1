//! The fleet model and the `Source` contract every backend (local, AWS, static) implements.
//! Nothing here knows about terminals: no ratatui or crossterm in `fleet/`, `sources/`, `mcp/`.

pub mod attention;
pub mod auth;
pub mod command;
pub mod crashloop;
pub mod logs;
pub mod model;
pub mod outliers;
pub mod progress;
pub mod recent;
pub mod revisions;
pub mod time;
pub mod trends;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

pub use attention::{Attention, Pointer, attention};
pub use auth::{EndpointAuth, Secret, SigV4};
pub use command::{Command, CommandError, CommandRequest, RevisionChange};
pub use logs::{Level, LogLine, LogReceiver, LogSender, log_channel};
pub use model::*;
pub use outliers::Outlier;
pub use recent::{Bucket, FigureSource, Recent};
pub use revisions::RevisionFigures;

/// What a running source hands the console: the latest snapshot, the log stream, and a way to
/// send commands. Dropping the handle stops the source (and, for local, its children).
pub struct SourceHandle {
    pub snapshots: watch::Receiver<Arc<FleetSnapshot>>,
    pub logs: LogReceiver,
    commands: mpsc::Sender<CommandRequest>,
    /// Stops the source's workers when dropped.
    pub(crate) _shutdown: Option<tokio_util::sync::DropGuard>,
    /// What lives exactly as long as the source (a socket serving it to other processes).
    kept: Vec<Box<dyn Send>>,
    /// Where the operator looks, for a source that takes attention.
    pointer: Option<Pointer>,
}

impl SourceHandle {
    pub fn new(
        snapshots: watch::Receiver<Arc<FleetSnapshot>>,
        logs: LogReceiver,
        commands: mpsc::Sender<CommandRequest>,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Self {
        Self {
            snapshots,
            logs,
            commands,
            _shutdown: Some(shutdown.drop_guard()),
            kept: Vec::new(),
            pointer: None,
        }
    }

    /// The handle of a source that takes the operator's attention (`attention.rs`).
    pub fn with_pointer(mut self, pointer: Pointer) -> Self {
        self.pointer = Some(pointer);
        self
    }

    /// Keeps `value` until the handle is dropped.
    pub fn keep(&mut self, value: impl Send + 'static) {
        self.kept.push(Box::new(value));
    }

    pub fn snapshot(&self) -> Arc<FleetSnapshot> {
        self.snapshots.borrow().clone()
    }

    /// Sends a command and waits for the source's answer.
    pub async fn execute(&self, command: Command) -> Result<String, CommandError> {
        self.commander().execute(command).await
    }

    /// A cloneable sender of commands, for workers that must not hold the handle.
    pub fn commander(&self) -> Commander {
        Commander {
            commands: self.commands.clone(),
            pointer: self.pointer.clone(),
        }
    }

    /// Waits until `predicate` holds for a snapshot, or `timeout` passes.
    pub async fn wait_for(
        &mut self,
        timeout: std::time::Duration,
        mut predicate: impl FnMut(&FleetSnapshot) -> bool,
    ) -> Option<Arc<FleetSnapshot>> {
        let wait = self.snapshots.wait_for(|snapshot| predicate(snapshot));
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(snapshot)) => Some(snapshot.clone()),
            _ => None,
        }
    }
}

/// The console's line to its source: commands, and where the operator looks.
#[derive(Clone)]
pub struct Commander {
    commands: mpsc::Sender<CommandRequest>,
    pointer: Option<Pointer>,
}

impl Commander {
    pub async fn execute(&self, command: Command) -> Result<String, CommandError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(CommandRequest { command, reply })
            .await
            .map_err(|_| CommandError::SourceGone)?;
        answer.await.map_err(|_| CommandError::SourceGone)?
    }

    pub fn look_at(&self, service: Option<&str>) {
        if let Some(pointer) = &self.pointer {
            pointer.look_at(service);
        }
    }

    /// Asks the source to read the fleet now; false when it has nothing to refresh (it sees
    /// changes as they happen).
    pub fn refresh_now(&self) -> bool {
        match &self.pointer {
            Some(pointer) => {
                pointer.refresh_now();
                true
            }
            None => false,
        }
    }
}

/// A backend that discovers a fleet and acts on it. `start` spawns the source's workers on the
/// current tokio runtime and returns at once; the first snapshot may still be empty.
pub trait Source: Send + 'static {
    fn kind(&self) -> SourceKind;
    fn start(self: Box<Self>) -> SourceHandle;
}
