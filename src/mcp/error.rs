//! What can go wrong when the console talks to an MCP endpoint, in one-line messages a person
//! can act on, and the classification of rmcp's errors that decides whether a failed call may
//! be retried on another task (only when the server certainly did not run it).

use std::time::Duration;

use crate::inert::inert_line;
use rmcp::{
    ServiceError,
    service::ClientInitializeError,
    transport::{DynamicTransportError, streamable_http_client::StreamableHttpError},
};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum McpError {
    /// No connection or no usable answer at the transport level.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The endpoint answered at the HTTP level but would not take the request (draining,
    /// rate limited, not authorised).
    #[error("{url} refused the request: {reason}")]
    Refused { url: String, reason: String },
    /// The server wants an OAuth sign-in (HTTP 401), or more scope than the token carries
    /// (HTTP 403 `insufficient_scope`). `challenge` is its `WWW-Authenticate` header, where
    /// the sign-in starts from.
    #[error("{url} {}", if *.insufficient_scope {
        "needs more scope than the token has (HTTP 403 insufficient_scope)"
    } else {
        "asks for a sign-in (HTTP 401)"
    })]
    AuthRequired {
        url: String,
        challenge: Option<String>,
        insufficient_scope: bool,
    },
    /// A JSON-RPC error or a message the client could not use.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The server needs the person to open a page before it goes on (-32042,
    /// URLElicitationRequiredError): its message and the pages, control characters escaped.
    #[error("{message} Open {} in a browser, then call again (code -32042)", pages.join(" and "))]
    UrlRequired { message: String, pages: Vec<String> },
    /// Arguments that do not match the tool's inputSchema, one entry per problem.
    #[error("invalid arguments: {}", .0.join("; "))]
    InvalidArguments(Vec<String>),
    #[error("no tool `{tool}` here; available: {}", list_or_none(available))]
    UnknownTool {
        tool: String,
        available: Vec<String>,
    },
    #[error("no prompt `{prompt}` here; available: {}", list_or_none(available))]
    UnknownPrompt {
        prompt: String,
        available: Vec<String>,
    },
    /// The server does not declare the skills extension (SEP-2640).
    #[error("{server} does not serve skills (no io.modelcontextprotocol/skills extension)")]
    NoSkills { server: String },
    #[error("no skill `{skill}` here; available: {}", list_or_none(available))]
    UnknownSkill {
        skill: String,
        available: Vec<String>,
    },
    /// The tool names no App UI (MCP Apps: no `_meta.ui.resourceUri`).
    #[error("tool {tool} has no App UI (no _meta.ui.resourceUri)")]
    NoAppUi { tool: String },
    #[error("service {service} has no ready task to take the call")]
    NoReadyTask { service: String },
    #[error("no service named {0}")]
    UnknownService(String),
    /// A call meant for one replica, where every task is reached through one URL.
    #[error(
        "cannot target replicas of {service} through {url}: every task is reached through it \
         (a URL override), and whichever replica the balancer picks answers"
    )]
    SharedUrl { service: String, url: String },
    #[error("service {service} has no task {task} with an endpoint")]
    UnknownTask { service: String, task: String },
    #[error("timed out: no result or progress for {}", humantime::format_duration(*.0))]
    TimedOut(Duration),
    #[error("cancelled")]
    Cancelled,
    /// An error as an incident file recorded it, in its words then.
    #[error("{0}")]
    Recorded(String),
    /// A task (SEP-2663) that stayed the same for the call's idle timeout; it was cancelled.
    #[error(
        "task {task_id} was still {status} after {} without news; cancelled it (a longer \
         --timeout lets slow tasks run)",
        humantime::format_duration(*.idle)
    )]
    TaskStalled {
        task_id: String,
        status: String,
        idle: Duration,
    },
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// A failed exchange with one endpoint, with what the pool should do about it.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub error: McpError,
    /// The server certainly did not run the call (refused connection, 503 while draining,
    /// unknown session): trying another task is safe.
    pub retry_elsewhere: bool,
    /// The client for this endpoint is broken or the endpoint is going away: drop it.
    pub evict: bool,
    /// The request was sent but the connection ended before any response: the server may or
    /// may not have run it (e.g. a keep-alive connection closed by a replica that just
    /// finished draining). Only a tool declared read-only or idempotent may be sent again.
    pub unanswered: bool,
}

impl Failure {
    fn new(error: McpError, retry_elsewhere: bool, evict: bool) -> Self {
        Self {
            error,
            retry_elsewhere,
            evict,
            unanswered: false,
        }
    }

