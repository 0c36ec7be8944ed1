//! One endpoint as the load generator reaches it: its HTTP client, the headers every request
//! carries (credentials marked sensitive), and the handshake that opens a conversation —
//! `initialize`, else `server/discover` — before the measured window.

use std::time::Duration;

use reqwest::{
    StatusCode,
    header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue},
};
use serde_json::{Value, json};

use crate::fleet::EndpointAuth;

use super::direct::Lost;
use super::session::{
    CLIENT, Flavor, LEGACY, MODERN, Session, describe, message_with_id, modern_meta,
};

/// One endpoint's HTTP client, headers and request body parts, shared by its workers.
#[derive(Clone)]
pub struct Line {
    pub(super) http: reqwest::Client,
    pub url: String,
    pub(super) parsed: reqwest::Url,
    pub(super) timeout: Duration,
    pub(super) auth: EndpointAuth,
    /// Accept, content type and the endpoint's own headers (credentials marked sensitive).
    pub(super) headers: HeaderMap,
}

impl Line {
    pub fn new(url: &str, auth: &EndpointAuth, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .tcp_nodelay(true)
            .build()
            .map_err(|error| format!("HTTP client: {error}"))?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        for (name, value) in &auth.headers {
            let bad = || format!("header {name:?} is not a valid HTTP header");
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
            let mut value = HeaderValue::from_str(value).map_err(|_| bad())?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        if let Some(token) = &auth.bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| "the bearer token is not a valid header value".to_string())?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let parsed = reqwest::Url::parse(url).map_err(|error| format!("{url}: {error}"))?;
        Ok(Self {
            http,
            url: url.to_string(),
            parsed,
            timeout,
            auth: auth.clone(),
            headers,
        })
    }

    /// Learns how `url` wants to be spoken to: `initialize`, else `server/discover`. With
    /// `stateless`, a server that keeps sessions must speak 2026-07-28, which has none.
    pub async fn handshake(&self, stateless: bool) -> Result<Session, String> {
        match self.initialize().await {
            Ok(session) if !stateless || session.session_id.is_none() => Ok(session),
            Ok(session) => {
                session.close().await;
                self.discover().await.map_err(|error| {
                    format!(
                        "{} keeps sessions (it issued Mcp-Session-Id) and does not speak \
                         {MODERN} ({error}): run without --stateless",
                        self.url
                    )
                })
            }
            // Refused credentials, a wrong host: discovery would be refused the same way.
            Err(Refusal::Final(error)) => Err(error),
            Err(Refusal::TryDiscover(first)) => self
                .discover()
                .await
                .map_err(|error| format!("initialize: {first}; server/discover: {error}")),
        }
    }

    async fn initialize(&self) -> Result<Session, Refusal> {
        let body = json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": LEGACY,
                "capabilities": {},
                "clientInfo": {"name": CLIENT, "version": env!("CARGO_PKG_VERSION")}
            }
        });
        let (headers, result) = self
            .exchange(body.to_string(), &HeaderMap::new(), 0)
            .await
            .map_err(Refusal::classify)?;
        let version = result
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or(LEGACY)
            .to_string();
        let mut session = Session::new(self.clone(), Flavor::Legacy { version });
        session.session_id = headers.get("mcp-session-id").cloned();
        let note = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let sent = self
            .post(note.to_string(), &session.request_headers(None))
            .await
            .map_err(|error| Refusal::Final(error.1))?;
        if !sent.status().is_success() {
            return Err(Refusal::Final(format!(
                "notifications/initialized: HTTP {}",
                sent.status()
            )));
        }
        Ok(session)
    }

    async fn discover(&self) -> Result<Session, String> {
        let body = json!({
            "jsonrpc": "2.0", "id": 0, "method": "server/discover",
            "params": {"_meta": modern_meta()}
        });
        let mut headers = HeaderMap::new();
        headers.insert("mcp-protocol-version", HeaderValue::from_static(MODERN));
        headers.insert("mcp-method", HeaderValue::from_static("server/discover"));
        self.exchange(body.to_string(), &headers, 0)
            .await
            .map_err(|(_, error)| error)?;
        Ok(Session::new(self.clone(), Flavor::Modern))
    }

    /// A handshake request and its result.
    async fn exchange(
        &self,
        body: String,
        extra: &HeaderMap,
        id: u64,
    ) -> Result<(HeaderMap, Value), (Option<StatusCode>, String)> {
        let response = self.post(body, extra).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| (Some(status), format!("reading the answer: {error}")))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            let text = crate::inert::inert_line(text.trim());
            return Err((Some(status), format!("HTTP {status}: {text:.200}")));
        }
        let message = message_with_id(&headers, &bytes, id)
            .ok_or_else(|| (Some(status), "no answer with the request's id".to_string()))?;
        let message: Value = serde_json::from_str(message.get())
            .map_err(|error| (Some(status), format!("malformed answer: {error}")))?;
        if let Some(error) = message.get("error") {
            return Err((Some(status), format!("JSON-RPC error {error}")));
        }
        let result = message
            .get("result")
            .cloned()
            .ok_or_else(|| (Some(status), "an answer without a result".to_string()))?;
        Ok((headers, result))
    }

    async fn post(
        &self,
        body: String,
        extra: &HeaderMap,
    ) -> Result<reqwest::Response, (Option<StatusCode>, String)> {
        let mut headers = self.headers.clone();
        headers.extend(extra.clone());
        if let Some(target) = &self.auth.sigv4 {
            let signed = crate::sigv4::sign_request(target, "POST", &self.url, body.as_bytes())
                .await
                .map_err(|error| (None, error.to_string()))?;
            for (name, value) in signed {
                if let (Ok(name), Ok(mut value)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    value.set_sensitive(true);
                    headers.insert(name, value);
                }
            }
        }
        self.http
            .post(&self.url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|error| (None, describe(error)))
    }
}

impl Line {
    /// A measured call's POST: the URL parsed once, the headers built once.
    pub(super) async fn send_call(
        &self,
        body: String,
        headers: &HeaderMap,
    ) -> Result<reqwest::Response, Lost> {
        if self.auth.sigv4.is_some() {
            // Signed per request: the signature covers the body.
            return self.post(body, headers).await.map_err(|(_, why)| Lost {
                timed_out: why.starts_with("timed out"),
                unsent: false,
                why,
            });
        }
        let mut request = reqwest::Request::new(reqwest::Method::POST, self.parsed.clone());
        *request.headers_mut() = headers.clone();
        *request.body_mut() = Some(body.into());
        self.http.execute(request).await.map_err(|error| Lost {
            timed_out: error.is_timeout(),
            unsent: error.is_connect(),
            why: describe(error),
        })
    }
}

/// Why a handshake failed: for good, or in a way a 2026-07-28-only server would answer
/// `initialize` (a 4xx other than auth and host refusals, a JSON-RPC error).
enum Refusal {
    Final(String),
    TryDiscover(String),
}

impl Refusal {
    fn classify((status, error): (Option<StatusCode>, String)) -> Self {
        match status {
            Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) | None => Refusal::Final(error),
            Some(status) if status.is_server_error() => Refusal::Final(error),
            Some(_) => Refusal::TryDiscover(error),
        }
    }
}
