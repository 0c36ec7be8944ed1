//! A revision's figures over the recent window: what its tasks did, summed, so a rollout shows
//! a new revision failing or slowing next to the old one before the circuit breaker decides.

use serde::{Deserialize, Serialize};

use super::Service;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisionFigures {
    /// Tasks of the revision with figures over the window.
    pub tasks: usize,
    pub calls: u64,
    pub errors: u64,
    pub calls_per_sec: f64,
    /// Errors as a percentage of calls; none without calls.
    pub error_rate: Option<f64>,
    /// The p99 of its slowest task: quantiles do not add up, and the slowest replica is the
    /// one a rollout must not hide.
    pub p99_ms: Option<f64>,
}

/// Gives each deployment of `service` the figures of its revision's tasks (stopped ones too:
/// a revision whose tasks the breaker replaced still failed its calls in the window).
pub fn roll_up(service: &mut Service) {
    for deployment in &mut service.deployments {
        let recent: Vec<_> = service
            .tasks
            .iter()
            .filter(|task| task.revision == deployment.revision)
            .filter_map(|task| task.metrics.as_ref()?.recent.as_ref())
            .collect();
        deployment.figures = (!recent.is_empty()).then(|| {
            let calls: u64 = recent.iter().map(|r| r.calls).sum();
            let errors: u64 = recent.iter().map(|r| r.errors).sum();
            RevisionFigures {
                tasks: recent.len(),
                calls,
                errors,
                calls_per_sec: recent.iter().map(|r| r.calls_per_sec).sum(),
                error_rate: (calls > 0).then(|| errors as f64 * 100.0 / calls as f64),
                p99_ms: recent.iter().filter_map(|r| r.p99_ms).reduce(f64::max),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fleet::{
        Deployment, DeploymentStatus, Endpoint, FigureSource, Recent, RolloutState, Task,
        TaskMetrics,
    };

    fn service_with_revisions(revisions: &[u32]) -> Service {
        let tasks = revisions
            .iter()
            .enumerate()
            .map(|(n, &revision)| Task {
                revision,
                ..Task::serving(
                    format!("task{n}"),
                    Endpoint::new("http://127.0.0.1:1/mcp", "127.0.0.1:1"),
                )
            })
            .collect();
        let deployment = |revision, status| Deployment {
            id: format!("d{revision}"),
            status,
            revision,
            desired: 3,
            running: 1,
            pending: 0,
            failed: 0,
            rollout_state: RolloutState::InProgress,
            rollout_reason: None,
            created_at: std::time::SystemTime::UNIX_EPOCH,
            updated_at: std::time::SystemTime::UNIX_EPOCH,
            figures: None,
            bake_ends_at: None,
        };
        Service {
            name: "svc".into(),
            desired: 3,
            running: 3,
            pending: 0,
            deployments: vec![
                deployment(1, DeploymentStatus::Active),
                deployment(2, DeploymentStatus::Primary),
            ],
            tasks,
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
    fn a_revision_sums_its_tasks_and_keeps_its_slowest_p99() {
        let figures = |calls, errors, p99| {
            let mut recent = Recent::new(
                FigureSource::Metrics,
                Duration::from_secs(60),
                calls,
                errors,
            );
            recent.p99_ms = Some(p99);
            Some(TaskMetrics {
                recent: Some(recent),
                ..TaskMetrics::default()
            })
        };
        let mut service = service_with_revisions(&[1, 2, 2]);
        service.tasks[0].metrics = figures(600, 0, 3.0);
        service.tasks[1].metrics = figures(120, 120, 8.0);
        service.tasks[2].metrics = figures(60, 0, 20.0);
        roll_up(&mut service);
        let old = service.deployments[0].figures.clone().unwrap();
        assert_eq!((old.tasks, old.calls, old.errors), (1, 600, 0));
        assert_eq!(old.error_rate, Some(0.0));
        let new = service.deployments[1].figures.clone().unwrap();
        assert_eq!((new.tasks, new.calls, new.errors), (2, 180, 120));
        assert!((new.error_rate.unwrap() - 66.7).abs() < 0.1);
        assert!((new.calls_per_sec - 3.0).abs() < 1e-9);
        assert_eq!(new.p99_ms, Some(20.0));
    }
}
