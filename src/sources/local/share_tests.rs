//! The local fleet's socket between a console and an attached process: the fleet and its
//! logs cross, commands and their answers cross back, and a read-only console refuses them.

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
    let (commands, mut requests) = mpsc::channel::<CommandRequest>(1);
    // A source that answers every command with what it was asked.
    tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            let said = format!("done: {:?}", request.command);
            let _ = request.reply.send(Ok(said));
        }
    });
    let handle = SourceHandle::new(snapshots, logs, commands, CancellationToken::new());
    (handle, snapshots_tx, logs_tx)
}

fn scale(desired: u32) -> Command {
    Command::Scale {
        service: "svc".into(),
        desired,
    }
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
    assert!(share(&mut handle, &path, false).unwrap());
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
    // Commands cross to the console's source, each answered under its own id.
    let (first, second) = tokio::join!(attached.execute(scale(3)), attached.execute(scale(4)));
    assert_eq!(first.unwrap(), format!("done: {:?}", scale(3)));
    assert_eq!(second.unwrap(), format!("done: {:?}", scale(4)));

    let (mut second, _, _) = source(&shared);
    assert!(
        !share(&mut second, &path, false).unwrap(),
        "one console shares at a time"
    );
    drop(handle);
    assert!(!path.exists(), "the socket goes with the console's source");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_read_only_console_refuses_the_commands_of_attached_processes() {
    let dir = std::env::temp_dir().join(format!("mcpfleet-share-ro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("mcpfleet").join("local.sock");
    let (mut handle, _snapshots, _logs) = source(&fleet());
    assert!(share(&mut handle, &path, true).unwrap());
    let (attached, _) = attach(&path).await.expect("the console answers");
    let refused = attached.execute(scale(3)).await.unwrap_err().to_string();
    assert!(refused.contains("is read-only (--read-only)"), "{refused}");
    drop(handle);
    let gone = attached.execute(scale(3)).await.unwrap_err();
    assert_eq!(gone, CommandError::SourceGone, "the console has gone");
    let _ = std::fs::remove_dir_all(&dir);
}
