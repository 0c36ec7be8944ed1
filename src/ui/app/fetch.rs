//! Resources, prompts, completions and the doctor: a page's fetches go to the MCP worker, and
//! what comes back goes to that page only; a watch whose page closed is stopped.

use std::time::SystemTime;

use super::App;
use crate::{
    mcp::{BrowseUpdate, CallId, McpError, doctor::DoctorUpdate},
    ui::action::{Fetch, Scope},
};

impl App {
    pub(super) fn start_fetch(&mut self, page: u64, scope: &Scope, fetch: Fetch) {
        let Some(service) = scope.service.as_deref() else {
            return self.say("this needs a service: open it from one".into(), true);
        };
        let (task, sink) = (scope.task.as_deref(), self.browse_updates.clone());
        let (id, watch) = match &fetch {
            Fetch::Browse(what) => (self.mcp.browse_to(service, task, what.clone(), sink), false),
            Fetch::Watch(uri) => (self.mcp.watch(service, task, uri.clone(), sink), true),
            // Many answers, like a watch's, until its `Done`.
            Fetch::Doctor => (self.mcp.doctor_to(service, task, sink), true),
        };
        self.fetches.insert(id, (page, watch));
        if let Some(page) = self.stack.iter_mut().find(|p| p.id == page) {
            page.view.on_fetch_started(id, &fetch);
        }
    }

    /// Hands a browse answer or a watch's news to the page that asked; a watch whose page has
    /// closed is stopped.
    pub fn on_browse_update(&mut self, id: CallId, update: BrowseUpdate) {
        let Some(&(page, watch)) = self.fetches.get(&id) else {
            return;
        };
        let ended = matches!(
            update,
            BrowseUpdate::Ended(_) | BrowseUpdate::Doctor(DoctorUpdate::Done(_))
        );
        if !watch || ended {
            self.fetches.remove(&id);
        }
        if let BrowseUpdate::Answer(Err(error @ McpError::AuthRequired { .. })) = &update {
            self.offer_sign_in(&error.clone(), true);
        }
        let Some(open) = self.stack.iter_mut().find(|p| p.id == page) else {
            if watch {
                self.fetches.remove(&id);
                self.mcp.unwatch(id);
            }
            return;
        };
        if let Some(next) = open.view.on_fetch_update(id, &update, SystemTime::now()) {
            let scope = open.view.scope().clone();
            self.start_fetch(page, &scope, next);
        }
    }

    pub(super) fn stop_watches_of_closed_pages(&mut self) {
        let open: Vec<u64> = self.stack.iter().map(|page| page.id).collect();
        let closed: Vec<CallId> = (self.fetches.iter())
            .filter(|(_, (page, watch))| *watch && !open.contains(page))
            .map(|(id, _)| *id)
            .collect();
        for id in closed {
            self.fetches.remove(&id);
            self.mcp.unwatch(id);
        }
    }
}
