//! The conformance profile: the tools, resources, prompts, completions, logging, subscriptions
//! and tasks that the official MCP conformance suite exercises, in both protocol eras
//! (2025-11-25 sessions and 2026-07-28 stateless requests). Served only with
//! `--profile conformance`; the default profile stays the clean ops toolbox.
//!
//! Layout: `fixtures` holds the data the suite looks for, `catalog` the resources, prompts and
//! completions, `tools` the content and diagnostic tools, `client_input` the tools that need
//! input from the client (sampling, elicitation), `input_required` the multi round-trip tools
//! (SEP-2322) with `state` sealing their `requestState`, and `tasks` the Tasks extension
//! fixtures (SEP-2663). Nothing here is used by the ops profile.
//!
//! rmcp builds a fresh handler per session and, for 2026-07-28 clients, per request. What must
//! outlive one request (open `subscriptions/listen` streams, running tasks, the state-signing
//! key) therefore lives in [`Shared`], one per replica.

// Logging, sampling and roots are deprecated by SEP-2577 for 2026-07-28, yet the 2025-11-25
// scenarios still require them, so this profile keeps using them on purpose.
#![allow(deprecated)]

mod catalog;
mod client_input;
mod fixtures;
mod input_required;
mod state;
mod tasks;
mod tools;

use std::{
    collections::BTreeSet,
    sync::{
        Arc, LazyLock, Mutex, PoisonError, Weak,
        atomic::{AtomicU64, Ordering},
    },
};

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, tool::ToolCallContext},
    model::{
        CallToolRequestParams, CallToolResponse, CancelTaskParams, CompleteRequestParams,
        CompleteResult, GetPromptRequestParams, GetPromptResponse, GetTaskParams, GetTaskResult,
        Implementation, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
        ListToolsResult, LoggingLevel, LoggingMessageNotificationParam, PaginatedRequestParams,
        ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
        ServerConfig, SetLevelRequestParams, SubscribeRequestParams, SubscriptionFilter, Tool,
        UnsubscribeRequestParams, UpdateTaskParams,
    },
    service::{Peer, RequestContext, SubscriptionContext, SubscriptionSink},
    task_manager::TaskManager,
    tool_handler,
};
use serde_json::json;

use super::instrumented_call;
use crate::Replica;

/// Logger name on every `notifications/message` this profile sends.
const LOGGER: &str = "mcpfleet-conformance";
/// Leads `tools/list`; see [`ConformanceServer::listed_tools`].
const FIRST_TOOL: &str = "test_simple_text";

#[derive(Clone)]
pub struct ConformanceServer {
    replica: Arc<Replica>,
    shared: Arc<Shared>,
    /// Minimum level set by `logging/setLevel` on this 2025-11-25 session.
    log_level: Arc<Mutex<LoggingLevel>>,
    /// URIs this 2025-11-25 session subscribed to with `resources/subscribe`.
    resource_subscriptions: Arc<Mutex<BTreeSet<String>>>,
    tool_router: Arc<ToolRouter<Self>>,
}

/// Built once and shared by every handler, as in the ops profile: the routes hold no state.
static ROUTER: LazyLock<Arc<ToolRouter<ConformanceServer>>> = LazyLock::new(|| {
    Arc::new(
        ConformanceServer::content_router()
            + ConformanceServer::client_input_router()
            + ConformanceServer::input_required_router()
            + ConformanceServer::task_router(),
    )
});

/// The URIs one 2025-11-25 session subscribed to.
type SessionSubscriptions = Mutex<BTreeSet<String>>;

/// State every session and request of one replica shares.
struct Shared {
    listeners: Mutex<Vec<(u64, SubscriptionSink)>>,
    /// 2025-11-25 sessions that subscribed to resources: their subscription set (gone with the
    /// session) and the peer to notify.
    subscribers: Mutex<Vec<(Weak<SessionSubscriptions>, Peer<RoleServer>)>>,
    next_listener: AtomicU64,
    tasks: TaskManager,
    sealer: state::StateSealer,
}

impl Shared {
    /// The shared state of `replica`, created on first use.
    fn of(replica: &Arc<Replica>) -> Arc<Shared> {
        let state = replica.profile_state.get_or_init(|| {
            Arc::new(Shared {
                listeners: Mutex::new(Vec::new()),
                subscribers: Mutex::new(Vec::new()),
                next_listener: AtomicU64::new(0),
                tasks: TaskManager::new(),
                sealer: state::StateSealer::random(),
            })
        });
        state
            .clone()
            .downcast::<Shared>()
            .expect("one profile per replica")
    }

    fn listeners(&self) -> Vec<SubscriptionSink> {
        let listeners = self
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        listeners.iter().map(|(_, sink)| sink.clone()).collect()
    }

    /// The sessions subscribed to `uri`; sessions that ended are forgotten.
    fn subscribers(&self, uri: &str) -> Vec<Peer<RoleServer>> {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.retain(|(set, _)| set.strong_count() > 0);
        subscribers
            .iter()
            .filter(|(set, _)| {
                set.upgrade().is_some_and(|set| {
                    set.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .contains(uri)
                })
            })
            .map(|(_, peer)| peer.clone())
            .collect()
    }

