//! The service scheduler: what to start and stop so a service reaches its desired count on
//! its PRIMARY deployment, as an ECS rolling update with maximumPercent 200 and
//! minimumHealthyPercent 100 (start new tasks, wait until they are healthy, only then drain old
//! ones), with the deployment circuit breaker, the deployment alarm and its bake time, and
//! rollback. Decisions only: it marks tasks and queues `Action`s that the supervisor carries out.

use std::time::{Instant, SystemTime};

use super::{
    events,
    service::{Action, DeploymentState, ServiceState, StopCode, StopRequest, TaskState},
};
use crate::fleet::{AlarmState, DeploymentStatus, Health, RolloutState, TaskStatus};

/// A running task failing its health checks this long is replaced.
const UNHEALTHY_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
const BREAKER_REASON: &str = "tasks failed to start";

impl ServiceState {
    /// Brings the service one step closer to its goal; cheap and idempotent, so it runs after
    /// every batch of events and on a timer.
    pub fn reconcile(&mut self, now: Instant) {
        self.watch_alarm(now);
        self.trip_circuit_breaker(now);
        let mut stopped = self.stop_unhealthy(now);
        stopped.extend(self.scale_in_primary());
        self.start_missing(now);
        stopped.extend(self.replace_old());
        if !stopped.is_empty() {
            self.events.push(events::stopped(&self.spec.name, &stopped));
        }
        self.retire_deployments();
        self.complete_primary(now);
        self.note_steady_state();
    }

    /// ECS's threshold: half the desired count, at least 3, at most 200 failed tasks.
    fn failure_threshold(&self) -> u32 {
        self.desired.div_ceil(2).clamp(3, 200)
    }

    fn trip_circuit_breaker(&mut self, now: Instant) {
        let threshold = self.failure_threshold();
        let primary = self.primary();
        if primary.rollout_state != RolloutState::InProgress || primary.failed < threshold {
            return;
        }
        let reason = format!("ECS deployment circuit breaker: {BREAKER_REASON}.");
        self.fail_primary(reason, BREAKER_REASON.to_string(), true, now);
    }

    /// Takes the alarm's datapoint when one is due, and fails the deployment in progress (or
    /// baking) when the alarm went into ALARM after it began: its tasks may all be healthy
    /// while every call they serve fails.
    fn watch_alarm(&mut self, now: Instant) {
        let Some(alarm) = self.alarm.as_mut() else {
            return;
        };
        let counters = self.tasks.iter().filter(|t| !t.is_stopped());
        let counters = counters.filter_map(|t| {
            let metrics = t.metrics.as_ref()?;
            Some((t.id.as_str(), metrics.calls, metrics.errors))
        });
        self.changed |= alarm.evaluate(counters, now);
        let since = alarm
            .alarm_since
            .filter(|_| alarm.state == AlarmState::Alarm);
        let primary = self.primary();
        let after_begin = since.is_some_and(|since| since > primary.begun);
        if !after_begin || primary.rollout_state != RolloutState::InProgress {
            return;
        }
        let Some(alarm) = &self.alarm else { return };
        let (why, rollback) = (
            format!("alarm {} went into ALARM", alarm.name),
            alarm.spec.rollback,
        );
        let reason = format!("ECS deployment alarms: {why}.");
        self.fail_primary(reason, why, rollback, now);
    }

    /// Marks the primary deployment FAILED and, with `rollback`, makes the newest completed
    /// deployment primary again.
    fn fail_primary(&mut self, reason: String, event_reason: String, rollback: bool, now: Instant) {
        let name = self.spec.name.clone();
        let primary = self.primary_mut();
        primary.rollout_state = RolloutState::Failed;
        primary.rollout_reason = Some(reason);
        primary.bake_until = None;
        primary.updated_at = SystemTime::now();
        let failed_id = primary.id.clone();
        self.events
            .push(events::deployment_failed(&name, &failed_id, &event_reason));
        self.changed = true;
        let target = self
            .deployments
            .iter()
            .filter(|d| d.id != failed_id && d.rollout_state == RolloutState::Completed)
            .max_by_key(|d| d.created_at)
            .map(|d| d.id.clone());
        // Without an earlier completed deployment there is nothing to go back to: the deployment
        // stays FAILED and the scheduler keeps retrying with backoff.
        let Some(target) = target.filter(|_| rollback) else {
            return;
        };
        for deployment in &mut self.deployments {
            if deployment.id == failed_id {
                deployment.status = DeploymentStatus::Active;
            } else if deployment.id == target {
                deployment.status = DeploymentStatus::Primary;
                deployment.rollout_state = RolloutState::InProgress;
                deployment.rollout_reason = None;
                deployment.updated_at = SystemTime::now();
                deployment.begun = now;
            }
        }
        self.events.push(events::rolling_back(&name, &target));
        self.failed_in_a_row = 0;
        self.next_start_at = None;
        self.steady = false;
    }

