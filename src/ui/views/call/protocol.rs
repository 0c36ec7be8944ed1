//! The protocol pane: a call's HTTP exchanges as they crossed the wire — method, URL, status,
//! headers (credentials redacted when recorded), each JSON-RPC body and SSE event with its
//! timing — grouped by the rounds of an `input_required` call. Bodies are indented for
//! reading without reordering or rewriting a single token.

use ratatui::text::{Line, Span};

use crate::{
    inert::{inert, inert_line},
    mcp::{Exchange, HttpExchange, wire::Body},
    ui::theme::Theme,
};

use super::result::styled_json_lines;

pub fn protocol_lines(exchange: &Exchange, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let count = exchange.rounds.len();
    for (index, round) in exchange.rounds.iter().enumerate() {
        if count > 1 {
            lines.push(Line::from(Span::styled(
                format!(
                    "── round {} of {count} · request id {}",
                    index + 1,
                    round.request_id
                ),
                theme.title(),
            )));
        }
        for http in &round.http {
            http_lines(http, theme, &mut lines);
        }
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "(nothing went over the wire: the call did not reach a server)",
            theme.dim(),
        )));
    }
    lines
}

fn http_lines(http: &HttpExchange, theme: Theme, lines: &mut Vec<Line<'static>>) {
    let answer = match (http.status, &http.error) {
        (Some(status), _) => format!("{status}"),
        (None, Some(error)) => format!("no answer: {}", inert_line(error)),
        (None, None) => "waiting".to_string(),
    };
    let elapsed = http
        .elapsed_ms
        .map(|ms| format!(" in {ms:.1} ms"))
        .unwrap_or_default();
    lines.push(Line::from(vec![
        Span::styled(format!("+{:.1} ms ", http.at_ms), theme.dim()),
        Span::styled(
            format!(
                "{} {} → {answer}{elapsed}",
                http.method,
                inert_line(&http.url)
            ),
            theme.header(),
        ),
    ]));
    let headers = |arrow: &str, headers: &[(String, String)], lines: &mut Vec<Line<'static>>| {
        for (name, value) in headers {
            lines.push(Line::from(Span::styled(
                format!("{arrow} {name}: {}", inert_line(value)),
                theme.dim(),
            )));
        }
    };
    headers("→", &http.request_headers, lines);
    if let Some(body) = &http.request_body {
        body_lines("→", body, theme, lines);
    }
    headers("←", &http.response_headers, lines);
    if let Some(body) = &http.response_body {
        body_lines("←", body, theme, lines);
    }
    if http.events_dropped > 0 {
        lines.push(Line::from(Span::styled(
            format!("← … {} earlier events not kept", http.events_dropped),
            theme.dim(),
        )));
    }
    for event in &http.events {
        let mut title = format!("← event +{:.1} ms", event.after_ms);
        for (name, value) in [("id", &event.id), ("event", &event.event)] {
            if let Some(value) = value {
                title.push_str(&format!(" · {name} {}", inert_line(value)));
            }
        }
        if let Some(retry) = event.retry {
            title.push_str(&format!(" · retry {retry} ms"));
        }
        lines.push(Line::from(Span::styled(title, theme.dim())));
        if let Some(data) = &event.data {
            body_lines("", data, theme, lines);
        }
    }
    if let (Some(_), Some(error)) = (http.status, &http.error) {
        lines.push(Line::from(Span::styled(
            format!("← ended: {}", inert_line(error)),
            theme.error(),
        )));
    }
}

fn body_lines(arrow: &str, body: &Body, theme: Theme, lines: &mut Vec<Line<'static>>) {
    if !arrow.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("{arrow} body ({} bytes)", body.bytes),
            theme.dim(),
        )));
    }
    lines.extend(styled_json_lines(&indented(&body.text), theme));
    if body.is_cut() {
        lines.push(Line::from(Span::styled(
            format!("… {} more bytes not kept", body.bytes - body.text.len()),
            theme.dim(),
        )));
    }
}

/// `json` with a line per member and element, two spaces per level; every token stays as
/// sent (key order, number spelling, escapes). Text that is not JSON comes out line by line
/// as it is. Control characters outside JSON strings are shown escaped.
pub fn indented(json: &str) -> String {
    if !json.trim_start().starts_with(['{', '[']) {
        return inert(json).into_owned();
    }
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            push_inert(&mut out, c);
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // An empty object or array stays on one line.
                while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.push(chars.next().unwrap_or(' '));
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            ' ' | '\t' | '\r' | '\n' => {}
            _ => push_inert(&mut out, c),
        }
    }
    out
}

fn push_inert(out: &mut String, c: char) {
    out.push_str(&inert_line(c.encode_utf8(&mut [0; 4])));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mcp::WireRound;

    #[test]
    fn indenting_keeps_every_token_as_sent() {
        let sent = r#"{"z":1,"a":{"b":[1.50,"x,y:{"],"e":{}},"u":"\u00e9\\","n":[]}"#;
        let shown = indented(sent);
        assert_eq!(
            shown,
            "{\n  \"z\": 1,\n  \"a\": {\n    \"b\": [\n      1.50,\n      \"x,y:{\"\n    ],\n    \
             \"e\": {}\n  },\n  \"u\": \"\\u00e9\\\\\",\n  \"n\": []\n}"
        );
        let squeezed: String = shown
            .split('"')
            .enumerate()
            .map(|(i, part)| {
                if i % 2 == 0 {
                    part.replace([' ', '\n'], "")
                } else {
                    part.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\"");
        assert_eq!(squeezed, sent, "only whitespace outside strings was added");
    }

    #[test]
    fn escape_sequences_from_a_server_are_inert() {
        let shown = indented("\u{1b}[2J{\"a\":\"\u{1b}]52;c;AAAA\u{7}\"}");
        assert!(!shown.chars().any(|c| c.is_control() && c != '\n'));
        assert!(shown.contains("\\u{1b}[2J"));
    }

    #[test]
    fn each_round_its_exchanges_with_status_headers_and_events() {
        let log = crate::mcp::wire::WireLog::default();
        let body = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call"}).to_string();
        let headers = vec![("authorization".to_string(), "Bearer …".to_string())];
        let seq = log.begin(
            "POST",
            "http://127.0.0.1:1/mcp",
            headers,
            Some(body.as_bytes()),
        );
        log.responded(seq, 200, vec![("mcp-session-id".into(), "s-1".into())]);
        log.event(
            seq,
            &sse_stream::Sse::default()
                .id("e1")
                .data(r#"{"jsonrpc":"2.0","id":4,"result":{}}"#),
        );
        let rounds: Vec<WireRound> = log.rounds(&[json!(4)]);
        let exchange = Exchange {
            rounds,
            logs: Vec::new(),
            refused: Vec::new(),
            task: None,
            trace_id: None,
        };
        let text: Vec<String> = protocol_lines(&exchange, Theme::plain())
            .iter()
            .map(|l| l.to_string())
            .collect();
        let all = text.join("\n");
        assert!(
            text[0].contains("POST http://127.0.0.1:1/mcp → 200"),
            "{all}"
        );
        assert!(all.contains("→ authorization: Bearer …"), "{all}");
        assert!(all.contains("← mcp-session-id: s-1"), "{all}");
        assert!(
            all.contains("← event +") && all.contains("· id e1"),
            "{all}"
        );
        assert!(all.contains("\"method\": \"tools/call\""), "{all}");
    }
}
