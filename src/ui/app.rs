//! The console's state and the one place where `Action`s take effect: the page stack, the
//! prompt and dialog modes, the log buffer, probes, calls and fleet commands. Network work is
//! spawned; its results come back as `UiEvent`s, so nothing here ever waits on the network.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::Line,
    widgets::Paragraph,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{
    action::{Action, Scope, ViewKind},
    command_line,
    keys::{self, KeyId},
    log_buffer::LogBuffer,
    theme::Theme,
    views::{self, CallUpdate, Context, View, chrome, confirm::ConfirmDialog},
};
use crate::{
    fleet::{Commander, FleetSnapshot, LogLine},
    mcp::{CallEvent, CallOutcome, History, Pool, Probe},
};

/// Below this the console shows a note instead of a squeezed layout.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;
const MESSAGE_TTL: Duration = Duration::from_secs(8);
const PROBE_EVERY: Duration = Duration::from_secs(30);

/// Results of spawned work, delivered to the loop.
pub enum UiEvent {
    Probe {
        task_id: String,
        result: Result<Box<Probe>, String>,
    },
    Call {
        id: u64,
        update: CallUpdate,
    },
    CommandDone(Result<String, String>),
}

enum Mode {
    Normal,
    Command {
        text: String,
        completions: Vec<String>,
    },
    Filter {
        text: String,
    },
    Confirm(ConfirmDialog),
}

/// What views read; kept apart from the page stack so a view can borrow it while it changes.
pub struct Data {
    pub snapshot: Arc<FleetSnapshot>,
    pub logs: LogBuffer,
    pub probes: HashMap<String, Probe>,
    pub history: History,
    pub theme: Theme,
    pub read_only: bool,
}

impl Data {
    pub fn context(&self, now: SystemTime) -> Context<'_> {
        Context {
            snapshot: &self.snapshot,
            logs: &self.logs,
            probes: &self.probes,
            history: &self.history,
            theme: self.theme,
            now,
            read_only: self.read_only,
        }
    }
}

pub struct App {
    pub data: Data,
    stack: Vec<Box<dyn View>>,
    mode: Mode,
    message: Option<(String, bool, Instant)>,
    pool: Pool,
    last_probe_round: Option<Instant>,
    /// Tasks probed outside a round (new ready ones) whose probe has not succeeded yet.
    probing: HashSet<String>,
    calls: HashMap<u64, (CancellationToken, Box<crate::mcp::CallRequest>)>,
    commander: Commander,
    events: mpsc::UnboundedSender<UiEvent>,
    pub quit: bool,
    /// Set by `SwitchSource`; the loop restarts with that source.
    pub switch_to: Option<String>,
    body: Rect,
}

impl App {
    pub fn new(
        snapshot: Arc<FleetSnapshot>,
        log_capacity: usize,
        commander: Commander,
        events: mpsc::UnboundedSender<UiEvent>,
        read_only: bool,
        theme: Theme,
    ) -> Self {
        Self {
            data: Data {
                snapshot,
                logs: LogBuffer::new(log_capacity),
                probes: HashMap::new(),
                history: History::new(200),
                theme,
                read_only,
            },
            stack: vec![Box::new(views::services::ServicesView::new())],
            mode: Mode::Normal,
            message: None,
            pool: Pool::default(),
            last_probe_round: None,
            probing: HashSet::new(),
            calls: HashMap::new(),
            commander,
            events,
            quit: false,
            switch_to: None,
            body: Rect::default(),
        }
    }

    fn top(&self) -> &dyn View {
        self.stack
            .last()
            .expect("the services view is never popped")
            .as_ref()
    }

    pub fn set_snapshot(&mut self, snapshot: Arc<FleetSnapshot>) {
        self.pool.prune(&snapshot);
        self.data.snapshot = snapshot;
        self.probe_if_due();
    }

    pub fn push_log(&mut self, line: LogLine) {
        self.data.logs.push(line);
    }

    /// Whether the loop should keep redrawing on its tick (progress bars, message expiry).
    pub fn animating(&self) -> bool {
        self.stack.iter().any(|view| view.animating()) || self.message.is_some()
    }

