//! The call form's values: what each field holds, the JSON it turns into, and the checks that
//! put a message next to each bad field before a call leaves. No drawing here; the call view
//! draws the form and feeds it keys.

use serde_json::{Map, Number, Value};

use super::schema::split_path;
use super::schema::{Field, Input, Kind, Scalar, display, editor, fields, is_scalar, pretty};
use crate::mcp::schema;

impl Field {
    /// Puts `value` into the input, as a person would have typed it.
    pub fn set(&mut self, value: &Value) {
        self.error = None;
        self.input = match (&self.kind, value) {
            (_, Value::Null) => return self.clear(),
            (Kind::Scalar(Scalar::Boolean), Value::Bool(b)) => Input::Toggle(Some(*b)),
            (Kind::Choice(_), value) => Input::Choice(Some(value.clone())),
            (Kind::List(_), Value::Array(items)) => {
                let plain = items.iter().all(|i| {
                    let text = display(i);
                    is_scalar(i) && !text.contains(',') && !text.trim().is_empty()
                });
                if plain {
                    Input::Line(editor(
                        &items.iter().map(display).collect::<Vec<_>>().join(", "),
                    ))
                } else {
                    Input::Line(editor(&value.to_string()))
                }
            }
            (Kind::Json, value) => Input::Editor(editor(&pretty(value))),
            (_, value) if is_scalar(value) => Input::Line(editor(&display(value))),
            (_, value) => Input::Line(editor(&value.to_string())),
        };
    }

    pub fn clear(&mut self) {
        self.input = match self.input {
            Input::Toggle(_) => Input::Toggle(None),
            Input::Choice(_) => Input::Choice(None),
            Input::Line(_) => Input::Line(editor("")),
            Input::Editor(_) => Input::Editor(editor("")),
        };
    }

    /// What the input holds, as text.
    pub fn text(&self) -> String {
        match &self.input {
            Input::Line(area) | Input::Editor(area) => area.lines().join("\n"),
            Input::Toggle(value) => value.map(|b| b.to_string()).unwrap_or_default(),
            Input::Choice(value) => value.as_ref().map(display).unwrap_or_default(),
        }
    }

    /// The value to send, `None` when the field is empty; `Err` says why the input is unusable.
    pub fn value(&self) -> Result<Option<Value>, String> {
        let text = self.text();
        let trimmed = text.trim();
        match (&self.kind, &self.input) {
            (_, Input::Toggle(value)) => Ok(value.map(Value::Bool)),
            (Kind::Choice(choices), Input::Choice(Some(value))) if !choices.contains(value) => {
                let shown: Vec<String> = choices.iter().map(display).collect();
                Err(format!("must be one of {}", shown.join(", ")))
            }
            (_, Input::Choice(value)) => Ok(value.clone()),
            _ if trimmed.is_empty() => Ok(None),
            (Kind::Scalar(Scalar::Text), _) => Ok(Some(Value::String(text))),
            (Kind::Scalar(item), _) => parse(*item, trimmed).map(Some),
            (Kind::List(_), _) if trimmed.starts_with('[') => serde_json::from_str(trimmed)
                .map(Some)
                .map_err(|e| format!("invalid JSON array: {e}")),
            (Kind::List(item), _) => trimmed
                .split(',')
                .enumerate()
                .map(|(i, part)| {
                    parse(*item, part.trim()).map_err(|e| format!("item {}: {e}", i + 1))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|items| Some(Value::Array(items))),
            (Kind::Json | Kind::Choice(_), _) => serde_json::from_str(trimmed)
                .map(Some)
                .map_err(|e| format!("invalid JSON: {e}")),
        }
    }

    /// Like `value`, but keeps unusable input as a string instead of failing, so switching to
    /// raw JSON loses nothing a person typed.
    pub fn lenient(&self) -> Option<Value> {
        self.value()
            .unwrap_or_else(|_| Some(Value::String(self.text())))
    }

    /// Space, ← and → on a toggle or a choice: the next (or previous) value, passing "not set"
    /// when the field is optional.
    pub fn cycle(&mut self, forward: bool) {
        let options: Vec<Option<Value>> = match &self.kind {
            Kind::Scalar(Scalar::Boolean) => vec![Some(true.into()), Some(false.into())],
            Kind::Choice(choices) => choices.iter().cloned().map(Some).collect(),
            _ => return,
        };
        let mut options = options;
        if !self.required {
            options.insert(0, None);
        }
        let current = self.value().ok().flatten();
        let at = options.iter().position(|o| *o == current);
        let n = options.len();
        let next = match (at, forward) {
            (None, true) => 0,
            (None, false) => n - 1,
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
        };
        self.error = None;
        match options[next].clone() {
            Some(value) => self.set(&value),
            None => self.clear(),
        }
    }
}

fn parse(item: Scalar, text: &str) -> Result<Value, String> {
    match item {
        Scalar::Text => Ok(Value::String(text.to_string())),
        Scalar::Number => serde_json::from_str::<Number>(text)
            .map(Value::Number)
            .map_err(|_| format!("{text:?} is not a number")),
        Scalar::Integer => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<u64>().map(Value::from))
            .map_err(|_| format!("{text:?} is not an integer")),
        Scalar::Boolean => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("{text:?} is not true or false")),
        },
    }
}

