//! Which task takes a call, decided from a fleet snapshot: the one the person chose, or the
//! next ready task in round-robin order with up to two more as fallbacks. Draining, unhealthy
//! and stopped tasks are never chosen by round-robin.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use crate::fleet::{Endpoint, FleetSnapshot, Service, Task};

use super::McpError;

/// How many other ready tasks a call may move to when its task refuses it before running it.
pub const MAX_RETRIES: usize = 2;

/// Where a call goes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// This task (full id or a unique prefix, as ECS consoles accept), ready or not: a person
    /// debugging one replica wants that replica.
    Task(String),
    /// Any ready task, round-robin across the service.
    AnyReady,
}

/// A task a call may be sent to, copied out of the snapshot so calls do not hold it.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub task_id: String,
    pub revision: u32,
    pub endpoint: Endpoint,
}

impl Candidate {
    fn of(task: &Task) -> Option<Self> {
        Some(Self {
            task_id: task.id.clone(),
            revision: task.revision,
            endpoint: task.endpoint.clone()?,
        })
    }
}

/// The task `id` (or a unique prefix) names, ready or not: a person debugging one replica
/// wants that replica.
fn named(service: &Service, id: &str) -> Result<Candidate, McpError> {
    let unknown = || McpError::UnknownTask {
        service: service.name.clone(),
        task: id.to_string(),
    };
    Candidate::of(service.task(id).ok_or_else(unknown)?).ok_or_else(unknown)
}

/// `candidate`, when a call can be steered to it: not through a URL in front of every task,
/// where the balancer picks the replica and the call would only claim to reach this one.
pub(crate) fn steerable(service: &Service, candidate: Candidate) -> Result<Candidate, McpError> {
    if candidate.endpoint.shared {
        return Err(McpError::SharedUrl {
            service: service.name.clone(),
            url: candidate.endpoint.url.clone(),
        });
    }
    Ok(candidate)
}

/// The task a probe of `service` goes to: the one named, else its first ready task.
pub(crate) fn probe_target(
    fleet: &FleetSnapshot,
    service: &str,
    task: Option<&str>,
) -> Result<Candidate, McpError> {
    let found = fleet
        .service(service)
        .ok_or_else(|| McpError::UnknownService(service.to_string()))?;
    match task {
        Some(id) => named(found, id),
        None => found
            .ready_tasks()
            .find_map(Candidate::of)
            .ok_or_else(|| McpError::NoReadyTask {
                service: service.to_string(),
            }),
    }
}

/// The task a doctor checks: the one named, else the first ready task, else the first task
/// still running with an endpoint — a doctor is most wanted where no task answers.
pub(crate) fn doctor_target(
    fleet: &FleetSnapshot,
    service: &str,
    task: Option<&str>,
) -> Result<Candidate, McpError> {
    probe_target(fleet, service, task).or_else(|error| match (error, task) {
        (McpError::NoReadyTask { service: name }, None) => fleet
            .service(service)
            .into_iter()
            .flat_map(|found| &found.tasks)
            .filter(|task| task.stopped_at.is_none())
            .find_map(Candidate::of)
            .ok_or(McpError::NoReadyTask { service: name }),
        (error, _) => Err(error),
    })
}

/// Per-service round-robin positions.
#[derive(Default)]
pub(crate) struct RoundRobin {
    next: Mutex<HashMap<String, usize>>,
}

impl RoundRobin {
    fn turn(&self, service: &str) -> usize {
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        let turn = next.entry(service.to_string()).or_insert(0);
        let current = *turn;
        *turn = turn.wrapping_add(1);
        current
    }

    /// The tasks to try, in order: the chosen one first, then the fallbacks.
    pub fn candidates(
        &self,
        fleet: &FleetSnapshot,
        service: &str,
        target: &Target,
    ) -> Result<Vec<Candidate>, McpError> {
        let found = fleet
            .service(service)
            .ok_or_else(|| McpError::UnknownService(service.to_string()))?;
        match target {
            Target::Task(id) => Ok(vec![steerable(found, named(found, id)?)?]),
            Target::AnyReady => {
                // Sorted so the rotation is stable however the source orders its tasks.
                let mut ready: Vec<Candidate> =
                    found.ready_tasks().filter_map(Candidate::of).collect();
                if ready.is_empty() {
                    return Err(McpError::NoReadyTask {
                        service: service.to_string(),
                    });
                }
                ready.sort_by(|a, b| a.task_id.cmp(&b.task_id));
                let start = self.turn(service) % ready.len();
                ready.rotate_left(start);
                ready.truncate(1 + MAX_RETRIES);
                Ok(ready)
            }
        }
    }

