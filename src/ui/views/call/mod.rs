//! The call form: one tool's arguments as fields (or raw JSON), the task it goes to, and below
//! them the call's progress, result or JSON-RPC exchange. While a field is being edited every
//! key types into it except the call keys of the key table; Esc stops editing, and Esc again
//! leaves the page.

use std::{collections::HashMap, time::SystemTime};

use crossterm::event::KeyEvent;
use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
};
use serde_json::Value;

mod copy;
mod field;
#[cfg(test)]
pub(crate) mod fixtures;
mod form;
mod form_draw;
pub(crate) mod form_pane;
pub(crate) mod protocol;
pub(crate) mod result;
mod result_pane;
pub(crate) mod schema;
mod target;
mod trace_lines;

use copy::{cli_command, copy_text, curl_command};
use field::pretty;
use form_pane::FormPane;
use result_pane::ResultPane;
use target::{curl_endpoint, next_target, target_label};
use trace_lines::TraceLines;

use super::tools_catalog::find_tool;
use super::{Context, View};
use crate::{
    fleet::FleetSnapshot,
    mcp::{CallId, CallRequest, CallUpdate, LOG_LEVELS, Probe, Target, ToolInfo},
    ui::{
        action::{Action, Scope, ViewKind},
        keys::{self, KeyId},
    },
};

/// The call keys of the key table keep their meaning while a field is being edited; Enter,
/// the arrows and everything else go to the field.
fn works_while_typing(id: KeyId) -> bool {
    use KeyId as K;
    let form = matches!(
        id,
        K::Send
            | K::FanOut
            | K::Repro
            | K::Bench
            | K::CancelCall
            | K::RawJson
            | K::Target
            | K::Protocol
    );
    form || matches!(
        id,
        K::NextField | K::PrevField | K::CopyResult | K::CopyCli | K::CopyCurl
    )
}

pub struct CallView {
    /// The screen row the view was last drawn at; clicks come in screen rows.
    top: u16,
    scope: Scope,
    tool: ToolInfo,
    /// The protocol the server spoke when probed, for the copied curl command.
    protocol: String,
    form: FormPane,
    target: Target,
    result: ResultPane,
    /// The server's log lines asked for with each call, from this level up; none asked.
    log_level: Option<&'static str>,
    /// The last call asked for went to every ready task.
    fanning: bool,
    /// The serving task's log lines of the last call's trace.
    trace_lines: Option<TraceLines>,
}

