//! A call the server turned into a task (the tasks extension, SEP-2663): polled with
//! `tasks/get` at the interval the server suggests, its questions answered with
//! `tasks/update`, cancelled with `tasks/cancel` when the person cancels or when the task
//! stays unchanged longer than the call's idle timeout, and its result taken from the
//! completed task. Each request's id joins the call's, so the wire record holds the polls.

use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolResult, CancelTaskParams, CancelTaskRequest, ClientRequest, GetTaskParams,
    GetTaskRequest, InputRequiredResult, ServerResult, Task, TaskPayload, TaskStatus,
    UpdateTaskParams, UpdateTaskRequest,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    CallControl, CallEvent, CallRequest, McpError, PoolConfig, ToolResult,
    connection::Connection,
    error::{Failure, from_service_error},
};

/// Polling bounds, whatever interval a server suggests.
const MIN_POLL: Duration = Duration::from_millis(100);
const MAX_POLL: Duration = Duration::from_secs(5);
const DEFAULT_POLL: Duration = Duration::from_secs(1);
/// How long a `tasks/cancel` may delay the end of a call that is ending anyway.
const CANCEL_BOUND: Duration = Duration::from_secs(2);

/// What the call learned of its task, kept with the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskNote {
    pub task_id: String,
    /// `working`, `input_required`, `completed`, `failed` or `cancelled`: the last seen.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// `tasks/get` requests sent.
    pub polls: u32,
}

/// `ran as task 3f2a (completed after 4 polls)`; the server's text: show it inert.
impl std::fmt::Display for TaskNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ran as task {} ({} after {} polls",
            self.task_id, self.status, self.polls
        )?;
        if let Some(message) = &self.status_message {
            write!(f, " — {message}")?;
        }
        f.write_str(")")
    }
}

fn status_word(status: TaskStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// One request on the connection, its id added to `ids`; the answer or the failure.
async fn send(
    connection: &Connection,
    ids: &mut Vec<Value>,
    request: ClientRequest,
) -> Result<ServerResult, Failure> {
    let handle = connection
        .peer()
        .send_cancellable_request(request, rmcp::service::PeerRequestOptions::no_options())
        .await
        .map_err(|error| from_service_error(&connection.url, &error))?;
    ids.push(serde_json::to_value(&handle.id).unwrap_or_default());
    handle
        .await_response()
        .await
        .map_err(|error| from_service_error(&connection.url, &error))
}

async fn cancel(connection: &Connection, ids: &mut Vec<Value>, task_id: &str) {
    let request =
        ClientRequest::CancelTaskRequest(CancelTaskRequest::new(CancelTaskParams::new(task_id)));
    if tokio::time::timeout(CANCEL_BOUND, send(connection, ids, request))
        .await
        .is_err()
    {
        tracing::debug!(url = %connection.url, task_id, "tasks/cancel got no answer");
    }
}

/// Follows `task` to its end. `note` keeps what was seen of it, also when the call fails.
pub(crate) async fn follow(
    config: &PoolConfig,
    connection: &Connection,
    request: &CallRequest,
    control: &CallControl,
    ids: &mut Vec<Value>,
    task: Task,
    note: &mut Option<TaskNote>,
) -> Result<ToolResult, Failure> {
    let task_id = task.task_id.clone();
    let mut seen = TaskNote {
        task_id: task_id.clone(),
        status: status_word(task.status),
        status_message: task.status_message.clone(),
        polls: 0,
    };
    let tell = |seen: &TaskNote| {
        control.notify(CallEvent::Task {
            task_id: seen.task_id.clone(),
            status: seen.status.clone(),
            message: seen.status_message.clone(),
        });
    };
    tell(&seen);
    *note = Some(seen.clone());
    let poll = |task: &Task| {
        task.poll_interval_ms
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_POLL)
            .clamp(MIN_POLL, MAX_POLL)
    };
    let mut interval = poll(&task);
    let mut changed = Instant::now();
    loop {
        tokio::select! {
            _ = control.cancel.cancelled() => {
                cancel(connection, ids, &task_id).await;
                return Err(Failure::fatal(McpError::Cancelled));
            }
            _ = tokio::time::sleep(interval) => {}
        }
        if let Some(idle) = request.timeout
            && changed.elapsed() >= idle
        {
            cancel(connection, ids, &task_id).await;
            return Err(Failure::fatal(McpError::TaskStalled {
                task_id,
                status: seen.status.clone(),
                idle,
            }));
        }
        let get = ClientRequest::GetTaskRequest(GetTaskRequest::new(GetTaskParams::new(&task_id)));
        let answer = send(connection, ids, get).await?;
        seen.polls += 1;
        let ServerResult::GetTaskResult(got) = answer else {
            return Err(Failure::fatal(McpError::Protocol(
                "unexpected reply to tasks/get".into(),
            )));
        };
        let detailed = got.task;
        interval = poll(&detailed.task);
        let status = status_word(detailed.task.status);
        if status != seen.status || detailed.task.status_message != seen.status_message {
            seen.status = status;
            seen.status_message = detailed.task.status_message.clone();
            changed = Instant::now();
            tell(&seen);
        }
        *note = Some(seen.clone());
        match detailed.payload {
            TaskPayload::Completed { result } => {
                let result: CallToolResult = serde_json::from_value(Value::Object(result))
                    .map_err(|error| {
                        Failure::fatal(McpError::Protocol(format!(
                            "the completed task's result is not a tool result: {error}"
                        )))
                    })?;
                return Ok(ToolResult::from(result));
            }
            TaskPayload::Failed { error } => {
                let message = error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message");
                let code = error.get("code").map(Value::to_string).unwrap_or_default();
                return Err(Failure::fatal(McpError::Protocol(format!(
                    "task {task_id} failed: {message} (code {code})"
                ))));
            }
            TaskPayload::Cancelled => {
                return Err(Failure::fatal(McpError::Protocol(format!(
                    "the server cancelled task {task_id}"
                ))));
            }
            TaskPayload::InputRequired { input_requests } => {
                let input = InputRequiredResult::from_input_requests(input_requests);
                let answered = super::ask::answer_input(
                    config.asks.as_ref(),
                    &config.roots,
                    &connection.url,
                    input,
                )
                .await;
                let responses = match answered {
                    Ok((Some(responses), _)) => responses,
                    Ok((None, _)) => continue,
                    Err(message) => {
                        cancel(connection, ids, &task_id).await;
                        return Err(Failure::fatal(McpError::Protocol(message)));
                    }
                };
                let update = ClientRequest::UpdateTaskRequest(UpdateTaskRequest::new(
                    UpdateTaskParams::new(&task_id, responses),
                ));
                send(connection, ids, update).await?;
                // An answer is news: the task is about to move on.
                changed = Instant::now();
                interval = MIN_POLL;
            }
            _ => {}
        }
    }
}
