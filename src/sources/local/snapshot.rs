//! A service's state as the `fleet::Service` of a snapshot: counts per service and per
//! deployment derived from the tasks, deployments PRIMARY first, running tasks before stopped
//! ones. Read-only over the state.

use super::service::{ServiceState, StopCode, TaskState};
use crate::fleet::{
    Container, Deployment, DeploymentPolicy, DeploymentStatus, Service, Task, TaskStatus,
    crashloop, outliers, revisions,
};

impl TaskState {
    /// The task's one container, as ECS would describe it: the process itself.
    fn container(&self) -> Container {
        let stopped = self.last_status == TaskStatus::Stopped;
        let reason = match self.stop_code {
            Some(StopCode::EssentialContainerExited | StopCode::TaskFailedToStart) if stopped => {
                Some("Essential container in task exited".to_string())
            }
            _ => None,
        };
        Container {
            name: "server".into(),
            last_status: Some(if stopped { "STOPPED" } else { "RUNNING" }.into()),
            health: self.health,
            exit_code: self.exit_code,
            reason,
            image_digest: None,
            runtime_id: None,
            exec_agent: None,
        }
    }

    pub fn to_model(&self) -> Task {
        Task {
            id: self.id.clone(),
            revision: self.revision,
            deployment_id: self.deployment_id.clone(),
            last_status: self.last_status,
            desired_status: self.desired_status,
            health: self.health,
            draining: self.draining,
            availability_zone: None,
            endpoint: self.endpoint.clone(),
            started_at: self.started_at,
            stopped_at: self.stopped_at,
            stopped_reason: self.stopped_reason.clone(),
            exit_code: self.exit_code,
            stop_code: self.stop_code.map(|code| code.as_str().to_string()),
            containers: vec![self.container()],
            ecs: None,
            metrics: self.metrics.clone(),
            outlier: None,
            notes: Vec::new(),
        }
    }
}

impl ServiceState {
    pub fn to_model(&self) -> Service {
        let count = |deployment: Option<&str>, test: fn(&TaskState) -> bool| {
            let tasks = self
                .tasks
                .iter()
                .filter(|t| deployment.is_none_or(|d| t.deployment_id == d));
            tasks.filter(|t| test(t)).count() as u32
        };
        let running = |t: &TaskState| t.is_live() && t.last_status == TaskStatus::Running;
        let mut deployments: Vec<Deployment> = self
            .deployments
            .iter()
            .map(|d| Deployment {
                id: d.id.clone(),
                status: d.status,
                revision: d.revision,
                desired: match d.status {
                    DeploymentStatus::Primary => self.desired,
                    _ => count(Some(&d.id), TaskState::is_live),
                },
                running: count(Some(&d.id), running),
                pending: count(Some(&d.id), TaskState::is_pending),
                failed: d.failed,
                rollout_state: d.rollout_state,
                rollout_reason: d.rollout_reason.clone(),
                created_at: d.created_at,
                updated_at: d.updated_at,
                figures: None,
                bake_ends_at: d
                    .bake_until
                    .filter(|_| d.rollout_state == crate::fleet::RolloutState::InProgress)
                    .map(|(_, at)| at),
            })
            .collect();
        let rank = |s: DeploymentStatus| match s {
            DeploymentStatus::Primary => 0,
            DeploymentStatus::Active => 1,
            DeploymentStatus::Inactive => 2,
        };
        deployments.sort_by(|a, b| {
            let newer = |d: &Deployment| std::cmp::Reverse(d.updated_at.max(d.created_at));
            (rank(a.status), newer(a)).cmp(&(rank(b.status), newer(b)))
        });
        let mut tasks: Vec<&TaskState> = self.tasks.iter().collect();
        // Tasks that still run first, in launch order; then the stopped ones, newest first.
        tasks.sort_by_key(|t| (t.is_stopped(), t.stopped_at.map(std::cmp::Reverse), t.seq));
        let mut service = Service {
            name: self.spec.name.clone(),
            desired: self.desired,
            running: count(None, running),
            pending: count(None, TaskState::is_pending),
            deployments,
            tasks: tasks.into_iter().map(TaskState::to_model).collect(),
            events: self.events.to_vec(),
            mcp_path: self.spec.mcp_path.clone(),
            notes: Vec::new(),
            traffic: None,
            // What the scheduler in `rollout.rs` does.
            policy: Some(DeploymentPolicy {
                min_healthy_percent: 100,
                max_percent: 200,
                circuit_breaker: true,
                rollback: true,
                alarms: self.alarm.iter().map(|alarm| alarm.to_model()).collect(),
                alarm_rollback: self.alarm.as_ref().is_some_and(|a| a.spec.rollback),
            }),
            crash_loop: None,
            latest_revision: Some(self.revisions.len() as u32),
        };
        outliers::mark(&mut service);
        crashloop::mark(&mut service, std::time::SystemTime::now());
        revisions::roll_up(&mut service);
        service
    }
}
