//! A running console's local fleet, reachable from other processes: the console serves its
//! snapshots and log lines on a unix socket under the XDG runtime directory (the folder
//! owner-only, the socket too), and one-shot commands attach to it instead of starting a
//! fleet of their own, so `mcpfleet ls` and `mcpfleet call … --task T` from another shell see
//! the console's tasks. Only the console acts on its fleet: an attached command that asks for
//! a change is told so.
//!
//! The protocol is one JSON object per line, server to client only: `hello`, then the current
//! `snapshot` and every one after it, and `log` lines (the last `RECENT_LINES` first).

use std::{
    collections::VecDeque,
    io,
    os::unix::fs::{DirBuilderExt, PermissionsExt},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter},
    net::{UnixListener, UnixStream},
    sync::{broadcast, mpsc, watch},
};
use tokio_util::sync::CancellationToken;

use crate::fleet::{
    CommandError, CommandRequest, FleetSnapshot, LogLine, SourceHandle, SourceKind, log_channel,
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

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Outgoing<'a> {
    Hello { pid: u32 },
    Snapshot(&'a FleetSnapshot),
    Log(&'a LogLine),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Incoming {
    Hello { pid: u32 },
    Snapshot(Box<FleetSnapshot>),
    Log(Box<LogLine>),
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

/// Serves `handle`'s fleet at `path` for as long as the handle lives. Returns `false` when
/// another console already serves there (its fleet stays the one commands attach to).
pub fn share(handle: &mut SourceHandle, path: &Path) -> io::Result<bool> {
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
    stop: CancellationToken,
}

impl Client {
    async fn serve(mut self, stream: UnixStream) {
        let mut out = BufWriter::new(stream);
        if let Err(error) = self.run(&mut out).await {
            tracing::debug!(%error, "local fleet socket: client gone");
        }
    }

    async fn run(&mut self, out: &mut BufWriter<UnixStream>) -> io::Result<()> {
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
            }
            out.flush().await?;
        }
    }
}

async fn write(out: &mut BufWriter<UnixStream>, message: &Outgoing<'_>) -> io::Result<()> {
    let mut text = serde_json::to_vec(message).map_err(io::Error::other)?;
    text.push(b'\n');
    out.write_all(&text).await
}

/// The fleet of the console serving at `path`, with the console's pid; `None` when no console
/// answers there.
pub async fn attach(path: &Path) -> Option<(SourceHandle, u32)> {
    let stream = UnixStream::connect(path).await.ok()?;
    let mut reader = BufReader::new(stream).lines();
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
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                Some(request) = requests.recv() => {
                    let refusal = format!(
                        "this fleet belongs to the console running as pid {pid}; act on it there"
                    );
                    let _ = request.reply.send(Err(CommandError::Refused(refusal)));
                }
                line = reader.next_line() => match line {
                    Ok(Some(text)) => match serde_json::from_str(&text) {
                        Ok(Incoming::Snapshot(snapshot)) => {
                            snapshots_tx.send_replace(Arc::new(*snapshot));
                        }
                        Ok(Incoming::Log(line)) => logs_tx.send(*line),
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
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::fleet::{Endpoint, Service, Task};

    fn fleet() -> FleetSnapshot {
        let mut snapshot = FleetSnapshot::empty(SourceKind::Local, "local");
        snapshot.services.push(Service {
            name: "svc".into(),
            desired: 1,
            running: 1,
            pending: 0,
            deployments: Vec::new(),
            tasks: vec![Task::serving(
                "0f2ab1c9d3e54f6a8b7c9d0e1f2a3b4c",
                Endpoint::new("http://127.0.0.1:41000/mcp", "127.0.0.1:41000"),
            )],
            events: Vec::new(),
            mcp_path: "/mcp".into(),
            notes: Vec::new(),
            traffic: None,
            policy: None,
            crash_loop: None,
            latest_revision: None,
        });
        snapshot
    }

    fn source(
        fleet: &FleetSnapshot,
    ) -> (
        SourceHandle,
        watch::Sender<Arc<FleetSnapshot>>,
        crate::fleet::LogSender,
    ) {
        let (snapshots_tx, snapshots) = watch::channel(Arc::new(fleet.clone()));
        let (logs_tx, logs) = log_channel(64);
        let (commands, _) = mpsc::channel(1);
        let handle = SourceHandle::new(snapshots, logs, commands, CancellationToken::new());
        (handle, snapshots_tx, logs_tx)
    }

    #[tokio::test]
    async fn an_attached_process_sees_the_fleet_and_its_logs_and_only_the_owner_may_connect() {
        let dir = std::env::temp_dir().join(format!("mcpfleet-share-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("mcpfleet").join("local.sock");
        let shared = fleet();
        let (mut handle, snapshots, logs) = source(&shared);
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        logs.send(LogLine::parse(
            "svc",
            "0f2ab1c9",
            "stdout",
            at,
            r#"{"msg":"before"}"#,
        ));
        assert!(share(&mut handle, &path).unwrap());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600, "the socket is the owner's alone");
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        // The console still gets every line, through the relay.
        let first = handle.logs.rx.recv().await.unwrap();
        assert_eq!(first.message, "before");

        let (mut attached, pid) = attach(&path).await.expect("the console answers");
        assert_eq!(pid, std::process::id());
        let seen = attached
            .wait_for(Duration::from_secs(5), |s| !s.loading)
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&*seen).unwrap(),
            serde_json::to_value(&shared).unwrap(),
            "the snapshot arrives whole"
        );
        let recent = attached.logs.rx.recv().await.unwrap();
        assert_eq!((recent.message.as_str(), recent.at), ("before", at));
        logs.send(LogLine::parse("svc", "0f2ab1c9", "stdout", at, "after"));
        assert_eq!(attached.logs.rx.recv().await.unwrap().message, "after");

        let mut changed = shared.clone();
        changed.services[0].desired = 2;
        snapshots.send_replace(Arc::new(changed));
        let seen = attached
            .wait_for(Duration::from_secs(5), |s| s.services[0].desired == 2)
            .await;
        assert!(seen.is_some(), "later snapshots follow");
        let refused = attached
            .execute(crate::fleet::Command::Scale {
                service: "svc".into(),
                desired: 3,
            })
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("belongs to the console"),
            "{refused}"
        );

        let (mut second, _, _) = source(&shared);
        assert!(
            !share(&mut second, &path).unwrap(),
            "one console shares at a time"
        );
        drop(handle);
        assert!(!path.exists(), "the socket goes with the console's source");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
