//! The call form's values: what each field holds, the JSON it turns into, and the checks that
//! put a message next to each bad field before a call leaves. No drawing here; the call view
//! draws the form and feeds it keys.

use serde_json::{Map, Value};

use super::field::Field;
use super::schema::{fields, split_path};
use crate::mcp::schema;

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
    use crate::ui::views::call::field::{Input, editor};

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
    fn formats_are_checked_before_sending() {
        let mut form = Form::new(&json!({"type": "object", "properties": {
            "birthdate": {"type": "string", "format": "date"},
            "email": {"type": "string", "format": "email"}}}));
        field(&mut form, "birthdate").set(&json!("Ada Lovelace"));
        field(&mut form, "email").set(&json!("ada@example.com"));
        assert_eq!(form.validate(), Err(1));
        assert_eq!(
            errors(&form),
            vec![("birthdate", r#""Ada Lovelace" is not a "date""#)]
        );
        field(&mut form, "birthdate").set(&json!("1815-12-10"));
        assert!(form.validate().is_ok());
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