/// The fields of one tool, with what raw JSON or a past call added beyond the schema.
#[derive(Debug, Clone)]
pub struct Form {
    schema: Value,
    pub fields: Vec<Field>,
    /// Arguments the schema does not declare, kept so switching modes loses nothing.
    pub extra: Map<String, Value>,
    /// Problems not tied to one field.
    pub errors: Vec<String>,
}

impl Form {
    pub fn new(schema: &Value) -> Self {
        Self {
            schema: schema.clone(),
            fields: fields(schema),
            extra: Map::new(),
            errors: Vec::new(),
        }
    }

    /// Fills every field from an arguments object; fields it does not name are emptied.
    pub fn fill(&mut self, arguments: &Value) {
        let empty = Map::new();
        let object = arguments.as_object().unwrap_or(&empty);
        for field in &mut self.fields {
            match object.get(&field.name) {
                Some(value) => field.set(value),
                None => field.clear(),
            }
        }
        self.extra = object
            .iter()
            .filter(|(key, _)| !self.fields.iter().any(|f| &f.name == *key))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.errors.clear();
    }

    /// The arguments as far as they go, for raw JSON mode and the copied commands.
    pub fn lenient(&self) -> Value {
        let mut object = self.extra.clone();
        for field in &self.fields {
            if let Some(value) = field.lenient() {
                object.insert(field.name.clone(), value);
            }
        }
        Value::Object(object)
    }

    /// Checks in the order a person fixes things: required fields, then what each input
    /// parses to, then the whole schema. Puts each message on its field; `Ok` is what to send.
    pub fn validate(&mut self) -> Result<Value, usize> {
        self.errors.clear();
        let mut object = self.extra.clone();
        for field in &mut self.fields {
            field.error = match field.value() {
                Ok(None) if field.required => Some("required".into()),
                Ok(None) => None,
                Ok(Some(value)) => {
                    object.insert(field.name.clone(), value);
                    None
                }
                Err(error) => Some(error),
            };
        }
        let arguments = Value::Object(object);
        for problem in schema::problems(&self.schema, &arguments) {
            let (head, rest) = split_path(&problem.field);
            let message = problem.brief().to_string();
            match self.fields.iter_mut().find(|f| f.name == head) {
                Some(field) if field.error.is_none() => {
                    field.error = Some(if rest.is_empty() {
                        message
                    } else {
                        format!("{rest}: {message}")
                    });
                }
                Some(_) => {}
                None if problem.field.is_empty() => self.errors.push(message),
                None => self.errors.push(format!("{}: {message}", problem.field)),
            }
        }
        let count = self.fields.iter().filter(|f| f.error.is_some()).count() + self.errors.len();
        if count == 0 {
            Ok(arguments)
        } else {
            Err(count)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form() -> Form {
        Form::new(&json!({
            "type": "object",
            "required": ["message", "mode"],
            "properties": {
                "message": {"type": "string"},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "count": {"type": "integer", "minimum": 1, "default": 3},
                "loud": {"type": "boolean"},
                "ratio": {"type": "number"},
                "ids": {"type": "array", "items": {"type": "integer"}},
                "options": {"type": "object", "properties": {"depth": {"type": "integer"}}}
            }
        }))
    }

    fn field<'a>(form: &'a mut Form, name: &str) -> &'a mut Field {
        form.fields.iter_mut().find(|f| f.name == name).unwrap()
    }

