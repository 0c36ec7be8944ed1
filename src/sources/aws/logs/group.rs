//! Where a task's lines are in CloudWatch Logs (its container's awslogs group and stream) and
//! how a CloudWatch event becomes a log line of that task.

use std::{
    collections::HashMap,
    time::{Duration, UNIX_EPOCH},
};

use crate::fleet::LogLine;

/// FilterLogEvents takes at most this many stream names.
pub const STREAM_NAMES_MAX: usize = 100;

/// One log group and the task streams in it that belong to watched services.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    pub name: String,
    /// Stream name → (service, task id).
    pub streams: HashMap<String, (String, String)>,
    /// The log group's ARN, needed by StartLiveTail; None when the account is unknown.
    pub arn: Option<String>,
}

/// The awslogs stream of a task's container, from the container definition's options.
pub fn stream_of(
    options: &HashMap<String, String>,
    container: &str,
    task_id: &str,
) -> Option<(String, String)> {
    let group = options.get("awslogs-group")?;
    let prefix = options.get("awslogs-stream-prefix")?;
    Some((group.clone(), format!("{prefix}/{container}/{task_id}")))
}

pub fn line(group: &Group, stream: &str, timestamp: i64, message: &str) -> LogLine {
    let (service, task) = group.streams.get(stream).cloned().unwrap_or_else(|| {
        (
            group.name.clone(),
            stream.rsplit('/').next().unwrap_or(stream).to_string(),
        )
    });
    let at = UNIX_EPOCH + Duration::from_millis(timestamp.max(0) as u64);
    LogLine::parse(&service, &task, stream, at, message.trim_end())
}
