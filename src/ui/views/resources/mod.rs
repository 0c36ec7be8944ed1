//! A service's resources and resource templates (name, URI, MIME type, size, description).
//! Enter reads a resource into the pane below; on a template it opens a form of the
//! template's variables (with completion), and ctrl-s reads the expanded URI. `s` subscribes
//! to the selected resource (or stops): each `notifications/resources/updated` reads it again,
//! marked with when it changed. The list is read again when the server says it changed. All
//! of it goes through the MCP worker as `Fetch`es; the answers come back to this page.

mod content;
mod template;
#[cfg(test)]
mod tests;

use std::{collections::HashMap, time::SystemTime};

use crossterm::event::KeyEvent;
use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Paragraph, Row, Table},
};
use rmcp::model::{Resource, ResourceTemplate};

use self::content::{Read, Watched};
use super::{
    Context, View,
    arguments::{Argument, ArgumentsForm, FormKey},
};
use crate::{
    inert::inert,
    mcp::{Browse, BrowseUpdate, Browsed, CallId, Completing},
    ui::{
        action::{Action, Fetch, Scope, ViewKind},
        keys::KeyId,
        widgets::{detail_pane, list::ListState},
    },
};

/// (header, widest it grows to); DESCRIPTION takes the rest.
pub const COLUMNS: &[(&str, u16)] = &[
    ("", 1),
    ("KIND", 8),
    ("NAME", 28),
    ("URI", 48),
    ("MIME", 24),
    ("SIZE", 8),
    ("DESCRIPTION", 0),
];

/// Row ids of templates are kept apart from resource URIs.
const TEMPLATE: &str = "template ";

#[derive(Default)]
struct Listing {
    resources: Vec<Resource>,
    templates: Vec<ResourceTemplate>,
    at: Option<SystemTime>,
    error: Option<String>,
    /// The request under way, if any.
    asked: Option<CallId>,
}

pub struct ResourcesView {
    scope: Scope,
    list: ListState,
    listing: Listing,
    /// The list-change watch, and how the server carries it.
    list_watch: Option<(CallId, Option<&'static str>)>,
    read: Option<Read>,
    reading: Option<(CallId, String)>,
    /// The template whose form is open.
    form: Option<(ResourceTemplate, ArgumentsForm)>,
    /// Subscribed resources by URI, with the watch's id once the worker has it.
    watched: HashMap<String, (Option<CallId>, Watched)>,
    message: Option<String>,
}

impl ResourcesView {
    pub fn new(scope: Scope) -> Self {
        Self {
            scope,
            list: ListState::default(),
            listing: Listing::default(),
            list_watch: None,
            read: None,
            reading: None,
            form: None,
            watched: HashMap::new(),
            message: None,
        }
    }

    fn fetch(&self, fetch: Fetch) -> Action {
        Action::Fetch(self.scope.clone(), fetch)
    }

    fn read(&self, uri: &str) -> Action {
        self.fetch(Fetch::Browse(Browse::Read {
            uri: uri.to_string(),
        }))
    }

    fn selected(&self) -> Option<(bool, String)> {
        let id = self.list.selected_id()?;
        Some(match id.strip_prefix(TEMPLATE) {
            Some(template) => (true, template.to_string()),
            None => (false, id.to_string()),
        })
    }

    fn open_template(&mut self, uri_template: &str) -> Option<Action> {
        let found = (self.listing.templates.iter()).find(|t| t.uri_template == uri_template)?;
        let arguments: Vec<Argument> = template::variables(uri_template)
            .into_iter()
            .map(|name| Argument {
                name,
                description: None,
                required: true,
            })
            .collect();
        if arguments.is_empty() {
            return Some(self.read(uri_template));
        }
        let reference = Completing::ResourceTemplate(uri_template.to_string());
        self.form = Some((found.clone(), ArgumentsForm::new(reference, &arguments)));
        None
    }

    fn toggle_subscription(&mut self) -> Option<Action> {
        let (template, uri) = self.selected()?;
        if template {
            return Some(Action::Message(
                "a template is not a resource: read it first, then subscribe to the URI".into(),
            ));
        }
        match self.watched.remove(&uri) {
            Some((Some(id), _)) => Some(Action::StopWatch(id)),
            Some((None, _)) => None,
            None => {
                self.watched.insert(uri.clone(), (None, Watched::default()));
                Some(self.fetch(Fetch::Watch(Some(uri))))
            }
        }
    }

    fn send_form(&mut self) -> Option<Action> {
        let (template, form) = self.form.as_mut()?;
        match form.values() {
            Ok(values) => {
                let uri =
                    template::expand(&template.uri_template, |name| values.get(name).cloned());
                Some(self.read(&uri))
            }
            Err(message) => Some(Action::Message(message)),
        }
    }

