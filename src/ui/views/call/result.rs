//! The call view's lower pane: a finished call as lines (text blocks, pretty JSON,
//! structuredContent, media and resources as metadata, the error), the "served by" footer,
//! and the protocol pane's JSON-RPC exchange. Pure functions of a `CallOutcome`.

use std::time::Duration;

use ratatui::{
    style::Modifier,
    text::{Line, Span},
};
use serde_json::Value;

use crate::{
    inert::{inert, inert_line},
    mcp::{CallOutcome, ContentBlock, McpError, OutcomeKind},
    ui::theme::Theme,
};

use super::field::pretty;

pub fn millis(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

fn size(bytes: usize) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// The decoded size of base64 data, without decoding it.
fn base64_size(data: &str) -> usize {
    let padding = data.bytes().rev().take_while(|b| *b == b'=').count();
    (data.len() / 4 * 3).saturating_sub(padding)
}

/// Pretty JSON, keys and values coloured.
pub fn json_lines(value: &Value, theme: Theme) -> Vec<Line<'static>> {
    styled_json_lines(&pretty(value), theme)
}

/// Lines of indented JSON text, keys and values styled apart.
pub fn styled_json_lines(text: &str, theme: Theme) -> Vec<Line<'static>> {
    let key = theme.title().remove_modifier(Modifier::BOLD);
    text.lines()
        .map(|line| {
            let body = line.trim_start();
            let mut spans = vec![Span::raw(line[..line.len() - body.len()].to_string())];
            let mut rest = body;
            if let Some(end) = string_end(body)
                && body[end..].starts_with(": ")
            {
                spans.push(Span::styled(body[..end].to_string(), key));
                spans.push(Span::raw(": "));
                rest = &body[end + 2..];
            }
            let style = match rest.chars().next() {
                Some('"') => theme.ok(),
                Some('0'..='9' | '-' | 't' | 'f' | 'n') => theme.warn(),
                _ => Default::default(),
            };
            spans.push(Span::styled(rest.to_string(), style));
            Line::from(spans)
        })
        .collect()
}

/// The byte index just past the JSON string that starts `text`.
fn string_end(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// A text block: pretty JSON when it is a JSON object or array, else its lines.
fn text_lines(text: &str, theme: Theme) -> Vec<Line<'static>> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) => json_lines(&value, theme),
        _ => inert(text)
            .lines()
            .map(|l| Line::from(l.to_string()))
            .collect(),
    }
}

fn media(kind: &str, mime: &str, data: &str) -> String {
    format!("[{kind}] {mime}, {}", size(base64_size(data)))
}

fn block_lines(block: &ContentBlock, theme: Theme) -> Vec<Line<'static>> {
    let meta = |text: String| {
        let text = inert_line(&text).into_owned();
        vec![Line::from(Span::styled(text, theme.header()))]
    };
    match block {
        ContentBlock::Text(text) => text_lines(&text.text, theme),
        ContentBlock::Image(i) => meta(media("image", &i.mime_type, &i.data)),
        ContentBlock::Audio(a) => meta(media("audio", &a.mime_type, &a.data)),
        ContentBlock::Resource(embedded) => {
            let value = serde_json::to_value(&embedded.resource).unwrap_or_default();
            let field = |k: &str| {
                value
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let (kind, bytes) = match (value.get("text"), value.get("blob")) {
                (Some(Value::String(t)), _) => ("text", t.len()),
                (_, Some(Value::String(b))) => ("blob", base64_size(b)),
                _ => ("empty", 0),
            };
            let mime = field("mimeType");
            let mime = if mime.is_empty() {
                "no mime type".into()
            } else {
                mime
            };
            let mut lines = meta(format!(
                "[resource] {} · {mime} · {kind} {}",
                field("uri"),
                size(bytes)
            ));
            if kind == "text" {
                lines.extend(text_lines(&field("text"), theme));
            }
            lines
        }
        ContentBlock::ResourceLink(link) => {
            let mut text = format!("[resource link] {} · {}", link.uri, link.name);
            if let Some(mime) = &link.mime_type {
                text.push_str(&format!(" · {mime}"));
            }
            if let Some(bytes) = link.size {
                text.push_str(&format!(" · {}", size(bytes as usize)));
            }
            meta(text)
        }
        other => meta(format!(
            "[content] {}",
            serde_json::to_string(other).unwrap_or_default()
        )),
    }
}

