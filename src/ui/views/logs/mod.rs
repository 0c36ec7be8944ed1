//! The logs view: the lines of the fleet, a service (its tasks interleaved by time) or one
//! task, following the newest or paused on a selected line; `/` filters by regex, `v` by level,
//! `w` wraps, enter expands a line's fields, `s` saves what matches to a file. Opened from a
//! call (`ctrl-g`), it shows the lines of the call's trace: its filter is the trace id, the
//! title says so, and Esc drops it before leaving.
//!
//! A frame costs the visible lines only: which lines match is kept in a `LineIndex` that grows
//! with the buffer and works through older lines within a time budget per frame
//! (`filter`), and only the lines on screen are formatted (`lines`).

use std::{
    collections::BTreeSet,
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
};

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::Paragraph,
};

mod filter;
mod lines;

use filter::{LevelFilter, LineIndex, TextFilter, line_at};
/// A line as the logs view shows it, for a call's inline log lines.
pub use lines::text_into;

use super::{Context, View};
use crate::ui::{
    action::{Action, Scope, ViewKind},
    keys::KeyId,
    widgets::list::move_selection,
};

/// One row of the screen and the line it belongs to; `main` rows are the line itself, the
/// others its expanded fields.
struct ScreenRow {
    seq: u64,
    main: bool,
    line: Line<'static>,
}

pub struct LogsView {
    /// The screen row the view was last drawn at; clicks come in screen rows.
    area_top: u16,
    scope: Scope,
    filter: TextFilter,
    /// The trace the filter holds, while it holds nothing else.
    trace: Option<String>,
    level: LevelFilter,
    wrap: bool,
    /// Following keeps the newest line in view; paused keeps `selected` where it is.
    follow: bool,
    /// Sequence number of the selected line (see `filter`), while paused.
    selected: u64,
    /// Sequence number of the first line on screen, while paused.
    top: Option<u64>,
    expanded: BTreeSet<u64>,
    index: LineIndex,
    with_service: bool,
    /// The line of each row drawn last, for clicks.
    row_lines: Vec<u64>,
    page: usize,
    /// Where `s` writes; the current directory unless a test points it elsewhere.
    pub save_dir: PathBuf,
}

impl LogsView {
    pub fn new(scope: Scope) -> Self {
        Self {
            area_top: 0,
            scope,
            filter: TextFilter::default(),
            trace: None,
            level: LevelFilter::All,
            wrap: false,
            follow: true,
            selected: 0,
            top: None,
            expanded: BTreeSet::new(),
            index: LineIndex::default(),
            with_service: false,
            row_lines: Vec::new(),
            page: 10,
            save_dir: PathBuf::new(),
        }
    }

    /// The lines of one trace: the trace id is the filter (the server logs it as its own
    /// field, which the lines show), so `/` shows and edits it like any other.
    pub fn for_trace(scope: Scope, trace_id: String) -> Self {
        Self {
            filter: TextFilter::new(&regex::escape(&trace_id)),
            trace: Some(trace_id),
            ..Self::new(scope)
        }
    }

    fn refresh(&mut self, ctx: &Context) {
        // Lines name their service when several services can share the view.
        self.with_service = self.scope.service.is_none() && ctx.snapshot.services.len() > 1;
        self.index.refresh(
            ctx.logs,
            &self.scope,
            self.with_service,
            &self.filter,
            self.level,
        );
        let evicted = ctx.logs.evicted();
        self.expanded.retain(|&seq| seq >= evicted);
    }

    fn pause(&mut self) {
        if self.follow {
            self.follow = false;
            self.selected = self.index.matches().back().copied().unwrap_or(0);
            self.top = None;
        }
    }

    fn resume(&mut self) {
        self.follow = true;
        self.top = None;
    }

    fn move_selection(&mut self, key: KeyId) {
        let matches = self.index.matches();
        if matches.is_empty() {
            return;
        }
        let at = self.index.position(self.selected);
        self.selected = matches[move_selection(at, matches.len(), key, self.page)];
    }

