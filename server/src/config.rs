//! Server configuration: every setting is a flag and an `MCPFLEET_*` environment variable, so the
//! same binary is configured by hand locally and by the task definition in ECS.

use std::{net::SocketAddr, time::Duration};

use clap::{Args, ValueEnum};

use crate::faults::FaultPlan;
use crate::tools::network::ProbeAllowList;

/// Default request body limit: large enough for any sane tool call, small enough that a
/// misbehaving client cannot make a replica buffer megabytes per request.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Every request stands alone; any replica can serve any request. Use behind ECS Service
    /// Connect (round-robin) or any load balancer without sticky sessions.
    Stateless,
    /// 2025-11-25 sessions (`Mcp-Session-Id`), server-to-client streams and resumption. Use when
    /// clients reach one replica directly (local fleet, sticky routing).
    Session,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// The ops toolbox: echo, whoami, sleep, fail and the allow-listed network probes.
    Ops,
    /// The tools, resources and prompts the official MCP conformance suite exercises.
    Conformance,
}

#[derive(Debug, Clone, Args)]
pub struct ServerConfig {
    /// Address to listen on. The container image uses 0.0.0.0:8080.
    #[arg(long, env = "MCPFLEET_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Host header values accepted on /mcp (DNS-rebinding protection), comma separated; a name
    /// alone allows any port. In ECS add the Service Connect DNS name; the task's own IPs are
    /// added automatically from the task metadata. `*` disables the check.
    #[arg(
        long,
        env = "MCPFLEET_ALLOWED_HOSTS",
        value_delimiter = ',',
        default_value = "localhost,127.0.0.1,::1"
    )]
    pub allowed_hosts: Vec<String>,

    /// Origin header values accepted on /mcp, comma separated (e.g. https://app.example.com:443,
    /// http://localhost:*). Requests without an Origin header are allowed; the default admits
    /// browser pages served from loopback only; an empty value refuses every Origin.
    #[arg(
        long,
        env = "MCPFLEET_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = "http://localhost:*,http://127.0.0.1:*,http://[::1]:*"
    )]
    pub allowed_origins: Vec<String>,

    /// Stateless (any replica serves any request) or session mode (2025-11-25 sessions).
    /// 2026-07-28 clients are always served without a session.
    #[arg(long, env = "MCPFLEET_MODE", value_enum, default_value_t = Mode::Session)]
    pub mode: Mode,

    /// Seconds to let in-flight calls finish after SIGTERM before exiting; keep it below the
    /// ECS container stopTimeout.
    #[arg(
        long = "drain-deadline-secs",
        env = "MCPFLEET_DRAIN_DEADLINE_SECS",
        default_value_t = 25
    )]
    pub drain_deadline_secs: u64,

    /// How often an open SSE stream gets a keep-alive comment when no message goes out
    /// (`15s`, `500ms`; `0s` sends none). Keep it below the idle timeout of the load balancer
    /// or Service Connect proxy in front (Service Connect's HTTP default is 5 minutes), which
    /// cuts a stream silent for longer.
    #[arg(
        long,
        env = "MCPFLEET_SSE_KEEP_ALIVE",
        default_value = "15s",
        value_parser = humantime::parse_duration
    )]
    pub sse_keep_alive: Duration,

    /// Largest accepted request body in bytes; larger bodies get 413.
    #[arg(long, env = "MCPFLEET_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Static bearer token required on /mcp. Prefer the environment variable (from an ECS
    /// secret) over the flag, which is visible in the process list.
    #[arg(long, env = "MCPFLEET_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,

    /// JWKS URL: require a bearer JWT signed by one of these keys on /mcp.
    #[arg(long, env = "MCPFLEET_JWKS_URL")]
    pub jwks_url: Option<String>,

    /// Required `iss` of bearer JWTs (with --jwks-url).
    #[arg(long, env = "MCPFLEET_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// Required `aud` of bearer JWTs (with --jwks-url).
    #[arg(long, env = "MCPFLEET_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// Public URL of this resource, advertised in /.well-known/oauth-protected-resource.
    /// Defaults to http://<Host header>/mcp.
    #[arg(long, env = "MCPFLEET_RESOURCE_URL")]
    pub resource_url: Option<String>,

    /// Authorization servers advertised in the protected-resource metadata, comma separated.
    #[arg(long, env = "MCPFLEET_AUTHORIZATION_SERVERS", value_delimiter = ',')]
    pub authorization_servers: Vec<String>,

    /// Fault injection per tool, off by default. `;`-separated rules of
    /// `TOOL:error=RATE,latency=MIN..MAXms`, TOOL `*` for every tool, e.g.
    /// `echo:error=0.05;*:latency=10..50ms`.
    #[arg(long, env = "MCPFLEET_FAULTS", default_value = "")]
    pub faults: FaultPlan,

    /// Seed for fault injection, so a flaky run can be replayed exactly.
    #[arg(long, env = "MCPFLEET_FAULT_SEED", default_value_t = 0)]
    pub fault_seed: u64,

    /// Targets the network probe tools may reach, comma separated `HOST:PORT` patterns where
    /// `*` matches any run of characters (e.g. `*.internal:443,10.0.*:5432`). Empty refuses all.
    #[arg(long, env = "MCPFLEET_PROBE_ALLOW", default_value = "")]
    pub probe_allow: ProbeAllowList,

    /// Tools of the ops profile not to serve, comma separated: a replica whose tool set
    /// differs from its siblings', to practise finding drift. Empty (the default) serves all.
    #[arg(long, env = "MCPFLEET_HIDE_TOOLS", value_delimiter = ',')]
    pub hide_tools: Vec<String>,

    /// Bound echo's `message` to this many characters (`maxLength` in its input schema,
    /// checked on every call); unset (the default), no bound.
    #[arg(long, env = "MCPFLEET_ECHO_MAX_LENGTH")]
    pub echo_max_length: Option<u32>,

    /// Tool set to serve.
    #[arg(long, env = "MCPFLEET_PROFILE", value_enum, default_value_t = Profile::Ops)]
    pub profile: Profile,

    /// Replica name used when no ECS task metadata is available (the local fleet sets it).
    #[arg(long, env = "MCPFLEET_REPLICA")]
    pub replica: Option<String>,
}

impl ServerConfig {
    pub fn drain_deadline(&self) -> Duration {
        Duration::from_secs(self.drain_deadline_secs)
    }

    /// A configuration for tests and embedding: loopback, ephemeral port, defaults otherwise.
    pub fn loopback() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            config: ServerConfig,
        }
        let mut config = Wrapper::parse_from(["mcpfleet-server"]).config;
        config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
        config
    }
}
