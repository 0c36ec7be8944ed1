//! The bench page's pictures of a report: calls/s and latency over time as line charts, the
//! failures line with its sparkline, the replica table and the latency histogram. Each draws
//! from the report alone, so a fixed report always draws the same.

use std::collections::BTreeMap;

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    style::Style,
    symbols::Marker,
    text::{Line, Span},
    widgets::{
        Axis, Bar, BarChart, Block, Borders, Chart, Dataset, GraphType, Paragraph, Sparkline,
    },
};

use crate::{
    mcp::{
        bench::{BenchReport, Bucket, ms_text},
        repro::{kinds_text, replica_label},
    },
    ui::theme::Theme,
};

/// One series of a chart: its name, style and points.
struct Series {
    name: String,
    style: Style,
    points: Vec<(f64, f64)>,
}

/// A line chart of `series` over the run's seconds, from 0 to the planned end (or further,
/// once the run passed it).
fn line_chart(
    frame: &mut Frame,
    area: Rect,
    title: String,
    series: &[Series],
    planned_s: f64,
    theme: Theme,
) {
    let last_t = series
        .iter()
        .flat_map(|s| s.points.last())
        .map(|(t, _)| *t)
        .fold(0.0, f64::max);
    let x_max = planned_s.max(last_t).max(1.0);
    let top = series
        .iter()
        .flat_map(|s| &s.points)
        .map(|(_, y)| *y)
        .fold(0.0, f64::max);
    let y_max = if top > 0.0 { top * 1.1 } else { 1.0 };
    let datasets = series
        .iter()
        .map(|s| {
            Dataset::default()
                .name(s.name.clone())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(s.style)
                .data(&s.points)
        })
        .collect();
    let chart = Chart::new(datasets)
        .block(titled(title, theme))
        .x_axis(
            Axis::default()
                .bounds([0.0, x_max])
                .labels(["0".to_string(), format!("{x_max:.0} s")])
                .style(theme.dim()),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, y_max])
                .labels(["0".to_string(), axis_label(y_max)])
                .style(theme.dim()),
        )
        // The legend only where it hides little of the lines.
        .hidden_legend_constraints((Constraint::Ratio(1, 3), Constraint::Ratio(1, 2)));
    frame.render_widget(chart, area);
}

/// A rule across the top with the title in it: a chart keeps every other row and column.
fn titled(title: String, theme: Theme) -> Block<'static> {
    Block::new()
        .borders(Borders::TOP)
        .border_style(theme.dim())
        .title(Span::styled(title, theme.title()))
}

fn axis_label(value: f64) -> String {
    if value >= 10.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Calls/s over time, all replicas and each one.
pub fn calls_chart(
    frame: &mut Frame,
    area: Rect,
    report: &BenchReport,
    planned_s: f64,
    theme: Theme,
) {
    let now = report.last().map_or(0.0, |s| s.calls_per_sec);
    let mut series = vec![Series {
        name: "all".into(),
        style: theme.ok(),
        points: report
            .timeline
            .iter()
            .map(|s| (s.t_s, s.calls_per_sec))
            .collect(),
    }];
    let mut by_replica: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for sample in &report.timeline {
        for (label, rate) in &sample.by_replica {
            by_replica
                .entry(label)
                .or_default()
                .push((sample.t_s, *rate));
        }
    }
    // One line per replica is worth drawing only when there are several.
    if by_replica.len() > 1 {
        for (n, (label, points)) in by_replica.into_iter().enumerate() {
            series.push(Series {
                name: label.to_string(),
                style: theme.task(n + 2),
                points,
            });
        }
    }
    let title = format!(" calls/s · now {now:.0} ");
    line_chart(frame, area, title, &series, planned_s, theme);
}

/// p50 and p99 latency over time, in milliseconds.
pub fn latency_chart(
    frame: &mut Frame,
    area: Rect,
    report: &BenchReport,
    planned_s: f64,
    theme: Theme,
) {
    let (p50, p99) = report.last().map_or((0.0, 0.0), |s| (s.p50_ms, s.p99_ms));
    let series = [
        Series {
            name: "p50".into(),
            style: theme.ok(),
            points: report.timeline.iter().map(|s| (s.t_s, s.p50_ms)).collect(),
        },
        Series {
            name: "p99".into(),
            style: theme.warn(),
            points: report.timeline.iter().map(|s| (s.t_s, s.p99_ms)).collect(),
        },
    ];
    let title = format!(" latency ms · p50 {} · p99 {} ", ms_text(p50), ms_text(p99));
    line_chart(frame, area, title, &series, planned_s, theme);
}

/// Failures: how many, how many a second now, by kind, and a sparkline of failures/s.
pub fn errors_line(frame: &mut Frame, area: Rect, report: &BenchReport, theme: Theme) {
    let now = report.last().map_or(0.0, |s| s.failures_per_sec);
    let kinds = match report.failures_by_kind.is_empty() {
        true => "none".to_string(),
        false => kinds_text(&report.failures_by_kind),
    };
    let text = format!(
        "failures {} ({:.2} %) · {now:.1}/s now · {kinds}",
        report.failures,
        report.failures as f64 * 100.0 / report.calls.max(1) as f64,
    );
    let style = if report.failures > 0 {
        theme.error()
    } else {
        theme.dim()
    };
    let spark_width = (area.width / 3).min(40);
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(spark_width)]).areas(area);
    frame.render_widget(Paragraph::new(Line::styled(text, style)), left);
    // The newest samples that fit, a column each.
    let newest: Vec<u64> = report
        .timeline
        .iter()
        .rev()
        .take(usize::from(spark_width))
        .map(|s| s.failures_per_sec.ceil() as u64)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    frame.render_widget(
        Sparkline::default().data(&newest).style(theme.error()),
        right,
    );
}