    /// Writes every matching line, as shown, to a new file in `save_dir`.
    fn save(&mut self, ctx: &Context) -> Action {
        self.refresh(ctx);
        self.index.complete(
            ctx.logs,
            &self.scope,
            self.with_service,
            &self.filter,
            self.level,
        );
        let matches = self.index.matches();
        if matches.is_empty() {
            return Action::Message("no lines to save".into());
        }
        let service = self.scope.service.as_deref().unwrap_or("all");
        let stamp = lines::file_stamp(ctx.now);
        let name = format!("mcpfleet-logs-{service}-{stamp}.txt");
        let path = self.save_dir.join(name);
        let write = |path: &Path| -> std::io::Result<()> {
            let mut out = BufWriter::new(File::create_new(path)?);
            let mut text = String::new();
            for line in matches.iter().filter_map(|&seq| line_at(ctx.logs, seq)) {
                text.clear();
                lines::text_into(line, self.with_service, &mut text);
                text.push('\n');
                out.write_all(text.as_bytes())?;
            }
            out.flush()
        };
        // Say where the file went in a way that survives a later `cd`.
        let path = std::path::absolute(&path).unwrap_or(path);
        match write(&path) {
            Ok(()) => Action::Message(format!(
                "saved {} lines to {}",
                matches.len(),
                path.display()
            )),
            Err(error) => Action::Message(format!(
                "could not save logs to {}: {error}",
                path.display()
            )),
        }
    }

    fn status(&self, ctx: &Context) -> Line<'static> {
        let theme = ctx.theme;
        let mut spans = vec![if self.follow {
            Span::styled("following", theme.ok())
        } else {
            Span::styled("paused", theme.warn())
        }];
        let mut text = format!(
            " · {} lines ({} match)",
            self.index.in_scope(),
            self.index.matches().len()
        );
        if self.index.pending() {
            text.push_str(" (searching older lines…)");
        }
        if self.filter.literal() {
            text.push_str(" (text match)");
        }
        spans.push(Span::raw(text));
        let (upstream, evicted) = (ctx.logs.dropped_upstream(), ctx.logs.evicted());
        spans.push(if upstream + evicted == 0 {
            Span::raw(" · 0 dropped")
        } else {
            Span::styled(
                format!(
                    " · {} dropped ({upstream} upstream, {evicted} evicted)",
                    upstream + evicted
                ),
                theme.warn(),
            )
        });
        if self.level != LevelFilter::All {
            spans.push(Span::raw(format!(" · level {}", self.level.label())));
        }
        if self.wrap {
            spans.push(Span::raw(" · wrap"));
        }
        Line::from(spans)
    }

    /// The screen rows of one line: itself (wrapped or cut) and, when expanded, its fields.
    fn line_rows(&self, ctx: &Context, seq: u64, width: usize) -> Vec<ScreenRow> {
        let Some(line) = line_at(ctx.logs, seq) else {
            return Vec::new();
        };
        let task_style = ctx.theme.task(ctx.logs.task_color(&line.task_id));
        let main = Line::from(lines::spans(line, self.with_service, task_style, ctx.theme));
        let indent = lines::prefix_width(line, self.with_service);
        let main = if self.wrap {
            lines::wrap(main, width, indent)
        } else {
            vec![main]
        };
        let mut rows: Vec<ScreenRow> = main
            .into_iter()
            .map(|line| ScreenRow {
                seq,
                main: true,
                line,
            })
            .collect();
        if self.expanded.contains(&seq) {
            for row in lines::expansion(line, ctx.theme) {
                let wrapped = if self.wrap {
                    lines::wrap(row, width, 0)
                } else {
                    vec![row]
                };
                rows.extend(wrapped.into_iter().map(|line| ScreenRow {
                    seq,
                    main: false,
                    line,
                }));
            }
        }
        rows
    }

    /// The rows on screen. Formats only lines in or next to the window.
    fn window(&mut self, ctx: &Context, area: Rect) -> Vec<ScreenRow> {
        let (width, height) = (usize::from(area.width), usize::from(area.height));
        let matches = self.index.matches();
        if matches.is_empty() || height == 0 {
            return Vec::new();
        }
        if self.follow {
            // Newest at the bottom; the oldest line shown may be cut at the top.
            let mut rows = Vec::new();
            for &seq in matches.iter().rev() {
                rows.extend(self.line_rows(ctx, seq, width).into_iter().rev());
                if rows.len() >= height {
                    break;
                }
            }
            rows.truncate(height);
            rows.reverse();
            return rows;
        }
        let selected = self.index.position(self.selected);
        self.selected = matches[selected];
        let mut top = self.top.map_or(selected, |seq| self.index.position(seq));
        if selected < top {
            top = selected;
        }
        // Does the selected line end on screen when drawing from `top`?
        let mut used = 0;
        for &seq in matches.range(top..=selected) {
            used += self.line_rows(ctx, seq, width).len();
            if used > height {
                break;
            }
        }
        if used > height {
            // No: put it at the bottom.
            top = selected;
            used = self.line_rows(ctx, matches[selected], width).len();
            while top > 0 {
                let more = self.line_rows(ctx, matches[top - 1], width).len();
                if used + more > height {
                    break;
                }
                used += more;
                top -= 1;
            }
        }
        let mut rows = Vec::new();
        for &seq in matches.range(top..) {
            rows.extend(self.line_rows(ctx, seq, width));
            if rows.len() >= height {
                break;
            }
        }
        // Near the end, show older lines rather than empty rows.
        while top > 0 && rows.len() < height {
            let above = self.line_rows(ctx, matches[top - 1], width);
            if rows.len() + above.len() > height {
                break;
            }
            top -= 1;
            rows.splice(0..0, above);
        }
        rows.truncate(height);
        self.top = Some(matches[top]);
        rows
    }

    fn empty_note(&self, ctx: &Context) -> String {
        if self.index.pending() {
            "searching older lines…".into()
        } else if self.index.in_scope() == 0 {
            let what = match (&self.scope.service, &self.scope.task) {
                (None, _) => "the fleet".to_string(),
                (Some(service), None) => format!("service {service}"),
                (Some(_), Some(task)) => format!("task {task}"),
            };
            let buffered = ctx.logs.len();
            format!("no log lines from {what} yet ({buffered} lines buffered in all)")
        } else {
            format!(
                "no line matches (filter /{}/, level {})",
                self.filter.text(),
                self.level.label()
            )
        }
    }
}

