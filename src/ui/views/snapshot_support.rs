//! Rendering a view into text for insta snapshots, at the two sizes every screen is checked
//! at: 80×24 (the smallest comfortable terminal) and 160×48.

use ratatui::{Terminal, backend::TestBackend};

use super::{Context, View};

pub const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

pub fn render(view: &mut dyn View, ctx: &Context, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal
        .draw(|frame| {
            let area = frame.area();
            view.render(frame, area, ctx);
        })
        .expect("draw");
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        let mut line = String::new();
        for x in 0..width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Snapshots `view` at both sizes under `name`.
#[macro_export]
macro_rules! assert_view_snapshots {
    ($name:expr, $view:expr, $ctx:expr) => {
        for (width, height) in $crate::ui::views::snapshot_support::SIZES {
            let text = $crate::ui::views::snapshot_support::render($view, $ctx, width, height);
            insta::assert_snapshot!(format!("{}_{}x{}", $name, width, height), text);
        }
    };
}
