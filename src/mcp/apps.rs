//! MCP Apps (SEP-1865, the `io.modelcontextprotocol/ui` extension): a tool whose `_meta.ui`
//! names a `ui://` resource has an App UI, an HTML document (`text/html;profile=mcp-app`) that
//! a host renders in a sandbox. Here: the tool's UI resource URI, and reading that resource
//! with what its `_meta.ui` asks of the host — the content security policy's domains and the
//! browser permissions. Called by `browse.rs` on the worker's pooled client.

use base64::Engine;
use rmcp::model::{ReadResourceRequestParams, ReadResourceResponse, ResourceContents, Tool};
use serde::Serialize;
use serde_json::Value;

use super::{McpError, connection::Connection, error::from_service_error};

/// The MIME type of an App UI document.
pub const APP_MIME_TYPE: &str = "text/html;profile=mcp-app";

/// The tool's UI resource: `_meta.ui.resourceUri`, or the older flat `_meta["ui/resourceUri"]`.
pub fn ui_resource(tool: &Tool) -> Option<String> {
    let meta = &tool.meta.as_ref()?.0;
    meta.get("ui")
        .and_then(|ui| ui.get("resourceUri"))
        .or_else(|| meta.get("ui/resourceUri"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A tool's App UI as read from the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppUi {
    pub tool: String,
    pub uri: String,
    pub mime_type: Option<String>,
    /// Bytes of the HTML document.
    pub size: usize,
    /// `_meta.ui.csp`: the origins the UI may connect to (`connectDomains`), load from
    /// (`resourceDomains`), frame (`frameDomains`), use as base (`baseUriDomains`).
    pub csp: Option<Value>,
    /// `_meta.ui.permissions`: browser features the UI asks for (camera, microphone,
    /// geolocation, clipboardWrite).
    pub permissions: Option<Value>,
    /// `_meta.ui.domain`: the origin the UI asks to be served from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefers_border: Option<bool>,
    /// The document itself; `--open` writes it, JSON leaves it out.
    #[serde(skip)]
    pub html: String,
}

impl AppUi {
    /// Whether the resource says it is an App UI document.
    pub fn is_app_document(&self) -> bool {
        self.mime_type
            .as_deref()
            .is_some_and(|mime| mime.replace(' ', "").eq_ignore_ascii_case(APP_MIME_TYPE))
    }

    /// What the detail pane and the CLI show, one `label: value` per line; the server's
    /// text as it came (callers make it inert).
    pub fn lines(&self) -> Vec<(String, String)> {
        let mut lines = vec![
            ("tool".into(), self.tool.clone()),
            ("ui resource".into(), self.uri.clone()),
            (
                "mime type".into(),
                self.mime_type.clone().unwrap_or_else(|| "(none)".into()),
            ),
            ("size".into(), format!("{} bytes", self.size)),
        ];
        match self.csp.as_ref().and_then(Value::as_object) {
            Some(csp) if !csp.is_empty() => {
                for (key, value) in csp {
                    lines.push((format!("csp {key}"), listed(value)));
                }
            }
            _ => lines.push(("csp".into(), "(none declared: no outside origins)".into())),
        }
        let permissions = match self.permissions.as_ref().and_then(Value::as_object) {
            Some(asked) if !asked.is_empty() => {
                asked.keys().cloned().collect::<Vec<_>>().join(", ")
            }
            _ => "(none)".into(),
        };
        lines.push(("permissions".into(), permissions));
        if let Some(domain) = &self.domain {
            lines.push(("domain".into(), domain.clone()));
        }
        if let Some(border) = self.prefers_border {
            lines.push(("prefers border".into(), border.to_string()));
        }
        lines
    }
}

impl AppUi {
    /// Writes the document to a file only this user can read (0600, in a fresh 0700 folder
    /// under the temp dir), for a browser to open; returns its path.
    pub fn write_page(&self) -> std::io::Result<std::path::PathBuf> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("mcpfleet-app-{}-{stamp}", std::process::id()));
        let mut folder = std::fs::DirBuilder::new();
        let mut file = std::fs::OpenOptions::new();
        file.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
            folder.mode(0o700);
            file.mode(0o600);
        }
        folder.create(&dir)?;
        let name: String = self
            .tool
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{name}.html"));
        std::io::Write::write_all(&mut file.open(&path)?, self.html.as_bytes())?;
        Ok(path)
    }
}