    /// Marks a task draining and queues its stop; it leaves the ready set with the next snapshot.
    pub fn request_stop(&mut self, index: usize, reason: String, code: StopCode) {
        let task = &mut self.tasks[index];
        task.stopped_reason = Some(reason.clone());
        task.stop = Some(StopRequest { reason, code });
        task.desired_status = TaskStatus::Stopped;
        task.draining = true;
        task.last_status = TaskStatus::Deactivating;
        self.actions.push(Action::Stop(task.id.clone()));
        self.changed = true;
    }

    fn scaling_reason(&self) -> String {
        format!(
            "Scaling activity initiated by (deployment {})",
            self.primary().id
        )
    }

    fn stop_unhealthy(&mut self, now: Instant) -> Vec<String> {
        let mut stopped = Vec::new();
        for index in 0..self.tasks.len() {
            let task = &self.tasks[index];
            let late = task.is_pending() && now.duration_since(task.created) > self.start_timeout;
            let sick = task.is_live()
                && task.health == Health::Unhealthy
                && task
                    .unhealthy_since
                    .is_some_and(|since| now.duration_since(since) > UNHEALTHY_GRACE);
            if !late && !sick {
                continue;
            }
            let (id, deployment) = (task.id.clone(), task.deployment_id.clone());
            let reason = if late {
                let limit = self.start_timeout.as_secs();
                format!("Task failed container health checks (not healthy within {limit}s)")
            } else {
                "Task failed container health checks".to_string()
            };
            self.events.push(events::unhealthy(&self.spec.name, &id));
            let code = match late {
                true => StopCode::TaskFailedToStart,
                false => StopCode::ServiceSchedulerInitiated,
            };
            self.request_stop(index, reason, code);
            if late {
                self.record_failed_start(&deployment, now);
            }
            stopped.push(id);
        }
        stopped
    }

