//! `call --all-tasks`: one call per ready replica, shown side by side — task, revision, zone,
//! latency, outcome, result hash — with the replicas grouped by identical result and each odd
//! group's result diffed against the largest group's.

use serde_json::{Value, json};

use crate::mcp::{
    TaskOutcome,
    compare::{Comparison, Group},
};

use super::{outcome, table};

pub fn json(outcomes: &[TaskOutcome]) -> Value {
    let comparison = Comparison::of(outcomes);
    let replicas: Vec<Value> = outcomes
        .iter()
        .zip(&comparison.replicas)
        .map(|(task, compared)| {
            let mut value = outcome::outcome_json(&task.outcome);
            value["task_id"] = json!(task.task_id);
            value["revision"] = json!(task.revision);
            value["zone"] = json!(task.zone);
            value["result_hash"] = json!(compared.hash);
            value["group"] = json!(compared.group);
            value
        })
        .collect();
    json!({"replicas": replicas, "groups": comparison.groups})
}

pub fn render(outcomes: &[TaskOutcome]) -> String {
    let comparison = Comparison::of(outcomes);
    let mut out = String::new();
    // Each distinct result once, under the replicas that gave it.
    for group in &comparison.groups {
        let Some(first) = group.first(outcomes) else {
            continue;
        };
        out.push_str(&format!(
            "── group {} · {} · {}\n",
            group.label,
            plural(group.tasks.len(), "replica"),
            group
                .tasks
                .iter()
                .map(|t| short(t))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        out.push_str(&outcome::render(&first.outcome));
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = comparison
        .replicas
        .iter()
        .map(|r| {
            vec![
                short(&r.task_id).to_string(),
                r.revision.to_string(),
                r.zone.clone().unwrap_or_else(|| "-".into()),
                format!("{:.1} ms", r.duration_ms),
                r.outcome.label().to_string(),
                r.hash.clone(),
                r.group.clone(),
            ]
        })
        .collect();
    out.push_str(&table::render(
        &[
            "TASK", "REV", "ZONE", "LATENCY", "OUTCOME", "RESULT", "GROUP",
        ],
        &rows,
    ));
    if comparison.unanimous() {
        out.push_str(&format!(
            "every replica answered the same ({})\n",
            plural(outcomes.len(), "replica")
        ));
    } else {
        out.push_str(&format!(
            "{} different answers from {}\n",
            comparison.groups.len(),
            plural(outcomes.len(), "replica")
        ));
        for group in comparison.groups.iter().skip(1) {
            out.push_str(&differences(group));
        }
    }
    out
}

fn differences(group: &Group) -> String {
    group
        .describe()
        .into_iter()
        .map(|line| line + "\n")
        .collect()
}

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
