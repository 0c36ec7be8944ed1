//! The handle the console and the one-shot commands reach the MCP worker through
//! ([`McpClient`]), the requests it sends, and what the worker answers and publishes: call
//! updates, probes. Holds no connection: the worker owns those.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::sync::{mpsc, oneshot, watch};

use super::watch::BrowseRequest;
use super::{
    Browse, BrowseSink, Browsed, CallEvent, CallOutcome, CallRequest, History, McpError,
    PoolConfig, Probe, TaskOutcome,
};

/// Names one call (or fan-out) for its caller; unique per worker.
pub type CallId = u64;

/// A running call's news, sent to the caller that started it.
#[derive(Debug, Clone)]
pub enum CallUpdate {
    Event(CallEvent),
    Done(Box<CallOutcome>),
    /// A fan-out ended: one outcome per ready task, or why there were none.
    FannedOut(Result<Vec<TaskOutcome>, McpError>),
    /// A reproducer's figures so far.
    Repro(Arc<super::repro::ReproReport>),
    /// A reproducer ended (done, or cancelled).
    ReproDone(Box<super::repro::ReproEnd>),
    /// A load run's figures so far, every half second.
    Bench(Arc<super::bench::BenchReport>),
    /// A load run ended (done, or stopped early), or why no worker could start.
    BenchDone(Result<Arc<super::bench::BenchReport>, String>),
}

/// Where a caller receives the updates of the calls it started.
pub type UpdateSink = mpsc::UnboundedSender<(CallId, CallUpdate)>;

pub(super) enum McpRequest {
    Invoke {
        id: CallId,
        request: CallRequest,
        fan_out: bool,
        updates: UpdateSink,
    },
    Cancel(CallId),
    Probe {
        service: String,
        task: Option<String>,
        reply: oneshot::Sender<Result<Probe, McpError>>,
    },
    Browse {
        service: String,
        task: Option<String>,
        what: Browse,
        reply: oneshot::Sender<Result<Browsed, McpError>>,
    },
    Browsing(BrowseRequest),
    Doctor {
        service: String,
        task: Option<String>,
        tell: super::doctor::Tell,
    },
    Streams {
        reply: oneshot::Sender<StreamsByTask>,
    },
}

/// Each live task's SSE streams, by task id, for the tasks whose endpoint has a client.
pub type StreamsByTask = HashMap<String, super::streams::StreamHealth>;

/// What probing found: the newest probe of each task still in the fleet, why the last probe
/// of a task failed when it did, and the newest failure (numbered, so a reader can tell a new
/// one from one it has shown).
#[derive(Debug, Clone, Default)]
pub struct Probes {
    pub by_task: HashMap<String, Probe>,
    pub errors: HashMap<String, String>,
    /// Tasks whose last probe was refused for want of an OAuth sign-in (the `AuthRequired`
    /// error, with the server's challenge).
    pub needs_sign_in: HashMap<String, McpError>,
    pub failures: u64,
    pub last_failure: Option<ProbeFailure>,
    /// Each task's figures from the console's own calls over the recent window, refreshed
    /// every few seconds while they change.
    pub calls: Arc<super::figures::CallFigures>,
    /// Each task's SSE streams as its connection saw them, refreshed with the figures when
    /// they change.
    pub streams: Arc<StreamsByTask>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProbeFailure {
    pub task_id: String,
    pub error: String,
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub pool: PoolConfig,
    /// How often every ready task is probed again; `None` probes only on request (one-shot
    /// commands, which probe what they need).
    pub probe_every: Option<Duration>,
    /// Calls kept in memory, for the history view.
    pub history: usize,
    /// The history file ([`super::history::store`]): the newest calls are loaded from it when
    /// the worker starts and every call is appended to it. The front end chooses it; `None`
    /// keeps calls in memory only.
    pub history_file: Option<std::path::PathBuf>,
}

impl WorkerConfig {
    /// The console: a round of probes every 30 s, the last 200 calls kept.
    pub fn console() -> Self {
        Self {
            pool: PoolConfig::default(),
            probe_every: Some(Duration::from_secs(30)),
            history: 200,
            history_file: None,
        }
    }

    /// A one-shot command: no background probes.
    pub fn one_shot() -> Self {
        Self {
            probe_every: None,
            ..Self::console()
        }
    }
}

/// The handle the UI and the CLI talk to the worker through; cheap to clone. The worker stops
/// (cancelling what still runs) when the last handle is dropped.
#[derive(Clone)]
pub struct McpClient {
    pub(super) requests: mpsc::UnboundedSender<McpRequest>,
    pub(super) next_id: Arc<AtomicU64>,
    pub probes: watch::Receiver<Arc<Probes>>,
    pub history: watch::Receiver<Arc<History>>,
}

impl McpClient {
    /// Starts a call; its events and outcome go to `updates`, tagged with the returned id.
    pub fn invoke(&self, request: CallRequest, updates: UpdateSink) -> CallId {
        self.start(request, false, updates)
    }

    /// Starts the call on every ready task of its service at once; the target is ignored.
    pub fn fan_out(&self, request: CallRequest, updates: UpdateSink) -> CallId {
        self.start(request, true, updates)
    }

    fn start(&self, request: CallRequest, fan_out: bool, updates: UpdateSink) -> CallId {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let _ = self.requests.send(McpRequest::Invoke {
            id,
            request,
            fan_out,
            updates,
        });
        id
    }

