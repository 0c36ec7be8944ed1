//! One argument of the call form: the kind of input its schema asks for, what is in it, and
//! the JSON it turns into. The schema reading that makes fields is in `schema.rs`.

use ratatui_textarea::{CursorMove, TextArea};
use serde_json::{Number, Value};

/// The type of a scalar input or of the items of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Text,
    Number,
    Integer,
    Boolean,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Scalar(Scalar),
    /// One of these values (`enum`, or a single `const`).
    Choice(Vec<Value>),
    /// Any of these values, as an array (an array whose items are an enum).
    Many(Vec<Value>),
    /// An array of scalars, typed as comma-separated items.
    List(Scalar),
    /// Objects, mixed types and anything else: edited as JSON.
    Json,
}

#[derive(Debug, Clone)]
pub enum Input {
    /// Text, numbers and lists: one line.
    Line(TextArea<'static>),
    /// `None` is "not set".
    Toggle(Option<bool>),
    /// May hold a value outside the choices when it came from raw JSON or the history.
    Choice(Option<Value>),
    Editor(TextArea<'static>),
    /// Which choices of a `Many` are chosen, and the one under the cursor.
    Many {
        chosen: Vec<bool>,
        cursor: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub kind: Kind,
    pub required: bool,
    /// The type as shown: "string", "integer", "string[]", "object", "date-time"…
    pub label: String,
    /// The description and constraints, for the hint line.
    pub hint: String,
    /// The titles of a choice's values (`oneOf` of titled `const`s, `enumNames`), shown in
    /// their place; `None` where a value has none.
    pub titles: Vec<Option<String>>,
    pub input: Input,
    pub error: Option<String>,
}

/// An editor holding `text`, with the cursor after its end, where typing continues.
pub fn editor(text: &str) -> TextArea<'static> {
    let mut area = TextArea::new(text.lines().map(str::to_string).collect());
    area.move_cursor(CursorMove::Bottom);
    area.move_cursor(CursorMove::End);
    area
}

/// A scalar as a person types it: strings without quotes.
pub fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

pub fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

impl Field {
    /// Puts `value` into the input, as a person would have typed it.
    pub fn set(&mut self, value: &Value) {
        self.error = None;
        self.input = match (&self.kind, value) {
            (_, Value::Null) => return self.clear(),
            (Kind::Scalar(Scalar::Boolean), Value::Bool(b)) => Input::Toggle(Some(*b)),
            (Kind::Choice(_), value) => Input::Choice(Some(value.clone())),
            (Kind::Many(choices), Value::Array(items)) => Input::Many {
                chosen: choices.iter().map(|c| items.contains(c)).collect(),
                cursor: 0,
            },
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
            Input::Many { ref chosen, cursor } => Input::Many {
                chosen: vec![false; chosen.len()],
                cursor,
            },
        };
    }

    /// A value as the person sees it: its title where the schema gives one.
    pub fn shown(&self, value: &Value) -> String {
        let choices = match &self.kind {
            Kind::Choice(choices) | Kind::Many(choices) => choices.as_slice(),
            _ => &[],
        };
        choices
            .iter()
            .position(|c| c == value)
            .and_then(|at| self.titles.get(at)?.clone())
            .unwrap_or_else(|| display(value))
    }

    /// The values of a `Many` that are chosen.
    fn chosen(&self) -> Vec<Value> {
        match (&self.kind, &self.input) {
            (Kind::Many(choices), Input::Many { chosen, .. }) => choices
                .iter()
                .zip(chosen)
                .filter(|(_, on)| **on)
                .map(|(value, _)| value.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Space on a `Many`: the choice under the cursor in or out.
    pub fn toggle(&mut self) {
        if let Input::Many { chosen, cursor } = &mut self.input
            && let Some(on) = chosen.get_mut(*cursor)
        {
            *on = !*on;
            self.error = None;
        }
    }

    /// ← and → on a `Many`: the cursor to the previous or next choice.
    pub fn move_cursor(&mut self, forward: bool) {
        if let Input::Many { chosen, cursor } = &mut self.input {
            let n = chosen.len().max(1);
            *cursor = (*cursor + if forward { 1 } else { n - 1 }) % n;
        }
    }

    /// What the input holds, as text.
    pub fn text(&self) -> String {
        match &self.input {
            Input::Line(area) | Input::Editor(area) => area.lines().join("\n"),
            Input::Toggle(value) => value.map(|b| b.to_string()).unwrap_or_default(),
            Input::Choice(value) => value.as_ref().map(display).unwrap_or_default(),
            Input::Many { .. } => {
                let chosen: Vec<String> = self.chosen().iter().map(display).collect();
                chosen.join(", ")
            }
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
            (_, Input::Many { .. }) => {
                let chosen = self.chosen();
                Ok((!chosen.is_empty()).then_some(Value::Array(chosen)))
            }
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
            (Kind::Json | Kind::Choice(_) | Kind::Many(_), _) => serde_json::from_str(trimmed)
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
