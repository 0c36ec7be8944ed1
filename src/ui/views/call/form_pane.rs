//! The upper pane of the call view: the form's fields (or the raw JSON editor) with the one
//! being edited, the keys typed into it, and the messages next to bad fields.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;
use serde_json::Value;

use super::field::{Input, editor, pretty};
use super::form::Form;
use crate::mcp::schema;

pub struct FormPane {
    pub form: Form,
    /// The whole arguments object as JSON, and the problems of the last send.
    pub raw: Option<(TextArea<'static>, Vec<String>)>,
    pub focus: usize,
    pub editing: bool,
    /// (row, field) of the fields drawn last, for clicks.
    pub(super) rows: Vec<(u16, usize)>,
}

/// The arguments object in a JSON editor; empty means `{}`.
pub fn parse_raw(editor: &TextArea) -> Result<Value, String> {
    let text = editor.lines().join("\n");
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(other) => Err(format!("arguments must be a JSON object, not {other}")),
        Err(error) => Err(format!("the JSON does not parse: {error}")),
    }
}

impl FormPane {
    /// A tool without declared properties starts in raw JSON when there are arguments to show.
    pub fn new(schema: &Value, arguments: Option<&Value>) -> Self {
        let mut form = Form::new(schema);
        if let Some(arguments) = arguments {
            form.fill(arguments);
        }
        let raw =
            (form.fields.is_empty() && arguments.is_some_and(|a| a != &Value::Null)).then(|| {
                (
                    editor(&pretty(arguments.unwrap_or(&Value::Null))),
                    Vec::new(),
                )
            });
        Self {
            editing: !form.fields.is_empty() || raw.is_some(),
            form,
            raw,
            focus: 0,
            rows: Vec::new(),
        }
    }

    /// The arguments as they stand, for the copied commands.
    pub fn arguments(&self) -> Result<Value, String> {
        match &self.raw {
            Some((editor, _)) => parse_raw(editor),
            None => Ok(self.form.lenient()),
        }
    }

    /// The arguments to send, or `Err` with a message once the problems are marked.
    pub fn validated(&mut self, schema: &Value) -> Result<Value, String> {
        let Some((editor, problems)) = &mut self.raw else {
            return self.form.validate().map_err(|count| {
                if let Some(first) = self.form.fields.iter().position(|f| f.error.is_some()) {
                    self.focus = first;
                }
                format!(
                    "{count} problem{} to fix first",
                    if count == 1 { "" } else { "s" }
                )
            });
        };
        *problems = match parse_raw(editor) {
            Ok(value) => schema::problems(schema, &value)
                .iter()
                .map(|problem| format!("{}: {}", problem.field, problem.brief()))
                .collect(),
            Err(error) => vec![error],
        };
        match problems.len() {
            0 => parse_raw(editor),
            n => Err(format!(
                "{n} problem{} to fix first",
                if n == 1 { "" } else { "s" }
            )),
        }
    }

    /// Form ↔ raw JSON, carrying the values over; refused while the JSON does not parse.
    pub fn toggle_raw(&mut self) -> Result<(), String> {
        match self.raw.take() {
            None => {
                self.raw = Some((editor(&pretty(&self.form.lenient())), Vec::new()));
                self.editing = true;
            }
            Some((text, _)) => match parse_raw(&text) {
                Ok(value) => {
                    self.form.fill(&value);
                    self.editing = !self.form.fields.is_empty();
                }
                Err(error) => {
                    self.raw = Some((text, vec![error]));
                    return Err("fix the JSON to go back to the form".into());
                }
            },
        }
        Ok(())
    }

    pub fn move_focus(&mut self, forward: bool) {
        let count = self.form.fields.len();
        if self.raw.is_none() && count > 0 {
            self.focus = (self.focus + if forward { 1 } else { count - 1 }) % count;
            self.editing = true;
        }
    }

    pub fn start_editing(&mut self) {
        self.editing = !self.form.fields.is_empty() || self.raw.is_some();
    }

    /// Whether the keys go to a multi-line JSON editor (which uses the paging keys itself).
    pub fn in_editor(&self) -> bool {
        let focused = self.form.fields.get(self.focus).map(|f| &f.input);
        self.raw.is_some() || matches!(focused, Some(Input::Editor(_)))
    }

    pub fn click(&mut self, row: u16) {
        if let Some(&(_, field)) = self.rows.iter().find(|(r, _)| *r == row) {
            self.focus = field;
            self.editing = true;
        }
    }

