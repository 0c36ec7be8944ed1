//! Drawing the call form: one line per field (name, `*` when required, type, value), the
//! focused field's editor in place, the message next to a bad field, the focused field's hint.
//! Long forms scroll to keep the focused field in sight.

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    style::Modifier,
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph},
};

use super::field::{Field, Input, Kind};
use super::form_pane::FormPane;
use crate::{mcp::ToolInfo, ui::theme::Theme};

const NAME_WIDTH: usize = 24;
const LABEL_WIDTH: usize = 12;
const EDITOR_HEIGHT: usize = 10;

impl FormPane {
    /// The two lines above the fields: the tool, and where the call goes with the mode.
    pub fn render_header(
        &self,
        frame: &mut Frame,
        [head, target]: [Rect; 2],
        tool: &ToolInfo,
        service: &str,
        (label, ready): (String, bool),
        theme: Theme,
    ) {
        let description = tool.description.as_deref().unwrap_or("");
        let description = description.lines().next().unwrap_or("");
        let head_line = Line::from(vec![
            Span::styled(tool.name.clone(), theme.title()),
            Span::raw(format!(" on {service}")),
            Span::styled(format!("  {description}"), theme.dim()),
        ]);
        frame.render_widget(Paragraph::new(head_line), head);
        let mode = match (self.raw.is_some(), self.editing) {
            (true, true) => "raw JSON · editing (esc stops)",
            (true, false) => "raw JSON · enter edits",
            (false, true) => "form · editing (esc stops)",
            (false, false) if self.form.fields.is_empty() => "no declared arguments",
            (false, false) => "form · enter edits",
        };
        let width = (mode.chars().count() as u16).min(target.width / 2);
        let [left, right] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(width)]).areas(target);
        let target_line = Line::from(vec![
            Span::styled("→ ", theme.key()),
            Span::styled(label, if ready { theme.ok() } else { theme.warn() }),
            Span::styled(" · ctrl-t changes", theme.dim()),
        ]);
        frame.render_widget(Paragraph::new(target_line), left);
        let mode = Line::styled(mode, theme.dim()).right_aligned();
        frame.render_widget(Paragraph::new(mode), right);
    }

    /// Draws the fields (or the editor) into `area`, at most `max` rows tall; returns the
    /// rows used.
    pub fn render(&mut self, frame: &mut Frame, area: Rect, max: u16, theme: Theme) -> u16 {
        self.rows.clear();
        if let Some((editor, problems)) = &self.raw {
            let lines = editor.lines().len() + 1 + problems.len();
            let height = (lines as u16).clamp(3, max.max(3)).min(area.height);
            let editor_height = height.saturating_sub(problems.len() as u16).max(1);
            let block = Block::new()
                .borders(Borders::LEFT)
                .border_style(theme.dim());
            let mut shown = editor.clone();
            shown.set_block(block);
            frame.render_widget(
                &shown,
                Rect {
                    height: editor_height,
                    ..area
                },
            );
            let below = Rect {
                y: area.y + editor_height,
                height: height - editor_height,
                ..area
            };
            let lines: Vec<Line> = problems
                .iter()
                .map(|p| Line::styled(p.clone(), theme.error()))
                .collect();
            frame.render_widget(Paragraph::new(lines), below);
            return height;
        }
        let name_width = width_of(
            self.form.fields.iter().map(|f| f.name.chars().count() + 1),
            NAME_WIDTH,
        );
        let label_width = width_of(
            self.form.fields.iter().map(|f| f.label.chars().count()),
            LABEL_WIDTH,
        );
        let value_x = 2 + name_width + 1 + label_width + 2;
        let mut lines: Vec<Line> = Vec::new();
        let mut overlay = None;
        let mut focus_lines = (0, 0);
        for (index, field) in self.form.fields.iter().enumerate() {
            let focused = index == self.focus;
            let start = lines.len();
            self.rows.push((start as u16, index));
            let name = format!("{}{}", field.name, if field.required { "*" } else { "" });
            let name_style = match (focused, self.editing) {
                (true, true) => theme.title(),
                (true, false) => theme.selected(),
                _ => Default::default(),
            };
            let mut spans = vec![
                Span::styled(if focused { "▸ " } else { "  " }, theme.key()),
                Span::styled(format!("{name:<name_width$}"), name_style),
                Span::raw(" "),
                Span::styled(format!("{:<label_width$}  ", field.label), theme.dim()),
            ];
            let editor_open = focused && self.editing;
            match (&field.input, editor_open) {
                (Input::Editor(area), true) => {
                    let height = (area.lines().len() + 1).clamp(3, EDITOR_HEIGHT);
                    overlay = Some((lines.len() + 1, height, 2));
                    lines.push(Line::from(spans));
                    lines.extend((0..height).map(|_| Line::default()));
                }
                (Input::Line(_), true) => {
                    overlay = Some((lines.len(), 1, value_x));
                    lines.push(Line::from(spans));
                }
                _ => {
                    let width = usize::from(area.width).saturating_sub(value_x);
                    spans.extend(fit(value_spans(field, editor_open, theme), width));
                    lines.push(Line::from(spans));
                }
            }
            if let Some(error) = &field.error {
                lines.push(Line::from(vec![
                    Span::raw(" ".repeat(value_x)),
                    Span::styled(format!("✗ {error}"), theme.error()),
                ]));
            }
            if focused {
                focus_lines = (start, lines.len());
            }
        }
        if self.form.fields.is_empty() {
            lines.push(Line::styled(
                "  (none; ctrl-r edits the arguments as JSON)",
                theme.dim(),
            ));
        }
        if let Some(field) = self
            .form
            .fields
            .get(self.focus)
            .filter(|f| self.editing && !f.hint.is_empty())
        {
            lines.push(Line::styled(
                format!("  ↳ {}: {}", field.name, field.hint),
                theme.dim(),
            ));
        }
        if !self.form.extra.is_empty() {
            let keys: Vec<&str> = self.form.extra.keys().map(String::as_str).collect();
            lines.push(Line::styled(
                format!("  + also sent: {}", keys.join(", ")),
                theme.dim(),
            ));
        }
        lines.extend(
            self.form
                .errors
                .iter()
                .map(|e| Line::styled(format!("  ✗ {e}"), theme.error())),
        );

        let height = (lines.len() as u16).min(max).min(area.height);
        let h = usize::from(height);
        let offset = focus_lines
            .1
            .saturating_sub(h)
            .min(focus_lines.0)
            .min(lines.len() - h);
        for row in &mut self.rows {
            row.0 = (row.0 as usize).wrapping_sub(offset) as u16;
        }
        self.rows.retain(|(row, _)| usize::from(*row) < h);
        let shown: Vec<Line> = lines.into_iter().skip(offset).take(h).collect();
        frame.render_widget(Paragraph::new(shown), Rect { height, ..area });
        if let Some((line, rows, x)) = overlay
            && line >= offset
            && line < offset + h
            && let Some(Input::Line(text) | Input::Editor(text)) =
                self.form.fields.get(self.focus).map(|f| &f.input)
        {
            let x = (x as u16).min(area.width);
            let rows = (rows as u16).min((offset + h - line) as u16);
            let place = Rect {
                x: area.x + x,
                y: area.y + (line - offset) as u16,
                width: area.width - x,
                height: rows,
            };
            let mut shown = text.clone();
            if rows > 1 {
                shown.set_block(
                    Block::new()
                        .borders(Borders::LEFT)
                        .border_style(theme.dim()),
                );
            }
            frame.render_widget(&shown, place);
        }
        height
    }
}

