//! Where a service's rollout stands for someone waiting on it (`mcpfleet rollout wait`): still
//! rolling, deployed, or failed (and rolled back or not), and the one line that says so with
//! each revision's figures under load.

use std::time::SystemTime;

use serde::Serialize;

use super::{Deployment, DeploymentStatus, RolloutState, Service};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Verdict {
    Rolling,
    /// The primary deployment completed and no older task runs.
    Deployed {
        revision: u32,
    },
    /// A deployment being waited on failed; `back_to` is the revision rolled back to.
    Failed {
        revision: u32,
        reason: String,
        back_to: Option<u32>,
    },
}

/// Judges `service` for a wait that began at `since` with `first` as its primary
/// deployment: a deployment fails the wait when it is that one or began after the wait did.
pub fn verdict(service: &Service, since: SystemTime, first: Option<&str>) -> Verdict {
    let Some(primary) = service.primary() else {
        return Verdict::Rolling;
    };
    let waited_on = |d: &&Deployment| d.created_at >= since || Some(d.id.as_str()) == first;
    let failed = service
        .deployments
        .iter()
        .filter(waited_on)
        .find(|d| d.rollout_state == RolloutState::Failed);
    if let Some(failed) = failed {
        return Verdict::Failed {
            revision: failed.revision,
            reason: failed
                .rollout_reason
                .clone()
                .unwrap_or_else(|| "no reason given".into()),
            back_to: (failed.id != primary.id).then_some(primary.revision),
        };
    }
    let old_running = service
        .deployments
        .iter()
        .any(|d| d.status == DeploymentStatus::Active && d.running > 0);
    let done = primary.rollout_state == RolloutState::Completed
        && !old_running
        && primary.running == primary.desired;
    match done {
        true => Verdict::Deployed {
            revision: primary.revision,
        },
        false => Verdict::Rolling,
    }
}

/// The deployments that still run tasks (the primary always), each as
/// `STATUS rev N STATE running/desired`, with what changes between lines only.
pub fn state_line(service: &Service) -> String {
    let live = service
        .deployments
        .iter()
        .filter(|d| d.status == DeploymentStatus::Primary || d.running + d.pending > 0);
    let parts: Vec<String> = live
        .map(|d| {
            let status = format!("{:?}", d.status).to_uppercase();
            let state = d.rollout_state.label();
            let mut part = format!(
                "{status} rev {} {state} {}/{} running",
                d.revision, d.running, d.desired
            );
            if d.pending > 0 {
                part += &format!(", {} pending", d.pending);
            }
            if d.failed > 0 {
                part += &format!(", {} failed", d.failed);
            }
            part
        })
        .collect();
    parts.join(" · ")
}

/// Each revision's calls/s, error rate and slowest task's p99 over the recent window, where
/// its tasks report them.
pub fn figures_line(service: &Service) -> Option<String> {
    let parts: Vec<String> = service
        .deployments
        .iter()
        .filter_map(|d| {
            let f = d.figures.as_ref()?;
            let errors = f.error_rate.map_or("-".into(), |e| format!("{e:.1} %"));
            let p99 = f.p99_ms.map_or("-".into(), |p| format!("{p:.1} ms"));
            Some(format!(
                "rev {}: {:.1} calls/s, {errors} errors, p99 {p99}",
                d.revision, f.calls_per_sec
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fleet::RevisionFigures;

    fn deployment(id: &str, revision: u32, status: DeploymentStatus) -> Deployment {
        Deployment {
            id: id.into(),
            status,
            revision,
            desired: 3,
            running: 3,
            pending: 0,
            failed: 0,
            rollout_state: RolloutState::Completed,
            rollout_reason: None,
            created_at: SystemTime::UNIX_EPOCH + Duration::from_secs(revision.into()),
            updated_at: SystemTime::UNIX_EPOCH,
            figures: None,
            bake_ends_at: None,
        }
    }

    fn service(deployments: Vec<Deployment>) -> Service {
        Service {
            name: "orders".into(),
            desired: 3,
            running: 3,
            pending: 0,
            deployments,
            tasks: Vec::new(),
            events: Vec::new(),
            mcp_path: "/mcp".into(),
            notes: Vec::new(),
            traffic: None,
            policy: None,
            crash_loop: None,
            latest_revision: None,
        }
    }

    #[test]
    fn a_rollout_is_rolling_until_old_tasks_are_gone_then_deployed() {
        let since = SystemTime::UNIX_EPOCH + Duration::from_secs(2);
        let mut new = deployment("d2", 2, DeploymentStatus::Primary);
        new.rollout_state = RolloutState::InProgress;
        (new.running, new.pending) = (2, 1);
        let mut old = deployment("d1", 1, DeploymentStatus::Active);
        old.running = 1;
        let mut svc = service(vec![new, old]);
        assert_eq!(verdict(&svc, since, Some("d2")), Verdict::Rolling);
        assert_eq!(
            state_line(&svc),
            "PRIMARY rev 2 IN_PROGRESS 2/3 running, 1 pending · ACTIVE rev 1 COMPLETED 1/3 running"
        );
        svc.deployments[0].rollout_state = RolloutState::Completed;
        (svc.deployments[0].running, svc.deployments[0].pending) = (3, 0);
        assert_eq!(
            verdict(&svc, since, Some("d2")),
            Verdict::Rolling,
            "rev 1 runs"
        );
        svc.deployments[1].running = 0;
        assert_eq!(
            verdict(&svc, since, Some("d2")),
            Verdict::Deployed { revision: 2 }
        );
        assert_eq!(figures_line(&svc), None);
        svc.deployments[0].figures = Some(RevisionFigures {
            tasks: 3,
            calls: 600,
            errors: 0,
            calls_per_sec: 200.0,
            error_rate: Some(0.0),
            p99_ms: Some(3.25),
        });
        let line = figures_line(&svc).unwrap();
        assert_eq!(line, "rev 2: 200.0 calls/s, 0.0 % errors, p99 3.2 ms");
    }

    #[test]
    fn a_failed_deployment_fails_the_wait_and_names_the_rollback() {
        let since = SystemTime::UNIX_EPOCH + Duration::from_secs(2);
        let mut bad = deployment("d2", 2, DeploymentStatus::Active);
        bad.rollout_state = RolloutState::Failed;
        bad.rollout_reason = Some("ECS deployment alarms: alarm x went into ALARM.".into());
        let mut back = deployment("d3", 1, DeploymentStatus::Primary);
        back.rollout_state = RolloutState::InProgress;
        let svc = service(vec![back, bad]);
        let expected = Verdict::Failed {
            revision: 2,
            reason: "ECS deployment alarms: alarm x went into ALARM.".into(),
            back_to: Some(1),
        };
        assert_eq!(verdict(&svc, since, Some("d2")), expected);
        // A failure from before the wait, of another deployment, is history.
        let later = SystemTime::UNIX_EPOCH + Duration::from_secs(60);
        assert_eq!(verdict(&svc, later, Some("d3")), Verdict::Rolling);
    }
}
