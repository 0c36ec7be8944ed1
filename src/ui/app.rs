//! The console's state and the one place where `Action`s take effect: the page stack, the
//! prompt and dialog modes, the log buffer, and what the MCP worker publishes (probes,
//! history). Calls go to the worker and fleet commands to the source; their results come back
//! as messages, so nothing here ever waits on the network.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use ratatui::layout::Rect;
use tokio::sync::{mpsc, watch};

use super::{
    action::{Action, Scope, ViewKind},
    log_buffer::LogBuffer,
    theme::Theme,
    views::{
        self, Context, View, confirm::ConfirmDialog, elicit::ElicitDialog,
        sampling::SamplingDialog, sign_in::SignInDialog,
    },
};
use crate::{
    config::SourceChoice,
    fleet::{Commander, FleetSnapshot, LogLine, trends::Trends},
    mcp::{
        Ask, BrowseSink, CallId, CallUpdate, History, McpClient, McpError, Probes, Question,
        ServedBy, UpdateSink,
    },
    oauth::{self, Prompt, SignInError, Signed, TokenStore, signin::Discovered},
};

/// Below this the console shows a note instead of a squeezed layout.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;
const MESSAGE_TTL: Duration = Duration::from_secs(8);

mod attention;
mod bench;
mod calls;
mod check;
mod draw;
mod fetch;
mod input;
mod reach;
mod repro;
mod sign_in;
mod workers;
pub use reach::{Forward, Shell};
use sign_in::OAuth;
pub use workers::Workers;

/// Results of spawned work, delivered to the loop.
pub enum UiEvent {
    CommandDone(Result<String, String>),
    /// Discovery for a sign-in to `service` ended.
    SignInFound {
        service: String,
        url: String,
        insufficient_scope: bool,
        result: Result<Box<Discovered>, SignInError>,
    },
    /// The sign-in page is out: where, and whether a browser took it.
    SignInPrompt(Prompt),
    SignInDone {
        service: String,
        result: Result<Signed, SignInError>,
    },
    SignedOut {
        target: String,
        result: Result<oauth::revoke::SignedOut, String>,
    },
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
    SignIn(SignInDialog),
    /// A server's question mid-call.
    Elicit(Box<ElicitDialog>),
    /// A server's request for a model's reply mid-call, which the person writes.
    Sample(Box<SamplingDialog>),
}

/// What views read; kept apart from the page stack so a view can borrow it while it changes.
pub struct Data {
    pub snapshot: Arc<FleetSnapshot>,
    pub logs: LogBuffer,
    /// The MCP worker's latest probes and history.
    pub probes: Arc<Probes>,
    pub history: Arc<History>,
    pub trends: Trends,
    /// The stored sign-ins, read when the console starts and after each sign-in or out.
    pub sign_ins: Vec<oauth::Status>,
    pub theme: Theme,
    pub read_only: bool,
    /// Where a reproducer's incident files go; none, and they are not saved.
    pub incidents_dir: Option<std::path::PathBuf>,
    /// The idle timeout in front of each service's replicas, against which streams are judged.
    pub idle_timeouts: crate::config::StreamsSection,
    /// How the `aws` CLI finds what the AWS source sees, for ECS Exec and port forwards.
    pub aws_cli: crate::reach::AwsCli,
}

impl Data {
    pub fn context(&self, now: SystemTime) -> Context<'_> {
        Context {
            snapshot: &self.snapshot,
            logs: &self.logs,
            probes: &self.probes.by_task,
            probe_errors: &self.probes.errors,
            calls: &self.probes.calls,
            streams: &self.probes.streams,
            idle_timeouts: &self.idle_timeouts,
            history: &self.history,
            sign_ins: &self.sign_ins,
            trends: &self.trends,
            theme: self.theme,
            now,
            read_only: self.read_only,
        }
    }

    /// Which keys the fleet on screen may be offered.
    pub fn offered(&self) -> crate::ui::keys::Offered {
        crate::ui::keys::Offered::new(self.read_only, self.snapshot.source)
    }
}

/// A view on the page stack, with an id that outlives reordering so call updates reach the
/// page that started the call.
struct Page {
    id: u64,
    view: Box<dyn View>,
}

