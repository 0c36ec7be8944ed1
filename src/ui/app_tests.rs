//! Tests of the app state: trends sampled whatever screen is on top.

use ratatui::{Terminal, backend::TestBackend};

use super::*;
use crate::ui::views::fixtures;

fn screen(app: &mut App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(100, 20)).expect("test backend");
    terminal
        .draw(|frame| app.render(frame, fixtures::now()))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    (0..20)
        .map(|y| {
            (0..100)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn trends_keep_sampling_while_another_view_is_on_top() {
    let fleet = fixtures::fleet();
    let mut app = App::for_snapshot(Arc::new(fleet.clone()), 100, Theme::plain());
    app.apply(Action::Open(ViewKind::Logs, Scope::fleet()));
    for in_flight in [0, 4, 8, 2, 6] {
        let mut snapshot = fleet.clone();
        for task in &mut snapshot.services[0].tasks {
            if let Some(metrics) = &mut task.metrics {
                metrics.in_flight = in_flight;
            }
        }
        app.set_snapshot(Arc::new(snapshot));
        assert!(app.sample_trends(), "a new in-flight figure is news");
        screen(&mut app);
    }
    app.apply(Action::Back);
    let text = screen(&mut app);
    let row = text
        .lines()
        .find(|l| l.starts_with("mcpfleet-server"))
        .expect("the service's row");
    assert!(
        row.contains("▁▅█▃▆"),
        "five points, one per sample taken under the logs view: {row}"
    );
}
