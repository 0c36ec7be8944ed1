//! The pool: one rmcp client per endpoint URL, created on first use and shared by every call
//! to that endpoint. A `Pool` is a cheap handle (clone it into tasks). Clients are dropped when
//! their endpoint leaves the fleet or fails at the transport level; the next call reconnects.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::sync::OnceCell;

use crate::fleet::FleetSnapshot;

use super::{
    connection::{Connection, connect},
    error::Failure,
    route::RoundRobin,
    secret::EndpointAuth,
};

/// Which MCP lifecycle the client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Era {
    /// `server/discover` for 2026-07-28, falling back to `initialize` (2025-11-25) for servers
    /// that do not know it. rmcp's automatic lifecycle.
    #[default]
    Auto,
    /// Always `initialize` with 2025-11-25 (sessions where the server keeps them).
    Initialize,
    /// Only 2026-07-28 `server/discover`; older servers are an error.
    Discover,
}

#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub era: Era,
    /// TCP connect bound: an endpoint that does not accept within it is unreachable.
    pub connect_timeout: Duration,
    /// Bound on the whole MCP handshake of a new client.
    pub handshake_timeout: Duration,
    pub client_name: String,
    pub client_version: String,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            era: Era::Auto,
            connect_timeout: Duration::from_secs(3),
            handshake_timeout: Duration::from_secs(10),
            client_name: "mcpfleet".into(),
            client_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

type Slot = Arc<OnceCell<Arc<Connection>>>;

pub(crate) struct Inner {
    pub config: PoolConfig,
    http: reqwest::Client,
    slots: Mutex<HashMap<String, Slot>>,
    auth: Mutex<HashMap<String, EndpointAuth>>,
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
                auth: Mutex::new(HashMap::new()),
                round_robin: RoundRobin::default(),
            }),
        }
    }

    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    /// Headers and bearer token for every endpoint of `service`. Existing clients of the
    /// service are dropped so the next call uses the new credentials.
    pub fn set_auth(&self, service: &str, auth: EndpointAuth) {
        self.inner
            .auth
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(service.to_string(), auth);
        self.retain(|connection| connection.service != service);
    }

    /// Drops clients whose endpoint is no longer served by any task of `fleet`.
    pub fn prune(&self, fleet: &FleetSnapshot) {
        let live: HashSet<&str> = fleet
            .services
            .iter()
            .flat_map(|service| &service.tasks)
            .filter(|task| task.stopped_at.is_none())
            .filter_map(|task| task.endpoint.as_ref().map(|endpoint| endpoint.url.as_str()))
            .collect();
        self.inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|url, _| live.contains(url.as_str()));
    }

    /// URLs with a live client, sorted.
    pub fn clients(&self) -> Vec<String> {
        let slots = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut urls: Vec<String> = slots
            .iter()
            .filter(|(_, slot)| slot.initialized())
            .map(|(url, _)| url.clone())
            .collect();
        urls.sort();
        urls
    }

    fn retain(&self, keep: impl Fn(&Connection) -> bool) {
        self.inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, slot| slot.get().is_none_or(|connection| keep(connection)));
    }

    /// The client for `url`, connecting first if there is none. The flag says whether this
    /// call created it.
    pub(crate) async fn connection(
        &self,
        service: &str,
        url: &str,
    ) -> Result<(Arc<Connection>, bool), Failure> {
        let slot = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(url.to_string())
            .or_default()
            .clone();
        if let Some(connection) = slot.get() {
            return Ok((connection.clone(), false));
        }
        let auth = self
            .inner
            .auth
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(service)
            .cloned()
            .unwrap_or_default();
        let mut created = false;
        let (inner, auth) = (&self.inner, &auth);
        let result = slot
            .get_or_try_init(|| {
                created = true;
                async move {
                    let http = inner.http.clone();
                    connect(http, &inner.config, service, url, auth)
                        .await
                        .map(Arc::new)
                }
            })
            .await;
        match result {
            Ok(connection) => Ok((connection.clone(), created)),
            Err(failure) => {
                self.forget(url, &slot);
                Err(failure)
            }
        }
    }

    /// Drops `connection` if it is still the client for its URL (a newer one stays).
    pub(crate) fn evict(&self, connection: &Arc<Connection>) {
        let mut slots = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = slots.get(&connection.url).and_then(|slot| slot.get());
        if current.is_some_and(|current| Arc::ptr_eq(current, connection)) {
            slots.remove(&connection.url);
            tracing::debug!(url = %connection.url, "MCP client dropped");
        }
    }

    fn forget(&self, url: &str, slot: &Slot) {
        let mut slots = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slots
            .get(url)
            .is_some_and(|current| Arc::ptr_eq(current, slot) && !slot.initialized())
        {
            slots.remove(url);
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
        assert_eq!(pool.config().connect_timeout, Duration::from_secs(3));
        assert!(pool.clients().is_empty());
    }
}
