//! The MCP worker: the one owner of MCP connections. It watches the fleet's snapshots, probes
//! ready tasks (a new one at once, every one each round), runs calls and fan-outs, keeps the
//! call history (in memory, and in the history file when it has one), and publishes probes and
//! history on watch channels. The console and the
//! one-shot commands send it requests through an [`McpClient`] and read what it publishes;
//! neither holds a [`Pool`], so they cannot drift apart.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, atomic::AtomicU64},
    time::{Duration, Instant},
};

use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::fleet::{Endpoint, FleetSnapshot};

use super::client::{
    CallId, CallUpdate, McpClient, McpRequest, ProbeFailure, Probes, StreamsByTask, UpdateSink,
    WorkerConfig,
};
use super::{
    CallControl, CallEvent, CallOutcome, CallRequest, History, HistoryEntry, McpError, Pool, Probe,
    Target, TaskOutcome, figures::CallBook, history::store::HistoryFile, route,
};

/// Events a call may queue before the worker forwards them; beyond it events are dropped
/// rather than stall the call.
const EVENT_QUEUE: usize = 256;
/// How often the figures of the console's own calls are worked out again, as the console
/// samples its trends.
const FIGURES_EVERY: Duration = Duration::from_secs(2);

/// Spawns the worker over a source's snapshots on the current runtime.
pub fn spawn(snapshots: watch::Receiver<Arc<FleetSnapshot>>, config: WorkerConfig) -> McpClient {
    let (requests, inbox) = mpsc::unbounded_channel();
    let (probes_tx, probes) = watch::channel(Arc::new(Probes::default()));
    let (history_tx, history) = watch::channel(Arc::new(History::new(config.history)));
    let (finished, finished_rx) = mpsc::unbounded_channel();
    let worker = Worker {
        pool: Pool::new(config.pool.clone()),
        history: History::new(config.history),
        file: config.history_file.clone().map(HistoryFile::at),
        config,
        probes: Probes::default(),
        probes_tx,
        history_tx,
        running: HashMap::new(),
        watches: HashMap::new(),
        probing: HashSet::new(),
        calls: CallBook::default(),
        finished,
    };
    tokio::spawn(worker.run(snapshots, inbox, finished_rx));
    McpClient {
        requests,
        next_id: Arc::new(AtomicU64::new(1)),
        probes,
        history,
    }
}

/// What a spawned piece of network work reports back to the worker loop.
enum Finished {
    Probe {
        task_id: String,
        result: Result<Probe, McpError>,
    },
    Call {
        id: CallId,
        outcome: CallOutcome,
    },
    FanOut {
        id: CallId,
        result: Result<Vec<TaskOutcome>, McpError>,
    },
}

struct Running {
    cancel: CancellationToken,
    request: CallRequest,
    updates: UpdateSink,
}

struct Worker {
    pool: Pool,
    config: WorkerConfig,
    probes: Probes,
    probes_tx: watch::Sender<Arc<Probes>>,
    history: History,
    file: Option<HistoryFile>,
    history_tx: watch::Sender<Arc<History>>,
    running: HashMap<CallId, Running>,
    /// Resource watches, stopped by their token.
    watches: HashMap<CallId, CancellationToken>,
    /// Tasks with a probe under way, so none is probed twice at once.
    probing: HashSet<String>,
    /// The console's own calls per task, for figures where a server has no metrics.
    calls: CallBook,
    finished: mpsc::UnboundedSender<Finished>,
}

impl Worker {
    async fn run(
        mut self,
        mut snapshots: watch::Receiver<Arc<FleetSnapshot>>,
        mut inbox: mpsc::UnboundedReceiver<McpRequest>,
        mut finished: mpsc::UnboundedReceiver<Finished>,
    ) {
        let every = self.config.probe_every.unwrap_or(Duration::from_secs(3600));
        let mut rounds = tokio::time::interval(every);
        rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut figures = tokio::time::interval(FIGURES_EVERY);
        figures.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut source_alive = true;
        self.load_history().await;
        loop {
            tokio::select! {
                request = inbox.recv() => match request {
                    Some(request) => self.on_request(request, &snapshots.borrow().clone()),
                    None => break,
                },
                changed = snapshots.changed(), if source_alive => {
                    if changed.is_err() {
                        source_alive = false;
                        continue;
                    }
                    let snapshot = snapshots.borrow_and_update().clone();
                    self.on_snapshot(&snapshot);
                }
                _ = rounds.tick(), if self.config.probe_every.is_some() => {
                    let snapshot = snapshots.borrow().clone();
                    self.probe_ready(&snapshot, true);
                }
                Some(done) = finished.recv() => self.on_finished(done),
                _ = figures.tick() => {
                    let snapshot = snapshots.borrow().clone();
                    let mut changed = false;
                    if let Some(figures) = self.calls.figures(&snapshot, Instant::now()) {
                        self.probes.calls = Arc::new(figures);
                        changed = true;
                    }
                    let streams = self.stream_health(&snapshot);
                    if streams != *self.probes.streams {
                        self.probes.streams = Arc::new(streams);
                        changed = true;
                    }
                    if changed {
                        self.publish_probes();
                    }
                }
            }
        }
        for running in self.running.values() {
            running.cancel.cancel();
        }
        for watch in self.watches.values() {
            watch.cancel();
        }
    }

