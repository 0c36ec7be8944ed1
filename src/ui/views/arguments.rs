//! The form of a prompt's arguments or a resource template's variables: the call view's
//! `FormPane` over a schema of string fields, and completion — a key asks the server
//! (`completion/complete`) for the values of the focused field given what is typed and the
//! other fields, and offers them as a choice list under the form.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::Paragraph,
};
use serde_json::{Map, Value, json};

use super::call::form_pane::FormPane;
use crate::{
    inert::inert,
    mcp::{Browse, BrowseUpdate, Browsed, CallId, Completing},
    ui::{
        action::{Fetch, ViewKind},
        keys::{self, KeyId, Offered},
        theme::Theme,
    },
};

/// Completion values shown at once; the list scrolls past them.
const SHOWN: usize = 6;

/// One argument: its name, what it is for, and whether it must be given.
#[derive(Debug, Clone, PartialEq)]
pub struct Argument {
    pub name: String,
    pub description: Option<String>,
    pub required: bool,
}

/// The arguments as a JSON schema of string properties, for the form.
pub fn schema_of(arguments: &[Argument]) -> Value {
    let properties: Map<String, Value> = arguments
        .iter()
        .map(|a| {
            let mut property = json!({"type": "string"});
            if let Some(description) = &a.description {
                property["description"] = json!(description);
            }
            (a.name.clone(), property)
        })
        .collect();
    let required: Vec<&str> = arguments
        .iter()
        .filter(|a| a.required)
        .map(|a| a.name.as_str())
        .collect();
    json!({"type": "object", "properties": properties, "required": required})
}

/// The server's values for one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Choices {
    pub field: String,
    pub values: Vec<String>,
    pub selected: usize,
    /// The server has more than it sent.
    pub more: bool,
}

/// What a key did in the form, for the view to act on.
#[derive(Debug, PartialEq)]
pub enum FormKey {
    /// Nothing beyond the form.
    Handled,
    Send,
    Fetch(Fetch),
    Message(String),
}

pub struct ArgumentsForm {
    pub pane: FormPane,
    schema: Value,
    reference: Completing,
    pub choices: Option<Choices>,
    /// The field a completion was asked for, then the request's id.
    asked: Option<String>,
    completing: Option<(CallId, String)>,
}

impl ArgumentsForm {
    pub fn new(reference: Completing, arguments: &[Argument]) -> Self {
        let schema = schema_of(arguments);
        Self {
            pane: FormPane::new(&schema, None),
            schema,
            reference,
            choices: None,
            asked: None,
            completing: None,
        }
    }

    /// The values to send, or the message once the bad fields are marked.
    pub fn values(&mut self) -> Result<BTreeMap<String, String>, String> {
        let value = self.pane.validated(&self.schema)?;
        Ok(strings(&value))
    }

    fn focused_name(&self) -> Option<String> {
        let field = self.pane.form.fields.get(self.pane.focus)?;
        Some(field.name.clone())
    }

    /// `completion/complete` for the focused field, with the other fields as context.
    pub fn complete(&mut self) -> FormKey {
        let Some(argument) = self.focused_name() else {
            return FormKey::Message("no field to complete".into());
        };
        let mut context = strings(&self.pane.form.lenient());
        let value = context.remove(&argument).unwrap_or_default();
        context.retain(|_, value| !value.is_empty());
        self.asked = Some(argument.clone());
        FormKey::Fetch(Fetch::Browse(Browse::Complete {
            reference: self.reference.clone(),
            argument,
            value,
            context,
        }))
    }

    pub fn on_fetch_started(&mut self, id: CallId, fetch: &Fetch) {
        if let (Fetch::Browse(Browse::Complete { .. }), Some(field)) = (fetch, self.asked.take()) {
            self.completing = Some((id, field));
        }
    }

    /// Takes the answer to a completion it asked for; `None` when the update is not its own,
    /// else the message to show, if any.
    pub fn on_fetch_update(&mut self, id: CallId, update: &BrowseUpdate) -> Option<Option<String>> {
        let (asked, field) = self.completing.take_if(|(asked, _)| *asked == id)?;
        debug_assert_eq!(asked, id);
        Some(match update {
            BrowseUpdate::Answer(Ok(Browsed::Completion(completion))) => {
                if completion.values.is_empty() {
                    self.choices = None;
                    Some(format!("the server has no completions for {field}"))
                } else {
                    let more = completion.has_more == Some(true)
                        || completion
                            .total
                            .is_some_and(|t| t as usize > completion.values.len());
                    self.choices = Some(Choices {
                        field,
                        values: completion.values.clone(),
                        selected: 0,
                        more,
                    });
                    None
                }
            }
            BrowseUpdate::Answer(Err(error)) => Some(format!("completion: {error}")),
            _ => None,
        })
    }

    /// Esc: closes the choices, then stops editing; false when there was neither.
    pub fn escape(&mut self) -> bool {
        if self.choices.take().is_some() {
            return true;
        }
        std::mem::replace(&mut self.pane.editing, false)
    }

