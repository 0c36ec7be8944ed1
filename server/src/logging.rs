//! Structured logs: JSON lines on stdout (what the awslogs driver ships to CloudWatch), one line
//! per tool call with the fields the console correlates on. Request headers are never logged,
//! so bearer tokens cannot leak through here.

use std::fmt::{self, Write as _};

use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{
    EnvFilter,
    fmt::{
        FmtContext, FormatEvent, FormatFields,
        format::{Format, Json, JsonFields, Writer},
        time::{FormatTime, SystemTime},
    },
    registry::LookupSpan,
};

/// Target of the per-call line; the console and the tests match on it.
const CALL_TARGET: &str = "mcpfleet::call";

/// Keeps the log writer thread alive; lines logged before it drops are flushed.
pub use crate::log_writer::LogGuard;

/// Installs the JSON subscriber; later calls (tests, embedding) keep the first one. Lines are
/// written by a background thread in batches, so a slow stdout never sits on a
/// tool call's path.
pub fn init() -> LogGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rmcp=warn"));
    let (writer, guard) = crate::log_writer::spawn(std::io::stdout());
    let _ = tracing_subscriber::fmt()
        .fmt_fields(JsonFields::new())
        .event_format(CallLines {
            other: json_lines(),
        })
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init();
    guard
}

/// One JSON object per line: timestamp, level, the event's fields, target.
fn json_lines() -> Format<Json> {
    tracing_subscriber::fmt::format()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
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

/// The trace id of a W3C `traceparent` (`00-{32 hex}-{16 hex}-{2 hex}`), logged as its own
/// field so a search for a trace is a plain field match; `None` for a malformed value.
pub fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |part: &str, len: usize| {
        part.len() == len && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let valid = version == "00"
        && parts.next().is_none()
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0');
    valid.then_some(trace)
}

pub fn log_call(record: &CallRecord<'_>) {
    tracing::info!(
        target: CALL_TARGET,
        tool = record.tool,
        outcome = record.outcome,
        duration_ms = record.duration_ms,
        request_id = record.request_id,
        session_id = record.session_id,
        task_id = record.task_id,
        traceparent = record.traceparent,
        trace_id = record.traceparent.and_then(trace_id),
        fault_injected = record.fault,
        "tool call"
    );
}

/// The stock JSON format for every line, written directly for the per-call line: that one is
/// logged on every tool call, and the generic serializer costs as much as the rest of an echo
/// call's handling. The output is the same bytes: timestamp, level, the event's fields in order,
/// then the target.
struct CallLines<F> {
    other: F,
}

impl<S, N, F> FormatEvent<S, N> for CallLines<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        if meta.target() != CALL_TARGET {
            return self.other.format_event(ctx, writer, event);
        }
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\"", meta.level().as_str())?;
        let mut fields = JsonMembers {
            out: &mut writer,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_str(",\"target\":")?;
        write_json_string(&mut writer, CALL_TARGET)?;
        writer.write_str("}\n")
    }
}

/// Appends each field as a `,"name":value` member, typed as tracing-serde types them: numbers
/// and booleans as JSON numbers and booleans, everything else as a string.
struct JsonMembers<'a, 'w> {
    out: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl JsonMembers<'_, '_> {
    fn member(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self
                .out
                .write_char(',')
                .and_then(|()| write_json_string(self.out, field.name()))
                .and_then(|()| self.out.write_char(':'))
                .and_then(|()| value(self.out));
        }
    }
}