    /// Probes every ready task now and then, for tools, protocol versions and drift, and a
    /// task as soon as it is ready (a failed one waits for the next round).
    pub fn probe_if_due(&mut self) {
        let round = self
            .last_probe_round
            .is_none_or(|at| at.elapsed() >= PROBE_EVERY);
        if round {
            self.last_probe_round = Some(Instant::now());
        }
        for service in &self.data.snapshot.services {
            for task in service.ready_tasks() {
                let fresh = !self.data.probes.contains_key(&task.id)
                    && self.probing.insert(task.id.clone());
                let Some(endpoint) = task.endpoint.clone().filter(|_| round || fresh) else {
                    continue;
                };
                let (pool, events, service, task_id) = (
                    self.pool.clone(),
                    self.events.clone(),
                    service.name.clone(),
                    task.id.clone(),
                );
                tokio::spawn(async move {
                    let result = pool
                        .probe(&service, &endpoint)
                        .await
                        .map(Box::new)
                        .map_err(|e| e.to_string());
                    let _ = events.send(UiEvent::Probe { task_id, result });
                });
            }
        }
    }

    pub fn on_ui_event(&mut self, event: UiEvent) {
        match event {
            UiEvent::Probe { task_id, result } => match result {
                Ok(probe) => {
                    self.probing.remove(&task_id);
                    self.data.probes.insert(task_id, *probe);
                }
                Err(error) => self.say(
                    format!(
                        "probe of task {}: {error}",
                        &task_id[..task_id.len().min(8)]
                    ),
                    true,
                ),
            },
            UiEvent::Call { id, update } => {
                if let CallUpdate::Done(outcome) = &update
                    && let Some((_, request)) = self.calls.remove(&id)
                {
                    self.data.history.record(&request, outcome);
                }
                for view in &mut self.stack {
                    view.on_call_update(id, &update);
                }
            }
            UiEvent::CommandDone(Ok(message)) => self.say(message, false),
            UiEvent::CommandDone(Err(message)) => self.say(message, true),
        }
    }

    fn say(&mut self, text: String, error: bool) {
        self.message = Some((text, error, Instant::now()));
    }

    /// Drops an expired message; returns whether anything changed.
    pub fn expire_message(&mut self) -> bool {
        if self
            .message
            .as_ref()
            .is_some_and(|(_, _, at)| at.elapsed() > MESSAGE_TTL)
        {
            self.message = None;
            return true;
        }
        false
    }

