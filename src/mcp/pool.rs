//! The pool: one rmcp client per endpoint (URL and credentials), created on first use and
//! shared by every call to that endpoint. A `Pool` is a cheap handle (clone it into tasks); the MCP worker owns the
//! console's one pool. Clients are dropped when their endpoint leaves the fleet, when the
//! endpoint's credentials change, or when they fail at the transport level; the next call
//! reconnects.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
};

use tokio::sync::OnceCell;

use crate::fleet::{Endpoint, EndpointAuth, FleetSnapshot};

use super::{
    config::PoolConfig,
    connection::{Connection, connect},
    error::Failure,
    route::RoundRobin,
};

type Slot = Arc<OnceCell<Arc<Connection>>>;

/// Clients are per URL and credentials: two services behind one URL with different tokens
/// (or a token that changed) never share a client.
#[derive(Clone, PartialEq, Eq, Hash)]
struct SlotKey {
    url: String,
    auth: EndpointAuth,
}

impl SlotKey {
    fn of(endpoint: &Endpoint) -> Self {
        Self {
            url: endpoint.url.clone(),
            auth: endpoint.auth.clone(),
        }
    }
}

pub(crate) struct Inner {
    pub config: PoolConfig,
    http: reqwest::Client,
    slots: Mutex<HashMap<SlotKey, Slot>>,
    pub round_robin: RoundRobin,
}

#[derive(Clone)]
pub struct Pool {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("clients", &self.clients())
            .finish_non_exhaustive()
    }
}

impl Default for Pool {
    fn default() -> Self {
        Self::new(PoolConfig::default())
    }
}

impl Pool {
    pub fn new(config: PoolConfig) -> Self {
        // One HTTP client for every endpoint: connections are reused per host, and the connect
        // timeout makes an unreachable endpoint fail fast instead of hanging a call.
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .build()
            .expect("a plain HTTP client builds");
        Self {
            inner: Arc::new(Inner {
                config,
                http,
                slots: Mutex::new(HashMap::new()),
                round_robin: RoundRobin::default(),
            }),
        }
    }

    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    /// Drops clients whose endpoint (URL and credentials) no longer serves any task of `fleet`.
    pub fn prune(&self, fleet: &FleetSnapshot) {
        let live: HashSet<(&str, &EndpointAuth)> = fleet
            .services
            .iter()
            .flat_map(|service| &service.tasks)
            .filter(|task| task.stopped_at.is_none())
            .filter_map(|task| task.endpoint.as_ref())
            .map(|endpoint| (endpoint.url.as_str(), &endpoint.auth))
            .collect();
        self.slots()
            .retain(|key, _| live.contains(&(key.url.as_str(), &key.auth)));
    }

    /// URLs with a live client, sorted.
    pub fn clients(&self) -> Vec<String> {
        let mut urls: Vec<String> = self
            .slots()
            .iter()
            .filter(|(_, slot)| slot.initialized())
            .map(|(key, _)| key.url.clone())
            .collect();
        urls.sort();
        urls
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<SlotKey, Slot>> {
        self.inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The client for `endpoint`, connecting first if there is none. The flag says whether
    /// this call created it.
    pub(crate) async fn connection(
        &self,
        endpoint: &Endpoint,
    ) -> Result<(Arc<Connection>, bool), Failure> {
        let key = SlotKey::of(endpoint);
        let slot = self.slots().entry(key.clone()).or_default().clone();
        if let Some(connection) = slot.get() {
            return Ok((connection.clone(), false));
        }
        let mut created = false;
        let (inner, url, auth) = (&self.inner, &endpoint.url, &endpoint.auth);
        let result = slot
            .get_or_try_init(|| {
                created = true;
                async move {
                    let http = inner.http.clone();
                    connect(http, &inner.config, url, auth).await.map(Arc::new)
                }
            })
            .await;
        match result {
            Ok(connection) => Ok((connection.clone(), created)),
            Err(failure) => {
                self.forget(&key, &slot);
                Err(failure)
            }
        }
    }

    /// Drops `connection` if it is still the client for its endpoint (a newer one stays).
    pub(crate) fn evict(&self, connection: &Arc<Connection>) {
        let key = SlotKey {
            url: connection.url.clone(),
            auth: connection.auth.clone(),
        };
        let mut slots = self.slots();
        let current = slots.get(&key).and_then(|slot| slot.get());
        if current.is_some_and(|current| Arc::ptr_eq(current, connection)) {
            slots.remove(&key);
            tracing::debug!(url = %connection.url, "MCP client dropped");
        }
    }

    /// The SSE streams of the client `endpoint` has, if it has one (none is opened for it).
    pub(crate) fn stream_health(
        &self,
        endpoint: &Endpoint,
    ) -> Option<super::streams::StreamHealth> {
        let slot = self.slots().get(&SlotKey::of(endpoint)).cloned()?;
        slot.get().map(|connection| connection.stream_health())
    }

    fn forget(&self, key: &SlotKey, slot: &Slot) {
        let mut slots = self.slots();
        if slots
            .get(key)
            .is_some_and(|current| Arc::ptr_eq(current, slot) && !slot.initialized())
        {
            slots.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_is_a_cheap_shareable_handle() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<Pool>();
        let pool = Pool::default();
        let copy = pool.clone();
        assert!(Arc::ptr_eq(&pool.inner, &copy.inner));
        assert_eq!(
            pool.config().connect_timeout,
            std::time::Duration::from_secs(3)
        );
        assert!(pool.clients().is_empty());
    }
}
