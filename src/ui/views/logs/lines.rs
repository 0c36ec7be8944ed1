//! How one log line looks in the logs view: the plain text (what the filter matches and what
//! `s` saves) and the styled spans (what is drawn), hard wrapping to the screen width, and the
//! expanded form of a line's fields. Pure functions of a `LogLine`; no state, no terminal.

use std::{borrow::Cow, fmt::Write as _, time::SystemTime};

use ratatui::{
    style::Style,
    text::{Line, Span},
};

use crate::{
    fleet::{Level, LogLine},
    ui::theme::Theme,
};

/// Fields already shown elsewhere on the line. `msg` only counts when it became the message.
const SHOWN: &[&str] = &["timestamp", "level", "message", "target"];
/// Width of the level column.
const LEVEL_WIDTH: usize = 5;
/// Indentation of the expanded fields under their line.
const EXPAND_INDENT: &str = "    ";

/// Time of day in UTC with milliseconds, `HH:MM:SS.mmm`.
pub fn clock(at: SystemTime) -> String {
    let mut out = String::with_capacity(12);
    clock_into(at, &mut out);
    out
}

// The filter formats every line of the buffer when it changes, so these avoid `format!`.
fn clock_into(at: SystemTime, out: &mut String) {
    let since = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs() % 86_400;
    let digits = |out: &mut String, n: u64, width: u32| {
        for place in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10u64.pow(place) % 10) as u8));
        }
    };
    digits(out, secs / 3600, 2);
    out.push(':');
    digits(out, secs % 3600 / 60, 2);
    out.push(':');
    digits(out, secs % 60, 2);
    out.push('.');
    digits(out, u64::from(since.subsec_millis()), 3);
}

/// UTC timestamp for file names, `YYYYMMDDTHHMMSSZ`.
pub fn file_stamp(at: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_seconds(at).to_string();
    stamp.chars().filter(|c| !matches!(c, '-' | ':')).collect()
}

fn level_label(level: Option<Level>) -> &'static str {
    match level {
        Some(Level::Error) => "ERROR",
        Some(Level::Warn) => "WARN",
        Some(Level::Info) => "INFO",
        Some(Level::Debug) => "DEBUG",
        Some(Level::Trace) => "TRACE",
        None => "",
    }
}

fn level_style(level: Option<Level>, theme: Theme) -> Style {
    match level {
        Some(Level::Error) => theme.error(),
        Some(Level::Warn) => theme.warn(),
        Some(Level::Debug | Level::Trace) => theme.dim(),
        _ => Style::default(),
    }
}

/// Who wrote the line: the task's short id, with its service in front when several services
/// share the view.
fn source_into(line: &LogLine, with_service: bool, out: &mut String) {
    if with_service {
        out.push_str(&line.service);
        out.push('/');
    }
    out.push_str(short_id(&line.task_id));
}

/// The first 8 characters of a task id, as the console shows it everywhere.
pub fn short_id(id: &str) -> &str {
    id.char_indices().nth(8).map_or(id, |(end, _)| &id[..end])
}

fn source_label(line: &LogLine, with_service: bool) -> String {
    let mut out = String::new();
    source_into(line, with_service, &mut out);
    out
}

