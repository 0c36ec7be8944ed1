//! The flake reproducer's screen: the call form's call sent many times, a few at once, with a
//! live table per replica — calls, failures by kind, failure rate with its 95 % interval,
//! latency quantiles — a progress bar, the replica that stands out, and at the end the
//! incident files saved. Leaving the screen stops the run.

use std::{path::PathBuf, sync::Arc, time::SystemTime};

use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::Paragraph,
};
use tokio_util::sync::CancellationToken;

use super::{Context, View};
use crate::{
    mcp::{
        CallId, CallUpdate,
        repro::{ReproReport, kinds_text, replica_label},
    },
    ui::{
        action::{Action, Scope, ViewKind},
        keys::KeyId,
        theme::Theme,
    },
};

pub struct ReproView {
    scope: Scope,
    tool: String,
    report: Arc<ReproReport>,
    started: Option<(CallId, SystemTime)>,
    ended: bool,
    /// When the run ended, so its time stops there.
    ended_at: Option<SystemTime>,
    incidents: Vec<PathBuf>,
    /// Stops the run; cancelled when the page goes.
    cancel: Option<CancellationToken>,
}

impl ReproView {
    pub fn new(scope: Scope, tool: &str, planned: usize) -> Self {
        Self {
            scope,
            tool: tool.to_string(),
            report: Arc::new(ReproReport {
                planned,
                ..ReproReport::default()
            }),
            started: None,
            ended: false,
            ended_at: None,
            incidents: Vec::new(),
            cancel: None,
        }
    }

    pub fn running(&mut self, cancel: CancellationToken) {
        self.cancel = Some(cancel);
    }
}

impl Drop for ReproView {
    fn drop(&mut self) {
        if let Some(cancel) = &self.cancel {
            cancel.cancel();
        }
    }
}

impl View for ReproView {
    fn kind(&self) -> ViewKind {
        ViewKind::Repro
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        format!("repro({})", self.tool)
    }

    fn is_list(&self) -> bool {
        false
    }

    fn on_key(&mut self, key: KeyId, _ctx: &Context) -> Option<Action> {
        match (key, &self.cancel) {
            (KeyId::CancelCall, Some(cancel)) if !self.ended => {
                cancel.cancel();
                Some(Action::Message("stopping after the calls in flight".into()))
            }
            (KeyId::CancelCall, _) => Some(Action::Message("the run has ended".into())),
            _ => None,
        }
    }

    fn on_call_started(&mut self, id: CallId, at: SystemTime) {
        self.started = Some((id, at));
    }

    fn on_call_update(&mut self, id: CallId, update: &CallUpdate) {
        if self.started.map(|(own, _)| own) != Some(id) {
            return;
        }
        match update {
            CallUpdate::Repro(report) => self.report = report.clone(),
            CallUpdate::ReproDone(end) => {
                self.report = Arc::new(end.report.clone());
                self.incidents = end.incidents.clone();
                self.ended = true;
                self.ended_at = Some(SystemTime::now());
            }
            _ => {}
        }
    }

    fn animating(&self) -> bool {
        !self.ended
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let elapsed = self
            .started
            .and_then(|(_, at)| self.ended_at.unwrap_or(ctx.now).duration_since(at).ok())
            .unwrap_or_default();
        let lines = lines(
            &self.report,
            self.ended,
            &self.incidents,
            elapsed,
            ctx.theme,
        );
        frame.render_widget(Paragraph::new(lines), area);
    }
}

