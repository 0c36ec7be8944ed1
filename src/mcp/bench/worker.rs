//! One load worker: its conversation with a replica, its schedule, and its moves. When the
//! fleet changes under the run (a rollout replaces tasks, one drains), the worker moves to the
//! replica now dealt to it before its next call, so a run keeps loading the service as it is.

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{
    BenchPlan, Targets,
    session::{Line, Session},
    tally::{Lane, Replica},
};

/// Times one call is sent again on another replica after it certainly did not run.
const MAX_RESENDS: usize = 3;

/// What every worker of a run shares.
#[derive(Clone)]
pub(super) struct Crew {
    pub plan: Arc<BenchPlan>,
    pub targets: watch::Receiver<Arc<Targets>>,
    pub budget: Option<Arc<AtomicU64>>,
    pub last_error: Arc<Mutex<Option<String>>>,
    /// How many times a worker moved to another replica.
    pub moves: Arc<AtomicU64>,
    /// Calls sent again on another replica because the first certainly did not run them.
    pub retries: Arc<AtomicU64>,
    pub deadline: Option<Instant>,
    /// Each worker's share of the rate.
    pub every: Option<Duration>,
    pub cancel: CancellationToken,
}

impl Crew {
    fn say(&self, error: String) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error);
    }
}

pub(super) struct Worker {
    /// Its number, which deals it a replica: `n % ready replicas`.
    pub n: usize,
    pub session: Session,
    pub url: String,
    pub replica: Option<Replica>,
    pub lane: Arc<Lane>,
}

impl Worker {
    pub async fn run(mut self, mut crew: Crew) {
        let mut next = Instant::now();
        loop {
            if crew.cancel.is_cancelled() || crew.deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            if crew.targets.has_changed().unwrap_or(false) {
                self.follow(&mut crew).await;
            }
            if let Some(budget) = &crew.budget
                && budget
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_err()
            {
                break;
            }
            if let Some(every) = crew.every {
                let slot = tokio::time::sleep_until(next.into());
                tokio::select! {
                    () = slot => {}
                    () = crew.cancel.cancelled() => break,
                }
                next += every;
            }
            let mut answer = tokio::select! {
                answer = self.session.call() => answer,
                () = crew.cancel.cancelled() => break,
            };
            // A replica that drained or went away before the fleet said so did not run the
            // call (or, for an idempotent tool, may run it again harmlessly): like a client
            // behind Service Connect, send it to another replica; mid-rollout that one may be
            // going too, so a few times at most.
            for _ in 0..MAX_RESENDS {
                let lost = answer.failure == Some(super::super::repro::FailureKind::Connection);
                let retry = answer.unsent || (lost && crew.plan.idempotent);
                if !retry || !self.flee(&mut crew).await {
                    break;
                }
                crew.retries.fetch_add(1, Ordering::Relaxed);
                answer = tokio::select! {
                    answer = self.session.call() => answer,
                    () = crew.cancel.cancelled() => return self.session.close().await,
                };
            }
            let served = match (&answer.served_by, &self.replica) {
                (Some(task), Some(own)) if own.task_id.as_deref() == Some(task) => own.clone(),
                (Some(task), _) => Replica {
                    task_id: Some(task.clone()),
                    revision: None,
                },
                (None, Some(own)) => own.clone(),
                (None, None) => Replica {
                    task_id: None,
                    revision: None,
                },
            };
            self.lane
                .record(&served, answer.latency, answer.failure.as_ref());
            if let Some(error) = answer.error {
                crew.say(error);
            }
        }
        self.session.close().await;
    }

    /// Moves to the replica the fleet now deals this worker, opening a conversation there
    /// first; stays where it is when that fails (the next change tries again) or when no
    /// replica is ready.
    async fn follow(&mut self, crew: &mut Crew) {
        let targets = crew.targets.borrow_and_update().clone();
        if targets.list.is_empty() {
            return;
        }
        let target = &targets.list[self.n % targets.list.len()];
        if target.url == self.url {
            self.replica.clone_from(&target.replica);
            return;
        }
        self.move_to(target, crew).await;
    }

    /// Moves to the first ready replica after the one that refused that opens a
    /// conversation, as the fleet now stands; false when none does.
    async fn flee(&mut self, crew: &mut Crew) -> bool {
        let targets = crew.targets.borrow().clone();
        let count = targets.list.len();
        for step in 1..=count {
            let target = &targets.list[(self.n + step) % count];
            if target.url != self.url && self.move_to(target, crew).await {
                return true;
            }
        }
        false
    }

    /// Opens a conversation with `target` and makes it this worker's; false (staying) when
    /// that fails.
    async fn move_to(&mut self, target: &super::BenchTarget, crew: &Crew) -> bool {
        let plan = &crew.plan;
        let opened = match Line::new(&target.url, &target.auth, plan.timeout) {
            Ok(line) => line.handshake(plan.stateless).await,
            Err(error) => Err(error),
        };
        let mut session = match opened {
            Ok(session) => session,
            Err(error) => {
                crew.say(format!("moving to {}: {error}", target.url));
                return false;
            }
        };
        // Ids go on from where this worker was, so they stay unique in the run.
        if let Err(error) = session.prepare(&plan.tool, &plan.arguments, self.session.next_id()) {
            crew.say(error);
            return false;
        }
        let left = std::mem::replace(&mut self.session, session);
        left.close().await;
        self.url.clone_from(&target.url);
        self.replica.clone_from(&target.replica);
        crew.moves.fetch_add(1, Ordering::Relaxed);
        true
    }
}