/// The replica table: a header and a row per replica, as the reproducer's page draws it.
pub fn replica_lines(report: &BenchReport, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(
        format!(
            "{:<10} {:>4} {:>8} {:>8} {:>7} {:>8} {:>8}  FAILURES",
            "TASK", "REV", "CALLS", "CALLS/S", "FAILED", "P50 MS", "P99 MS"
        ),
        theme.title(),
    )];
    for replica in &report.replicas {
        let row = format!(
            "{:<10} {:>4} {:>8} {:>8.1} {:>7} {:>8} {:>8}  {}",
            replica_label(replica.task_id.as_deref()),
            replica.revision.map_or("-".into(), |r| r.to_string()),
            replica.calls,
            replica.calls_per_sec,
            replica.failures,
            ms_text(replica.latency.p50_ms),
            ms_text(replica.latency.p99_ms),
            kinds_text(&replica.failures_by_kind),
        );
        lines.push(if replica.failures > 0 {
            Line::styled(row, theme.error())
        } else {
            Line::from(row)
        });
    }
    lines
}

/// Every replica's buckets added up, by bound.
fn all_buckets(report: &BenchReport) -> Vec<Bucket> {
    let mut all: Vec<Bucket> = Vec::new();
    for bucket in report.replicas.iter().flat_map(|r| &r.histogram) {
        match all.iter_mut().find(|b| b.le_ms == bucket.le_ms) {
            Some(found) => found.count += bucket.count,
            None => all.push(bucket.clone()),
        }
    }
    all.sort_by(|a, b| a.le_ms.total_cmp(&b.le_ms));
    all
}

/// A bucket's bound, short enough to sit under its bar.
fn bound_label(le_ms: f64) -> String {
    if le_ms < 10.0 {
        format!("{le_ms:.1}")
    } else if le_ms < 1000.0 {
        format!("{le_ms:.0}")
    } else {
        format!("{:.0}s", le_ms / 1000.0)
    }
}

/// The latency histogram: calls per bucket, each bar labelled with its bucket's upper bound.
pub fn histogram(frame: &mut Frame, area: Rect, report: &BenchReport, theme: Theme) {
    let buckets = all_buckets(report);
    let block = titled(" calls by latency, up to ms ".into(), theme);
    if buckets.is_empty() {
        let empty = Paragraph::new(Line::styled("no calls yet", theme.dim())).block(block);
        return frame.render_widget(empty, area);
    }
    let labels: Vec<String> = buckets.iter().map(|b| bound_label(b.le_ms)).collect();
    let inner = area.width;
    let count = buckets.len() as u16;
    let widest = labels.iter().map(|l| l.len() as u16).max().unwrap_or(1);
    let bar_width = (inner.saturating_sub(count) / count.max(1)).clamp(widest.min(3), 8);
    let bars: Vec<Bar> = buckets
        .iter()
        .zip(labels)
        .map(|(bucket, label)| Bar::with_label(label, bucket.count))
        .collect();
    let chart = BarChart::new(bars)
        .block(block)
        .bar_width(bar_width)
        .bar_gap(1)
        .bar_style(theme.ok())
        .value_style(theme.selected());
    frame.render_widget(chart, area);
}
