//! Argument checks before a call leaves the console: the tool must exist on the endpoint and
//! the arguments must match its inputSchema. A refused call names every bad field, so a person
//! fixes them all at once instead of learning them one server error at a time.

use rmcp::model::Tool;
use serde::Serialize;
use serde_json::Value;

use super::McpError;

/// The tools one endpoint offers, as last listed.
pub(crate) struct Catalog {
    tools: Vec<Tool>,
    /// Tools the server listed that the client dropped (rmcp refuses a 2026-07-28 tool whose
    /// `x-mcp-header` annotations break the spec's rules), with why.
    pub dropped: Vec<DroppedTool>,
}

/// A tool the server listed and the client will not call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedTool {
    pub name: String,
    pub reason: String,
}

impl Catalog {
    pub fn new(tools: Vec<Tool>) -> Self {
        Self {
            tools,
            dropped: Vec::new(),
        }
    }

    /// The tools the server listed (`listed`, its `tools/list` results as sent) that are not
    /// in this catalog, each with why.
    pub fn with_dropped_from(mut self, listed: &[Value]) -> Self {
        let kept: std::collections::HashSet<&str> =
            self.tools.iter().map(|t| t.name.as_ref()).collect();
        self.dropped = listed
            .iter()
            .flat_map(|result| result["tools"].as_array().into_iter().flatten())
            .filter_map(|tool| {
                let name = tool["name"].as_str()?;
                (!kept.contains(name)).then(|| DroppedTool {
                    name: name.to_string(),
                    reason: header_problem(&tool["inputSchema"]),
                })
            })
            .collect();
        self
    }

    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .tools
            .iter()
            .map(|tool| tool.name.to_string())
            .collect();
        names.sort();
        names
    }

    /// Whether running `tool` twice is harmless by its own declaration: read-only, or
    /// idempotent. Decides if a call that may have run can be sent to another task.
    pub fn repeatable(&self, tool: &str) -> bool {
        let hints = self
            .tools
            .iter()
            .find(|t| t.name == tool)
            .and_then(|t| t.annotations.as_ref());
        hints.is_some_and(|h| h.read_only_hint == Some(true) || h.idempotent_hint == Some(true))
    }

    /// `Ok` when `tool` exists and `arguments` fit its inputSchema.
    /// The tool exists and, when `schema` is set, the arguments pass its inputSchema.
    pub fn check(&self, tool: &str, arguments: &Value, schema: bool) -> Result<(), McpError> {
        let Some(definition) = self.tools.iter().find(|t| t.name == tool) else {
            return Err(McpError::UnknownTool {
                tool: tool.to_string(),
                available: self.names(),
            });
        };
        if !schema {
            return Ok(());
        }
        let schema = Value::Object((*definition.input_schema).clone());
        let problems = super::schema::check(&schema, arguments);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(McpError::InvalidArguments(problems))
        }
    }
}

