//! The smoke checks of a file (`:check FILE [SERVICE]`): each check fanned out to every ready
//! replica, and as the answers come a row per check and replica — task, revision, verdict,
//! latency, what fell short — with the replicas that failed named below, as `mcpfleet check`
//! prints them.

use std::time::SystemTime;

use ratatui::{Frame, layout::Rect, text::Line, widgets::Paragraph};

use super::{Context, View};
use crate::{
    inert::inert_line,
    mcp::{
        CallId, CallUpdate,
        smoke::{self, Check, Verdict},
    },
    ui::{
        action::{Action, Scope, ViewKind},
        keys::KeyId,
        theme::Theme,
    },
};

const COLUMNS: [&str; 6] = ["CHECK", "TASK", "REV", "VERDICT", "LATENCY", "WHY"];

pub struct CheckView {
    scope: Scope,
    /// The file as it was named.
    file: String,
    checks: Vec<Check>,
    /// Each check's fan-out, in the file's order, as the app started them.
    calls: Vec<CallId>,
    /// Each check's verdicts once its fan-out ended, or why it found no replica to call.
    results: Vec<Option<Result<Vec<Verdict>, String>>>,
}

impl CheckView {
    pub fn new(scope: Scope, file: &str, checks: Vec<Check>) -> Self {
        Self {
            scope,
            file: file.to_string(),
            results: checks.iter().map(|_| None).collect(),
            checks,
            calls: Vec::new(),
        }
    }
}

impl View for CheckView {
    fn kind(&self) -> ViewKind {
        ViewKind::Check
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        format!("check({})", self.file)
    }

    fn is_list(&self) -> bool {
        false
    }

    fn on_key(&mut self, _key: KeyId, _ctx: &Context) -> Option<Action> {
        None
    }

    fn on_call_started(&mut self, id: CallId, _at: SystemTime) {
        self.calls.push(id);
    }

    fn on_call_update(&mut self, id: CallId, update: &CallUpdate) {
        let CallUpdate::FannedOut(result) = update else {
            return;
        };
        let Some(index) = self.calls.iter().position(|own| *own == id) else {
            return;
        };
        let check = &self.checks[index];
        self.results[index] = Some(match result {
            Ok(tasks) => Ok(tasks.iter().map(|t| Verdict::of(check, t)).collect()),
            Err(error) => Err(error.to_string()),
        });
    }

    fn animating(&self) -> bool {
        self.results.iter().any(Option::is_none)
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let service = self.scope.service.as_deref().unwrap_or("?");
        let lines = lines(service, &self.checks, &self.results, ctx.theme);
        frame.render_widget(Paragraph::new(lines), area);
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}

/// The screen, line by line.
pub fn lines(
    service: &str,
    checks: &[Check],
    results: &[Option<Result<Vec<Verdict>, String>>],
    theme: Theme,
) -> Vec<Line<'static>> {
    let done = results.iter().filter(|r| r.is_some()).count();
    let state = if done == checks.len() {
        "done"
    } else {
        "running"
    };
    let mut lines = vec![
        Line::raw(format!(
            "{done}/{} checks on every ready replica of {service} · {state}",
            checks.len()
        )),
        Line::raw(""),
    ];
    let mut rows: Vec<([String; 6], bool)> = Vec::new();
    let mut verdicts: Vec<Verdict> = Vec::new();
    let mut not_run = 0;
    for (check, result) in checks.iter().zip(results) {
        match result {
            None => rows.push((
                [
                    check.name.clone(),
                    "…".into(),
                    "".into(),
                    "".into(),
                    "".into(),
                    "".into(),
                ],
                false,
            )),
            Some(Err(why)) => {
                not_run += 1;
                let dash = || "-".to_string();
                let why = inert_line(why).into_owned();
                let row = [
                    check.name.clone(),
                    dash(),
                    dash(),
                    "ERROR".into(),
                    dash(),
                    why,
                ];
                rows.push((row, true));
            }
            Some(Ok(found)) => {
                for v in found {
                    let (task, revision) = v.replica();
                    let why: Vec<String> = v
                        .failures
                        .iter()
                        .map(|miss| inert_line(&miss.to_string()).into_owned())
                        .collect();
                    rows.push((
                        [
                            v.check.clone(),
                            short(task).to_string(),
                            revision.map_or("-".into(), |r| r.to_string()),
                            if v.passed() { "pass" } else { "FAIL" }.into(),
                            format!("{:.1} ms", v.latency_ms),
                            if why.is_empty() {
                                "-".into()
                            } else {
                                why.join("; ")
                            },
                        ],
                        !v.passed(),
                    ));
                }
                verdicts.extend(found.iter().cloned());
            }
        }
    }
    let mut widths = COLUMNS.map(|c| c.chars().count());
    for (row, _) in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let header: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    lines.push(Line::styled(line(&header), theme.title()));
    for (row, failed) in &rows {
        let text = line(row);
        lines.push(if *failed {
            Line::styled(text, theme.error())
        } else {
            Line::raw(text)
        });
    }
    lines.push(Line::raw(""));
    if !verdicts.is_empty() {
        lines.push(Line::raw(smoke::summary(&verdicts)));
    }
    if not_run > 0 {
        lines.push(Line::styled(
            format!("{not_run} checks found no replica to call"),
            theme.error(),
        ));
    }
    for (replica, failed) in smoke::failing(&verdicts) {
        lines.push(Line::styled(
            format!("failed on {replica}: {}", failed.join(", ")),
            theme.error(),
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::{
        OutcomeKind,
        smoke::{CheckFile, Expected, Miss},
    };

    fn verdict(check: &str, task: &str, failures: Vec<Miss>) -> Verdict {
        Verdict {
            check: check.into(),
            tool: "echo".into(),
            task_id: task.into(),
            revision: 2,
            zone: None,
            served_by: None,
            outcome: OutcomeKind::Ok,
            latency_ms: 1.25,
            failures,
        }
    }

    #[test]
    fn rows_per_check_and_replica_and_the_failing_replica_named() {
        let file = "[[check]]\nname = \"echo\"\ntool = \"echo\"\n\n\
                    [[check]]\nname = \"gone\"\ntool = \"echo\"\n\n\
                    [[check]]\nname = \"later\"\ntool = \"echo\"\n";
        let checks = CheckFile::parse(file).unwrap().checks;
        let missed = Miss::Outcome {
            expected: Expected::Ok,
            got: OutcomeKind::ToolError,
            detail: "tool error: boom\x1b[2J".into(),
        };
        let results = vec![
            Some(Ok(vec![
                verdict("echo", "aaaa1111aaaa", vec![]),
                verdict("echo", "bbbb2222bbbb", vec![missed]),
            ])),
            Some(Err("no ready task of flaky".into())),
            None,
        ];
        let text: Vec<String> = lines("flaky", &checks, &results, Theme::plain())
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(
            text[..7],
            [
                "2/3 checks on every ready replica of flaky · running",
                "",
                "CHECK  TASK      REV  VERDICT  LATENCY  WHY",
                "echo   aaaa1111  2    pass     1.2 ms   -",
                "echo   bbbb2222  2    FAIL     1.2 ms   outcome: expected ok, got tool error \
                 (tool error: boom\\u{1b}[2J)",
                "gone   -         -    ERROR    -        no ready task of flaky",
                "later  …",
            ],
            "{text:#?}"
        );
        assert_eq!(
            text[8..],
            [
                "1 of 2 passed on 2 replicas; 1 failed",
                "1 checks found no replica to call",
                "failed on task bbbb2222bbbb (rev 2): echo",
            ]
        );
    }
}