fn listed(value: &Value) -> String {
    match value {
        Value::Array(items) if items.is_empty() => "(none)".into(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map_or_else(|| item.to_string(), str::to_string)
            })
            .collect::<Vec<_>>()
            .join(" "),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

pub(super) async fn read(connection: &Connection, tool: &str) -> Result<AppUi, McpError> {
    let url = &connection.url;
    let failed = |error| connection.explain(from_service_error(url, &error).error);
    let peer = connection.peer();
    let tools = peer.list_all_tools().await.map_err(failed)?;
    let Some(found) = tools.iter().find(|t| t.name == tool) else {
        return Err(McpError::UnknownTool {
            tool: tool.to_string(),
            available: tools.iter().map(|t| t.name.to_string()).collect(),
        });
    };
    let Some(uri) = ui_resource(found) else {
        return Err(McpError::NoAppUi {
            tool: tool.to_string(),
        });
    };
    let response = peer
        .read_resource_once(ReadResourceRequestParams::new(uri.clone()))
        .await
        .map_err(failed)?;
    let ReadResourceResponse::Complete(result) = response else {
        return Err(McpError::Protocol(
            "the server asked for input to read an App UI".into(),
        ));
    };
    let Some(contents) = result.contents.first() else {
        return Err(McpError::Protocol(format!("{uri} has no contents")));
    };
    let (html, mime_type, meta) = match contents {
        ResourceContents::TextResourceContents {
            text,
            mime_type,
            meta,
            ..
        } => (text.clone(), mime_type.clone(), meta.clone()),
        ResourceContents::BlobResourceContents {
            blob,
            mime_type,
            meta,
            ..
        } => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(blob)
                .map_err(|e| McpError::Protocol(format!("{uri}: the blob is not base64: {e}")))?;
            (
                String::from_utf8_lossy(&bytes).into_owned(),
                mime_type.clone(),
                meta.clone(),
            )
        }
        _ => {
            return Err(McpError::Protocol(format!(
                "{uri}: contents of a kind unknown here"
            )));
        }
    };
    // The read's `_meta.ui` first; a server may put it on the listed resource instead.
    let mut ui = meta.and_then(|meta| meta.0.get("ui").cloned());
    if ui.is_none()
        && connection
            .server()
            .is_some_and(|info| info.capabilities.resources.is_some())
        && let Ok(resources) = peer.list_all_resources().await
    {
        ui = resources
            .iter()
            .filter_map(|r| serde_json::to_value(r).ok())
            .find(|r| r["uri"] == uri.as_str())
            .and_then(|r| r.get("_meta").and_then(|m| m.get("ui")).cloned());
    }
    let ui = ui.unwrap_or(Value::Null);
    Ok(AppUi {
        tool: tool.to_string(),
        uri,
        mime_type,
        size: html.len(),
        csp: ui.get("csp").cloned(),
        permissions: ui.get("permissions").cloned(),
        domain: ui.get("domain").and_then(Value::as_str).map(str::to_string),
        prefers_border: ui.get("prefersBorder").and_then(Value::as_bool),
        html,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn tool(meta: Value) -> Tool {
        let mut tool = Tool::new("show", "d", Arc::new(serde_json::Map::new()));
        let Value::Object(meta) = meta else { panic!() };
        tool.meta = Some(rmcp::model::MetaObject(meta));
        tool
    }

    #[test]
    fn the_ui_resource_comes_from_meta_ui_or_the_flat_key() {
        let nested = tool(json!({"ui": {"resourceUri": "ui://a/app.html"}}));
        assert_eq!(ui_resource(&nested).as_deref(), Some("ui://a/app.html"));
        let flat = tool(json!({"ui/resourceUri": "ui://b/app.html"}));
        assert_eq!(ui_resource(&flat).as_deref(), Some("ui://b/app.html"));
        assert_eq!(ui_resource(&tool(json!({"other": 1}))), None);
    }

    #[test]
    fn details_name_each_csp_list_and_permission() {
        let app = AppUi {
            tool: "show".into(),
            uri: "ui://a/app.html".into(),
            mime_type: Some(APP_MIME_TYPE.into()),
            size: 12,
            csp: Some(
                json!({"connectDomains": ["https://api.example.com"], "resourceDomains": []}),
            ),
            permissions: Some(json!({"camera": {}, "clipboardWrite": {}})),
            domain: None,
            prefers_border: None,
            html: String::new(),
        };
        assert!(app.is_app_document());
        let lines = app.lines();
        assert!(lines.contains(&(
            "csp connectDomains".into(),
            "https://api.example.com".into()
        )));
        assert!(lines.contains(&("csp resourceDomains".into(), "(none)".into())));
        assert!(lines.contains(&("permissions".into(), "camera, clipboardWrite".into())));
    }
}