fn width_of(widths: impl Iterator<Item = usize>, max: usize) -> usize {
    widths.max().unwrap_or(0).min(max)
}

/// `spans` cut to `width` columns, the cut marked with "…".
fn fit(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    let total: usize = spans.iter().map(Span::width).sum();
    if total <= width {
        return spans;
    }
    let mut left = width.saturating_sub(1);
    let mut out = Vec::new();
    for span in spans {
        if span.width() <= left {
            left -= span.width();
            out.push(span);
            continue;
        }
        let mut text = String::new();
        for c in span.content.chars() {
            let next = Span::raw(format!("{text}{c}"));
            if next.width() > left {
                break;
            }
            text.push(c);
        }
        out.push(Span::styled(text, span.style));
        break;
    }
    out.push(Span::raw("…"));
    out
}

/// A field's value as it is drawn in its row; `focused` marks a multiple choice's cursor.
fn value_spans(field: &Field, focused: bool, theme: Theme) -> Vec<Span<'static>> {
    let unset = |text: &str| Span::styled(text.to_string(), theme.dim());
    match (&field.input, &field.kind) {
        (Input::Toggle(Some(true)), _) => vec![Span::raw("[x] true")],
        (Input::Toggle(Some(false)), _) => vec![Span::raw("[ ] false")],
        (Input::Toggle(None), _) => vec![unset("[ ] not set · space toggles")],
        (Input::Choice(value), Kind::Choice(choices)) => {
            let current = value
                .as_ref()
                .map_or("not set".into(), |value| field.shown(value));
            let others: Vec<String> = choices.iter().map(|c| field.shown(c)).collect();
            vec![
                Span::raw(format!("‹ {current} ›")),
                Span::styled(format!("  {}", others.join(" | ")), theme.dim()),
            ]
        }
        (Input::Many { chosen, cursor }, Kind::Many(choices)) => {
            let mut spans = Vec::new();
            for (at, (value, on)) in choices.iter().zip(chosen).enumerate() {
                let mark = if *on { "[x]" } else { "[ ]" };
                let text = format!("{mark} {}", field.shown(value));
                spans.push(if focused && at == *cursor {
                    Span::styled(text, theme.selected())
                } else if *on {
                    Span::raw(text)
                } else {
                    Span::styled(text, theme.dim())
                });
                spans.push(Span::raw("  "));
            }
            spans.pop();
            spans
        }
        (Input::Editor(area), _) if area.is_empty() => vec![unset("(empty JSON)")],
        (Input::Editor(area), _) => {
            let compact: Vec<&str> = area.lines().iter().map(|l| l.trim()).collect();
            vec![Span::raw(compact.join(" "))]
        }
        _ => match field.text() {
            text if text.is_empty() => vec![unset("—")],
            text => vec![Span::styled(
                text,
                theme.title().remove_modifier(Modifier::BOLD),
            )],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_value_is_cut_to_its_column_with_an_ellipsis() {
        let spans = vec![
            Span::raw("‹ Superman ›"),
            Span::raw("  Superman | Green Lantern"),
        ];
        let text = |spans: &[Span]| spans.iter().map(|s| s.content.as_ref()).collect::<String>();
        assert_eq!(
            text(&fit(spans.clone(), 40)),
            "‹ Superman ›  Superman | Green Lantern"
        );
        assert_eq!(text(&fit(spans.clone(), 20)), "‹ Superman ›  Super…");
        assert_eq!(text(&fit(spans, 5)), "‹ Su…");
    }
}