    /// A key while the form is open: the choice list first, then the view's keys that work
    /// while typing (send, complete), then the focused field.
    pub fn on_key(&mut self, key: KeyEvent, view: ViewKind, offered: Offered) -> FormKey {
        if let Some(choices) = &mut self.choices {
            let count = choices.values.len();
            match key.code {
                KeyCode::Down => choices.selected = (choices.selected + 1) % count,
                KeyCode::Up => choices.selected = (choices.selected + count - 1) % count,
                KeyCode::Enter => {
                    let chosen = choices.values[choices.selected].clone();
                    let field = choices.field.clone();
                    self.choices = None;
                    if let Some(input) = self.pane.form.fields.iter_mut().find(|f| f.name == field)
                    {
                        input.set(&Value::String(chosen));
                        input.error = None;
                    }
                }
                _ => {
                    self.choices = None;
                    return self.on_key(key, view, offered);
                }
            }
            return FormKey::Handled;
        }
        match keys::lookup(&key, view, false, offered) {
            Some(KeyId::Send) => return FormKey::Send,
            Some(KeyId::Complete) => return self.complete(),
            _ => {}
        }
        if self.pane.editing {
            self.pane.type_key(key);
        } else if matches!(key.code, KeyCode::Enter) {
            self.pane.start_editing();
        } else if matches!(key.code, KeyCode::Down | KeyCode::Up) {
            self.pane.move_focus(key.code == KeyCode::Down);
        }
        FormKey::Handled
    }

    /// The fields, then the choice list when there is one; returns the rows used.
    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: Theme) -> u16 {
        let lines = self.choice_lines(theme);
        let room = area.height.saturating_sub(lines.len() as u16);
        let used = self.pane.render(frame, area, room, theme).min(area.height);
        let below = Rect {
            y: area.y + used,
            height: area.height - used,
            ..area
        };
        let shown = (lines.len() as u16).min(below.height);
        frame.render_widget(Paragraph::new(lines), below);
        used + shown
    }

    fn choice_lines(&self, theme: Theme) -> Vec<Line<'static>> {
        let Some(choices) = &self.choices else {
            return Vec::new();
        };
        let more = if choices.more {
            ", the server has more"
        } else {
            ""
        };
        let mut lines = vec![Line::styled(
            format!(
                "  {} value{} for {}{more} · ↑/↓ choose, enter takes, esc closes",
                choices.values.len(),
                if choices.values.len() == 1 { "" } else { "s" },
                choices.field
            ),
            theme.dim(),
        )];
        let first = choices.selected.saturating_sub(SHOWN - 1);
        for (index, value) in choices.values.iter().enumerate().skip(first).take(SHOWN) {
            let selected = index == choices.selected;
            lines.push(Line::from(vec![
                Span::styled(if selected { "  ▸ " } else { "    " }, theme.key()),
                Span::styled(
                    inert(value).into_owned(),
                    if selected {
                        theme.selected()
                    } else {
                        Default::default()
                    },
                ),
            ]));
        }
        lines
    }
}

/// An arguments object as name → text (prompt arguments and template variables are strings).
fn strings(value: &Value) -> BTreeMap<String, String> {
    let empty = Map::new();
    (value.as_object().unwrap_or(&empty).iter())
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (name.clone(), text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyModifiers;
    use rmcp::model::CompletionInfo;

    use super::*;

    fn form() -> ArgumentsForm {
        let arguments = [
            Argument {
                name: "department".into(),
                description: Some("Choose the department.".into()),
                required: true,
            },
            Argument {
                name: "name".into(),
                description: None,
                required: false,
            },
        ];
        ArgumentsForm::new(Completing::Prompt("team".into()), &arguments)
    }

    fn press(form: &mut ArgumentsForm, code: KeyCode) -> FormKey {
        form.on_key(
            KeyEvent::new(code, KeyModifiers::NONE),
            ViewKind::Prompts,
            Offered::new(false, crate::fleet::SourceKind::Local),
        )
    }

    fn typed(form: &mut ArgumentsForm, text: &str) {
        for c in text.chars() {
            press(form, KeyCode::Char(c));
        }
    }

    #[test]
    fn arguments_become_string_fields_with_the_required_marked() {
        let schema = schema_of(&form_arguments());
        assert_eq!(schema["required"], json!(["department"]));
        assert_eq!(schema["properties"]["name"], json!({"type": "string"}));
        let mut form = form();
        assert_eq!(form.values(), Err("1 problem to fix first".into()));
        typed(&mut form, "Sales");
        let values = form.values().unwrap();
        assert_eq!(values.get("department").map(String::as_str), Some("Sales"));
        assert!(
            !values.contains_key("name"),
            "an empty optional field is left out"
        );
    }

    fn form_arguments() -> Vec<Argument> {
        vec![
            Argument {
                name: "department".into(),
                description: None,
                required: true,
            },
            Argument {
                name: "name".into(),
                description: None,
                required: false,
            },
        ]
    }

    #[test]
    fn tab_asks_for_the_focused_field_and_enter_takes_a_choice() {
        let mut form = form();
        typed(&mut form, "Engineering");
        press(&mut form, KeyCode::Down);
        typed(&mut form, "A");
        let FormKey::Fetch(fetch) = press(&mut form, KeyCode::Tab) else {
            panic!("tab asks the server");
        };
        let Fetch::Browse(Browse::Complete {
            argument,
            value,
            context,
            ..
        }) = &fetch
        else {
            panic!("{fetch:?}");
        };
        assert_eq!((argument.as_str(), value.as_str()), ("name", "A"));
        assert_eq!(
            context.get("department").map(String::as_str),
            Some("Engineering")
        );
        form.on_fetch_started(9, &fetch);
        assert_eq!(form.on_fetch_update(8, &BrowseUpdate::ListChanged), None);
        let values = CompletionInfo::new(vec!["Alice".into(), "Anna".into()]).unwrap();
        let answer = BrowseUpdate::Answer(Ok(Browsed::Completion(values)));
        assert_eq!(form.on_fetch_update(9, &answer), Some(None));
        press(&mut form, KeyCode::Down);
        press(&mut form, KeyCode::Enter);
        assert!(form.choices.is_none());
        assert_eq!(form.values().unwrap()["name"], "Anna");
    }
}