/// Makes text safe to draw: terminal escape sequences go, tabs become spaces, line breaks
/// become a visible mark, other control characters go.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    // Bytes below 0x20 and DEL are the C0 controls; 0xC2 leads the C1 ones (and a few
    // printable characters, which the slow path keeps).
    if !text.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI: ESC [ parameters… final byte in @..~; other escapes: ESC and one char.
                if chars.next_if_eq(&'[').is_some() {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                } else {
                    chars.next();
                }
            }
            '\t' => out.push_str("  "),
            '\n' => out.push('⏎'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn push_value(out: &mut String, value: &serde_json::Value) {
    match value {
        serde_json::Value::String(s)
            if !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || c == '"') =>
        {
            out.push_str(&sanitize(s));
        }
        // JSON text escapes control characters itself.
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// Fields shown right after the message, in this order: the ones a tool-call line is read for.
const FIRST_FIELDS: &[&str] = &["tool", "outcome", "duration_ms", "error"];

/// The fields not shown elsewhere, as ` key=value` pairs (each with a leading space).
fn fields_into(line: &LogLine, out: &mut String) {
    let Some(fields) = &line.fields() else {
        return;
    };
    let message_from_msg = !fields.contains_key("message");
    // What an on-call engineer scans for first comes first; the rest in name order.
    let first = FIRST_FIELDS
        .iter()
        .filter_map(|key| fields.get_key_value(*key));
    let rest = fields
        .iter()
        .filter(|(key, _)| !FIRST_FIELDS.contains(&key.as_str()));
    for (key, value) in first.chain(rest) {
        if SHOWN.contains(&key.as_str()) || (message_from_msg && key == "msg") {
            continue;
        }
        out.push(' ');
        out.push_str(&sanitize(key));
        out.push('=');
        push_value(out, value);
    }
}

/// The line as plain text, as shown: what the filter matches and what a save writes.
pub fn text_into(line: &LogLine, with_service: bool, out: &mut String) {
    clock_into(line.at, out);
    out.push(' ');
    source_into(line, with_service, out);
    out.push(' ');
    let level = level_label(line.level);
    out.push_str(level);
    out.extend(std::iter::repeat_n(' ', LEVEL_WIDTH + 1 - level.len()));
    out.push_str(&sanitize(&line.message));
    fields_into(line, out);
}

/// The columns before the message (time, task, level and their spaces), in cells.
pub fn prefix_width(line: &LogLine, with_service: bool) -> usize {
    12 + 1 + source_label(line, with_service).chars().count() + 1 + LEVEL_WIDTH + 1
}

/// The line as styled spans: task in its colour, level coloured, fields dimmed.
pub fn spans(
    line: &LogLine,
    with_service: bool,
    task_style: Style,
    theme: Theme,
) -> Vec<Span<'static>> {
    let mut fields = String::new();
    fields_into(line, &mut fields);
    let mut out = vec![
        Span::raw(clock(line.at)),
        Span::raw(" "),
        Span::styled(source_label(line, with_service), task_style),
        Span::raw(" "),
        Span::styled(
            format!("{:<LEVEL_WIDTH$}", level_label(line.level)),
            level_style(line.level, theme),
        ),
        Span::raw(" "),
        Span::raw(sanitize(&line.message).into_owned()),
    ];
    if !fields.is_empty() {
        out.push(Span::styled(fields, theme.dim()));
    }
    out
}

/// What Enter shows under a line: the full time, stream and task id, then its fields as
/// indented JSON.
pub fn expansion(line: &LogLine, theme: Theme) -> Vec<Line<'static>> {
    let mut rows = vec![Line::from(Span::styled(
        format!(
            "{EXPAND_INDENT}{} · {} · task {}",
            humantime::format_rfc3339_millis(line.at),
            line.stream,
            line.task_id,
        ),
        theme.dim(),
    ))];
    match &line.fields() {
        Some(fields) => {
            let pretty = serde_json::to_string_pretty(fields).unwrap_or_default();
            rows.extend(
                pretty
                    .lines()
                    .map(|row| Line::from(format!("{EXPAND_INDENT}{}", sanitize(row)))),
            );
        }
        None => rows.push(Line::from(Span::styled(
            format!("{EXPAND_INDENT}(plain text, no fields)"),
            theme.dim(),
        ))),
    }
    rows
}

fn char_width(c: char) -> usize {
    if c.is_ascii() {
        return 1;
    }
    let mut bytes = [0; 4];
    Span::raw(&*c.encode_utf8(&mut bytes)).width()
}

/// Wraps a line to `width` cells, at a space when one is in the second half of the row, else
/// within the word; rows after the first are indented by `indent` cells (the message column),
/// and the first row breaks only after the indent, so a message never starts on a row alone.
pub fn wrap(line: Line<'static>, width: usize, indent: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let indent = if indent * 2 > width { 0 } else { indent };
    // (character, its width, the span it belongs to)
    let cells: Vec<(char, usize, usize)> = line
        .spans
        .iter()
        .enumerate()
        .flat_map(|(i, span)| span.content.chars().map(move |c| (c, char_width(c), i)))
        .collect();
    let mut rows = Vec::new();
    let mut start = 0;
    loop {
        let lead = if rows.is_empty() { 0 } else { indent };
        let room = width - lead;
        let (mut end, mut used) = (start, 0);
        while end < cells.len() && (end == start || used + cells[end].1 <= room) {
            used += cells[end].1;
            end += 1;
        }
        if end < cells.len() {
            let earliest = start + (room / 2).max(if rows.is_empty() { indent } else { 1 });
            if let Some(space) = (earliest..=end).rev().find(|&i| cells[i].0 == ' ') {
                end = space + 1;
            }
        }
        rows.push(row_of(&line, &cells[start..end], lead));
        start = end;
        if start >= cells.len() {
            return rows;
        }
    }
}