/// The screen, line by line.
pub fn lines(
    report: &ReproReport,
    ended: bool,
    incidents: &[PathBuf],
    elapsed: std::time::Duration,
    theme: Theme,
) -> Vec<Line<'static>> {
    let failed: u64 = report.replicas.iter().map(|r| r.failures).sum();
    let width = 40;
    let filled = (report.done * width)
        .checked_div(report.planned)
        .unwrap_or(0)
        .min(width);
    let state = if ended {
        if report.done < report.planned {
            "stopped"
        } else {
            "done"
        }
    } else {
        "running · ctrl-x stops"
    };
    let mut lines = vec![Line::from(vec![
        Span::styled("█".repeat(filled), theme.ok()),
        Span::styled("░".repeat(width - filled), theme.dim()),
        Span::raw(format!(
            " {}/{} calls · {failed} failed · {:.1} s · {state}",
            report.done,
            report.planned,
            elapsed.as_secs_f64()
        )),
    ])];
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            "{:<10} {:>4} {:>6} {:>6}  {:<21} {:>8} {:>8} {:>8} {:>8}  FAILURES",
            "TASK",
            "REV",
            "CALLS",
            "FAILED",
            "RATE (95% CI)",
            "P50 MS",
            "P90 MS",
            "P99 MS",
            "MAX MS"
        ),
        theme.title(),
    ));
    for replica in &report.replicas {
        let row = format!(
            "{:<10} {:>4} {:>6} {:>6}  {:<21} {:>8.1} {:>8.1} {:>8.1} {:>8.1}  {}",
            replica_label(replica.task_id.as_deref()),
            replica.revision.map_or("-".into(), |r| r.to_string()),
            replica.calls,
            replica.failures,
            format!(
                "{:.1} % ({:.1}–{:.1})",
                replica.failure_rate * 100.0,
                replica.failure_rate_low * 100.0,
                replica.failure_rate_high * 100.0
            ),
            replica.p50_ms,
            replica.p90_ms,
            replica.p99_ms,
            replica.max_ms,
            kinds_text(&replica.failures_by_kind),
        );
        let standing_out = report.suspect.is_some() && replica.task_id == report.suspect;
        lines.push(if standing_out {
            Line::styled(row, theme.error())
        } else {
            Line::from(row)
        });
    }
    lines.push(Line::raw(""));
    if let Some((suspect, others)) = report.standing_out() {
        lines.push(Line::styled(
            format!(
                "task {} stands out: it fails {:.1} % (95 % CI {:.1}–{:.1} %), the others {:.1}–{:.1} %",
                replica_label(suspect.task_id.as_deref()),
                suspect.failure_rate * 100.0,
                suspect.failure_rate_low * 100.0,
                suspect.failure_rate_high * 100.0,
                others.low * 100.0,
                others.high * 100.0
            ),
            theme.warn(),
        ));
    } else if failed > 0 {
        lines.push(Line::styled(
            "no replica stands out from the others (yet)",
            theme.dim(),
        ));
    }
    if report.not_sent > 0 {
        lines.push(Line::styled(
            format!(
                "{} calls could not be sent: {}",
                report.not_sent,
                crate::inert::inert_line(report.last_error.as_deref().unwrap_or("?"))
            ),
            theme.error(),
        ));
    }
    for path in incidents {
        lines.push(Line::styled(
            format!("incident saved: {}", path.display()),
            theme.dim(),
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::mcp::repro::{ReplicaFigures, wilson};

    #[test]
    fn the_table_marks_the_replica_that_stands_out() {
        let replica = |id: &str, calls, failures| ReplicaFigures {
            task_id: Some(id.into()),
            revision: Some(1),
            calls,
            failures,
            failures_by_kind: BTreeMap::from([("tool_error".to_string(), failures)]),
            failure_rate: failures as f64 / calls as f64,
            failure_rate_low: wilson(failures, calls).0,
            failure_rate_high: wilson(failures, calls).1,
            p50_ms: 2.0,
            p90_ms: 3.0,
            p99_ms: 4.0,
            max_ms: 5.0,
        };
        let report = ReproReport {
            planned: 300,
            done: 150,
            replicas: vec![replica("aaaa1111", 75, 0), replica("bbbb2222", 75, 16)],
            suspect: Some("bbbb2222".into()),
            ..ReproReport::default()
        };
        let text: Vec<String> = lines(
            &report,
            false,
            &[],
            std::time::Duration::from_secs(2),
            Theme::plain(),
        )
        .iter()
        .map(|l| l.to_string())
        .collect();
        assert!(text[0].ends_with(" 150/300 calls · 16 failed · 2.0 s · running · ctrl-x stops"));
        assert!(
            text[4].starts_with("bbbb2222      1     75     16  21.3 % "),
            "{text:#?}"
        );
        assert!(text[4].ends_with("tool_error=16"), "{text:#?}");
        assert!(
            text[6].starts_with("task bbbb2222 stands out: it fails 21.3 %"),
            "{text:#?}"
        );
    }
}
