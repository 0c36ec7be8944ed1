//! One live rmcp client for one endpoint URL: the handshake (either protocol era), the
//! notification listener that routes progress to the call that asked for it, and the cached
//! tool list used to check arguments before sending.

// Sampling and roots are deprecated by SEP-2577 for 2026-07-28; 2025-11-25 servers use them.
#![allow(deprecated)]

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use reqwest::header::{HeaderName, HeaderValue};
use rmcp::{
    ClientCacheConfig, ClientHandler, ClientLifecycleMode, ClientServiceExt, Peer, RoleClient,
    model::{
        ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult,
        ElicitRequestParams, ElicitResult, ElicitationCapability, FormElicitationCapability,
        Implementation, ListRootsResult, ProgressNotificationParam, ProgressToken, ProtocolVersion,
        Root, RootsCapabilities, SamplingCapability, ServerPeerInfo, TASKS_EXTENSION_ID,
        UrlElicitationCapability,
    },
    service::{NotificationContext, RequestContext, RunningService},
    transport::{
        AuthClient, StreamableHttpClientTransport,
        streamable_http_client::StreamableHttpClientTransportConfig,
    },
};
use tokio::sync::mpsc;

use super::{
    McpError, ServerLog,
    config::{Era, PoolConfig},
    error::{Failure, from_init_error, from_service_error},
    signing::SigningClient,
    streams::StreamHealth,
    validate::Catalog,
    wire::{Round, WireLog, client::WireClient, streams::StreamBook},
};

/// The handshake of either kind of HTTP client, as one type.
type HandshakeFuture = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<
                    RunningService<RoleClient, Listener>,
                    rmcp::service::ClientInitializeError,
                >,
            > + Send,
    >,
>;
use crate::{fleet::EndpointAuth, oauth};

/// Progress that arrives before its call registered (the server can answer faster than the
/// caller gets back from queueing the request) waits here briefly.
const MAX_ORPHANED_PROGRESS: usize = 64;

#[derive(Default)]
struct ProgressRoutes {
    routes: HashMap<ProgressToken, mpsc::UnboundedSender<ProgressNotificationParam>>,
    orphans: VecDeque<ProgressNotificationParam>,
}

/// What the listener shares with the connection; the listener runs inside rmcp's service loop.
#[derive(Default)]
struct Shared {
    progress: Mutex<ProgressRoutes>,
    catalog: Mutex<Option<Arc<Catalog>>>,
    /// The calls in flight on this connection, each told every log line the server sends
    /// meanwhile (a 2025-11-25 server may send them on the session's own stream, where
    /// nothing says which request they are about) and every question it asked that the
    /// client could not put to anyone.
    listeners: Mutex<Vec<(u64, mpsc::UnboundedSender<Heard>)>>,
    next_listener: std::sync::atomic::AtomicU64,
    /// Who hears `notifications/resources/updated` and `…/list_changed` (2025-11-25 sessions;
    /// a 2026-07-28 `subscriptions/listen` stream carries its own).
    resources: Arc<Mutex<super::news::ResourceRoutes>>,
}

/// What a call in flight hears from its connection besides its own answer.
#[derive(Debug, Clone)]
pub(crate) enum Heard {
    Log(ServerLog),
    /// A question of the server's that the client answered with an error, and why.
    Refused(String),
}

impl Shared {
    fn tell(&self, heard: Heard) {
        let listeners = self
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (_, listener) in listeners.iter() {
            let _ = listener.send(heard.clone());
        }
    }

    fn deliver(&self, progress: ProgressNotificationParam) {
        let mut routes = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        match routes.routes.get(&progress.progress_token) {
            Some(route) => {
                let _ = route.send(progress);
            }
            None => {
                if routes.orphans.len() == MAX_ORPHANED_PROGRESS {
                    routes.orphans.pop_front();
                }
                routes.orphans.push_back(progress);
            }
        }
    }
}

#[derive(Clone)]
struct Listener {
    shared: Arc<Shared>,
    info: ClientConfig,
    url: String,
    asks: Option<super::ask::AskSender>,
    roots: Arc<[Root]>,
}

impl ClientHandler for Listener {
    fn get_info(&self) -> ClientConfig {
        self.info.clone()
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.shared.deliver(params);
    }