    /// Cancels a running call: it ends with `Cancelled` and the server is told.
    pub fn cancel(&self, id: CallId) {
        let _ = self.requests.send(McpRequest::Cancel(id));
    }

    /// Runs one call to its end.
    pub async fn call(&self, request: CallRequest) -> CallOutcome {
        let (updates, mut received) = mpsc::unbounded_channel();
        let started = std::time::Instant::now();
        self.invoke(request, updates);
        while let Some((_, update)) = received.recv().await {
            if let CallUpdate::Done(outcome) = update {
                return *outcome;
            }
        }
        CallOutcome::failed(McpError::Protocol("the MCP worker stopped".into()), started)
    }

    /// Runs one fan-out to its end.
    pub async fn fan_out_all(&self, request: CallRequest) -> Result<Vec<TaskOutcome>, McpError> {
        let (updates, mut received) = mpsc::unbounded_channel();
        self.fan_out(request, updates);
        while let Some((_, update)) = received.recv().await {
            if let CallUpdate::FannedOut(result) = update {
                return result;
            }
        }
        Err(McpError::Protocol("the MCP worker stopped".into()))
    }

    /// Probes a task of `service` now: the one named (ready or not), else the first ready one.
    pub async fn probe(&self, service: &str, task: Option<&str>) -> Result<Probe, McpError> {
        let (reply, answer) = oneshot::channel();
        let _ = self.requests.send(McpRequest::Probe {
            service: service.to_string(),
            task: task.map(str::to_string),
            reply,
        });
        answer
            .await
            .unwrap_or_else(|_| Err(McpError::Protocol("the MCP worker stopped".into())))
    }

    /// Resources, a resource's contents, prompts or a prompt, from the task `probe` would
    /// choose.
    pub async fn browse(
        &self,
        service: &str,
        task: Option<&str>,
        what: Browse,
    ) -> Result<Browsed, McpError> {
        let (reply, answer) = oneshot::channel();
        let _ = self.requests.send(McpRequest::Browse {
            service: service.to_string(),
            task: task.map(str::to_string),
            what,
            reply,
        });
        answer
            .await
            .unwrap_or_else(|_| Err(McpError::Protocol("the MCP worker stopped".into())))
    }

    /// Resources, contents, prompts, a prompt or completions, answered on `sink` as
    /// `BrowseUpdate::Answer` under the returned id: for callers that must not await.
    pub fn browse_to(
        &self,
        service: &str,
        task: Option<&str>,
        what: Browse,
        sink: BrowseSink,
    ) -> CallId {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (service, task) = (service.to_string(), task.map(str::to_string));
        self.browsing(BrowseRequest::BrowseTo {
            id,
            service,
            task,
            what,
            sink,
        });
        id
    }

    /// Watches resource `uri` (the resource list when `None`) on the task `probe` would
    /// choose; news goes to `sink` under the returned id until [`McpClient::unwatch`].
    pub fn watch(
        &self,
        service: &str,
        task: Option<&str>,
        uri: Option<String>,
        sink: BrowseSink,
    ) -> CallId {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (service, task) = (service.to_string(), task.map(str::to_string));
        self.browsing(BrowseRequest::Watch {
            id,
            service,
            task,
            uri,
            sink,
        });
        id
    }

    /// Stops a watch: the server is told (unsubscribe, or the listen request cancelled).
    pub fn unwatch(&self, id: CallId) {
        self.browsing(BrowseRequest::Unwatch(id));
    }

    /// Checks the connection to a task of `service` step by step (the one named, else a
    /// ready one, else any running one); the steps arrive on the returned channel as they
    /// end, then the whole diagnosis.
    pub fn doctor(
        &self,
        service: &str,
        task: Option<&str>,
    ) -> mpsc::UnboundedReceiver<super::doctor::DoctorUpdate> {
        let (updates, received) = mpsc::unbounded_channel();
        self.send_doctor(
            service,
            task,
            Box::new(move |update| {
                let _ = updates.send(update);
            }),
        );
        received
    }

    /// The same, its news sent to `sink` as `BrowseUpdate::Doctor` under the returned id: for
    /// callers that must not await.
    pub fn doctor_to(&self, service: &str, task: Option<&str>, sink: BrowseSink) -> CallId {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.send_doctor(
            service,
            task,
            Box::new(move |update| {
                let _ = sink.send((id, super::BrowseUpdate::Doctor(update)));
            }),
        );
        id
    }

    /// Each live task's SSE streams as of now (tasks without a client are left out).
    pub async fn stream_health(&self) -> StreamsByTask {
        let (reply, answer) = oneshot::channel();
        let _ = self.requests.send(McpRequest::Streams { reply });
        answer.await.unwrap_or_default()
    }

    fn send_doctor(&self, service: &str, task: Option<&str>, tell: super::doctor::Tell) {
        let _ = self.requests.send(McpRequest::Doctor {
            service: service.to_string(),
            task: task.map(str::to_string),
            tell,
        });
    }

    fn browsing(&self, request: BrowseRequest) {
        let _ = self.requests.send(McpRequest::Browsing(request));
    }

    /// A handle with no worker behind it, for screens drawn over a fixed snapshot (benchmarks,
    /// view tests): requests go nowhere and nothing is ever published.
    pub fn detached() -> Self {
        let (requests, _) = mpsc::unbounded_channel();
        Self {
            requests,
            next_id: Arc::new(AtomicU64::new(1)),
            probes: watch::channel(Arc::new(Probes::default())).1,
            history: watch::channel(Arc::new(History::new(1))).1,
        }
    }
}
