//! The embedded local fleet, the default source: services whose tasks are child processes on
//! loopback ports — the built-in `mcpfleet-server` (3 replicas of this binary's `serve`) and any
//! configured command — run the way ECS runs a service, so every screen and action of the
//! console is real without AWS: task ids, task-definition revisions, desired/running/pending
//! counts, rolling deployments with the circuit breaker and rollback, replacement of crashed
//! tasks with the exit code as stoppedReason, service events in ECS's wording, logs from the
//! children's stdout/stderr and load from their `/metrics`.
//!
//! - `spec`: configuration, revisions and the command line of a task
//! - `supervisor`: the one task that owns all state and publishes snapshots
//! - `service`: a service's state and how worker reports change it; `snapshot`: its model
//! - `rollout`: the scheduler (rolling update, circuit breaker); `commands`: scale, deploy, …
//! - `alarm`: the deployment alarm on a service's error rate, which fails a deployment
//! - `task`: one worker per task process; `health`: probes and scrapes
//! - `child`: parent-death wiring and the `__child` shim; `events`: ECS wording and ids

pub mod alarm;
pub mod child;
mod commands;
mod events;
mod health;
mod report;
mod rollout;
mod service;
pub mod share;
mod snapshot;
pub mod spec;
mod supervisor;
mod task;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use spec::{LocalConfig, LocalConfigError, LocalServiceSpec};

use crate::fleet::{Source, SourceHandle, SourceKind, log_channel};

/// The local fleet as a `Source`. Its children stop with the `SourceHandle` (SIGTERM, then
/// SIGKILL after `LocalConfig::shutdown_grace`), and with the console process itself.
pub struct LocalSource {
    config: LocalConfig,
}

impl LocalSource {
    pub fn new(config: LocalConfig) -> Result<Self, LocalConfigError> {
        config.validate()?;
        Ok(Self { config })
    }
}

impl Source for LocalSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Local
    }

    fn start(self: Box<Self>) -> SourceHandle {
        let (log_tx, log_rx) = log_channel(self.config.log_capacity);
        let (command_tx, command_rx) = mpsc::channel(64);
        let shutdown = CancellationToken::new();
        let (supervisor, snapshots) =
            supervisor::Supervisor::new(self.config, command_rx, log_tx, shutdown.clone());
        tokio::spawn(supervisor.run());
        SourceHandle::new(snapshots, log_rx, command_tx, shutdown)
    }
}
