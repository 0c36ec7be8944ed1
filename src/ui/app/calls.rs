//! Every call the console's pages start passes here: the rule a tool's annotations set
//! (`destructiveHint`: a confirmation, or a refusal under --read-only), then the worker, with
//! the page that asked told which call is its own.

use std::time::SystemTime;

use super::{App, Mode};
use crate::{
    mcp::{CallRequest, Clearance, Target},
    ui::{action::Scope, views, views::confirm::ConfirmDialog},
};

/// The service and task a call is for, as the tools catalog is scoped.
pub(super) fn scope_of(request: &CallRequest) -> Scope {
    Scope {
        service: Some(request.service.clone()),
        task: match &request.target {
            Target::Task(id) => Some(id.clone()),
            Target::AnyReady => None,
        },
    }
}

impl App {
    /// Sends the call to the worker and tells the page that asked which call is its own. Every
    /// call the console makes passes here, so here the tool's `destructiveHint` is heeded:
    /// such a call waits for the confirmation dialog (`confirmed` once the person said yes),
    /// and under --read-only it is refused and nothing is sent. While the dialog is open keys
    /// go to it, so the page on top is still the one that asked.
    pub(super) fn start_call(&mut self, request: CallRequest, confirmed: bool, fan_out: bool) {
        match self.clearance(&request) {
            Clearance::Refused(why) => return self.say(why, true),
            Clearance::Confirm if !confirmed => {
                self.mode = Mode::Confirm(if fan_out {
                    ConfirmDialog::fan_out(request)
                } else {
                    ConfirmDialog::call(request)
                });
                return;
            }
            Clearance::Confirm | Clearance::Send => {}
        }
        let id = if fan_out {
            self.mcp.fan_out(request, self.call_updates.clone())
        } else {
            self.mcp.invoke(request, self.call_updates.clone())
        };
        let page = self
            .stack
            .last_mut()
            .expect("the services view is never popped");
        self.calls.insert(id, page.id);
        page.view.on_call_started(id, SystemTime::now());
    }

    /// The rule for the called tool by its annotations in the probes' catalog, the one the
    /// call form was opened from. A tool the catalog no longer lists goes out as before: the
    /// worker then refuses or routes it by what the server says.
    pub(super) fn clearance(&self, request: &CallRequest) -> Clearance {
        let scope = scope_of(request);
        let probes = &self.data.probes.by_task;
        views::tools_catalog::find_tool(&self.data.snapshot, probes, &scope, &request.tool)
            .map_or(Clearance::Send, |(tool, _)| {
                tool.clearance(self.data.read_only)
            })
    }
}
