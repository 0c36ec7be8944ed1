//! The doctor's HTTP steps: one JSON-RPC `ping` POSTed to the MCP path with the endpoint's
//! configured headers and token, read for its status and headers only (a wrong path, a Host
//! the server does not allow, an auth challenge, a server that is not taking requests), and a
//! GET of `/healthz` on the same origin.

use std::time::{Duration, Instant};

use reqwest::{StatusCode, header};

use super::{Step, StepName, net::Target};
use crate::{
    fleet::Endpoint,
    mcp::{PoolConfig, error::one_line},
};

/// How long the server may take to answer a step's request.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Of a JSON answer, the most the doctor reads.
const BODY_LIMIT: usize = 4096;

pub(super) fn client(connect_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(ANSWER_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a plain HTTP client builds")
}

/// What came back, as far as the doctor reads it.
struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    /// The start of a JSON body, or a text one's first line.
    body: String,
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let streamed = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/event-stream"));
    // A stream may stay open: its status says enough.
    let body = match streamed {
        true => String::new(),
        false => match tokio::time::timeout(ANSWER_TIMEOUT, response.bytes()).await {
            Ok(Ok(bytes)) => {
                let cut = &bytes[..bytes.len().min(BODY_LIMIT)];
                String::from_utf8_lossy(cut).into_owned()
            }
            _ => String::new(),
        },
    };
    Answer {
        status,
        challenge,
        body,
    }
}

/// The JSON-RPC ping POSTed to the endpoint's URL.
pub(super) async fn mcp_path(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    config: &PoolConfig,
) -> Step {
    let started = Instant::now();
    let mut request = client
        .post(&endpoint.url)
        .header(header::ACCEPT, "application/json, text/event-stream")
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"jsonrpc":"2.0","id":"mcpfleet-doctor","method":"ping"}"#);
    let auth = &endpoint.auth;
    for (name, value) in &auth.headers {
        request = request.header(name, value);
    }
    if let Some(token) = &auth.bearer {
        request = request.bearer_auth(token.expose());
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            let detail = format!("no HTTP answer: {}", one_line(&error.to_string()));
            let hint = "the port takes connections but does not answer HTTP: check that it is \
                        the MCP server's port and the URL's scheme (http or https)";
            return Step::failed(StepName::Http, started, detail, hint);
        }
    };
    let answer = answer(response).await;
    let parsed = reqwest::Url::parse(&endpoint.url).ok();
    let path = parsed.as_ref().map_or("/", |url| url.path()).to_string();
    let host = parsed.as_ref().and_then(|url| url.host_str()).unwrap_or("");
    let status = answer.status;
    let said = status_line(&answer);
    let (detail, hint) = match status.as_u16() {
        401 | 403 if auth.sigv4.is_some() => {
            let detail = format!("{said} to an unsigned request; the handshake signs its requests");
            return Step::ok(StepName::Http, started, detail);
        }
        401 if !auth.is_configured() && signed_in(config, &endpoint.url) => {
            let detail = format!("{said}; the handshake sends the stored sign-in");
            return Step::ok(StepName::Http, started, detail);
        }
        401 => (
            match &answer.challenge {
                Some(challenge) => format!("auth challenge: {said}; WWW-Authenticate: {challenge}"),
                None => format!("auth challenge: {said}, without WWW-Authenticate"),
            },
            challenge_hint(auth.is_configured(), answer.challenge.as_deref()),
        ),
        403 if answer
            .challenge
            .as_deref()
            .is_some_and(|c| c.contains("insufficient_scope")) =>
        {
            (
                format!("token lacks scope: {said}"),
                "the token does not carry the scope the server wants: sign in again with it \
                 (`mcpfleet login --relogin`, `--scope`), or configure a token that has it"
                    .to_string(),
            )
        }
        403 => (
            format!("Host not allowed: {said}"),
            format!(
                "the server refuses the Host header `{host}` (or the Origin): add it to the \
                 server's allowed hosts (mcpfleet-server: --allowed-hosts or \
                 MCPFLEET_ALLOWED_HOSTS, e.g. the Service Connect DNS name); a proxy in front \
                 may be refusing it too"
            ),
        ),
        404 | 405 if !jsonrpc(&answer.body) => (
            format!("wrong path: nothing serves MCP at {path} ({said})"),
            "check the endpoint's path (the service's `mcpfleet:path` tag, default /mcp, or \
             the URL in the config) and that the Service Connect port name leads to the MCP \
             container rather than another one"
                .to_string(),
        ),
        502 | 504 => (
            format!("a proxy could not reach the server: {said}"),
            "check the target behind the load balancer or Service Connect proxy: its health, \
             port and security group"
                .to_string(),
        ),
        503 => (
            format!("not taking requests: {said}"),
            "the server is draining or starting, or a balancer has no healthy target: check \
             the task's /readyz and the deployment"
                .to_string(),
        ),
        500..=599 => (
            format!("server error: {said}"),
            "check the server's log lines around this moment".to_string(),
        ),
        _ => {
            // Any answer but those above means an MCP endpoint is there, even one that
            // wants a session or a header the ping lacks.
            let detail = format!("the MCP endpoint answers at {path}: {said}");
            return Step::ok(StepName::Http, started, detail);
        }
    };
    Step::failed(StepName::Http, started, detail, hint)
}