    pub fn fatal(error: McpError) -> Self {
        Self::new(error, false, false)
    }
}

/// Messages from lower layers may span lines; the console shows errors on one.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The URL elicitations of a -32042 error's data, as `UrlRequired`.
fn url_required(data: &rmcp::ErrorData) -> McpError {
    let pages = data
        .data
        .as_ref()
        .and_then(|data| data.get("elicitations")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|elicitation| {
            elicitation
                .get("url")?
                .as_str()
                .map(|url| inert_line(url).into_owned())
        })
        .collect();
    // Some SDKs put their own "MCP error -32042: " before the message.
    let message = one_line(&data.message);
    let message = message
        .strip_prefix(&format!("MCP error {URL_ELICITATION_REQUIRED}: "))
        .unwrap_or(&message);
    McpError::UrlRequired {
        message: inert_line(message).into_owned(),
        pages,
    }
}

/// The error code of URLElicitationRequiredError (MCP 2025-11-25).
const URL_ELICITATION_REQUIRED: i32 = -32042;

/// A failed request after the client was up.
pub(crate) fn from_service_error(url: &str, error: &ServiceError) -> Failure {
    match error {
        ServiceError::McpError(data) if data.code.0 == URL_ELICITATION_REQUIRED => {
            Failure::fatal(url_required(data))
        }
        ServiceError::McpError(data) => Failure::fatal(McpError::Protocol(one_line(&format!(
            "{} (code {})",
            data.message, data.code.0
        )))),
        ServiceError::TransportSend(error) => from_transport(url, error),
        ServiceError::TransportClosed => Failure::new(
            McpError::Unreachable {
                url: url.to_string(),
                reason: "connection closed".into(),
            },
            false,
            true,
        ),
        ServiceError::Timeout { timeout } => Failure::fatal(McpError::TimedOut(*timeout)),
        ServiceError::Cancelled { .. } => Failure::fatal(McpError::Cancelled),
        other => Failure::fatal(McpError::Protocol(one_line(&other.to_string()))),
    }
}

/// A failed handshake. Nothing was called yet, but only failures that are about this one
/// task (down, draining) make another task worth trying.
pub(crate) fn from_init_error(url: &str, error: &ClientInitializeError) -> Failure {
    let mut failure = match error {
        ClientInitializeError::TransportError { error, .. } => from_transport(url, error),
        ClientInitializeError::LegacyFallbackFailed { fallback, .. } => {
            return from_init_error(url, fallback);
        }
        ClientInitializeError::ConnectionClosed(_) => Failure::new(
            McpError::Unreachable {
                url: url.to_string(),
                reason: "connection closed during the MCP handshake".into(),
            },
            true,
            true,
        ),
        ClientInitializeError::JsonRpcError(data) => Failure::fatal(McpError::Protocol(one_line(
            &format!("handshake refused: {} (code {})", data.message, data.code.0),
        ))),
        other => Failure::fatal(McpError::Protocol(one_line(&format!(
            "handshake failed: {other}"
        )))),
    };
    failure.evict = true;
    failure
}

