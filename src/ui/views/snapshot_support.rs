//! Rendering a view into text for tests: insta snapshots at the two sizes every screen is
//! checked at, 80×24 (the smallest comfortable terminal) and 160×48, and the click test every
//! list screen shares.

use ratatui::{Terminal, backend::TestBackend, layout::Rect};

use super::{Context, View};
use crate::ui::keys::KeyId;

pub const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// Draws `view` on the whole of a `width`×`height` screen.
pub fn render(view: &mut dyn View, ctx: &Context, width: u16, height: u16) -> String {
    render_below(view, ctx, width, height, 0)
}

/// Draws `view` below the first `top` lines of the screen, as the console draws it under its
/// header, and returns the whole screen.
fn render_below(view: &mut dyn View, ctx: &Context, width: u16, height: u16, top: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal
        .draw(|frame| {
            let area = frame.area();
            let body = Rect::new(area.x, top, area.width, area.height - top);
            view.render(frame, body, ctx);
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

/// Draws a list `view` with more rows than fit, selects its last row so the list scrolls past
/// the row showing `first`, draws it again and clicks the screen line showing `clicked`.
/// Clicks arrive in screen rows, so the view is drawn a few lines down, as in the console.
pub fn click_after_scroll(view: &mut dyn View, ctx: &Context, first: &str, clicked: &str) {
    let draw = |view: &mut dyn View| render_below(view, ctx, 100, 16, 2);
    draw(view);
    view.on_key(KeyId::Bottom, ctx);
    let screen = draw(view);
    assert!(
        !screen.contains(first),
        "the list did not scroll:\n{screen}"
    );
    let line = screen.lines().position(|line| line.contains(clicked));
    let line = line.unwrap_or_else(|| panic!("{clicked} is not shown:\n{screen}"));
    view.on_click(line as u16, ctx);
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
