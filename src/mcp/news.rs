//! What a caller hears besides a call's updates — browse answers and resource watch news —
//! and how a session's resource notifications reach the watches that want them: the
//! connection's listener hands each `notifications/resources/*` to `ResourceRoutes`, which
//! passes it to every route asking for that resource (or for list changes).

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

use super::{Browsed, CallId, McpError};

/// News for a caller that asked for something besides a call.
#[derive(Debug, Clone)]
pub enum BrowseUpdate {
    /// The answer to a `browse_to`.
    Answer(Result<Browsed, McpError>),
    /// The watch is in place; `how` names the protocol mechanism.
    Watching { how: &'static str },
    /// The server says this resource changed.
    Updated { uri: String },
    /// The server says its resource list changed.
    ListChanged,
    /// The watch ended by itself (it was not asked to stop), and why.
    Ended(String),
    /// A doctor's news (`McpClient::doctor_to`), step by step until `Done`.
    Doctor(super::doctor::DoctorUpdate),
}

/// Where a caller receives its browse answers and watch news.
pub type BrowseSink = mpsc::UnboundedSender<(CallId, BrowseUpdate)>;

/// The session's resource notifications, by who asked for them.
#[derive(Default)]
pub(crate) struct ResourceRoutes {
    next: u64,
    routes: Vec<(u64, Option<String>, mpsc::UnboundedSender<BrowseUpdate>)>,
}

impl ResourceRoutes {
    pub fn updated(&self, uri: &str) {
        for (_, wanted, route) in &self.routes {
            if wanted.as_deref() == Some(uri) {
                let _ = route.send(BrowseUpdate::Updated {
                    uri: uri.to_string(),
                });
            }
        }
    }

    pub fn list_changed(&self) {
        for (_, wanted, route) in &self.routes {
            if wanted.is_none() {
                let _ = route.send(BrowseUpdate::ListChanged);
            }
        }
    }
}

/// One watcher's notifications; unregisters itself when dropped.
pub(crate) struct ResourceRoute {
    pub receiver: mpsc::UnboundedReceiver<BrowseUpdate>,
    key: u64,
    routes: Arc<Mutex<ResourceRoutes>>,
}

impl ResourceRoute {
    pub fn open(routes: Arc<Mutex<ResourceRoutes>>, uri: Option<String>) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        let key = {
            let mut all = routes.lock().unwrap_or_else(PoisonError::into_inner);
            all.next += 1;
            let key = all.next;
            all.routes.push((key, uri, sender));
            key
        };
        Self {
            receiver,
            key,
            routes,
        }
    }
}

impl Drop for ResourceRoute {
    fn drop(&mut self) {
        let mut all = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        all.routes.retain(|(key, _, _)| *key != self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_deliver_by_uri_and_unregister_when_dropped() {
        let routes = Arc::new(Mutex::new(ResourceRoutes::default()));
        let mut one = ResourceRoute::open(routes.clone(), Some("test://a".into()));
        let mut list = ResourceRoute::open(routes.clone(), None);
        routes.lock().unwrap().updated("test://a");
        routes.lock().unwrap().updated("test://b");
        routes.lock().unwrap().list_changed();
        assert!(matches!(
            one.receiver.try_recv(),
            Ok(BrowseUpdate::Updated { uri }) if uri == "test://a"
        ));
        assert!(one.receiver.try_recv().is_err(), "only its own resource");
        assert!(matches!(
            list.receiver.try_recv(),
            Ok(BrowseUpdate::ListChanged)
        ));
        drop(one);
        assert_eq!(routes.lock().unwrap().routes.len(), 1);
    }
}
