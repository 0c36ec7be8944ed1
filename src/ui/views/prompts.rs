//! A service's prompts: name, arguments (`*` when required) and description. Enter opens a
//! form of the selected prompt's arguments (with completion where the server offers it; a
//! prompt without arguments is got at once), ctrl-s gets it, and the pane below shows the
//! messages it returned — role and content, a server's text inert. Through the MCP worker as
//! `Fetch`es, answered to this page.

use std::time::SystemTime;

use crossterm::event::KeyEvent;
use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Paragraph, Row, Table},
};
use rmcp::model::{GetPromptResult, Prompt};
use serde_json::{Map, Value};

use super::{
    Context, View,
    arguments::{Argument, ArgumentsForm, FormKey},
    chrome,
};
use crate::{
    inert::inert,
    mcp::{Browse, BrowseUpdate, Browsed, CallId, Completing},
    ui::{
        action::{Action, Fetch, Scope, ViewKind},
        keys::KeyId,
        theme::Theme,
        widgets::{detail_pane, list::ListState},
    },
};

/// (header, widest it grows to); DESCRIPTION takes the rest.
pub const COLUMNS: &[(&str, u16)] = &[("NAME", 32), ("ARGUMENTS", 36), ("DESCRIPTION", 0)];

/// What a `prompts/get` returned, for the pane.
struct Got {
    name: String,
    at: SystemTime,
    result: Result<GetPromptResult, String>,
}

pub struct PromptsView {
    scope: Scope,
    list: ListState,
    prompts: Vec<Prompt>,
    listed: Option<Result<SystemTime, String>>,
    listing: Option<CallId>,
    form: Option<(String, ArgumentsForm)>,
    getting: Option<(CallId, String)>,
    got: Option<Got>,
    message: Option<String>,
}

impl PromptsView {
    pub fn new(scope: Scope) -> Self {
        Self {
            scope,
            list: ListState::default(),
            prompts: Vec::new(),
            listed: None,
            listing: None,
            form: None,
            getting: None,
            got: None,
            message: None,
        }
    }

    fn get(&self, name: &str, arguments: Map<String, Value>) -> Action {
        let what = Browse::Prompt {
            name: name.to_string(),
            arguments,
        };
        Action::Fetch(self.scope.clone(), Fetch::Browse(what))
    }

    fn open(&mut self) -> Option<Action> {
        let name = self.list.selected_id()?.to_string();
        let prompt = self.prompts.iter().find(|p| p.name == name)?;
        let arguments: Vec<Argument> = (prompt.arguments.iter().flatten())
            .map(|a| Argument {
                name: a.name.clone(),
                description: a.description.clone(),
                required: a.required == Some(true),
            })
            .collect();
        if arguments.is_empty() {
            return Some(self.get(&name, Map::new()));
        }
        let form = ArgumentsForm::new(Completing::Prompt(name.clone()), &arguments);
        self.form = Some((name, form));
        self.message = None;
        None
    }

    fn send_form(&mut self) -> Option<Action> {
        let (name, form) = self.form.as_mut()?;
        match form.values() {
            Ok(values) => {
                let arguments = (values.into_iter())
                    .map(|(key, value)| (key, Value::String(value)))
                    .collect();
                let name = name.clone();
                Some(self.get(&name, arguments))
            }
            Err(message) => Some(Action::Message(message)),
        }
    }
}

impl View for PromptsView {
    fn kind(&self) -> ViewKind {
        ViewKind::Prompts
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        let service = self.scope.service.as_deref().unwrap_or("");
        format!("prompts({service})")
    }

    fn list(&self) -> Option<&ListState> {
        Some(&self.list)
    }

    fn list_mut(&mut self) -> Option<&mut ListState> {
        Some(&mut self.list)
    }

    fn captures_input(&self) -> bool {
        self.form.is_some()
    }

    fn on_escape(&mut self) -> bool {
        let Some((_, form)) = &mut self.form else {
            return false;
        };
        if !form.escape() {
            self.form = None;
        }
        true
    }

