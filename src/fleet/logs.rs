//! Log lines from every task of every service, and the bounded channel that carries them. A
//! source never blocks on a slow reader: when the channel is full, lines are dropped and
//! counted, and the count is shown — never silent.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::SystemTime,
};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "trace" => Some(Self::Trace),
            "debug" => Some(Self::Debug),
            "info" => Some(Self::Info),
            "warn" | "warning" => Some(Self::Warn),
            "error" | "fatal" | "critical" => Some(Self::Error),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogLine {
    #[serde(with = "crate::fleet::time")]
    pub at: SystemTime,
    pub service: String,
    pub task_id: String,
    /// stdout, stderr, or the CloudWatch stream name.
    pub stream: String,
    pub level: Option<Level>,
    pub message: String,
    /// The line's JSON text, when it was a JSON object. Fields are parsed from it when they are
    /// looked at: a parsed map costs several times the text, and a console keeps 100k lines.
    #[serde(
        rename = "fields",
        serialize_with = "serialize_fields",
        deserialize_with = "deserialize_fields"
    )]
    json: Option<Box<str>>,
}

fn serialize_fields<S: serde::Serializer>(
    json: &Option<Box<str>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    let fields = json
        .as_deref()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
    fields.serialize(serializer)
}

fn deserialize_fields<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Box<str>>, D::Error> {
    let fields = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(fields.map(|value| value.to_string().into_boxed_str()))
}

impl LogLine {
    /// Builds a line from raw text; JSON lines are parsed for level, message and fields.
    pub fn parse(service: &str, task_id: &str, stream: &str, at: SystemTime, raw: &str) -> Self {
        let mut line = Self {
            at,
            service: service.to_string(),
            task_id: task_id.to_string(),
            stream: stream.to_string(),
            level: None,
            message: raw.to_string(),
            json: None,
        };
        if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(raw.trim()) {
            line.level = fields
                .get("level")
                .and_then(|v| v.as_str())
                .and_then(Level::parse);
            if let Some(message) = fields.get("message").or_else(|| fields.get("msg")) {
                line.message = message
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| message.to_string());
            }
            line.json = Some(raw.trim().into());
        }
        line
    }

    /// The line's text (its message, or its JSON when it was JSON) contains `text`: a plain
    /// substring search, cheap enough to run over thousands of lines.
    pub fn mentions(&self, text: &str) -> bool {
        self.json.as_deref().unwrap_or(&self.message).contains(text)
    }

    /// The fields of a JSON log line, when the line was JSON.
    pub fn fields(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        serde_json::from_str(self.json.as_deref()?).ok()
    }
}

/// Sending side of the log channel, shared by a source's workers.
#[derive(Clone)]
pub struct LogSender {
    tx: mpsc::Sender<LogLine>,
    dropped: Arc<AtomicU64>,
}

pub struct LogReceiver {
    pub rx: mpsc::Receiver<LogLine>,
    dropped: Arc<AtomicU64>,
}

pub fn log_channel(capacity: usize) -> (LogSender, LogReceiver) {
    let (tx, rx) = mpsc::channel(capacity);
    let dropped = Arc::new(AtomicU64::new(0));
    (
        LogSender {
            tx,
            dropped: dropped.clone(),
        },
        LogReceiver { rx, dropped },
    )
}

impl LogSender {
    /// Never waits: a full channel drops the line and counts it.
    pub fn send(&self, line: LogLine) {
        if self.tx.try_send(line).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl LogReceiver {
    /// A new channel of the same capacity whose dropped lines count with this one's, for a
    /// relay between the source and its reader.
    pub fn sibling(&self) -> (LogSender, LogReceiver) {
        let (tx, rx) = mpsc::channel(self.rx.max_capacity());
        (
            LogSender {
                tx,
                dropped: self.dropped.clone(),
            },
            LogReceiver {
                rx,
                dropped: self.dropped.clone(),
            },
        )
    }

    /// Lines dropped so far because the reader fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_parsed() {
        let raw = r#"{"timestamp":"2026-01-01T00:00:00Z","level":"INFO","message":"tool call","tool":"echo"}"#;
        let line = LogLine::parse("svc", "t1", "stdout", SystemTime::now(), raw);
        assert_eq!(line.level, Some(Level::Info));
        assert_eq!(line.message, "tool call");
        assert_eq!(line.fields().unwrap()["tool"], "echo");
        let plain = LogLine::parse(
            "svc",
            "t1",
            "stderr",
            SystemTime::now(),
            "panic at the disco",
        );
        assert_eq!(plain.level, None);
        assert_eq!(plain.message, "panic at the disco");
    }

    #[tokio::test]
    async fn a_full_channel_drops_and_counts() {
        let (tx, mut rx) = log_channel(2);
        for i in 0..5 {
            tx.send(LogLine::parse(
                "s",
                "t",
                "stdout",
                SystemTime::now(),
                &format!("{i}"),
            ));
        }
        assert_eq!(rx.dropped(), 3);
        assert_eq!(rx.rx.recv().await.unwrap().message, "0");
    }
}
