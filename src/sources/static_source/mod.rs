//! The static source: a fixed list of MCP URLs (from the config file or imported client
//! configs), one task each. Health is an MCP `initialize` answered with 2xx, checked on an
//! interval; there is nothing to scale or deploy.

pub mod import;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::fleet::{
    CommandError, Endpoint, FleetSnapshot, Health, Service, Source, SourceHandle, SourceKind, Task,
    TaskStatus, log_channel,
};

const PROBE_INTERVAL: Duration = Duration::from_secs(5);
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticServer {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Environment variable holding a bearer token; the token itself never goes in a file.
    pub bearer_env: Option<String>,
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

fn service_for(server: &StaticServer, health: Health) -> Service {
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
            ..Task::serving(
                server.name.clone(),
                Endpoint {
                    url: server.url.clone(),
                    address: address_of(&server.url),
                },
            )
        }],
        events: Vec::new(),
        mcp_path: path,
        notes: Vec::new(),
        traffic: None,
        policy: None,
    }
}

async fn probe(client: &reqwest::Client, server: &StaticServer) -> Health {
    let mut request = client
        .post(&server.url)
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "mcpfleet-health", "version": env!("CARGO_PKG_VERSION")}}}),
        );
    for (name, value) in &server.headers {
        request = request.header(name, value);
    }
    if let Some(token) = server
        .bearer_env
        .as_ref()
        .and_then(|var| std::env::var(var).ok())
    {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => Health::Healthy,
        _ => Health::Unhealthy,
    }
}

impl Source for StaticSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Static
    }

    fn start(self: Box<Self>) -> SourceHandle {
        let mut snapshot = FleetSnapshot::empty(SourceKind::Static, self.context.clone());
        let initial = if self.assume_healthy {
            Health::Healthy
        } else {
            Health::Unknown
        };
        snapshot.services = self
            .servers
            .iter()
            .map(|s| service_for(s, initial))
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
                        let mut services = Vec::new();
                        for server in &self.servers {
                            services.push(service_for(server, probe(&client, server).await));
                        }
                        let mut snapshot = FleetSnapshot::empty(SourceKind::Static, self.context.clone());
                        snapshot.services = services;
                        let _ = snapshots_tx.send(Arc::new(snapshot));
                    }
                }
            }
        });
        SourceHandle::new(snapshots, logs, commands, shutdown)
    }
}
