//! Probing an endpoint: who the server says it is, which protocol it speaks, its tools, the
//! whole surface fingerprinted for drift detection across replicas and revisions
//! ([`super::surface`]), and how fast it answers.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use rmcp::model::Tool;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::fleet::Endpoint;

use super::{McpError, Pool, error::Failure, surface::Surface};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolInfo {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub input_schema: Value,
    pub output_schema: Option<Value>,
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    /// The tool reaches beyond the server (the web, other systems).
    pub open_world: Option<bool>,
    /// The `ui://` resource of the tool's App UI (MCP Apps, SEP-1865: `_meta.ui.resourceUri`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui_resource: Option<String>,
}

impl From<&Tool> for ToolInfo {
    fn from(tool: &Tool) -> Self {
        let hints = tool.annotations.as_ref();
        Self {
            name: tool.name.to_string(),
            title: tool.title.clone(),
            description: tool.description.as_ref().map(ToString::to_string),
            input_schema: Value::Object((*tool.input_schema).clone()),
            output_schema: tool
                .output_schema
                .as_ref()
                .map(|schema| Value::Object((**schema).clone())),
            read_only: hints.and_then(|h| h.read_only_hint),
            destructive: hints.and_then(|h| h.destructive_hint),
            idempotent: hints.and_then(|h| h.idempotent_hint),
            open_world: hints.and_then(|h| h.open_world_hint),
            ui_resource: super::apps::ui_resource(tool),
        }
    }
}

impl ToolInfo {
    /// The annotations as short words: `ro`, `idem`, `DESTRUCTIVE` (following the MCP
    /// defaults: a tool that is not read-only may destroy unless it says otherwise),
    /// `open-world`, and `APP` for a tool with an App UI.
    pub fn hints(&self) -> Vec<&'static str> {
        let mut hints = Vec::new();
        if self.read_only == Some(true) {
            hints.push("ro");
        }
        if self.idempotent == Some(true) {
            hints.push("idem");
        }
        if self.read_only != Some(true) && self.destructive != Some(false) {
            hints.push("DESTRUCTIVE");
        }
        if self.open_world == Some(true) {
            hints.push("open-world");
        }
        if self.ui_resource.is_some() {
            hints.push("APP");
        }
        hints
    }

    /// Whether a call may go out as it is, needs a person's yes first, or is refused under
    /// `--read-only`: the one rule the console and `mcpfleet call` both follow. Only a tool
    /// that says `destructiveHint: true` (and is not `readOnlyHint: true`, which the hint
    /// gives way to) is held back: the spec's default for a tool without annotations is
    /// "may destroy", but holding back every unannotated tool would ask about, and refuse
    /// under `--read-only`, nearly every tool of most servers.
    pub fn clearance(&self, read_only: bool) -> Clearance {
        let destructive = self.read_only != Some(true) && self.destructive == Some(true);
        match (destructive, read_only) {
            (false, _) => Clearance::Send,
            (true, false) => Clearance::Confirm,
            (true, true) => Clearance::Refused(format!(
                "{} is annotated destructive (destructiveHint: true): refused under --read-only",
                self.name
            )),
        }
    }
}

/// What has to happen before a call of a tool goes out (`ToolInfo::clearance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clearance {
    Send,
    /// The tool declares itself destructive: the console asks first. A command line has
    /// already been typed out by the person, so `mcpfleet call` sends.
    Confirm,
    /// `--read-only` and a destructive tool: nothing is sent; the text says why.
    Refused(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub url: String,
    /// Round trip of `tools/list` on an established client.
    #[serde(serialize_with = "millis")]
    pub latency: Duration,
    /// Handshake time, when this probe had to open the client first.
    #[serde(serialize_with = "optional_millis")]
    pub handshake: Option<Duration>,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub protocol_version: String,
    /// Sorted by name.
    pub tools: Vec<ToolInfo>,
    /// Tools the server listed that the client will not call, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped_tools: Vec<super::validate::DroppedTool>,
    /// Everything the server presents, fingerprinted: what drift is judged on.
    #[serde(rename = "fingerprint", serialize_with = "fingerprint")]
    pub surface: Arc<Surface>,
    /// Counts, when the server offers resources / prompts at all.
    pub resources: Option<usize>,
    pub prompts: Option<usize>,
    /// Their names, in the server's order (empty when it offers none).
    pub resource_names: Vec<String>,
    pub prompt_names: Vec<String>,
    #[serde(with = "crate::fleet::time")]
    pub fetched_at: SystemTime,
}

fn millis<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64() * 1000.0)
}

fn fingerprint<S: Serializer>(surface: &Arc<Surface>, serializer: S) -> Result<S::Ok, S::Error> {
    surface.fingerprint.serialize(serializer)
}

fn optional_millis<S: Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => millis(duration, serializer),
        None => serializer.serialize_none(),
    }
}

