//! The frame around every view: the header (source, refresh age and staleness, API counters,
//! read-only mark, breadcrumb) and the footer (key hints from the key table, then the message
//! line or the `:`/`/` prompt).

use std::time::SystemTime;

use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::Paragraph,
};

use crate::{
    fleet::FleetSnapshot,
    ui::{action::ViewKind, keys, theme::Theme},
};

pub fn age(since: SystemTime, now: SystemTime) -> String {
    let secs = now.duration_since(since).unwrap_or_default().as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{}s", secs / 60, secs % 60),
        _ => format!("{}h{}m", secs / 3600, secs % 3600 / 60),
    }
}

/// Data younger than this is shown as fresh; only older data counts its age, so an idle console
/// with a healthy source has nothing to redraw from one second to the next.
const FRESH_SECS: u64 = 5;

/// "refreshed just now", or "refreshed 12s ago" once the data is getting old; "live" for the
/// local fleet, whose supervisor pushes every change as it happens.
pub fn refreshed_label(snapshot: &FleetSnapshot, now: SystemTime) -> String {
    let fetched_at = snapshot.fetched_at;
    if snapshot.source == crate::fleet::SourceKind::Local && snapshot.stale.is_none() {
        "live".to_string()
    } else if now.duration_since(fetched_at).unwrap_or_default().as_secs() < FRESH_SECS {
        "refreshed just now".to_string()
    } else {
        format!("refreshed {} ago", age(fetched_at, now))
    }
}

pub struct HeaderInfo<'a> {
    pub snapshot: &'a FleetSnapshot,
    pub now: SystemTime,
    pub read_only: bool,
    pub crumbs: Vec<String>,
    pub filter: &'a str,
    pub dropped_logs: u64,
    /// The open port forwards, as the header shows them.
    pub forwards: Option<String>,
}

pub fn render_header(frame: &mut Frame, area: Rect, info: &HeaderInfo, theme: Theme) {
    let snapshot = info.snapshot;
    let mut first = vec![
        Span::styled("mcpfleet", theme.title()),
        Span::raw(format!(" │ {} ", source_label(snapshot))),
        Span::raw(format!("│ {} ", refreshed_label(snapshot, info.now))),
    ];
    if let Some(reason) = &snapshot.stale {
        first.push(Span::styled(format!("│ STALE: {reason} "), theme.error()));
    }
    if snapshot.api_calls > 0 || snapshot.api_errors > 0 {
        first.push(Span::raw(format!(
            "│ API {} calls, {} errors ",
            snapshot.api_calls, snapshot.api_errors
        )));
    }
    if info.dropped_logs > 0 {
        first.push(Span::styled(
            format!("│ {} log lines dropped ", info.dropped_logs),
            theme.warn(),
        ));
    }
    if let Some(forwards) = &info.forwards {
        first.push(Span::styled(format!("│ {forwards} "), theme.key()));
    }
    if info.read_only {
        first.push(Span::styled("│ READ-ONLY", theme.warn()));
    }
    let mut second = vec![Span::styled(info.crumbs.join(" › "), theme.key())];
    if !info.filter.is_empty() {
        second.push(Span::styled(format!("  /{}", info.filter), theme.warn()));
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second)]),
        area,
    );
}

/// "local fleet", "aws CLUSTER @ REGION", "static FILE".
pub fn source_label(snapshot: &FleetSnapshot) -> String {
    match snapshot.source {
        crate::fleet::SourceKind::Local => "local fleet".to_string(),
        crate::fleet::SourceKind::Aws => format!("aws {}", snapshot.context),
        crate::fleet::SourceKind::Static => format!("static {}", snapshot.context),
    }
}

/// Key hints for `view`, as many as fit in `width`.
pub fn hints(
    view: ViewKind,
    lists: bool,
    offered: crate::ui::keys::Offered,
    width: u16,
    theme: Theme,
) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0usize;
    for binding in keys::bindings(view, lists, offered)
        .into_iter()
        .filter(|b| b.hint)
    {
        let cost = binding.label.chars().count() + binding.description.chars().count() + 3;
        if used + cost > usize::from(width) {
            break;
        }
        used += cost;
        let style = if binding.dangerous {
            theme.dangerous()
        } else {
            theme.key()
        };
        spans.push(Span::styled(binding.label, style));
        spans.push(Span::raw(format!(" {}  ", binding.description)));
    }
    Line::from(spans)
}

/// The bottom line: a prompt being typed, or the latest message.
pub enum BottomLine<'a> {
    Prompt {
        sigil: char,
        text: &'a str,
        completions: &'a [String],
    },
    Message {
        text: &'a str,
        error: bool,
    },
    Empty,
}

pub fn render_footer(
    frame: &mut Frame,
    area: Rect,
    hints: Line<'static>,
    bottom: BottomLine,
    theme: Theme,
) {
    let last = match bottom {
        BottomLine::Prompt {
            sigil,
            text,
            completions,
        } => {
            let mut spans = vec![
                Span::styled(format!("{sigil}{text}"), theme.title()),
                Span::raw("█"),
            ];
            if !completions.is_empty() {
                let shown: Vec<&str> = completions.iter().take(6).map(String::as_str).collect();
                spans.push(Span::styled(
                    format!("   tab: {}", shown.join("  ")),
                    theme.dim(),
                ));
            }
            Line::from(spans)
        }
        BottomLine::Message { text, error } => Line::from(Span::styled(
            text.to_string(),
            if error { theme.error() } else { theme.ok() },
        )),
        BottomLine::Empty => Line::from(""),
    };
    frame.render_widget(Paragraph::new(vec![hints, last]), area);
}