pub struct App {
    pub data: Data,
    stack: Vec<Page>,
    next_page: u64,
    mode: Mode,
    message: Option<(String, bool, Instant)>,
    mcp: McpClient,
    /// Where the worker sends the updates of this console's calls.
    call_updates: UpdateSink,
    /// Which page started each running call.
    calls: HashMap<CallId, u64>,
    /// Where the worker sends browse answers and watch news, and which page asked for each
    /// (and whether it is a watch, which lives until the page stops it or closes).
    browse_updates: BrowseSink,
    fetches: HashMap<CallId, (u64, bool)>,
    /// The last probe failure already shown.
    probe_failures_seen: u64,
    commander: Commander,
    events: mpsc::UnboundedSender<UiEvent>,
    snapshots: watch::Receiver<Arc<FleetSnapshot>>,
    pub quit: bool,
    /// Set by `SwitchSource`; the loop opens that source and rewires the console to it.
    pub switch_to: Option<SourceChoice>,
    /// The service `--service` names, until a source still loading has it.
    awaited: Option<String>,
    /// Set by `Exec`; the loop hands the terminal to it and gives the result back.
    pub shell: Option<Shell>,
    /// Open port forwards, ended when the app is dropped (the console ends, `:ctx`).
    forwards: Vec<Forward>,
    forwarded: watch::Sender<Arc<crate::reach::route::Forwarded>>,
    body: Rect,
    oauth: OAuth,
    /// Servers' questions waiting for the dialog to be free, oldest first.
    asks: std::collections::VecDeque<Ask>,
}

impl App {
    pub fn new(
        snapshot: Arc<FleetSnapshot>,
        log_capacity: usize,
        workers: Workers,
        read_only: bool,
        theme: Theme,
    ) -> Self {
        let Workers {
            commander,
            mcp,
            call_updates,
            browse_updates,
            events,
            snapshots,
            forwarded,
        } = workers;
        let probes = mcp.probes.borrow().clone();
        let history = mcp.history.borrow().clone();
        // The first frame shows the present point of every trend.
        let mut trends = Trends::default();
        trends.sample(&snapshot);
        Self {
            data: Data {
                snapshot,
                logs: LogBuffer::new(log_capacity),
                probes,
                history,
                trends,
                sign_ins: Vec::new(),
                theme,
                read_only,
                incidents_dir: None,
                idle_timeouts: Default::default(),
                aws_cli: Default::default(),
            },
            stack: vec![Page {
                id: 0,
                view: Box::new(views::services::ServicesView::new()),
            }],
            next_page: 1,
            mode: Mode::Normal,
            message: None,
            mcp,
            call_updates,
            calls: HashMap::new(),
            browse_updates,
            fetches: HashMap::new(),
            probe_failures_seen: 0,
            commander,
            events,
            snapshots,
            quit: false,
            switch_to: None,
            awaited: None,
            shell: None,
            forwards: Vec::new(),
            forwarded,
            body: Rect::default(),
            oauth: OAuth {
                tokens: TokenStore::open_default().ok(),
                ..OAuth::default()
            },
            asks: Default::default(),
        }
    }

    /// A server asks a question mid-call: the dialog opens now, or when the one open closes.
    pub fn on_ask(&mut self, ask: Ask) {
        self.asks.push_back(ask);
        self.next_ask();
    }

    fn next_ask(&mut self) {
        if !matches!(self.mode, Mode::Normal) {
            return;
        }
        if let Some(ask) = self.asks.pop_front() {
            let asker = self
                .endpoint_owner(&ask.url)
                .map_or_else(|| ask.url.clone(), |(service, _)| service);
            self.mode = match ask.question {
                Question::Elicit { request, reply } => {
                    Mode::Elicit(Box::new(ElicitDialog::new(asker, &request, reply)))
                }
                Question::Sample { request, reply } => {
                    Mode::Sample(Box::new(SamplingDialog::new(asker, &request, reply)))
                }
            };
        }
    }

    fn top(&self) -> &dyn View {
        self.stack
            .last()
            .expect("the services view is never popped")
            .view
            .as_ref()
    }

    fn top_mut(&mut self) -> &mut dyn View {
        self.stack
            .last_mut()
            .expect("the services view is never popped")
            .view
            .as_mut()
    }

