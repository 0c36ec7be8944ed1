//! Keys and the mouse: the open dialog or prompt takes them first, then the page on top
//! (raw while it edits a field), then the one key table.

use std::time::SystemTime;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

use super::{App, Mode};
use crate::ui::{
    action::Action,
    command_line,
    keys::{self, KeyId},
    prompt::{self, Edit},
};

impl App {
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.code == KeyCode::Char('c') && key.modifiers == KeyModifiers::CONTROL {
            self.quit = true;
            return;
        }
        match &mut self.mode {
            Mode::Confirm(dialog) => {
                if let Some(action) = dialog.on_key(key) {
                    self.mode = Mode::Normal;
                    self.apply(action);
                }
                return;
            }
            Mode::Elicit(dialog) => {
                if let Some(action) = dialog.on_key(key) {
                    self.mode = Mode::Normal;
                    self.apply(action);
                    self.next_ask();
                }
                return;
            }
            Mode::Sample(dialog) => {
                if let Some(action) = dialog.on_key(key) {
                    self.mode = Mode::Normal;
                    self.apply(action);
                    self.next_ask();
                }
                return;
            }
            Mode::SignIn(dialog) => {
                match dialog.on_key(key) {
                    Some(Action::Message(text)) => {
                        self.end_sign_in();
                        self.say(text, false);
                    }
                    Some(action) => self.apply(action),
                    None => {}
                }
                return;
            }
            Mode::Command { text, completions } => {
                match prompt::edit(text, &key, completions.first().map(String::as_str)) {
                    Edit::Cancelled => self.mode = Mode::Normal,
                    Edit::Submitted => {
                        let line = std::mem::take(text);
                        self.mode = Mode::Normal;
                        match command_line::parse(&line, self.top().scope(), self.data.read_only) {
                            Ok(action) => self.apply(action),
                            Err(error) => self.say(error, true),
                        }
                    }
                    Edit::Typed => {
                        let services: Vec<String> = self
                            .data
                            .snapshot
                            .services
                            .iter()
                            .map(|s| s.name.clone())
                            .collect();
                        *completions = command_line::complete(
                            text,
                            &services,
                            self.data.offered().fleet_commands(),
                        );
                    }
                }
                return;
            }
            Mode::Filter { text } => {
                match prompt::edit(text, &key, None) {
                    Edit::Cancelled => {
                        self.mode = Mode::Normal;
                        self.top_mut().set_filter(String::new());
                    }
                    Edit::Submitted => self.mode = Mode::Normal,
                    Edit::Typed => {
                        let filter = text.clone();
                        self.top_mut().set_filter(filter);
                    }
                }
                return;
            }
            Mode::Normal => {}
        }
        let now = SystemTime::now();
        let top = self.stack.len() - 1;
        if self.stack[top].view.captures_input() {
            if key.code == KeyCode::Esc && self.stack[top].view.on_escape() {
                return;
            }
            let ctx = self.data.context(now);
            if key.code != KeyCode::Esc {
                if let Some(action) = self.stack[top].view.on_raw_key(key, &ctx) {
                    self.apply(action);
                }
                return;
            }
        }
        let (kind, lists) = (self.stack[top].view.kind(), self.stack[top].view.is_list());
        let Some(id) = keys::lookup(&key, kind, lists, self.data.offered()) else {
            let action = self.stack[top]
                .view
                .on_raw_key(key, &self.data.context(now));
            if let Some(action) = action {
                self.apply(action);
            }
            return;
        };
        let action = match id {
            KeyId::Quit => Some(Action::Quit),
            KeyId::Back if self.stack[top].view.on_back() => None,
            KeyId::Back => Some(Action::Back),
            KeyId::Help => Some(Action::Help),
            KeyId::CommandLine => Some(Action::CommandLine),
            KeyId::Filter => Some(Action::Filter),
            KeyId::Refresh => {
                let text = if self.commander.refresh_now() {
                    "refreshing now"
                } else {
                    "this source shows changes as they happen; nothing to refresh"
                };
                Some(Action::Message(text.into()))
            }
            other => {
                let ctx = self.data.context(now);
                self.stack[top].view.on_key(other, &ctx)
            }
        };
        if let Some(action) = action {
            self.apply(action);
        }
    }

    pub fn on_mouse(&mut self, mouse: MouseEvent) {
        let top = self.stack.len() - 1;
        let ctx = self.data.context(SystemTime::now());
        let action = match mouse.kind {
            MouseEventKind::ScrollDown => self.stack[top].view.on_key(KeyId::Down, &ctx),
            MouseEventKind::ScrollUp => self.stack[top].view.on_key(KeyId::Up, &ctx),
            MouseEventKind::Down(_)
                if mouse.row >= self.body.y && mouse.row < self.body.bottom() =>
            {
                self.stack[top].view.on_click(mouse.row, &ctx)
            }
            _ => None,
        };
        if let Some(action) = action {
            self.apply(action);
        }
    }
}
