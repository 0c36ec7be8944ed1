//! What a task's worker and its health watcher tell the supervisor, the one channel that
//! carries every change of a running task.

use std::{net::SocketAddr, time::SystemTime};

use super::child::Exit;
use crate::sources::metrics_text::Scraped;

pub struct WorkerEvent {
    pub task_id: String,
    pub report: WorkerReport,
}

pub enum WorkerReport {
    Started {
        pid: u32,
        address: SocketAddr,
    },
    /// SIGTERM was sent.
    Stopping,
    Health(bool),
    Metrics(Scraped, SystemTime),
    Exited(Exit),
}
