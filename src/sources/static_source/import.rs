//! Import of the MCP client config files people already have: `mcpServers` as in
//! claude_desktop_config.json and `servers` as in .vscode/mcp.json. Only Streamable HTTP
//! entries can join a fleet; stdio and legacy SSE entries are reported, not dropped silently.

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;
use serde_json::Value;

use super::StaticServer;

#[derive(Debug, Default, PartialEq)]
pub struct Imported {
    pub servers: Vec<StaticServer>,
    /// One line per entry that could not be used, naming it and why.
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not valid JSON: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: no `mcpServers` or `servers` object")]
    Shape { path: String },
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    command: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

pub fn import_file(path: &Path) -> Result<Imported, ImportError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: shown.clone(),
        source,
    })?;
    let json: Value = serde_json::from_str(&text).map_err(|source| ImportError::Json {
        path: shown.clone(),
        source,
    })?;
    import_value(&json).ok_or(ImportError::Shape { path: shown })
}

pub fn import_value(json: &Value) -> Option<Imported> {
    let entries = json
        .get("mcpServers")
        .or_else(|| json.get("servers"))?
        .as_object()?;
    let mut imported = Imported::default();
    for (name, raw) in entries {
        let entry: Entry = match serde_json::from_value(raw.clone()) {
            Ok(entry) => entry,
            Err(error) => {
                imported
                    .skipped
                    .push(format!("{name}: unreadable entry ({error})"));
                continue;
            }
        };
        let kind =
            entry
                .kind
                .as_deref()
                .unwrap_or(if entry.url.is_some() { "http" } else { "stdio" });
        match (kind, entry.url) {
            ("http" | "streamable-http" | "streamableHttp", Some(url)) => {
                imported.servers.push(StaticServer {
                    name: name.clone(),
                    url,
                    headers: entry.headers,
                    ..StaticServer::default()
                });
            }
            ("sse", _) => imported.skipped.push(format!(
                "{name}: legacy SSE transport is not supported (use Streamable HTTP)"
            )),
            _ if entry.command.is_some() || kind == "stdio" => imported.skipped.push(format!(
                "{name}: stdio servers are not supported (run it under the local source instead)"
            )),
            _ => imported.skipped.push(format!("{name}: no url")),
        }
    }
    Some(imported)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn claude_desktop_style() {
        let config = json!({"mcpServers": {
            "tools": {"url": "http://127.0.0.1:9000/mcp", "headers": {"X-Team": "ops"}},
            "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem"]},
            "old": {"type": "sse", "url": "http://127.0.0.1:9001/sse"}
        }});
        let imported = import_value(&config).unwrap();
        assert_eq!(imported.servers.len(), 1);
        assert_eq!(imported.servers[0].name, "tools");
        assert_eq!(imported.servers[0].headers["X-Team"], "ops");
        assert_eq!(imported.skipped.len(), 2);
        assert!(
            imported
                .skipped
                .iter()
                .any(|s| s.starts_with("files: stdio")),
            "{:?}",
            imported.skipped
        );
        assert!(
            imported
                .skipped
                .iter()
                .any(|s| s.starts_with("old: legacy SSE")),
            "{:?}",
            imported.skipped
        );
    }

    #[test]
    fn vscode_style() {
        let config = json!({"inputs": [], "servers": {
            "remote": {"type": "http", "url": "http://127.0.0.1:9002/mcp"},
            "local": {"type": "stdio", "command": "python", "args": ["server.py"]}
        }});
        let imported = import_value(&config).unwrap();
        assert_eq!(imported.servers[0].url, "http://127.0.0.1:9002/mcp");
        assert_eq!(
            imported.skipped,
            vec!["local: stdio servers are not supported (run it under the local source instead)"]
        );
        assert!(import_value(&json!({"other": {}})).is_none());
    }
}