impl View for LogsView {
    fn kind(&self) -> ViewKind {
        ViewKind::Logs
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        let scope = match (&self.scope.service, &self.scope.task) {
            (None, _) => "logs(all)".into(),
            (Some(service), None) => format!("logs({service})"),
            (Some(service), Some(task)) => {
                format!("logs({service}/{})", lines::short_id(task))
            }
        };
        match &self.trace {
            Some(trace) => format!("{scope} trace {}…", lines::short_id(trace)),
            None => scope,
        }
    }

    fn filter(&self) -> &str {
        self.filter.text()
    }

    fn set_filter(&mut self, filter: String) {
        if filter != self.filter.text() {
            self.filter = TextFilter::new(&filter);
            self.trace = None;
        }
    }

    fn on_back(&mut self) -> bool {
        if self.trace.take().is_none() {
            return false;
        }
        self.filter = TextFilter::default();
        true
    }

    /// Keeps frames coming while a new filter works through older lines.
    fn animating(&self) -> bool {
        self.index.pending()
    }

    fn on_click(&mut self, row: u16, ctx: &Context) -> Option<Action> {
        let row = row.checked_sub(self.area_top)?;
        // Row 0 is the status line.
        let index = usize::from(row).checked_sub(1)?;
        if let Some(&seq) = self.row_lines.get(index) {
            self.refresh(ctx);
            self.pause();
            self.selected = seq;
        }
        None
    }

    fn on_key(&mut self, key: KeyId, ctx: &Context) -> Option<Action> {
        self.refresh(ctx);
        match key {
            KeyId::Follow if self.follow => self.pause(),
            KeyId::Follow | KeyId::Bottom => self.resume(),
            KeyId::Wrap => self.wrap = !self.wrap,
            KeyId::Level => self.level = self.level.next(),
            KeyId::Save => return Some(self.save(ctx)),
            KeyId::Expand => {
                // Expanding pauses, so the line stays where the person is reading it.
                self.pause();
                let seq = self.index.matches().get(self.index.position(self.selected));
                if let Some(&seq) = seq
                    && !self.expanded.remove(&seq)
                {
                    self.selected = seq;
                    self.expanded.insert(seq);
                }
            }
            KeyId::Up | KeyId::PageUp | KeyId::Top => {
                self.pause();
                self.move_selection(key);
            }
            KeyId::Down | KeyId::PageDown if !self.follow => self.move_selection(key),
            _ => {}
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        self.area_top = area.y;
        self.refresh(ctx);
        let [status, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
        frame.render_widget(Paragraph::new(self.status(ctx)), status);
        self.page = usize::from(body.height).saturating_sub(1).max(1);
        if self.index.matches().is_empty() {
            self.row_lines.clear();
            let note = Span::styled(self.empty_note(ctx), ctx.theme.dim());
            frame.render_widget(Paragraph::new(note), body);
            return;
        }
        let rows = self.window(ctx, body);
        self.row_lines = rows.iter().map(|row| row.seq).collect();
        let highlight: Vec<bool> = rows
            .iter()
            .map(|row| !self.follow && row.main && row.seq == self.selected)
            .collect();
        let lines: Vec<Line> = rows.into_iter().map(|row| row.line).collect();
        frame.render_widget(Paragraph::new(lines), body);
        // The whole width of the selected line, not just its text.
        for (y, _) in (body.y..).zip(highlight).filter(|(_, on)| *on) {
            let row = Rect {
                y,
                height: 1,
                ..body
            };
            frame.buffer_mut().set_style(row, ctx.theme.selected());
        }
    }
}

#[cfg(test)]
mod tests;