    fn push(&mut self, view: Box<dyn View>) {
        let (id, scope, fetches) = (self.next_page, view.scope().clone(), view.initial_fetches());
        self.stack.push(Page { id, view });
        self.next_page += 1;
        for fetch in fetches {
            self.start_fetch(id, &scope, fetch);
        }
    }

    pub fn set_snapshot(&mut self, snapshot: Arc<FleetSnapshot>) {
        self.data.snapshot = snapshot;
        if let Some(service) = self.awaited.take() {
            self.open_service(&service);
        }
    }

    /// Takes the worker's newest probes; a probe failure not shown yet becomes the message.
    pub fn set_probes(&mut self, probes: Arc<Probes>) {
        if probes.failures > self.probe_failures_seen
            && let Some(failure) = &probes.last_failure
        {
            let task = &failure.task_id[..failure.task_id.len().min(8)];
            self.say(format!("probe of task {task}: {}", failure.error), true);
        }
        self.probe_failures_seen = probes.failures;
        let refused: Vec<McpError> = probes.needs_sign_in.values().cloned().collect();
        self.data.probes = probes;
        for error in refused {
            self.offer_sign_in(&error, false);
        }
    }

    pub fn set_history(&mut self, history: Arc<History>) {
        self.data.history = history;
    }

    /// One point of every in-flight series; returns whether the screen shows something new.
    pub fn sample_trends(&mut self) -> bool {
        self.data.trends.sample(&self.data.snapshot)
    }

    pub fn push_log(&mut self, line: LogLine) {
        self.data.logs.push(line);
    }

    /// Whether the loop should keep redrawing on its tick (progress bars, message expiry).
    pub fn animating(&self) -> bool {
        self.stack.iter().any(|page| page.view.animating()) || self.message.is_some()
    }

    /// Hands a call's update to the page that started it, if that page is still open.
    pub fn on_call_update(&mut self, id: CallId, mut update: CallUpdate) {
        if let CallUpdate::ReproDone(end) = &mut update {
            self.save_incidents(end);
        }
        if let CallUpdate::Done(outcome) = &update {
            match &outcome.result {
                Err(error @ McpError::AuthRequired { .. }) => {
                    self.offer_sign_in(&error.clone(), true)
                }
                Err(McpError::UrlRequired { message, pages }) => {
                    self.offer_page(outcome.served_by.as_ref(), message, pages)
                }
                _ => {}
            }
        }
        let done = matches!(
            update,
            CallUpdate::Done(_)
                | CallUpdate::FannedOut(_)
                | CallUpdate::ReproDone(_)
                | CallUpdate::BenchDone(_)
        );
        let page = if done {
            self.calls.remove(&id)
        } else {
            self.calls.get(&id).copied()
        };
        if let Some(page) = self.stack.iter_mut().find(|p| Some(p.id) == page) {
            page.view.on_call_update(id, &update);
        }
    }

    /// A call ended because the server wants a page opened first: the dialog that offers
    /// it, when the screen is free (the call's error says the same either way).
    fn offer_page(&mut self, served_by: Option<&ServedBy>, message: &str, pages: &[String]) {
        let Some(page) = pages.first() else {
            return;
        };
        if !matches!(self.mode, Mode::Normal) {
            return;
        }
        let asker = served_by
            .and_then(|by| self.endpoint_owner(&by.url))
            .map_or_else(|| "the server".to_string(), |(service, _)| service);
        self.mode = Mode::Elicit(Box::new(ElicitDialog::prerequisite(
            asker,
            message.to_string(),
            page.clone(),
        )));
    }

    pub fn on_ui_event(&mut self, event: UiEvent) {
        self.handle_ui_event(event);
        // A dialog that just closed frees the screen for a waiting question.
        self.next_ask();
    }

    fn handle_ui_event(&mut self, event: UiEvent) {
        match event {
            UiEvent::CommandDone(Ok(message)) => self.say(message, false),
            UiEvent::CommandDone(Err(message)) => self.say(message, true),
            other => self.on_sign_in_event(other),
        }
    }