    fn initial_fetches(&self) -> Vec<Fetch> {
        vec![Fetch::Browse(Browse::Prompts)]
    }

    fn on_key(&mut self, key: KeyId, _ctx: &Context) -> Option<Action> {
        match key {
            KeyId::Open => self.open(),
            other => self.list.on_key(other),
        }
    }

    fn on_raw_key(&mut self, key: KeyEvent, ctx: &Context) -> Option<Action> {
        let (_, form) = self.form.as_mut()?;
        match form.on_key(key, ViewKind::Prompts, ctx.offered()) {
            FormKey::Handled => None,
            FormKey::Send => self.send_form(),
            FormKey::Fetch(fetch) => Some(Action::Fetch(self.scope.clone(), fetch)),
            FormKey::Message(text) => Some(Action::Message(text)),
        }
    }

    fn on_fetch_started(&mut self, id: CallId, fetch: &Fetch) {
        match fetch {
            Fetch::Browse(Browse::Prompts) => self.listing = Some(id),
            Fetch::Browse(Browse::Prompt { name, .. }) => self.getting = Some((id, name.clone())),
            other => {
                if let Some((_, form)) = &mut self.form {
                    form.on_fetch_started(id, other);
                }
            }
        }
    }

    fn on_fetch_update(
        &mut self,
        id: CallId,
        update: &BrowseUpdate,
        now: SystemTime,
    ) -> Option<Fetch> {
        if let Some((_, form)) = &mut self.form
            && let Some(message) = form.on_fetch_update(id, update)
        {
            self.message = message;
            return None;
        }
        let BrowseUpdate::Answer(answer) = update else {
            return None;
        };
        if self.listing == Some(id) {
            self.listing = None;
            self.listed = Some(match answer {
                Ok(Browsed::Prompts { prompts }) => {
                    self.prompts = prompts.clone();
                    Ok(now)
                }
                Ok(_) => Err("unexpected answer".into()),
                Err(error) => Err(error.to_string()),
            });
        } else if let Some((_, name)) = self.getting.take_if(|(asked, _)| *asked == id) {
            let result = match answer {
                Ok(Browsed::Prompt(result)) => Ok(result.clone()),
                Ok(_) => Err("unexpected answer".into()),
                Err(error) => Err(error.to_string()),
            };
            self.got = Some(Got {
                name,
                at: now,
                result,
            });
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let prompts: Vec<&Prompt> = (self.prompts.iter())
            .filter(|p| {
                let cells = [p.name.clone(), first_line(p.description.as_deref())];
                self.list.matches(&cells)
            })
            .collect();
        let table_height =
            (prompts.len() as u16 + 1).clamp(2, (area.height.saturating_sub(1) / 3).max(2));
        let [summary, table_area, pane] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(table_height),
            Constraint::Min(0),
        ])
        .areas(area);
        let head = match &self.listed {
            None => Line::styled("listing…", theme.dim()),
            Some(Err(error)) => Line::styled(inert(error).into_owned(), theme.warn()),
            Some(Ok(at)) => Line::styled(
                format!(
                    "{} prompts · listed {} ago",
                    self.prompts.len(),
                    chrome::age(*at, ctx.now)
                ),
                theme.dim(),
            ),
        };
        frame.render_widget(Paragraph::new(head), summary);

        let rows = prompts.iter().map(|p| {
            Row::new(vec![
                Line::raw(inert(&p.name).into_owned()),
                Line::raw(arguments_cell(p)),
                Line::styled(first_line(p.description.as_deref()), theme.dim()),
            ])
        });
        let width = |cells: Vec<usize>, column: usize| {
            let (header, max) = COLUMNS[column];
            cells
                .into_iter()
                .max()
                .unwrap_or(0)
                .max(header.len())
                .min(usize::from(max)) as u16
        };
        let widths = [
            width(prompts.iter().map(|p| p.name.chars().count()).collect(), 0),
            width(
                prompts
                    .iter()
                    .map(|p| arguments_cell(p).chars().count())
                    .collect(),
                1,
            ),
        ];
        let constraints = widths
            .iter()
            .map(|w| Constraint::Length(*w))
            .chain([Constraint::Fill(1)]);
        let table = Table::new(rows, constraints)
            .header(Row::new(COLUMNS.iter().map(|c| c.0)).style(theme.header()))
            .column_spacing(2);
        let ids = prompts.iter().map(|p| p.name.clone()).collect();
        self.list.draw(frame, table_area, table, ids, theme);

