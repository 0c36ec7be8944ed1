//! The confirmation dialog every fleet command passes through, and every call of a tool that
//! declares itself destructive. It states the exact effect ("mcpfleet-server: 3 → 5 tasks";
//! which tool of which service on which task), and for scaling lets the count be changed with
//! ←/→ or digits before confirming with Enter or `y`; Esc or `n` cancels.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Borders, Paragraph, Wrap},
};

use crate::{
    fleet::{Command, FleetSnapshot},
    mcp::{CallRequest, Target},
    ui::widgets::dialog_area,
    ui::{action::Action, theme::Theme},
};

/// What the dialog asks about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Command(Command),
    /// A call of a tool annotated `destructiveHint: true`, as the call form built it.
    Call(Box<CallRequest>),
}

pub struct ConfirmDialog {
    pub subject: Subject,
    /// A call to go to every ready task at once.
    fan_out: bool,
    typed: String,
}

/// The call in one sentence: the tool, the service and where it goes.
pub fn describe_call(request: &CallRequest, snapshot: &FleetSnapshot) -> String {
    let (tool, service) = (&request.tool, &request.service);
    let task = match &request.target {
        Target::AnyReady => "any ready task".to_string(),
        Target::Task(id) => {
            let revision = snapshot
                .service(service)
                .and_then(|s| s.task(id))
                .map_or(String::new(), |t| format!(" (rev {})", t.revision));
            format!("task {}{revision}", &id[..id.len().min(8)])
        }
    };
    format!(
        "Call {tool} of service {service} on {task}? Its server marks {tool} destructive \
         (destructiveHint: true)."
    )
}

/// The effect of `command` on `snapshot`, in one sentence.
pub fn describe(command: &Command, snapshot: &FleetSnapshot) -> String {
    let service = snapshot.service(command.service());
    match command {
        Command::Scale {
            service: name,
            desired,
        } => {
            let now = service.map(|s| s.desired).unwrap_or(0);
            let verb = if *desired > now { "start" } else { "stop" };
            let diff = desired.abs_diff(now);
            format!("Scale {name} from {now} to {desired} tasks ({verb} {diff}).")
        }
        Command::Deploy {
            service: name,
            change,
        } => {
            let revision = service
                .and_then(|s| s.primary())
                .map(|d| d.revision)
                .unwrap_or(0);
            let running = service.map(|s| s.running).unwrap_or(0);
            // Names only: a value typed here may be a credential.
            let mut changed: Vec<&str> = change.env.keys().map(String::as_str).collect();
            if change.args.is_some() {
                changed.push("its arguments");
            }
            if change.image.is_some() {
                changed.push("its image");
            }
            let extra = match changed.is_empty() {
                true => String::new(),
                false => format!(" ({} changed)", changed.join(", ")),
            };
            let aws = snapshot.source == crate::fleet::SourceKind::Aws;
            if aws && change.is_empty() {
                // ECS's forceNewDeployment keeps the task definition.
                let limits = service
                    .and_then(|s| s.policy.as_ref())
                    .map_or(String::new(), |p| {
                        format!(
                            ", keeping between {} % and {} % of the desired count running",
                            p.min_healthy_percent, p.max_percent
                        )
                    });
                return format!(
                    "Force a new deployment of {name}: a new deployment of revision {revision}, \
                     whose new tasks replace all {running} running tasks{limits}."
                );
            }
            let (what, new) = match (change.is_empty(), aws) {
                (true, _) => ("Force a new deployment of", next_revision(service)),
                // ECS numbers a family's revisions, deregistered ones included.
                (false, true) => (
                    "Deploy a new revision of",
                    "the task definition family's next revision".to_string(),
                ),
                (false, false) => ("Deploy a new revision of", next_revision(service)),
            };
            format!(
                "{what} {name}: {new}{extra} replaces revision {revision} on all \
                 {running} running tasks, one batch at a time (new tasks start before old ones drain)."
            )
        }
        Command::Rollback { service: name } => {
            let target = service.and_then(|s| {
                let current = s.primary().map(|d| d.revision);
                s.deployments
                    .iter()
                    .filter(|d| Some(d.revision) != current)
                    .find(|d| d.rollout_state == crate::fleet::RolloutState::Completed)
                    .map(|d| d.revision)
            });
            match target {
                Some(revision) => {
                    format!("Roll {name} back to revision {revision} with a new deployment.")
                }
                None if snapshot.source == crate::fleet::SourceKind::Aws => format!(
                    "Roll {name} back to the task definition of its last completed deployment \
                     (from ECS's deployment history, or the deployments this console saw complete)."
                ),
                None => {
                    format!("Roll {name} back to its last completed deployment (none is known).")
                }
            }
        }
        Command::StopTask {
            service: name,
            task_id,
            reason,
        } => format!(
            "Stop task {} of {name} ({reason}); it drains its calls and the scheduler starts a replacement.",
            &task_id[..task_id.len().min(8)]
        ),
    }
}