    // MCP logging is deprecated (SEP-2577) but still sent by servers of both revisions.
    #[allow(deprecated)]
    async fn on_logging_message(
        &self,
        params: rmcp::model::LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let level = serde_json::to_value(params.level).unwrap_or_default();
        let log = ServerLog {
            level: level.as_str().unwrap_or("info").to_string(),
            logger: params.logger,
            data: params.data,
        };
        self.shared.tell(Heard::Log(log));
    }

    /// A request rmcp could not read as any it knows: for a question (elicitation, sampling)
    /// that means one whose params break MCP's schema — a form of nested objects, say — which
    /// no dialog can show. The server gets an error saying why; the calls in flight hear it.
    async fn on_custom_request(
        &self,
        request: rmcp::model::CustomRequest,
        _context: RequestContext<RoleClient>,
    ) -> Result<rmcp::model::CustomResult, rmcp::ErrorData> {
        let method = request.method.as_str();
        if !matches!(method, "elicitation/create" | "sampling/createMessage") {
            return Err(rmcp::ErrorData::new(
                rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                format!("{method} is not a method this client answers"),
                None,
            ));
        }
        let reason = super::ask::unshowable(method, request.params.as_ref());
        self.shared.tell(Heard::Refused(format!(
            "the server asked a question that cannot be shown ({method}): {reason}; it was \
             answered with an error"
        )));
        Err(rmcp::ErrorData::invalid_params(reason, None))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        Ok(super::ask::ask(self.asks.as_ref(), &self.url, request).await)
    }

