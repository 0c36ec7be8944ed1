//! The screens. One file per view, each with its state, its key handling, its render, its
//! column list and its snapshot tests. Views read the `Context` and return `Action`s; they never
//! call each other and never touch the network. The list screens draw their rows through one
//! `widgets::list::ListState`, which the `View` trait reaches (`list`) for filters and clicks.

pub mod arguments;
pub mod auth;
pub mod bench;
pub mod call;
pub mod check;
pub mod chrome;
pub mod confirm;
pub mod doctor;
pub mod drift;
pub mod elicit;
pub mod help;
pub mod history;
pub mod incidents;
pub mod logs;
pub mod prompts;
pub mod repro;
pub mod resources;
pub mod rollout;
pub mod sampling;
pub mod services;
pub mod sign_in;
pub mod skills;
pub mod stats;
pub mod tasks;
pub(crate) mod tool_app;
pub mod tools;
pub(crate) mod tools_catalog;

use std::{collections::HashMap, time::SystemTime};

use crossterm::event::KeyEvent;
use ratatui::{Frame, layout::Rect};

use super::{
    action::{Action, Fetch, Scope, ViewKind},
    keys::KeyId,
    log_buffer::LogBuffer,
    theme::Theme,
    widgets::list::ListState,
};
use crate::{
    fleet::{FleetSnapshot, trends::Trends},
    mcp::{BrowseUpdate, CallId, CallUpdate, History, Probe},
};

/// What every view may read while handling a key or drawing.
pub struct Context<'a> {
    pub snapshot: &'a FleetSnapshot,
    pub logs: &'a LogBuffer,
    /// The newest probe of each task, by task id (tools, protocol version, drift).
    pub probes: &'a HashMap<String, Probe>,
    /// Why the last probe of a task failed, by task id.
    pub probe_errors: &'a HashMap<String, String>,
    /// Figures from the console's own calls, for tasks whose server has no metrics.
    pub calls: &'a crate::mcp::figures::CallFigures,
    /// Each task's SSE streams as its connection saw them, by task id.
    pub streams: &'a crate::mcp::StreamsByTask,
    /// The idle timeout in front of each service's replicas (the config file's `[streams]`).
    pub idle_timeouts: &'a crate::config::StreamsSection,
    pub history: &'a History,
    /// The stored OAuth sign-ins (never their tokens).
    pub sign_ins: &'a [crate::oauth::Status],
    /// In-flight calls over time, sampled on a fixed cadence whatever screen is on top.
    pub trends: &'a Trends,
    pub theme: Theme,
    pub now: SystemTime,
    pub read_only: bool,
}

impl Context<'_> {
    /// Which keys the fleet on screen may be offered.
    pub fn offered(&self) -> super::keys::Offered {
        super::keys::Offered::new(self.read_only, self.snapshot.source)
    }

    /// A task's streams, and the warning when one outlasts the idle timeout in front of its
    /// service's replicas.
    pub fn stream_health(
        &self,
        service: &str,
        task_id: &str,
    ) -> Option<(
        &crate::mcp::streams::StreamHealth,
        Option<crate::mcp::streams::StreamWarning>,
    )> {
        let health = self.streams.get(task_id)?;
        let timeout = self.idle_timeouts.idle_timeout(service);
        Some((health, health.judge(timeout, self.now)))
    }
}

pub trait View {
    fn kind(&self) -> ViewKind;
    fn scope(&self) -> &Scope;
    /// The breadcrumb of this page, e.g. "tasks(mcpfleet-server)".
    fn title(&self) -> String;
    /// Lists get the list keys (j/k, g/G, paging, `/` filter).
    fn is_list(&self) -> bool {
        true
    }
    /// While true the view receives every key raw (a field is being edited); only Ctrl-C and
    /// Esc keep their global meaning.
    fn captures_input(&self) -> bool {
        false
    }
    fn on_key(&mut self, key: KeyId, ctx: &Context) -> Option<Action>;
    fn on_raw_key(&mut self, _key: KeyEvent, _ctx: &Context) -> Option<Action> {
        None
    }
    /// A click on screen row `row` (inside the body area). A list selects the row under it.
    fn on_click(&mut self, row: u16, _ctx: &Context) -> Option<Action> {
        if let Some(list) = self.list_mut() {
            list.on_click(row);
        }
        None
    }
    /// Esc while capturing input: the view leaves its input mode instead of being popped.
    fn on_escape(&mut self) -> bool {
        false
    }
    /// Esc on a page that holds something Esc drops before the page goes (the logs view's
    /// trace filter): true when it dropped it, and the page stays.
    fn on_back(&mut self) -> bool {
        false
    }
    /// The list component of a list screen; its filter and clicks are the view's.
    fn list(&self) -> Option<&ListState> {
        None
    }
    fn list_mut(&mut self) -> Option<&mut ListState> {
        None
    }
    fn filter(&self) -> &str {
        self.list().map_or("", ListState::filter)
    }
    fn set_filter(&mut self, filter: String) {
        if let Some(list) = self.list_mut() {
            list.set_filter(filter);
        }
    }
    /// The call this view asked for (with `Action::StartCall`) was sent as `id`.
    fn on_call_started(&mut self, _id: CallId, _at: SystemTime) {}
    /// News of a call this view started.
    fn on_call_update(&mut self, _id: CallId, _update: &CallUpdate) {}
    /// What the page asks the MCP worker for as it opens (its list, a watch).
    fn initial_fetches(&self) -> Vec<Fetch> {
        Vec::new()
    }
    /// A fetch this view asked for (`Action::Fetch`, or `initial_fetches`) was sent as `id`.
    fn on_fetch_started(&mut self, _id: CallId, _fetch: &Fetch) {}
    /// An answer or a watch's news for a fetch of this view, arrived at `now`; it may ask for
    /// another (a read after the resource was updated).
    fn on_fetch_update(
        &mut self,
        _id: CallId,
        _update: &BrowseUpdate,
        _now: SystemTime,
    ) -> Option<Fetch> {
        None
    }
    /// Asks the loop to keep redrawing (a progress bar moves).
    fn animating(&self) -> bool {
        false
    }
    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Context);
}

#[cfg(test)]
pub mod fixtures;
#[cfg(test)]
pub mod snapshot_support;
