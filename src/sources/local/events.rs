//! Service events in ECS's own wording (so people who know the ECS console read them at a
//! glance), the capped newest-first event log, and ECS-shaped ids for tasks and deployments.

use std::{
    collections::VecDeque,
    hash::{BuildHasher, Hasher},
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use crate::fleet::ServiceEvent;

/// ECS keeps the latest 100 events of a service.
pub const EVENTS_KEPT: usize = 100;

/// Newest first, capped at [`EVENTS_KEPT`].
#[derive(Debug, Default)]
pub struct EventLog {
    events: VecDeque<ServiceEvent>,
}

impl EventLog {
    pub fn push(&mut self, message: String) {
        self.events.push_front(ServiceEvent {
            at: SystemTime::now(),
            message,
        });
        self.events.truncate(EVENTS_KEPT);
    }

    pub fn to_vec(&self) -> Vec<ServiceEvent> {
        self.events.iter().cloned().collect()
    }
}

fn tasks(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("(task {id})"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn started(service: &str, ids: &[String]) -> String {
    format!(
        "(service {service}) has started {} tasks: {}.",
        ids.len(),
        tasks(ids)
    )
}

pub fn stopped(service: &str, ids: &[String]) -> String {
    format!(
        "(service {service}) has stopped {} running tasks: {}.",
        ids.len(),
        tasks(ids)
    )
}

pub fn steady(service: &str) -> String {
    format!("(service {service}) has reached a steady state.")
}

pub fn deployment_completed(service: &str, deployment: &str) -> String {
    format!("(service {service}) (deployment {deployment}) deployment completed.")
}

pub fn deployment_failed(service: &str, deployment: &str, reason: &str) -> String {
    format!("(service {service}) deployment {deployment} deployment failed: {reason}.")
}

pub fn rolling_back(service: &str, deployment: &str) -> String {
    format!("(service {service}) rolling back to deployment {deployment}.")
}

pub fn unhealthy(service: &str, task: &str) -> String {
    format!("(service {service}) (task {task}) failed container health checks.")
}

pub fn launch_failed(service: &str, error: &str) -> String {
    format!("(service {service}) failed to launch a task with (error {error}).")
}

/// 64 unpredictable bits without a random-number dependency: std's hasher keys are random per
/// process, and the counter and clock make every call differ.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// A task id as ECS prints them: 32 lowercase hex characters.
pub fn task_id() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

/// A deployment id as ECS prints them: `ecs-svc/` and 19 digits.
pub fn deployment_id() -> String {
    format!("ecs-svc/{:019}", random_u64() % 10_000_000_000_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_ecs_ids() {
        let (a, b) = (task_id(), task_id());
        assert_eq!(a.len(), 32);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
        let deployment = deployment_id();
        let digits = deployment.strip_prefix("ecs-svc/").unwrap();
        assert_eq!(digits.len(), 19);
        assert!(digits.chars().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn messages_use_ecs_wording() {
        let ids = vec!["0f2a".to_string(), "9b1c".to_string()];
        assert_eq!(
            started("mcpfleet-server", &ids[..1]),
            "(service mcpfleet-server) has started 1 tasks: (task 0f2a)."
        );
        assert_eq!(
            stopped("s", &ids),
            "(service s) has stopped 2 running tasks: (task 0f2a) (task 9b1c)."
        );
        assert_eq!(
            deployment_failed("s", "ecs-svc/1", "tasks failed to start"),
            "(service s) deployment ecs-svc/1 deployment failed: tasks failed to start."
        );
        assert_eq!(
            deployment_completed("s", "ecs-svc/1"),
            "(service s) (deployment ecs-svc/1) deployment completed."
        );
    }

    #[test]
    fn the_log_keeps_the_newest_hundred() {
        let mut log = EventLog::default();
        for i in 0..150 {
            log.push(format!("event {i}"));
        }
        let events = log.to_vec();
        assert_eq!(events.len(), EVENTS_KEPT);
        assert_eq!(events[0].message, "event 149");
    }
}