    async fn create_message(
        &self,
        request: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, rmcp::ErrorData> {
        let answer = super::ask::sample(self.asks.as_ref(), &self.url, request).await;
        super::ask::sampling_result(answer)
    }

    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, rmcp::ErrorData> {
        Ok(ListRootsResult::new(self.roots.to_vec()))
    }

    async fn on_resource_updated(
        &self,
        params: rmcp::model::ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let routes = self.shared.resources.lock();
        routes
            .unwrap_or_else(PoisonError::into_inner)
            .updated(&params.uri);
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let routes = self.shared.resources.lock();
        routes
            .unwrap_or_else(PoisonError::into_inner)
            .list_changed();
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        *self
            .shared
            .catalog
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// What the connection hears while one call runs; unregisters itself when dropped.
pub(crate) struct LogSubscription {
    pub receiver: mpsc::UnboundedReceiver<Heard>,
    key: u64,
    shared: Arc<Shared>,
}

impl Drop for LogSubscription {
    fn drop(&mut self) {
        let mut listeners = self
            .shared
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        listeners.retain(|(key, _)| *key != self.key);
    }
}

/// Progress notifications for one request; unregisters itself when dropped.
pub(crate) struct ProgressSubscription {
    pub receiver: mpsc::UnboundedReceiver<ProgressNotificationParam>,
    token: ProgressToken,
    shared: Arc<Shared>,
}

impl Drop for ProgressSubscription {
    fn drop(&mut self) {
        let mut routes = self
            .shared
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        routes.routes.remove(&self.token);
    }
}

pub(crate) struct Connection {
    pub url: String,
    /// The credentials this client sends; an endpoint whose credentials change gets a new one.
    pub auth: EndpointAuth,
    /// How long the handshake took when this client was created.
    pub handshake: Duration,
    client: RunningService<RoleClient, Listener>,
    shared: Arc<Shared>,
    /// Serialises tool-list fetches so a burst of first calls lists the tools once.
    listing: tokio::sync::Mutex<()>,
    /// Every HTTP exchange of this client, as it crossed the wire.
    wire: Arc<WireLog>,
    /// This client's SSE streams, byte by byte.
    streams: Arc<StreamBook>,
}

impl Connection {
    pub fn peer(&self) -> &Peer<RoleClient> {
        self.client.peer()
    }

    /// The HTTP exchanges of the requests with `ids` (the rounds of one call), as sent.
    pub fn wire(&self, ids: &[serde_json::Value]) -> Vec<Round> {
        self.wire.rounds(ids)
    }

    /// What the connection hears (log lines, refused questions) until the subscription is
    /// dropped.
    pub fn listen_logs(&self) -> LogSubscription {
        let (sender, receiver) = mpsc::unbounded_channel();
        let key = self
            .shared
            .next_listener
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.shared
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((key, sender));
        LogSubscription {
            receiver,
            key,
            shared: self.shared.clone(),
        }
    }

    /// `error`, with what the wire saw when it only says the connection went away (the
    /// transport closes on a broken stream without saying why).
    pub fn explain(&self, error: McpError) -> McpError {
        match error {
            McpError::Unreachable { url, reason } => {
                match self.wire.recent_failure(Duration::from_secs(5)) {
                    Some(why) => McpError::Unreachable {
                        url,
                        reason: format!("{reason}: {why}"),
                    },
                    None => McpError::Unreachable { url, reason },
                }
            }
            other => other,
        }
    }

    /// This client's SSE streams as of now.
    pub fn stream_health(&self) -> StreamHealth {
        self.streams
            .health(Instant::now(), std::time::SystemTime::now())
    }

    pub fn server(&self) -> Option<Arc<ServerPeerInfo>> {
        self.client.peer_info()
    }

    pub fn subscribe(&self, token: ProgressToken) -> ProgressSubscription {
        let (sender, receiver) = mpsc::unbounded_channel();
        let mut routes = self
            .shared
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let orphans = std::mem::take(&mut routes.orphans);
        for progress in orphans {
            if progress.progress_token == token {
                let _ = sender.send(progress);
            } else {
                routes.orphans.push_back(progress);
            }
        }
        routes.routes.insert(token.clone(), sender);
        ProgressSubscription {
            receiver,
            token,
            shared: self.shared.clone(),
        }
    }

    /// The resource notifications of this session for `uri` (every resource's list changes
    /// when `None`), until the route is dropped.
    pub fn resource_news(&self, uri: Option<String>) -> super::news::ResourceRoute {
        super::news::ResourceRoute::open(self.shared.resources.clone(), uri)
    }

    /// The tool list, from cache when the server has not said it changed.
    pub async fn catalog(&self) -> Result<Arc<Catalog>, Failure> {
        if let Some(catalog) = self.cached_catalog() {
            return Ok(catalog);
        }
        let _listing = self.listing.lock().await;
        if let Some(catalog) = self.cached_catalog() {
            return Ok(catalog);
        }
        Ok(self.list_tools().await?.0)
    }

    /// Lists the tools from the server now; returns them with the round-trip time.
    pub async fn list_tools(&self) -> Result<(Arc<Catalog>, Duration), Failure> {
        let started = Instant::now();
        let from = self.wire.next_seq();
        let tools = self
            .peer()
            .list_all_tools()
            .await
            .map_err(|e| from_service_error(&self.url, &e))?;
        let latency = started.elapsed();
        // What the server listed, as sent: rmcp drops the tools it refuses without a word.
        let listed = self.wire.results_since(from, "tools/list");
        let catalog = Arc::new(Catalog::new(tools).with_dropped_from(&listed));
        *self
            .shared
            .catalog
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(catalog.clone());
        Ok((catalog, latency))
    }

    fn cached_catalog(&self) -> Option<Arc<Catalog>> {
        self.shared
            .catalog
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn lifecycle(era: Era) -> (ClientLifecycleMode, ProtocolVersion) {
    let legacy = ProtocolVersion::LATEST_WITH_INITIALIZE;
    let modern = ProtocolVersion::V_2026_07_28;
    let mode = match era {
        Era::Auto => ClientLifecycleMode::Auto {
            preferred_versions: vec![modern],
            legacy_version: Some(legacy.clone()),
        },
        Era::Initialize => ClientLifecycleMode::Initialize,
        Era::Discover => ClientLifecycleMode::Discover {
            preferred_versions: vec![modern],
        },
    };
    (mode, legacy)
}

fn headers(auth: &EndpointAuth) -> Result<HashMap<HeaderName, HeaderValue>, McpError> {
    let mut headers = HashMap::new();
    for (name, value) in &auth.headers {
        let bad = || McpError::Protocol(format!("header {name:?} is not a valid HTTP header"));
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let mut value = HeaderValue::from_str(value).map_err(|_| bad())?;
        // Keeps the value out of any Debug output of the request.
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    Ok(headers)
}

/// Opens a client for `url` and completes the MCP handshake within the configured bounds.
pub(crate) async fn connect(
    http: reqwest::Client,
    config: &PoolConfig,
    url: &str,
    auth: &EndpointAuth,
) -> Result<Connection, Failure> {
    let mut transport = StreamableHttpClientTransportConfig::with_uri(url)
        .custom_headers(headers(auth).map_err(Failure::fatal)?)
        .reinit_on_expired_session(true);
    if let Some(token) = &auth.bearer {
        transport = transport.auth_header(token.expose());
    }
    let (mode, legacy) = lifecycle(config.era);
    // The client offers to answer questions only when someone is there to answer them, and
    // roots only when some are configured.
    let mut capabilities = ClientCapabilities::default();
    // The client follows a call the server turns into a task (SEP-2663) to its end.
    capabilities
        .extensions
        .get_or_insert_with(Default::default)
        .insert(TASKS_EXTENSION_ID.to_string(), Default::default());
    if config.asks.is_some() {
        capabilities.elicitation = Some(
            ElicitationCapability::new()
                .with_form(FormElicitationCapability::default())
                .with_url(UrlElicitationCapability::default()),
        );
        capabilities.sampling = Some(SamplingCapability::default());
    }
    if !config.roots.is_empty() {
        // The list is fixed for the client's life, so it never changes.
        capabilities.roots = Some(RootsCapabilities::default());
    }
    let mut info = ClientConfig::new(
        capabilities,
        Implementation::new(config.client_name.clone(), config.client_version.clone()),
    );
    info.protocol_version = legacy;
    let shared = Arc::new(Shared::default());
    let listener = Listener {
        shared: shared.clone(),
        info,
        url: url.to_string(),
        asks: config.asks.clone(),
        roots: config.roots.clone().into(),
    };
    let started = Instant::now();
    let wire = Arc::new(WireLog::default());
    let streams = Arc::new(StreamBook::default());
    let http = WireClient {
        http,
        log: wire.clone(),
        streams: streams.clone(),
    };
    // An endpoint behind IAM gets every request signed; the rest is the same client.
    let oauth = match (&auth.sigv4, &auth.bearer, &config.tokens) {
        (None, None, Some(tokens)) => {
            oauth::session::manager_for(tokens, url)
                .await
                .map_err(|reason| {
                    Failure::fatal(McpError::Refused {
                        url: url.to_string(),
                        reason,
                    })
                })?
        }
        _ => None,
    };
    let handshake = match (&auth.sigv4, oauth) {
        // A signed-in endpoint: rmcp adds the token, refreshes it and retries once when the
        // server rejects it.
        (None, Some(manager)) => {
            let transport = StreamableHttpClientTransport::with_client(
                AuthClient::new(http, manager),
                transport,
            );
            Box::pin(listener.serve_with_lifecycle(transport, mode)) as HandshakeFuture
        }
        (Some(target), _) => {
            let signing = SigningClient {
                http,
                target: target.clone(),
            };
            let transport = StreamableHttpClientTransport::with_client(signing, transport);
            Box::pin(listener.serve_with_lifecycle(transport, mode)) as HandshakeFuture
        }
        (None, None) => {
            let transport = StreamableHttpClientTransport::with_client(http, transport);
            Box::pin(listener.serve_with_lifecycle(transport, mode))
        }
    };
    let client = match tokio::time::timeout(config.handshake_timeout, handshake).await {
        Ok(Ok(client)) => client,
        Ok(Err(error)) => return Err(from_init_error(url, &error)),
        Err(_) => {
            let reason = format!(
                "no answer to the MCP handshake within {}",
                humantime::format_duration(config.handshake_timeout)
            );
            return Err(Failure {
                error: McpError::Unreachable {
                    url: url.to_string(),
                    reason,
                },
                retry_elsewhere: true,
                evict: true,
                unanswered: false,
            });
        }
    };
    // rmcp caches list results by default and serves stale ones on error; the console must
    // show what the server says now, and an error when it says nothing.
    client
        .peer()
        .set_response_cache_config(ClientCacheConfig::disabled())
        .await;
    let protocol = client
        .peer_info()
        .map(|info| info.protocol_version.to_string());
    tracing::debug!(%url, ?protocol, "MCP client connected");
    Ok(Connection {
        url: url.to_string(),
        auth: auth.clone(),
        handshake: started.elapsed(),
        client,
        shared,
        listing: tokio::sync::Mutex::new(()),
        wire,
        streams,
    })
}
