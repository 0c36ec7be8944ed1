//! Network probes from inside the VPC: `dns_resolve`, `tcp_check`, `http_check`. They are SSRF
//! hazards, so each refuses any target that is not on the configured allow-list, and
//! `http_check` never follows redirects (a redirect could leave the allow-list).

use std::{
    fmt,
    str::FromStr,
    time::{Duration, Instant},
};

use rmcp::{
    Json,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    tool, tool_router,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ops::OpsServer;

const DEFAULT_TIMEOUT_MS: u64 = 3_000;
const MAX_TIMEOUT_MS: u64 = 30_000;

/// `HOST:PORT` patterns; `*` matches any run of characters. Host matching ignores case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProbeAllowList {
    patterns: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "probe allow-list entry `{0}` must be HOST:PORT (use * as a wildcard, e.g. *.internal:443)"
)]
pub struct ProbeAllowListError(String);

impl FromStr for ProbeAllowList {
    type Err = ProbeAllowListError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut patterns = Vec::new();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (host, port) = entry
                .rsplit_once(':')
                .ok_or_else(|| ProbeAllowListError(entry.to_string()))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() || port.is_empty() {
                return Err(ProbeAllowListError(entry.to_string()));
            }
            patterns.push((host.to_ascii_lowercase(), port.to_string()));
        }
        Ok(Self { patterns })
    }
}

impl fmt::Display for ProbeAllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self
            .patterns
            .iter()
            .map(|(host, port)| format!("{host}:{port}"))
            .collect();
        f.write_str(&entries.join(","))
    }
}

