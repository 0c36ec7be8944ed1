//! Where the call form sends its call: any ready task of the service, or one task the person
//! picked (ctrl-t walks through the ready ones), and which task a copied curl command names.

use crate::{
    fleet::FleetSnapshot,
    mcp::{ServedBy, Target},
};

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}

/// Any ready task → each ready task in turn → any ready task again.
pub fn next_target(snapshot: &FleetSnapshot, service: &str, target: &Target) -> Target {
    let ready: Vec<&str> = snapshot
        .service(service)
        .map(|s| s.ready_tasks().map(|t| t.id.as_str()).collect())
        .unwrap_or_default();
    let next = match target {
        Target::AnyReady => ready.first(),
        Target::Task(id) => ready
            .iter()
            .position(|t| t == id)
            .and_then(|i| ready.get(i + 1)),
    };
    next.map_or(Target::AnyReady, |id| Target::Task(id.to_string()))
}

/// The target in words, and whether it can take a call now.
pub fn target_label(snapshot: &FleetSnapshot, service: &str, target: &Target) -> (String, bool) {
    let service = snapshot.service(service);
    match target {
        Target::AnyReady => {
            let ready = service.map_or(0, |s| s.ready_tasks().count());
            (format!("any ready task ({ready} ready)"), ready > 0)
        }
        Target::Task(id) => match service.and_then(|s| s.task(id)) {
            Some(task) => {
                let note = if task.is_ready() { "" } else { ", not ready" };
                let label = format!("task {} (rev {}{note})", short(&task.id), task.revision);
                (label, task.is_ready())
            }
            None => (format!("task {} (gone)", short(id)), false),
        },
    }
}

/// (task id, URL) for a copied curl command: the task that served the last call, else the
/// target task, else the first ready task.
pub fn curl_endpoint(
    snapshot: &FleetSnapshot,
    service: &str,
    target: &Target,
    served: Option<&ServedBy>,
) -> Option<(String, String)> {
    if let Some(served) = served {
        let task = served.task_id.clone().unwrap_or_default();
        return Some((task, served.url.clone()));
    }
    let service = snapshot.service(service)?;
    let task = match target {
        Target::Task(id) => service.task(id),
        Target::AnyReady => service.ready_tasks().next(),
    }?;
    Some((task.id.clone(), task.endpoint.as_ref()?.url.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::fixtures::fleet;

    const FIRST: &str = "0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c";
    const SECOND: &str = "7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f";

    #[test]
    fn ctrl_t_walks_the_ready_tasks_and_back() {
        let fleet = fleet();
        let service = "mcpfleet-server";
        let mut target = Target::AnyReady;
        let mut seen = Vec::new();
        for _ in 0..3 {
            target = next_target(&fleet, service, &target);
            seen.push(target_label(&fleet, service, &target).0);
        }
        assert_eq!(
            seen,
            vec![
                "task 0f2ab1c9 (rev 2)",
                "task 7a3e5c1b (rev 2)",
                "any ready task (2 ready)"
            ]
        );
        let pending = Target::Task("e4f6a8c0".into());
        assert_eq!(
            target_label(&fleet, service, &pending),
            ("task e4f6a8c0 (rev 2, not ready)".into(), false)
        );
        assert_eq!(next_target(&fleet, service, &pending), Target::AnyReady);
    }

    #[test]
    fn curl_points_at_the_served_task_first() {
        let fleet = fleet();
        let served = ServedBy {
            task_id: Some(SECOND.into()),
            revision: Some(2),
            zone: None,
            known_by: crate::mcp::KnownBy::Address,
            address: "127.0.0.1:41011".into(),
            url: "http://127.0.0.1:41011/mcp".into(),
        };
        let any = Target::AnyReady;
        let endpoint = |served| curl_endpoint(&fleet, "mcpfleet-server", &any, served);
        assert_eq!(
            endpoint(Some(&served)),
            Some((SECOND.into(), "http://127.0.0.1:41011/mcp".into()))
        );
        assert_eq!(
            endpoint(None),
            Some((FIRST.into(), "http://127.0.0.1:41010/mcp".into()))
        );
        assert_eq!(curl_endpoint(&fleet, "nope", &any, None), None);
    }
}