/// The revision the local fleet will create: one past the highest the service ever had, so
/// after a rollback to 2 from 3 it is 4, not 3.
fn next_revision(service: Option<&crate::fleet::Service>) -> String {
    let number = service.map_or(1, crate::fleet::Service::next_revision);
    format!("revision {number}")
}

/// What the message line says while a confirmed command runs.
pub fn in_progress(command: &Command) -> String {
    match command {
        Command::Scale { service, desired } => {
            format!("scaling {service} to {desired}")
        }
        Command::Deploy { service, .. } => format!("deploying {service}"),
        Command::Rollback { service } => format!("rolling back {service}"),
        Command::StopTask { task_id, .. } => {
            format!("stopping task {}", &task_id[..task_id.len().min(8)])
        }
    }
}

impl ConfirmDialog {
    pub fn new(command: Command) -> Self {
        Self {
            subject: Subject::Command(command),
            fan_out: false,
            typed: String::new(),
        }
    }

    pub fn call(request: CallRequest) -> Self {
        Self {
            subject: Subject::Call(Box::new(request)),
            fan_out: false,
            typed: String::new(),
        }
    }

    /// The call, to every ready task of its service.
    pub fn fan_out(request: CallRequest) -> Self {
        Self {
            fan_out: true,
            ..Self::call(request)
        }
    }

    /// Some(action) ends the dialog: `Confirmed`/`ConfirmedCall` or a cancellation message.
    /// A cancelled call leaves its form as it was filled in.
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Action> {
        match (key.code, &mut self.subject) {
            (KeyCode::Enter | KeyCode::Char('y'), Subject::Command(command)) => {
                Some(Action::Confirmed(command.clone()))
            }
            (KeyCode::Enter | KeyCode::Char('y'), Subject::Call(request)) if self.fan_out => {
                Some(Action::ConfirmedFanOut(request.clone()))
            }
            (KeyCode::Enter | KeyCode::Char('y'), Subject::Call(request)) => {
                Some(Action::ConfirmedCall(request.clone()))
            }
            (KeyCode::Esc | KeyCode::Char('n'), Subject::Command(_)) => {
                Some(Action::Message("cancelled".into()))
            }
            (KeyCode::Esc | KeyCode::Char('n'), Subject::Call(request)) => Some(Action::Message(
                format!("cancelled: {} was not called", request.tool),
            )),
            (code, Subject::Command(Command::Scale { desired, .. })) => {
                match code {
                    KeyCode::Right | KeyCode::Char('+') | KeyCode::Up => {
                        *desired = desired.saturating_add(1).min(64)
                    }
                    KeyCode::Left | KeyCode::Char('-') | KeyCode::Down => {
                        *desired = desired.saturating_sub(1)
                    }
                    KeyCode::Char(digit @ '0'..='9') => {
                        self.typed.push(digit);
                        *desired = self.typed.parse::<u32>().unwrap_or(0).min(64);
                    }
                    KeyCode::Backspace => {
                        self.typed.pop();
                        *desired = self.typed.parse().unwrap_or(0);
                    }
                    _ => {}
                }
                None
            }
            _ => None,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, snapshot: &FleetSnapshot, theme: Theme) {
        let dialog = dialog_area(frame, area, 72, 8);
        let effect = match &self.subject {
            Subject::Command(command) => describe(command, snapshot),
            Subject::Call(request) if self.fan_out => describe_call(request, snapshot)
                .replace(" on any ready task?", " on every ready task?"),
            Subject::Call(request) => describe_call(request, snapshot),
        };
        let mut lines = vec![Line::from(effect), Line::from("")];
        if matches!(self.subject, Subject::Command(Command::Scale { .. })) {
            lines.push(Line::from(Span::styled(
                "←/→ or digits change the count",
                theme.dim(),
            )));
        }
        lines.push(Line::from(vec![
            Span::styled("enter/y", theme.key()),
            Span::raw(" confirm   "),
            Span::styled("esc/n", theme.key()),
            Span::raw(" cancel"),
        ]));
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(" Confirm ", theme.dangerous()));
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
            dialog,
        );
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyModifiers;

