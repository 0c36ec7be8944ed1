//! Calling a tool: route to a task, check the arguments against the tool's inputSchema, send,
//! stream progress, honour cancellation and an idle timeout that progress resets, and keep
//! the call's HTTP exchanges as they crossed the wire, for the protocol pane. A task that
//! refuses a call before running it (connection refused, 503 while draining) hands the call
//! to the next ready task. A call that
//! may have run is sent again only when its tool declares itself read-only or idempotent and
//! the connection ended before any answer (a replica closing a keep-alive connection as it
//! stops); timeouts, server errors and tool errors are never retried.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use rmcp::{
    ServiceError,
    model::{
        CallToolRequest, CallToolRequestParams, CallToolResult, CancelledNotificationParam,
        ClientRequest, ProgressNotificationParam, ProtocolVersion, RequestId, ServerResult,
    },
    service::PeerRequestOptions,
};
use serde_json::Value;

use crate::fleet::FleetSnapshot;

use super::{
    CallControl, CallEvent, CallOutcome, CallRequest, Exchange, McpError, Pool, Retry, ServedBy,
    Target, ToolResult,
    connection::{Connection, Heard},
    error::{Failure, from_service_error},
    request::ServerLog,
    route::Candidate,
    trace::Traceparent,
};

/// How long telling the server about a cancellation may delay the caller.
const CANCEL_NOTICE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a call that heard log lines waits, after its result, for lines still on their
/// way on another stream.
const LOG_STRAGGLERS: Duration = Duration::from_millis(50);
/// Stands in for "no timeout" (a year), which tokio's timers cannot take as `Duration::MAX`.
const FOREVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// Rounds of `input_required` one call may take before the console gives up on a server
/// that keeps asking.
pub const MAX_INPUT_ROUNDS: usize = 8;

/// How one request of a call ended: answered (possibly with more questions), or not.
enum Round {
    Answered {
        result: Box<Result<ServerResult, ServiceError>>,
    },
    Ended {
        result: Result<ToolResult, Failure>,
        sent: bool,
    },
}

/// How one try on one task ended.
struct Attempt {
    result: Result<ToolResult, Failure>,
    /// The request left the console (so the task is named in the outcome).
    sent: bool,
    /// The tool says running it twice is harmless.
    repeatable: bool,
}

impl Pool {
    /// Calls a tool on the task `request.target` names in `fleet`.
    pub async fn call(&self, fleet: &FleetSnapshot, request: &CallRequest) -> CallOutcome {
        self.call_with(fleet, request, &CallControl::default())
            .await
    }

    /// [`Pool::call`], reporting events to and cancelled by `control`.
    pub async fn call_with(
        &self,
        fleet: &FleetSnapshot,
        request: &CallRequest,
        control: &CallControl,
    ) -> CallOutcome {
        let started = Instant::now();
        match self
            .inner
            .round_robin
            .candidates(fleet, &request.service, &request.target)
        {
            Ok(candidates) => {
                self.call_candidates(candidates, request, control, started)
                    .await
            }
            Err(error) => CallOutcome::failed(error, started),
        }
    }

    /// Tries `candidates` in order, moving on only when a task refused before running the call.
    pub(crate) async fn call_candidates(
        &self,
        candidates: Vec<Candidate>,
        request: &CallRequest,
        control: &CallControl,
        started: Instant,
    ) -> CallOutcome {
        let mut outcome = CallOutcome::failed(
            McpError::NoReadyTask {
                service: request.service.clone(),
            },
            started,
        );
        let may_move = request.target == Target::AnyReady;
        let last = candidates.len().saturating_sub(1);
        // One trace for the call: a task that refused it and the one that ran it both log it.
        let trace = Traceparent::fresh();
        for (index, candidate) in candidates.iter().enumerate() {
            let mut exchange = Exchange::default();
            let attempt = self
                .attempt(candidate, request, control, &trace, &mut exchange)
                .await;
            if attempt.sent {
                exchange.trace_id = Some(trace.trace_id());
            }
            outcome.exchange = exchange;
            outcome.served_by = attempt.sent.then(|| {
                let mut by = ServedBy::from(candidate);
                by.learn(&outcome.exchange);
                by
            });
            match attempt.result {
                Ok(result) => {
                    outcome.result = Ok(result);
                    break;
                }
                Err(failure)
                    if (failure.retry_elsewhere || (failure.unanswered && attempt.repeatable))
                        && may_move
                        && index < last
                        && !control.cancel.is_cancelled() =>
                {
                    let (task, reason) = (&candidate.task_id, failure.error.to_string());
                    tracing::debug!(%task, %reason, "trying the next ready task");
                    control.notify(CallEvent::Retrying {
                        task_id: candidate.task_id.clone(),
                        reason: reason.clone(),
                    });
                    outcome.retries.push(Retry {
                        task_id: candidate.task_id.clone(),
                        reason,
                    });
                }
                Err(failure) => {
                    outcome.result = Err(failure.error);
                    break;
                }
            }
        }
        outcome.duration = started.elapsed();
        outcome
    }

