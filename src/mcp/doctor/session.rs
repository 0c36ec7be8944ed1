//! The doctor's MCP steps, through the client every call uses (so the endpoint's headers and
//! token, SigV4 and stored sign-ins apply exactly as in a call): the handshake in the
//! configured era, then tools/list. The connection is the doctor's own, dropped at the end,
//! so a pooled client never hides a handshake that would fail now.

use std::time::Instant;

use super::{Step, StepName};
use crate::{
    fleet::Endpoint,
    mcp::{Era, McpError, PoolConfig, connection::connect},
};

/// The handshake step, and tools/list when it succeeded.
pub(super) async fn steps(endpoint: &Endpoint, config: &PoolConfig) -> Vec<Step> {
    let started = Instant::now();
    let http = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .build()
        .expect("a plain HTTP client builds");
    let connection = match connect(http, config, &endpoint.url, &endpoint.auth).await {
        Ok(connection) => connection,
        Err(failure) => {
            let (detail, hint) = explain(&failure.error, endpoint, config.era);
            return vec![Step::failed(StepName::Handshake, started, detail, hint)];
        }
    };
    let server = connection.server();
    let version = server
        .as_ref()
        .map(|info| info.protocol_version.to_string())
        .unwrap_or_default();
    // 2026-07-28 servers are met with server/discover; older ones with initialize.
    let method = match version.as_str() >= "2026-07-28" {
        true => "server/discover",
        false => "initialize",
    };
    let implementation = server.as_ref().and_then(|info| info.server_info.as_ref());
    let name = implementation.map_or_else(
        || "an unnamed server".to_string(),
        |i| format!("{} {}", i.name, i.version),
    );
    let handshake = Step::ok(
        StepName::Handshake,
        started,
        format!("{method}: {name}, protocol {version}"),
    );
    let started = Instant::now();
    let tools = match connection.list_tools().await {
        Ok((catalog, _)) => {
            let dropped = match catalog.dropped.len() {
                0 => String::new(),
                n => format!(" ({n} dropped as invalid: see `mcpfleet tools`)"),
            };
            let count = catalog.tools().len();
            Step::ok(StepName::Tools, started, format!("{count} tools{dropped}"))
        }
        Err(failure) => Step::failed(
            StepName::Tools,
            started,
            format!("tools/list failed: {}", connection.explain(failure.error)),
            "the handshake worked but listing tools did not: check the server's log lines",
        ),
    };
    vec![handshake, tools]
}

/// A failed handshake: what happened, and what to check.
fn explain(error: &McpError, endpoint: &Endpoint, era: Era) -> (String, String) {
    let configured = endpoint.auth.is_configured();
    let hint = match error {
        McpError::AuthRequired {
            challenge,
            insufficient_scope: false,
            ..
        } => super::http::challenge_hint(configured, challenge.as_deref()),
        McpError::AuthRequired { .. } => {
            "the token lacks the scope the server wants: sign in again (`mcpfleet login \
             --relogin`)"
                .into()
        }
        McpError::Protocol(_) if era == Era::Discover => {
            "the server may not speak 2026-07-28 (server/discover): try --protocol-era auto".into()
        }
        McpError::Protocol(_) if era == Era::Initialize => {
            "the server may speak only 2026-07-28: try --protocol-era auto".into()
        }
        McpError::Refused { .. } => {
            "the server answered but refused the handshake: check its log lines and the \
             endpoint's credentials"
                .into()
        }
        _ => "HTTP works but the MCP handshake does not: check that this URL serves MCP \
              (Streamable HTTP) and the server's log lines"
            .into(),
    };
    (format!("handshake failed: {error}"), hint)
}
