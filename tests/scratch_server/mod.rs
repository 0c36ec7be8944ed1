//! A small MCP server of the tests' own, on loopback: a scratch list of names with a tool that
//! adds one, one that counts them (`readOnlyHint`) and one that wipes them
//! (`destructiveHint: true`), for what the production server has no business shipping. It
//! records the name of every `tools/call` that reaches it, so a test can tell that a refused
//! call never left the client.

#![allow(dead_code)]

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, tool::ToolCallContext, wrapper::Parameters},
    model::{CallToolRequestParams, CallToolResponse, ServerCapabilities, ServerConfig},
    service::RequestContext,
    tool, tool_handler, tool_router,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct State {
    names: Vec<String>,
    calls: Vec<String>,
}

#[derive(Clone)]
struct Scratch {
    state: Arc<Mutex<State>>,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct AddArgs {
    /// The name to add.
    name: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct WipeArgs {
    /// Wipe the names that start with this.
    prefix: String,
}

#[tool_router]
impl Scratch {
    #[tool(
        description = "Add a name to the scratch list.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false
        )
    )]
    async fn add_item(&self, Parameters(args): Parameters<AddArgs>) -> String {
        let mut state = self.state.lock().unwrap();
        state.names.push(args.name);
        format!("{} names", state.names.len())
    }

    #[tool(
        description = "Count the names on the scratch list.",
        annotations(read_only_hint = true, idempotent_hint = true)
    )]
    async fn count_items(&self) -> String {
        format!("{} names", self.state.lock().unwrap().names.len())
    }

    #[tool(
        description = "Delete every name that starts with the prefix.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true
        )
    )]
    async fn wipe_scratch(&self, Parameters(args): Parameters<WipeArgs>) -> String {
        let mut state = self.state.lock().unwrap();
        let before = state.names.len();
        state.names.retain(|name| !name.starts_with(&args.prefix));
        format!(
            "wiped {} names starting with {:?}",
            before - state.names.len(),
            args.prefix
        )
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Scratch {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        self.state.lock().unwrap().calls.push(name);
        let call = ToolCallContext::new(self, request, context);
        self.tool_router.call(call).await
    }
}

/// The running server; dropping it stops it.
pub struct ScratchServer {
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: CancellationToken,
}

impl ScratchServer {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let stop = CancellationToken::new();
        let shared = state.clone();
        let service: StreamableHttpService<Scratch, LocalSessionManager> =
            StreamableHttpService::new(
                move || {
                    Ok(Scratch {
                        state: shared.clone(),
                        tool_router: Scratch::tool_router(),
                    })
                },
                Default::default(),
                StreamableHttpServerConfig::default().with_cancellation_token(stop.child_token()),
            );
        let router = axum::Router::new().nest_service("/mcp", service);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let stopped = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(stopped.cancelled_owned())
                .await;
        });
        Self {
            url: format!("http://{address}/mcp"),
            state,
            stop,
        }
    }

    /// The tools called so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }
}

impl Drop for ScratchServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