fn from_transport(url: &str, error: &DynamicTransportError) -> Failure {
    let unreachable = |reason: String| McpError::Unreachable {
        url: url.to_string(),
        reason,
    };
    let refused = |reason: String| McpError::Refused {
        url: url.to_string(),
        reason,
    };
    let Some(error) = error
        .error
        .downcast_ref::<StreamableHttpError<reqwest::Error>>()
    else {
        return Failure::new(unreachable(one_line(&error.error.to_string())), false, true);
    };
    match error {
        StreamableHttpError::Client(error) if error.is_connect() => {
            Failure::new(unreachable(connect_reason(error)), true, true)
        }
        StreamableHttpError::Client(error) if error.is_timeout() => Failure::new(
            unreachable("timed out waiting for the server".into()),
            false,
            true,
        ),
        // reqwest's "request" errors end before a response arrived; later failures (body,
        // decode) come after the server answered.
        StreamableHttpError::Client(error) if error.is_request() => Failure {
            unanswered: true,
            ..Failure::new(unreachable(deepest(error)), false, true)
        },
        StreamableHttpError::Client(error) => {
            Failure::new(unreachable(deepest(error)), false, true)
        }
        StreamableHttpError::Io(error) => {
            Failure::new(unreachable(one_line(&error.to_string())), false, true)
        }
        StreamableHttpError::HttpStatus(status) => {
            let after = status
                .retry_after
                .as_deref()
                .map(|after| format!(", retry after {after}s"))
                .unwrap_or_default();
            match status.status {
                // The replica refused before running anything: draining, or shedding load.
                503 => Failure::new(refused(format!("HTTP 503, draining{after}")), true, true),
                429 => Failure::new(
                    refused(format!("HTTP 429, too many requests{after}")),
                    true,
                    false,
                ),
                code => Failure::new(refused(format!("HTTP {code}")), false, false),
            }
        }
        // The client is dropped so the next one starts from the credentials a sign-in
        // stores meanwhile.
        StreamableHttpError::AuthRequired(required) => Failure::new(
            McpError::AuthRequired {
                url: url.to_string(),
                challenge: Some(required.www_authenticate_header.clone()).filter(|c| !c.is_empty()),
                insufficient_scope: false,
            },
            false,
            true,
        ),
        StreamableHttpError::InsufficientScope(insufficient) => Failure::new(
            McpError::AuthRequired {
                url: url.to_string(),
                challenge: Some(insufficient.www_authenticate_header.clone()),
                insufficient_scope: true,
            },
            false,
            true,
        ),
        StreamableHttpError::Auth(error) => Failure::new(
            refused(format!("OAuth: {}", one_line(&error.to_string()))),
            false,
            true,
        ),
        // A 404 for a stale Mcp-Session-Id: the server ran nothing. rmcp re-initialised once
        // already; if it still fails, report it and start over with a fresh client.
        StreamableHttpError::SessionExpired | StreamableHttpError::ReinitializationFailed(_) => {
            Failure::new(
                McpError::Protocol(one_line(&format!(
                    "session at {url} expired and re-initialising failed: {error}"
                ))),
                true,
                true,
            )
        }
        StreamableHttpError::ResponseBodyTooLarge { max_size } => {
            Failure::fatal(McpError::Protocol(too_large(*max_size)))
        }
        StreamableHttpError::ReservedHeaderConflict(name) => {
            Failure::fatal(McpError::Protocol(format!(
                "header {name} is set by the MCP client itself; drop it from the service's headers"
            )))
        }
        other => Failure::new(
            McpError::Protocol(one_line(&other.to_string())),
            false,
            true,
        ),
    }
}

/// The client reads at most this much of one answer, whatever the server sends.
pub(crate) fn too_large(max_size: usize) -> String {
    format!(
        "the server's answer is larger than {} MiB; the client stopped reading there",
        max_size >> 20
    )
}

/// "connection refused" rather than reqwest's "error sending request for url (…)".
fn connect_reason(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "connect timed out".into();
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                std::io::ErrorKind::TimedOut => "connect timed out".into(),
                _ => one_line(&io.to_string()),
            };
        }
        source = current.source();
    }
    deepest(error)
}

/// The innermost cause names the real problem; the outer layers repeat the URL.
pub(crate) fn deepest(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    one_line(&current.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_to_open_first_is_named_inert() {
        let data = rmcp::ErrorData::new(
            rmcp::model::ErrorCode(URL_ELICITATION_REQUIRED),
            "MCP error -32042: Sign the form.",
            Some(serde_json::json!({"elicitations": [
                {"mode": "url", "url": "https://example.com/\u{1b}[2Jform", "elicitationId": "1"}]})),
        );
        let failure = from_service_error("u", &ServiceError::McpError(data));
        assert_eq!(
            failure.error.to_string(),
            "Sign the form. Open https://example.com/\\u{1b}[2Jform in a browser, then call \
             again (code -32042)"
        );
    }

    #[test]
    fn messages_are_one_line_and_name_what_to_fix() {
        let errors = [
            McpError::Unreachable {
                url: "http://127.0.0.1:9/mcp".into(),
                reason: "connection refused".into(),
            },
            McpError::InvalidArguments(vec![
                "/message: 42 is not of type \"string\"".into(),
                "\"duration_ms\" is a required property".into(),
            ]),
            McpError::UnknownTool {
                tool: "ech".into(),
                available: vec!["echo".into(), "sleep".into()],
            },
            McpError::TimedOut(Duration::from_millis(500)),
        ];
        let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts[0],
            "cannot reach http://127.0.0.1:9/mcp: connection refused"
        );
        assert_eq!(
            texts[1],
            "invalid arguments: /message: 42 is not of type \"string\"; \
             \"duration_ms\" is a required property"
        );
        assert_eq!(texts[2], "no tool `ech` here; available: echo, sleep");
        assert_eq!(texts[3], "timed out: no result or progress for 500ms");
        assert!(texts.iter().all(|text| !text.contains('\n')));
    }

    #[test]
    fn one_line_collapses_whitespace() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }
}
