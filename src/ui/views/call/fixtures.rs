//! The call view's test data: a tool with an input of every kind, and finished calls built by
//! hand (a result with structuredContent, a tool error) with their recorded HTTP exchange, and
//! helpers that drive a call view the way keys do.

use std::time::Duration;

use serde_json::{Value, json};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::CallView;
use crate::ui::views::{Context, View};
use crate::{
    mcp::{
        CallOutcome, ContentBlock, Exchange, McpError, ServedBy, ToolInfo, ToolResult,
        wire::WireLog,
    },
    ui::{
        action::{Action, Scope},
        keys::KeyId,
    },
};

/// The trace id of the calls `outcome` makes.
pub const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub const SERVICE: &str = "mcpfleet-server";
pub const TASK: &str = "0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c";

pub fn tool() -> ToolInfo {
    ToolInfo {
        name: "search_logs".into(),
        title: Some("Search logs".into()),
        description: Some("Find the log lines of this replica.\nSlow on big buffers.".into()),
        input_schema: json!({"type": "object", "required": ["query"], "properties": {
            "query": {"type": "string", "description": "Substring or /regex/."},
            "level": {"type": "string", "enum": ["debug", "info", "warn", "error"],
                      "default": "info"},
            "limit": {"type": "integer", "minimum": 1, "default": 50},
            "follow": {"type": "boolean"},
            "tasks": {"type": "array", "items": {"type": "string"}},
            "window": {"type": "object", "properties": {"from": {"type": "string"}}}}}),
        output_schema: None,
        read_only: Some(true),
        destructive: Some(false),
        idempotent: Some(true),
        open_world: None,
        ui_resource: None,
    }
}

pub fn served() -> ServedBy {
    ServedBy {
        task_id: Some(TASK.into()),
        revision: Some(2),
        zone: None,
        known_by: crate::mcp::KnownBy::Address,
        address: "127.0.0.1:41010".into(),
        url: "http://127.0.0.1:41010/mcp".into(),
    }
}

/// A call that ended with `result` after `duration`, served by `TASK`, its exchange not kept.
pub fn served_outcome(result: Result<ToolResult, McpError>, duration: Duration) -> CallOutcome {
    CallOutcome {
        result,
        served_by: Some(served()),
        duration,
        retries: Vec::new(),
        exchange: Exchange::default(),
    }
}

pub fn outcome(is_error: bool) -> CallOutcome {
    let (text, structured) = if is_error {
        ("invalid regex /(/: unclosed group".to_string(), None)
    } else {
        let found = json!({"count": 2, "lines": ["08:09:40 tool call echo ok",
                                                  "08:09:45 WARN drain deadline reached"]});
        ("2 lines match \"deadline|echo\"".to_string(), Some(found))
    };
    let response = json!({"jsonrpc": "2.0", "id": 3, "result": {
        "content": [{"type": "text", "text": text}], "structuredContent": structured,
        "isError": is_error}});
    let request = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "search_logs", "arguments": {"query": "deadline|echo"},
                   "_meta": {"progressToken": 3}}});
    let progress = json!({"jsonrpc": "2.0", "method": "notifications/progress",
        "params": {"progressToken": 3, "progress": 1, "total": 2}});
    let result = Ok(ToolResult {
        content: vec![ContentBlock::text(text)],
        structured_content: structured,
        is_error,
    });
    let exchange = Exchange {
        trace_id: Some(TRACE.into()),
        ..recorded(&request, &[progress, response])
    };
    CallOutcome {
        exchange,
        ..served_outcome(result, Duration::from_micros(12_345))
    }
}

/// `request` POSTed and answered with `events` on an SSE stream, recorded as the wire client
/// records them, with fixed timings.
pub fn recorded(request: &Value, events: &[Value]) -> Exchange {
    let log = WireLog::default();
    let headers = vec![
        (
            "accept".to_string(),
            "text/event-stream, application/json".to_string(),
        ),
        ("mcp-protocol-version".to_string(), "2025-11-25".to_string()),
        ("mcp-session-id".to_string(), "4f1c".to_string()),
    ];
    let body = request.to_string();
    let seq = log.begin(
        "POST",
        "http://10.0.1.17:8080/mcp",
        headers,
        Some(body.as_bytes()),
    );
    log.responded(
        seq,
        200,
        vec![("content-type".into(), "text/event-stream".into())],
    );
    for event in events {
        log.event(seq, &sse_stream::Sse::default().data(event.to_string()));
    }
    let mut rounds = log.rounds(&[request["id"].clone()]);
    for http in rounds.iter_mut().flat_map(|round| &mut round.http) {
        http.time = "2026-12-07T08:09:40.000Z".into();
        http.elapsed_ms = Some(1.2);
        for (n, event) in http.events.iter_mut().enumerate() {
            event.after_ms = 2.0 + n as f64;
        }
    }
    Exchange {
        rounds,
        logs: Vec::new(),
        refused: Vec::new(),
        task: None,
        trace_id: None,
    }
}

pub fn view() -> CallView {
    CallView::new(Scope::service(SERVICE), tool(), "2026-07-28", None)
}

pub fn press(
    view: &mut CallView,
    ctx: &Context,
    code: KeyCode,
    mods: KeyModifiers,
) -> Option<Action> {
    view.on_raw_key(KeyEvent::new(code, mods), ctx)
}

pub fn type_text(view: &mut CallView, ctx: &Context, text: &str) {
    for c in text.chars() {
        assert_eq!(press(view, ctx, KeyCode::Char(c), KeyModifiers::NONE), None);
    }
}

/// Sends the form and starts its call as the app would, as call 1.
pub fn started(view: &mut CallView, ctx: &Context) -> u64 {
    match view.on_key(KeyId::Send, ctx) {
        Some(Action::StartCall(_)) => {
            view.on_call_started(1, ctx.now);
            1
        }
        other => panic!("expected a call, got {other:?}"),
    }
}
