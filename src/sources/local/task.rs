//! The worker of one task: starts its process on a free loopback port, ships its stdout and
//! stderr line by line to the log channel, runs its health/metrics watcher, carries out the
//! stop the supervisor asks for (SIGTERM, then SIGKILL of its process group after the drain
//! deadline), and reports what happened. It owns the process handle, so a pid is only ever
//! signalled while the process has not been reaped.

use std::{
    net::SocketAddr,
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime},
};

use nix::sys::signal::Signal;
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::Child,
    sync::mpsc,
    time::Instant,
};
use tokio_util::sync::CancellationToken;

use super::{
    child::{Exit, signal_group, signal_process},
    health::{self, HealthTarget, TaskFlags},
    report::{WorkerEvent, WorkerReport},
    spec::{LocalConfig, LocalServiceSpec, Revision, command_line},
};
use crate::fleet::{LogLine, LogSender};

/// Starts retried on a new port when the chosen one was taken in the meantime.
const PORT_ATTEMPTS: u32 = 3;
/// Longer lines are cut into pieces, so a child cannot make the console buffer without end.
const MAX_LINE_BYTES: usize = 64 * 1024;
/// After the process exited, how long its last output may take to arrive.
const OUTPUT_DRAIN: Duration = Duration::from_millis(500);

/// What one task runs.
pub struct TaskLaunch {
    pub config: Arc<LocalConfig>,
    pub spec: LocalServiceSpec,
    pub revision: Revision,
    pub task_id: String,
    /// The task's start order in its service, from 1: whether it gets the fault plan and the
    /// canary variables.
    pub seq: u64,
}

/// What every worker shares.
#[derive(Clone)]
pub struct Workers {
    pub events: mpsc::Sender<WorkerEvent>,
    pub logs: LogSender,
    pub http: reqwest::Client,
    /// Cancelled when the source stops: every child is terminated.
    pub shutdown: CancellationToken,
}

/// Starts the worker; sending on the returned channel (or dropping it) stops the task.
pub fn spawn(launch: TaskLaunch, workers: Workers) -> mpsc::UnboundedSender<()> {
    let (stop_tx, stop_rx) = mpsc::unbounded_channel();
    tokio::spawn(run(launch, workers, stop_rx));
    stop_tx
}

async fn run(launch: TaskLaunch, workers: Workers, mut stop: mpsc::UnboundedReceiver<()>) {
    let report = |report: WorkerReport| {
        let event = WorkerEvent {
            task_id: launch.task_id.clone(),
            report,
        };
        let events = workers.events.clone();
        async move {
            let _ = events.send(event).await;
        }
    };
    let mut attempt = 0;
    let exit = loop {
        attempt += 1;
        let (mut child, address) = match start(&launch) {
            Ok(started) => started,
            Err(error) => break Exit::SpawnFailed(error.to_string()),
        };
        let pid = child.id().unwrap_or_default();
        report(WorkerReport::Started { pid, address }).await;
        let port_taken = Arc::new(AtomicBool::new(false));
        let readers = [
            child
                .stdout
                .take()
                .map(|out| read_lines(out, "stdout", &launch, &workers, &port_taken)),
            child
                .stderr
                .take()
                .map(|err| read_lines(err, "stderr", &launch, &workers, &port_taken)),
        ];
        let probes = CancellationToken::new();
        let flags = Arc::new(TaskFlags::default());
        let probe = HealthTarget {
            task_id: launch.task_id.clone(),
            base: format!("http://{address}"),
            check: launch.spec.health_check(),
            health_interval: launch.config.health_interval,
            metrics_interval: launch.config.metrics_interval,
        };
        let (events, http) = (workers.events.clone(), workers.http.clone());
        tokio::spawn(health::watch(
            probe,
            http,
            events,
            probes.clone(),
            flags.clone(),
        ));
        let (status, asked) = supervise(&mut child, &launch, &workers, &mut stop, &flags).await;
        probes.cancel();
        if launch.spec.command.is_some() {
            // Whatever the command forked and left behind goes with it.
            signal_group(pid, Signal::SIGKILL);
        }
        for reader in readers.into_iter().flatten() {
            let abort = reader.abort_handle();
            if tokio::time::timeout(OUTPUT_DRAIN, reader).await.is_err() {
                abort.abort();
            }
        }
        let retry = !asked
            && !flags.ever_healthy.load(Ordering::SeqCst)
            && port_taken.load(Ordering::SeqCst);
        if retry && attempt < PORT_ATTEMPTS {
            continue;
        }
        break match status {
            Ok(status) => Exit::from_status(status),
            Err(error) => Exit::SpawnFailed(format!("lost the process: {error}")),
        };
    };
    report(WorkerReport::Exited(exit)).await;
}

