//! A StartLiveTail session of one log group: lines as CloudWatch ingests them, until the
//! session ends (AWS closes them after three hours) or CloudWatch starts sampling (over 500
//! events a second), when polling must take over. What the session delivered is recorded so
//! that the poll taking over does not deliver it again.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;

use super::group::{Group, STREAM_NAMES_MAX, line};
use crate::fleet::LogSender;
use crate::sources::aws::{client::AwsError, ecs::Calls};

/// A line by content, for matching across a tail (no event ids) and a poll (event ids).
pub type LineKey = (String, i64, u64);

pub fn key(stream: &str, timestamp: i64, message: &str) -> LineKey {
    let mut hasher = DefaultHasher::new();
    message.hash(&mut hasher);
    (stream.to_string(), timestamp, hasher.finish())
}

#[derive(Debug, Default)]
pub struct TailRecord {
    pub newest_ms: Option<i64>,
    /// The earliest line of the update that was sampled, from where polling must re-read.
    pub sampled_from: Option<i64>,
    /// Lines delivered, counted per key: one delivered line cancels one polled twin.
    pub delivered: HashMap<LineKey, u32>,
}

pub struct Tail {
    task: tokio::task::JoinHandle<()>,
    record: Arc<Mutex<TailRecord>>,
    started: Instant,
}

impl Tail {
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    pub fn lasted(&self) -> Duration {
        self.started.elapsed()
    }

    /// Ends the session and hands over what it delivered.
    pub fn finish(self) -> TailRecord {
        self.task.abort();
        std::mem::take(&mut *self.record.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(
    calls: &Calls<'_>,
    group: &Group,
    arn: String,
    sender: LogSender,
) -> Result<Tail, AwsError> {
    calls.spend()?;
    let names: Vec<String> = group
        .streams
        .keys()
        .take(STREAM_NAMES_MAX)
        .cloned()
        .collect();
    let mut output = calls
        .clients
        .logs
        .start_live_tail()
        .log_group_identifiers(arn)
        .set_log_stream_names((!names.is_empty()).then_some(names))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:StartLiveTail", e))?;
    let record = Arc::new(Mutex::new(TailRecord::default()));
    let shared = record.clone();
    let group = group.clone();
    let task = tokio::spawn(async move {
        while let Ok(Some(event)) = output.response_stream.recv().await {
            let StartLiveTailResponseStream::SessionUpdate(update) = event else {
                continue;
            };
            let mut record = shared.lock().unwrap_or_else(|e| e.into_inner());
            let results = update.session_results();
            if update.session_metadata().is_some_and(|m| m.sampled()) {
                record.sampled_from = results.iter().filter_map(|r| r.timestamp()).min();
                return;
            }
            for result in results {
                let stream = result.log_stream_name().unwrap_or_default();
                let timestamp = result.timestamp().unwrap_or_default();
                let message = result.message().unwrap_or_default();
                *record
                    .delivered
                    .entry(key(stream, timestamp, message))
                    .or_default() += 1;
                record.newest_ms = Some(record.newest_ms.unwrap_or(i64::MIN).max(timestamp));
                sender.send(line(&group, stream, timestamp, message));
            }
        }
    });
    Ok(Tail {
        task,
        record,
        started: Instant::now(),
    })
}