    /// An error for the message line.
    pub fn show_error(&mut self, text: String) {
        self.say(text, true);
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
            ViewKind::Resources => Box::new(views::resources::ResourcesView::new(scope)),
            ViewKind::Prompts => Box::new(views::prompts::PromptsView::new(scope)),
            ViewKind::Skills => Box::new(views::skills::SkillsView::new(scope)),
            ViewKind::Drift => Box::new(views::drift::DriftView::new(scope)),
            ViewKind::History => Box::new(views::history::HistoryView::new(scope)),
            ViewKind::Incidents => Box::new(views::incidents::IncidentsView::new(
                scope,
                self.data.incidents_dir.as_deref(),
            )),
            ViewKind::Stats => Box::new(views::stats::StatsView::new()),
            ViewKind::Auth => Box::new(views::auth::AuthView::new()),
            ViewKind::Doctor => Box::new(views::doctor::DoctorView::new(scope)),
            _ => return None,
        })
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Quit => self.quit = true,
            Action::Back => {
                if self.stack.len() > 1 {
                    self.stack.pop();
                    self.stop_watches_of_closed_pages();
                }
            }
            Action::Help => {
                if self.top().kind() == ViewKind::Help {
                    self.stack.pop();
                } else if let Some(view) = self.make_view(ViewKind::Help, Scope::fleet()) {
                    self.push(view);
                }
            }
            Action::Open(kind, scope) => {
                if kind == ViewKind::Services {
                    self.stack.truncate(1);
                    self.stop_watches_of_closed_pages();
                    return;
                }
                if let Some(service) = &scope.service
                    && self.data.snapshot.service(service).is_none()
                {
                    return self.say(format!("no service {service}"), true);
                }
                match self.make_view(kind, scope) {
                    Some(view) => self.push(view),
                    None => self.say(format!("{} is not available", kind.name()), true),
                }
            }
            Action::OpenTraceLogs { scope, trace_id } => {
                if let Some(service) = &scope.service
                    && self.data.snapshot.service(service).is_none()
                {
                    return self.say(format!("no service {service}"), true);
                }
                self.push(Box::new(views::logs::LogsView::for_trace(scope, trace_id)));
            }
            Action::OpenCall {
                scope,
                tool,
                arguments,
            } => match views::call::open(
                &self.data.snapshot,
                &self.data.probes.by_task,
                scope,
                &tool,
                arguments,
            ) {
                Ok(view) => self.push(view),
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
                if !self.data.snapshot.source.acts_on_services() {
                    let why = "static servers cannot be scaled, deployed or stopped from here";
                    return self.say(why.into(), true);
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
            Action::StartCall(request) => self.start_call(*request, false, false),
            Action::StartFanOut(request) => self.start_call(*request, false, true),
            Action::StartRepro(request) => self.start_repro(*request),
            Action::StartBench(request) => self.start_bench(*request),
            Action::StartCheck { service, file } => self.start_check(service, &file),
            Action::ConfirmedFanOut(request) => self.start_call(*request, true, true),
            Action::ConfirmedCall(request) => self.start_call(*request, true, false),
            Action::CancelCall(id) => self.mcp.cancel(id),
            Action::Fetch(scope, fetch) => {
                let page = self.stack.last().map_or(0, |page| page.id);
                self.start_fetch(page, &scope, fetch);
            }
            Action::StopWatch(id) => {
                self.fetches.remove(&id);
                self.mcp.unwatch(id);
            }
            Action::Copy(text) => {
                super::clipboard::copy(&text);
                self.say(format!("copied {} characters", text.chars().count()), false);
            }
            Action::Message(text) => self.say(text, false),
            Action::SwitchSource(source) => self.switch_to = Some(source),
            Action::Exec(scope) => self.exec_into(&scope),
            Action::Forward(scope) => self.forward_to(&scope),
            Action::SignIn(service) => self.sign_in_to(&service),
            Action::SignOut(target) => self.sign_out(&target),
            Action::CommandLineWith(text) => {
                self.mode = Mode::Command {
                    text,
                    completions: Vec::new(),
                }
            }
            Action::SignInAccept => self.accept_sign_in(),
            Action::SignInAbandon => {
                if let Some(task) = self.oauth.running.take() {
                    task.abort();
                }
                self.end_sign_in();
                self.say("stopped waiting for the sign-in".into(), false);
            }
        }
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
