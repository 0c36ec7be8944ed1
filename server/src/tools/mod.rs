//! Tool handlers. `ops` is the default toolbox, `network` its allow-listed network checks,
//! `conformance` the profile for the official conformance suite. Every tool call of every
//! profile goes through [`instrumented_call`], which owns metrics, fault injection and the
//! per-call log line, so no tool can forget them.

pub mod conformance;
pub mod network;
pub mod ops;
pub mod variant;

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, LazyLock},
    time::Instant,
};

use axum::http::request::Parts;
use rmcp::{
    ErrorData, RoleServer,
    handler::server::router::tool::ToolRouter,
    model::{CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Tool},
    service::RequestContext,
};

use crate::{
    Replica,
    logging::{CallRecord, log_call},
    metrics::Outcome,
};

/// The ops toolbox: its own tools and the allow-listed probes. rmcp builds a handler per
/// session, and per request for stateless clients; the routes hold no state, so every handler
/// shares one set instead of rebuilding it (and its schemas) each time.
static OPS_TOOLS: LazyLock<Arc<ToolRouter<ops::OpsServer>>> =
    LazyLock::new(|| Arc::new(ops::OpsServer::ops_router() + network::router()));

/// The ops toolbox as `replica` serves it: the shared set, or its own variant when it is set
/// to differ (`variant.rs`).
pub(crate) fn ops_tools(replica: &Replica) -> Arc<ToolRouter<ops::OpsServer>> {
    if variant::differs(replica) {
        variant::tools(replica, &OPS_TOOLS)
    } else {
        OPS_TOOLS.clone()
    }
}

/// Refuses `--hide-tools` naming a tool the ops toolbox does not have.
pub fn check_hidden_tools(hide_tools: &[String]) -> Result<(), String> {
    variant::check(hide_tools, &OPS_TOOLS)
}

/// Ends the call in the metrics even when the future is dropped (client went away), which is
/// then counted as cancelled.
struct CallGuard<'a> {
    replica: &'a Replica,
    tool: String,
    started: Instant,
    request_id: String,
    session_id: Option<String>,
    traceparent: Option<String>,
    outcome: Outcome,
    fault: bool,
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        self.replica
            .metrics
            .call_finished(&self.tool, self.outcome, elapsed.as_secs_f64());
        log_call(&CallRecord {
            tool: &self.tool,
            outcome: self.outcome.as_str(),
            duration_ms: (elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
            request_id: &self.request_id,
            session_id: self.session_id.as_deref(),
            task_id: &self.replica.identity.task_id,
            traceparent: self.traceparent.as_deref(),
            fault: self.fault,
        });
    }
}

/// Runs one tool call with metrics, fault injection and the per-call log line around it.
pub async fn instrumented_call<F, Fut>(
    replica: &Replica,
    request: CallToolRequestParams,
    context: RequestContext<RoleServer>,
    call: F,
) -> Result<CallToolResponse, ErrorData>
where
    F: FnOnce(CallToolRequestParams, RequestContext<RoleServer>) -> Fut,
    Fut: Future<Output = Result<CallToolResponse, ErrorData>>,
{
    let header = |name: &str| {
        context
            .extensions
            .get::<Parts>()
            .and_then(|parts| parts.headers.get(name))
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let session_id = header("mcp-session-id");
    // `_meta` first (SEP-414); a client that sets only the HTTP header is traced too.
    let traceparent = context
        .meta
        .get_traceparent()
        .map(str::to_string)
        .or_else(|| header("traceparent"));
    let mut guard = CallGuard {
        replica,
        tool: request.name.to_string(),
        started: Instant::now(),
        request_id: context.id.to_string(),
        session_id,
        traceparent,
        outcome: Outcome::Cancelled,
        fault: false,
    };
    replica.metrics.call_started();
    let cancelled = context.ct.clone();

    if let Some(decision) = replica.faults.decide(&guard.tool) {
        if !decision.delay.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(decision.delay) => {}
                _ = cancelled.cancelled() => return Err(ErrorData::internal_error("cancelled", None)),
            }
        }
        if decision.fail {
            guard.fault = true;
            guard.outcome = Outcome::ToolError;
            replica.metrics.fault_injected(&guard.tool);
            let message = format!(
                "injected fault: `{}` failed on purpose (fault plan `{}`, seed {})",
                guard.tool,
                replica.faults.plan(),
                replica.faults.seed()
            );
            return Ok(CallToolResult::error(vec![ContentBlock::text(message)]).into());
        }
    }

    let result = call(request, context).await;
    guard.outcome = match &result {
        _ if cancelled.is_cancelled() => Outcome::Cancelled,
        Ok(CallToolResponse::Complete(done)) if done.is_error == Some(true) => Outcome::ToolError,
        Ok(_) => Outcome::Ok,
        Err(_) => Outcome::ProtocolError,
    };
    result
}

/// The input schemas of a tool set, compiled once per replica. Arguments are checked here
/// before a tool runs so the caller learns which field is wrong, not just that deserialising
/// failed.
pub struct ArgumentValidator {
    validators: HashMap<String, jsonschema::Validator>,
    names: Vec<String>,
}

impl ArgumentValidator {
    pub fn new(tools: &[Tool]) -> Self {
        let mut names: Vec<String> = tools.iter().map(|tool| tool.name.to_string()).collect();
        names.sort();
        let validators = tools
            .iter()
            .filter_map(|tool| {
                let schema = serde_json::Value::Object((*tool.input_schema).clone());
                match jsonschema::validator_for(&schema) {
                    Ok(validator) => Some((tool.name.to_string(), validator)),
                    Err(error) => {
                        tracing::error!(tool = %tool.name, %error, "tool has an invalid input schema");
                        None
                    }
                }
            })
            .collect();
        Self { validators, names }
    }

    /// `Err` for an unknown tool (a protocol error naming the tools there are); `Ok(Some)` with
    /// an `isError` result listing each invalid field (so a model can correct itself);
    /// `Ok(None)` when the call may proceed. The arguments are lent to the validator, not
    /// copied, and are back in `request` as they came when this returns.
    pub fn check(
        &self,
        request: &mut CallToolRequestParams,
    ) -> Result<Option<CallToolResult>, ErrorData> {
        let name = request.name.as_ref();
        if !self.names.iter().any(|known| known == name) {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool `{name}`; this server has: {}",
                    self.names.join(", ")
                ),
                None,
            ));
        }
        let Some(validator) = self.validators.get(name) else {
            return Ok(None);
        };
        let given = request.arguments.take();
        let had_arguments = given.is_some();
        let arguments = serde_json::Value::Object(given.unwrap_or_default());
        let problems: Vec<String> = if validator.is_valid(&arguments) {
            Vec::new()
        } else {
            validator
                .iter_errors(&arguments)
                .map(|error| {
                    let path = error.instance_path().to_string();
                    let at = if path.is_empty() {
                        "arguments".to_string()
                    } else {
                        path
                    };
                    format!("{at}: {error}")
                })
                .collect()
        };
        if let serde_json::Value::Object(arguments) = arguments
            && had_arguments
        {
            request.arguments = Some(arguments);
        }
        if problems.is_empty() {
            return Ok(None);
        }
        let message = format!(
            "invalid arguments for `{}`: {}",
            request.name,
            problems.join("; ")
        );
        Ok(Some(CallToolResult::error(vec![ContentBlock::text(
            message,
        )])))
    }
}
