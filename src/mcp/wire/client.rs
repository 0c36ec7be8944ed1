//! The HTTP client under every connection's rmcp transport: the Streamable HTTP exchanges
//! (POST a message, GET the standalone stream, DELETE the session) over reqwest, with each
//! request and response recorded in the connection's [`WireLog`] as the bytes crossed the
//! wire. rmcp's own reqwest client parses bodies before anyone can see them, so this one does
//! the round trip itself and answers rmcp in the same terms: the same error for the same
//! response (a challenge, a rate limit, an expired session, a rejected `server/discover`).

use std::{
    borrow::Cow,
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use futures_util::{StreamExt, stream::BoxStream};
use reqwest::{
    Method, StatusCode,
    header::{self, HeaderMap, HeaderName, HeaderValue},
};
use rmcp::{
    ErrorData,
    model::{ClientJsonRpcMessage, ClientRequest, ServerJsonRpcMessage},
    transport::streamable_http_client::{
        AuthRequiredError, HttpStatusError, InsufficientScopeError, SseError, StreamableHttpClient,
        StreamableHttpError, StreamableHttpPostResponse, StreamableHttpResponseLimits,
    },
};
use sse_stream::{Sse, SseStream};

use super::{
    WireLog, redact,
    sse_body::Bounded,
    streams::{StreamBook, StreamKind},
};

type Headers = HashMap<HeaderName, HeaderValue>;
type Error = StreamableHttpError<reqwest::Error>;

const EVENT_STREAM: &str = "text/event-stream";
const JSON: &str = "application/json";
const SESSION_ID: &str = "mcp-session-id";
const LAST_EVENT_ID: &str = "last-event-id";
/// Headers the transport sets itself; a service's configured headers may not replace them.
const RESERVED: &[&str] = &["accept", SESSION_ID, LAST_EVENT_ID];

#[derive(Clone)]
pub(crate) struct WireClient {
    pub http: reqwest::Client,
    pub log: Arc<WireLog>,
    pub streams: Arc<StreamBook>,
}

/// `Content-Type`'s media type is `expected` (case-insensitive, parameters ignored).
fn media_type_is(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(expected))
}

/// The `scope` parameter of a `WWW-Authenticate` challenge.
fn challenged_scope(challenge: &str) -> Option<String> {
    let at = challenge.to_ascii_lowercase().find("scope=")? + "scope=".len();
    let rest = &challenge[at..];
    let scope = match rest.strip_prefix('"') {
        Some(quoted) => &quoted[..quoted.find('"')?],
        None => rest
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .next()?,
    };
    (!scope.is_empty()).then(|| scope.to_string())
}

/// The `traceparent` of a `tools/call` (`mcp::trace`), which goes out as a header too, so
/// whatever sits in front of the server (a load balancer, a proxy's access log) sees the
/// trace without reading the body.
fn traceparent_of(message: &ClientJsonRpcMessage) -> Option<&str> {
    let ClientJsonRpcMessage::Request(request) = message else {
        return None;
    };
    let ClientRequest::CallToolRequest(call) = &request.request else {
        return None;
    };
    call.params.meta.as_ref()?.get_traceparent()
}

fn unexpected(text: impl Into<Cow<'static, str>>) -> Error {
    StreamableHttpError::UnexpectedServerResponse(text.into())
}

