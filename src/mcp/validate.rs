//! Argument checks before a call leaves the console: the tool must exist on the endpoint and
//! the arguments must match its inputSchema. A refused call names every bad field, so a person
//! fixes them all at once instead of learning them one server error at a time.

use rmcp::model::Tool;
use serde_json::Value;

use super::McpError;

/// The tools one endpoint offers, as last listed.
pub(crate) struct Catalog {
    tools: Vec<Tool>,
}

impl Catalog {
    pub fn new(tools: Vec<Tool>) -> Self {
        Self { tools }
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

#[cfg(test)]
mod tests {
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
