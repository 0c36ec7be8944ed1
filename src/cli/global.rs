//! The options every command takes: the configuration, the source and its AWS settings, the
//! OAuth client's, the protocol era, and what a command's MCP worker is built from.

use std::path::PathBuf;

use clap::Args;

use crate::config::SourceChoice;

#[derive(Args, Clone, Default)]
pub struct GlobalArgs {
    /// Configuration file (default: ~/.config/mcpfleet/config.toml when it exists).
    #[arg(long, global = true, env = "MCPFLEET_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where the fleet comes from (default: the config file's `source`, else local).
    #[arg(long, global = true, value_enum)]
    pub source: Option<SourceChoice>,
    /// Talk to this one MCP server URL instead of a fleet.
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// Which MCP lifecycle to speak: `auto` (2026-07-28 discovery, falling back to the
    /// 2025-11-25 initialize handshake), `legacy` (initialize only) or `modern` (discovery only).
    #[arg(long, global = true, value_enum, env = "MCPFLEET_PROTOCOL_ERA")]
    pub protocol_era: Option<ProtocolEra>,
    /// Hide every action that changes the fleet (scale, deploy, rollback, stop), and refuse
    /// calls of tools annotated destructive (`destructiveHint: true`), in the console and `call`.
    #[arg(long, global = true)]
    pub read_only: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub oauth: OAuthArgs,
}

/// How the console signs in to servers that ask for OAuth.
#[derive(Args, Clone, Default)]
pub struct OAuthArgs {
    /// Sign in when a server asks, even without a terminal or with --json (the browser opens
    /// through $BROWSER or the platform's opener).
    #[arg(long, global = true, help_heading = "OAuth")]
    pub login: bool,
    /// Use stored sign-ins only: never start one, even on a terminal (exit 7 when a server
    /// asks).
    #[arg(long, global = true, conflicts_with = "login", help_heading = "OAuth")]
    pub stored_auth_only: bool,
    /// A client ID registered with the authorization server beforehand.
    #[arg(long, global = true, help_heading = "OAuth")]
    pub client_id: Option<String>,
    /// Get tokens with the client credentials grant (machine use: --client-id and
    /// --client-secret-env, no browser).
    #[arg(long, global = true, help_heading = "OAuth")]
    pub client_credentials: bool,
    /// Environment variable holding that client's secret.
    #[arg(long, global = true, value_name = "VAR", help_heading = "OAuth")]
    pub client_secret_env: Option<String>,
    /// HTTPS URL of a client ID metadata document to use as the client ID where the
    /// authorization server accepts one.
    #[arg(long, global = true, value_name = "URL", help_heading = "OAuth")]
    pub client_metadata_url: Option<String>,
    /// Loopback port for the sign-in redirect (default: any free port).
    #[arg(long, global = true, value_name = "PORT", help_heading = "OAuth")]
    pub callback_port: Option<u16>,
    /// A scope to ask for beyond what the server says it needs; repeat for several.
    #[arg(long, global = true, help_heading = "OAuth")]
    pub scope: Vec<String>,
    /// Seconds to wait for the browser to come back (default 300).
    #[arg(long, global = true, value_name = "SECS", help_heading = "OAuth")]
    pub login_timeout: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtocolEra {
    Auto,
    Legacy,
    Modern,
}

impl GlobalArgs {
    /// The MCP lifecycle the flags choose.
    pub fn era(&self) -> crate::mcp::Era {
        match self.protocol_era {
            None | Some(ProtocolEra::Auto) => crate::mcp::Era::Auto,
            Some(ProtocolEra::Legacy) => crate::mcp::Era::Initialize,
            Some(ProtocolEra::Modern) => crate::mcp::Era::Discover,
        }
    }

    /// The MCP worker of a one-shot command: the chosen era, the roots of the config file,
    /// and `asks` answering a server's questions. Every command declares the same
    /// capabilities; one that has nobody to ask declines what it is asked.
    pub fn worker_config(
        &self,
        config: &crate::config::Config,
        asks: crate::mcp::AskSender,
    ) -> crate::mcp::WorkerConfig {
        let mut worker = crate::mcp::WorkerConfig::one_shot();
        worker.pool.era = self.era();
        worker.pool.roots = config.roots.declared();
        worker.pool.asks = Some(asks);
        worker
    }
}

/// Where the AWS source looks; each overrides the config file's `[aws]` section.
#[derive(Args, Clone, Default)]
pub struct AwsArgs {
    /// AWS profile (default: AWS_PROFILE, else the default chain). Given before the
    /// subcommand: `serve` has a `--profile` of its own.
    #[arg(long, help_heading = "AWS")]
    pub profile: Option<String>,
    /// AWS region (default: AWS_REGION, else the profile's).
    #[arg(long, global = true, help_heading = "AWS")]
    pub region: Option<String>,
    /// AWS API endpoint (default: AWS_ENDPOINT_URL, else AWS's own).
    #[arg(long, global = true, help_heading = "AWS")]
    pub endpoint_url: Option<String>,
    /// ECS cluster to watch; repeat for several (default: every cluster in the region).
    #[arg(long = "cluster", global = true, help_heading = "AWS")]
    pub clusters: Vec<String>,
    /// Show every ECS service, not only those that serve MCP.
    #[arg(long, global = true, help_heading = "AWS")]
    pub all: bool,
}
