//! What the resources screen shows of a read: a line saying what was read and when (and, for
//! a watched resource, how it is watched and when it last changed), then each item — text
//! inert, line by line; a blob as one line with its MIME type and size. Pure.

use std::time::SystemTime;

use ratatui::text::{Line, Span};
use rmcp::model::{ReadResourceResult, ResourceContents};

use crate::{
    inert::inert,
    ui::{theme::Theme, views::chrome},
};

/// The last read of one resource.
#[derive(Debug, Clone)]
pub struct Read {
    pub uri: String,
    pub at: SystemTime,
    pub result: Result<ReadResourceResult, String>,
}

/// A subscription of this screen to one resource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Watched {
    /// The protocol mechanism, once the server took the subscription.
    pub how: Option<&'static str>,
    pub updates: u32,
    pub last_update: Option<SystemTime>,
    /// Why it ended, when it ended by itself.
    pub ended: Option<String>,
}

pub fn lines(
    read: &Read,
    watched: Option<&Watched>,
    now: SystemTime,
    theme: Theme,
) -> Vec<Line<'static>> {
    let mut head = vec![Span::styled(
        format!("read {} ago", chrome::age(read.at, now)),
        theme.dim(),
    )];
    if let Some(watched) = watched {
        head.push(Span::styled(" · ", theme.dim()));
        head.extend(watch_spans(watched, now, theme));
    }
    let mut lines = vec![Line::from(head)];
    let result = match &read.result {
        Ok(result) => result,
        Err(error) => {
            lines.push(Line::styled(inert(error).into_owned(), theme.error()));
            return lines;
        }
    };
    if result.contents.is_empty() {
        lines.push(Line::styled("(no contents)", theme.dim()));
    }
    for contents in &result.contents {
        match contents {
            ResourceContents::TextResourceContents {
                uri,
                mime_type,
                text,
                ..
            } => {
                if result.contents.len() > 1 || uri != &read.uri {
                    lines.push(item_line(uri, mime_type.as_deref(), theme));
                }
                lines.extend(inert(text).lines().map(|line| Line::raw(line.to_string())));
            }
            ResourceContents::BlobResourceContents {
                uri,
                mime_type,
                blob,
                ..
            } => {
                let bytes = blob.trim_end_matches('=').len() * 3 / 4;
                let text = format!(
                    "[blob · {} · {bytes} bytes ({} base64 characters)] · mcpfleet read … --output FILE --output-format raw saves it",
                    mime_type.as_deref().unwrap_or("no MIME type"),
                    blob.len(),
                );
                if uri != &read.uri {
                    lines.push(item_line(uri, mime_type.as_deref(), theme));
                }
                lines.push(Line::styled(text, theme.dim()));
            }
            _ => lines.push(Line::styled(
                "[contents of a kind unknown here]",
                theme.dim(),
            )),
        }
    }
    lines
}

fn item_line(uri: &str, mime: Option<&str>, theme: Theme) -> Line<'static> {
    let mime = mime.map(|m| format!(" · {m}")).unwrap_or_default();
    Line::styled(format!("── {}{mime}", inert(uri)), theme.header())
}

/// How the resource is watched, for its content pane and the screen's summary.
pub fn watch_spans(watched: &Watched, now: SystemTime, theme: Theme) -> Vec<Span<'static>> {
    if let Some(ended) = &watched.ended {
        return vec![Span::styled(
            format!("subscription ended: {}", inert(ended)),
            theme.error(),
        )];
    }
    let Some(how) = watched.how else {
        return vec![Span::styled("subscribing…", theme.dim())];
    };
    let mut spans = vec![Span::styled(format!("subscribed ({how})"), theme.ok())];
    match watched.last_update {
        Some(at) => spans.push(Span::styled(
            format!(
                " · ● updated {} ago ({} update{})",
                chrome::age(at, now),
                watched.updates,
                if watched.updates == 1 { "" } else { "s" }
            ),
            theme.warn(),
        )),
        None => spans.push(Span::styled(" · no update yet", theme.dim())),
    }
    spans
}