    fn on_request(&mut self, request: McpRequest, snapshot: &Arc<FleetSnapshot>) {
        match request {
            McpRequest::Invoke {
                id,
                request,
                fan_out,
                updates,
            } => self.start_call(id, request, fan_out, updates, snapshot.clone()),
            McpRequest::Cancel(id) => {
                if let Some(running) = self.running.get(&id) {
                    running.cancel.cancel();
                }
            }
            McpRequest::Probe {
                service,
                task,
                reply,
            } => match route::probe_target(snapshot, &service, task.as_deref()) {
                Ok(chosen) => self.spawn_probe(chosen.task_id, chosen.endpoint, Some(reply)),
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
            },
            McpRequest::Browse {
                service,
                task,
                what,
                reply,
            } => match route::probe_target(snapshot, &service, task.as_deref()) {
                Ok(chosen) => {
                    let pool = self.pool.clone();
                    tokio::spawn(async move {
                        let _ = reply.send(pool.browse(&chosen.endpoint, &what).await);
                    });
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
            },
            McpRequest::Browsing(request) => {
                super::watch::on_request(&self.pool, &mut self.watches, request, snapshot)
            }
            McpRequest::Doctor {
                service,
                task,
                tell,
            } => {
                let chosen = route::doctor_target(snapshot, &service, task.as_deref());
                let config = self.pool.config().clone();
                tokio::spawn(super::doctor::run(chosen, config, tell));
            }
            McpRequest::Streams { reply } => {
                let _ = reply.send(self.stream_health(snapshot));
            }
        }
    }

    fn start_call(
        &mut self,
        id: CallId,
        request: CallRequest,
        fan_out: bool,
        updates: UpdateSink,
        snapshot: Arc<FleetSnapshot>,
    ) {
        let (events, mut events_rx) = mpsc::channel(EVENT_QUEUE);
        let control = CallControl {
            events: Some(events),
            cancel: CancellationToken::new(),
        };
        self.running.insert(
            id,
            Running {
                cancel: control.cancel.clone(),
                request: request.clone(),
                updates: updates.clone(),
            },
        );
        let (pool, finished) = (self.pool.clone(), self.finished.clone());
        tokio::spawn(async move {
            let forward = |event| {
                let _ = updates.send((id, CallUpdate::Event(event)));
            };
            let done = if fan_out {
                let call = pool.fan_out_with(&snapshot, &request, &control);
                let result = relay_events(call, &mut events_rx, forward).await;
                Finished::FanOut { id, result }
            } else {
                let call = pool.call_with(&snapshot, &request, &control);
                let outcome = relay_events(call, &mut events_rx, forward).await;
                Finished::Call { id, outcome }
            };
            let _ = finished.send(done);
        });
    }

    fn on_finished(&mut self, done: Finished) {
        match done {
            Finished::Probe { task_id, result } => {
                self.probing.remove(&task_id);
                match result {
                    Ok(probe) => {
                        self.probes.errors.remove(&task_id);
                        self.probes.needs_sign_in.remove(&task_id);
                        self.probes.by_task.insert(task_id, probe);
                    }
                    Err(error) => {
                        if matches!(error, McpError::AuthRequired { .. }) {
                            self.probes
                                .needs_sign_in
                                .insert(task_id.clone(), error.clone());
                        } else {
                            self.probes.needs_sign_in.remove(&task_id);
                        }
                        let error = error.to_string();
                        self.probes.errors.insert(task_id.clone(), error.clone());
                        self.probes.failures += 1;
                        self.probes.last_failure = Some(ProbeFailure { task_id, error });
                    }
                }
                self.publish_probes();
            }
            Finished::Call { id, outcome } => {
                self.calls.record(&outcome, Instant::now());
                let Some(running) = self.running.remove(&id) else {
                    return;
                };
                let entries = if running.request.record {
                    let recorded = self.history.record(&running.request, &outcome);
                    self.history.get(recorded).cloned().into_iter().collect()
                } else {
                    Vec::new()
                };
                self.keep(entries, move || {
                    let _ = running
                        .updates
                        .send((id, CallUpdate::Done(Box::new(outcome))));
                });
            }
            Finished::FanOut { id, result } => {
                let Some(running) = self.running.remove(&id) else {
                    return;
                };
                let mut recorded = Vec::new();
                for task in result.iter().flatten() {
                    self.calls.record(&task.outcome, Instant::now());
                    let request = CallRequest {
                        target: Target::Task(task.task_id.clone()),
                        ..running.request.clone()
                    };
                    recorded.push(self.history.record(&request, &task.outcome));
                }
                let entries = recorded
                    .into_iter()
                    .filter_map(|id| self.history.get(id).cloned())
                    .collect();
                self.keep(entries, move || {
                    let _ = running.updates.send((id, CallUpdate::FannedOut(result)));
                });
            }
        }
    }

    fn on_snapshot(&mut self, snapshot: &Arc<FleetSnapshot>) {
        self.pool.prune(snapshot);
        let live: HashSet<&str> = snapshot
            .services
            .iter()
            .flat_map(|service| &service.tasks)
            .filter(|task| task.stopped_at.is_none())
            .map(|task| task.id.as_str())
            .collect();
        let before = (self.probes.by_task.len(), self.probes.errors.len());
        let probes = &mut self.probes;
        probes.by_task.retain(|id, _| live.contains(id.as_str()));
        probes.errors.retain(|id, _| live.contains(id.as_str()));
        probes
            .needs_sign_in
            .retain(|id, _| live.contains(id.as_str()));
        if (probes.by_task.len(), probes.errors.len()) != before {
            self.publish_probes();
        }
        if self.config.probe_every.is_some() {
            self.probe_ready(snapshot, false);
        }
    }

    /// Probes ready tasks: on a round every one, otherwise those never probed successfully
    /// (a task that just became ready). A failed task waits for the next round.
    fn probe_ready(&mut self, snapshot: &FleetSnapshot, round: bool) {
        let mut due = Vec::new();
        for service in &snapshot.services {
            for task in service.ready_tasks() {
                // A task whose probe failed waits for the next round.
                let fresh = !self.probes.by_task.contains_key(&task.id)
                    && !self.probes.errors.contains_key(&task.id);
                if self.probing.contains(&task.id) || !(round || fresh) {
                    continue;
                }
                if let Some(endpoint) = &task.endpoint {
                    due.push((task.id.clone(), endpoint.clone()));
                }
            }
        }
        for (task_id, endpoint) in due {
            self.spawn_probe(task_id, endpoint, None);
        }
    }

    fn spawn_probe(
        &mut self,
        task_id: String,
        endpoint: Endpoint,
        reply: Option<oneshot::Sender<Result<Probe, McpError>>>,
    ) {
        self.probing.insert(task_id.clone());
        let (pool, finished) = (self.pool.clone(), self.finished.clone());
        tokio::spawn(async move {
            let result = pool.probe(&endpoint).await;
            if let Some(reply) = reply {
                let _ = reply.send(result.clone());
            }
            let _ = finished.send(Finished::Probe { task_id, result });
        });
    }

    /// The newest calls of the history file, before the first request is served.
    async fn load_history(&mut self) {
        let Some(file) = self.file.clone() else {
            return;
        };
        let capacity = self.config.history;
        let loaded = match tokio::task::spawn_blocking(move || file.load(capacity)).await {
            Ok(Ok(loaded)) => loaded,
            Ok(Err(error)) => {
                tracing::warn!(%error, "history not loaded");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "history not loaded");
                return;
            }
        };
        for skipped in &loaded.skipped {
            tracing::warn!(line = skipped.line, reason = %skipped.reason, "history line skipped");
        }
        self.history = History::with_entries(capacity, loaded.entries);
        self.history_tx.send_replace(Arc::new(self.history.clone()));
    }

