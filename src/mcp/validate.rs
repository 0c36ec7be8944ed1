//! Argument checks before a call leaves the console: the tool must exist on the endpoint and
//! the arguments must match its inputSchema. A refused call names every bad field, so a person
//! fixes them all at once instead of learning them one server error at a time.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use rmcp::model::Tool;
use serde_json::Value;

use super::McpError;

/// The tools one endpoint offers, as last listed, with input schemas compiled on first use.
pub(crate) struct Catalog {
    tools: Vec<Tool>,
    /// `None` marks a schema that does not compile: such a tool is left to the server to check.
    validators: Mutex<HashMap<String, Option<Arc<jsonschema::Validator>>>>,
}

impl Catalog {
    pub fn new(tools: Vec<Tool>) -> Self {
        Self {
            tools,
            validators: Mutex::new(HashMap::new()),
        }
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
    pub fn check(&self, tool: &str, arguments: &Value) -> Result<(), McpError> {
        let Some(definition) = self.tools.iter().find(|t| t.name == tool) else {
            return Err(McpError::UnknownTool {
                tool: tool.to_string(),
                available: self.names(),
            });
        };
        let validator = self
            .validators
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tool.to_string())
            .or_insert_with(|| compile(definition))
            .clone();
        let problems = match validator {
            Some(validator) => problems(&validator, arguments),
            None => shape_problems(arguments),
        };
        if problems.is_empty() {
            Ok(())
        } else {
            Err(McpError::InvalidArguments(problems))
        }
    }
}

fn compile(tool: &Tool) -> Option<Arc<jsonschema::Validator>> {
    let schema = Value::Object((*tool.input_schema).clone());
    match jsonschema::validator_for(&schema) {
        Ok(validator) => Some(Arc::new(validator)),
        Err(error) => {
            tracing::warn!(tool = %tool.name, %error, "input schema does not compile; not checked");
            None
        }
    }
}

/// MCP sends arguments as an object; `null` stands for "no arguments".
fn shape_problems(arguments: &Value) -> Vec<String> {
    match arguments {
        Value::Object(_) | Value::Null => Vec::new(),
        other => vec![format!("arguments must be a JSON object, not {other}")],
    }
}

/// One line per problem: `/path: message`, or the bare message for the arguments object
/// itself (e.g. a missing required property).
fn problems(validator: &jsonschema::Validator, arguments: &Value) -> Vec<String> {
    let shape = shape_problems(arguments);
    if !shape.is_empty() {
        return shape;
    }
    let empty = Value::Object(Default::default());
    let arguments = if arguments.is_null() {
        &empty
    } else {
        arguments
    };
    validator
        .iter_errors(arguments)
        .map(|error| {
            let path = error.instance_path().to_string();
            if path.is_empty() {
                error.to_string()
            } else {
                format!("{path}: {error}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
            refusal(catalog.check("echo", &json!({"message": 42}))),
            vec!["/message: 42 is not of type \"string\""]
        );
        assert_eq!(
            refusal(catalog.check("sleep", &json!({"progress_interval_ms": "fast"}))),
            vec![
                "\"duration_ms\" is a required property",
                "/progress_interval_ms: \"fast\" is not of types \"null\", \"integer\"",
            ]
        );
    }

    #[test]
    fn accepts_good_arguments_and_null_for_none() {
        let catalog = catalog();
        assert_eq!(catalog.check("echo", &json!({"message": "hi"})), Ok(()));
        assert_eq!(catalog.check("sleep", &json!({"duration_ms": 5})), Ok(()));
        let missing = refusal(catalog.check("echo", &Value::Null));
        assert_eq!(missing, vec!["\"message\" is a required property"]);
        assert_eq!(
            refusal(catalog.check("echo", &json!([1]))),
            vec!["arguments must be a JSON object, not [1]"]
        );
    }

    #[test]
    fn unknown_tool_lists_the_tools_there_are() {
        match catalog().check("ech", &json!({})) {
            Err(McpError::UnknownTool { tool, available }) => {
                assert_eq!(tool, "ech");
                assert_eq!(available, vec!["echo", "sleep"]);
            }
            other => panic!("expected unknown tool, got {other:?}"),
        }
    }
}