impl WireClient {
    /// Builds the request's headers, records the request and sends it.
    async fn send(
        &self,
        method: Method,
        uri: &str,
        mut headers: HeaderMap,
        auth_token: Option<String>,
        custom_headers: Headers,
        body: Option<Vec<u8>>,
    ) -> Result<(u64, reqwest::Response), Error> {
        if let Some(token) = auth_token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| unexpected("the access token is not a valid header value"))?;
            value.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, value);
        }
        let mut custom: Vec<_> = custom_headers.into_iter().collect();
        custom.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        for (name, value) in custom {
            if RESERVED.contains(&name.as_str()) {
                return Err(StreamableHttpError::ReservedHeaderConflict(
                    name.to_string(),
                ));
            }
            headers.insert(name, value);
        }
        let seq = self
            .log
            .begin(method.as_str(), uri, redact::all(&headers), body.as_deref());
        let mut request = self.http.request(method, uri).headers(headers);
        if let Some(body) = body {
            request = request.body(body);
        }
        match request.send().await {
            Ok(response) => {
                self.log.responded(
                    seq,
                    response.status().as_u16(),
                    redact::all(response.headers()),
                );
                Ok((seq, response))
            }
            Err(error) => {
                self.log.failed(seq, super::super::error::deepest(&error));
                Err(StreamableHttpError::Client(error))
            }
        }
    }

    /// Reads at most `limit` bytes of the body, recording what was read; `Err` past it.
    async fn read_body(
        &self,
        seq: u64,
        response: reqwest::Response,
        limit: usize,
        truncate: bool,
    ) -> Result<Vec<u8>, Error> {
        if !truncate && response.content_length().is_some_and(|n| n > limit as u64) {
            self.log
                .failed(seq, format!("body longer than {limit} bytes"));
            return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: limit });
        }
        let mut body = Vec::new();
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => {
                    self.log.body(seq, &body);
                    self.log.failed(seq, super::super::error::deepest(&error));
                    return Err(StreamableHttpError::Client(error));
                }
            };
            let room = limit - body.len();
            if chunk.len() > room {
                if truncate {
                    body.extend_from_slice(&chunk[..room]);
                    break;
                }
                self.log.body(seq, &body);
                self.log
                    .failed(seq, format!("body longer than {limit} bytes"));
                return Err(StreamableHttpError::ResponseBodyTooLarge { max_size: limit });
            }
            body.extend_from_slice(&chunk);
        }
        self.log.body(seq, &body);
        Ok(body)
    }

    /// The events of an SSE response, each recorded as it arrives, none larger than
    /// `max_event` bytes; its bytes and its end told to the connection's stream book.
    fn events(
        &self,
        seq: u64,
        response: reqwest::Response,
        max_event: usize,
        kind: StreamKind,
    ) -> BoxStream<'static, Result<Sse, SseError>> {
        let pending = Arc::new(AtomicUsize::new(0));
        let bytes = Bounded::new(
            response.bytes_stream().boxed(),
            pending.clone(),
            max_event,
            self.streams.clone(),
            kind,
        );
        let log = self.log.clone();
        SseStream::from_bytes_stream(bytes)
            .inspect(move |event| {
                // Bytes since the last event count toward the next one.
                pending.store(0, Ordering::Relaxed);
                match event {
                    Ok(event) => log.event(seq, event),
                    Err(sse_stream::Error::Body(error)) => log.failed(seq, error.to_string()),
                    Err(error) => log.failed(seq, error.to_string()),
                }
            })
            .boxed()
    }

    /// A challenge (401) or a want of scope (403) as rmcp's errors, which start a sign-in.
    fn challenge(response: &reqwest::Response) -> Option<Error> {
        let status = response.status();
        if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
            return None;
        }
        let value = response.headers().get(header::WWW_AUTHENTICATE)?;
        let Ok(challenge) = value.to_str() else {
            return Some(unexpected("invalid www-authenticate header value"));
        };
        let challenge = challenge.to_string();
        Some(if status == StatusCode::UNAUTHORIZED {
            StreamableHttpError::AuthRequired(AuthRequiredError::new(challenge))
        } else {
            let scope = challenged_scope(&challenge);
            StreamableHttpError::InsufficientScope(InsufficientScopeError::new(challenge, scope))
        })
    }

    /// 429 and 5xx with what `Retry-After` said.
    fn status_error(response: &reqwest::Response) -> Option<HttpStatusError> {
        let status = response.status();
        if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
            return None;
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Some(HttpStatusError::new(status.as_u16(), retry_after))
    }

    /// The answer to a POST that failed at the HTTP level, whose body may still hold the
    /// server's JSON-RPC error.
    async fn failed_post(
        &self,
        seq: u64,
        response: reqwest::Response,
        message: &ClientJsonRpcMessage,
        session_attached: bool,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let status = response.status();
        let status_error = Self::status_error(&response);
        let is_json = media_type_is(response.headers(), JSON);
        let unchallenged_auth = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
        let body = if is_json && !unchallenged_auth {
            match self
                .read_body(seq, response, limits.max_json_response_size, false)
                .await
            {
                Ok(body) => body,
                Err(error @ StreamableHttpError::ResponseBodyTooLarge { .. }) => {
                    return Err(status_error.map(Into::into).unwrap_or(error));
                }
                Err(StreamableHttpError::Client(_)) => Vec::new(),
                Err(error) => return Err(error),
            }
        } else {
            self.read_body(seq, response, limits.max_error_response_size, true)
                .await
                .unwrap_or_default()
        };
        let text = String::from_utf8_lossy(&body);
        let rpc_error = match serde_json::from_slice::<ServerJsonRpcMessage>(&body) {
            Ok(error @ ServerJsonRpcMessage::Error(_)) if is_json && !unchallenged_auth => {
                Some(error)
            }
            _ => None,
        };
        if let Some(answer) = rejected_discovery(message, session_attached, status, &body) {
            return Ok(answer);
        }
        if let Some(error) = rpc_error {
            return Ok(StreamableHttpPostResponse::Json(error, None));
        }
        if let Some(error) = status_error {
            return Err(error.into());
        }
        let shown: String = text.chars().take(limits.max_error_response_size).collect();
        Err(unexpected(format!("HTTP {status}: {shown}")))
    }
}

