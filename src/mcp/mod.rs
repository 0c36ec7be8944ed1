//! The client side of MCP: one rmcp client per endpoint ([`Pool`]), probes fingerprinting a
//! server's surface for the drift radar, calls routed over a fleet snapshot with argument checks, progress, cancellation, timeouts
//! and safe retries during rolling deploys, fan-out to every ready task, and a call history.
//!
//! The [`worker`] owns the pool: the console and the one-shot commands send it requests and
//! read what it publishes. No terminal code here.

pub mod apps;
pub mod ask;
pub mod bench;
pub mod browse;
mod call;
pub mod compare;
mod config;
mod connection;
pub mod doctor;
pub mod drift;
mod error;
mod fanout;
pub mod figures;
pub mod history;
pub mod incident;
pub mod news;
mod outcome;
mod pool;
mod probe;
pub mod repro;
mod request;
mod route;
pub mod schema;
mod signing;
pub mod skills;
pub mod smoke;
pub mod streams;
pub mod surface;
pub use skills::{FileCheck, FileStatus, SkillReport};
mod task;
mod trace;
mod validate;
pub use validate::DroppedTool;
mod client;
mod watch;
pub mod wire;
pub mod worker;

pub use ask::{Ask, AskSender, ClientRoot, Question, Sampled};
pub use browse::{Browse, Browsed, Completing};
pub use client::{CallId, CallUpdate, McpClient, Probes, StreamsByTask, UpdateSink, WorkerConfig};
pub use config::{Era, PoolConfig};
pub use error::McpError;
pub use fanout::TaskOutcome;
pub use history::{History, HistoryEntry};
pub use news::{BrowseSink, BrowseUpdate};
pub use outcome::{
    CallOutcome, Exchange, KnownBy, OutcomeKind, Retry, SERVED_BY, ServedBy, ToolResult,
};
pub use pool::Pool;
pub use probe::{Clearance, Probe, ToolInfo};
pub use request::{CallControl, CallEvent, CallRequest, DEFAULT_TIMEOUT, LOG_LEVELS, ServerLog};
pub use rmcp::model::ContentBlock;
pub use route::{MAX_RETRIES, Target};
pub use task::TaskNote;
pub use wire::{HttpExchange, Round as WireRound};
