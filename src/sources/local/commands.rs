//! The operator's commands on one service — scale, deploy, rollback, stop task — each
//! answered in words. They only change the desired state; the scheduler in `rollout.rs` then
//! starts and stops tasks to reach it.

use super::{
    events,
    service::{DeploymentState, ServiceState, StopCode},
    spec::MAX_REPLICAS,
};
use crate::fleet::{CommandError, DeploymentStatus, RevisionChange, RolloutState};

impl ServiceState {
    pub fn scale(&mut self, desired: u32) -> Result<String, CommandError> {
        if desired > MAX_REPLICAS {
            let message = format!("the local fleet runs at most {MAX_REPLICAS} tasks per service");
            return Err(CommandError::Refused(message));
        }
        let previous = std::mem::replace(&mut self.desired, desired);
        self.changed = true;
        Ok(format!(
            "{}: desired count {previous} → {desired}",
            self.spec.name
        ))
    }

    /// A rolling deployment of a new revision: `change` applied to what the primary runs.
    /// Revisions are numbered in the order they were made, so after a rollback the next one
    /// is not the primary's + 1. An image is refused: local tasks run this binary or the
    /// configured command, never an image, and a revision that ignored it would claim a
    /// change that did not happen.
    pub fn deploy(&mut self, change: &RevisionChange) -> Result<String, CommandError> {
        if let Some(image) = &change.image {
            return Err(CommandError::Refused(format!(
                "the local fleet runs processes, not images: {image} cannot be deployed to {}; \
                 change its environment (--env) or force a new deployment (--force)",
                self.spec.name
            )));
        }
        let number = self.revisions.len() as u32 + 1;
        let revision = self.revision(self.primary().revision).next(number, change);
        self.revisions.push(revision);
        let id = self.begin_deployment(number);
        Ok(format!(
            "{}: deployment {id} started for revision {number}",
            self.spec.name
        ))
    }

    /// Deploys again the revision of the newest completed deployment that runs another
    /// revision than the current one.
    pub fn rollback(&mut self) -> Result<String, CommandError> {
        let current = self.primary().clone();
        let target = self
            .deployments
            .iter()
            .filter(|d| d.id != current.id && d.revision != current.revision)
            .filter(|d| d.rollout_state == RolloutState::Completed)
            .max_by_key(|d| d.created_at)
            .cloned();
        let Some(target) = target else {
            let message = format!("{} has no earlier completed deployment", self.spec.name);
            return Err(CommandError::Refused(message));
        };
        let id = self.begin_deployment(target.revision);
        self.events
            .push(events::rolling_back(&self.spec.name, &target.id));
        Ok(format!(
            "{}: deployment {id} rolls back to revision {} (of deployment {})",
            self.spec.name, target.revision, target.id
        ))
    }

    fn begin_deployment(&mut self, revision: u32) -> String {
        self.primary_mut().status = DeploymentStatus::Active;
        let deployment = DeploymentState::new(revision);
        let id = deployment.id.clone();
        self.deployments.insert(0, deployment);
        self.failed_in_a_row = 0;
        self.next_start_at = None;
        self.steady = false;
        self.changed = true;
        id
    }

    /// Stops one task by id or unique id prefix; the scheduler replaces it.
    pub fn stop_task(&mut self, id: &str, reason: &str) -> Result<String, CommandError> {
        let unknown = || CommandError::UnknownTask {
            service: self.spec.name.clone(),
            task: id.to_string(),
        };
        let index = match self.task_index(id) {
            Some(index) => index,
            None if id.is_empty() => return Err(unknown()),
            None => {
                let matches: Vec<usize> = (0..self.tasks.len())
                    .filter(|&i| self.tasks[i].id.starts_with(id))
                    .collect();
                let [index] = matches[..] else {
                    return Err(unknown());
                };
                index
            }
        };
        let task = &self.tasks[index];
        if !task.is_live() {
            let state = if task.is_stopped() {
                "stopped"
            } else {
                "stopping"
            };
            return Err(CommandError::Refused(format!(
                "task {} is already {state}",
                task.id
            )));
        }
        let task_id = task.id.clone();
        let reason = match reason.trim() {
            "" => "Task stopped by user".to_string(),
            reason => format!("Task stopped by user: {reason}"),
        };
        self.request_stop(index, reason, StopCode::UserInitiated);
        Ok(format!("{}: stopping task {task_id}", self.spec.name))
    }
}