impl Pool {
    /// Probes one endpoint, with its credentials. A client that broke since its last use is
    /// replaced once before the probe gives up.
    pub async fn probe(&self, endpoint: &Endpoint) -> Result<Probe, McpError> {
        match self.probe_once(endpoint).await {
            Err((failure, false)) if failure.evict => self
                .probe_once(endpoint)
                .await
                .map_err(|(failure, _)| failure.error),
            other => other.map_err(|(failure, _)| failure.error),
        }
    }

    /// The failure comes with whether the client was new (a new one is not worth replacing).
    async fn probe_once(&self, endpoint: &Endpoint) -> Result<Probe, (Failure, bool)> {
        let (connection, created) = self
            .connection(endpoint)
            .await
            .map_err(|failure| (failure, true))?;
        let server = connection.server();
        let capabilities = server.as_ref().map(|info| &info.capabilities);
        let peer = connection.peer();
        let wants_resources = capabilities.is_some_and(|c| c.resources.is_some());
        let wants_prompts = capabilities.is_some_and(|c| c.prompts.is_some());
        let lists = async {
            tokio::join!(
                connection.list_tools(),
                async {
                    if wants_resources {
                        peer.list_all_resources()
                            .await
                            .ok()
                            .map(|r| r.into_iter().map(|r| r.name).collect::<Vec<_>>())
                    } else {
                        None
                    }
                },
                async {
                    if wants_prompts {
                        peer.list_all_prompts()
                            .await
                            .ok()
                            .map(|p| p.into_iter().map(|p| p.name).collect::<Vec<_>>())
                    } else {
                        None
                    }
                },
            )
        };
        // Same bound as the handshake: a server that takes the connection and then says
        // nothing must not hold a probe forever.
        let bound = self.config().handshake_timeout;
        let Ok((tools, resources, prompts)) = tokio::time::timeout(bound, lists).await else {
            self.evict(&connection);
            let reason = format!(
                "no answer to tools/list within {}",
                humantime::format_duration(bound)
            );
            let error = McpError::Unreachable {
                url: endpoint.url.clone(),
                reason,
            };
            return Err((
                Failure {
                    evict: true,
                    ..Failure::fatal(error)
                },
                true,
            ));
        };
        let (catalog, latency) = match tools {
            Ok(listed) => listed,
            Err(failure) => {
                if failure.evict {
                    self.evict(&connection);
                }
                return Err((failure, created));
            }
        };
        let implementation = server.as_ref().and_then(|info| info.server_info.as_ref());
        let mut tools: Vec<ToolInfo> = catalog.tools().iter().map(ToolInfo::from).collect();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        let protocol_version = server
            .as_ref()
            .map(|i| i.protocol_version.to_string())
            .unwrap_or_default();
        let surface = Surface::new(
            serde_json::to_value(implementation).unwrap_or_default(),
            protocol_version.clone(),
            serde_json::to_value(capabilities).unwrap_or_default(),
            catalog
                .tools()
                .iter()
                .map(|tool| serde_json::to_value(tool).unwrap_or_default()),
        );
        Ok(Probe {
            url: endpoint.url.clone(),
            latency,
            handshake: created.then_some(connection.handshake),
            server_name: implementation.map(|i| i.name.clone()),
            server_version: implementation.map(|i| i.version.clone()),
            protocol_version,
            surface: Arc::new(surface),
            dropped_tools: catalog.dropped.clone(),
            tools,
            resources: resources.as_ref().map(Vec::len),
            prompts: prompts.as_ref().map(Vec::len),
            resource_names: resources.unwrap_or_default(),
            prompt_names: prompts.unwrap_or_default(),
            fetched_at: SystemTime::now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn tool(name: &'static str, schema: Value) -> Tool {
        let Value::Object(schema) = schema else {
            panic!("object")
        };
        Tool::new(name, "d", Arc::new(schema))
    }

    #[test]
    fn only_a_declared_destructive_tool_is_held_back() {
        let info = |read_only, destructive| ToolInfo {
            read_only,
            destructive,
            ..ToolInfo::from(&tool("wipe", json!({"type": "object"})))
        };
        assert_eq!(info(None, None).clearance(true), Clearance::Send);
        assert_eq!(
            info(Some(false), Some(false)).clearance(true),
            Clearance::Send
        );
        // readOnlyHint wins: destructiveHint means something only for tools that write.
        assert_eq!(
            info(Some(true), Some(true)).clearance(true),
            Clearance::Send
        );
        assert_eq!(info(None, Some(true)).clearance(false), Clearance::Confirm);
        let Clearance::Refused(why) = info(Some(false), Some(true)).clearance(true) else {
            panic!("--read-only refuses a destructive tool");
        };
        assert_eq!(
            why,
            "wipe is annotated destructive (destructiveHint: true): refused under --read-only"
        );
    }
}
