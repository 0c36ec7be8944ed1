//! A tool's inputSchema read as form fields: which input each property gets (a line, a
//! toggle, a choice, a JSON editor), its type label, hint and default. Pure, tested without a
//! terminal; the check of arguments against the schema is `mcp::schema`.

use serde_json::Value;

use super::field::{Field, Input, Kind, Scalar, display, editor, is_scalar};

/// Follows local `$ref`s (`#/$defs/…`) and unwraps `anyOf`/`oneOf` of `[X, null]`, the usual
/// description of an optional value.
fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..8 {
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            match target.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(found) => schema = found,
                None => break,
            }
        } else if let Some(options) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            let mut real = options
                .iter()
                .filter(|o| o.get("type") != Some(&"null".into()));
            match (real.next(), real.next()) {
                (Some(only), None) if options.len() == 2 => schema = only,
                _ => break,
            }
        } else {
            break;
        }
    }
    schema
}

/// The declared types other than "null".
fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|t| *t != "null")
    .collect()
}

fn scalar(name: &str) -> Option<Scalar> {
    Some(match name {
        "string" => Scalar::Text,
        "number" => Scalar::Number,
        "integer" => Scalar::Integer,
        "boolean" => Scalar::Boolean,
        _ => return None,
    })
}

/// The values of `enum`, of a `const`, or of a `oneOf`/`anyOf` of constants (how schemars
/// describes an enum whose variants have doc comments).
fn choices(root: &Value, schema: &Value) -> Option<Vec<Value>> {
    match (schema.get("enum"), schema.get("const")) {
        (Some(Value::Array(values)), _) => return Some(values.clone()),
        (None, Some(one)) => return Some(vec![one.clone()]),
        _ => {}
    }
    let options = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))?
        .as_array()?;
    let values = options
        .iter()
        .map(|option| match choices(root, resolve(root, option)) {
            Some(values) if values.len() == 1 => values.into_iter().next(),
            _ => None,
        });
    values.collect()
}

/// The titles of a choice's values: each titled option of a `oneOf`/`anyOf` of constants,
/// or the legacy `enumNames` beside an `enum` (MCP 2025-11-25 elicitation).
fn titles(root: &Value, schema: &Value) -> Vec<Option<String>> {
    let title = |value: &Value| {
        value
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if let Some(names) = schema.get("enumNames").and_then(Value::as_array) {
        return names
            .iter()
            .map(|n| n.as_str().map(str::to_string))
            .collect();
    }
    match schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        Some(options) if schema.get("enum").is_none() => options
            .iter()
            .map(|option| title(resolve(root, option)))
            .collect(),
        _ => Vec::new(),
    }
}

/// The choices of a scalar enum, if `schema` is one.
fn scalar_choices(root: &Value, schema: &Value) -> Option<Vec<Value>> {
    choices(root, schema).filter(|c| !c.is_empty() && c.iter().all(is_scalar))
}

fn kind_of(root: &Value, schema: &Value) -> (Kind, String) {
    if let Some(choices) = scalar_choices(root, schema) {
        return (Kind::Choice(choices), "enum".into());
    }
    let types = types(schema);
    match types.as_slice() {
        ["array"] => {
            let items = resolve(root, schema.get("items").unwrap_or(&Value::Null));
            if let Some(choices) = scalar_choices(root, items) {
                return (Kind::Many(choices), "enum[]".into());
            }
            match types_of_item(items) {
                Some(item) => (Kind::List(item), format!("{}[]", name(item))),
                None => (Kind::Json, "array".into()),
            }
        }
        [one] => match scalar(one) {
            Some(Scalar::Text) => {
                let format = schema.get("format").and_then(Value::as_str);
                (
                    Kind::Scalar(Scalar::Text),
                    format.unwrap_or("string").into(),
                )
            }
            Some(s) => (Kind::Scalar(s), (*one).into()),
            None => (Kind::Json, (*one).into()),
        },
        [] => (Kind::Json, "any".into()),
        many => (Kind::Json, many.join("|")),
    }
}

fn types_of_item(items: &Value) -> Option<Scalar> {
    match types(items).as_slice() {
        [one] => scalar(one),
        _ => None,
    }
}

fn name(item: Scalar) -> &'static str {
    match item {
        Scalar::Text => "string",
        Scalar::Number => "number",
        Scalar::Integer => "integer",
        Scalar::Boolean => "boolean",
    }
}