    /// One try on one task.
    async fn attempt(
        &self,
        candidate: &Candidate,
        request: &CallRequest,
        control: &CallControl,
        trace: &Traceparent,
        exchange: &mut Exchange,
    ) -> Attempt {
        // The idle timeout covers connecting and listing tools too, so a call never waits
        // longer than asked; nothing was sent yet, so another task may still take it.
        let idle = request.timeout.unwrap_or(FOREVER);
        let prepared = tokio::select! {
            prepared = tokio::time::timeout(idle, self.prepare(candidate, request)) => {
                prepared.unwrap_or_else(|_| Err(Failure {
                    retry_elsewhere: true,
                    evict: true,
                    ..Failure::fatal(McpError::TimedOut(idle))
                }))
            }
            _ = control.cancel.cancelled() => Err(Failure::fatal(McpError::Cancelled)),
        };
        let (connection, repeatable) = match prepared {
            Ok(prepared) => prepared,
            Err(failure) => {
                return Attempt {
                    result: Err(failure),
                    sent: false,
                    repeatable: false,
                };
            }
        };
        let mut ids = Vec::new();
        let (result, sent) = self
            .rounds(
                &connection,
                candidate,
                (request, trace),
                control,
                &mut ids,
                exchange,
            )
            .await;
        exchange.rounds = connection.wire(&ids);
        // The lines on the call's own streams, in wire order (rmcp hands notifications to the
        // listener concurrently, so the last may not have reached it yet), then those heard
        // elsewhere meanwhile.
        let mut elsewhere = std::mem::take(&mut exchange.logs);
        let on_stream: Vec<ServerLog> = exchange
            .messages()
            .iter()
            .filter_map(ServerLog::from_message)
            .collect();
        for log in &on_stream {
            if let Some(seen) = elsewhere.iter().position(|heard| heard == log) {
                elsewhere.remove(seen);
            }
        }
        exchange.logs = on_stream.into_iter().chain(elsewhere).collect();
        Attempt {
            result,
            sent,
            repeatable,
        }
    }

    /// The requests of one call on one connection: one, or one per `input_required` round.
    /// Each request's JSON-RPC id is added to `ids` as it is sent.
    async fn rounds(
        &self,
        connection: &Arc<Connection>,
        candidate: &Candidate,
        (request, trace): (&CallRequest, &Traceparent),
        control: &CallControl,
        ids: &mut Vec<Value>,
        exchange: &mut Exchange,
    ) -> (Result<ToolResult, Failure>, bool) {
        let mut params = CallToolRequestParams::new(request.tool.clone());
        if let Value::Object(arguments) = &request.arguments {
            params = params.with_arguments(arguments.clone());
        }
        // The wire client copies it to the POST's `traceparent` header.
        params
            .meta
            .get_or_insert_default()
            .set_traceparent(trace.to_string());
        if let Some(level) = &request.log_level {
            self.ask_log_level(connection, &mut params, level).await;
        }
        // A 2026-07-28 server may answer `input_required`: the questions are put to whoever
        // answers for this console, and the call is sent again, with a new id, carrying the
        // answers and the server's `requestState` unchanged (SEP-2322).
        let mut rounds = 0;
        let fatal = |message: String| (Err(Failure::fatal(McpError::Protocol(message))), true);
        loop {
            let result = match self
                .round(
                    connection,
                    candidate,
                    request,
                    control,
                    (ids, &mut *exchange),
                    &params,
                )
                .await
            {
                Round::Answered { result } => *result,
                Round::Ended { result, sent } => return (result, sent),
            };
            let result = match result {
                // The server runs the call as a task: its result comes from polling it.
                Ok(ServerResult::CreateTaskResult(created)) => {
                    let followed = super::task::follow(
                        self.config(),
                        connection,
                        request,
                        control,
                        ids,
                        created.task,
                        &mut exchange.task,
                    )
                    .await;
                    return (followed, true);
                }
                other => other,
            };
            let Ok(ServerResult::InputRequiredResult(input)) = result else {
                return (self.finish(connection, result), true);
            };
            rounds += 1;
            if rounds >= MAX_INPUT_ROUNDS {
                return fatal(format!(
                    "the server asked for input {rounds} times without a result; gave up"
                ));
            }
            let config = self.config();
            let answered = super::ask::answer_input(
                config.asks.as_ref(),
                &config.roots,
                &connection.url,
                input,
            )
            .await;
            match answered {
                Ok((responses, state)) => {
                    params.input_responses = responses;
                    params.request_state = state;
                }
                Err(message) => return fatal(message),
            }
        }
    }

