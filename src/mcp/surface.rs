//! What a replica presents to a client — its server name and version, protocol version,
//! capabilities, and every tool with its schemas, description and annotations — fingerprinted
//! part by part, and two of them set against each other: which tool is only on one side, which
//! field of which tool, capability or server detail differs, named by JSON pointer.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::inert::inert_line;

use super::compare::{self, Difference};

/// A surface's digest, whole and per part, so two replicas that differ say where at a glance.
/// Each is the first 12 hex digits of the SHA-256 of the part's canonical JSON (object keys
/// sorted, tools by name), so it holds across replicas, runs and builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fingerprint {
    /// Of all four parts together: equal surfaces, equal hashes.
    pub hash: String,
    pub server: String,
    pub protocol: String,
    pub capabilities: String,
    pub tools: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Surface {
    /// The server's `serverInfo` as it sent it (name, version, title, …).
    pub server: Value,
    pub protocol_version: String,
    pub capabilities: Value,
    /// Each tool as listed, without `_meta` (servers put per-response data there), by name.
    pub tools: BTreeMap<String, Value>,
    pub fingerprint: Fingerprint,
}

impl Surface {
    pub fn new(
        server: Value,
        protocol_version: String,
        capabilities: Value,
        tools: impl IntoIterator<Item = Value>,
    ) -> Self {
        let tools: BTreeMap<String, Value> = tools
            .into_iter()
            .map(|mut tool| {
                if let Some(object) = tool.as_object_mut() {
                    object.remove("_meta");
                }
                let name = tool["name"].as_str().unwrap_or_default().to_string();
                (name, compare::canonical(&tool))
            })
            .collect();
        let (server, capabilities) = (
            compare::canonical(&server),
            compare::canonical(&capabilities),
        );
        let protocol = Value::String(protocol_version.clone());
        let listed = serde_json::to_value(&tools).unwrap_or_default();
        let fingerprint = Fingerprint {
            hash: compare::hash(&serde_json::json!([server, protocol, capabilities, listed])),
            server: compare::hash(&server),
            protocol: compare::hash(&protocol),
            capabilities: compare::hash(&capabilities),
            tools: compare::hash(&listed),
        };
        Self {
            server,
            protocol_version,
            capabilities,
            tools,
            fingerprint,
        }
    }
}

/// One way a surface differs from the one it is set against (the reference).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A tool this surface lists and the reference does not.
    ToolAdded {
        tool: String,
    },
    /// A tool the reference lists and this surface does not.
    ToolRemoved {
        tool: String,
    },
    /// A field of a tool both list: `part` is the tool's field (`description`, `inputSchema`,
    /// `annotations`, …) and `pointer` the JSON pointer inside it (empty for the whole field).
    Tool {
        tool: String,
        part: String,
        pointer: String,
        expected: Option<Value>,
        found: Option<Value>,
    },
    /// A field of `serverInfo` (`/version`, `/name`, …).
    Server {
        pointer: String,
        expected: Option<Value>,
        found: Option<Value>,
    },
    Protocol {
        expected: String,
        found: String,
    },
    /// A capability, by pointer (`/resources/subscribe`, `/prompts`, …).
    Capability {
        pointer: String,
        expected: Option<Value>,
        found: Option<Value>,
    },
}

impl std::fmt::Display for Change {
    /// One line, a server's text inert: `echo: inputSchema /properties/message/maxLength
    /// (absent) → 2000`, `tool removed: sleep`, `server /version: "0.1.0" → "0.2.0"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |value: &Option<Value>| match value {
            Some(value) => inert_line(&value.to_string()).into_owned(),
            None => "(absent)".to_string(),
        };
        match self {
            Change::ToolAdded { tool } => write!(f, "tool added: {}", inert_line(tool)),
            Change::ToolRemoved { tool } => write!(f, "tool removed: {}", inert_line(tool)),
            Change::Tool {
                tool,
                part,
                pointer,
                expected,
                found,
            } => {
                let place = match pointer.as_str() {
                    "" => inert_line(part).into_owned(),
                    _ => format!("{} {}", inert_line(part), inert_line(pointer)),
                };
                let (a, b) = (shown(expected), shown(found));
                write!(f, "{}: {place} {a} → {b}", inert_line(tool))
            }
            Change::Server {
                pointer,
                expected,
                found,
            } => write!(
                f,
                "server {}: {} → {}",
                inert_line(pointer),
                shown(expected),
                shown(found)
            ),
            Change::Protocol { expected, found } => write!(
                f,
                "protocol: {} → {}",
                inert_line(expected),
                inert_line(found)
            ),
            Change::Capability {
                pointer,
                expected,
                found,
            } => write!(
                f,
                "capabilities {}: {} → {}",
                inert_line(pointer),
                shown(expected),
                shown(found)
            ),
        }
    }
}

