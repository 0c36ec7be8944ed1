//! The HTTP face of a replica: `/mcp` (rmcp Streamable HTTP), `/healthz`, `/readyz`, `/metrics`
//! and the OAuth protected-resource metadata, and starting a replica (drain.rs stops it).

use std::{
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll},
};

use axum::{
    BoxError, Router,
    body::{Body, Bytes, HttpBody},
    extract::{Request, State},
    http::{self, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{any, get},
    serve::ListenerExt,
};
use http_body::{Frame, SizeHint};
use rmcp::{
    ServerHandler,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    Mode, Profile, Replica, ServerConfig,
    auth::{self, AuthState, Authenticator},
    body,
    identity::Identity,
    metrics::StreamGuard,
    tools::{conformance::ConformanceServer, ops::OpsServer},
};

/// Seconds a client should wait before retrying a request refused while draining; by then
/// Service Connect has moved traffic to another replica.
const RETRY_AFTER_SECS: &str = "2";

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
    #[error("HTTP server failed: {0}")]
    Http(#[from] std::io::Error),
}

struct HttpState {
    replica: Arc<Replica>,
    sessions: Arc<LocalSessionManager>,
    /// `/mcp` requests whose response has not finished streaming yet; drain waits for zero.
    requests_in_flight: AtomicUsize,
}

/// Counts a request as in flight until its response body is dropped, however it ends.
struct RequestGuard(Arc<HttpState>);

impl RequestGuard {
    fn enter(state: &Arc<HttpState>) -> Self {
        state.requests_in_flight.fetch_add(1, Ordering::SeqCst);
        Self(state.clone())
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.requests_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A started replica. Dropping it does not stop the server; call [`RunningServer::drain`].
pub struct RunningServer {
    pub local_addr: SocketAddr,
    pub replica: Arc<Replica>,
    state: Arc<HttpState>,
    /// Closes MCP sessions and streams, then the listener: the last steps of a drain.
    pub(crate) mcp_shutdown: CancellationToken,
    pub(crate) http_shutdown: CancellationToken,
    pub(crate) task: JoinHandle<std::io::Result<()>>,
}

fn allowed_hosts(config: &ServerConfig, identity: &Identity) -> Vec<String> {
    if config.allowed_hosts.iter().any(|host| host.trim() == "*") {
        return Vec::new();
    }
    let mut hosts: Vec<String> = config
        .allowed_hosts
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if identity.source == "ecs" {
        hosts.extend(identity.addresses.iter().cloned());
    }
    hosts.retain(|host| !host.is_empty());
    hosts
}

fn mcp_config(
    config: &ServerConfig,
    identity: &Identity,
    shutdown: &CancellationToken,
) -> StreamableHttpServerConfig {
    let mut mcp = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(config.mode == Mode::Session)
        .with_json_response(config.mode == Mode::Stateless)
        .with_max_request_body_bytes(config.max_body_bytes)
        .with_sse_keep_alive(Some(config.sse_keep_alive).filter(|every| !every.is_zero()))
        .with_cancellation_token(shutdown.child_token());
    mcp = match allowed_hosts(config, identity) {
        hosts if hosts.is_empty() => mcp.disable_allowed_hosts(),
        hosts => mcp.with_allowed_hosts(hosts),
    };
    let origins: Vec<&String> = config
        .allowed_origins
        .iter()
        .filter(|o| !o.trim().is_empty())
        .collect();
    if origins.is_empty() {
        mcp.enforce_origin_validation()
    } else {
        mcp.with_allowed_origins(origins.into_iter().map(|o| o.trim().to_string()))
    }
}

fn mcp_router(state: &Arc<HttpState>, shutdown: &CancellationToken) -> Router {
    let replica = &state.replica;
    let config = mcp_config(&replica.config, &replica.identity, shutdown);
    let sessions = state.sessions.clone();
    match replica.config.profile {
        Profile::Ops => {
            let replica = replica.clone();
            let transport = StreamableHttpService::new(
                move || Ok(OpsServer::new(replica.clone())),
                sessions,
                config,
            );
            McpEndpoint::new(state, transport).into_router()
        }
        Profile::Conformance => {
            let replica = replica.clone();
            let transport = StreamableHttpService::new(
                move || Ok(ConformanceServer::new(replica.clone())),
                sessions,
                config,
            );
            McpEndpoint::new(state, transport).into_router()
        }
    }
}

/// `/mcp`: the drain gate and in-flight count, then auth (when configured), the body check and
/// the rmcp transport, in that order. One handler over shared state rather than a stack of
/// middleware layers, which would clone the transport (configuration and all) and box a future
/// per layer on every request.
struct McpEndpoint<S> {
    state: Arc<HttpState>,
    /// Sent on every response, refusals too (see `Identity::served_by`).
    served_by: Option<HeaderValue>,
    auth: Option<AuthState>,
    transport: StreamableHttpService<S, LocalSessionManager>,
}

impl<S: ServerHandler + Send + 'static> McpEndpoint<S> {
    fn new(
        state: &Arc<HttpState>,
        transport: StreamableHttpService<S, LocalSessionManager>,
    ) -> Self {
        let config = &state.replica.config;
        let authenticator = Authenticator::from_config(config);
        let auth = authenticator.is_enabled().then(|| AuthState {
            authenticator,
            config: config.clone(),
        });
        let served_by = HeaderValue::from_str(&state.replica.identity.served_by()).ok();
        Self {
            state: state.clone(),
            served_by,
            auth,
            transport,
        }
    }

    /// Served at `/mcp` and below, as a nested service would be.
    fn into_router(self) -> Router {
        let endpoint = any(serve_mcp::<S>).with_state(Arc::new(self));
        Router::new()
            .route_service("/mcp", endpoint.clone())
            .route_service("/mcp/", endpoint.clone())
            .route_service("/mcp/{*path}", endpoint)
    }
}

/// Refuses new requests while draining, and keeps each accepted one counted until its response
/// (often an SSE stream) has been fully sent or dropped.
async fn serve_mcp<S: ServerHandler + Send + 'static>(
    State(endpoint): State<Arc<McpEndpoint<S>>>,
    request: Request,
) -> Response {
    let mut response = respond(&endpoint, request).await;
    if let Some(value) = &endpoint.served_by {
        response.headers_mut().insert(SERVED_BY, value.clone());
    }
    response
}

/// Names the replica that answered; documented in the README for other servers to adopt.
const SERVED_BY: http::HeaderName = http::HeaderName::from_static("served-by");

async fn respond<S: ServerHandler + Send + 'static>(
    endpoint: &McpEndpoint<S>,
    request: Request,
) -> Response {
    let state = &endpoint.state;
    if state.replica.drain.is_draining() {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            "draining: retry on another replica\n",
        )
            .into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        );
        // Close the connection too, so the client's next request opens one to another replica
        // instead of racing this one's shutdown on a kept-alive socket.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let guard = RequestGuard::enter(state);
    if let Some(auth) = &endpoint.auth
        && let Err(refusal) = auth.authorize(request.headers()).await
    {
        return tracked(refusal, guard);
    }
    let request = match body::buffer_json(request, state.replica.config.max_body_bytes).await {
        Ok(request) => request,
        Err(refusal) => return tracked(refusal, guard),
    };
    tracked(endpoint.transport.handle(request).await, guard)
}