        let mut below = pane;
        if let Some((name, form)) = &mut self.form {
            let hint = "ctrl-s gets it · tab completes · esc closes";
            frame.render_widget(
                detail_pane(inert(name).into_owned(), hint, Vec::new(), theme),
                pane,
            );
            let inner = Rect {
                y: pane.y + 1,
                height: pane.height.saturating_sub(1),
                ..pane
            };
            let room = Rect {
                height: inner.height.saturating_sub(inner.height / 3),
                ..inner
            };
            let mut used = form.render(frame, room, theme);
            if let Some(message) = &self.message {
                let line = Rect {
                    y: inner.y + used,
                    height: 1.min(room.height.saturating_sub(used)),
                    ..inner
                };
                frame.render_widget(
                    Paragraph::new(Line::styled(message.clone(), theme.dim())),
                    line,
                );
                used += line.height;
            }
            below = Rect {
                y: inner.y + used,
                height: inner.height.saturating_sub(used),
                ..inner
            };
        }
        let Some(got) = &self.got else {
            if self.form.is_none() {
                let text = "enter fills in the selected prompt's arguments";
                let lines = vec![Line::styled(text, theme.dim())];
                frame.render_widget(detail_pane("messages".into(), "", lines, theme), below);
            }
            return;
        };
        let title = format!(
            "{} · got {} ago",
            inert(&got.name),
            chrome::age(got.at, ctx.now)
        );
        let lines = match &got.result {
            Ok(result) => message_lines(result, theme),
            Err(error) => vec![Line::styled(inert(error).into_owned(), theme.error())],
        };
        frame.render_widget(detail_pane(title, "", lines, theme), below);
    }
}

fn first_line(text: Option<&str>) -> String {
    inert(text.and_then(|t| t.lines().next()).unwrap_or("")).into_owned()
}

/// `city* state`: the arguments, `*` marking the required ones.
pub fn arguments_cell(prompt: &Prompt) -> String {
    let names: Vec<String> = (prompt.arguments.iter().flatten())
        .map(|a| {
            format!(
                "{}{}",
                a.name,
                if a.required == Some(true) { "*" } else { "" }
            )
        })
        .collect();
    inert(&names.join(" ")).into_owned()
}

