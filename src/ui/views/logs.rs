//! The logs view: the lines of the fleet, a service (its tasks interleaved by time) or one
//! task, following the newest or paused on a selected line; `/` filters by regex, `v` by level,
//! `w` wraps, enter expands a line's fields, `s` saves what matches to a file.
//!
//! A frame costs the visible lines only: which lines match is kept in a `LineIndex` that grows
//! with the buffer and works through older lines within a time budget per frame
//! (`logs_filter`), and only the lines on screen are formatted (`logs_lines`).

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

use super::{
    Context, View,
    logs_filter::{LevelFilter, LineIndex, TextFilter, line_at},
    logs_lines, move_selection,
};
use crate::ui::{
    action::{Action, Scope, ViewKind},
    keys::KeyId,
};

/// One row of the screen and the line it belongs to; `main` rows are the line itself, the
/// others its expanded fields.
struct ScreenRow {
    seq: u64,
    main: bool,
    line: Line<'static>,
}

pub struct LogsView {
    scope: Scope,
    filter: TextFilter,
    level: LevelFilter,
    wrap: bool,
    /// Following keeps the newest line in view; paused keeps `selected` where it is.
    follow: bool,
    /// Sequence number of the selected line (see `logs_filter`), while paused.
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
            scope,
            filter: TextFilter::default(),
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
        let stamp = logs_lines::file_stamp(ctx.now);
        let name = format!("mcpfleet-logs-{service}-{stamp}.txt");
        let path = self.save_dir.join(name);
        let write = |path: &Path| -> std::io::Result<()> {
            let mut out = BufWriter::new(File::create_new(path)?);
            let mut text = String::new();
            for line in matches.iter().filter_map(|&seq| line_at(ctx.logs, seq)) {
                text.clear();
                logs_lines::text_into(line, self.with_service, &mut text);
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
        let main = Line::from(logs_lines::spans(
            line,
            self.with_service,
            task_style,
            ctx.theme,
        ));
        let indent = logs_lines::prefix_width(line, self.with_service);
        let main = if self.wrap {
            logs_lines::wrap(main, width, indent)
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
            for row in logs_lines::expansion(line, ctx.theme) {
                let wrapped = if self.wrap {
                    logs_lines::wrap(row, width, 0)
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
        match (&self.scope.service, &self.scope.task) {
            (None, _) => "logs(all)".into(),
            (Some(service), None) => format!("logs({service})"),
            (Some(service), Some(task)) => {
                format!("logs({service}/{})", logs_lines::short_id(task))
            }
        }
    }

    fn filter(&self) -> &str {
        self.filter.text()
    }

    fn set_filter(&mut self, filter: String) {
        if filter != self.filter.text() {
            self.filter = TextFilter::new(&filter);
        }
    }

    /// Keeps frames coming while a new filter works through older lines.
    fn animating(&self) -> bool {
        self.index.pending()
    }

    fn on_click(&mut self, row: u16, ctx: &Context) -> Option<Action> {
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
mod tests {
    use super::*;
    use crate::{
        fleet::LogLine,
        ui::views::{fixtures::Fixture, snapshot_support::render},
    };

    const SERVER: &str = "mcpfleet-server";
    const TASK: &str = "0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c";

    fn keys(view: &mut LogsView, ctx: &Context, keys: &[KeyId]) {
        for &key in keys {
            assert_eq!(view.on_key(key, ctx), None);
        }
    }

    fn screen(view: &mut LogsView, ctx: &Context) -> String {
        render(view, ctx, 80, 24)
    }

    fn selected_message(view: &LogsView, ctx: &Context) -> String {
        line_at(ctx.logs, view.selected).unwrap().message.clone()
    }

    #[test]
    fn titles_name_the_scope() {
        assert_eq!(LogsView::new(Scope::fleet()).title(), "logs(all)");
        assert_eq!(
            LogsView::new(Scope::service(SERVER)).title(),
            "logs(mcpfleet-server)"
        );
        assert_eq!(
            LogsView::new(Scope::task(SERVER, TASK)).title(),
            "logs(mcpfleet-server/0f2ab1c9)"
        );
    }

    #[test]
    fn lines_name_their_service_only_when_the_fleet_has_several() {
        let mut fixture = Fixture::new();
        let mut view = LogsView::new(Scope::fleet());
        let text = screen(&mut view, &fixture.context());
        assert!(
            text.contains(" mcpfleet-server/0f2ab1c9 INFO  listening"),
            "{text}"
        );
        fixture.fleet.services.truncate(1);
        view.set_filter("^\\S+ 0f2ab1c9 ".into());
        let text = screen(&mut view, &fixture.context());
        assert!(
            text.contains("(2 match)"),
            "the filter sees the text as shown: {text}"
        );
        assert!(text.contains(" 0f2ab1c9 INFO  listening"), "{text}");
    }

    #[test]
    fn follow_pauses_on_scrolling_and_resumes_at_the_bottom() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = LogsView::new(Scope::service(SERVER));
        assert!(screen(&mut view, &ctx).starts_with("following · 5 lines (5 match)"));
        keys(&mut view, &ctx, &[KeyId::Down]);
        assert!(view.follow, "down at the bottom keeps following");
        keys(&mut view, &ctx, &[KeyId::Up]);
        assert!(!view.follow);
        assert_eq!(
            selected_message(&view, &ctx),
            "drain deadline reached with requests still in flight"
        );
        assert!(screen(&mut view, &ctx).starts_with("paused · 5 lines"));
        keys(&mut view, &ctx, &[KeyId::Top, KeyId::Down]);
        assert_eq!(selected_message(&view, &ctx), "listening");
        assert_eq!(
            line_at(ctx.logs, view.selected).unwrap().task_id,
            "7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f"
        );
        keys(&mut view, &ctx, &[KeyId::Bottom]);
        assert!(view.follow);
        keys(&mut view, &ctx, &[KeyId::Follow]);
        assert!(!view.follow);
        assert_eq!(selected_message(&view, &ctx), "plain text line from stderr");
        keys(&mut view, &ctx, &[KeyId::Follow]);
        assert!(view.follow);
    }

    #[test]
    fn following_shows_lines_as_they_arrive_and_paused_keeps_its_place() {
        let mut fixture = Fixture::new();
        let mut view = LogsView::new(Scope::fleet());
        screen(&mut view, &fixture.context());
        fixture.logs.push(LogLine::parse(
            SERVER,
            TASK,
            "stdout",
            fixture.context().now,
            "fresh line",
        ));
        let text = screen(&mut view, &fixture.context());
        assert!(
            text.lines().nth(6).unwrap().ends_with("fresh line"),
            "{text}"
        );
        keys(&mut view, &fixture.context(), &[KeyId::Up]);
        let before = selected_message(&view, &fixture.context());
        fixture.logs.push(LogLine::parse(
            SERVER,
            TASK,
            "stdout",
            fixture.context().now,
            "newer",
        ));
        let ctx = fixture.context();
        let text = screen(&mut view, &ctx);
        assert_eq!(selected_message(&view, &ctx), before);
        assert!(text.starts_with("paused · 7 lines (7 match)"));
    }

    #[test]
    fn level_and_wrap_keys() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = LogsView::new(Scope::fleet());
        let counts: Vec<usize> = (0..4)
            .map(|_| {
                keys(&mut view, &ctx, &[KeyId::Level]);
                screen(&mut view, &ctx);
                view.index.matches().len()
            })
            .collect();
        assert_eq!(counts, [4, 1, 0, 5], "info+, warn+, error, all");
        keys(&mut view, &ctx, &[KeyId::Level, KeyId::Level]);
        let text = screen(&mut view, &ctx);
        assert!(text.starts_with("following · 5 lines (1 match) · 0 dropped · level warn+"));

        let mut view = LogsView::new(Scope::fleet());
        let cut = render(&mut view, &ctx, 60, 12);
        keys(&mut view, &ctx, &[KeyId::Wrap]);
        let wrapped = render(&mut view, &ctx, 60, 12);
        let rows = |text: &str| text.lines().filter(|l| !l.is_empty()).count();
        assert_eq!(rows(&cut), 6);
        assert!(rows(&wrapped) > 6, "{wrapped}");
        assert!(wrapped.contains("still in flight"), "{wrapped}");
        assert!(!cut.contains("still in flight"));
    }

    #[test]
    fn enter_expands_and_collapses_the_selected_line() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = LogsView::new(Scope::task(SERVER, "0f2a"));
        keys(&mut view, &ctx, &[KeyId::Expand]);
        assert!(!view.follow, "expanding pauses");
        let text = screen(&mut view, &ctx);
        assert!(text.contains(r#"    "duration_ms": 0.41,"#), "{text}");
        assert!(text.contains(&format!(
            "    2027-01-15T08:09:40.000Z · stdout · task {TASK}"
        )));
        keys(&mut view, &ctx, &[KeyId::Expand]);
        assert_eq!(
            screen(&mut view, &ctx)
                .lines()
                .filter(|l| !l.is_empty())
                .count(),
            3
        );
    }

    #[test]
    fn the_filter_matches_the_line_as_shown() {
        let mut fixture = Fixture::new();
        let mut view = LogsView::new(Scope::fleet());
        view.set_filter("LISTENING.*4101[01]".into());
        assert!(screen(&mut view, &fixture.context()).starts_with("following · 5 lines (2 match)"));
        view.set_filter("0f2ab1c9 INFO".into());
        assert!(screen(&mut view, &fixture.context()).contains("(2 match)"));
        view.set_filter("mcpfleet-server/9c2d".into());
        assert!(screen(&mut view, &fixture.context()).contains("(1 match)"));

        fixture.logs.push(LogLine::parse(
            SERVER,
            TASK,
            "stderr",
            fixture.context().now,
            "calling echo(1) failed",
        ));
        view.set_filter("ECHO(1".into());
        let text = screen(&mut view, &fixture.context());
        assert!(
            text.starts_with("following · 6 lines (1 match) (text match)"),
            "{text}"
        );
        assert!(text.contains("calling echo(1) failed"));

        view.set_filter("nothing like this".into());
        let text = screen(&mut view, &fixture.context());
        assert!(text.contains("no line matches (filter /nothing like this/, level all)"));

        // A new filter works back from the newest line, a budget per frame.
        let ctx = fixture.context();
        view.index.budget = 4;
        view.set_filter("mcpfleet".into());
        let text = screen(&mut view, &ctx);
        assert!(text.starts_with("following · 6 lines (4 match) (searching older lines…)"));
        assert!(view.animating());
        screen(&mut view, &ctx);
        assert!(!view.animating());
    }

    #[test]
    fn save_writes_every_matching_line_as_shown() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let dir = std::env::temp_dir().join(format!("mcpfleet-logs-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut view = LogsView::new(Scope::service(SERVER));
        view.save_dir = dir.clone();
        view.set_filter("listening".into());
        let path = dir.join("mcpfleet-logs-mcpfleet-server-20270115T081000Z.txt");
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            view.on_key(KeyId::Save, &ctx),
            Some(Action::Message(format!(
                "saved 2 lines to {}",
                path.display()
            )))
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "08:09:06.000 0f2ab1c9 INFO  listening address=127.0.0.1:41010\n\
             08:09:11.000 7a3e5c1b INFO  listening address=127.0.0.1:41011\n"
        );
        let Some(Action::Message(again)) = view.on_key(KeyId::Save, &ctx) else {
            panic!("save answers with a message");
        };
        assert!(
            again.starts_with("could not save logs to"),
            "an existing file is kept: {again}"
        );
        std::fs::remove_dir_all(&dir).unwrap();

        view.save_dir = PathBuf::from("/nonexistent/dir");
        let Some(Action::Message(failed)) = view.on_key(KeyId::Save, &ctx) else {
            panic!("save answers with a message");
        };
        assert!(
            failed.starts_with("could not save logs to /nonexistent/dir/"),
            "{failed}"
        );
    }

    #[test]
    fn a_click_selects_the_line_under_it() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = LogsView::new(Scope::fleet());
        screen(&mut view, &ctx);
        view.on_click(2, &ctx);
        assert!(!view.follow);
        assert_eq!(
            line_at(ctx.logs, view.selected).unwrap().task_id,
            "7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f"
        );
    }

    #[test]
    fn a_full_ring_shows_its_newest_and_oldest_lines() {
        let mut fixture = Fixture::new();
        fixture.logs = crate::ui::log_buffer::LogBuffer::new(1_000);
        for i in 0..1_500u64 {
            let raw = format!(r#"{{"level":"INFO","message":"call {i}","tool":"echo"}}"#);
            fixture.logs.push(LogLine::parse(
                SERVER,
                TASK,
                "stdout",
                fixture.context().now,
                &raw,
            ));
        }
        let ctx = fixture.context();
        let mut view = LogsView::new(Scope::service(SERVER));
        // Indexed in one go, however slow the machine running the test.
        view.index.deadline = None;
        let text = screen(&mut view, &ctx);
        assert!(
            text.starts_with(
                "following · 1000 lines (1000 match) · 500 dropped (0 upstream, 500 evicted)"
            ),
            "{text}"
        );
        assert!(
            text.lines()
                .nth(23)
                .unwrap()
                .contains("call 1499 tool=echo")
        );
        keys(&mut view, &ctx, &[KeyId::Top]);
        assert!(
            screen(&mut view, &ctx)
                .lines()
                .nth(1)
                .unwrap()
                .contains("call 500 ")
        );
    }

    #[test]
    fn snapshots() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = LogsView::new(Scope::fleet());
        crate::assert_view_snapshots!("logs_fleet", &mut view, &ctx);
        let mut view = LogsView::new(Scope::task(SERVER, TASK));
        keys(&mut view, &ctx, &[KeyId::Expand]);
        crate::assert_view_snapshots!("logs_task_expanded", &mut view, &ctx);
        let mut view = LogsView::new(Scope::service(SERVER));
        keys(&mut view, &ctx, &[KeyId::Wrap, KeyId::Up]);
        crate::assert_view_snapshots!("logs_service_wrapped_paused", &mut view, &ctx);
    }
}