    /// One request of a call and its answer, with progress, cancellation and the idle timeout.
    async fn round(
        &self,
        connection: &Arc<Connection>,
        candidate: &Candidate,
        request: &CallRequest,
        control: &CallControl,
        (ids, exchange): (&mut Vec<Value>, &mut Exchange),
        params: &CallToolRequestParams,
    ) -> Round {
        let idle = request.timeout.unwrap_or(FOREVER);
        // Listening before sending, so a line logged at once is not missed.
        let mut logs = connection.listen_logs();
        let call = ClientRequest::CallToolRequest(CallToolRequest::new(params.clone()));
        let handle = match connection
            .peer()
            .send_cancellable_request(call, PeerRequestOptions::no_options())
            .await
        {
            Ok(handle) => handle,
            Err(error) => {
                // Nothing left the console: the client had stopped.
                self.evict(connection);
                let mut failure = from_service_error(&connection.url, &error);
                failure.retry_elsewhere = true;
                return Round::Ended {
                    result: Err(failure),
                    sent: false,
                };
            }
        };
        let id = handle.id.clone();
        ids.push(serde_json::to_value(&id).unwrap_or_default());
        let mut progress = connection.subscribe(handle.progress_token.clone());
        control.notify(CallEvent::Sent {
            task: ServedBy::from(candidate),
        });

        let response = handle.await_response();
        tokio::pin!(response);
        let deadline = tokio::time::sleep(idle);
        tokio::pin!(deadline);
        let record = |update: ProgressNotificationParam| {
            control.notify(CallEvent::Progress {
                task_id: candidate.task_id.clone(),
                progress: update.progress,
                total: update.total,
                message: update.message,
            });
        };
        let take = |exchange: &mut Exchange, heard: Heard| match heard {
            Heard::Log(log) => {
                control.notify(CallEvent::Log(log.clone()));
                exchange.logs.push(log);
            }
            Heard::Refused(note) => {
                control.notify(CallEvent::Refused(note.clone()));
                exchange.refused.push(note);
            }
        };
        let ended = |error| Round::Ended {
            result: Err(Failure::fatal(error)),
            sent: true,
        };
        let result = loop {
            tokio::select! {
                biased;
                _ = control.cancel.cancelled() => {
                    self.tell_cancelled(connection, id, "cancelled by the user").await;
                    return ended(McpError::Cancelled);
                }
                Some(update) = progress.receiver.recv() => {
                    record(update);
                    if let Some(idle) = request.timeout {
                        deadline.as_mut().reset(tokio::time::Instant::now() + idle);
                    }
                }
                Some(heard) = logs.receiver.recv() => {
                    // A server that logs is alive, as one that reports progress is.
                    take(exchange, heard);
                    if let Some(idle) = request.timeout {
                        deadline.as_mut().reset(tokio::time::Instant::now() + idle);
                    }
                }
                result = &mut response => break result,
                _ = &mut deadline, if request.timeout.is_some() => {
                    self.tell_cancelled(connection, id, "timed out").await;
                    return ended(McpError::TimedOut(idle));
                }
            }
        };
        // Progress sent before the result is already queued; report it.
        while let Ok(update) = progress.receiver.try_recv() {
            record(update);
        }
        // A session's log lines travel on another stream than the result, so the last ones
        // may land just after it: a server that logs gets a moment for its stragglers.
        if !exchange.logs.is_empty() {
            while let Ok(Some(heard)) =
                tokio::time::timeout(LOG_STRAGGLERS, logs.receiver.recv()).await
            {
                take(exchange, heard);
            }
        }
        Round::Answered {
            result: Box::new(result),
        }
    }

