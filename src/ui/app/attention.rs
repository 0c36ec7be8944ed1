//! Where the operator looks, told to the source: the service on screen, or the one
//! `--service` names until the source has read it.

use super::App;
use crate::ui::action::{Action, Scope, ViewKind};

impl App {
    /// The service the operator is looking at: the page's own, or the one selected in the
    /// services list. The source reads it first.
    pub fn looked_at(&self) -> Option<&str> {
        if let Some(service) = &self.awaited {
            return Some(service);
        }
        let top = self.top();
        if let Some(service) = top.scope().service.as_deref() {
            return Some(service);
        }
        (top.kind() == ViewKind::Services)
            .then(|| top.list()?.selected_id())
            .flatten()
    }

    /// Opens the console on `service`'s tasks (`--service`); a service the source has not
    /// read yet opens as soon as it has, and meanwhile is the one the source reads first.
    pub fn open_service(&mut self, service: &str) {
        let snapshot = &self.data.snapshot;
        if snapshot.service(service).is_none() && (snapshot.loading || snapshot.services.is_empty())
        {
            self.awaited = Some(service.to_string());
            return;
        }
        self.apply(Action::Open(ViewKind::Tasks, Scope::service(service)));
    }

    /// Tells the source where the operator looks; called after each key and snapshot.
    pub fn point_source(&self) {
        self.commander.look_at(self.looked_at());
    }
}