fn hint(property: &Value, schema: &Value, kind: &Kind, titles: &[Option<String>]) -> String {
    let get = |key: &str| property.get(key).or_else(|| schema.get(key));
    let mut parts: Vec<String> = get("description")
        .and_then(Value::as_str)
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .into_iter()
        .collect();
    for (key, label) in [
        ("minimum", "min"),
        ("maximum", "max"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
        ("pattern", "pattern"),
    ] {
        if let Some(value) = get(key) {
            parts.push(format!(
                "{label} {}",
                value.as_str().map_or(value.to_string(), Into::into)
            ));
        }
    }
    let shown = |choices: &[Value]| -> String {
        let shown: Vec<String> = choices
            .iter()
            .enumerate()
            .map(|(at, value)| match titles.get(at).cloned().flatten() {
                Some(title) => title,
                None => display(value),
            })
            .collect();
        shown.join(", ")
    };
    match kind {
        Kind::Choice(choices) => parts.push(format!("one of {}", shown(choices))),
        Kind::Many(choices) => parts.push(format!("any of {} (space picks)", shown(choices))),
        _ => {}
    }
    parts.join(" · ")
}

/// The fields of an object schema: required ones first, in the schema's order, then the rest.
pub fn fields(schema: &Value) -> Vec<Field> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut names: Vec<&String> = properties.keys().collect();
    names.sort_by_key(|n| required.iter().position(|r| r == n).unwrap_or(usize::MAX));
    names
        .into_iter()
        .map(|name| {
            let property = &properties[name];
            let resolved = resolve(schema, property);
            let (kind, label) = kind_of(schema, resolved);
            let titles = match &kind {
                Kind::Choice(_) => titles(schema, resolved),
                Kind::Many(_) => titles(
                    schema,
                    resolve(schema, resolved.get("items").unwrap_or(&Value::Null)),
                ),
                _ => Vec::new(),
            };
            let input = match &kind {
                Kind::Scalar(Scalar::Boolean) => Input::Toggle(None),
                Kind::Choice(_) => Input::Choice(None),
                Kind::Many(choices) => Input::Many {
                    chosen: vec![false; choices.len()],
                    cursor: 0,
                },
                Kind::Json => Input::Editor(editor("")),
                _ => Input::Line(editor("")),
            };
            let mut field = Field {
                name: name.clone(),
                required: required.contains(&name.as_str()),
                label,
                hint: hint(property, resolved, &kind, &titles),
                titles,
                input,
                error: None,
                kind,
            };
            if let Some(default) = property.get("default").or_else(|| resolved.get("default")) {
                field.set(default);
            }
            field
        })
        .collect()
}