    /// Connects (replacing a client that broke since its last use, once) and returns it, once
    /// the arguments passed its tool list, with whether the tool is safe to repeat.
    async fn prepare(
        &self,
        candidate: &Candidate,
        request: &CallRequest,
    ) -> Result<(Arc<Connection>, bool), Failure> {
        let mut replaced = false;
        loop {
            let (connection, created) = self.connection(&candidate.endpoint).await?;
            if connection.peer().is_transport_closed() && !created && !replaced {
                self.evict(&connection);
                replaced = true;
                continue;
            }
            match connection.catalog().await {
                Ok(catalog) => {
                    catalog
                        .check(&request.tool, &request.arguments, request.check_schema)
                        .map_err(Failure::fatal)?;
                    return Ok((connection, catalog.repeatable(&request.tool)));
                }
                Err(failure) if failure.evict => {
                    self.evict(&connection);
                    if created || replaced {
                        // Listing tools is not the call: another task may take it.
                        return Err(Failure {
                            retry_elsewhere: true,
                            ..failure
                        });
                    }
                    replaced = true;
                }
                Err(failure) => return Err(failure),
            }
        }
    }

    /// Asks for log lines of `level` and above: in the request's `_meta` on 2026-07-28, with
    /// `logging/setLevel` first on an older session (which lasts for the session; there is no
    /// per-request level before 2026-07-28). A server without logging is not asked.
    // MCP logging is deprecated (SEP-2577) yet servers of both revisions still send it; the
    // deprecation is rmcp's note of that, not a reason to stop asking.
    #[allow(deprecated)]
    async fn ask_log_level(
        &self,
        connection: &Connection,
        params: &mut CallToolRequestParams,
        level: &str,
    ) {
        use rmcp::model::{LoggingLevel, SetLevelRequestParams};
        let Ok(level) = serde_json::from_value::<LoggingLevel>(Value::from(level)) else {
            return;
        };
        let server = connection.server();
        let Some(server) = server.as_deref() else {
            return;
        };
        if server.protocol_version >= ProtocolVersion::V_2026_07_28 {
            params.meta.get_or_insert_default().set_log_level(level);
        } else if server.capabilities.logging.is_some() {
            let set = connection
                .peer()
                .set_level(SetLevelRequestParams::new(level));
            if tokio::time::timeout(CANCEL_NOTICE_TIMEOUT, set)
                .await
                .is_err()
            {
                tracing::debug!(url = %connection.url, "logging/setLevel got no answer");
            }
        }
    }

    /// Sends notifications/cancelled, which also makes rmcp abandon the request's stream.
    async fn tell_cancelled(&self, connection: &Connection, id: RequestId, reason: &str) {
        let notice = CancelledNotificationParam::new(Some(id), Some(reason.to_string()));
        let sent = tokio::time::timeout(
            CANCEL_NOTICE_TIMEOUT,
            connection.peer().notify_cancelled(notice),
        )
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            tracing::debug!(url = %connection.url, "could not send notifications/cancelled");
        }
    }

    fn finish(
        &self,
        connection: &Arc<Connection>,
        result: Result<ServerResult, ServiceError>,
    ) -> Result<ToolResult, Failure> {
        let protocol = |message: &str| Failure::fatal(McpError::Protocol(message.to_string()));
        match result {
            Ok(ServerResult::CallToolResult(result)) => Ok(ToolResult::from(result)),
            // A result without content decodes as the empty result.
            Ok(ServerResult::EmptyResult(_)) => Ok(ToolResult::from(CallToolResult::default())),
            Ok(_) => Err(protocol("unexpected reply to tools/call")),
            Err(ServiceError::McpError(error)) => Err(from_service_error(
                &connection.url,
                &ServiceError::McpError(error),
            )),
            Err(error) => {
                let mut failure = from_service_error(&connection.url, &error);
                failure.error = connection.explain(failure.error);
                if failure.evict {
                    self.evict(connection);
                }
                Err(failure)
            }
        }
    }
}