/// The response with its body holding `guard` (and, for an SSE stream, the open-streams gauge)
/// until the body is finished or dropped.
fn tracked<B>(response: http::Response<B>, guard: RequestGuard) -> Response
where
    B: HttpBody<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    let is_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let stream = is_stream.then(|| guard.0.replica.metrics.stream_opened());
    response.map(|inner| {
        Body::new(TrackedBody {
            inner,
            _guards: (guard, stream),
        })
    })
}

/// A response body that keeps its guards alive for as long as it is being sent.
struct TrackedBody<B> {
    inner: B,
    _guards: (RequestGuard, Option<StreamGuard>),
}

impl<B: HttpBody + Unpin> HttpBody for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<Arc<HttpState>>) -> Response {
    if state.replica.drain.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    } else {
        (StatusCode::OK, "ready\n").into_response()
    }
}

async fn metrics(State(state): State<Arc<HttpState>>) -> Response {
    let sessions = state.sessions.sessions.read().await.len();
    state.replica.metrics.set_open_sessions(sessions);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.replica.metrics.render(),
    )
        .into_response()
}

fn router(state: &Arc<HttpState>, shutdown: &CancellationToken) -> Router {
    let auth_state = Arc::new(AuthState {
        authenticator: Authenticator::Open,
        config: state.replica.config.clone(),
    });
    let metadata = Router::new()
        .route(auth::METADATA_PATH, get(auth::protected_resource_metadata))
        .route(
            &format!("{}/mcp", auth::METADATA_PATH),
            get(auth::protected_resource_metadata),
        )
        .with_state(auth_state);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state.clone())
        .merge(metadata)
        .merge(mcp_router(state, shutdown))
}

/// Binds and starts serving; returns once the socket listens.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServeError> {
    let hides = config.hide_tools.iter().any(|name| !name.trim().is_empty());
    let variant = hides || config.echo_max_length.is_some();
    if variant && config.profile != Profile::Ops {
        let why = "--hide-tools and --echo-max-length apply to the ops profile only";
        return Err(ServeError::Config(why.into()));
    }
    crate::tools::check_hidden_tools(&config.hide_tools).map_err(ServeError::Config)?;
    let identity = Identity::discover(config.replica.as_deref()).await;
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.bind,
            source,
        })?;
    let local_addr = listener.local_addr()?;
    let replica = Replica::new(config, identity);
    let state = Arc::new(HttpState {
        replica: replica.clone(),
        sessions: Arc::new(LocalSessionManager::default()),
        requests_in_flight: AtomicUsize::new(0),
    });
    let mcp_shutdown = CancellationToken::new();
    let http_shutdown = CancellationToken::new();
    let app = router(&state, &mcp_shutdown);
    let stop = http_shutdown.clone();
    let task = tokio::spawn(async move {
        // SSE replies go out in several small writes; without TCP_NODELAY, Nagle holds the
        // last one until the client's delayed ACK, adding ~40 ms to every call.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
    });
    tracing::info!(
        address = %local_addr,
        replica = %replica.identity.replica,
        profile = ?replica.config.profile,
        mode = ?replica.config.mode,
        auth = replica.config.auth_token.is_some() || replica.config.jwks_url.is_some(),
        faults = replica.faults.is_active(),
        "listening"
    );
    Ok(RunningServer {
        local_addr,
        replica,
        state,
        mcp_shutdown,
        http_shutdown,
        task,
    })
}

impl RunningServer {
    pub fn requests_in_flight(&self) -> usize {
        self.state.requests_in_flight.load(Ordering::SeqCst)
    }
}