    /// A key typed into the focused field or the raw JSON editor.
    pub fn type_key(&mut self, key: KeyEvent) {
        if let Some((editor, problems)) = &mut self.raw {
            if editor.input(key) {
                problems.clear();
            }
            return;
        }
        let Some(field) = self.form.fields.get_mut(self.focus) else {
            return;
        };
        let ctrl = key.modifiers == KeyModifiers::CONTROL;
        let newline =
            key.code == KeyCode::Enter || (ctrl && matches!(key.code, KeyCode::Char('m' | 'j')));
        let changed = match (&mut field.input, key.code) {
            (Input::Editor(editor), _) => editor.input(key),
            (_, KeyCode::Down) => return self.move_focus(true),
            (_, KeyCode::Up) => return self.move_focus(false),
            _ if newline => return self.move_focus(true),
            (Input::Many { .. }, KeyCode::Char(' ')) => {
                field.toggle();
                true
            }
            (Input::Many { .. }, KeyCode::Right | KeyCode::Left) => {
                field.move_cursor(key.code == KeyCode::Right);
                false
            }
            (Input::Toggle(_) | Input::Choice(_), KeyCode::Char(' ') | KeyCode::Right) => {
                field.cycle(true);
                true
            }
            (Input::Toggle(_) | Input::Choice(_), KeyCode::Left) => {
                field.cycle(false);
                true
            }
            (Input::Line(line), _) => line.input(key),
            _ => false,
        };
        if changed {
            field.error = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({"type": "object", "required": ["message"], "properties": {
            "message": {"type": "string"},
            "loud": {"type": "boolean"},
            "count": {"type": "integer", "maximum": 5}}})
    }

    fn typed(pane: &mut FormPane, keys: &str) {
        for c in keys.chars() {
            pane.type_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    fn key(pane: &mut FormPane, code: KeyCode) {
        pane.type_key(KeyEvent::new(code, KeyModifiers::NONE));
    }

    #[test]
    fn keys_type_into_the_focused_field() {
        let mut pane = FormPane::new(&schema(), None);
        assert!(pane.editing, "a form with fields opens for typing");
        typed(&mut pane, "q quits? no");
        key(&mut pane, KeyCode::Enter);
        typed(&mut pane, "7");
        key(&mut pane, KeyCode::Backspace);
        typed(&mut pane, "4");
        key(&mut pane, KeyCode::Down);
        key(&mut pane, KeyCode::Char(' '));
        assert_eq!(
            pane.validated(&schema()),
            Ok(json!({"message": "q quits? no", "loud": true, "count": 4}))
        );
        key(&mut pane, KeyCode::Down);
        assert_eq!(pane.focus, 0, "focus wraps around");
    }

    #[test]
    fn raw_json_carries_the_values_both_ways() {
        let mut pane = FormPane::new(&schema(), Some(&json!({"message": "hi", "count": 2})));
        assert_eq!(pane.toggle_raw(), Ok(()));
        assert!(pane.in_editor());
        let (editor, _) = pane.raw.as_mut().unwrap();
        assert_eq!(
            editor.lines().join(""),
            r#"{  "count": 2,  "message": "hi"}"#
        );
        *editor = super::editor(r#"{"message": "edited", "count": 9, "note": 1}"#);
        assert_eq!(
            pane.validated(&schema()),
            Err("1 problem to fix first".into()),
            "the schema still applies"
        );
        assert_eq!(
            pane.raw.as_ref().unwrap().1,
            vec!["/count: 9 is greater than the maximum of 5"]
        );
        let (editor, _) = pane.raw.as_mut().unwrap();
        *editor = super::editor(r#"{"message": "edited", "count": 3, "note": 1}"#);
        assert_eq!(pane.toggle_raw(), Ok(()));
        assert_eq!(pane.form.fields[0].text(), "edited");
        assert_eq!(
            pane.arguments(),
            Ok(json!({"message": "edited", "count": 3, "note": 1}))
        );
    }

    #[test]
    fn broken_json_keeps_the_editor_open() {
        let mut pane = FormPane::new(&schema(), None);
        pane.toggle_raw().unwrap();
        pane.raw.as_mut().unwrap().0 = super::editor("{\"message\": ");
        assert!(pane.toggle_raw().is_err());
        let problems = &pane.raw.as_ref().unwrap().1;
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("the JSON does not parse: EOF"));
        typed(&mut pane, "x");
        assert!(
            pane.raw.as_ref().unwrap().1.is_empty(),
            "typing clears the message"
        );
    }
}
