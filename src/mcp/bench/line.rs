//! One endpoint as the load generator reaches it: its HTTP client, the headers every request
//! carries (credentials marked sensitive), one request and its answer, and how an answer is
//! read (the message of a request id, in JSON or in an SSE stream). The handshake that opens
//! a conversation on it is the session's (`session.rs`).

use std::time::Duration;

use reqwest::{
    StatusCode,
    header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue},
};
use serde_json::Value;

use crate::fleet::EndpointAuth;

use super::direct::Lost;

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

    /// A handshake request and its result.
    pub(super) async fn exchange(
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

    pub(super) async fn post(
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

#[derive(serde::Deserialize)]
struct Id {
    #[serde(default)]
    id: Option<u64>,
}

pub(super) fn is_sse(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"))
}

/// The JSON-RPC message answering `id`: the JSON body, or the SSE event carrying it.
pub(super) fn message_with_id<'a>(
    headers: &HeaderMap,
    body: &'a [u8],
    id: u64,
) -> Option<&'a serde_json::value::RawValue> {
    let sse = is_sse(headers);
    let answers = |raw: &serde_json::value::RawValue| {
        serde_json::from_str::<Id>(raw.get()).is_ok_and(|found| found.id == Some(id))
    };
    if !sse {
        let raw: &serde_json::value::RawValue = serde_json::from_slice(body).ok()?;
        return answers(raw).then_some(raw);
    }
    let text = std::str::from_utf8(body).ok()?;
    text.split('\n')
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| data.trim_start_matches(' ').trim_end_matches('\r'))
        .filter_map(|data| serde_json::from_str::<&serde_json::value::RawValue>(data).ok())
        .find(|raw| answers(raw))
}

/// A transport error in a few words, without the URL's credentials.
pub(super) fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    if error.is_timeout() {
        return format!("timed out: {error}");
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
