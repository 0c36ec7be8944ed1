//! The static source: a fixed list of MCP URLs (from the config file or imported client
//! configs), one task each, whose endpoints carry the configured headers and bearer token.
//! Health is an MCP `initialize` answered with 2xx (the session it opens is ended at once),
//! checked on an interval; there is nothing to scale or deploy.

pub mod import;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::fleet::{
    CommandError, Endpoint, EndpointAuth, FleetSnapshot, Health, Service, SigV4, Source,
    SourceHandle, SourceKind, Task, TaskStatus, log_channel,
};

const PROBE_INTERVAL: Duration = Duration::from_secs(5);
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticServer {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Environment variable holding a bearer token; the token itself never goes in a file.
    pub bearer_env: Option<String>,
    /// `sigv4`: sign every request with the aws-config credential chain.
    pub auth: Option<StaticAuth>,
    /// SigV4 signing name and region; by default what the endpoint's host says.
    pub signing_name: Option<String>,
    pub signing_region: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaticAuth {
    Sigv4,
}

pub struct StaticSource {
    servers: Vec<StaticServer>,
    context: String,
    /// Treat every server as healthy without probing: for one-shot calls to a URL, where the
    /// call itself is the probe and its error is the answer.
    assume_healthy: bool,
}

impl StaticSource {
    pub fn new(servers: Vec<StaticServer>, context: impl Into<String>) -> Self {
        Self {
            servers,
            context: context.into(),
            assume_healthy: false,
        }
    }

    pub fn direct(server: StaticServer) -> Self {
        let context = server.url.clone();
        Self {
            servers: vec![server],
            context,
            assume_healthy: true,
        }
    }
}

fn address_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .unwrap_or_else(|| url.to_string())
}

impl StaticServer {
    /// Where this server's SigV4 signatures are scoped, when it wants them; an error names
    /// what is missing.
    pub fn sigv4(&self) -> Result<Option<SigV4>, String> {
        if self.auth != Some(StaticAuth::Sigv4) {
            return Ok(None);
        }
        let host = reqwest::Url::parse(&self.url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_string))
            .unwrap_or_default();
        let implied = crate::sigv4::target_from_host(&host);
        let service = self
            .signing_name
            .clone()
            .or(implied.clone().map(|t| t.service));
        let region = self.signing_region.clone().or(implied.map(|t| t.region));
        match (service, region) {
            (Some(service), Some(region)) => Ok(Some(SigV4 { service, region })),
            _ => Err(format!(
                "server {}: auth = \"sigv4\" needs signing_name and signing_region \
                 (the host {host} does not tell them)",
                self.name
            )),
        }
    }

    /// The configured headers and the token from `bearer_env`, read now.
    pub fn auth(&self) -> EndpointAuth {
        let mut auth = EndpointAuth::default();
        for (name, value) in &self.headers {
            auth = auth.with_header(name.clone(), value.clone());
        }
        auth.bearer = self
            .bearer_env
            .as_ref()
            .and_then(|var| std::env::var(var).ok())
            .map(Into::into);
        // Checked when the config is loaded; a server that cannot be signed for is refused there.
        auth.sigv4 = self.sigv4().ok().flatten();
        auth
    }
}

/// What the last health check found.
#[derive(Debug, Clone, PartialEq)]
struct Checked {
    health: Health,
    note: Option<String>,
}

