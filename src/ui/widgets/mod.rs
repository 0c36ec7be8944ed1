//! Drawing pieces shared by views: the list component the list screens are built on (`list`),
//! the pane that spells out a list's selected row, the box of a dialog, and small text helpers.

pub mod list;

use ratatui::{
    Frame,
    layout::{Constraint, Flex, Layout, Rect},
    text::Line,
    widgets::{Block, Borders, Clear, Paragraph, Wrap},
};

use super::theme::Theme;

/// A server's text with control characters shown, not obeyed: nothing it sends can move the
/// cursor or retitle the terminal.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A dialog's box, `width` × `height` in the middle of `area` (as much as fits), cleared of
/// what was drawn under it.
pub fn dialog_area(frame: &mut Frame, area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [dialog] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    frame.render_widget(Clear, dialog);
    dialog
}

/// The selected row of a list spelled out under it: a rule naming the row, with what enter does
/// with it at the right, over `lines` wrapped to the width.
pub fn detail_pane<'a>(
    name: String,
    enter: &'a str,
    lines: Vec<Line<'a>>,
    theme: Theme,
) -> Paragraph<'a> {
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.dim())
        .title(Line::styled(format!(" {name} "), theme.title()))
        .title(
            Line::from(format!(" {enter} "))
                .right_aligned()
                .style(theme.dim()),
        );
    Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
}

/// Unicode block characters for the last `width` values, scaled to the largest one.
pub fn sparkline_text<'a>(values: impl IntoIterator<Item = &'a u64>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let values: Vec<u64> = values.into_iter().copied().collect();
    let tail = &values[values.len().saturating_sub(width)..];
    let max = tail.iter().copied().max().unwrap_or(0);
    tail.iter()
        .map(|&v| BARS[(v * 7 + max / 2).checked_div(max).unwrap_or(0) as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sparkline_scales_to_the_maximum() {
        assert_eq!(super::sparkline_text(&[0, 1, 2, 4], 10), "▁▃▅█");
        assert_eq!(super::sparkline_text(&[0, 0], 10), "▁▁");
        assert_eq!(super::sparkline_text(&[1, 2, 3], 2), "▆█");
    }
}
