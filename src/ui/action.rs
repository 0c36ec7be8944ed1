//! Everything a person can ask the console to do, as one enum: keys and the `:` command line
//! turn into an `Action`, views return them, and the app loop applies them. Views never call
//! each other.

use crate::{
    config::SourceChoice,
    fleet::Command,
    mcp::{Browse, CallId, CallRequest, ServedBy},
};

/// The screens of the console; each is one file in `views/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewKind {
    Services,
    Tasks,
    Rollout,
    Logs,
    Tools,
    Resources,
    Prompts,
    Skills,
    Call,
    History,
    Stats,
    Auth,
    Help,
    Repro,
    Bench,
    Incidents,
    Drift,
    Check,
    Doctor,
}

impl ViewKind {
    pub fn name(self) -> &'static str {
        match self {
            ViewKind::Services => "services",
            ViewKind::Tasks => "tasks",
            ViewKind::Rollout => "rollout",
            ViewKind::Logs => "logs",
            ViewKind::Tools => "tools",
            ViewKind::Resources => "resources",
            ViewKind::Prompts => "prompts",
            ViewKind::Skills => "skills",
            ViewKind::Call => "call",
            ViewKind::History => "history",
            ViewKind::Stats => "stats",
            ViewKind::Auth => "auth",
            ViewKind::Help => "help",
            ViewKind::Repro => "repro",
            ViewKind::Bench => "bench",
            ViewKind::Incidents => "incidents",
            ViewKind::Drift => "drift",
            ViewKind::Check => "check",
            ViewKind::Doctor => "doctor",
        }
    }
}

/// What a view is opened on: the whole fleet, one service, or one task of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub service: Option<String>,
    pub task: Option<String>,
}

impl Scope {
    pub fn fleet() -> Self {
        Self::default()
    }

    pub fn service(name: impl Into<String>) -> Self {
        Self {
            service: Some(name.into()),
            task: None,
        }
    }

    pub fn task(service: impl Into<String>, task: impl Into<String>) -> Self {
        Self {
            service: Some(service.into()),
            task: Some(task.into()),
        }
    }
}

/// What a page asks the MCP worker for besides a call; the answers come back to that page.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetch {
    Browse(Browse),
    /// Watch a resource for updates (the resource list for changes when `None`).
    Watch(Option<String>),
    /// Check the connection to the scope's task step by step; the steps come as they end.
    Doctor,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Quit,
    /// Push a view on the page stack.
    Open(ViewKind, Scope),
    /// Open the call form for a tool of a service (optionally pinned to a task), pre-filled
    /// with `arguments` when given (a call from the history).
    OpenCall {
        scope: Scope,
        tool: String,
        arguments: Option<serde_json::Value>,
    },
    /// Open the logs of the task that served a call (its service's when the task is
    /// unknown), filtered to the call's trace.
    OpenTraceLogs {
        scope: Scope,
        trace_id: String,
    },
    /// Pop the page stack (Esc).
    Back,
    Help,
    /// Start the `:` command line / the `/` filter of the current view.
    CommandLine,
    /// The `:` command line with a command typed in, for the person to run or cancel.
    CommandLineWith(String),
    Filter,
    /// Ask for confirmation of a fleet command; `Confirmed` carries it out.
    Confirm(Command),
    Confirmed(Command),
    /// Start an MCP call; the app tells the view that asked which call id is its own. A call
    /// of a tool annotated destructive is confirmed first (`ConfirmedCall`), and refused under
    /// --read-only.
    StartCall(Box<CallRequest>),
    ConfirmedCall(Box<CallRequest>),
    /// The call to every ready task of its service at once (fan-out), under the same rules.
    StartFanOut(Box<CallRequest>),
    /// The call sent many times on a reproducer's screen.
    StartRepro(Box<CallRequest>),
    /// The call as a load run on a bench page, under the CLI's refusals.
    StartBench(Box<CallRequest>),
    ConfirmedFanOut(Box<CallRequest>),
    /// Run a check file's smoke checks on every ready replica of a service (`:check`).
    StartCheck {
        service: String,
        file: std::path::PathBuf,
    },
    CancelCall(CallId),
    /// Ask the MCP worker for something besides a call, for the page on top, from the
    /// scope's service (and task).
    Fetch(Scope, Fetch),
    /// Stop a watch this page started.
    StopWatch(CallId),
    /// Copy text to the clipboard (OSC 52).
    Copy(String),
    /// A line for the message bar.
    Message(String),
    /// A shell in the scope's task through ECS Exec, on the console's terminal until it ends.
    Exec(Scope),
    /// The scope's task's MCP port on a local port through Session Manager.
    Forward(Scope),
    /// Switch source (`:ctx`); the console stays up, and the old source runs until the new
    /// one has opened.
    SwitchSource(SourceChoice),
    /// Sign in to a service's OAuth authorization server (`:login`).
    SignIn(String),
    /// Sign out of a service (or URL): revoke the grant, forget the credentials.
    SignOut(String),
    /// The person accepted the sign-in the dialog offers.
    SignInAccept,
    /// Stop waiting for the browser.
    SignInAbandon,
}

impl Action {
    /// The jump from a call (the call form's result, a history entry) to its log lines.
    pub fn trace_logs(service: &str, served_by: Option<&ServedBy>, trace_id: Option<&str>) -> Self {
        let Some(trace_id) = trace_id else {
            return Action::Message(
                "this call was never sent, so no log line has its trace".into(),
            );
        };
        let task = served_by.and_then(|by| by.task_id.as_deref());
        Action::OpenTraceLogs {
            scope: task.map_or_else(
                || Scope::service(service),
                |task| Scope::task(service, task),
            ),
            trace_id: trace_id.to_string(),
        }
    }
}
