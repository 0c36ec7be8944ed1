//! `:check FILE [SERVICE]`: a check file read and cleared against the tools the probes found
//! (a tool annotated destructive is left to `mcpfleet check --force`), then each check fanned
//! out to every ready replica for the check screen (`views/check.rs`).

use std::{path::Path, time::SystemTime};

use super::App;
use crate::{
    inert::inert_line,
    mcp::{
        CallRequest,
        smoke::{
            CheckFile,
            clear::{self, Why},
        },
    },
    ui::{action::Scope, views, views::tools_catalog::ToolSource},
};

impl App {
    pub(super) fn start_check(&mut self, service: String, path: &Path) {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => return self.say(format!("cannot read {shown}: {error}"), true),
        };
        let file = match CheckFile::parse(&text) {
            Ok(file) => file,
            Err(error) => {
                return self.say(format!("{shown}: {}", one_line(&error.to_string())), true);
            }
        };
        let scope = Scope::service(&service);
        let probes = &self.data.probes.by_task;
        let tools = match views::tools_catalog::tool_source(&self.data.snapshot, &scope, probes) {
            ToolSource::Probed { probe, .. } => &probe.tools,
            ToolSource::Probing(_) | ToolSource::NoTask => {
                let why = match self.data.snapshot.service(&service) {
                    None => format!("no service {service}"),
                    Some(_) => {
                        format!("no tool list from {service} yet: its tasks are being probed")
                    }
                };
                return self.say(why, true);
            }
        };
        let refused = clear::refusals(&file.checks, tools, self.data.read_only, false);
        if let Some(first) = refused.first() {
            let mut why = format!("{shown}: {}", inert_line(&first.message));
            if first.why == Why::NeedsConsent {
                why.push_str("; `mcpfleet check --force` sends it");
            }
            if refused.len() > 1 {
                why.push_str(&format!(" (and {} more)", refused.len() - 1));
            }
            return self.say(why, true);
        }
        let requests: Vec<CallRequest> = file
            .checks
            .iter()
            .map(|check| CallRequest::new(&service, check.tool.as_str(), check.arguments.clone()))
            .collect();
        self.push(Box::new(views::check::CheckView::new(
            scope,
            &shown,
            file.checks,
        )));
        for request in requests {
            let id = self.mcp.fan_out(request, self.call_updates.clone());
            let page = self.stack.last_mut().expect("a page was just pushed");
            self.calls.insert(id, page.id);
            page.view.on_call_started(id, SystemTime::now());
        }
    }
}

/// toml's error in one line: where, then what (the lines between quote the file).
fn one_line(error: &str) -> String {
    let lines: Vec<&str> = error.lines().collect();
    match (lines.first(), lines.last()) {
        (Some(first), Some(last)) if lines.len() > 1 => format!("{first}: {last}"),
        _ => error.to_string(),
    }
}