/// A `server/discover` that a server without the 2026-07-28 lifecycle rejected (a 4xx other
/// than a challenge) becomes a JSON-RPC error with the request's id, which rmcp's lifecycle
/// reads as "fall back to initialize" (or, for a modern server's own error, as what it says).
fn rejected_discovery(
    message: &ClientJsonRpcMessage,
    session_attached: bool,
    status: StatusCode,
    body: &[u8],
) -> Option<StreamableHttpPostResponse> {
    let ClientJsonRpcMessage::Request(request) = message else {
        return None;
    };
    if session_attached
        || !status.is_client_error()
        || matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        || !matches!(request.request, ClientRequest::DiscoverRequest(_))
    {
        return None;
    }
    let error = match serde_json::from_slice::<ServerJsonRpcMessage>(body) {
        Ok(ServerJsonRpcMessage::Error(error)) => error.error,
        _ => ErrorData::invalid_request(
            format!(
                "server/discover rejected with HTTP {status}: {}",
                String::from_utf8_lossy(body)
            ),
            None,
        ),
    };
    Some(StreamableHttpPostResponse::Json(
        ServerJsonRpcMessage::error(error, Some(request.id.clone())),
        None,
    ))
}

fn session_id(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(SESSION_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl StreamableHttpClient for WireClient {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_token: Option<String>,
        custom_headers: Headers,
    ) -> Result<StreamableHttpPostResponse, Error> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_token,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session: Option<Arc<str>>,
        auth_token: Option<String>,
        custom_headers: Headers,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let body = serde_json::to_vec(&message).map_err(StreamableHttpError::Deserialize)?;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream, application/json"),
        );
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
        if let Some(value) = traceparent_of(&message).and_then(|t| HeaderValue::from_str(t).ok()) {
            headers.insert(super::super::trace::TRACEPARENT, value);
        }
        let session_attached = session.is_some();
        if let Some(session) = &session {
            let value = HeaderValue::from_str(session)
                .map_err(|_| unexpected("the session id is not a valid header value"))?;
            headers.insert(SESSION_ID, value);
        }
        let (seq, response) = self
            .send(
                Method::POST,
                &uri,
                headers,
                auth_token,
                custom_headers,
                Some(body),
            )
            .await?;
        if let Some(error) = Self::challenge(&response) {
            return Err(error);
        }
        let status = response.status();
        if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && session_attached {
            return Err(StreamableHttpError::SessionExpired);
        }
        let is_json = media_type_is(response.headers(), JSON);
        // A rate limit, or a failure without a JSON-RPC body, is its status alone.
        if let Some(error) = Self::status_error(&response)
            && (!is_json || status == StatusCode::TOO_MANY_REQUESTS)
        {
            return Err(error.into());
        }
        // Only a request waits for an answer; anything else is done once the server took it.
        let awaits_nothing = !matches!(message, ClientJsonRpcMessage::Request(_));
        if status.is_success() && response.content_length() == Some(0) && awaits_nothing {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if !status.is_success() {
            return self
                .failed_post(seq, response, &message, session_attached, limits)
                .await;
        }
        let session = session_id(&response);
        if media_type_is(response.headers(), EVENT_STREAM) {
            let events = self.events(seq, response, limits.max_sse_event_size, StreamKind::Post);
            return Ok(StreamableHttpPostResponse::Sse(events, session));
        }
        if is_json {
            let body = self
                .read_body(seq, response, limits.max_json_response_size, false)
                .await?;
            return match serde_json::from_slice::<ServerJsonRpcMessage>(&body) {
                Ok(parsed) => Ok(StreamableHttpPostResponse::Json(parsed, session)),
                Err(_) if awaits_nothing => Ok(StreamableHttpPostResponse::Accepted),
                Err(error) => {
                    let start: String = String::from_utf8_lossy(&body).chars().take(256).collect();
                    Err(unexpected(format!(
                        "the response is not a JSON-RPC message ({error}): {start}"
                    )))
                }
            };
        }
        if awaits_nothing {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        Err(StreamableHttpError::UnexpectedContentType(content_type))
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session: Arc<str>,
        auth_token: Option<String>,
        custom_headers: Headers,
    ) -> Result<(), Error> {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(&session)
            .map_err(|_| unexpected("the session id is not a valid header value"))?;
        headers.insert(SESSION_ID, value);
        let (_, response) = self
            .send(
                Method::DELETE,
                &uri,
                headers,
                auth_token,
                custom_headers,
                None,
            )
            .await?;
        // A server that keeps sessions until they expire may refuse to delete one.
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Ok(());
        }
        response
            .error_for_status()
            .map(drop)
            .map_err(StreamableHttpError::Client)
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_token: Option<String>,
        custom_headers: Headers,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, Error> {
        self.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_token,
            custom_headers,
            StreamableHttpResponseLimits::default().max_sse_event_size,
        )
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_token: Option<String>,
        custom_headers: Headers,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, Error> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream, application/json"),
        );
        let invalid = |what| move |_| unexpected(format!("the {what} is not a valid header value"));
        if let Some(session) = &session {
            headers.insert(
                SESSION_ID,
                HeaderValue::from_str(session).map_err(invalid("session id"))?,
            );
        }
        if let Some(last) = &last_event_id {
            headers.insert(
                LAST_EVENT_ID,
                HeaderValue::from_str(last).map_err(invalid("event id"))?,
            );
        }
        let (seq, response) = self
            .send(Method::GET, &uri, headers, auth_token, custom_headers, None)
            .await?;
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        if let Some(error) = Self::challenge(&response) {
            return Err(error);
        }
        if let Some(error) = Self::status_error(&response) {
            return Err(error.into());
        }
        let response = response
            .error_for_status()
            .map_err(StreamableHttpError::Client)?;
        if !media_type_is(response.headers(), EVENT_STREAM)
            && !media_type_is(response.headers(), JSON)
        {
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            return Err(StreamableHttpError::UnexpectedContentType(content_type));
        }
        let resumed = last_event_id.is_some();
        Ok(self.events(
            seq,
            response,
            max_sse_event_size,
            StreamKind::Get { resumed },
        ))
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