    /// Publishes the calls just recorded, appends them to the history file, and only then
    /// tells the caller, so a caller holding an outcome (a one-shot command about to exit)
    /// knows its call is on disk.
    fn keep(&self, entries: Vec<HistoryEntry>, tell_caller: impl FnOnce() + Send + 'static) {
        if entries.is_empty() {
            return tell_caller();
        }
        self.history_tx.send_replace(Arc::new(self.history.clone()));
        let Some(file) = self.file.clone() else {
            return tell_caller();
        };
        tokio::spawn(async move {
            match tokio::task::spawn_blocking(move || file.append(&entries)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "call not kept in the history file"),
                Err(error) => tracing::warn!(%error, "call not kept in the history file"),
            }
            tell_caller();
        });
    }

    /// The SSE streams of every live task whose endpoint has a client in the pool.
    fn stream_health(&self, snapshot: &FleetSnapshot) -> StreamsByTask {
        snapshot
            .services
            .iter()
            .flat_map(|service| &service.tasks)
            .filter(|task| task.stopped_at.is_none())
            .filter_map(|task| {
                let endpoint = task.endpoint.as_ref()?;
                Some((task.id.clone(), self.pool.stream_health(endpoint)?))
            })
            .collect()
    }

    fn publish_probes(&self) {
        self.probes_tx.send_replace(Arc::new(self.probes.clone()));
    }
}

/// Runs `call`, forwarding its events as they come and draining them before it returns, so a
/// caller sees every event of a call before its outcome.
async fn relay_events<T>(
    call: impl std::future::Future<Output = T>,
    events: &mut mpsc::Receiver<CallEvent>,
    forward: impl Fn(CallEvent),
) -> T {
    tokio::pin!(call);
    let output = loop {
        tokio::select! {
            output = &mut call => break output,
            Some(event) = events.recv() => forward(event),
        }
    };
    while let Ok(event) = events.try_recv() {
        forward(event);
    }
    output
}
