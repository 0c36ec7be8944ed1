//! `mcpfleet-server`: a production MCP server for Amazon ECS. Streamable HTTP at `/mcp` on
//! axum, `/healthz`, `/readyz`, `/metrics`, graceful drain on SIGTERM, Host/Origin validation,
//! optional bearer or JWT auth, fault injection, and an ops toolbox of tools.
//!
//! The console (`mcpfleet`) embeds this library to run its local fleet, so nothing here may
//! depend on the console.

#![forbid(unsafe_code)]

pub mod auth;
mod body;
pub mod config;
pub mod drain;
pub mod faults;
pub mod http;
pub mod identity;
mod log_writer;
pub mod logging;
pub mod metrics;
pub mod tools;

use std::sync::Arc;

pub use config::{Mode, Profile, ServerConfig};

/// Source revision baked in at build time (`MCPFLEET_BUILD_REVISION`), `unknown` otherwise.
pub const BUILD_REVISION: &str = match option_env!("MCPFLEET_BUILD_REVISION") {
    Some(revision) => revision,
    None => "unknown",
};

/// State shared by the HTTP layer and every tool handler of one replica.
pub struct Replica {
    pub config: ServerConfig,
    pub identity: identity::Identity,
    pub metrics: metrics::Metrics,
    pub faults: faults::FaultInjector,
    pub drain: drain::DrainState,
    /// Compiled tool input schemas, built on the first call (the tool set is fixed per profile).
    pub arguments: std::sync::OnceLock<tools::ArgumentValidator>,
    /// State a profile shares across the handler instances of this replica (rmcp creates one
    /// per session, and one per request for stateless clients).
    pub profile_state: std::sync::OnceLock<Arc<dyn std::any::Any + Send + Sync>>,
}

impl Replica {
    pub fn new(config: ServerConfig, identity: identity::Identity) -> Arc<Self> {
        let faults = faults::FaultInjector::new(config.faults.clone(), config.fault_seed);
        let metrics = metrics::Metrics::new(Some(&faults));
        Arc::new(Self {
            config,
            identity,
            metrics,
            faults,
            drain: drain::DrainState::default(),
            arguments: std::sync::OnceLock::new(),
            profile_state: std::sync::OnceLock::new(),
        })
    }
}

pub use drain::serve;
pub use http::{RunningServer, start};
