//! A run started for a caller that must not wait for it (the console): spawned beside the
//! caller, its reports sent to the caller's update sink under a call id, like a reproducer's.

use std::sync::{Arc, atomic::Ordering};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{BenchPlan, BenchReport, Targets};
use crate::mcp::{CallId, CallUpdate, McpClient, UpdateSink};

impl McpClient {
    /// Starts `plan` over `targets` in a task of its own: every report goes to `updates` as
    /// `CallUpdate::Bench`, and after the last of them the end as `CallUpdate::BenchDone`. The
    /// token stops the run early.
    pub fn bench(
        &self,
        plan: BenchPlan,
        targets: watch::Receiver<Arc<Targets>>,
        updates: UpdateSink,
    ) -> (CallId, CancellationToken) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move {
            let (progress, mut watching) = watch::channel(Arc::new(BenchReport::default()));
            let forwarding = {
                let updates = updates.clone();
                tokio::spawn(async move {
                    while watching.changed().await.is_ok() {
                        let report = watching.borrow_and_update().clone();
                        if updates.send((id, CallUpdate::Bench(report))).is_err() {
                            break;
                        }
                    }
                })
            };
            let ran = super::run(&plan, targets, &progress, &stop).await;
            // The forwarder ends once it has sent what is left, so the end comes last.
            drop(progress);
            let _ = forwarding.await;
            let _ = updates.send((id, CallUpdate::BenchDone(ran.map(Arc::new))));
        });
        (id, cancel)
    }
}
