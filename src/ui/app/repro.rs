//! The reproducer from the call form: started on its own page (which stops it when it
//! closes), and its first failures saved as incident files with the log lines the console
//! holds of their tasks.

use std::time::SystemTime;

use super::App;
use crate::{
    mcp::{
        CallRequest, Clearance, Target,
        incident::Incident,
        repro::{self, ReproEnd, ReproPlan},
    },
    ui::views,
};

/// How many calls, how many at once: a few seconds against a healthy service, enough to see
/// a one-in-ten failure on each of a few replicas.
const CALLS: usize = 200;
const AT_ONCE: usize = 8;

impl App {
    pub(super) fn start_repro(&mut self, request: CallRequest) {
        let scope = super::calls::scope_of(&request);
        let probes = &self.data.probes.by_task;
        if let Ok((tool, _)) =
            views::tools_catalog::find_tool(&self.data.snapshot, probes, &scope, &request.tool)
        {
            if let Clearance::Refused(why) = tool.clearance(self.data.read_only) {
                return self.say(why, true);
            }
            if let Some(why) = repro::repeat_refusal(tool, CALLS) {
                let why = why.replace(
                    "pass --force to send it anyway",
                    "`mcpfleet repro --force` sends it anyway",
                );
                return self.say(why, true);
            }
        }
        // Any ready task: each replica its share, unless one URL is in front of them all.
        let spread = match &request.target {
            Target::AnyReady => {
                repro::spread_over(&self.data.snapshot, &request.service).unwrap_or_default()
            }
            Target::Task(_) => Vec::new(),
        };
        let tool = request.tool.clone();
        let plan = ReproPlan {
            request,
            calls: CALLS,
            concurrency: AT_ONCE,
            spread,
        };
        let (id, cancel) = self.mcp.repro(plan, self.call_updates.clone());
        let mut view = views::repro::ReproView::new(scope, &tool, CALLS);
        view.running(cancel);
        self.push(Box::new(view));
        let page = self.stack.last_mut().expect("a page was just pushed");
        self.calls.insert(id, page.id);
        page.view.on_call_started(id, SystemTime::now());
    }

    /// Each first failure of the run as an incident file, with the lines of its task.
    pub(super) fn save_incidents(&mut self, end: &mut ReproEnd) {
        let Some(dir) = self.data.incidents_dir.clone() else {
            return;
        };
        for first in &end.firsts {
            let task = first
                .outcome
                .served_by
                .as_ref()
                .and_then(|b| b.task_id.as_deref());
            let lines: Vec<_> = self
                .data
                .logs
                .lines()
                .iter()
                .filter(|line| Some(line.task_id.as_str()) == task)
                .cloned()
                .collect();
            match Incident::of(first, &lines).save(&dir) {
                Ok(path) => end.incidents.push(path),
                Err(error) => {
                    let text = format!("cannot save an incident in {}: {error}", dir.display());
                    self.say(text, true);
                }
            }
        }
    }
}