/// None, then each level from the least severe, then none again.
fn next_level(level: Option<&'static str>) -> Option<&'static str> {
    match level {
        None => LOG_LEVELS.first().copied(),
        Some(level) => LOG_LEVELS
            .iter()
            .skip_while(|l| **l != level)
            .nth(1)
            .copied(),
    }
}

impl CallView {
    /// `arguments` pre-fills the form (a call from the history).
    pub fn new(scope: Scope, tool: ToolInfo, protocol: &str, arguments: Option<Value>) -> Self {
        Self {
            top: 0,
            target: scope.task.clone().map_or(Target::AnyReady, Target::Task),
            form: FormPane::new(&tool.input_schema, arguments.as_ref()),
            scope,
            tool,
            protocol: protocol.to_string(),
            result: ResultPane::new(),
            log_level: None,
            fanning: false,
            trace_lines: None,
        }
    }

    fn service(&self) -> &str {
        self.scope.service.as_deref().unwrap_or("")
    }

    /// The form's call, to every ready task at once (`fan_out`) or to the target.
    fn send(&mut self, fan_out: bool) -> Option<Action> {
        if self.result.running().is_some() {
            return Some(Action::Message(
                "a call is running; ctrl-x cancels it".into(),
            ));
        }
        let arguments = match self.form.validated(&self.tool.input_schema) {
            Ok(arguments) => arguments,
            Err(message) => return Some(Action::Message(message)),
        };
        let request = CallRequest {
            target: self.target.clone(),
            log_level: self.log_level.map(str::to_string),
            ..CallRequest::new(self.service(), self.tool.name.clone(), arguments)
        };
        self.fanning = fan_out;
        Some(if fan_out {
            Action::StartFanOut(Box::new(request))
        } else {
            Action::StartCall(Box::new(request))
        })
    }

    /// The log lines of the shown call's trace, looked up again for the lines that arrived.
    fn trace_lines(&mut self, ctx: &Context) -> Option<&TraceLines> {
        let outcome = self.result.outcome()?;
        let trace_id = outcome.exchange.trace_id.as_deref()?;
        match &mut self.trace_lines {
            Some(found) if found.trace_id() == trace_id => found.refresh(ctx.logs),
            _ => {
                let task = outcome
                    .served_by
                    .as_ref()
                    .and_then(|by| by.task_id.as_deref());
                self.trace_lines = Some(TraceLines::new(
                    trace_id,
                    self.scope.service.as_deref().unwrap_or(""),
                    task,
                    ctx.logs,
                ));
            }
        }
        self.trace_lines.as_ref()
    }

    fn copy_curl(&self, ctx: &Context) -> Action {
        let served = self.result.outcome().and_then(|o| o.served_by.as_ref());
        let endpoint = curl_endpoint(ctx.snapshot, self.service(), &self.target, served);
        let Some((task_id, url)) = endpoint else {
            return Action::Message("no task with an endpoint to point curl at".into());
        };
        let protocol = ctx
            .probes
            .get(&task_id)
            .map_or(self.protocol.as_str(), |p| p.protocol_version.as_str());
        match self.form.arguments() {
            Ok(args) => Action::Copy(curl_command(&url, &self.tool.name, &args, protocol)),
            Err(error) => Action::Message(error),
        }
    }
}

/// The call form for `tool` of the scoped service or task; `Err` says why it cannot open yet.
pub fn open(
    snapshot: &FleetSnapshot,
    probes: &HashMap<String, Probe>,
    scope: Scope,
    tool: &str,
    arguments: Option<Value>,
) -> Result<Box<dyn View>, String> {
    let (info, protocol) = find_tool(snapshot, probes, &scope, tool)?;
    Ok(Box::new(CallView::new(
        scope.clone(),
        info.clone(),
        protocol,
        arguments,
    )))
}

impl View for CallView {
    fn kind(&self) -> ViewKind {
        ViewKind::Call
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        format!("call({})", self.tool.name)
    }

    fn is_list(&self) -> bool {
        false
    }

    fn captures_input(&self) -> bool {
        self.form.editing
    }

    fn on_escape(&mut self) -> bool {
        std::mem::replace(&mut self.form.editing, false)
    }

    fn animating(&self) -> bool {
        self.result.running().is_some()
    }

    fn on_key(&mut self, key: KeyId, ctx: &Context) -> Option<Action> {
        match key {
            KeyId::Send => return self.send(false),
            KeyId::FanOut => return self.send(true),
            KeyId::Repro | KeyId::Bench => {
                let repro = key == KeyId::Repro;
                return self.send(false).map(|action| match action {
                    Action::StartCall(request) if repro => Action::StartRepro(request),
                    Action::StartCall(request) => Action::StartBench(request),
                    other => other,
                });
            }
            KeyId::CancelCall => {
                return Some(match self.result.running() {
                    Some(id) => Action::CancelCall(id),
                    None => Action::Message("no call is running".into()),
                });
            }
            KeyId::RawJson => return self.form.toggle_raw().err().map(Action::Message),
            KeyId::Target => self.target = next_target(ctx.snapshot, self.service(), &self.target),
            KeyId::LogLevel => self.log_level = next_level(self.log_level),
            KeyId::NextField | KeyId::PrevField => self.form.move_focus(key == KeyId::NextField),
            KeyId::Open => self.form.start_editing(),
            KeyId::Protocol => self.result.toggle_protocol(),
            KeyId::CopyResult => {
                return Some(match self.result.outcome() {
                    Some(outcome) if self.result.show_protocol => Action::Copy(pretty(
                        &serde_json::to_value(&outcome.exchange).unwrap_or_default(),
                    )),
                    Some(outcome) => Action::Copy(copy_text(outcome)),
                    None => Action::Message("no result to copy yet".into()),
                });
            }
            KeyId::CopyCli => {
                let (source, service) = (ctx.snapshot.source, self.service());
                return Some(match self.form.arguments() {
                    Ok(args) => Action::Copy(cli_command(
                        source,
                        service,
                        &self.tool.name,
                        &args,
                        &self.target,
                    )),
                    Err(error) => Action::Message(error),
                });
            }
            KeyId::CopyCurl => return Some(self.copy_curl(ctx)),
            KeyId::TraceLogs => {
                return Some(match self.result.outcome() {
                    Some(outcome) => Action::trace_logs(
                        self.service(),
                        outcome.served_by.as_ref(),
                        outcome.exchange.trace_id.as_deref(),
                    ),
                    None => Action::Message("no single call shown: ctrl-s sends one".into()),
                });
            }
            other => self.result.scroll(other),
        }
        None
    }

    fn on_raw_key(&mut self, key: KeyEvent, ctx: &Context) -> Option<Action> {
        if !self.form.editing {
            return None;
        }
        match keys::lookup(&key, ViewKind::Call, false, ctx.offered()) {
            Some(id) if works_while_typing(id) => self.on_key(id, ctx),
            Some(id @ (KeyId::PageUp | KeyId::PageDown)) if !self.form.in_editor() => {
                self.on_key(id, ctx)
            }
            _ => {
                self.form.type_key(key);
                None
            }
        }
    }

    fn on_click(&mut self, row: u16, _ctx: &Context) -> Option<Action> {
        let row = row.checked_sub(self.top)?;
        self.form.click(row.checked_sub(2)?);
        None
    }

    fn on_call_started(&mut self, id: CallId, at: SystemTime) {
        self.result.start(id, at, self.fanning);
    }

    fn on_call_update(&mut self, id: CallId, update: &CallUpdate) {
        self.result.update(id, update);
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        self.top = area.y;
        let theme = ctx.theme;
        let [head, target, rest] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .areas(area);
        let (mut label, ready) = target_label(ctx.snapshot, self.service(), &self.target);
        if let Some(level) = self.log_level {
            label.push_str(&format!(" · server log ≥ {level}"));
        }
        let target_line = (label, ready);
        let header = [head, target];
        (self.form).render_header(
            frame,
            header,
            &self.tool,
            self.service(),
            target_line,
            theme,
        );

        let result_min = 7.min(rest.height / 2);
        let used = self
            .form
            .render(frame, rest, rest.height - result_min, theme);
        let result = Rect {
            y: rest.y + used,
            height: rest.height - used,
            ..rest
        };
        let below = self.trace_lines(ctx).map(|found| found.lines(theme));
        self.result
            .render(frame, result, ctx.now, theme, below.unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyModifiers};
    use serde_json::json;

    use super::*;
    use crate::mcp::CallEvent;
    use crate::ui::views::call::fixtures::{SERVICE, TASK, TRACE, outcome, press, served, started};
    use crate::ui::views::call::fixtures::{type_text, view};
    use crate::ui::views::{fixtures, fixtures::Fixture};

    #[test]
    fn the_log_level_cycles_from_none_through_each_level_back_to_none() {
        let mut level = None;
        let mut seen = Vec::new();
        for _ in 0..=LOG_LEVELS.len() {
            level = next_level(level);
            seen.push(level);
        }
        assert_eq!(seen.first(), Some(&Some("debug")));
        assert_eq!(seen[LOG_LEVELS.len() - 1], Some("emergency"));
        assert_eq!(seen.last(), Some(&None));
    }

    #[test]
    fn send_checks_the_form_then_starts_and_cancels_the_call() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = view();
        let send = |v: &mut CallView| press(v, &ctx, KeyCode::Char('s'), KeyModifiers::CONTROL);
        let message = |text: &str| Some(Action::Message(text.into()));
        assert_eq!(send(&mut view), message("1 problem to fix first"));
        type_text(&mut view, &ctx, "quota");
        let Some(Action::StartCall(request)) = send(&mut view) else {
            panic!("a valid form starts the call");
        };
        let id = 7;
        view.on_call_started(id, ctx.now);
        let expected = CallRequest::new(
            SERVICE,
            "search_logs",
            json!({"query": "quota", "level": "info", "limit": 50}),
        );
        assert_eq!(*request, expected);
        assert!(view.animating());
        assert_eq!(
            send(&mut view),
            message("a call is running; ctrl-x cancels it")
        );
        assert_eq!(
            press(&mut view, &ctx, KeyCode::Char('x'), KeyModifiers::CONTROL),
            Some(Action::CancelCall(id))
        );
        view.on_call_update(id + 1, &CallUpdate::Done(Box::new(outcome(false))));
        assert!(view.animating(), "another call's result is not this view's");
        view.on_call_update(id, &CallUpdate::Done(Box::new(outcome(false))));
        assert!(!view.animating());
        assert_eq!(
            press(&mut view, &ctx, KeyCode::Char('y'), KeyModifiers::CONTROL),
            Some(Action::Copy("2 lines match \"deadline|echo\"".into()))
        );
    }

    #[test]
    fn copies_the_call_as_commands_for_the_target() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = view();
        type_text(&mut view, &ctx, "it's");
        let copy = |v: &mut CallView, c| match v.on_key(c, &ctx) {
            Some(Action::Copy(text)) => text,
            other => panic!("expected a copy, got {other:?}"),
        };
        assert_eq!(
            copy(&mut view, KeyId::CopyCli),
            r#"mcpfleet call mcpfleet-server search_logs --args '{"level":"info","limit":50,"query":"it'\''s"}'"#
        );
        view.on_key(KeyId::Target, &ctx);
        view.on_key(KeyId::Target, &ctx);
        assert!(
            copy(&mut view, KeyId::CopyCli).ends_with(" --task 7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f")
        );
        let curl = copy(&mut view, KeyId::CopyCurl);
        assert!(curl.starts_with("curl -sS -X POST http://127.0.0.1:41011/mcp \\\n"));
        let nothing = Some(Action::Message("no result to copy yet".into()));
        assert_eq!(view.on_key(KeyId::CopyResult, &ctx), nothing);
    }

    #[test]
    fn escape_stops_editing_before_the_page_goes() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = view();
        assert!(view.captures_input());
        assert!(view.on_escape(), "the first Esc stops editing");
        assert!(!view.on_escape(), "the next one is the page's");
        view.on_key(KeyId::Open, &ctx);
        press(&mut view, &ctx, KeyCode::Tab, KeyModifiers::NONE);
        type_text(&mut view, &ctx, "x ");
        // Tab went to the toggle, which takes space and no letters.
        assert_eq!(view.form.form.fields[1].text(), "true");
    }

    #[test]
    fn ctrl_g_goes_to_the_log_lines_of_the_task_that_served_the_call() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = view();
        assert!(matches!(
            view.on_key(KeyId::TraceLogs, &ctx),
            Some(Action::Message(m)) if m.contains("no single call shown")
        ));
        type_text(&mut view, &ctx, "deadline|echo");
        let id = started(&mut view, &ctx);
        view.on_call_update(id, &CallUpdate::Done(Box::new(outcome(false))));
        assert_eq!(
            view.on_key(KeyId::TraceLogs, &ctx),
            Some(Action::OpenTraceLogs {
                scope: Scope::task(SERVICE, TASK),
                trace_id: TRACE.into(),
            })
        );
    }

    #[test]
    fn snapshots() {
        let mut fixture = Fixture::new();
        // The serving task's line of the call's trace, shown below the result.
        let line = format!(
            r#"{{"level":"INFO","message":"tool call","tool":"search_logs","trace_id":"{}"}}"#,
            TRACE
        );
        let line = crate::fleet::LogLine::parse(SERVICE, TASK, "stdout", fixtures::at(601), &line);
        fixture.logs.push(line);
        let mut ctx = fixture.context();
        let mut idle = view();
        crate::assert_view_snapshots!("call_idle", &mut idle, &ctx);

        let mut invalid = view();
        for _ in 0..3 {
            invalid.on_key(KeyId::NextField, &ctx);
        }
        let backspace = |v: &mut CallView| press(v, &ctx, KeyCode::Backspace, KeyModifiers::NONE);
        backspace(&mut invalid);
        backspace(&mut invalid);
        type_text(&mut invalid, &ctx, "0");
        invalid.on_key(KeyId::NextField, &ctx);
        type_text(&mut invalid, &ctx, "0f2ab1c9, 7a3e5c1b");
        invalid.on_key(KeyId::Send, &ctx);
        crate::assert_view_snapshots!("call_invalid", &mut invalid, &ctx);

        let mut call = view();
        type_text(&mut call, &ctx, "deadline|echo");
        let id = started(&mut call, &ctx);
        call.on_call_update(id, &CallUpdate::Event(CallEvent::Sent { task: served() }));
        call.on_call_update(
            id,
            &CallUpdate::Event(CallEvent::Progress {
                task_id: TASK.into(),
                progress: 4.0,
                total: Some(10.0),
                message: Some("scanned 4 of 10 log chunks".into()),
            }),
        );
        ctx.now = fixtures::at(602);
        crate::assert_view_snapshots!("call_running", &mut call, &ctx);

        call.on_call_update(id, &CallUpdate::Done(Box::new(outcome(false))));
        call.on_escape();
        crate::assert_view_snapshots!("call_done", &mut call, &ctx);
        call.on_key(KeyId::Protocol, &ctx);
        crate::assert_view_snapshots!("call_protocol", &mut call, &ctx);

        let mut failed = view();
        type_text(&mut failed, &ctx, "/(/");
        let id = started(&mut failed, &ctx);
        failed.on_call_update(id, &CallUpdate::Done(Box::new(outcome(true))));
        crate::assert_view_snapshots!("call_tool_error", &mut failed, &ctx);
    }
}