    fn on_answer(
        &mut self,
        id: CallId,
        answer: &Result<Browsed, crate::mcp::McpError>,
        now: SystemTime,
    ) {
        if self.listing.asked == Some(id) {
            self.listing.asked = None;
            self.listing.at = Some(now);
            match answer {
                Ok(Browsed::Resources {
                    resources,
                    templates,
                }) => {
                    self.listing.resources = resources.clone();
                    self.listing.templates = templates.clone();
                    self.listing.error = None;
                }
                Ok(_) => {}
                Err(error) => self.listing.error = Some(error.to_string()),
            }
        } else if let Some((_, uri)) = self.reading.take_if(|(asked, _)| *asked == id) {
            let result = match answer {
                Ok(Browsed::Contents(result)) => Ok(result.clone()),
                Ok(_) => Err("unexpected answer".into()),
                Err(error) => Err(error.to_string()),
            };
            self.read = Some(Read {
                uri,
                at: now,
                result,
            });
        }
    }
}

impl View for ResourcesView {
    fn kind(&self) -> ViewKind {
        ViewKind::Resources
    }

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn title(&self) -> String {
        let service = self.scope.service.as_deref().unwrap_or("");
        format!("resources({service})")
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
        vec![Fetch::Browse(Browse::Resources), Fetch::Watch(None)]
    }

    fn on_key(&mut self, key: KeyId, _ctx: &Context) -> Option<Action> {
        match key {
            KeyId::Open => match self.selected()? {
                (true, template) => self.open_template(&template),
                (false, uri) => Some(self.read(&uri)),
            },
            KeyId::Subscribe => self.toggle_subscription(),
            other => self.list.on_key(other),
        }
    }

    fn on_raw_key(&mut self, key: KeyEvent, ctx: &Context) -> Option<Action> {
        let (_, form) = self.form.as_mut()?;
        match form.on_key(key, ViewKind::Resources, ctx.offered()) {
            FormKey::Handled => None,
            FormKey::Send => self.send_form(),
            FormKey::Fetch(fetch) => Some(self.fetch(fetch)),
            FormKey::Message(text) => Some(Action::Message(text)),
        }
    }

    fn on_fetch_started(&mut self, id: CallId, fetch: &Fetch) {
        match fetch {
            Fetch::Browse(Browse::Resources) => self.listing.asked = Some(id),
            Fetch::Browse(Browse::Read { uri }) => self.reading = Some((id, uri.clone())),
            Fetch::Browse(_) => {
                if let Some((_, form)) = &mut self.form {
                    form.on_fetch_started(id, fetch);
                }
            }
            Fetch::Watch(None) => self.list_watch = Some((id, None)),
            Fetch::Watch(Some(uri)) => {
                if let Some((watch, _)) = self.watched.get_mut(uri) {
                    *watch = Some(id);
                }
            }
            Fetch::Doctor => {}
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
        if let Some((watch, how)) = &mut self.list_watch
            && *watch == id
        {
            return match update {
                BrowseUpdate::Watching { how: mechanism } => {
                    *how = Some(mechanism);
                    None
                }
                BrowseUpdate::ListChanged => Some(Fetch::Browse(Browse::Resources)),
                _ => None,
            };
        }
        let watched = self
            .watched
            .iter_mut()
            .find(|(_, (watch, _))| *watch == Some(id));
        if let Some((uri, (_, watched))) = watched {
            match update {
                BrowseUpdate::Watching { how } => watched.how = Some(how),
                BrowseUpdate::Updated { .. } => {
                    watched.updates += 1;
                    watched.last_update = Some(now);
                    let showing = self.read.as_ref().is_some_and(|read| &read.uri == uri);
                    if showing || self.read.is_none() {
                        return Some(Fetch::Browse(Browse::Read { uri: uri.clone() }));
                    }
                }
                BrowseUpdate::Ended(why) => watched.ended = Some(why.clone()),
                _ => {}
            }
            return None;
        }
        if let BrowseUpdate::Answer(answer) = update {
            self.on_answer(id, answer, now);
        }
        None
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context) {
        let theme = ctx.theme;
        let listing = &self.listing;
        let filter = |cells: [&str; 3]| self.list.matches(&cells.map(str::to_string));
        let resources: Vec<&Resource> = (listing.resources.iter())
            .filter(|r| filter([&r.name, &r.uri, r.description.as_deref().unwrap_or("")]))
            .collect();
        let templates: Vec<&ResourceTemplate> = (listing.templates.iter())
            .filter(|t| {
                filter([
                    &t.name,
                    &t.uri_template,
                    t.description.as_deref().unwrap_or(""),
                ])
            })
            .collect();
        let count = resources.len() + templates.len();
        let table_height = (count as u16 + 1).clamp(2, (area.height.saturating_sub(1) / 2).max(2));
        let [summary, table_area, pane] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(table_height),
            Constraint::Min(0),
        ])
        .areas(area);
        let mut head = vec![Span::styled(
            match (&listing.error, listing.at) {
                (Some(error), _) => format!("{} · ", inert(error)),
                (None, None) => "listing…".into(),
                (None, Some(at)) => format!(
                    "{} resources · {} templates · listed {} ago · ",
                    listing.resources.len(),
                    listing.templates.len(),
                    super::chrome::age(at, ctx.now)
                ),
            },
            if listing.error.is_some() {
                theme.warn()
            } else {
                theme.dim()
            },
        )];
        head.push(Span::styled(
            match self.list_watch {
                Some((_, Some(how))) => format!("list changes via {how}"),
                _ => "list changes not announced".into(),
            },
            theme.dim(),
        ));
        frame.render_widget(Paragraph::new(Line::from(head)), summary);

