//! A running console's local fleet, reachable from other processes: the console serves its
//! snapshots and log lines on a unix socket under the XDG runtime directory (the folder
//! owner-only, the socket too), and one-shot commands attach to it instead of starting a
//! fleet of their own, so `mcpfleet ls` and `mcpfleet call … --task T` from another shell see
//! the console's tasks. An attached command may also act on the fleet (`mcpfleet deploy`):
//! its commands go to the console's source and the answers come back, unless the console runs
//! `--read-only`, which refuses them as it refuses its own keys.
//!
//! The protocol is one JSON object per line. Console to command: `hello`, then the current
//! `snapshot` and every one after it, `log` lines (the last `RECENT_LINES` first), and an
//! `answer` for each command. Command to console: `command`, with an id its answer repeats.

use std::{
    collections::{HashMap, VecDeque},
    io,
    os::unix::fs::{DirBuilderExt, PermissionsExt},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter},
    net::{
        UnixListener, UnixStream,
        unix::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::{broadcast, mpsc, watch},
};
use tokio_util::sync::CancellationToken;

use crate::fleet::{
    Command, CommandError, CommandRequest, Commander, FleetSnapshot, LogLine, SourceHandle,
    SourceKind, log_channel,
};

/// Log lines a newly attached command receives before the live ones.
const RECENT_LINES: usize = 2000;
/// Live lines a slow client may fall behind by before it misses some.
const LOG_BACKLOG: usize = 4096;

/// `$XDG_RUNTIME_DIR/mcpfleet/local.sock`; without a runtime directory, the state directory.
pub fn socket_path() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "mcpfleet")?;
    let dir = dirs
        .runtime_dir()
        .or_else(|| dirs.state_dir())
        .unwrap_or_else(|| dirs.data_local_dir());
    Some(dir.join("local.sock"))
}

type Answer = Result<String, CommandError>;

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Outgoing<'a> {
    Hello { pid: u32 },
    Snapshot(&'a FleetSnapshot),
    Log(&'a LogLine),
    Answer { id: u64, result: &'a Answer },
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Incoming {
    Hello { pid: u32 },
    Snapshot(Box<FleetSnapshot>),
    Log(Box<LogLine>),
    Answer { id: u64, result: Answer },
}

/// What an attached command sends the console.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Request {
    Command { id: u64, command: Command },
}

/// Removes the socket when the console's source goes.
struct Served {
    path: PathBuf,
    stop: CancellationToken,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.cancel();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serves `handle`'s fleet at `path` for as long as the handle lives, acting on the commands
/// of attached processes unless `read_only`. Returns `false` when another console already
/// serves there (its fleet stays the one commands attach to).
pub fn share(handle: &mut SourceHandle, path: &Path, read_only: bool) -> io::Result<bool> {
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    // Nobody answered: what is there is left from a console that did not get to clean up.
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;

    let stop = CancellationToken::new();
    let recent = Arc::new(Mutex::new(VecDeque::with_capacity(RECENT_LINES)));
    let (lines, _) = broadcast::channel(LOG_BACKLOG);
    tee_logs(handle, recent.clone(), lines.clone(), stop.clone());
    let snapshots = handle.snapshots.clone();
    let commander = (!read_only).then(|| handle.commander());
    let accepting = stop.clone();
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                _ = accepting.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        tracing::warn!(%error, "local fleet socket: accept failed");
                        continue;
                    }
                },
            };
            let client = Client {
                snapshots: snapshots.clone(),
                lines: subscribe(&recent, &lines),
                commander: commander.clone(),
                stop: accepting.clone(),
            };
            tokio::spawn(client.serve(stream));
        }
    });
    handle.keep(Served {
        path: path.to_path_buf(),
        stop,
    });
    tracing::info!(path = %path.display(), "local fleet shared");
    Ok(true)
}

/// The recent lines and a subscription to the live ones, taken together so none is missed or
/// sent twice.
fn subscribe(
    recent: &Mutex<VecDeque<LogLine>>,
    lines: &broadcast::Sender<LogLine>,
) -> (Vec<LogLine>, broadcast::Receiver<LogLine>) {
    let recent = recent.lock().unwrap_or_else(PoisonError::into_inner);
    (recent.iter().cloned().collect(), lines.subscribe())
}

/// Puts a relay between the source's log channel and the console, which also keeps the
/// recent lines and hands every line to the attached commands.
fn tee_logs(
    handle: &mut SourceHandle,
    recent: Arc<Mutex<VecDeque<LogLine>>>,
    lines: broadcast::Sender<LogLine>,
    stop: CancellationToken,
) {
    let (to_console, from_relay) = handle.logs.sibling();
    let mut upstream = std::mem::replace(&mut handle.logs, from_relay);
    tokio::spawn(async move {
        loop {
            let line = tokio::select! {
                _ = stop.cancelled() => break,
                line = upstream.rx.recv() => match line {
                    Some(line) => line,
                    None => break,
                },
            };
            {
                let mut recent = recent.lock().unwrap_or_else(PoisonError::into_inner);
                if recent.len() == RECENT_LINES {
                    recent.pop_front();
                }
                recent.push_back(line.clone());
            }
            let _ = lines.send(line.clone());
            to_console.send(line);
        }
    });
}

struct Client {
    snapshots: watch::Receiver<Arc<FleetSnapshot>>,
    lines: (Vec<LogLine>, broadcast::Receiver<LogLine>),
    /// None when the console is read-only.
    commander: Option<Commander>,
    stop: CancellationToken,
}

impl Client {
    async fn serve(mut self, stream: UnixStream) {
        let (read, write) = stream.into_split();
        let mut out = BufWriter::new(write);
        if let Err(error) = self.run(read, &mut out).await {
            tracing::debug!(%error, "local fleet socket: client gone");
        }
    }