/// Glob match where `*` stands for any (possibly empty) run of characters.
fn glob_match(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            backtrack = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

impl ProbeAllowList {
    /// Whether `host` may be probed on `port` (`None`: any port, for DNS lookups).
    pub fn allows(&self, host: &str, port: Option<u16>) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        self.patterns.iter().any(|(host_pattern, port_pattern)| {
            glob_match(host_pattern, &host)
                && port.is_none_or(|port| glob_match(port_pattern, &port.to_string()))
        })
    }

    fn check(&self, host: &str, port: Option<u16>) -> Result<(), String> {
        if self.allows(host, port) {
            return Ok(());
        }
        let target = match port {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        Err(format!(
            "target {target} is not on the probe allow-list (MCPFLEET_PROBE_ALLOW = `{self}`)"
        ))
    }
}

fn timeout(ms: Option<u64>) -> Duration {
    Duration::from_millis(ms.unwrap_or(DEFAULT_TIMEOUT_MS).clamp(1, MAX_TIMEOUT_MS))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DnsResolveArgs {
    /// Host name to resolve, e.g. `payments.internal`.
    pub host: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DnsResolveResult {
    pub host: String,
    pub addresses: Vec<String>,
    pub duration_ms: f64,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TcpCheckArgs {
    pub host: String,
    pub port: u16,
    /// Connect timeout in milliseconds (default 3000, at most 30000).
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TcpCheckResult {
    pub target: String,
    pub connected: bool,
    pub peer_address: Option<String>,
    pub error: Option<String>,
    pub duration_ms: f64,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct HttpCheckArgs {
    /// http:// or https:// URL to request with GET.
    pub url: String,
    /// Timeout in milliseconds (default 3000, at most 30000).
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HttpCheckResult {
    pub url: String,
    pub status: Option<u16>,
    pub content_type: Option<String>,
    pub body_bytes: Option<usize>,
    pub error: Option<String>,
    pub duration_ms: f64,
}

fn millis(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[tool_router(router = network_router, vis = "pub(crate)")]
impl OpsServer {
    #[tool(
        description = "Resolve a host name from inside this replica's network. Refused unless the \
                       host is on the probe allow-list.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true)
    )]
    async fn dns_resolve(
        &self,
        Parameters(args): Parameters<DnsResolveArgs>,
    ) -> Result<Json<DnsResolveResult>, String> {
        self.replica().config.probe_allow.check(&args.host, None)?;
        let started = Instant::now();
        let addresses = tokio::net::lookup_host((args.host.as_str(), 0))
            .await
            .map_err(|error| format!("cannot resolve {}: {error}", args.host))?
            .map(|address| address.ip().to_string())
            .collect();
        Ok(Json(DnsResolveResult {
            host: args.host,
            addresses,
            duration_ms: millis(started),
        }))
    }

    #[tool(
        description = "Open a TCP connection to HOST:PORT from inside this replica's network and \
                       report whether it connected. Refused unless the target is on the probe \
                       allow-list.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true)
    )]
    async fn tcp_check(
        &self,
        Parameters(args): Parameters<TcpCheckArgs>,
    ) -> Result<Json<TcpCheckResult>, String> {
        self.replica()
            .config
            .probe_allow
            .check(&args.host, Some(args.port))?;
        let started = Instant::now();
        let target = format!("{}:{}", args.host, args.port);
        let connect = tokio::net::TcpStream::connect((args.host.as_str(), args.port));
        let (connected, peer_address, error) =
            match tokio::time::timeout(timeout(args.timeout_ms), connect).await {
                Ok(Ok(stream)) => (true, stream.peer_addr().ok().map(|a| a.to_string()), None),
                Ok(Err(error)) => (false, None, Some(error.to_string())),
                Err(_) => (false, None, Some("timed out".to_string())),
            };
        Ok(Json(TcpCheckResult {
            target,
            connected,
            peer_address,
            error,
            duration_ms: millis(started),
        }))
    }

    #[tool(
        description = "GET an http(s) URL from inside this replica's network and report status, \
                       content type and size (redirects are not followed). Refused unless the \
                       URL's host and port are on the probe allow-list.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true)
    )]
    async fn http_check(
        &self,
        Parameters(args): Parameters<HttpCheckArgs>,
    ) -> Result<Json<HttpCheckResult>, String> {
        let url = reqwest::Url::parse(&args.url)
            .map_err(|error| format!("invalid url {}: {error}", args.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "unsupported scheme {} (use http or https)",
                url.scheme()
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| format!("url {} has no host", args.url))?;
        let port = url.port_or_known_default().unwrap_or(80);
        self.replica().config.probe_allow.check(host, Some(port))?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout(args.timeout_ms))
            .build()
            .map_err(|error| format!("cannot build HTTP client: {error}"))?;
        let started = Instant::now();
        let mut result = HttpCheckResult {
            url: args.url,
            status: None,
            content_type: None,
            body_bytes: None,
            error: None,
            duration_ms: 0.0,
        };
        match client.get(url).send().await {
            Ok(response) => {
                result.status = Some(response.status().as_u16());
                result.content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                match response.bytes().await {
                    Ok(body) => result.body_bytes = Some(body.len()),
                    Err(error) => result.error = Some(error.to_string()),
                }
            }
            Err(error) => result.error = Some(error.to_string()),
        }
        result.duration_ms = millis(started);
        Ok(Json(result))
    }
}

pub(crate) fn router() -> ToolRouter<OpsServer> {
    OpsServer::network_router()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_a_shell() {
        assert!(glob_match("*.internal", "db.prod.internal"));
        assert!(!glob_match("*.internal", "internal"));
        assert!(glob_match("10.0.*", "10.0.3.4"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "acbx"));
        assert!(glob_match("a*b*c", "aXbYbZc"));
    }

    #[test]
    fn allow_list_checks_host_and_port() {
        let list: ProbeAllowList = "*.internal:443, 127.0.0.1:*, [::1]:8080".parse().unwrap();
        assert!(list.allows("DB.internal", Some(443)));
        assert!(!list.allows("db.internal", Some(80)));
        assert!(list.allows("127.0.0.1", Some(9)));
        assert!(list.allows("::1", Some(8080)));
        assert!(list.allows("db.internal", None));
        assert!(!list.allows("169.254.169.254", Some(80)));
        assert!(!ProbeAllowList::default().allows("localhost", None));
    }

    #[test]
    fn refusal_names_the_target_and_the_setting() {
        let list: ProbeAllowList = "*.internal:443".parse().unwrap();
        let error = list.check("169.254.169.254", Some(80)).unwrap_err();
        assert!(error.contains("169.254.169.254:80"), "{error}");
        assert!(error.contains("MCPFLEET_PROBE_ALLOW"), "{error}");
        assert_eq!(
            "nohostport".parse::<ProbeAllowList>(),
            Err(ProbeAllowListError("nohostport".into()))
        );
    }
}