/// `/name/rest` → ("name", "/rest"), unescaping the JSON pointer's first token.
pub fn split_path(path: &str) -> (String, &str) {
    let path = path.strip_prefix('/').unwrap_or(path);
    let (head, rest) = path.find('/').map_or((path, ""), |at| path.split_at(at));
    (head.replace("~1", "/").replace("~0", "~"), rest)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// One property of every kind the form knows, the way schemars and hand-written servers
    /// describe them.
    pub fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["message", "mode"],
            "properties": {
                "count": {"type": "integer", "minimum": 1, "default": 3},
                "loud": {"type": "boolean", "description": "Shout it."},
                "message": {"type": "string", "description": "What to send\n back."},
                "mode": {"$ref": "#/$defs/Mode"},
                "options": {"type": "object", "properties": {"depth": {"type": "integer"}}},
                "ratio": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                "since": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "items": {"type": "string"}, "default": ["a", "b"]},
                "weights": {"type": ["array", "null"], "items": {"type": "number"}},
                "pairs": {"type": "array", "items": {"type": "array"}},
                "either": {"type": ["string", "integer"]},
                "fixed": {"const": "v1"},
                "kind": {"oneOf": [{"const": "a", "description": "A."}, {"$ref": "#/$defs/B"}]}
            },
            "$defs": {"Mode": {"type": "string", "enum": ["fast", "slow"]}, "B": {"enum": ["b"]}}
        })
    }

    #[test]
    fn every_property_gets_an_input_of_its_kind() {
        let fields = fields(&schema());
        let shown: Vec<(&str, &Kind, &str, bool)> = fields
            .iter()
            .map(|f| (f.name.as_str(), &f.kind, f.label.as_str(), f.required))
            .collect();
        let choice = |v: &[&str]| Kind::Choice(v.iter().map(|s| json!(s)).collect());
        assert_eq!(
            shown,
            vec![
                ("message", &Kind::Scalar(Scalar::Text), "string", true),
                ("mode", &choice(&["fast", "slow"]), "enum", true),
                ("count", &Kind::Scalar(Scalar::Integer), "integer", false),
                ("either", &Kind::Json, "string|integer", false),
                ("fixed", &choice(&["v1"]), "enum", false),
                ("kind", &choice(&["a", "b"]), "enum", false),
                ("loud", &Kind::Scalar(Scalar::Boolean), "boolean", false),
                ("options", &Kind::Json, "object", false),
                ("pairs", &Kind::Json, "array", false),
                ("ratio", &Kind::Scalar(Scalar::Number), "number", false),
                ("since", &Kind::Scalar(Scalar::Text), "date-time", false),
                ("tags", &Kind::List(Scalar::Text), "string[]", false),
                ("weights", &Kind::List(Scalar::Number), "number[]", false),
            ]
        );
        assert!(
            matches!(fields[7].input, Input::Editor(_)),
            "objects get the JSON editor"
        );
        assert!(matches!(fields[6].input, Input::Toggle(None)));
    }

    #[test]
    fn defaults_and_hints_are_filled() {
        let fields = fields(&schema());
        let by_name = |name: &str| fields.iter().find(|f| f.name == name).unwrap();
        assert_eq!(by_name("count").text(), "3");
        assert_eq!(by_name("tags").text(), "a, b");
        assert_eq!(by_name("message").text(), "");
        assert_eq!(by_name("message").hint, "What to send back.");
        assert_eq!(by_name("count").hint, "min 1");
        assert_eq!(by_name("mode").hint, "one of fast, slow");
        assert!(super::fields(&json!({"type": "object"})).is_empty());
    }

    /// The enums of MCP elicitation forms (2025-11-25): titled single and multiple choices,
    /// and the legacy `enumNames`.
    #[test]
    fn titled_and_multiple_choices_show_titles_and_send_values() {
        let schema = json!({"type": "object", "properties": {
            "hero": {"type": "string", "oneOf": [
                {"const": "hero-1", "title": "Superman"}, {"const": "hero-2", "title": "Wonder Woman"}]},
            "pet": {"type": "string", "enum": ["pet-1", "pet-2"], "enumNames": ["Cats", "Dogs"]},
            "fish": {"type": "array", "items": {"anyOf": [
                {"const": "fish-1", "title": "Tuna"}, {"const": "fish-2", "title": "Salmon"}]},
                "default": ["fish-2"]},
            "tools": {"type": "array", "items": {"type": "string", "enum": ["Guitar", "Piano"]}}
        }});
        let mut fields = fields(&schema);
        let by_name =
            |fields: &[Field], name: &str| fields.iter().position(|f| f.name == name).unwrap();
        let hero = &fields[by_name(&fields, "hero")];
        assert_eq!(
            hero.kind,
            Kind::Choice(vec![json!("hero-1"), json!("hero-2")])
        );
        assert_eq!(hero.shown(&json!("hero-2")), "Wonder Woman");
        assert_eq!(hero.hint, "one of Superman, Wonder Woman");
        let pet = &fields[by_name(&fields, "pet")];
        assert_eq!(pet.shown(&json!("pet-1")), "Cats");
        let fish = by_name(&fields, "fish");
        assert_eq!(fields[fish].label, "enum[]");
        assert_eq!(
            fields[fish].value(),
            Ok(Some(json!(["fish-2"]))),
            "the default"
        );
        fields[fish].toggle();
        assert_eq!(fields[fish].value(), Ok(Some(json!(["fish-1", "fish-2"]))));
        fields[fish].move_cursor(true);
        fields[fish].toggle();
        assert_eq!(fields[fish].value(), Ok(Some(json!(["fish-1"]))));
        let tools = by_name(&fields, "tools");
        assert_eq!(
            fields[tools].kind,
            Kind::Many(vec![json!("Guitar"), json!("Piano")])
        );
        assert_eq!(fields[tools].value(), Ok(None), "nothing picked is not set");
    }

    #[test]
    fn schema_problems_point_at_fields() {
        let problems: Vec<(String, String)> =
            crate::mcp::schema::problems(&schema(), &json!({"mode": "medium", "count": 0}))
                .iter()
                .map(|p| (p.field.clone(), p.brief().to_string()))
                .collect();
        assert_eq!(
            problems,
            vec![
                ("/message".into(), "required".into()),
                ("/count".into(), "0 is less than the minimum of 1".into()),
                (
                    "/mode".into(),
                    r#""medium" is not one of "fast" or "slow""#.into()
                ),
            ]
        );
        assert_eq!(split_path("/a~1b/c"), ("a/b".into(), "/c"));
    }
}
