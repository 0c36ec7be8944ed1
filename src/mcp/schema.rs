//! Tool arguments against a tool's inputSchema, in one place for every caller: the pre-send
//! check of the MCP worker, the call form's field errors and raw-JSON problems, and the CLI's
//! `key=value` arguments, and the answers to a server's forms (elicitation). Validators are
//! compiled once per distinct schema and shared, and check formats as well as types and
//! bounds.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, LazyLock, Mutex, PoisonError},
};

use serde_json::{Map, Value};

/// Distinct schemas kept compiled; past it the cache starts over (a console sees a few dozen).
const CACHED_SCHEMAS: usize = 1024;

type Validators = HashMap<String, Option<Arc<jsonschema::Validator>>>;

static VALIDATORS: LazyLock<Mutex<Validators>> = LazyLock::new(Default::default);

/// One way arguments break a schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The JSON pointer of the value at fault; for a missing property, the property's own
    /// pointer (where a form shows it), not its parent's.
    pub field: String,
    /// The property is required and missing.
    pub missing: bool,
    /// Where the validator reported it (the parent object for a missing property).
    at: String,
    /// What is wrong, in the validator's words.
    pub message: String,
}

impl Problem {
    /// What is wrong in a form's words: "required" for a missing property.
    pub fn brief(&self) -> &str {
        if self.missing {
            "required"
        } else {
            &self.message
        }
    }
}

/// `/path: message`, or the message alone for the arguments object itself.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

/// The compiled validator of `schema`; `None` for a schema that does not compile, which then
/// checks nothing (the server is left to judge).
fn validator(schema: &Value) -> Option<Arc<jsonschema::Validator>> {
    let key = schema.to_string();
    let mut cache = VALIDATORS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(compiled) = cache.get(&key) {
        return compiled.clone();
    }
    // Formats are checked too (a `date` that is not a date, an `email` that is not one): a
    // person typing into a form gets told before the server refuses it.
    let compiled = match jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
    {
        Ok(validator) => Some(Arc::new(validator)),
        Err(error) => {
            tracing::warn!(%error, "an input schema does not compile; arguments are not checked");
            None
        }
    };
    if cache.len() >= CACHED_SCHEMAS {
        cache.clear();
    }
    cache.insert(key, compiled.clone());
    compiled
}

/// Every way `arguments` break `schema`.
pub fn problems(schema: &Value, arguments: &Value) -> Vec<Problem> {
    let Some(validator) = validator(schema) else {
        return Vec::new();
    };
    validator
        .iter_errors(arguments)
        .map(|error| {
            let at = error.instance_path().to_string();
            let message = error.to_string();
            match error.kind() {
                jsonschema::error::ValidationErrorKind::Required { property } => {
                    let name = match property {
                        Value::String(name) => name.clone(),
                        other => other.to_string(),
                    };
                    let name = name.replace('~', "~0").replace('/', "~1");
                    Problem {
                        field: format!("{at}/{name}"),
                        missing: true,
                        at,
                        message,
                    }
                }
                _ => Problem {
                    field: at.clone(),
                    missing: false,
                    at,
                    message,
                },
            }
        })
        .collect()
}

/// The check before a call is sent, one line per problem. MCP sends arguments as an object,
/// and `null` stands for none.
pub fn check(schema: &Value, arguments: &Value) -> Vec<String> {
    match arguments {
        Value::Object(_) => problems(schema, arguments),
        Value::Null => problems(schema, &Value::Object(Map::new())),
        other => return vec![format!("arguments must be a JSON object, not {other}")],
    }
    .iter()
    .map(ToString::to_string)
    .collect()
}

/// `key=value` pairs into an arguments object. A value becomes a string when the tool's schema
/// says the property is a string; otherwise it is read as JSON when it parses (numbers,
/// booleans, arrays, objects) and as a string when it does not.
pub fn parse_pairs(pairs: &[String], schema: Option<&Value>) -> Result<Map<String, Value>, String> {
    let mut arguments = Map::new();
    for pair in pairs {
        let (key, raw) = pair
            .split_once('=')
            .ok_or_else(|| format!("argument `{pair}` must look like key=value"))?;
        if key.is_empty() {
            return Err(format!("argument `{pair}` has an empty key"));
        }
        let declared = schema
            .and_then(|s| s.get("properties")?.get(key)?.get("type"))
            .and_then(Value::as_str);
        let value = match declared {
            Some("string") => Value::String(raw.to_string()),
            _ => serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string())),
        };
        arguments.insert(key.to_string(), value);
    }
    Ok(arguments)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sleep() -> Value {
        json!({"type": "object", "properties": {
            "duration_ms": {"type": "integer", "minimum": 0},
            "progress_interval_ms": {"type": ["integer", "null"]}},
            "required": ["duration_ms"]})
    }

    #[test]
    fn a_missing_property_points_at_itself_and_reads_as_the_validator_says() {
        let found = problems(&sleep(), &json!({"progress_interval_ms": "fast"}));
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].field.as_str(), found[0].missing),
            ("/duration_ms", true)
        );
        assert_eq!(
            found[0].to_string(),
            "\"duration_ms\" is a required property"
        );
        assert_eq!(found[1].field, "/progress_interval_ms");
        assert_eq!(
            found[1].to_string(),
            "/progress_interval_ms: \"fast\" is not of types \"null\", \"integer\""
        );
    }

    #[test]
    fn the_pre_send_check_takes_null_for_none_and_refuses_other_shapes() {
        assert_eq!(
            check(&sleep(), &json!({"duration_ms": 5})),
            Vec::<String>::new()
        );
        assert_eq!(
            check(&sleep(), &Value::Null),
            ["\"duration_ms\" is a required property"]
        );
        assert_eq!(
            check(&sleep(), &json!([1])),
            ["arguments must be a JSON object, not [1]"]
        );
        assert!(
            check(&json!({"type": 12}), &json!({"any": 1})).is_empty(),
            "bad schema"
        );
    }

    #[test]
    fn pairs_follow_the_schema() {
        let schema = json!({"properties": {"message": {"type": "string"}, "duration_ms": {"type": "integer"}}});
        let pairs = vec![
            "message=007".to_string(),
            "duration_ms=250".into(),
            "flags=[1,2]".into(),
            "note=hi there".into(),
        ];
        let parsed = parse_pairs(&pairs, Some(&schema)).unwrap();
        assert_eq!(parsed["message"], "007");
        assert_eq!(parsed["duration_ms"], 250);
        assert_eq!(parsed["flags"], json!([1, 2]));
        assert_eq!(parsed["note"], "hi there");
        assert_eq!(
            parse_pairs(&["novalue".into()], None).unwrap_err(),
            "argument `novalue` must look like key=value"
        );
    }
}