    fn make_view(&self, kind: ViewKind, scope: Scope) -> Option<Box<dyn View>> {
        let top = self.top();
        Some(match kind {
            ViewKind::Services => Box::new(views::services::ServicesView::new()),
            ViewKind::Help => Box::new(views::help::HelpView::new(top.kind(), top.is_list())),
            ViewKind::Tasks => Box::new(views::tasks::TasksView::new(scope)),
            ViewKind::Rollout => Box::new(views::rollout::RolloutView::new(scope)),
            ViewKind::Logs => Box::new(views::logs::LogsView::new(scope)),
            ViewKind::Tools => Box::new(views::tools::ToolsView::new(scope)),
            ViewKind::History => Box::new(views::history::HistoryView::new(scope)),
            ViewKind::Stats => Box::new(views::stats::StatsView::new()),
            _ => return None,
        })
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Quit => self.quit = true,
            Action::Back => {
                if self.stack.len() > 1 {
                    self.stack.pop();
                }
            }
            Action::Help => {
                if self.top().kind() == ViewKind::Help {
                    self.stack.pop();
                } else if let Some(view) = self.make_view(ViewKind::Help, Scope::fleet()) {
                    self.stack.push(view);
                }
            }
            Action::Open(kind, scope) => {
                if kind == ViewKind::Services {
                    self.stack.truncate(1);
                    return;
                }
                if let Some(service) = &scope.service
                    && self.data.snapshot.service(service).is_none()
                {
                    return self.say(format!("no service {service}"), true);
                }
                match self.make_view(kind, scope) {
                    Some(view) => self.stack.push(view),
                    None => self.say(format!("{} is not available", kind.name()), true),
                }
            }
            Action::OpenCall {
                scope,
                tool,
                arguments,
            } => match views::call::open(
                &self.data.snapshot,
                &self.data.probes,
                scope,
                &tool,
                arguments,
            ) {
                Ok(view) => self.stack.push(view),
                Err(message) => self.say(message, true),
            },
            Action::CommandLine => {
                self.mode = Mode::Command {
                    text: String::new(),
                    completions: Vec::new(),
                }
            }
            Action::Filter => {
                self.mode = Mode::Filter {
                    text: self.top().filter().to_string(),
                }
            }
            Action::Confirm(command) => {
                if self.data.read_only {
                    return self.say("disabled by --read-only".into(), true);
                }
                self.mode = Mode::Confirm(ConfirmDialog::new(command));
            }
            Action::Confirmed(command) => {
                if self.data.read_only {
                    return self.say("disabled by --read-only".into(), true);
                }
                let (commander, events) = (self.commander.clone(), self.events.clone());
                self.say(format!("{}…", views::confirm::in_progress(&command)), false);
                tokio::spawn(async move {
                    let result = commander.execute(command).await.map_err(|e| e.to_string());
                    let _ = events.send(UiEvent::CommandDone(result));
                });
            }
            Action::StartCall { id, request } => self.start_call(id, request.0),
            Action::CancelCall(id) => {
                if let Some((cancel, _)) = self.calls.get(&id) {
                    cancel.cancel();
                }
            }
            Action::Copy(text) => {
                super::clipboard::copy(&text);
                self.say(format!("copied {} characters", text.chars().count()), false);
            }
            Action::Message(text) => self.say(text, false),
            Action::SwitchSource(source) => {
                self.switch_to = Some(source);
                self.quit = true;
            }
        }
    }

    fn start_call(&mut self, id: u64, mut request: Box<crate::mcp::CallRequest>) {
        let (events_tx, mut events_rx) = mpsc::channel::<CallEvent>(256);
        request.events = Some(events_tx);
        let cancel = request.cancel.clone();
        self.calls.insert(id, (cancel, request.clone()));
        let (pool, snapshot, events) = (
            self.pool.clone(),
            self.data.snapshot.clone(),
            self.events.clone(),
        );
        let forward = self.events.clone();
        tokio::spawn(async move {
            while let Some(event) = events_rx.recv().await {
                let _ = forward.send(UiEvent::Call {
                    id,
                    update: CallUpdate::Event(event),
                });
            }
        });
        tokio::spawn(async move {
            let outcome: CallOutcome = pool.call(&snapshot, &request).await;
            let _ = events.send(UiEvent::Call {
                id,
                update: CallUpdate::Done(Box::new(outcome)),
            });
        });
    }

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
            Mode::Command { text, completions } => {
                match key.code {
                    KeyCode::Esc => self.mode = Mode::Normal,
                    KeyCode::Enter => {
                        let line = text.clone();
                        self.mode = Mode::Normal;
                        match command_line::parse(&line, self.top().scope(), self.data.read_only) {
                            Ok(action) => self.apply(action),
                            Err(error) => self.say(error, true),
                        }
                    }
                    KeyCode::Tab => {
                        if let Some(first) = completions.first() {
                            *text = first.clone();
                        }
                    }
                    KeyCode::Backspace => {
                        text.pop();
                    }
                    KeyCode::Char(c) => text.push(c),
                    _ => {}
                }
                if let Mode::Command { text, completions } = &mut self.mode {
                    let services: Vec<String> = self
                        .data
                        .snapshot
                        .services
                        .iter()
                        .map(|s| s.name.clone())
                        .collect();
                    *completions = command_line::complete(text, &services, self.data.read_only);
                }
                return;
            }
            Mode::Filter { text } => {
                match key.code {
                    KeyCode::Esc => {
                        self.mode = Mode::Normal;
                        self.stack
                            .last_mut()
                            .expect("stack")
                            .set_filter(String::new());
                    }
                    KeyCode::Enter => self.mode = Mode::Normal,
                    KeyCode::Backspace => {
                        text.pop();
                    }
                    KeyCode::Char(c) => text.push(c),
                    _ => {}
                }
                if let Mode::Filter { text } = &self.mode {
                    let text = text.clone();
                    self.stack.last_mut().expect("stack").set_filter(text);
                }
                return;
            }
            Mode::Normal => {}
        }
        let now = SystemTime::now();
        let top = self.stack.len() - 1;
        if self.stack[top].captures_input() {
            if key.code == KeyCode::Esc && self.stack[top].on_escape() {
                return;
            }
            let ctx = self.data.context(now);
            if key.code != KeyCode::Esc {
                if let Some(action) = self.stack[top].on_raw_key(key, &ctx) {
                    self.apply(action);
                }
                return;
            }
        }
        let (kind, lists) = (self.stack[top].kind(), self.stack[top].is_list());
        let Some(id) = keys::lookup(&key, kind, lists, self.data.read_only) else {
            let action = self.stack[top].on_raw_key(key, &self.data.context(now));
            if let Some(action) = action {
                self.apply(action);
            }
            return;
        };
        let action = match id {
            KeyId::Quit => Some(Action::Quit),
            KeyId::Back => Some(Action::Back),
            KeyId::Help => Some(Action::Help),
            KeyId::CommandLine => Some(Action::CommandLine),
            KeyId::Filter => Some(Action::Filter),
            other => {
                let ctx = self.data.context(now);
                self.stack[top].on_key(other, &ctx)
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
            MouseEventKind::ScrollDown => self.stack[top].on_key(KeyId::Down, &ctx),
            MouseEventKind::ScrollUp => self.stack[top].on_key(KeyId::Up, &ctx),
            MouseEventKind::Down(_)
                if mouse.row >= self.body.y && mouse.row < self.body.bottom() =>
            {
                self.stack[top].on_click(mouse.row - self.body.y, &ctx)
            }
            _ => None,
        };
        if let Some(action) = action {
            self.apply(action);
        }
    }

    pub fn render(&mut self, frame: &mut Frame, now: SystemTime) {
        let area = frame.area();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let note = format!(
                "mcpfleet needs at least {MIN_WIDTH}×{MIN_HEIGHT}; this terminal is {}×{}.",
                area.width, area.height
            );
            frame.render_widget(
                Paragraph::new(vec![
                    Line::from(note),
                    Line::from("Enlarge it, or q to quit."),
                ]),
                area,
            );
            return;
        }
        let [header, body, footer] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(1),
            Constraint::Length(2),
        ])
        .areas(area);
        self.body = body;
        let crumbs: Vec<String> = self.stack.iter().map(|v| v.title()).collect();
        let top = self.stack.len() - 1;
        let filter = match &self.mode {
            Mode::Filter { text } => text.clone(),
            _ => self.stack[top].filter().to_string(),
        };
        let info = chrome::HeaderInfo {
            snapshot: &self.data.snapshot,
            now,
            read_only: self.data.read_only,
            crumbs,
            filter: &filter,
            dropped_logs: self.data.logs.dropped_upstream(),
        };
        chrome::render_header(frame, header, &info, self.data.theme);
        {
            let ctx = self.data.context(now);
            self.stack[top].render(frame, body, &ctx);
        }
        let view = &self.stack[top];
        let hints = chrome::hints(
            view.kind(),
            view.is_list(),
            self.data.read_only,
            footer.width,
            self.data.theme,
        );
        let bottom = match &self.mode {
            Mode::Command { text, completions } => chrome::BottomLine::Prompt {
                sigil: ':',
                text,
                completions,
            },
            Mode::Filter { text } => chrome::BottomLine::Prompt {
                sigil: '/',
                text,
                completions: &[],
            },
            _ => match &self.message {
                Some((text, error, _)) => chrome::BottomLine::Message {
                    text,
                    error: *error,
                },
                None => chrome::BottomLine::Empty,
            },
        };
        chrome::render_footer(frame, footer, hints, bottom, self.data.theme);
        if let Mode::Confirm(dialog) = &self.mode {
            dialog.render(frame, body, &self.data.snapshot, self.data.theme);
        }
    }
}

/// A console over a fixed snapshot with no source behind it, for benchmarks and tests that
/// drive `apply` and `render` directly: fleet commands answer that the source has stopped, and
/// results of spawned work go nowhere.
impl App {
    pub fn for_snapshot(snapshot: Arc<FleetSnapshot>, log_capacity: usize, theme: Theme) -> Self {
        let (commands, _) = mpsc::channel(1);
        let (_, logs) = crate::fleet::log_channel(1);
        let (_, snapshots) = tokio::sync::watch::channel(snapshot.clone());
        let source =
            crate::fleet::SourceHandle::new(snapshots, logs, commands, CancellationToken::new());
        let (events, _) = mpsc::unbounded_channel();
        Self::new(
            snapshot,
            log_capacity,
            source.commander(),
            events,
            false,
            theme,
        )
    }
}