/// Everything the result pane shows of a finished call, before the footer.
/// The result (or the error), then the log lines the server sent with the call.
pub fn result_lines(outcome: &CallOutcome, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = answer_lines(outcome, theme);
    for (at, note) in outcome.exchange.refused.iter().enumerate() {
        let line = inert_line(note).into_owned();
        lines.insert(at, Line::from(Span::styled(line, theme.warn())));
    }
    if let Some(task) = &outcome.exchange.task {
        let line = inert_line(&task.to_string()).into_owned();
        lines.insert(0, Line::from(Span::styled(line, theme.dim())));
    }
    let logs = &outcome.exchange.logs;
    if !logs.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!("server log ({})", logs.len()),
            theme.header(),
        )));
        for log in logs {
            let style = match log.level.as_str() {
                "debug" | "info" | "notice" => theme.dim(),
                "warning" => theme.warn(),
                _ => theme.error(),
            };
            lines.push(Line::styled(
                inert_line(&log.to_string()).into_owned(),
                style,
            ));
        }
    }
    lines
}

fn answer_lines(outcome: &CallOutcome, theme: Theme) -> Vec<Line<'static>> {
    let result = match &outcome.result {
        Ok(result) => result,
        Err(McpError::InvalidArguments(problems)) => {
            let mut lines = vec![Line::from(Span::styled(
                "invalid arguments:",
                theme.error(),
            ))];
            lines.extend(
                problems
                    .iter()
                    .map(|p| Line::styled(format!("  {p}"), theme.error())),
            );
            return lines;
        }
        Err(error) => {
            let style = match outcome.kind() {
                OutcomeKind::Cancelled | OutcomeKind::TimedOut => theme.warn(),
                _ => theme.error(),
            };
            return vec![Line::from(Span::styled(
                inert_line(&error.to_string()).into_owned(),
                style,
            ))];
        }
    };
    let mut lines = Vec::new();
    if result.is_error {
        lines.push(Line::from(Span::styled(
            "the tool reported an error (isError: true)",
            theme.error(),
        )));
    }
    let structured = result.structured_content.as_ref();
    for block in &result.content {
        // Tools that return structuredContent usually repeat it as text: show it once.
        let repeats = block
            .as_text()
            .and_then(|t| serde_json::from_str::<Value>(&t.text).ok())
            .is_some_and(|v| Some(&v) == structured);
        if !repeats {
            let mut block_lines = block_lines(block, theme);
            if result.is_error {
                for line in &mut block_lines {
                    line.style = theme.error();
                }
            }
            lines.extend(block_lines);
        }
    }
    if let Some(value) = structured {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(Line::from(Span::styled(
            "structuredContent",
            theme.header(),
        )));
        lines.extend(json_lines(value, theme));
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled("(empty result)", theme.dim())));
    }
    lines
}

/// "served by task 0f2ab1c9 (rev 2, 127.0.0.1:41010) in 12.3 ms", with the tasks that refused.
pub fn served_line(outcome: &CallOutcome) -> String {
    let mut text = match &outcome.served_by {
        Some(by) => format!("served by {by} in {}", millis(outcome.duration)),
        None => "not sent".to_string(),
    };
    for retry in &outcome.retries {
        let id = &retry.task_id[..retry.task_id.len().min(8)];
        text.push_str(&format!(" · task {id} refused: {}", retry.reason));
    }
    if let Some(trace_id) = &outcome.exchange.trace_id {
        text.push_str(&format!(" · trace {trace_id}"));
    }
    text
}

/// The word for how the call ended, and its style.
pub fn status(outcome: &CallOutcome, theme: Theme) -> Span<'static> {
    let (word, style) = match outcome.kind() {
        OutcomeKind::Ok => ("ok", theme.ok()),
        OutcomeKind::ToolError => ("tool error", theme.error()),
        OutcomeKind::Failed => ("failed", theme.error()),
        OutcomeKind::TimedOut => ("timed out", theme.warn()),
        OutcomeKind::Cancelled => ("cancelled", theme.warn()),
    };
    Span::styled(word, style)
}