    use super::*;
    use crate::ui::views::fixtures;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn the_dialog_states_the_exact_effect() {
        let fleet = fixtures::fleet();
        let scale = Command::Scale {
            service: "mcpfleet-server".into(),
            desired: 5,
        };
        assert_eq!(
            describe(&scale, &fleet),
            "Scale mcpfleet-server from 3 to 5 tasks (start 2)."
        );
        let rollback = Command::Rollback {
            service: "mcpfleet-server".into(),
        };
        assert_eq!(
            describe(&rollback, &fleet),
            "Roll mcpfleet-server back to revision 1 with a new deployment."
        );
        let stop = Command::StopTask {
            service: "x".into(),
            task_id: "0123456789abcdef".into(),
            reason: "r".into(),
        };
        assert!(describe(&stop, &fleet).starts_with("Stop task 01234567 of x (r)"));
    }

    #[test]
    fn on_ecs_a_forced_deployment_keeps_the_revision() {
        let mut fleet = fixtures::fleet();
        fleet.source = crate::fleet::SourceKind::Aws;
        fleet.services[0].policy = Some(crate::fleet::DeploymentPolicy {
            min_healthy_percent: 100,
            max_percent: 200,
            circuit_breaker: true,
            rollback: true,
            alarms: Vec::new(),
            alarm_rollback: false,
        });
        let deploy = Command::Deploy {
            service: "mcpfleet-server".into(),
            change: Default::default(),
        };
        let said = describe(&deploy, &fleet);
        assert!(
            said.contains("a new deployment of revision 2, whose new tasks replace all 3 running")
                && said.ends_with("keeping between 100 % and 200 % of the desired count running."),
            "{said}"
        );
        fleet.services[0].deployments.truncate(1);
        let rollback = Command::Rollback {
            service: "mcpfleet-server".into(),
        };
        assert!(describe(&rollback, &fleet).contains("last completed deployment (from ECS's"));
    }

    #[test]
    fn after_a_rollback_the_dialog_names_the_revision_the_fleet_will_make() {
        let mut fleet = fixtures::fleet();
        // Revision 3 was deployed, then rolled back to 2 (its deployment since forgotten):
        // the local fleet has made 3 revisions.
        fleet.services[0].latest_revision = Some(3);
        let deploy = Command::Deploy {
            service: "mcpfleet-server".into(),
            change: Default::default(),
        };
        let said = describe(&deploy, &fleet);
        assert!(
            said.starts_with(
                "Force a new deployment of mcpfleet-server: revision 4 replaces revision 2"
            ),
            "{said}"
        );
        let image = Command::Deploy {
            service: "mcpfleet-server".into(),
            change: crate::fleet::RevisionChange {
                image: Some("registry.example/mcp:2".into()),
                ..Default::default()
            },
        };
        fleet.source = crate::fleet::SourceKind::Aws;
        let said = describe(&image, &fleet);
        assert!(
            said.contains(
                "the task definition family's next revision (its image changed) replaces revision 2"
            ),
            "{said}"
        );
    }

    #[test]
    fn scale_count_is_adjustable_and_confirmed() {
        let mut dialog = ConfirmDialog::new(Command::Scale {
            service: "s".into(),
            desired: 3,
        });
        dialog.on_key(key(KeyCode::Right));
        dialog.on_key(key(KeyCode::Right));
        assert_eq!(
            dialog.on_key(key(KeyCode::Enter)),
            Some(Action::Confirmed(Command::Scale {
                service: "s".into(),
                desired: 5
            }))
        );
        dialog.on_key(key(KeyCode::Char('1')));
        dialog.on_key(key(KeyCode::Char('2')));
        assert_eq!(
            dialog.subject,
            Subject::Command(Command::Scale {
                service: "s".into(),
                desired: 12
            })
        );
        assert_eq!(
            dialog.on_key(key(KeyCode::Esc)),
            Some(Action::Message("cancelled".into()))
        );
    }

    #[test]
    fn a_destructive_call_names_tool_service_and_task() {
        let fleet = fixtures::fleet();
        let request = CallRequest::new("mcpfleet-server", "wipe_cache", serde_json::json!({}));
        assert_eq!(
            describe_call(&request, &fleet),
            "Call wipe_cache of service mcpfleet-server on any ready task? Its server marks \
             wipe_cache destructive (destructiveHint: true)."
        );
        let pinned = request.clone().on_task("0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c");
        assert!(
            describe_call(&pinned, &fleet).contains("on task 0f2ab1c9 (rev 2)?"),
            "{}",
            describe_call(&pinned, &fleet)
        );
        let mut dialog = ConfirmDialog::call(request.clone());
        assert_eq!(dialog.on_key(key(KeyCode::Right)), None);
        assert_eq!(
            dialog.on_key(key(KeyCode::Char('y'))),
            Some(Action::ConfirmedCall(Box::new(request)))
        );
        assert_eq!(
            dialog.on_key(key(KeyCode::Char('n'))),
            Some(Action::Message(
                "cancelled: wipe_cache was not called".into()
            ))
        );
    }
}