/// One screen row from a run of cells, spaces at its end dropped, styles kept.
fn row_of(line: &Line<'static>, cells: &[(char, usize, usize)], lead: usize) -> Line<'static> {
    let kept = cells.len() - cells.iter().rev().take_while(|c| c.0 == ' ').count();
    let mut spans: Vec<Span<'static>> = Vec::new();
    if lead > 0 {
        spans.push(Span::raw(" ".repeat(lead)));
    }
    for run in cells[..kept].chunk_by(|a, b| a.2 == b.2) {
        let text: String = run.iter().map(|c| c.0).collect();
        spans.push(Span::styled(text, line.spans[run[0].2].style));
    }
    Line::from(spans).style(line.style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::fixtures;

    fn line(raw: &str) -> LogLine {
        LogLine::parse(
            "svc",
            "0f2ab1c9d8e74f6a",
            "stdout",
            fixtures::at(580) + std::time::Duration::from_millis(7),
            raw,
        )
    }

    fn text(line: &LogLine, with_service: bool) -> String {
        let mut out = String::new();
        text_into(line, with_service, &mut out);
        out
    }

    #[test]
    fn json_lines_show_their_other_fields_after_the_message() {
        let json = line(
            r#"{"timestamp":"x","level":"WARN","message":"slow call","target":"t","tool":"echo","note":"two words","ms":1.5}"#,
        );
        assert_eq!(
            text(&json, false),
            r#"08:09:40.007 0f2ab1c9 WARN  slow call tool=echo ms=1.5 note="two words""#
        );
        assert_eq!(
            text(&line("plain words"), true),
            "08:09:40.007 svc/0f2ab1c9       plain words"
        );
        let msg = line(r#"{"level":"info","msg":"hello","n":1}"#);
        assert_eq!(text(&msg, false), "08:09:40.007 0f2ab1c9 INFO  hello n=1");
    }

    #[test]
    fn short_ids_cut_at_characters() {
        assert_eq!(short_id("0f2ab1c9d8e74f6a"), "0f2ab1c9");
        assert_eq!(short_id("0f2a"), "0f2a");
        assert_eq!(short_id("ééééééééé"), "éééééééé");
    }

    #[test]
    fn escapes_and_control_characters_are_not_drawn() {
        assert_eq!(sanitize("\u{1b}[31mred\u{1b}[0m\tx\ny\r"), "red  x⏎y");
        assert!(matches!(sanitize("clean"), Cow::Borrowed(_)));
    }

    #[test]
    fn wrapping_keeps_styles_and_indents_continuations() {
        let texts = |line: Line<'static>, width, indent| -> Vec<String> {
            wrap(line, width, indent)
                .iter()
                .map(|r| r.to_string())
                .collect()
        };
        let styled = Line::from(vec![
            Span::raw("abcd"),
            Span::styled("efghij", Style::new().bold()),
        ]);
        let rows = wrap(styled.clone(), 4, 1);
        assert_eq!(rows[1].spans[1].style, Style::new().bold());
        assert_eq!(texts(styled, 4, 1), ["abcd", " efg", " hij"]);
        assert_eq!(texts(Line::from("ab"), 4, 1), ["ab"]);
        assert_eq!(texts(Line::from("漢字漢字"), 5, 0), ["漢字", "漢字"]);
        assert_eq!(
            texts(Line::from("12:00 INFO tool call went well"), 24, 11),
            ["12:00 INFO tool call", "           went well"]
        );
        assert_eq!(
            texts(Line::from("12:00 INFO averyveryverylongword"), 24, 11),
            ["12:00 INFO averyveryvery", "           longword"]
        );
    }

    #[test]
    fn file_stamps_have_no_separators() {
        assert_eq!(file_stamp(fixtures::at(0)), "20270115T080000Z");
    }
}
