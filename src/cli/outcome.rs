//! A call's outcome as the commands print it: the text a person reads (the result's blocks,
//! a server's text inert, then how it ended and which replica served it) and the `--json`
//! object.

use serde_json::{Value, json};

use crate::{
    inert::{inert, inert_line},
    mcp::{CallOutcome, ContentBlock, OutcomeKind},
};

pub fn outcome_json(outcome: &CallOutcome) -> Value {
    let (result, error) = match &outcome.result {
        Ok(result) => (result.to_json(), Value::Null),
        Err(error) => (Value::Null, Value::String(error.to_string())),
    };
    json!({
        "outcome": outcome.kind(),
        "result": result,
        "error": error,
        "served_by": outcome.served_by,
        // The trace the request carried: the server's log line for the call has it.
        "trace_id": outcome.exchange.trace_id,
        "duration_ms": (outcome.duration.as_secs_f64() * 1_000_000.0).round() / 1000.0,
        "retries": outcome.retries,
        "logs": &outcome.exchange.logs,
        "task": &outcome.exchange.task,
        "refused": &outcome.exchange.refused,
        // What crossed the wire, per request of the call: the same record the console's
        // protocol pane shows.
        "wire": outcome.exchange.rounds,
    })
}

/// A content block as a line of text: the text itself, or what the block holds.
fn block_text(block: &ContentBlock) -> String {
    let size = |base64: &str| format!("{} bytes", base64.len() / 4 * 3);
    match block {
        ContentBlock::Text(text) => text.text.clone(),
        ContentBlock::Image(image) => format!("[image {}, {}]", image.mime_type, size(&image.data)),
        ContentBlock::Audio(audio) => format!("[audio {}, {}]", audio.mime_type, size(&audio.data)),
        ContentBlock::ResourceLink(link) => {
            let mime = link.mime_type.as_deref().unwrap_or("no mime type");
            inert_line(&format!(
                "[resource link {} · {} · {mime}]",
                link.uri, link.name
            ))
            .into_owned()
        }
        ContentBlock::Resource(embedded) => {
            let value = serde_json::to_value(&embedded.resource).unwrap_or_default();
            let uri = value["uri"].as_str().unwrap_or("");
            let mut line = inert_line(&format!("[resource {uri}]")).into_owned();
            if let Some(text) = value["text"].as_str() {
                line.push('\n');
                line.push_str(text);
            }
            line
        }
        other => {
            let kind = serde_json::to_value(other).unwrap_or_default();
            format!("[{} block]", kind["type"].as_str().unwrap_or("content"))
        }
    }
}

pub fn render(outcome: &CallOutcome) -> String {
    let mut out = String::new();
    match &outcome.result {
        Ok(result) => {
            // Blocks in the order the server sent them; a server's text is shown inert.
            for block in &result.content {
                out.push_str(&inert(&block_text(block)));
                out.push('\n');
            }
            // structuredContent repeats the text when a tool serialises it there too (the
            // spec asks servers to); it is shown only when it says something else.
            let text = result.text();
            let repeated = |structured: &Value| {
                serde_json::from_str::<Value>(text.trim()).is_ok_and(|parsed| parsed == *structured)
            };
            if let Some(structured) = &result.structured_content
                && !repeated(structured)
            {
                out.push_str(&serde_json::to_string_pretty(structured).unwrap_or_default());
                out.push('\n');
            }
        }
        Err(error) => out.push_str(&format!("error: {}\n", inert(&error.to_string()))),
    }
    let status = outcome.kind().label();
    let mut served = match &outcome.served_by {
        Some(by) => format!(" · {by}"),
        None => String::new(),
    };
    if let Some(trace_id) = &outcome.exchange.trace_id {
        served.push_str(&format!(" · trace {trace_id}"));
    }
    if let Some(task) = &outcome.exchange.task {
        out.push_str(&format!("── {}\n", inert_line(&task.to_string())));
    }
    // A call refused before it was sent has no timing worth showing.
    if outcome.served_by.is_some() || outcome.kind() != OutcomeKind::Failed {
        out.push_str(&format!(
            "── {status} in {:.1} ms{served}\n",
            outcome.duration.as_secs_f64() * 1000.0
        ));
    }
    out
}