/// The prompt's description, then each message: its role, then its content — text inert,
/// other blocks as a line saying what they hold.
pub fn message_lines(result: &GetPromptResult, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(description) = &result.description {
        lines.push(Line::styled(inert(description).into_owned(), theme.dim()));
    }
    for message in &result.messages {
        let role = serde_json::to_value(&message.role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let role = Span::styled(format!("{role}: "), theme.title());
        let block = serde_json::to_value(&message.content).unwrap_or_default();
        let text = match block["type"].as_str() {
            Some("text") => inert(block["text"].as_str().unwrap_or("")).into_owned(),
            Some(kind @ ("image" | "audio")) => {
                let bytes = block["data"].as_str().map_or(0, |d| d.len() * 3 / 4);
                let mime = block["mimeType"].as_str().unwrap_or("no MIME type");
                format!("[{kind} · {} · about {bytes} bytes]", inert(mime))
            }
            Some("resource") => {
                let resource = &block["resource"];
                let uri = inert(resource["uri"].as_str().unwrap_or("")).into_owned();
                match resource["text"].as_str() {
                    Some(text) => format!("[resource {uri}]\n{}", inert(text)),
                    None => format!("[resource {uri} · blob]"),
                }
            }
            Some("resource_link") => {
                format!("[link {}]", inert(block["uri"].as_str().unwrap_or("")))
            }
            other => format!("[{} block]", other.unwrap_or("unknown")),
        };
        let mut text_lines = text.lines();
        let first = text_lines.next().unwrap_or("").to_string();
        lines.push(Line::from(vec![role, Span::raw(first)]));
        lines.extend(text_lines.map(|line| Line::raw(format!("  {line}"))));
    }
    lines
}

#[cfg(test)]
mod tests {
    use rmcp::model::{PromptArgument, PromptMessage, Role};

    use super::*;
    use crate::ui::views::{fixtures::Fixture, snapshot_support};

    fn prompts() -> Vec<Prompt> {
        let city = PromptArgument::new("city")
            .with_description("Name of the city")
            .with_required(true);
        let state = PromptArgument::new("state").with_description("Name of the state");
        vec![
            Prompt::new(
                "args-prompt",
                Some("A prompt with two arguments"),
                Some(vec![city, state]),
            ),
            Prompt::new("simple-prompt", Some("A prompt with no arguments"), None),
        ]
    }

    fn listed(view: &mut PromptsView) {
        view.on_fetch_started(1, &Fetch::Browse(Browse::Prompts));
        let answer = Ok(Browsed::Prompts { prompts: prompts() });
        view.on_fetch_update(
            1,
            &BrowseUpdate::Answer(answer),
            Fixture::new().context().now,
        );
    }

    #[test]
    fn enter_opens_the_form_and_ctrl_s_gets_the_prompt() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = PromptsView::new(Scope::service("mcpfleet-server"));
        assert_eq!(view.initial_fetches(), vec![Fetch::Browse(Browse::Prompts)]);
        listed(&mut view);
        snapshot_support::render(&mut view, &ctx, 100, 30);
        assert_eq!(view.on_key(KeyId::Open, &ctx), None, "a form opens");
        assert!(view.captures_input());
        let key = |code| KeyEvent::new(code, crossterm::event::KeyModifiers::NONE);
        for c in "Paris\x1b".chars() {
            if c != '\x1b' {
                view.on_raw_key(key(crossterm::event::KeyCode::Char(c)), &ctx);
            }
        }
        let send = KeyEvent::new(
            crossterm::event::KeyCode::Char('s'),
            crossterm::event::KeyModifiers::CONTROL,
        );
        let Some(Action::Fetch(_, fetch @ Fetch::Browse(Browse::Prompt { .. }))) =
            view.on_raw_key(send, &ctx)
        else {
            panic!("ctrl-s gets the prompt");
        };
        let Fetch::Browse(Browse::Prompt { name, arguments }) = &fetch else {
            unreachable!()
        };
        assert_eq!(name, "args-prompt");
        assert_eq!(arguments.get("city"), Some(&Value::String("Paris".into())));
        view.on_fetch_started(2, &fetch);
        let result = GetPromptResult::new(vec![PromptMessage::new_text(
            Role::User,
            "What's weather in Paris?\x1b[2J",
        )]);
        view.on_fetch_update(
            2,
            &BrowseUpdate::Answer(Ok(Browsed::Prompt(result))),
            ctx.now,
        );
        let screen = snapshot_support::render(&mut view, &ctx, 100, 30);
        assert!(
            screen.contains("user: What's weather in Paris?\\u{1b}[2J"),
            "{screen}"
        );
        assert!(
            view.on_escape() && view.on_escape(),
            "esc stops editing, then closes"
        );
        assert!(!view.captures_input());
        crate::assert_view_snapshots!("prompts", &mut view, &ctx);
    }

    #[test]
    fn a_prompt_without_arguments_is_got_at_once() {
        let fixture = Fixture::new();
        let ctx = fixture.context();
        let mut view = PromptsView::new(Scope::service("mcpfleet-server"));
        listed(&mut view);
        snapshot_support::render(&mut view, &ctx, 100, 30);
        view.on_key(KeyId::Down, &ctx);
        let action = view.on_key(KeyId::Open, &ctx);
        assert!(
            matches!(action, Some(Action::Fetch(_, Fetch::Browse(Browse::Prompt { ref name, .. }))) if name == "simple-prompt"),
            "{action:?}"
        );
    }
}