/// How `found` differs from `reference`: server, protocol, capabilities, then tools by name.
pub fn changes(reference: &Surface, found: &Surface) -> Vec<Change> {
    let mut out = Vec::new();
    for (pointer, expected, found) in fields(&reference.server, &found.server) {
        out.push(Change::Server {
            pointer,
            expected,
            found,
        });
    }
    if reference.protocol_version != found.protocol_version {
        out.push(Change::Protocol {
            expected: reference.protocol_version.clone(),
            found: found.protocol_version.clone(),
        });
    }
    for (pointer, expected, found) in fields(&reference.capabilities, &found.capabilities) {
        out.push(Change::Capability {
            pointer,
            expected,
            found,
        });
    }
    let mut names: Vec<&String> = reference.tools.keys().chain(found.tools.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let tool = name.clone();
        match (reference.tools.get(name), found.tools.get(name)) {
            (Some(_), None) => out.push(Change::ToolRemoved { tool }),
            (None, Some(_)) => out.push(Change::ToolAdded { tool }),
            (Some(a), Some(b)) => {
                for (pointer, expected, found) in fields(a, b) {
                    // `/inputSchema/properties/x` → part `inputSchema`, pointer `/properties/x`.
                    let rest = pointer.trim_start_matches('/');
                    let (part, inner) = rest.split_once('/').unwrap_or((rest, ""));
                    out.push(Change::Tool {
                        tool: tool.clone(),
                        part: part.replace("~1", "/").replace("~0", "~"),
                        pointer: if inner.is_empty() {
                            String::new()
                        } else {
                            format!("/{inner}")
                        },
                        expected,
                        found,
                    });
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// The fields that differ, by pointer: the fan-out comparison's field diff, reused.
fn fields(a: &Value, b: &Value) -> Vec<(String, Option<Value>, Option<Value>)> {
    compare::field_differences(a, b)
        .into_iter()
        .filter_map(|difference| match difference {
            Difference::Field {
                pointer,
                expected,
                found,
            } => Some((pointer, expected, found)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn echo(max_length: Option<u32>, description: &str) -> Value {
        let mut message = json!({"type": "string"});
        if let Some(max) = max_length {
            message["maxLength"] = json!(max);
        }
        json!({
            "name": "echo",
            "description": description,
            "inputSchema": {"type": "object", "properties": {"message": message}},
            "annotations": {"readOnlyHint": true},
            "_meta": {"served": "now"},
        })
    }

    fn surface(version: &str, tools: Vec<Value>) -> Surface {
        Surface::new(
            json!({"name": "mcpfleet-server", "version": version}),
            "2025-11-25".into(),
            json!({"tools": {}, "resources": {}}),
            tools,
        )
    }

    fn sleep() -> Value {
        json!({"name": "sleep", "inputSchema": {"type": "object"}})
    }

    #[test]
    fn order_of_tools_and_keys_and_meta_leave_the_fingerprint_alone() {
        let a = surface("1", vec![echo(None, "e"), sleep()]);
        let mut reordered = echo(None, "e");
        reordered["_meta"] = json!({"served": "later"});
        let b = Surface::new(
            json!({"version": "1", "name": "mcpfleet-server"}),
            "2025-11-25".into(),
            json!({"resources": {}, "tools": {}}),
            vec![sleep(), reordered],
        );
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint.hash.len(), 12);
        assert!(changes(&a, &b).is_empty());
    }

    #[test]
    fn a_missing_tool_is_named_and_only_the_tools_part_moves() {
        let a = surface("1", vec![echo(None, "e"), sleep()]);
        let b = surface("1", vec![echo(None, "e")]);
        assert_ne!(a.fingerprint.hash, b.fingerprint.hash);
        assert_ne!(a.fingerprint.tools, b.fingerprint.tools);
        assert_eq!(a.fingerprint.server, b.fingerprint.server);
        assert_eq!(a.fingerprint.capabilities, b.fingerprint.capabilities);
        let found = changes(&a, &b);
        assert_eq!(
            found,
            vec![Change::ToolRemoved {
                tool: "sleep".into()
            }]
        );
        assert_eq!(found[0].to_string(), "tool removed: sleep");
        assert_eq!(
            changes(&b, &a),
            vec![Change::ToolAdded {
                tool: "sleep".into()
            }]
        );
    }

    #[test]
    fn a_schema_bound_and_a_description_are_named_by_pointer() {
        let a = surface("1", vec![echo(Some(1000), "Return it.")]);
        let b = surface("1", vec![echo(Some(2000), "Return it unchanged.")]);
        let lines: Vec<String> = changes(&a, &b).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                r#"echo: description "Return it." → "Return it unchanged.""#,
                "echo: inputSchema /properties/message/maxLength 1000 → 2000",
            ]
        );
        let added = changes(
            &surface("1", vec![echo(None, "e")]),
            &surface("1", vec![echo(Some(5), "e")]),
        );
        assert_eq!(
            added,
            vec![Change::Tool {
                tool: "echo".into(),
                part: "inputSchema".into(),
                pointer: "/properties/message/maxLength".into(),
                expected: None,
                found: Some(json!(5)),
            }]
        );
    }

    #[test]
    fn server_version_protocol_annotations_and_capabilities_are_told_apart() {
        let a = surface("0.1.0", vec![echo(None, "e")]);
        let mut tool = echo(None, "e");
        tool["annotations"]["readOnlyHint"] = json!(false);
        let b = Surface::new(
            json!({"name": "mcpfleet-server", "version": "0.2.0"}),
            "2026-07-28".into(),
            json!({"tools": {}}),
            vec![tool],
        );
        let lines: Vec<String> = changes(&a, &b).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                r#"server /version: "0.1.0" → "0.2.0""#,
                "protocol: 2025-11-25 → 2026-07-28",
                "capabilities /resources: {} → (absent)",
                "echo: annotations /readOnlyHint true → false",
            ]
        );
        assert_ne!(a.fingerprint.protocol, b.fingerprint.protocol);
    }

    #[test]
    fn a_servers_control_characters_stay_inert() {
        let a = surface("1", vec![echo(None, "e")]);
        let b = surface("1", vec![echo(None, "e"), json!({"name": "x\u{1b}[2J"})]);
        assert_eq!(changes(&a, &b)[0].to_string(), "tool added: x\\u{1b}[2J");
    }
}
