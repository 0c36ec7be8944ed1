//! The supervisor: one tokio task that owns the state of every local service. It takes
//! commands and worker reports from channels, lets the scheduler decide, carries the decisions
//! out (start a worker, stop a task), and publishes a fresh snapshot after each burst of
//! changes. Nothing else touches the state, so nothing is locked.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::{
    report::{WorkerEvent, WorkerReport},
    service::{Action, ServiceState},
    spec::LocalConfig,
    task::{self, TaskLaunch, Workers},
};
use crate::fleet::{Command, CommandError, CommandRequest, FleetSnapshot, LogSender, SourceKind};

/// Timers (start timeouts, backoff, unhealthy tasks) are checked this often.
const TICK: Duration = Duration::from_millis(250);
/// Worker reports handled before a snapshot is published, so a burst makes one snapshot.
const BURST: usize = 256;

type Reply = (
    oneshot::Sender<Result<String, CommandError>>,
    Result<String, CommandError>,
);

pub struct Supervisor {
    config: Arc<LocalConfig>,
    services: Vec<ServiceState>,
    workers: Workers,
    reports: mpsc::Receiver<WorkerEvent>,
    commands: mpsc::Receiver<CommandRequest>,
    snapshots: watch::Sender<Arc<FleetSnapshot>>,
    /// Dropping a task's sender stops it; kept until the task's process is gone.
    stops: HashMap<String, mpsc::UnboundedSender<()>>,
    /// Answered only after the snapshot showing the command's effect is out.
    replies: Vec<Reply>,
}

impl Supervisor {
    pub fn new(
        config: LocalConfig,
        commands: mpsc::Receiver<CommandRequest>,
        logs: LogSender,
        shutdown: CancellationToken,
    ) -> (Self, watch::Receiver<Arc<FleetSnapshot>>) {
        let services: Vec<ServiceState> = config
            .services
            .iter()
            .map(|spec| {
                ServiceState::new(
                    spec.clone(),
                    config.start_timeout,
                    config.stopped_tasks_kept,
                )
            })
            .collect();
        let (reports_tx, reports) = mpsc::channel(1024);
        let workers = Workers {
            events: reports_tx,
            logs,
            http: super::health::client(),
            shutdown,
        };
        let first = Arc::new(snapshot(&services));
        let (snapshots, receiver) = watch::channel(first);
        let supervisor = Self {
            config: Arc::new(config),
            services,
            workers,
            reports,
            commands,
            snapshots,
            stops: HashMap::new(),
            replies: Vec::new(),
        };
        (supervisor, receiver)
    }

    pub async fn run(mut self) {
        let shutdown = self.workers.shutdown.clone();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            self.reconcile();
            self.flush();
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                Some(request) = self.commands.recv() => self.on_command(request),
                Some(event) = self.reports.recv() => {
                    self.on_report(event);
                    for _ in 0..BURST {
                        match self.reports.try_recv() {
                            Ok(event) => self.on_report(event),
                            Err(_) => break,
                        }
                    }
                }
                _ = tick.tick() => {}
            }
        }
        self.shut_down().await;
    }

    fn reconcile(&mut self) {
        let now = Instant::now();
        for service in &mut self.services {
            service.reconcile(now);
        }
    }

    /// Publishes the snapshot if anything changed, then — and only then — tells workers to
    /// stop, so a draining task has left the ready set before it gets SIGTERM; then answers
    /// the commands.
    fn flush(&mut self) {
        let mut starts = Vec::new();
        let mut stops = Vec::new();
        let mut changed = false;
        for (index, service) in self.services.iter_mut().enumerate() {
            changed |= std::mem::take(&mut service.changed);
            for action in service.actions.drain(..) {
                match action {
                    Action::Start(id) => starts.push((index, id)),
                    Action::Stop(id) => stops.push(id),
                }
            }
        }
        if changed {
            self.snapshots
                .send_replace(Arc::new(snapshot(&self.services)));
        }
        for (index, id) in starts {
            self.start(index, id);
        }
        for id in stops {
            if let Some(stop) = self.stops.get(&id) {
                let _ = stop.send(());
            }
        }
        for (reply, result) in self.replies.drain(..) {
            let _ = reply.send(result);
        }
    }

    fn start(&mut self, service: usize, task_id: String) {
        let state = &self.services[service];
        let Some(task) = state.tasks.iter().find(|t| t.id == task_id) else {
            return;
        };
        let launch = TaskLaunch {
            config: self.config.clone(),
            spec: state.spec.clone(),
            revision: state.revision(task.revision).clone(),
            task_id: task_id.clone(),
            seq: task.seq,
        };
        self.stops
            .insert(task_id, task::spawn(launch, self.workers.clone()));
    }

    fn on_report(&mut self, event: WorkerEvent) {
        let Some(service) = self
            .services
            .iter_mut()
            .find(|s| s.task_index(&event.task_id).is_some())
        else {
            return;
        };
        let id = &event.task_id;
        match event.report {
            WorkerReport::Started { pid, address } => service.on_started(id, pid, address),
            WorkerReport::Stopping => service.on_stopping(id),
            WorkerReport::Health(healthy) => service.on_health(id, healthy, Instant::now()),
            WorkerReport::Metrics(scraped, at) => service.on_metrics(id, scraped, at),
            WorkerReport::Exited(exit) => {
                service.on_exited(id, &exit, Instant::now());
                self.stops.remove(id);
            }
        }
    }

    fn on_command(&mut self, request: CommandRequest) {
        let CommandRequest { command, reply } = request;
        let name = command.service().to_string();
        let result = match self.services.iter_mut().find(|s| s.name() == name) {
            None => Err(CommandError::UnknownService(name)),
            Some(service) => match command {
                Command::Scale { desired, .. } => service.scale(desired),
                Command::Deploy { change, .. } => service.deploy(&change),
                Command::Rollback { .. } => service.rollback(),
                Command::StopTask {
                    task_id, reason, ..
                } => service.stop_task(&task_id, &reason),
            },
        };
        self.replies.push((reply, result));
    }

    /// Every worker terminates its child on the shutdown token (SIGTERM, SIGKILL after the
    /// grace); wait for their reports so the snapshot ends with every task STOPPED.
    async fn shut_down(&mut self) {
        let deadline =
            tokio::time::Instant::now() + self.config.shutdown_grace + Duration::from_secs(1);
        while !self.stops.is_empty() {
            match tokio::time::timeout_at(deadline, self.reports.recv()).await {
                Ok(Some(event)) => self.on_report(event),
                _ => break,
            }
        }
        for (reply, _) in self.replies.drain(..) {
            let _ = reply.send(Err(CommandError::SourceGone));
        }
        self.snapshots
            .send_replace(Arc::new(snapshot(&self.services)));
    }
}

fn snapshot(services: &[ServiceState]) -> FleetSnapshot {
    FleetSnapshot {
        source: SourceKind::Local,
        context: "local".into(),
        services: services.iter().map(ServiceState::to_model).collect(),
        fetched_at: SystemTime::now(),
        stale: None,
        api_calls: 0,
        api_errors: 0,
        api: Vec::new(),
        loading: false,
        clusters: Vec::new(),
    }
}
