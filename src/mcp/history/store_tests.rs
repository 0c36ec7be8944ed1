use std::{
    os::unix::fs::PermissionsExt,
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::{Value, json};

use super::*;
use crate::mcp::{
    CallOutcome, CallRequest, ContentBlock, Exchange, History, McpError, ServedBy, ServerLog,
    TaskNote, ToolResult, wire::WireLog,
};

/// A fresh directory under the system's temp dir, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mcpfleet-history-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }

    fn file(&self) -> HistoryFile {
        HistoryFile::at(self.0.join("state").join("history.jsonl"))
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A call as the worker records it: an echo served by a task, with its wire record (a POST
/// with a redacted bearer header, answered on an SSE stream), a server log line and a task.
fn outcome(message: &str) -> CallOutcome {
    let log = WireLog::default();
    let request = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": message}}});
    let headers = vec![
        ("authorization".to_string(), "Bearer …".to_string()),
        ("mcp-protocol-version".to_string(), "2025-11-25".to_string()),
    ];
    let seq = log.begin(
        "POST",
        "http://127.0.0.1:8080/mcp",
        headers,
        Some(request.to_string().as_bytes()),
    );
    let sse = vec![("content-type".to_string(), "text/event-stream".to_string())];
    log.responded(seq, 200, sse);
    let answer = json!({"jsonrpc": "2.0", "id": 3,
        "result": {"content": [{"type": "text", "text": message}]}});
    log.event(seq, &sse_stream::Sse::default().data(answer.to_string()));
    CallOutcome {
        result: Ok(ToolResult {
            content: vec![ContentBlock::text(message)],
            structured_content: None,
            is_error: false,
        }),
        served_by: Some(ServedBy {
            task_id: Some("0f2ab1c93e7d4a5b8c6d9e0f1a2b3c4d".into()),
            revision: Some(2),
            zone: None,
            known_by: crate::mcp::KnownBy::Address,
            address: "127.0.0.1:8080".into(),
            url: "http://127.0.0.1:8080/mcp".into(),
        }),
        duration: Duration::from_micros(1_234_567),
        retries: Vec::new(),
        exchange: Exchange {
            rounds: log.rounds(&[json!(3)]),
            logs: vec![ServerLog {
                level: "info".into(),
                logger: Some("echo".into()),
                data: json!("echoed"),
            }],
            refused: Vec::new(),
            task: Some(TaskNote {
                task_id: "t-1".into(),
                status: "completed".into(),
                status_message: None,
                polls: 2,
            }),
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        },
    }
}

fn entry(history: &mut History, message: &str) -> HistoryEntry {
    let request = CallRequest::new("mcpfleet-server", "echo", json!({"message": message}))
        .on_task("0f2ab1c9")
        .with_timeout(Some(Duration::from_millis(2_500)));
    let id = history.record(&request, &outcome(message));
    history.get(id).unwrap().clone()
}

fn lines(file: &HistoryFile) -> usize {
    let bytes = std::fs::read(file.path()).unwrap();
    bytes.iter().filter(|b| **b == b'\n').count()
}

fn message(entry: &HistoryEntry) -> &str {
    entry.arguments["message"].as_str().unwrap()
}

#[test]
fn an_entry_reads_back_as_it_was_recorded() {
    let dir = Dir::new();
    let file = dir.file();
    let mut history = History::new(10);
    let written = vec![entry(&mut history, "one"), entry(&mut history, "two")];
    file.append(&written).unwrap();

    let loaded = file.load(usize::MAX).unwrap();
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    assert_eq!(loaded.entries.len(), 2);
    for (before, after) in written.iter().zip(&loaded.entries) {
        assert_eq!(
            serde_json::to_value(before).unwrap(),
            serde_json::to_value(after).unwrap()
        );
        // The JSON above holds the whole wire record; what the protocol pane reads of it:
        assert_eq!(after.exchange.messages(), before.exchange.messages());
        assert_eq!(after.exchange.messages().len(), 2);
        assert_eq!(after.exchange.logs, before.exchange.logs);
        assert_eq!(after.target, before.target);
        assert_eq!(after.timeout, Some(Duration::from_millis(2_500)));
        let since = |time: SystemTime| time.duration_since(UNIX_EPOCH).unwrap();
        assert!(since(after.at).abs_diff(since(before.at)) < Duration::from_micros(1));
        assert!(after.duration.abs_diff(before.duration) < Duration::from_micros(1));
    }
    let line: Value = serde_json::from_str(
        std::str::from_utf8(&std::fs::read(file.path()).unwrap())
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["outcome"], "ok");
    assert_eq!(
        line["exchange"]["trace_id"],
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(
        loaded.entries[0].exchange.trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(line["target"], json!({"task": "0f2ab1c9"}));
    assert_eq!(line["duration_ms"], 1234.567);
    assert_eq!(line["timeout_ms"], 2500.0);
    assert!(line["time"].as_str().unwrap().ends_with('Z'), "{line}");

    let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "it holds the calls' arguments");
    assert_eq!(
        file.load(1).unwrap().entries[0].id,
        written[1].id,
        "the newest"
    );
}

#[test]
fn the_history_file_stays_under_its_bound_after_10000_calls() {
    let dir = Dir::new();
    let file = dir.file();
    let mut history = History::new(1);
    let mut largest = 0;
    for n in 0..10_000 {
        file.append(&[entry(&mut history, &format!("call {n}"))])
            .unwrap();
        let len = std::fs::metadata(file.path()).unwrap().len();
        assert!(len <= MAX_BYTES, "{len} bytes after call {n}");
        largest = largest.max(len);
    }
    let count = lines(&file);
    assert!(
        (KEEP_CALLS..=MAX_CALLS).contains(&count),
        "{count} calls kept"
    );
    let loaded = file.load(usize::MAX).unwrap();
    assert!(loaded.skipped.is_empty());
    assert_eq!(loaded.entries.len(), count);
    // The newest calls, in order, none missing.
    let kept: Vec<&str> = loaded.entries.iter().map(message).collect();
    let expected: Vec<String> = (10_000 - count..10_000)
        .map(|n| format!("call {n}"))
        .collect();
    assert_eq!(kept, expected);
    let len = std::fs::metadata(file.path()).unwrap().len();
    eprintln!("after 10,000 calls: {count} calls in {len} bytes (at most {largest} on the way)");
}

#[test]
fn large_calls_are_bounded_by_bytes() {
    let dir = Dir::new();
    let file = dir.file();
    let mut history = History::new(1);
    let big = "x".repeat(512 * 1024);
    for n in 0..100 {
        let mut call = entry(&mut history, &format!("call {n}"));
        call.arguments["padding"] = json!(big);
        file.append(&[call]).unwrap();
        let len = std::fs::metadata(file.path()).unwrap().len();
        assert!(len <= MAX_BYTES, "{len} bytes after call {n}");
    }
    let loaded = file.load(usize::MAX).unwrap();
    let count = loaded.entries.len();
    // 100 calls of half a MiB do not fit in 32 MiB; the newest that fit in 24 do.
    assert!((40..64).contains(&count), "{count} calls kept");
    assert_eq!(message(loaded.entries.last().unwrap()), "call 99");
}

#[test]
fn a_line_cut_short_is_skipped_and_the_rest_loads() {
    let dir = Dir::new();
    let file = dir.file();
    let mut history = History::new(10);
    let written: Vec<HistoryEntry> = ["one", "two", "three"]
        .iter()
        .map(|m| entry(&mut history, m))
        .collect();
    file.append(&written).unwrap();
    // A crash while writing the third line.
    let len = std::fs::metadata(file.path()).unwrap().len();
    let cut = std::fs::OpenOptions::new()
        .write(true)
        .open(file.path())
        .unwrap();
    cut.set_len(len - 100).unwrap();

    let loaded = file.load(usize::MAX).unwrap();
    let kept: Vec<&str> = loaded.entries.iter().map(message).collect();
    assert_eq!(kept, ["one", "two"]);
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].line, 3);
    assert!(
        loaded.skipped[0].reason.contains("EOF"),
        "{:?}",
        loaded.skipped
    );

    // The next call is not glued to the cut line.
    file.append(&[entry(&mut history, "four")]).unwrap();
    let loaded = file.load(usize::MAX).unwrap();
    let kept: Vec<&str> = loaded.entries.iter().map(message).collect();
    assert_eq!(kept, ["one", "two", "four"]);
    assert_eq!(loaded.skipped.len(), 1);
}

#[test]
fn no_file_is_no_history() {
    let dir = Dir::new();
    let loaded = dir.file().load(usize::MAX).unwrap();
    assert!(loaded.entries.is_empty() && loaded.skipped.is_empty());
}

#[test]
fn a_file_made_readable_to_others_is_made_private() {
    let dir = Dir::new();
    let file = dir.file();
    std::fs::create_dir_all(file.path().parent().unwrap()).unwrap();
    std::fs::write(file.path(), "").unwrap();
    std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    file.append(&[entry(&mut History::new(1), "one")]).unwrap();
    let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Each of two writers (with their own handles, as two processes have) appends `calls`
/// calls; returns what each appended, in order.
fn race(file: &HistoryFile, calls: usize) -> [Vec<String>; 2] {
    let writer = |name: &'static str| {
        let file = HistoryFile::at(file.path());
        std::thread::spawn(move || {
            let mut history = History::new(1);
            (0..calls)
                .map(|n| {
                    let text = format!("{name} {n}");
                    file.append(&[entry(&mut history, &text)]).unwrap();
                    text
                })
                .collect::<Vec<_>>()
        })
    };
    let (a, b) = (writer("a"), writer("b"));
    [a.join().unwrap(), b.join().unwrap()]
}

#[test]
fn two_writers_at_once_lose_nothing() {
    let dir = Dir::new();
    let file = dir.file();
    let written = race(&file, 400);
    let loaded = file.load(usize::MAX).unwrap();
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    assert_eq!(loaded.entries.len(), 800);
    for (name, calls) in ["a", "b"].iter().zip(&written) {
        let theirs: Vec<String> = loaded
            .entries
            .iter()
            .map(message)
            .filter(|m| m.starts_with(&format!("{name} ")))
            .map(str::to_string)
            .collect();
        assert_eq!(&theirs, calls, "{name}'s calls, all of them, in order");
    }
    let mut ids: Vec<u64> = loaded.entries.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 800, "ids are unique across writers");
}

#[test]
fn two_writers_compacting_at_once_keep_each_ones_newest_calls() {
    let dir = Dir::new();
    let file = dir.file();
    let written = race(&file, 2_000);
    let loaded = file.load(usize::MAX).unwrap();
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    assert!(loaded.entries.len() <= MAX_CALLS);
    // A call appended to a file another writer had just replaced would be lost: each writer's
    // kept calls must be an unbroken run ending with its last.
    for (name, calls) in ["a", "b"].iter().zip(&written) {
        let theirs: Vec<&str> = loaded
            .entries
            .iter()
            .map(message)
            .filter(|m| m.starts_with(&format!("{name} ")))
            .collect();
        assert!(!theirs.is_empty());
        let tail: Vec<&str> = calls[calls.len() - theirs.len()..]
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(theirs, tail, "{name}'s newest calls");
    }
}

#[test]
fn a_writer_that_cannot_get_the_lock_gives_up_and_says_so() {
    let dir = Dir::new();
    let file = dir.file();
    file.append(&[entry(&mut History::new(1), "one")]).unwrap();
    let holder = File::open(file.path()).unwrap();
    holder.lock().unwrap();
    let started = std::time::Instant::now();
    let error = file
        .append(&[entry(&mut History::new(1), "two")])
        .unwrap_err();
    assert!(started.elapsed() >= LOCK_WAIT, "it waited first");
    assert!(error.to_string().contains("still locked"), "{error}");
    drop(holder);
    file.append(&[entry(&mut History::new(1), "three")])
        .unwrap();
    let kept: Vec<String> = file
        .load(usize::MAX)
        .unwrap()
        .entries
        .iter()
        .map(|e| message(e).to_string())
        .collect();
    assert_eq!(kept, ["one", "three"]);
}

#[test]
fn a_failed_call_without_a_task_reads_back() {
    let dir = Dir::new();
    let file = dir.file();
    let mut history = History::new(1);
    let request = CallRequest::new("svc", "sleep", json!(null)).with_timeout(None);
    let failed = CallOutcome {
        result: Err(McpError::TimedOut(Duration::from_secs(1))),
        served_by: None,
        duration: Duration::from_secs(1),
        retries: Vec::new(),
        exchange: Exchange::default(),
    };
    let id = history.record(&request, &failed);
    file.append(&[history.get(id).unwrap().clone()]).unwrap();
    let loaded = file.load(1).unwrap().entries.remove(0);
    assert_eq!(loaded.timeout, None);
    assert_eq!(loaded.served_by, None);
    assert_eq!(loaded.target, crate::mcp::Target::AnyReady);
    assert_eq!(loaded.kind, crate::mcp::OutcomeKind::TimedOut);
    assert_eq!(loaded.arguments, Value::Null);
}

#[test]
fn a_line_written_before_calls_carried_a_trace_loads() {
    let dir = Dir::new();
    let file = dir.file();
    let mut history = History::new(1);
    let written = entry(&mut history, "old");
    file.append(std::slice::from_ref(&written)).unwrap();
    let mut line = serde_json::to_value(&written).unwrap();
    line["exchange"].as_object_mut().unwrap().remove("trace_id");
    std::fs::write(file.path(), format!("{line}\n")).unwrap();
    let loaded = file.load(1).unwrap();
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    assert_eq!(loaded.entries[0].exchange.trace_id, None);
    assert_eq!(message(&loaded.entries[0]), "old");
}