/// `/healthz` on the endpoint's origin: not serving one is no failure, a server that says it
/// is unwell is.
pub(super) async fn healthz(client: &reqwest::Client, target: &Target) -> Step {
    let started = Instant::now();
    let url = format!("{}/healthz", target.origin);
    match client.get(&url).send().await {
        Ok(response) => {
            let answer = answer(response).await;
            let said = status_line(&answer);
            match answer.status.as_u16() {
                200..=299 => Step::ok(StepName::Healthz, started, format!("GET /healthz: {said}")),
                404 | 405 => Step::skipped(StepName::Healthz, format!("not served ({said})")),
                _ => Step::failed(
                    StepName::Healthz,
                    started,
                    format!("GET /healthz: {said}"),
                    "the server says it is not healthy: check its log lines and the container's \
                     health check",
                ),
            }
        }
        Err(error) => Step::failed(
            StepName::Healthz,
            started,
            format!("GET /healthz: {}", one_line(&error.to_string())),
            "check that the server answers on this origin",
        ),
    }
}

/// "HTTP 403 Forbidden: <the body's first line>".
fn status_line(answer: &Answer) -> String {
    let reason = answer.status.canonical_reason().unwrap_or("");
    let body = answer.body.lines().next().unwrap_or("").trim();
    let mut line = format!("HTTP {} {reason}", answer.status.as_u16());
    if !body.is_empty() {
        let body: String = body.chars().take(120).collect();
        line.push_str(&format!(" ({body})"));
    }
    line
}

/// A JSON-RPC answer: the MCP endpoint is there, whatever the status says.
fn jsonrpc(body: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(body)
        .is_ok_and(|value| value.get("jsonrpc").is_some())
}

fn signed_in(config: &PoolConfig, url: &str) -> bool {
    config
        .tokens
        .as_ref()
        .and_then(|tokens| tokens.load(url).ok().flatten())
        .is_some_and(|entry| entry.credentials.is_some())
}

/// What to do about a 401, by whether credentials were configured and what the challenge
/// offers.
pub(super) fn challenge_hint(configured: bool, challenge: Option<&str>) -> String {
    let challenge = challenge.unwrap_or("");
    let oauth = challenge.contains("resource_metadata");
    match (configured, oauth) {
        (true, _) => "the configured token or headers were refused: check the token (its \
                      value, the environment variable `bearer_env` names, its expiry)"
            .into(),
        (false, true) => "no token was sent: configure one (`bearer_env` or `headers` of the \
                          server's entry in the config file), or sign in with `mcpfleet login` \
                          if the server's metadata names an OAuth authorization server"
            .into(),
        (false, false) => "no token was sent: configure one (`bearer_env` or `headers` of the \
                           server's entry in the config file)"
            .into(),
    }
}