        let text = |s: &str| Line::raw(inert(s).into_owned());
        let mut rows = Vec::new();
        let mut ids = Vec::new();
        for r in &resources {
            let marker = if self.watched.contains_key(&r.uri) {
                "●"
            } else {
                ""
            };
            rows.push(Row::new(vec![
                Line::styled(marker, theme.ok()),
                Line::styled("resource", theme.dim()),
                text(&r.name),
                text(&r.uri),
                text(r.mime_type.as_deref().unwrap_or("")),
                Line::raw(r.size.map(|s| s.to_string()).unwrap_or_default()),
                Line::styled(first_line(r.description.as_deref()), theme.dim()),
            ]));
            ids.push(r.uri.clone());
        }
        for t in &templates {
            rows.push(Row::new(vec![
                Line::raw(""),
                Line::styled("template", theme.dim()),
                text(&t.name),
                text(&t.uri_template),
                text(t.mime_type.as_deref().unwrap_or("")),
                Line::raw(""),
                Line::styled(first_line(t.description.as_deref()), theme.dim()),
            ]));
            ids.push(format!("{TEMPLATE}{}", t.uri_template));
        }
        let widths = column_widths(&resources, &templates);
        let constraints = widths
            .iter()
            .map(|w| Constraint::Length(*w))
            .chain([Constraint::Fill(1)]);
        let table = Table::new(rows, constraints)
            .header(Row::new(COLUMNS.iter().map(|c| c.0)).style(theme.header()))
            .column_spacing(2);
        self.list.draw(frame, table_area, table, ids, theme);

        let mut below = pane;
        if let Some((template, form)) = &mut self.form {
            let title = format!(
                "{} · {}",
                inert(&template.name),
                inert(&template.uri_template)
            );
            let hint = "ctrl-s reads · tab completes · esc closes";
            frame.render_widget(detail_pane(title, hint, Vec::new(), theme), pane);
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
                let text = Line::styled(message.clone(), theme.dim());
                frame.render_widget(Paragraph::new(text), line);
                used += line.height;
            }
            below = Rect {
                y: inner.y + used,
                height: inner.height.saturating_sub(used),
                ..inner
            };
        }
        let (title, lines) = match (&self.read, &self.reading) {
            (Some(read), _) => {
                let watched = self.watched.get(&read.uri).map(|(_, w)| w);
                let lines = content::lines(read, watched, ctx.now, theme);
                (inert(&read.uri).into_owned(), lines)
            }
            (None, Some((_, uri))) => (uri.clone(), vec![Line::styled("reading…", theme.dim())]),
            (None, None) => (
                "contents".into(),
                vec![Line::styled(
                    "enter reads the selected resource, or fills in a template",
                    theme.dim(),
                )],
            ),
        };
        frame.render_widget(detail_pane(title, "s subscribes", lines, theme), below);
    }
}

fn first_line(text: Option<&str>) -> String {
    inert(text.and_then(|t| t.lines().next()).unwrap_or("")).into_owned()
}

fn column_widths(resources: &[&Resource], templates: &[&ResourceTemplate]) -> [u16; 6] {
    let widest = |cells: Vec<usize>, column: usize| {
        let (header, max) = COLUMNS[column];
        let width = cells.into_iter().max().unwrap_or(0).max(header.len());
        width.min(usize::from(max)) as u16
    };
    let chars = |s: &str| s.chars().count();
    let mime = |m: Option<&String>| m.map_or(0, |m| chars(m));
    [
        1,
        8,
        widest(
            (resources.iter().map(|r| chars(&r.name)))
                .chain(templates.iter().map(|t| chars(&t.name)))
                .collect(),
            2,
        ),
        widest(
            (resources.iter().map(|r| chars(&r.uri)))
                .chain(templates.iter().map(|t| chars(&t.uri_template)))
                .collect(),
            3,
        ),
        widest(
            (resources.iter().map(|r| mime(r.mime_type.as_ref())))
                .chain(templates.iter().map(|t| mime(t.mime_type.as_ref())))
                .collect(),
            4,
        ),
        widest(
            resources
                .iter()
                .map(|r| r.size.map_or(0, |s| s.to_string().len()))
                .collect(),
            5,
        ),
    ]
}