    /// Remembers a session that subscribes, once.
    fn remember(&self, set: &Arc<SessionSubscriptions>, peer: &Peer<RoleServer>) {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let weak = Arc::downgrade(set);
        if !subscribers.iter().any(|(known, _)| known.ptr_eq(&weak)) {
            subscribers.push((weak, peer.clone()));
        }
    }
}

/// True when the request is served under 2026-07-28 or later: stateless, with per-request
/// `_meta` and no server-to-client requests.
fn is_modern(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|version| version >= ProtocolVersion::V_2026_07_28)
}

fn severity(level: LoggingLevel) -> u8 {
    level as u8
}

impl ConformanceServer {
    pub fn new(replica: Arc<Replica>) -> Self {
        let shared = Shared::of(&replica);
        Self {
            replica,
            shared,
            log_level: Arc::new(Mutex::new(LoggingLevel::Debug)),
            resource_subscriptions: Arc::new(Mutex::new(BTreeSet::new())),
            tool_router: ROUTER.clone(),
        }
    }

    /// The tools in `tools/list` order. Generic probes call the first listed tool with empty
    /// arguments and no capabilities, so it is the one tool that needs neither; the rest follow
    /// in name order.
    fn listed_tools(&self) -> Vec<Tool> {
        let mut tools = self.tool_router.list_all();
        tools.sort_by_key(|tool| tool.name != FIRST_TOOL);
        tools
    }

    /// Sends a log message if the caller wants this level: 2026-07-28 requests only when they set
    /// `_meta` logLevel, 2025-11-25 sessions down to the level of `logging/setLevel`.
    async fn log(&self, context: &RequestContext<RoleServer>, level: LoggingLevel, message: &str) {
        let threshold = match context.meta.log_level() {
            Some(level) => level,
            None if is_modern(context) => return,
            None => *self
                .log_level
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        };
        if severity(level) < severity(threshold) {
            return;
        }
        let param = LoggingMessageNotificationParam::new(level, json!(message)).with_logger(LOGGER);
        if let Err(error) = context.peer.notify_logging_message(param).await {
            tracing::debug!(%error, "log notification not delivered");
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for ConformanceServer {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_logging()
            .enable_completions()
            .enable_prompts()
            .enable_resources()
            .enable_tools()
            .enable_prompts_list_changed()
            .enable_resources_subscribe()
            .enable_tool_list_changed()
            .enable_tasks()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new(
                "mcpfleet-server-conformance",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Conformance profile of mcpfleet-server: the fixtures of the official MCP \
                 conformance suite, not an ops toolbox."
                    .to_string(),
            )
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        instrumented_call(&self.replica, request, context, |request, context| {
            self.tool_router
                .call(ToolCallContext::new(self, request, context))
        })
        .await
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(catalog::cacheable(ListToolsResult::with_all_items(
            self.listed_tools(),
        )))
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        *self
            .log_level
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = request.level;
        Ok(())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        catalog::complete(&request)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(catalog::resources())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(catalog::resource_templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        catalog::read_resource(&request.uri).map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(catalog::prompts())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        if request.name == input_required::PROMPT_NAME {
            return Ok(input_required::prompt(request.input_responses.as_ref()));
        }
        catalog::get_prompt(&request.name, request.arguments.as_ref()).map(Into::into)
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.shared
            .remember(&self.resource_subscriptions, &context.peer);
        let mut subscriptions = self
            .resource_subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscriptions.insert(request.uri);
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let mut subscriptions = self
            .resource_subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscriptions.remove(&request.uri);
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        // rmcp narrows this to what `get_info` advertises; the sink then filters every send.
        Some(requested.clone())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let key = self.shared.next_listener.fetch_add(1, Ordering::Relaxed);
        self.shared
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((key, context.sink().clone()));
        context.cancelled().await;
        self.shared
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(other, _)| *other != key);
        Ok(())
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        self.shared
            .tasks
            .get_task(&request.task_id)
            .map(GetTaskResult::new)
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.shared
            .tasks
            .update_task(&request.task_id, request.input_responses)
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.shared.tasks.cancel_task(&request.task_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ServerConfig, identity::Identity};

    fn replica() -> Arc<Replica> {
        Replica::new(
            ServerConfig::loopback(),
            Identity::local(Some("conformance-test")),
        )
    }

    #[test]
    fn handlers_of_one_replica_share_tasks_and_listeners() {
        let (first, second) = (replica(), replica());
        let a = ConformanceServer::new(first.clone());
        let b = ConformanceServer::new(first.clone());
        let c = ConformanceServer::new(second.clone());
        assert!(Arc::ptr_eq(&a.shared, &b.shared));
        assert!(!Arc::ptr_eq(&a.shared, &c.shared));
    }

    #[test]
    fn tools_list_leads_with_the_tool_that_needs_nothing() {
        let tools = ConformanceServer::new(replica()).listed_tools();
        assert_eq!(tools[0].name, FIRST_TOOL);
        assert!(tools.len() > 30, "the suite's fixtures are all routed");
    }
}
