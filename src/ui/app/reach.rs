//! Reaching into the selected task: `e` asks the loop to hand the terminal to an ECS Exec
//! shell (`App::shell`, which `ui::run` takes, runs and gives back), `f` opens a Session
//! Manager port forward that stays up while the console runs on this source, through which
//! the MCP worker then reaches the task (`reach::route`). Both say in the message line what
//! is missing instead.

use std::{path::PathBuf, sync::Arc};

use crate::reach::{self, exec, forward, prereq};

use super::{App, Scope, UiEvent};

/// A shell waiting for the terminal: the `aws` CLI, its arguments, and where it goes.
#[derive(Debug, Clone)]
pub struct Shell {
    pub aws: PathBuf,
    pub args: Vec<String>,
    pub target: reach::Target,
}

/// An open port forward; dropping it ends the session and the processes behind it.
pub struct Forward {
    pub task_id: String,
    pub local_port: u16,
    /// The MCP URL through it.
    pub url: String,
    running: tokio::task::JoinHandle<()>,
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.running.abort();
    }
}

impl App {
    fn reach_target(&self, scope: &Scope) -> Result<(PathBuf, reach::Target), String> {
        let service = scope.service.as_deref().unwrap_or_default();
        let task = scope.task.as_deref();
        let target = reach::target(&self.data.snapshot, service, task, None)
            .map_err(|missing| missing.to_string())?;
        let aws = prereq::programs_on_path().map_err(|missing| missing.to_string())?;
        Ok((aws, target))
    }

    /// `e`: a shell in the task's MCP container, once the loop has the terminal free.
    pub(super) fn exec_into(&mut self, scope: &Scope) {
        if self.data.read_only {
            return self.say(
                "--read-only: no shell in a task (ECS Exec runs commands there)".into(),
                true,
            );
        }
        match self.reach_target(scope) {
            Ok((aws, target)) => {
                let args = exec::arguments(&self.data.aws_cli, &target, exec::SHELL);
                self.shell = Some(Shell { aws, args, target });
            }
            Err(message) => self.say(message, true),
        }
    }

    /// The shell is over and the screen is the console's again.
    pub fn shell_ended(&mut self, shell: &Shell, ended: std::io::Result<exec::Ended>) {
        let task = &shell.target.task_id[..shell.target.task_id.len().min(8)];
        match ended {
            Ok(exec::Ended { code: 0, .. }) => {
                self.say(format!("the shell in task {task} ended"), false)
            }
            Ok(exec::Ended { code, hint }) => {
                let hint = hint.map(|h| format!(": {h}")).unwrap_or_default();
                self.say(
                    format!("the shell in task {task} ended with exit {code}{hint}"),
                    true,
                )
            }
            Err(error) => self.say(format!("aws: {error}"), true),
        }
    }

    /// `f`: the task's MCP port on a free local port, until the console ends or the source
    /// changes (the forwards live in the app, which `:ctx` replaces).
    pub(super) fn forward_to(&mut self, scope: &Scope) {
        let (aws, target) = match self.reach_target(scope) {
            Ok(found) => found,
            Err(message) => return self.say(message, true),
        };
        if let Some(open) = self.forwards.iter().find(|f| f.task_id == target.task_id) {
            let url = open.url.clone();
            return self.say(format!("already forwarded: {url}"), false);
        }
        let opened = forward::free_port()
            .map_err(|error| format!("no free local port: {error}"))
            .and_then(|port| {
                let args = forward::arguments(&self.data.aws_cli, &target, port)
                    .map_err(|missing| missing.to_string())?;
                Ok((port, args))
            });
        let (local_port, args) = match opened {
            Ok(opened) => opened,
            Err(message) => return self.say(message, true),
        };
        let short = target.task_id[..target.task_id.len().min(8)].to_string();
        let (events, task) = (self.events.clone(), short.clone());
        let running = tokio::spawn(forward::keep(
            aws,
            args,
            forward::Output::Quiet,
            move |end, wait| {
                let why = match end {
                    Ok(exec::Ended { code, hint }) => {
                        let hint = hint.map(|h| format!(" ({h})")).unwrap_or_default();
                        format!("ended (exit {code}){hint}")
                    }
                    Err(error) => format!("could not start: {error}"),
                };
                let line = format!(
                    "the forward to task {task} {why}; starting it again in {} s",
                    wait.as_secs()
                );
                let _ = events.send(UiEvent::CommandDone(Err(line)));
            },
        ));
        let url = forward::local_url(local_port, &target.path);
        self.say(format!("forwarding task {short}: {url}"), false);
        self.forwards.push(Forward {
            task_id: target.task_id,
            local_port,
            url,
            running,
        });
        let routes = self
            .forwards
            .iter()
            .map(|f| (f.task_id.clone(), f.url.clone()));
        self.forwarded.send_replace(Arc::new(routes.collect()));
    }

    /// The header's mark: the one forward's task and port, or how many are open.
    pub(super) fn forwards_label(&self) -> Option<String> {
        match self.forwards.as_slice() {
            [] => None,
            [one] => Some(format!(
                "⇄ {} → 127.0.0.1:{}",
                &one.task_id[..one.task_id.len().min(8)],
                one.local_port
            )),
            many => Some(format!("⇄ {} forwards", many.len())),
        }
    }
}