fn service_for(server: &StaticServer, checked: &Checked) -> Service {
    let health = checked.health;
    let path = reqwest::Url::parse(&server.url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let running = u32::from(health == Health::Healthy);
    Service {
        name: server.name.clone(),
        desired: 1,
        running,
        pending: 1 - running,
        deployments: Vec::new(),
        tasks: vec![Task {
            last_status: if health == Health::Healthy {
                TaskStatus::Running
            } else {
                TaskStatus::Pending
            },
            health,
            notes: checked.note.iter().cloned().collect(),
            ..Task::serving(
                server.name.clone(),
                Endpoint::new(server.url.clone(), address_of(&server.url)).with_auth(server.auth()),
            )
        }],
        events: Vec::new(),
        mcp_path: path,
        notes: Vec::new(),
        traffic: None,
        policy: None,
        crash_loop: None,
        latest_revision: None,
    }
}

/// `request` with the server's headers and bearer token, or signed with SigV4 over `body`.
async fn with_auth(
    mut request: reqwest::RequestBuilder,
    auth: &EndpointAuth,
    method: &str,
    url: &str,
    body: &[u8],
) -> Result<reqwest::RequestBuilder, String> {
    for (name, value) in &auth.headers {
        request = request.header(name, value);
    }
    if let Some(token) = &auth.bearer {
        request = request.bearer_auth(token.expose());
    }
    if let Some(target) = &auth.sigv4 {
        let headers = crate::sigv4::sign_request(target, method, url, body)
            .await
            .map_err(|error| error.to_string())?;
        for (name, value) in headers {
            request = request.header(name, value);
        }
    }
    Ok(request)
}

/// An `initialize` with the server's credentials. A server that refuses them is up (its
/// calls will say why they fail); the session a 2xx opens is ended with DELETE, as the
/// Streamable HTTP transport asks of a client done with it, so checks leave none behind.
async fn check(client: &reqwest::Client, server: &StaticServer) -> Checked {
    let auth = server.auth();
    let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "mcpfleet-health", "version": env!("CARGO_PKG_VERSION")}}});
    let body = serde_json::to_vec(&initialize).expect("JSON values serialise");
    let request = client
        .post(&server.url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.clone());
    let request = match with_auth(request, &auth, "POST", &server.url, &body).await {
        Ok(request) => request,
        Err(reason) => {
            return Checked {
                health: Health::Unhealthy,
                note: Some(reason),
            };
        }
    };
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            let reason = if error.is_timeout() {
                "no answer within 3 s".to_string()
            } else {
                "unreachable".to_string()
            };
            return Checked {
                health: Health::Unhealthy,
                note: Some(reason),
            };
        }
    };
    let status = response.status();
    if status.is_success() {
        if let Some(session) = response.headers().get("mcp-session-id").cloned() {
            drop(response);
            let delete = client.delete(&server.url).header("mcp-session-id", session);
            if let Ok(delete) = with_auth(delete, &auth, "DELETE", &server.url, &[]).await {
                let _ = delete.send().await;
            }
        }
        return Checked {
            health: Health::Healthy,
            note: None,
        };
    }
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        let hint = match (&server.bearer_env, &auth.bearer) {
            (Some(var), None) => format!("; {var} is not set"),
            (Some(var), Some(_)) => format!("; check the token in {var}"),
            (None, _) => "; set bearer_env or headers for this server".to_string(),
        };
        return Checked {
            health: Health::Healthy,
            note: Some(format!(
                "HTTP {}: the server refused the credentials{hint}",
                status.as_u16()
            )),
        };
    }
    Checked {
        health: Health::Unhealthy,
        note: Some(format!("HTTP {} to initialize", status.as_u16())),
    }
}

impl Source for StaticSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Static
    }

    fn start(self: Box<Self>) -> SourceHandle {
        let mut snapshot = FleetSnapshot::empty(SourceKind::Static, self.context.clone());
        let initial = Checked {
            health: if self.assume_healthy {
                Health::Healthy
            } else {
                Health::Unknown
            },
            note: None,
        };
        snapshot.services = self
            .servers
            .iter()
            .map(|s| service_for(s, &initial))
            .collect();
        let (snapshots_tx, snapshots) = watch::channel(Arc::new(snapshot));
        let (_logs_tx, logs) = log_channel(16);
        let (commands, mut command_rx) = mpsc::channel(8);
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(PROBE_TIMEOUT)
                .connect_timeout(PROBE_TIMEOUT)
                .build()
                .expect("static client configuration is valid");
            let mut tick = tokio::time::interval(PROBE_INTERVAL);
            let mut last: Option<Vec<Checked>> = None;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    Some(request) = command_rx.recv() => {
                        let request: crate::fleet::CommandRequest = request;
                        let _ = request.reply.send(Err(CommandError::Refused(
                            "static servers cannot be scaled, deployed or stopped".into(),
                        )));
                    }
                    _ = tick.tick(), if !self.assume_healthy => {
                        let checks = self.servers.iter().map(|server| check(&client, server));
                        let checked = futures_util::future::join_all(checks).await;
                        // Republished only when a check's answer changed, so an unchanged
                        // fleet costs its readers nothing.
                        if last.as_ref() == Some(&checked) {
                            continue;
                        }
                        let mut snapshot = FleetSnapshot::empty(SourceKind::Static, self.context.clone());
                        snapshot.services = self
                            .servers
                            .iter()
                            .zip(&checked)
                            .map(|(server, checked)| service_for(server, checked))
                            .collect();
                        last = Some(checked);
                        let _ = snapshots_tx.send(Arc::new(snapshot));
                    }
                }
            }
        });
        SourceHandle::new(snapshots, logs, commands, shutdown)
    }
}
