//! The ops toolbox, the default profile: `echo`, `whoami`, `sleep`, `fail`, the network probes
//! (in `probes.rs`), and a resource with this replica's identity. Small, predictable tools that
//! let an operator or a client test exercise every path of an MCP deployment.

use std::{sync::Arc, time::Duration};

use rmcp::{
    ErrorData, Json, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorCode,
        Implementation, ListResourcesResult, PaginatedRequestParams, ProgressNotificationParam,
        ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
        ResourceContents, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ArgumentValidator, instrumented_call};
use crate::{Replica, identity::Identity};

pub const IDENTITY_URI: &str = "mcpfleet://replica/identity";
const MAX_SLEEP_MS: u64 = 10 * 60 * 1000;

#[derive(Clone)]
pub struct OpsServer {
    replica: Arc<Replica>,
    tool_router: Arc<ToolRouter<Self>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EchoArgs {
    /// Text to send back unchanged.
    pub message: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WhoAmI {
    #[serde(flatten)]
    pub identity: Identity,
    pub uptime_secs: u64,
    pub in_flight: i64,
    pub draining: bool,
    pub mode: String,
    pub version: String,
    pub build_revision: String,
    /// The active fault plan; faults in results are on purpose when this is set.
    pub fault_plan: Option<String>,
    pub fault_seed: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SleepArgs {
    /// How long to sleep, in milliseconds (at most 600000).
    pub duration_ms: u64,
    /// Interval between progress notifications in milliseconds (default 1000); sent only when
    /// the request carries a progress token.
    pub progress_interval_ms: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SleepResult {
    pub slept_ms: u64,
    pub progress_notifications: u32,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum FailKind {
    /// A normal result with `isError: true`, the way tools report failures to the model.
    ToolError,
    /// A JSON-RPC error response instead of a result.
    ProtocolError,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FailArgs {
    pub kind: FailKind,
    /// Error text (default: "requested failure").
    pub message: Option<String>,
    /// JSON-RPC error code for protocol errors (default -32603, internal error).
    pub code: Option<i32>,
}

#[tool_router(router = ops_router, vis = "pub(crate)")]
impl OpsServer {
    pub fn new(replica: Arc<Replica>) -> Self {
        Self {
            tool_router: super::ops_tools(&replica),
            replica,
        }
    }

    pub(crate) fn replica(&self) -> &Replica {
        &self.replica
    }

    #[tool(
        description = "Return the message unchanged.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn echo(&self, Parameters(args): Parameters<EchoArgs>) -> String {
        args.message
    }

    #[tool(
        description = "Describe the replica that served this call: task id and ARN, task \
                       definition revision, availability zone, image, uptime, in-flight calls \
                       and any active fault plan.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn whoami(&self) -> Json<WhoAmI> {
        let replica = &self.replica;
        let faults = replica.faults.is_active();
        Json(WhoAmI {
            identity: replica.identity.clone(),
            uptime_secs: replica.identity.uptime().as_secs(),
            in_flight: replica.metrics.in_flight(),
            draining: replica.drain.is_draining(),
            mode: format!("{:?}", replica.config.mode).to_lowercase(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            build_revision: crate::BUILD_REVISION.to_string(),
            fault_plan: faults.then(|| replica.faults.plan().to_string()),
            fault_seed: faults.then(|| replica.faults.seed()),
        })
    }

    #[tool(
        description = "Sleep for duration_ms, sending progress notifications when asked; stops \
                       early when the call is cancelled. For testing timeouts, progress, \
                       cancellation and drain.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn sleep(
        &self,
        Parameters(args): Parameters<SleepArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<SleepResult>, ErrorData> {
        if args.duration_ms > MAX_SLEEP_MS {
            return Err(ErrorData::invalid_params(
                format!("duration_ms must be at most {MAX_SLEEP_MS}"),
                None,
            ));
        }
        let total = Duration::from_millis(args.duration_ms);
        let interval = Duration::from_millis(args.progress_interval_ms.unwrap_or(1000).max(10));
        let token = context.meta.get_progress_token();
        let started = tokio::time::Instant::now();
        let deadline = started + total;
        let mut notifications = 0;
        loop {
            let next = (tokio::time::Instant::now() + interval).min(deadline);
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = context.ct.cancelled() => {
                    return Err(ErrorData::internal_error("sleep cancelled", None));
                }
            }
            if next >= deadline {
                break;
            }
            if let Some(token) = &token {
                let elapsed = started.elapsed().as_millis() as f64;
                let progress = ProgressNotificationParam::new(token.clone(), elapsed)
                    .with_total(args.duration_ms as f64)
                    .with_message(format!("slept {elapsed:.0} of {} ms", args.duration_ms));
                if context.peer.notify_progress(progress).await.is_ok() {
                    notifications += 1;
                }
            }
        }
        Ok(Json(SleepResult {
            slept_ms: args.duration_ms,
            progress_notifications: notifications,
        }))
    }

    #[tool(
        description = "Fail on purpose, deterministically: kind=tool_error returns a result with \
                       isError=true; kind=protocol_error returns a JSON-RPC error with the given \
                       code. For testing how clients surface failures.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn fail(
        &self,
        Parameters(args): Parameters<FailArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let message = args
            .message
            .unwrap_or_else(|| "requested failure".to_string());
        match args.kind {
            FailKind::ToolError => Ok(CallToolResult::error(vec![ContentBlock::text(message)])),
            FailKind::ProtocolError => {
                let code = ErrorCode(args.code.unwrap_or(ErrorCode::INTERNAL_ERROR.0));
                Err(ErrorData::new(code, message, None))
            }
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for OpsServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new(
            "mcpfleet-server",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(
            "Ops toolbox of one mcpfleet-server replica: echo, whoami, sleep, fail, and \
                 allow-listed network probes (dns_resolve, tcp_check, http_check)."
                .to_string(),
        )
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        instrumented_call(
            &self.replica,
            request,
            context,
            |mut request, context| async move {
                let validator = self
                    .replica
                    .arguments
                    .get_or_init(|| ArgumentValidator::new(&self.tool_router.list_all()));
                if let Some(refusal) = validator.check(&mut request)? {
                    return Ok(refusal.into());
                }
                let call =
                    rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
                self.tool_router.call(call).await
            },
        )
        .await
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resource = Resource::new(IDENTITY_URI, "replica-identity")
            .with_description("Identity of the replica serving this session")
            .with_mime_type("application/json");
        Ok(ListResourcesResult::with_all_items(vec![resource]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != IDENTITY_URI {
            return Err(ErrorData::resource_not_found(
                format!(
                    "no resource {}; this server has {IDENTITY_URI}",
                    request.uri
                ),
                None,
            ));
        }
        let body = serde_json::to_string_pretty(&self.replica.identity)
            .map_err(|error| ErrorData::internal_error(error.to_string(), None))?;
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(body, IDENTITY_URI).with_mime_type("application/json"),
        ])
        .into())
    }
}
