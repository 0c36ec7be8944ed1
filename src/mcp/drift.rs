//! The drift radar: a service's live tasks grouped by the fingerprint of the surface they
//! present (`surface.rs`), the largest group first, each other group set against it — which
//! tool it adds or lacks, which schema property, description, annotation, capability or server
//! detail differs — with the tasks and revisions of each group, so "revision 7 against
//! revision 8" reads plainly. Drift while the service's rollout is in progress is expected
//! until it completes; drift without one is the alarming case.

use std::collections::HashMap;

use serde::Serialize;

use crate::fleet::{RolloutState, Service};

use super::{
    Probe,
    surface::{Change, Fingerprint, changes},
};

/// At most this many differences are listed per group; the rest are counted.
const MAX_CHANGES: usize = 60;

#[derive(Debug, Clone, Serialize)]
pub struct ServiceDrift {
    pub service: String,
    /// More than one surface among the probed tasks.
    pub drift: bool,
    /// The service's primary deployment is rolling out: drift is expected until it ends.
    pub rollout_in_progress: bool,
    /// The largest first; equal sizes in task order.
    pub groups: Vec<SurfaceGroup>,
    /// Live tasks without a probe to judge them by, with why.
    pub unprobed: Vec<Unprobed>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SurfaceGroup {
    /// `A` for the largest group, then `B`, `C`, …
    pub label: String,
    pub fingerprint: Fingerprint,
    /// The revisions its tasks run, ascending.
    pub revisions: Vec<u32>,
    pub tasks: Vec<Member>,
    /// `name version` as the server says, and the protocol version.
    pub server: String,
    pub protocol_version: String,
    pub tools: usize,
    /// How this group's surface differs from group A's; empty for A itself.
    pub changes: Vec<Change>,
    /// Changes found beyond those listed.
    pub more: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub task_id: String,
    pub revision: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unprobed {
    pub task_id: String,
    pub revision: u32,
    pub reason: String,
}

impl ServiceDrift {
    /// The live tasks of `service` grouped by their probes' fingerprints; `errors` says why a
    /// task has no probe.
    pub fn of(
        service: &Service,
        probes: &HashMap<String, Probe>,
        errors: &HashMap<String, String>,
    ) -> Self {
        let mut probed: Vec<(&crate::fleet::Task, &Probe)> = Vec::new();
        let mut unprobed = Vec::new();
        for task in service.tasks.iter().filter(|t| t.stopped_at.is_none()) {
            match probes.get(&task.id) {
                Some(probe) => probed.push((task, probe)),
                None => unprobed.push(Unprobed {
                    task_id: task.id.clone(),
                    revision: task.revision,
                    reason: errors.get(&task.id).cloned().unwrap_or_else(|| {
                        if task.is_ready() {
                            "not probed yet".into()
                        } else {
                            "not ready".into()
                        }
                    }),
                }),
            }
        }
        let mut order: Vec<(&str, Vec<usize>)> = Vec::new();
        for (index, (_, probe)) in probed.iter().enumerate() {
            let hash = probe.surface.fingerprint.hash.as_str();
            match order.iter_mut().find(|(h, _)| *h == hash) {
                Some((_, members)) => members.push(index),
                None => order.push((hash, vec![index])),
            }
        }
        order.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
        let reference = order.first().map(|(_, members)| probed[members[0]].1);
        let groups = order
            .iter()
            .enumerate()
            .map(|(n, (_, members))| {
                let probe = probed[members[0]].1;
                let mut found = match reference {
                    Some(a) if n > 0 => changes(&a.surface, &probe.surface),
                    _ => Vec::new(),
                };
                let more = found.len().saturating_sub(MAX_CHANGES);
                found.truncate(MAX_CHANGES);
                let tasks: Vec<Member> = members
                    .iter()
                    .map(|&i| Member {
                        task_id: probed[i].0.id.clone(),
                        revision: probed[i].0.revision,
                    })
                    .collect();
                let mut revisions: Vec<u32> = tasks.iter().map(|t| t.revision).collect();
                revisions.sort_unstable();
                revisions.dedup();
                let server = [
                    probe.server_name.as_deref(),
                    probe.server_version.as_deref(),
                ];
                SurfaceGroup {
                    label: label(n),
                    fingerprint: probe.surface.fingerprint.clone(),
                    revisions,
                    tasks,
                    server: server.into_iter().flatten().collect::<Vec<_>>().join(" "),
                    protocol_version: probe.protocol_version.clone(),
                    tools: probe.surface.tools.len(),
                    changes: found,
                    more,
                }
            })
            .collect::<Vec<_>>();
        Self {
            service: service.name.clone(),
            drift: groups.len() > 1,
            rollout_in_progress: service.primary().map(|d| d.rollout_state)
                == Some(RolloutState::InProgress),
            groups,
            unprobed,
        }
    }

    /// Lines for a person: a verdict, then each group with its tasks and how it differs.
    /// Every server text in them is inert already (`Change`'s display).
    pub fn describe(&self) -> Vec<String> {
        let probed: usize = self.groups.iter().map(|g| g.tasks.len()).sum();
        let mut lines = vec![match (self.drift, self.rollout_in_progress) {
            (false, _) if probed == 0 => format!("{}: no task probed", self.service),
            (false, _) => format!(
                "{}: uniform, {probed} tasks present one surface",
                self.service
            ),
            (true, true) => format!(
                "{}: DRIFT during a rollout — {} surfaces across {probed} tasks (expected until \
                 the rollout completes)",
                self.service,
                self.groups.len()
            ),
            (true, false) => format!(
                "{}: DRIFT with no rollout in progress — {} surfaces across {probed} tasks",
                self.service,
                self.groups.len()
            ),
        }];
        for group in &self.groups {
            let revisions: Vec<String> = group.revisions.iter().map(u32::to_string).collect();
            let tasks: Vec<&str> = group.tasks.iter().map(|t| short(&t.task_id)).collect();
            let plural = |n: usize, word: &str| match n {
                1 => format!("1 {word}"),
                n => format!("{n} {word}s"),
            };
            lines.push(format!(
                "  group {} · revision {} · {} ({}) · {} · protocol {} · {} · {}",
                group.label,
                revisions.join(","),
                plural(group.tasks.len(), "task"),
                tasks.join(", "),
                crate::inert::inert_line(&group.server),
                crate::inert::inert_line(&group.protocol_version),
                plural(group.tools, "tool"),
                group.fingerprint.hash,
            ));
            if !group.changes.is_empty() {
                lines.push("    differs from group A:".to_string());
            }
            lines.extend(group.changes.iter().map(|c| format!("      {c}")));
            if group.more > 0 {
                lines.push(format!("      … and {} more", group.more));
            }
        }
        for task in &self.unprobed {
            lines.push(format!(
                "  unprobed {} · revision {}: {}",
                short(&task.task_id),
                task.revision,
                crate::inert::inert_line(&task.reason)
            ));
        }
        lines
    }
}

fn short(task_id: &str) -> &str {
    task_id.get(..8).unwrap_or(task_id)
}

fn label(n: usize) -> String {
    let letter = char::from(b'A' + (n % 26) as u8);
    if n < 26 {
        letter.to_string()
    } else {
        format!("{letter}{}", n / 26)
    }
}

#[cfg(test)]
#[path = "drift_tests.rs"]
mod tests;
