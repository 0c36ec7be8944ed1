//! The load generator from the call form: the form's call run by many workers for a while on
//! a bench page of its own, under the refusals `mcpfleet bench` applies. The run follows the
//! fleet as tasks come and go; leaving the page stops it.

use std::time::{Duration, SystemTime};

use super::App;
use crate::{
    mcp::{
        CallRequest, Clearance, DEFAULT_TIMEOUT, Target,
        bench::{BenchPlan, Targets},
        repro,
    },
    ui::views,
};

/// Enough workers to load a few replicas without swamping a laptop's local fleet, and long
/// enough for the timeline to say something.
pub const WORKERS: usize = 16;
pub const DURATION: Duration = Duration::from_secs(30);

impl App {
    pub(super) fn start_bench(&mut self, request: CallRequest) {
        let scope = super::calls::scope_of(&request);
        let probes = &self.data.probes.by_task;
        let tool = match views::tools_catalog::find_tool(
            &self.data.snapshot,
            probes,
            &scope,
            &request.tool,
        ) {
            Ok((tool, _)) => tool.clone(),
            Err(why) => return self.say(why, true),
        };
        if let Clearance::Refused(why) = tool.clearance(self.data.read_only) {
            return self.say(why, true);
        }
        let doing = format!("bench would call {} again and again", tool.name);
        if let Some(why) = repro::repeat_refusal_as(&tool, &doing) {
            let why = why.replace(
                "pass --force to send it anyway",
                "`mcpfleet bench --force` sends it anyway",
            );
            return self.say(why, true);
        }
        let task = match &request.target {
            Target::Task(id) => Some(id.clone()),
            Target::AnyReady => None,
        };
        let service = request.service.clone();
        let first = match Targets::of(&self.data.snapshot, &service, task.as_deref()) {
            Ok(first) => first,
            Err(error) => return self.say(error.to_string(), true),
        };
        let replicas = first.list.len();
        let targets = first.follow(self.snapshots.clone(), service.clone(), task);
        let plan = BenchPlan {
            service,
            tool: tool.name.clone(),
            arguments: request.arguments,
            concurrency: WORKERS,
            duration: Some(DURATION),
            calls: None,
            rate: None,
            timeout: request.timeout.unwrap_or(DEFAULT_TIMEOUT),
            stateless: false,
            idempotent: tool.read_only == Some(true) || tool.idempotent == Some(true),
        };
        let mut view = views::bench::BenchView::new(scope, &plan, replicas);
        let (id, cancel) = self.mcp.bench(plan, targets, self.call_updates.clone());
        view.running(cancel);
        self.push(Box::new(view));
        let page = self.stack.last_mut().expect("a page was just pushed");
        self.calls.insert(id, page.id);
        page.view.on_call_started(id, SystemTime::now());
    }
}