    /// Every ready task of the service, for fan-out.
    pub fn all_ready(fleet: &FleetSnapshot, service: &str) -> Result<Vec<Candidate>, McpError> {
        let found = fleet
            .service(service)
            .ok_or_else(|| McpError::UnknownService(service.to_string()))?;
        let mut ready: Vec<Candidate> = found.ready_tasks().filter_map(Candidate::of).collect();
        if ready.is_empty() {
            return Err(McpError::NoReadyTask {
                service: service.to_string(),
            });
        }
        ready.sort_by(|a, b| a.task_id.cmp(&b.task_id));
        ready
            .into_iter()
            .map(|candidate| steerable(found, candidate))
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::{net::SocketAddr, time::SystemTime};

    use super::*;
    use crate::fleet::{Health, Service, SourceKind};

    /// A running, healthy task serving MCP at `address`.
    pub fn task(id: &str, address: SocketAddr) -> Task {
        Task {
            deployment_id: "ecs-svc/1".into(),
            started_at: Some(SystemTime::now()),
            ..Task::serving(
                id,
                Endpoint::new(format!("http://{address}/mcp"), address.to_string()),
            )
        }
    }

    pub fn fleet(service: &str, tasks: Vec<Task>) -> FleetSnapshot {
        let mut fleet = FleetSnapshot::empty(SourceKind::Static, "test");
        fleet.services.push(Service {
            name: service.to_string(),
            desired: tasks.len() as u32,
            running: tasks.len() as u32,
            pending: 0,
            deployments: Vec::new(),
            tasks,
            events: Vec::new(),
            mcp_path: "/mcp".into(),
            notes: Vec::new(),
            traffic: None,
            policy: None,
            crash_loop: None,
            latest_revision: None,
        });
        fleet
    }

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn ids(candidates: &[Candidate]) -> Vec<&str> {
        candidates.iter().map(|c| c.task_id.as_str()).collect()
    }

    #[test]
    fn round_robin_rotates_over_ready_tasks_only() {
        let mut draining = task("c", addr(3));
        draining.draining = true;
        let mut unhealthy = task("d", addr(4));
        unhealthy.health = Health::Unhealthy;
        let fleet = fleet(
            "svc",
            vec![task("b", addr(2)), draining, task("a", addr(1)), unhealthy],
        );
        let rr = RoundRobin::default();
        let first = rr.candidates(&fleet, "svc", &Target::AnyReady).unwrap();
        let second = rr.candidates(&fleet, "svc", &Target::AnyReady).unwrap();
        let third = rr.candidates(&fleet, "svc", &Target::AnyReady).unwrap();
        assert_eq!(ids(&first), vec!["a", "b"]);
        assert_eq!(ids(&second), vec!["b", "a"]);
        assert_eq!(ids(&third), vec!["a", "b"]);
    }

    #[test]
    fn at_most_two_fallbacks() {
        let tasks = (1..=5).map(|n| task(&format!("t{n}"), addr(n))).collect();
        let fleet = fleet("svc", tasks);
        let candidates = RoundRobin::default()
            .candidates(&fleet, "svc", &Target::AnyReady)
            .unwrap();
        assert_eq!(candidates.len(), 1 + MAX_RETRIES);
    }

    #[test]
    fn a_chosen_task_is_used_even_when_draining() {
        let mut draining = task("0123456789abcdef", addr(3));
        draining.draining = true;
        let fleet = fleet("svc", vec![draining]);
        let rr = RoundRobin::default();
        let chosen = rr
            .candidates(&fleet, "svc", &Target::Task("01234567".into()))
            .unwrap();
        assert_eq!(ids(&chosen), vec!["0123456789abcdef"]);
        assert_eq!(
            rr.candidates(&fleet, "svc", &Target::AnyReady).err(),
            Some(McpError::NoReadyTask {
                service: "svc".into()
            })
        );
        assert_eq!(
            rr.candidates(&fleet, "nope", &Target::AnyReady).err(),
            Some(McpError::UnknownService("nope".into()))
        );
        assert!(matches!(
            rr.candidates(&fleet, "svc", &Target::Task("zz".into())),
            Err(McpError::UnknownTask { .. })
        ));
    }
}
