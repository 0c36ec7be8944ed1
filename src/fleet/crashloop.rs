//! A service whose tasks keep dying: tasks that failed to start or whose essential container
//! exited, several within a few minutes, as the scheduler keeps replacing them. The sources
//! mark each service as they build it, beside its outliers.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::{Service, Task};

/// Deaths within this window …
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// … from this many on make a crash loop.
pub const DEATHS: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrashLoop {
    /// Tasks that died within the window.
    pub died: usize,
    /// The newest death, in a line: its stop code, exit code and reason.
    pub last: String,
}

/// A task that stopped on its own: failed to start, or its essential container exited (an
/// exit code other than 0 where the source gives no stop code).
fn died(task: &Task) -> bool {
    match task.stop_code.as_deref() {
        Some(code) => matches!(code, "TaskFailedToStart" | "EssentialContainerExited"),
        None => task.exit_code.is_some_and(|code| code != 0),
    }
}

/// Marks `service` as crash-looping when `DEATHS` of its tasks died within `WINDOW` of `now`:
/// tasks of its primary deployment where the source says which deployment a task is of, so
/// a deployment the breaker rolled back no longer counts once the rollback has taken over.
pub fn mark(service: &mut Service, now: SystemTime) {
    let primary = service.primary().map(|d| d.id.clone());
    let current = |t: &&Task| {
        t.deployment_id.is_empty() || primary.as_ref().is_none_or(|id| *id == t.deployment_id)
    };
    let mut deaths: Vec<&Task> = service
        .tasks
        .iter()
        .filter(current)
        .filter(|t| died(t))
        .filter(|t| {
            t.stopped_at
                .is_some_and(|at| now.duration_since(at).unwrap_or_default() <= WINDOW)
        })
        .collect();
    deaths.sort_by_key(|t| std::cmp::Reverse(t.stopped_at));
    service.crash_loop = (deaths.len() >= DEATHS).then(|| {
        let newest = deaths[0];
        let code = newest.stop_code.as_deref().unwrap_or("stopped");
        let exit = newest
            .exit_code
            .map_or(String::new(), |c| format!(", exit {c}"));
        let reason = newest
            .stopped_reason
            .as_deref()
            .unwrap_or("no reason given");
        CrashLoop {
            died: deaths.len(),
            last: format!("task {}: {code}{exit}: {reason}", newest.id),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{Endpoint, TaskStatus};

    fn stopped(id: &str, code: Option<&str>, exit: i32, ago: u64, now: SystemTime) -> Task {
        Task {
            last_status: TaskStatus::Stopped,
            stopped_at: Some(now - Duration::from_secs(ago)),
            stop_code: code.map(str::to_string),
            exit_code: Some(exit),
            stopped_reason: Some("Essential container in task exited".into()),
            ..Task::serving(id, Endpoint::new("http://127.0.0.1:1/mcp", "127.0.0.1:1"))
        }
    }

    #[test]
    fn three_deaths_in_ten_minutes_are_a_crash_loop_and_scaling_is_not() {
        let now = SystemTime::now();
        let mut service = Service {
            name: "orders".into(),
            desired: 3,
            running: 3,
            pending: 0,
            deployments: Vec::new(),
            tasks: Vec::new(),
            events: Vec::new(),
            mcp_path: "/mcp".into(),
            notes: Vec::new(),
            traffic: None,
            policy: None,
            crash_loop: None,
            latest_revision: None,
        };
        service.tasks = vec![
            stopped("a", Some("EssentialContainerExited"), 1, 30, now),
            stopped("b", Some("TaskFailedToStart"), 1, 90, now),
            stopped("c", Some("ServiceSchedulerInitiated"), 0, 60, now),
            stopped("d", Some("UserInitiated"), 143, 20, now),
        ];
        mark(&mut service, now);
        assert_eq!(
            service.crash_loop, None,
            "two deaths; scaling and a user's stop are not"
        );
        service.tasks.push(stopped("e", None, 137, 10, now));
        mark(&mut service, now);
        let crash = service.crash_loop.clone().expect("three deaths");
        assert_eq!(crash.died, 3);
        assert_eq!(
            crash.last,
            "task e: stopped, exit 137: Essential container in task exited"
        );
        service.tasks.retain(|t| t.id != "e");
        service
            .tasks
            .push(stopped("old", Some("TaskFailedToStart"), 1, 11 * 60, now));
        mark(&mut service, now);
        assert_eq!(service.crash_loop, None, "out of the window");
    }
}