/// What is wrong with a tool's `x-mcp-header` annotations (the 2026-07-28 rules: on a
/// property reached from the root through `properties` alone, of type string, integer or
/// boolean, a non-empty HTTP token, unique whatever its case).
pub fn header_problem(schema: &Value) -> String {
    fn token(name: &str) -> bool {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
    }
    fn walk(schema: &Value, path: &mut Vec<String>, seen: &mut Vec<String>) -> Option<String> {
        let properties = schema.get("properties").and_then(Value::as_object)?;
        for (name, property) in properties {
            path.push(name.clone());
            let at = path.join(".");
            if let Some(header) = property.get("x-mcp-header") {
                let Some(header) = header.as_str().filter(|h| token(h)) else {
                    return Some(format!(
                        "property `{at}`: x-mcp-header must be a non-empty HTTP token, not {header}"
                    ));
                };
                if seen.contains(&header.to_ascii_lowercase()) {
                    return Some(format!(
                        "property `{at}`: x-mcp-header `{header}` is used twice"
                    ));
                }
                seen.push(header.to_ascii_lowercase());
                let kind = property.get("type").and_then(Value::as_str);
                if !matches!(kind, Some("string" | "integer" | "boolean")) {
                    return Some(format!(
                        "property `{at}`: x-mcp-header needs a string, integer or boolean, not {}",
                        kind.unwrap_or("an untyped value")
                    ));
                }
            }
            if let Some(problem) = walk(property, path, seen) {
                return Some(problem);
            }
            path.pop();
        }
        None
    }
    if schema.get("x-mcp-header").is_some() {
        return "x-mcp-header on the schema itself rather than on a property".into();
    }
    walk(schema, &mut Vec::new(), &mut Vec::new()).unwrap_or_else(|| {
        "an x-mcp-header off the `properties` path (inside items, a combinator or $defs)".into()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_dropped_tool_is_named_with_why() {
        use serde_json::json;
        let listed = json!({"tools": [
            {"name": "kept", "inputSchema": {"type": "object"}},
            {"name": "empty", "inputSchema": {"type": "object", "properties": {
                "v": {"type": "string", "x-mcp-header": ""}}}},
            {"name": "twice", "inputSchema": {"type": "object", "properties": {
                "a": {"type": "string", "x-mcp-header": "Region"},
                "b": {"type": "string", "x-mcp-header": "region"}}}},
            {"name": "number", "inputSchema": {"type": "object", "properties": {
                "n": {"type": "number", "x-mcp-header": "N"}}}},
            {"name": "nested", "inputSchema": {"type": "object", "properties": {
                "list": {"type": "array", "items": {"type": "string", "x-mcp-header": "I"}}}}},
        ]});
        let kept: rmcp::model::Tool = serde_json::from_value(json!(
            {"name": "kept", "inputSchema": {"type": "object"}}
        ))
        .unwrap();
        let catalog = super::Catalog::new(vec![kept]).with_dropped_from(&[listed]);
        let why: Vec<(&str, &str)> = catalog
            .dropped
            .iter()
            .map(|d| (d.name.as_str(), d.reason.as_str()))
            .collect();
        assert_eq!(why.len(), 4, "{why:?}");
        assert!(
            why[0]
                .1
                .contains("property `v`: x-mcp-header must be a non-empty HTTP token")
        );
        assert!(why[1].1.contains("`region` is used twice"), "{why:?}");
        assert!(
            why[2]
                .1
                .contains("needs a string, integer or boolean, not number")
        );
        assert!(why[3].1.contains("off the `properties` path"));
    }

    use serde_json::json;

    use std::sync::Arc;

    use super::*;

    fn tool(name: &'static str, schema: Value) -> Tool {
        let Value::Object(schema) = schema else {
            panic!("schema is an object")
        };
        Tool::new(name, "test tool", Arc::new(schema))
    }

    fn catalog() -> Catalog {
        Catalog::new(vec![
            tool(
                "echo",
                json!({"type": "object", "properties": {"message": {"type": "string"}},
                       "required": ["message"]}),
            ),
            tool(
                "sleep",
                json!({"type": "object", "properties": {
                    "duration_ms": {"type": "integer", "minimum": 0},
                    "progress_interval_ms": {"type": ["integer", "null"]}},
                    "required": ["duration_ms"]}),
            ),
        ])
    }

    fn refusal(result: Result<(), McpError>) -> Vec<String> {
        match result {
            Err(McpError::InvalidArguments(problems)) => problems,
            other => panic!("expected invalid arguments, got {other:?}"),
        }
    }

    #[test]
    fn names_each_bad_field() {
        let catalog = catalog();
        assert_eq!(
            refusal(catalog.check("echo", &json!({"message": 42}), true)),
            vec!["/message: 42 is not of type \"string\""]
        );
        assert_eq!(
            refusal(catalog.check("sleep", &json!({"progress_interval_ms": "fast"}), true)),
            vec![
                "\"duration_ms\" is a required property",
                "/progress_interval_ms: \"fast\" is not of types \"null\", \"integer\"",
            ]
        );
    }

    #[test]
    fn unchecked_arguments_only_need_the_tool_to_exist() {
        let catalog = catalog();
        assert_eq!(
            catalog.check("echo", &json!({"message": 42}), false),
            Ok(())
        );
        assert!(matches!(
            catalog.check("ech", &json!({}), false),
            Err(McpError::UnknownTool { .. })
        ));
    }

    #[test]
    fn accepts_good_arguments_and_null_for_none() {
        let catalog = catalog();
        assert_eq!(
            catalog.check("echo", &json!({"message": "hi"}), true),
            Ok(())
        );
        assert_eq!(
            catalog.check("sleep", &json!({"duration_ms": 5}), true),
            Ok(())
        );
        let missing = refusal(catalog.check("echo", &Value::Null, true));
        assert_eq!(missing, vec!["\"message\" is a required property"]);
        assert_eq!(
            refusal(catalog.check("echo", &json!([1]), true)),
            vec!["arguments must be a JSON object, not [1]"]
        );
    }

    #[test]
    fn unknown_tool_lists_the_tools_there_are() {
        match catalog().check("ech", &json!({}), true) {
            Err(McpError::UnknownTool { tool, available }) => {
                assert_eq!(tool, "ech");
                assert_eq!(available, vec!["echo", "sleep"]);
            }
            other => panic!("expected unknown tool, got {other:?}"),
        }
    }
}