    async fn run(&mut self, read: OwnedReadHalf, out: &mut Out) -> io::Result<()> {
        write(
            out,
            &Outgoing::Hello {
                pid: std::process::id(),
            },
        )
        .await?;
        let snapshot = self.snapshots.borrow_and_update().clone();
        write(out, &Outgoing::Snapshot(&snapshot)).await?;
        for line in std::mem::take(&mut self.lines.0) {
            write(out, &Outgoing::Log(&line)).await?;
        }
        out.flush().await?;
        let mut requests = BufReader::new(read).lines();
        let (answers_tx, mut answers) = mpsc::channel::<(u64, Answer)>(8);
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => return Ok(()),
                changed = self.snapshots.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    let snapshot = self.snapshots.borrow_and_update().clone();
                    write(out, &Outgoing::Snapshot(&snapshot)).await?;
                }
                line = self.lines.1.recv() => match line {
                    Ok(line) => write(out, &Outgoing::Log(&line)).await?,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
                request = requests.next_line() => match request? {
                    Some(text) => self.act(&text, &answers_tx),
                    // The command closed the connection.
                    None => return Ok(()),
                },
                Some((id, result)) = answers.recv() => {
                    write(out, &Outgoing::Answer { id, result: &result }).await?;
                }
            }
            out.flush().await?;
        }
    }

    /// Hands a command to the console's source; its answer comes back on `answers`, in
    /// whatever order commands finish.
    fn act(&self, text: &str, answers: &mpsc::Sender<(u64, Answer)>) {
        let Request::Command { id, command } = match serde_json::from_str(text) {
            Ok(request) => request,
            Err(error) => {
                tracing::warn!(%error, "local fleet socket: bad request");
                return;
            }
        };
        let answers = answers.clone();
        let Some(commander) = self.commander.clone() else {
            let refusal = format!(
                "the console running as pid {} is read-only (--read-only): it changes nothing \
                 in its fleet",
                std::process::id()
            );
            tokio::spawn(async move {
                let _ = answers
                    .send((id, Err(CommandError::ReadOnly(refusal))))
                    .await;
            });
            return;
        };
        // The service only: a deployment's variables may hold credentials.
        let service = command.service().to_string();
        tracing::info!(%service, "local fleet socket: a command from another process");
        tokio::spawn(async move {
            let result = commander.execute(command).await;
            let _ = answers.send((id, result)).await;
        });
    }
}

type Out = BufWriter<OwnedWriteHalf>;

async fn write(out: &mut Out, message: &Outgoing<'_>) -> io::Result<()> {
    let mut text = serde_json::to_vec(message).map_err(io::Error::other)?;
    text.push(b'\n');
    out.write_all(&text).await
}

/// The fleet of the console serving at `path`, with the console's pid; `None` when no console
/// answers there.
pub async fn attach(path: &Path) -> Option<(SourceHandle, u32)> {
    let stream = UnixStream::connect(path).await.ok()?;
    let (read, mut to_console) = stream.into_split();
    let mut reader = BufReader::new(read).lines();
    // The hello comes at once; a console that does not send it within a second is stuck.
    let hello = tokio::time::timeout(std::time::Duration::from_secs(1), reader.next_line()).await;
    let pid = match hello {
        Ok(Ok(Some(text))) => match serde_json::from_str(&text) {
            Ok(Incoming::Hello { pid }) => pid,
            _ => return None,
        },
        _ => return None,
    };
    let mut waiting = FleetSnapshot::empty(SourceKind::Local, "local");
    waiting.loading = true;
    let (snapshots_tx, snapshots) = watch::channel(Arc::new(waiting));
    let (logs_tx, logs) = log_channel(RECENT_LINES * 2);
    let (commands, mut requests) = mpsc::channel::<CommandRequest>(8);
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        // Commands sent and not yet answered; dropped with the connection, which tells each
        // waiting caller that the source is gone.
        let mut waiting: HashMap<u64, tokio::sync::oneshot::Sender<Answer>> = HashMap::new();
        let mut next_id = 0u64;
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                Some(request) = requests.recv() => {
                    next_id += 1;
                    let sent = Request::Command { id: next_id, command: request.command };
                    let mut text = serde_json::to_vec(&sent).expect("a command serialises");
                    text.push(b'\n');
                    match to_console.write_all(&text).await {
                        Ok(()) => {
                            waiting.insert(next_id, request.reply);
                        }
                        Err(_) => {
                            let _ = request.reply.send(Err(CommandError::SourceGone));
                        }
                    }
                }
                line = reader.next_line() => match line {
                    Ok(Some(text)) => match serde_json::from_str(&text) {
                        Ok(Incoming::Snapshot(snapshot)) => {
                            snapshots_tx.send_replace(Arc::new(*snapshot));
                        }
                        Ok(Incoming::Log(line)) => logs_tx.send(*line),
                        Ok(Incoming::Answer { id, result }) => {
                            if let Some(reply) = waiting.remove(&id) {
                                let _ = reply.send(result);
                            }
                        }
                        Ok(Incoming::Hello { .. }) => {}
                        Err(error) => tracing::warn!(%error, "local fleet socket: bad line"),
                    },
                    _ => {
                        let mut last = (**snapshots_tx.borrow()).clone();
                        last.stale = Some(format!("the console (pid {pid}) has quit"));
                        snapshots_tx.send_replace(Arc::new(last));
                        break;
                    }
                },
            }
        }
    });
    Some((SourceHandle::new(snapshots, logs, commands, shutdown), pid))
}

#[cfg(test)]
#[path = "share_tests.rs"]
mod tests;