impl Visit for JsonMembers<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, |out| write_json_string(out, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // serde_json's spelling (`2.0`, `1e-7`, `null` for non-finite), as the stock format.
        self.member(field, |out| {
            let mut buffer = [0u8; 32];
            let mut slice = &mut buffer[..];
            serde_json::to_writer(&mut slice, &value).map_err(|_| fmt::Error)?;
            let written = 32 - slice.len();
            out.write_str(std::str::from_utf8(&buffer[..written]).map_err(|_| fmt::Error)?)
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.member(field, |out| {
            out.write_char('"')?;
            write!(JsonEscaped(out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

fn write_json_string(out: &mut impl fmt::Write, value: &str) -> fmt::Result {
    out.write_char('"')?;
    JsonEscaped(out).write_str(value)?;
    out.write_char('"')
}

/// Escapes what it is given for a JSON string body, the way serde_json does: quote, backslash
/// and control characters only.
struct JsonEscaped<'a, W: fmt::Write>(&'a mut W);

impl<W: fmt::Write> fmt::Write for JsonEscaped<'_, W> {
    fn write_str(&mut self, mut value: &str) -> fmt::Result {
        while let Some(at) = value
            .bytes()
            .position(|byte| byte < 0x20 || byte == b'"' || byte == b'\\')
        {
            self.0.write_str(&value[..at])?;
            match value.as_bytes()[at] {
                b'"' => self.0.write_str("\\\"")?,
                b'\\' => self.0.write_str("\\\\")?,
                b'\n' => self.0.write_str("\\n")?,
                b'\r' => self.0.write_str("\\r")?,
                b'\t' => self.0.write_str("\\t")?,
                0x08 => self.0.write_str("\\b")?,
                0x0c => self.0.write_str("\\f")?,
                control => write!(self.0, "\\u{control:04x}")?,
            }
            value = &value[at + 1..];
        }
        self.0.write_str(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// A subscriber with the format `init` installs, writing into `captured`.
    fn installed_format(captured: &Captured) -> impl tracing::Subscriber + Send + Sync {
        tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(CallLines {
                other: json_lines(),
            })
            .with_writer(captured.clone())
            .finish()
    }

    /// The line `log_call` writes, once through the fast path and once through the stock JSON
    /// format, with the timestamps taken out.
    fn both_lines(record: &CallRecord<'_>) -> (String, String) {
        let fast = Captured::default();
        tracing::subscriber::with_default(installed_format(&fast), || log_call(record));
        let reference = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(json_lines())
            .with_writer(reference.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || log_call(record));
        let text = |captured: Captured| {
            let line = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
            let start = line.find("\",\"level\"").expect("a timestamp");
            line[start..].to_string()
        };
        (text(fast), text(reference))
    }

    #[test]
    fn call_lines_match_the_stock_json_format() {
        let record = CallRecord {
            tool: "echo",
            outcome: "ok",
            duration_ms: 0.185,
            request_id: "7",
            session_id: Some("e6775354-b164-4211-89c5-c914381aa800"),
            task_id: "local-1",
            traceparent: None,
            fault: false,
        };
        let (fast, stock) = both_lines(&record);
        assert_eq!(fast, stock);
        assert!(fast.ends_with("\"target\":\"mcpfleet::call\"}\n"), "{fast}");
        let awkward = CallRecord {
            tool: "quote\"back\\slash\nnew\u{1}\u{7f}é",
            duration_ms: 2000.0,
            session_id: None,
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            fault: true,
            ..record
        };
        let (fast, stock) = both_lines(&awkward);
        assert_eq!(fast, stock);
        let infinite = CallRecord {
            duration_ms: f64::INFINITY,
            ..awkward
        };
        let (fast, stock) = both_lines(&infinite);
        assert_eq!(fast, stock);
    }

    #[test]
    fn the_trace_id_is_taken_only_from_a_well_formed_traceparent() {
        let example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(trace_id(example), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        for bad in [
            "",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert_eq!(trace_id(bad), None, "{bad}");
        }
        let (line, _) = both_lines(&CallRecord {
            tool: "echo",
            outcome: "ok",
            duration_ms: 1.0,
            request_id: "1",
            session_id: None,
            task_id: "local-1",
            traceparent: Some(example),
            fault: false,
        });
        assert!(
            line.contains(r#""trace_id":"4bf92f3577b34da6a3ce929d0e0e4736""#),
            "{line}"
        );
    }

    #[test]
    fn other_events_keep_the_stock_format() {
        let captured = Captured::default();
        tracing::subscriber::with_default(installed_format(&captured), || {
            tracing::info!(address = "127.0.0.1:1", n = 3_u64, "listening")
        });
        let line = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["message"], "listening");
        assert_eq!(value["n"], 3);
        assert_eq!(value["target"], "mcpfleet_server::logging::tests");
    }
}