    fn errors(form: &Form) -> Vec<(&str, &str)> {
        let with_error = form
            .fields
            .iter()
            .filter_map(|f| Some((f.name.as_str(), f.error.as_deref()?)));
        with_error.collect()
    }

    #[test]
    fn fields_turn_into_typed_json() {
        let mut form = form();
        field(&mut form, "message").set(&json!("hi, there"));
        field(&mut form, "mode").cycle(true);
        field(&mut form, "loud").cycle(true);
        field(&mut form, "ratio").input = Input::Line(editor("0.25"));
        field(&mut form, "ids").input = Input::Line(editor("1, 2,3"));
        field(&mut form, "options").input = Input::Editor(editor("{\n  \"depth\": 2\n}"));
        assert_eq!(
            form.validate(),
            Ok(
                json!({"message": "hi, there", "mode": "fast", "count": 3, "loud": true,
                      "ratio": 0.25, "ids": [1, 2, 3], "options": {"depth": 2}})
            )
        );
        field(&mut form, "ids").input = Input::Line(editor("[4]"));
        field(&mut form, "count").clear();
        let sent = form.validate().unwrap();
        assert_eq!((sent["ids"].clone(), sent.get("count")), (json!([4]), None));
    }

    #[test]
    fn problems_land_next_to_their_fields() {
        let mut form = form();
        field(&mut form, "count").input = Input::Line(editor("2.5"));
        field(&mut form, "ratio").input = Input::Line(editor("much"));
        field(&mut form, "ids").input = Input::Line(editor("1, x"));
        field(&mut form, "options").input = Input::Editor(editor("{depth: 2}"));
        assert_eq!(form.validate(), Err(6));
        assert_eq!(
            errors(&form),
            vec![
                ("message", "required"),
                ("mode", "required"),
                ("count", "\"2.5\" is not an integer"),
                ("ids", "item 2: \"x\" is not an integer"),
                (
                    "options",
                    "invalid JSON: key must be a string at line 1 column 2"
                ),
                ("ratio", "\"much\" is not a number"),
            ]
        );
        // Fixed inputs go on to the schema check, which names the rest.
        let mut form = self::form();
        form.fill(&json!({"message": "m", "mode": "medium", "count": 0, "extra": true}));
        assert_eq!(form.validate(), Err(2));
        assert_eq!(
            errors(&form),
            vec![
                ("mode", "must be one of fast, slow"),
                ("count", "0 is less than the minimum of 1")
            ]
        );
    }

    #[test]
    fn filling_and_lenient_values_lose_nothing() {
        let mut form = form();
        let arguments = json!({"message": "m", "mode": "slow", "ids": [1, 2], "loud": false,
                               "options": {"depth": 1}, "extra": [true]});
        form.fill(&arguments);
        assert_eq!(
            field(&mut form, "count").text(),
            "",
            "a past call without it"
        );
        assert_eq!(form.extra.keys().collect::<Vec<_>>(), vec!["extra"]);
        assert_eq!(form.lenient(), arguments);
        assert_eq!(form.validate(), Ok(arguments));
        field(&mut form, "ratio").input = Input::Line(editor("1/2"));
        assert_eq!(form.lenient()["ratio"], json!("1/2"), "kept as typed");
    }

    #[test]
    fn toggles_and_choices_cycle_through_not_set_when_optional() {
        let mut form = form();
        let loud = field(&mut form, "loud");
        let mut seen = Vec::new();
        for _ in 0..3 {
            loud.cycle(true);
            seen.push(loud.text());
        }
        assert_eq!(seen, vec!["true", "false", ""]);
        let mode = field(&mut form, "mode");
        mode.cycle(false);
        assert_eq!(mode.text(), "slow", "required: no \"not set\" step");
        mode.cycle(true);
        assert_eq!(mode.text(), "fast");
    }
}
