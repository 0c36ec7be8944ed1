//! Structured logs: JSON lines on stdout (what the awslogs driver ships to CloudWatch), one line
//! per tool call with the fields the console correlates on. Request headers are never logged,
//! so bearer tokens cannot leak through here.

use tracing_subscriber::{EnvFilter, fmt};

/// Keeps the log writer thread alive; lines logged before it drops are flushed.
pub type LogGuard = tracing_appender::non_blocking::WorkerGuard;

/// Installs the JSON subscriber; later calls (tests, embedding) keep the first one. Lines are
/// written by a background thread so a slow stdout never sits on a tool call's path; when its
/// buffer is full, callers wait rather than lose lines.
pub fn init() -> LogGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rmcp=warn"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    let _ = fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init();
    guard
}

/// The fields of one tool-call log line.
pub struct CallRecord<'a> {
    pub tool: &'a str,
    pub outcome: &'a str,
    pub duration_ms: f64,
    pub request_id: &'a str,
    pub session_id: Option<&'a str>,
    pub task_id: &'a str,
    pub traceparent: Option<&'a str>,
    pub fault: bool,
}

pub fn log_call(record: &CallRecord<'_>) {
    tracing::info!(
        target: "mcpfleet::call",
        tool = record.tool,
        outcome = record.outcome,
        duration_ms = record.duration_ms,
        request_id = record.request_id,
        session_id = record.session_id,
        task_id = record.task_id,
        traceparent = record.traceparent,
        fault_injected = record.fault,
        "tool call"
    );
}
