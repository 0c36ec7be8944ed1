//! The console's configuration file: TOML in the XDG config dir
//! (`~/.config/mcpfleet/config.toml`), or `--config PATH`. A missing default file means
//! defaults; a malformed file is an error that names the file, the line and the key.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::sources::{
    aws::AwsSettings,
    local::{LocalConfig, LocalServiceSpec},
    static_source::{StaticServer, import},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SourceChoice {
    /// The embedded local fleet (default).
    Local,
    /// Amazon ECS through the AWS APIs.
    Aws,
    /// Fixed MCP URLs from `[static]`.
    Static,
}

impl SourceChoice {
    pub fn name(self) -> &'static str {
        match self {
            SourceChoice::Local => "local",
            SourceChoice::Aws => "aws",
            SourceChoice::Static => "static",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalSection {
    /// Replicas of the built-in `mcpfleet-server` service; 0 leaves it out.
    pub builtin_replicas: u32,
    pub services: Vec<LocalServiceSpec>,
}

impl Default for LocalSection {
    fn default() -> Self {
        Self {
            builtin_replicas: 3,
            services: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaticSection {
    pub servers: Vec<StaticServer>,
    /// Client config files to import (claude_desktop_config.json, .vscode/mcp.json, …).
    pub import: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiSection {
    /// Lines kept in the log ring buffer.
    pub log_buffer_lines: usize,
}

impl Default for UiSection {
    fn default() -> Self {
        Self {
            log_buffer_lines: 100_000,
        }
    }
}

/// How the console signs in to servers that ask for OAuth. Secrets stay in environment
/// variables: a `client_secret` key is refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthSection {
    /// HTTPS URL of a client ID metadata document describing this console, used as its client
    /// ID where the authorization server accepts one.
    pub client_metadata_url: Option<String>,
    /// Loopback port of the sign-in redirect (default: any free port).
    pub callback_port: Option<u16>,
    /// Seconds a sign-in waits for the browser (default 300).
    pub login_timeout_secs: Option<u64>,
    /// Pre-registered clients, by service name.
    pub services: std::collections::BTreeMap<String, OAuthClientSection>,
}

impl OAuthSection {
    /// Who the console is when it signs in to `service` (empty: a bare URL), and how long
    /// it waits for the browser.
    pub fn client(&self, service: &str) -> (crate::oauth::ClientSettings, std::time::Duration) {
        let section = self.services.get(service).cloned().unwrap_or_default();
        let settings = crate::oauth::ClientSettings {
            grant: section.grant,
            client_id: section.client_id,
            client_secret_env: section.client_secret_env,
            client_metadata_url: self.client_metadata_url.clone(),
            redirect_port: section.callback_port.or(self.callback_port).unwrap_or(0),
            scopes: section.scopes,
        };
        let timeout = self
            .login_timeout_secs
            .map(std::time::Duration::from_secs)
            .unwrap_or(crate::oauth::signin::DEFAULT_TIMEOUT);
        (settings, timeout)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthClientSection {
    /// `authorization_code` (a person signs in, the default) or `client_credentials` (a
    /// machine client with its own secret; nobody is asked).
    pub grant: crate::oauth::Grant,
    pub client_id: Option<String>,
    /// Environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// Scopes to ask for beyond what the server says it needs.
    pub scopes: Vec<String>,
    /// Loopback port of the redirect URI registered for this client.
    pub callback_port: Option<u16>,
}

/// The idle timeout of whatever sits in front of the replicas (a load balancer, the Service
/// Connect proxy), against which their SSE keep-alive is judged.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamsSection {
    /// Seconds; Service Connect's HTTP default (300) when absent.
    pub idle_timeout_secs: Option<u64>,
    /// Per service, by name, where one sits behind something else.
    pub services: std::collections::BTreeMap<String, StreamsServiceSection>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamsServiceSection {
    pub idle_timeout_secs: u64,
}

impl StreamsSection {
    /// The idle timeout in front of `service`'s replicas.
    pub fn idle_timeout(&self, service: &str) -> std::time::Duration {
        let secs = match self.services.get(service) {
            Some(section) => Some(section.idle_timeout_secs),
            None => self.idle_timeout_secs,
        };
        secs.map(std::time::Duration::from_secs)
            .unwrap_or(crate::mcp::streams::DEFAULT_IDLE_TIMEOUT)
    }

    /// A timeout of zero would warn about every stream.
    fn validate(&self) -> Result<(), String> {
        if self.idle_timeout_secs == Some(0) {
            return Err("[streams] idle_timeout_secs: must be at least 1".into());
        }
        match self.services.iter().find(|(_, s)| s.idle_timeout_secs == 0) {
            Some((name, _)) => Err(format!(
                "[streams.services.{name}] idle_timeout_secs: must be at least 1"
            )),
            None => Ok(()),
        }
    }
}

/// The roots the console shares with servers that ask (`roots/list`): none by default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RootsSection {
    /// `file://` URIs, each a string or `{ uri = "file:///…", name = "…" }`.
    pub uris: Vec<RootEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RootEntry {
    Uri(String),
    Named { uri: String, name: Option<String> },
}

impl RootEntry {
    fn uri(&self) -> &str {
        match self {
            RootEntry::Uri(uri) | RootEntry::Named { uri, .. } => uri,
        }
    }
}

impl RootsSection {
    /// The roots as the MCP client declares them.
    pub fn declared(&self) -> Vec<crate::mcp::ClientRoot> {
        self.uris
            .iter()
            .map(|entry| match entry {
                RootEntry::Uri(uri) => crate::mcp::ask::root(uri, None),
                RootEntry::Named { uri, name } => crate::mcp::ask::root(uri, name.as_deref()),
            })
            .collect()
    }

    /// Roots are `file://` URIs (MCP 2025-11-25).
    fn validate(&self) -> Result<(), String> {
        match self.uris.iter().find(|e| !e.uri().starts_with("file://")) {
            Some(entry) => Err(format!(
                "[roots] uris: {:?} is not a file:// URI",
                entry.uri()
            )),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub source: Option<SourceChoice>,
    pub local: LocalSection,
    #[serde(rename = "static")]
    pub static_servers: StaticSection,
    pub aws: AwsSettings,
    pub ui: UiSection,
    pub oauth: OAuthSection,
    pub roots: RootsSection,
    pub streams: StreamsSection,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The TOML error names the line, the column and the offending key.
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("config file {path}: {message}")]
    Invalid { path: String, message: String },
}

/// Where the config file lives when `--config` is not given.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mcpfleet")
        .map(|dirs| dirs.config_dir().join("config.toml"))
}

impl Config {
    /// Loads `explicit` (must exist) or the default file (may be absent).
    pub fn load(explicit: Option<&Path>) -> Result<(Self, Option<PathBuf>), ConfigError> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => match default_path().filter(|path| path.exists()) {
                Some(path) => path,
                None => return Ok((Self::default(), None)),
            },
        };
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let config = Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: shown.clone(),
            message,
        })?;
        config
            .roots
            .validate()
            .and_then(|()| config.streams.validate())
            .map_err(|message| ConfigError::Invalid {
                path: shown.clone(),
                message,
            })?;
        config
            .local_config(std::env::current_exe().unwrap_or_default())
            .validate()
            .map_err(|error| ConfigError::Invalid {
                path: shown,
                message: error.to_string(),
            })?;
        Ok((config, Some(path)))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|error| error.to_string().trim_end().to_string())
    }

    /// The local source's settings: the built-in service plus the configured ones.
    pub fn local_config(&self, exe: PathBuf) -> LocalConfig {
        let mut local = LocalConfig::default_fleet(exe);
        local.services.clear();
        if self.local.builtin_replicas > 0 {
            local
                .services
                .push(LocalServiceSpec::built_in(self.local.builtin_replicas));
        }
        local.services.extend(self.local.services.iter().cloned());
        local
    }

    /// Static servers from the file and from imported client configs; skipped entries are
    /// returned as warnings.
    pub fn static_servers(&self) -> Result<(Vec<StaticServer>, Vec<String>), import::ImportError> {
        let mut servers = self.static_servers.servers.clone();
        let mut warnings = Vec::new();
        for path in &self.static_servers.import {
            let path = &expand_home(path);
            let imported = import::import_file(path)?;
            servers.extend(imported.servers);
            warnings.extend(
                imported
                    .skipped
                    .into_iter()
                    .map(|s| format!("{}: {s}", path.display())),
            );
        }
        Ok((servers, warnings))
    }
}

/// `~/x` → the home directory joined with `x`, as people write paths in config files.
fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), directories::BaseDirs::new()) {
        (Ok(rest), Some(dirs)) => dirs.home_dir().join(rest),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_default_fleet() {
        let config = Config::parse("").unwrap();
        let local = config.local_config("mcpfleet".into());
        assert_eq!(local.services.len(), 1);
        assert_eq!(local.services[0].replicas, 3);
        assert_eq!(config.ui.log_buffer_lines, 100_000);
    }

    #[test]
    fn full_file_parses() {
        let config = Config::parse(
            r#"
source = "local"

[local]
builtin_replicas = 2

[[local.services]]
name = "everything"
command = "npx"
args = ["@modelcontextprotocol/server-everything", "streamableHttp"]
env = { PORT = "{port}" }
replicas = 1

[static]
servers = [{ name = "prod", url = "http://127.0.0.1:9000/mcp", bearer_env = "PROD_TOKEN" }]

[ui]
log_buffer_lines = 5000
"#,
        )
        .unwrap();
        assert_eq!(config.source, Some(SourceChoice::Local));
        let local = config.local_config("mcpfleet".into());
        assert_eq!(local.services.len(), 2);
        assert_eq!(local.services[1].env["PORT"], "{port}");
        assert_eq!(
            config.static_servers.servers[0].bearer_env.as_deref(),
            Some("PROD_TOKEN")
        );
    }

    #[test]
    fn errors_name_the_line_and_the_key() {
        let error = Config::parse("[local]\nbuiltin_replicas = 3\nreplcas = 2\n").unwrap_err();
        assert!(error.contains("line 3"), "{error}");
        assert!(error.contains("replcas"), "{error}");

        let error = Config::parse("[ui]\nlog_buffer_lines = \"many\"\n").unwrap_err();
        assert!(error.contains("line 2"), "{error}");
        assert!(error.contains("log_buffer_lines"), "{error}");

        let error = Config::parse("source = \"kubernetes\"\n").unwrap_err();
        assert!(
            error.contains("line 1") && error.contains("kubernetes"),
            "{error}"
        );
    }

    #[test]
    fn the_idle_timeout_in_front_defaults_to_service_connects_and_is_set_per_service() {
        let default = Config::parse("").unwrap().streams;
        assert_eq!(default.idle_timeout("any").as_secs(), 300);
        let config = Config::parse(
            "[streams]\nidle_timeout_secs = 60\n\n[streams.services.slow]\nidle_timeout_secs = 350\n",
        )
        .unwrap();
        assert_eq!(config.streams.idle_timeout("ops").as_secs(), 60);
        assert_eq!(config.streams.idle_timeout("slow").as_secs(), 350);
        let zero = Config::parse("[streams]\nidle_timeout_secs = 0\n").unwrap();
        assert!(
            zero.streams
                .validate()
                .unwrap_err()
                .contains("idle_timeout_secs")
        );
        let error = Config::parse("[streams]\nidle_timeout = 60\n").unwrap_err();
        assert!(
            error.contains("line 2") && error.contains("idle_timeout"),
            "{error}"
        );
    }

    #[test]
    fn load_names_the_file() {
        let dir = std::env::temp_dir().join(format!("mcpfleet-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(
            &path,
            "[[local.services]]\nname = \"x\"\nreplicas = \"three\"\n",
        )
        .unwrap();
        let error = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("config file {}", path.display())),
            "{error}"
        );
        assert!(
            error.contains("line 3") && error.contains("replicas"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