/// Breaks lines longer than `width` characters, keeping styles.
pub fn wrap(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        if line.width() <= width {
            out.push(line);
            continue;
        }
        let mut current: Vec<Span<'static>> = Vec::new();
        let mut used = 0;
        for span in line.spans {
            let mut chunk = String::new();
            for c in span.content.chars() {
                if used == width {
                    if !chunk.is_empty() {
                        current.push(Span::styled(std::mem::take(&mut chunk), span.style));
                    }
                    out.push(Line::from(std::mem::take(&mut current)).style(line.style));
                    used = 0;
                }
                chunk.push(c);
                used += 1;
            }
            if !chunk.is_empty() {
                current.push(Span::styled(chunk, span.style));
            }
        }
        out.push(Line::from(current).style(line.style));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rmcp::model::{Resource, ResourceContents};
    use serde_json::json;

    use super::*;
    use crate::{mcp::ToolResult, ui::views::call::fixtures::served_outcome};

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    fn outcome(result: Result<ToolResult, McpError>) -> CallOutcome {
        served_outcome(result, Duration::from_micros(12_345))
    }

    #[test]
    fn the_servers_log_lines_follow_the_answer_inert() {
        let mut failed = outcome(Err(McpError::TimedOut(Duration::from_secs(5))));
        failed.exchange.logs.push(crate::mcp::ServerLog {
            level: "warning".into(),
            logger: Some("db".into()),
            data: json!("pool exhausted\u{1b}[2J"),
        });
        let shown = text(&result_lines(&failed, Theme::plain()));
        assert_eq!(
            shown[shown.len() - 2..],
            ["server log (1)", "[warning] db: pool exhausted\\u{1b}[2J"]
        );
    }

    #[test]
    fn media_and_resources_are_metadata_lines() {
        let link = Resource::new("file:///etc/motd", "motd");
        let result = ToolResult {
            content: vec![
                ContentBlock::image("aGVsbG8=", "image/png"),
                ContentBlock::audio("A".repeat(4096), "audio/wav"),
                ContentBlock::resource(ResourceContents::text("hi", "mem://note")),
                ContentBlock::resource_link(link),
            ],
            structured_content: None,
            is_error: false,
        };
        assert_eq!(
            text(&result_lines(&outcome(Ok(result)), Theme::plain())),
            vec![
                "[image] image/png, 5 B",
                "[audio] audio/wav, 3.0 KiB",
                "[resource] mem://note · text/plain · text 2 B",
                "hi",
                "[resource link] file:///etc/motd · motd",
            ]
        );
    }

    #[test]
    fn structured_content_repeated_as_text_is_shown_once() {
        let value = json!({"task": "0f2ab1c9", "revision": 2});
        let result = ToolResult {
            content: vec![ContentBlock::text(value.to_string())],
            structured_content: Some(value),
            is_error: false,
        };
        let lines = text(&result_lines(&outcome(Ok(result)), Theme::plain()));
        assert_eq!(lines[0], "structuredContent");
        assert_eq!(lines.iter().filter(|l| l.contains("revision")).count(), 1);
    }

    #[test]
    fn footer_errors_and_wrapping() {
        let failed = outcome(Err(McpError::Cancelled));
        assert_eq!(
            served_line(&failed),
            "served by task 0f2ab1c9 (rev 2, 127.0.0.1:41010) in 12.3 ms"
        );
        assert_eq!(
            text(&result_lines(&failed, Theme::plain())),
            vec!["cancelled"]
        );
        assert_eq!(millis(Duration::from_millis(1234)), "1.23 s");
        let wrapped = wrap(vec![Line::from("abcdefg")], 3);
        assert_eq!(text(&wrapped), vec!["abc", "def", "g"]);
        let keyed = json_lines(&json!({"a\"b": "x"}), Theme::plain());
        assert_eq!(keyed[1].spans[1].content, "\"a\\\"b\"");
    }
}
