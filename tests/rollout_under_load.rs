//! A rolling deploy of the local fleet while clients keep calling: no call may fail, the
//! rollout completes, and every task ends on the new revision. Then a deploy whose tasks
//! cannot start fails, rolls back, and the calls still never fail.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use mcpfleet::{
    fleet::{Command, FleetSnapshot, RevisionChange, RolloutState, Source, TaskStatus},
    mcp::{CallRequest, OutcomeKind, Pool},
    sources::local::{LocalConfig, LocalSource},
};
use serde_json::json;
use tokio::sync::watch;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const SERVICE: &str = "mcpfleet-server";
const WORKERS: usize = 16;

struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failures: Arc<std::sync::Mutex<Vec<String>>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

fn start_load(pool: &Pool, snapshots: &watch::Receiver<Arc<FleetSnapshot>>) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let workers = (0..WORKERS)
        .map(|worker| {
            let (pool, snapshots) = (pool.clone(), snapshots.clone());
            let (stop, ok, failures) = (stop.clone(), ok.clone(), failures.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let message = format!("w{worker}-{n}");
                    let request = CallRequest::new(SERVICE, "echo", json!({"message": message}));
                    let fleet = snapshots.borrow().clone();
                    let outcome = pool.call(&fleet, &request).await;
                    match outcome.kind() {
                        OutcomeKind::Ok if outcome.result.as_ref().unwrap().text() == message => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => failures
                            .lock()
                            .unwrap()
                            .push(format!("{:?}", outcome.result)),
                    }
                }
            })
        })
        .collect();
    Load {
        stop,
        ok,
        failures,
        workers,
    }
}

impl Load {
    async fn finish(self) -> (u64, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers {
            worker.await.unwrap();
        }
        let failures = self.failures.lock().unwrap().clone();
        (self.ok.load(Ordering::Relaxed), failures)
    }
}

fn revisions(snapshot: &FleetSnapshot) -> Vec<u32> {
    let service = snapshot.service(SERVICE).unwrap();
    service
        .tasks
        .iter()
        .filter(|t| t.last_status == TaskStatus::Running)
        .map(|t| t.revision)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_deploy_under_load_loses_no_call() {
    let mut handle = Box::new(LocalSource::new(LocalConfig::default_fleet(BIN)).unwrap()).start();
    handle
        .wait_for(Duration::from_secs(20), |s| {
            s.service(SERVICE)
                .is_some_and(|s| s.ready_tasks().count() == 3)
        })
        .await
        .expect("three ready replicas");
    let pool = Pool::default();
    let load = start_load(&pool, &handle.snapshots);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let began = Instant::now();
    let before = load.ok.load(Ordering::Relaxed);
    handle
        .execute(Command::Deploy {
            service: SERVICE.into(),
            change: RevisionChange::default(),
        })
        .await
        .expect("deploy accepted");
    let done = handle
        .wait_for(Duration::from_secs(30), |s| {
            let service = s.service(SERVICE).unwrap();
            service
                .primary()
                .is_some_and(|d| d.revision == 2 && d.rollout_state != RolloutState::InProgress)
                && service
                    .tasks
                    .iter()
                    .filter(|t| t.last_status != TaskStatus::Stopped)
                    .all(|t| t.revision == 2)
        })
        .await
        .expect("rollout finished");
    let rollout = began.elapsed();
    let during = load.ok.load(Ordering::Relaxed) - before;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Then a deploy whose new tasks cannot start: the circuit breaker rolls it back.
    let mut broken = RevisionChange::default();
    broken
        .env
        .insert("MCPFLEET_FAULTS".into(), "not-a-rule".into());
    handle
        .execute(Command::Deploy {
            service: SERVICE.into(),
            change: broken,
        })
        .await
        .expect("accepted");
    let failed = handle
        .wait_for(Duration::from_secs(30), |s| {
            let service = s.service(SERVICE).unwrap();
            service
                .deployments
                .iter()
                .any(|d| d.revision == 3 && d.rollout_state == RolloutState::Failed)
                && service.ready_tasks().count() == 3
        })
        .await
        .expect("the broken deploy failed and the service is whole again");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (ok, failures) = load.finish().await;

    let rate = during as f64 / rollout.as_secs_f64();
    eprintln!(
        "rollout took {rollout:?}; {during} calls during it ({rate:.0}/s); {ok} calls in all"
    );
    assert!(
        failures.is_empty(),
        "{} failed calls, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    assert!(rate >= 100.0, "only {rate:.0} calls/s during the rollout");
    let primary = done.service(SERVICE).unwrap().primary().unwrap().clone();
    assert_eq!(primary.rollout_state, RolloutState::Completed);
    assert_eq!(revisions(&done), vec![2, 2, 2]);
    assert_eq!(
        revisions(&failed),
        vec![2, 2, 2],
        "rolled back to revision 2"
    );
    let events: Vec<&str> = failed
        .service(SERVICE)
        .unwrap()
        .events
        .iter()
        .map(|e| e.message.as_str())
        .collect();
    assert!(
        events.iter().any(|e| e.contains("rolling back")),
        "{events:#?}"
    );
}
