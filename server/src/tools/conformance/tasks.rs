//! Fixtures of the Tasks extension (SEP-2663): tools this server may run as tasks, polled with
//! `tasks/get`. A task is only created for a request that declared the extension; tools that
//! cannot work without one refuse other callers with -32021. The task store lives in the
//! replica-wide [`super::Shared`], because each 2026-07-28 request gets a fresh handler.

use std::time::Duration;

use rmcp::{
    ErrorData, RoleServer,
    handler::server::{tool::InputResponses, wrapper::Parameters},
    model::{
        CallToolResponse, CallToolResult, ClientCapabilities, ContentBlock, CreateTaskResult,
        InputRequests, InputRequiredResult,
    },
    service::RequestContext,
    task_manager::{TaskContext, TaskExit, TaskOptions},
    tool, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{ConformanceServer, fixtures};

/// Longest `slow_compute` sleep accepted, so a call cannot pin a replica for long.
const MAX_COMPUTE_SECS: f64 = 300.0;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GreetArgs {
    /// Who to greet.
    name: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ComputeArgs {
    /// How long the computation takes, in seconds (default 1, at most 300).
    seconds: Option<f64>,
    /// A label echoed in the result.
    label: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeleteArgs {
    /// The file the user is asked to confirm deleting.
    filename: Option<String>,
}

fn tasks_declared(context: &RequestContext<RoleServer>) -> bool {
    context
        .client_capabilities()
        .is_some_and(|caps| caps.supports_tasks())
}

fn require_tasks(context: &RequestContext<RoleServer>) -> Result<(), ErrorData> {
    if tasks_declared(context) {
        return Ok(());
    }
    Err(ErrorData::missing_required_client_capability(
        ClientCapabilities::builder().enable_tasks().build(),
    ))
}

fn text(text: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

/// A string field of an elicitation answer's `content`.
fn content_field(answer: &Value, name: &str) -> Option<String> {
    answer.get("content")?.get(name).map(|value| match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    })
}

impl ConformanceServer {
    fn spawn_task<F>(&self, work: impl FnOnce(TaskContext) -> F) -> CallToolResponse
    where
        F: Future<Output = Result<CallToolResult, TaskExit>> + Send + 'static,
    {
        let task = self
            .shared
            .tasks
            .spawn(TaskOptions::default(), |context| Box::pin(work(context)));
        CreateTaskResult::new(task).into()
    }
}

#[tool_router(router = task_router, vis = "pub(super)")]
impl ConformanceServer {
    #[tool(description = "Greets `name` at once; never runs as a task")]
    async fn greet(&self, Parameters(args): Parameters<GreetArgs>) -> String {
        format!("Hello, {}!", args.name)
    }

    #[tool(description = "Sleeps `seconds`, then reports `label`; a task if the caller allows")]
    async fn slow_compute(
        &self,
        Parameters(args): Parameters<ComputeArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let seconds = args.seconds.unwrap_or(1.0);
        if !(0.0..=MAX_COMPUTE_SECS).contains(&seconds) {
            return Err(ErrorData::invalid_params(
                format!("seconds must be between 0 and {MAX_COMPUTE_SECS}"),
                None,
            ));
        }
        let label = args.label.unwrap_or_else(|| "compute".to_string());
        let pause = Duration::from_secs_f64(seconds);
        let result = text(format!("slow_compute({label}) finished after {seconds}s"));
        if !tasks_declared(&context) {
            tokio::select! {
                _ = tokio::time::sleep(pause) => return Ok(result.into()),
                _ = context.ct.cancelled() => return Err(ErrorData::internal_error("cancelled", None)),
            }
        }
        Ok(self.spawn_task(move |task| async move {
            tokio::select! {
                _ = tokio::time::sleep(pause) => Ok(result),
                _ = task.cancelled() => Err(TaskExit::Cancelled),
            }
        }))
    }

    #[tool(description = "Task only: after about a second, reports a tool execution error")]
    async fn failing_job(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        require_tasks(&context)?;
        Ok(self.spawn_task(|_| async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(CallToolResult::error(vec![ContentBlock::text(
                "failing_job failed on purpose",
            )]))
        }))
    }

    #[tool(description = "Fails with a protocol error; as a task it settles as failed")]
    async fn protocol_error_job(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let failure = || ErrorData::internal_error("protocol_error_job failed on purpose", None);
        if !tasks_declared(&context) {
            return Err(failure());
        }
        Ok(self.spawn_task(move |_| async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Err(TaskExit::Error(failure()))
        }))
    }

    #[tool(description = "Task only: asks the user to confirm deleting `filename`")]
    async fn confirm_delete(
        &self,
        Parameters(args): Parameters<DeleteArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        require_tasks(&context)?;
        let filename = args.filename.unwrap_or_else(|| "file.txt".to_string());
        Ok(self.spawn_task(move |task| async move {
            let form = fixtures::elicitation(
                format!("Delete {filename}?"),
                serde_json::json!({
                    "type": "object",
                    "properties": { "confirm": { "type": "boolean" } },
                    "required": ["confirm"]
                }),
            );
            let answer = task.request_input("confirm", form).await?;
            let confirmed = answer.pointer("/content/confirm").and_then(Value::as_bool);
            Ok(text(format!(
                "confirm_delete({filename}): confirmed={}",
                confirmed.unwrap_or(false)
            )))
        }))
    }

    #[tool(description = "Task only: asks two questions at once and waits for both answers")]
    async fn multi_input(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        require_tasks(&context)?;
        Ok(self.spawn_task(|task| async move {
            let first =
                task.request_input("input-a", fixtures::ask_string("Provide value A", "value"));
            let second =
                task.request_input("input-b", fixtures::ask_string("Provide value B", "value"));
            let (first, second) = tokio::join!(first, second);
            let (first, second) = (first?, second?);
            let value = |answer: &Value| content_field(answer, "value").unwrap_or_default();
            Ok(text(format!(
                "multi_input: a={}, b={}",
                value(&first),
                value(&second)
            )))
        }))
    }

    #[tool(description = "Task only: asks for a name, then finishes the greeting as a task")]
    async fn test_tool_with_task(
        &self,
        InputResponses(responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        require_tasks(&context)?;
        let name = responses
            .as_ref()
            .and_then(|responses| responses.get("user_name"))
            .filter(|answer| answer.is_object())
            .and_then(|answer| content_field(answer, "name"));
        let Some(name) = name else {
            let mut requests = InputRequests::new();
            requests.insert(
                "user_name".to_string(),
                fixtures::ask_string("What is your name?", "name"),
            );
            return Ok(InputRequiredResult::from_input_requests(requests).into());
        };
        Ok(self.spawn_task(move |_| async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(text(format!("Hello, {name}! (finished as a task)")))
        }))
    }
}