    /// More tasks on the primary than desired (scale-in): stop the newest first.
    fn scale_in_primary(&mut self) -> Vec<String> {
        let primary = self.primary().id.clone();
        let mut live: Vec<(u64, usize)> = self
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_live() && t.deployment_id == primary)
            .map(|(index, t)| (t.seq, index))
            .collect();
        let excess = live.len().saturating_sub(self.desired as usize);
        live.sort_by(|a, b| b.cmp(a));
        let reason = self.scaling_reason();
        let mut stopped = Vec::new();
        for &(_, index) in live.iter().take(excess) {
            stopped.push(self.tasks[index].id.clone());
            self.request_stop(index, reason.clone(), StopCode::ServiceSchedulerInitiated);
        }
        stopped
    }

    /// Launches primary tasks up to the desired count, within maximumPercent 200.
    fn start_missing(&mut self, now: Instant) {
        if self.next_start_at.is_some_and(|at| now < at) {
            return;
        }
        let primary = self.primary().clone();
        let primary_live = self
            .tasks
            .iter()
            .filter(|t| t.is_live() && t.deployment_id == primary.id);
        let missing = self.desired.saturating_sub(primary_live.count() as u32);
        let all_live = self.tasks.iter().filter(|t| t.is_live()).count() as u32;
        let room = (2 * self.desired).saturating_sub(all_live);
        let launch = missing.min(room);
        if launch == 0 {
            return;
        }
        let ids: Vec<String> = (0..launch).map(|_| self.launch(&primary, now)).collect();
        self.events.push(events::started(&self.spec.name, &ids));
        self.steady = false;
    }

    fn launch(&mut self, deployment: &DeploymentState, now: Instant) -> String {
        let id = events::task_id();
        self.next_seq += 1;
        self.tasks.push(TaskState {
            id: id.clone(),
            seq: self.next_seq,
            revision: deployment.revision,
            deployment_id: deployment.id.clone(),
            last_status: TaskStatus::Provisioning,
            desired_status: TaskStatus::Running,
            health: Health::Unknown,
            draining: false,
            endpoint: None,
            pid: None,
            created: now,
            unhealthy_since: None,
            started_at: None,
            stopped_at: None,
            stopped_reason: None,
            exit_code: None,
            stop_code: None,
            metrics: None,
            counters: Default::default(),
            ever_healthy: false,
            stop: None,
        });
        self.actions.push(Action::Start(id.clone()));
        self.changed = true;
        id
    }

    /// Tasks of older deployments: those not serving go at once; healthy ones only while the
    /// service keeps at least its desired count of healthy tasks (minimumHealthyPercent 100).
    fn replace_old(&mut self) -> Vec<String> {
        let primary = self.primary().id.clone();
        let healthy = self.tasks.iter().filter(|t| t.is_healthy()).count() as u32;
        let mut may_stop = healthy.saturating_sub(self.desired);
        let mut old: Vec<(u64, usize)> = self
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_live() && t.deployment_id != primary)
            .map(|(index, t)| (t.seq, index))
            .collect();
        old.sort();
        let reason = self.scaling_reason();
        let mut stopped = Vec::new();
        for (_, index) in old {
            if self.tasks[index].is_healthy() {
                if may_stop == 0 {
                    continue;
                }
                may_stop -= 1;
            }
            stopped.push(self.tasks[index].id.clone());
            self.request_stop(index, reason.clone(), StopCode::ServiceSchedulerInitiated);
        }
        stopped
    }

    /// An older deployment whose tasks have all stopped becomes INACTIVE.
    fn retire_deployments(&mut self) {
        let mut retired = false;
        for index in 0..self.deployments.len() {
            let deployment = &self.deployments[index];
            if deployment.status != DeploymentStatus::Active {
                continue;
            }
            let id = deployment.id.clone();
            if self
                .tasks
                .iter()
                .all(|t| t.deployment_id != id || t.is_stopped())
            {
                self.deployments[index].status = DeploymentStatus::Inactive;
                self.deployments[index].updated_at = SystemTime::now();
                retired = true;
            }
        }
        if retired {
            self.prune_inactive();
            self.changed = true;
        }
    }

    /// COMPLETED once the desired count runs healthy on the primary and every older task has
    /// stopped, and, with an alarm, once it has been watched for its bake time since.
    fn complete_primary(&mut self, now: Instant) {
        let primary = self.primary().clone();
        if primary.rollout_state != RolloutState::InProgress {
            return;
        }
        let ours = |t: &&TaskState| t.deployment_id == primary.id;
        let healthy = self
            .tasks
            .iter()
            .filter(ours)
            .filter(|t| t.is_healthy())
            .count() as u32;
        let live = self
            .tasks
            .iter()
            .filter(ours)
            .filter(|t| t.is_live())
            .count() as u32;
        let others = self
            .tasks
            .iter()
            .any(|t| t.deployment_id != primary.id && !t.is_stopped());
        let bake = self.alarm.as_ref().map(|alarm| alarm.spec.bake_time());
        if healthy != self.desired || live != self.desired || others {
            if primary.bake_until.is_some() {
                self.primary_mut().bake_until = None;
                self.changed = true;
            }
            return;
        }
        if let Some(bake) = bake {
            match primary.bake_until {
                None => {
                    self.primary_mut().bake_until = Some((now + bake, SystemTime::now() + bake));
                    self.changed = true;
                    return;
                }
                Some((until, _)) if now < until => return,
                Some(_) => {}
            }
        }
        let name = self.spec.name.clone();
        let deployment = self.primary_mut();
        deployment.bake_until = None;
        deployment.rollout_state = RolloutState::Completed;
        deployment.rollout_reason = Some(format!("ECS deployment {} completed.", deployment.id));
        deployment.updated_at = SystemTime::now();
        let message = events::deployment_completed(&name, &deployment.id);
        self.events.push(message);
        self.changed = true;
    }

    fn note_steady_state(&mut self) {
        let completed = self.primary().rollout_state == RolloutState::Completed;
        let healthy = self.tasks.iter().filter(|t| t.is_healthy()).count() as u32;
        let settled = self.tasks.iter().all(|t| t.is_stopped() || t.is_healthy());
        let steady = completed && healthy == self.desired && settled;
        if steady && !self.steady {
            self.events.push(events::steady(&self.spec.name));
            self.changed = true;
        }
        self.steady = steady;
    }
}

#[cfg(test)]
#[path = "rollout_tests.rs"]
mod tests;
