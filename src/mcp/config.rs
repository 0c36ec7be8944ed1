//! How the console's MCP clients connect: which protocol lifecycle they use, the bounds on
//! connecting and on the handshake, and the name they give.

// Roots are deprecated by SEP-2577 for 2026-07-28; 2025-11-25 servers still ask for them.
#![allow(deprecated)]

use std::time::Duration;

use crate::oauth::TokenStore;

/// Which MCP lifecycle the client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Era {
    /// `server/discover` for 2026-07-28, falling back to `initialize` (2025-11-25) for servers
    /// that do not know it. rmcp's automatic lifecycle.
    #[default]
    Auto,
    /// Always `initialize` with 2025-11-25 (sessions where the server keeps them).
    Initialize,
    /// Only 2026-07-28 `server/discover`; older servers are an error.
    Discover,
}

#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub era: Era,
    /// TCP connect bound: an endpoint that does not accept within it is unreachable.
    pub connect_timeout: Duration,
    /// Bound on the whole MCP handshake of a new client.
    pub handshake_timeout: Duration,
    pub client_name: String,
    pub client_version: String,
    /// Where OAuth sign-ins are kept; an endpoint with stored credentials gets its requests
    /// authorized (and its token refreshed) from there.
    pub tokens: Option<TokenStore>,
    /// Where a server's questions (elicitation, sampling) go; without it they are declined
    /// and the client does not offer to answer any.
    pub asks: Option<super::ask::AskSender>,
    /// The roots the client shares (`roots/list`); none by default, and with none the client
    /// does not declare the capability.
    pub roots: Vec<rmcp::model::Root>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            era: Era::Auto,
            connect_timeout: Duration::from_secs(3),
            handshake_timeout: Duration::from_secs(10),
            client_name: "mcpfleet".into(),
            client_version: env!("CARGO_PKG_VERSION").into(),
            tokens: TokenStore::open_default().ok(),
            asks: None,
            roots: Vec::new(),
        }
    }
}