/// A free port is found by binding port 0 and letting go; a clash with another process in the
/// meantime shows up as "address in use" and is retried. The kernel sends a child's
/// parent-death signal when the spawning *thread* ends, so this runs on a runtime worker
/// thread (which lives as long as the runtime), never on a blocking-pool thread.
fn start(launch: &TaskLaunch) -> std::io::Result<(Child, SocketAddr)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let line = command_line(
        &launch.config,
        &launch.spec,
        &launch.revision,
        &launch.task_id,
        port,
        launch.seq,
    );
    let child = tokio::process::Command::new(&line.program)
        .args(&line.args)
        .envs(line.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Own process group: a Ctrl-C in the console's terminal does not reach the children,
        // and the whole group can be killed at once.
        .process_group(0)
        // Last resort when the runtime goes away before the worker could stop the child.
        .kill_on_drop(true)
        .spawn()?;
    Ok((child, SocketAddr::from(([127, 0, 0, 1], port))))
}

/// Waits for the process to exit while carrying out a stop: SIGTERM after the deregistration
/// delay, SIGKILL to the group after the drain deadline (or the short shutdown grace). Returns
/// the exit status and whether the exit was asked for.
async fn supervise(
    child: &mut Child,
    launch: &TaskLaunch,
    workers: &Workers,
    stop: &mut mpsc::UnboundedReceiver<()>,
    flags: &TaskFlags,
) -> (std::io::Result<std::process::ExitStatus>, bool) {
    let config = &launch.config;
    let (mut asked, mut shutting_down) = (false, false);
    let mut terminate_at: Option<Instant> = None;
    let mut kill_at: Option<Instant> = None;
    loop {
        tokio::select! {
            status = child.wait() => return (status, asked),
            _ = stop.recv(), if !asked => {
                asked = true;
                flags.draining.store(true, Ordering::SeqCst);
                terminate_at = Some(Instant::now() + config.deregistration_delay);
            }
            _ = workers.shutdown.cancelled(), if !shutting_down => {
                shutting_down = true;
                asked = true;
                flags.draining.store(true, Ordering::SeqCst);
                let now = Instant::now();
                if kill_at.is_none() {
                    terminate_at = Some(now);
                }
                let grace = now + config.shutdown_grace;
                kill_at = Some(kill_at.map_or(grace, |at| at.min(grace)));
            }
            _ = sleep_until(terminate_at) => {
                terminate_at = None;
                if let Some(pid) = child.id() {
                    signal_process(pid, Signal::SIGTERM);
                }
                let _ = workers.events.send(WorkerEvent {
                    task_id: launch.task_id.clone(),
                    report: WorkerReport::Stopping,
                }).await;
                kill_at = kill_at.or(Some(Instant::now() + config.kill_after()));
            }
            _ = sleep_until(kill_at) => {
                kill_at = None;
                if let Some(pid) = child.id() {
                    signal_group(pid, Signal::SIGKILL);
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn read_lines(
    stream: impl AsyncRead + Unpin + Send + 'static,
    name: &'static str,
    launch: &TaskLaunch,
    workers: &Workers,
    port_taken: &Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    let (service, task_id) = (launch.spec.name.clone(), launch.task_id.clone());
    let (logs, port_taken) = (workers.logs.clone(), port_taken.clone());
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while let Ok(buffer) = reader.fill_buf().await {
            if buffer.is_empty() {
                break;
            }
            let newline = buffer.iter().position(|&b| b == b'\n');
            let taken = newline.map_or(buffer.len(), |at| at + 1);
            line.extend_from_slice(&buffer[..newline.unwrap_or(buffer.len())]);
            reader.consume(taken);
            if newline.is_some() || line.len() >= MAX_LINE_BYTES {
                ship(&logs, &service, &task_id, name, &line, &port_taken);
                line.clear();
            }
        }
        // The last line may lack its newline.
        if !line.is_empty() {
            ship(&logs, &service, &task_id, name, &line, &port_taken);
        }
    })
}

fn ship(
    logs: &LogSender,
    service: &str,
    task_id: &str,
    stream: &str,
    raw: &[u8],
    port_taken: &AtomicBool,
) {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end_matches('\r');
    if text.contains("Address already in use") || text.contains("EADDRINUSE") {
        port_taken.store(true, Ordering::SeqCst);
    }
    logs.send(LogLine::parse(
        service,
        task_id,
        stream,
        SystemTime::now(),
        text,
    ));
}
