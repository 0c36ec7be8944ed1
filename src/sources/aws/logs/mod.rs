//! Task logs from CloudWatch Logs, found through each container's awslogs options (group,
//! stream `prefix/container/task-id`). A live tail where the endpoint offers StartLiveTail;
//! otherwise FilterLogEvents polling that re-reads an overlap window each time (late arrivals)
//! and drops what it already delivered by event id, so lines are neither lost nor repeated.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

mod group;
mod live_tail;

pub use group::{Group, STREAM_NAMES_MAX, line, stream_of};
use live_tail::{LineKey, Tail};

use super::{client::AwsError, ecs::Calls};
use crate::fleet::LogSender;

/// Re-read this much before the newest event seen: CloudWatch may ingest a line seconds after
/// its timestamp.
const OVERLAP: Duration = Duration::from_secs(15);
/// How far back the first read of a group goes.
const BACKFILL: Duration = Duration::from_secs(5 * 60);
const MAX_PAGES: usize = 5;
/// A tail that ends sooner than this is not a live tail (the endpoint replayed and hung up):
/// that group is polled from then on.
const TAIL_AT_LEAST: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Cursor {
    newest_ms: Option<i64>,
    /// Event ids delivered, with their timestamps, pruned to the overlap window.
    delivered: HashMap<String, i64>,
    /// A read that had more pages than one cycle may take: its start and the next token.
    unfinished: Option<(i64, String)>,
    /// Lines a live tail delivered, which the poll that takes over must not deliver again.
    handed_over: HashMap<LineKey, u32>,
}

#[derive(Default)]
pub struct LogReader {
    cursors: HashMap<String, Cursor>,
    /// Groups that do not exist; reported once per refresh as a note.
    missing: HashSet<String>,
    /// Groups served by a live tail; polling leaves them alone while it runs.
    live: HashMap<String, Tail>,
    /// Groups where StartLiveTail failed once: the endpoint does not offer it.
    no_live_tail: HashSet<String>,
    /// Where the next read starts in the list of groups, so that a budget too small for all
    /// of them serves each in turn.
    next: usize,
}

fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl LogReader {
    pub fn is_missing(&self, group: &str) -> bool {
        self.missing.contains(group)
    }

    /// Reads every group once; a group that fails does not stop the others. Returns the first
    /// error that is not "this group does not exist" (those become notes).
    pub async fn read(
        &mut self,
        calls: &Calls<'_>,
        groups: &[Group],
        sender: &LogSender,
    ) -> Result<(), AwsError> {
        let mut first_error = None;
        let start = self.next % groups.len().max(1);
        let in_turn = groups[start..].iter().chain(&groups[..start]);
        for (done, group) in in_turn.enumerate() {
            self.next = start + done;
            let tailing = self.live.get(&group.name).is_some_and(|t| !t.is_finished());
            if tailing {
                continue;
            }
            if let Some(tail) = self.live.remove(&group.name) {
                self.take_over(&group.name, tail);
            }
            match self.poll(calls, group, sender).await {
                Ok(()) => {
                    self.missing.remove(&group.name);
                }
                Err(AwsError::Api { code, .. }) if code == "ResourceNotFoundException" => {
                    self.missing.insert(group.name.clone());
                    continue;
                }
                Err(AwsError::Budget) => return Err(AwsError::Budget),
                Err(error) => {
                    first_error.get_or_insert(error);
                    continue;
                }
            }
            // Caught up: from here a live tail can carry on, where the endpoint has one.
            if let Some(arn) = &group.arn
                && !self.no_live_tail.contains(&group.name)
            {
                match live_tail::start(calls, group, arn.clone(), sender.clone()).await {
                    Ok(tail) => {
                        self.live.insert(group.name.clone(), tail);
                    }
                    Err(AwsError::Budget) => return Err(AwsError::Budget),
                    Err(_) => {
                        self.no_live_tail.insert(group.name.clone());
                    }
                }
            }
        }
        self.next = 0;
        match first_error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// A tail ended: polling resumes where it got to, or where sampling began to drop lines.
    fn take_over(&mut self, group: &str, tail: Tail) {
        let lasted = tail.lasted();
        let record = tail.finish();
        if lasted < TAIL_AT_LEAST || record.sampled_from.is_some() {
            self.no_live_tail.insert(group.to_string());
        }
        let cursor = self.cursors.entry(group.to_string()).or_default();
        let resume = record.sampled_from.or(record.newest_ms);
        if resume.is_some() {
            cursor.newest_ms = resume;
        }
        for (key, count) in record.delivered {
            *cursor.handed_over.entry(key).or_default() += count;
        }
    }

    async fn poll(
        &mut self,
        calls: &Calls<'_>,
        group: &Group,
        sender: &LogSender,
    ) -> Result<(), AwsError> {
        let cursor = self.cursors.entry(group.name.clone()).or_default();
        let now = millis(SystemTime::now());
        let (start, mut token) = match cursor.unfinished.take() {
            Some((start, token)) => (start, Some(token)),
            None => (
                match cursor.newest_ms {
                    Some(newest) => newest - OVERLAP.as_millis() as i64,
                    None => now - BACKFILL.as_millis() as i64,
                },
                None,
            ),
        };
        let mut names: Vec<String> = group.streams.keys().cloned().collect();
        names.sort();
        let names = (names.len() <= STREAM_NAMES_MAX && !names.is_empty()).then_some(names);
        let mut fresh = Vec::new();
        for page in 0..MAX_PAGES {
            calls.spend()?;
            let answer = calls
                .clients
                .logs
                .filter_log_events()
                .log_group_name(&group.name)
                .set_log_stream_names(names.clone())
                .start_time(start)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("logs:FilterLogEvents", e))?;
            for event in answer.events() {
                let (Some(id), Some(timestamp)) = (event.event_id(), event.timestamp()) else {
                    continue;
                };
                if cursor.delivered.insert(id.to_string(), timestamp).is_some() {
                    continue;
                }
                let stream = event.log_stream_name().unwrap_or_default();
                let message = event.message().unwrap_or_default();
                if let Some(twin) = cursor
                    .handed_over
                    .get_mut(&live_tail::key(stream, timestamp, message))
                    .filter(|count| **count > 0)
                {
                    *twin -= 1;
                    continue;
                }
                fresh.push((timestamp, stream.to_string(), message.to_string()));
            }
            token = answer.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
            if page + 1 == MAX_PAGES {
                cursor.unfinished = token.take().map(|t| (start, t));
            }
        }
        fresh.sort_by_key(|(timestamp, _, _)| *timestamp);
        for (timestamp, stream, message) in &fresh {
            cursor.newest_ms = Some(cursor.newest_ms.unwrap_or(i64::MIN).max(*timestamp));
            sender.send(line(group, stream, *timestamp, message));
        }
        if let Some(newest) = cursor.newest_ms {
            let keep_from = newest - 2 * OVERLAP.as_millis() as i64;
            cursor.delivered.retain(|_, at| *at >= keep_from);
            cursor
                .handed_over
                .retain(|(_, at, _), count| *count > 0 && *at >= keep_from);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn awslogs_stream_names() {
        let options = HashMap::from([
            ("awslogs-group".to_string(), "/ecs/mcp".to_string()),
            ("awslogs-stream-prefix".to_string(), "mcp".to_string()),
        ]);
        assert_eq!(
            stream_of(&options, "server", "abc123"),
            Some(("/ecs/mcp".to_string(), "mcp/server/abc123".to_string()))
        );
        assert_eq!(stream_of(&HashMap::new(), "server", "abc123"), None);
    }

    #[test]
    fn lines_name_their_task() {
        let group = Group {
            name: "/ecs/mcp".into(),
            streams: HashMap::from([(
                "mcp/server/abc".to_string(),
                ("svc".to_string(), "abc".to_string()),
            )]),
            arn: None,
        };
        let known = line(&group, "mcp/server/abc", 1_000, "hello\n");
        assert_eq!(
            (known.service.as_str(), known.task_id.as_str()),
            ("svc", "abc")
        );
        assert_eq!(known.message, "hello");
        let unknown = line(&group, "other/x/def", 1_000, "x");
        assert_eq!(unknown.task_id, "def");
    }
}
