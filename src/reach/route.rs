//! Calls and probes through port forwards: the fleet as the MCP worker sees it, where a task
//! with a forward up is reached at the forward's local URL. The source's snapshot is left as
//! it is; a routed copy is published beside it whenever either changes. The task's own
//! address stays the endpoint's address (the forward reaches that task and no other, so a
//! call through it is still the task's), and its credentials stay; the `Host` it is sent is
//! the task's address, which its server allows, not the local port.

use std::{collections::BTreeMap, sync::Arc};

use tokio::sync::watch;

use crate::fleet::FleetSnapshot;

/// Task id → the MCP URL of its forward.
pub type Forwarded = BTreeMap<String, String>;

/// `snapshot` with each forwarded task's endpoint at its forward.
pub fn through(snapshot: &FleetSnapshot, forwarded: &Forwarded) -> FleetSnapshot {
    let mut routed = snapshot.clone();
    let tasks = routed.services.iter_mut().flat_map(|s| s.tasks.iter_mut());
    for task in tasks {
        let (Some(url), Some(endpoint)) = (forwarded.get(&task.id), task.endpoint.as_mut()) else {
            continue;
        };
        // A URL in front of every task is not this task's to forward.
        if endpoint.shared {
            continue;
        }
        let headers = &mut endpoint.auth.headers;
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"))
        {
            headers.push(("Host".to_string(), endpoint.address.clone()));
        }
        endpoint.url = url.clone();
    }
    routed
}

fn route(snapshot: &Arc<FleetSnapshot>, forwarded: &Forwarded) -> Arc<FleetSnapshot> {
    match forwarded.is_empty() {
        true => snapshot.clone(),
        false => Arc::new(through(snapshot, forwarded)),
    }
}

/// The source's snapshots routed through the forwards `forwarded` publishes, until either
/// side or every receiver is gone.
pub fn follow(
    mut snapshots: watch::Receiver<Arc<FleetSnapshot>>,
    mut forwarded: watch::Receiver<Arc<Forwarded>>,
) -> watch::Receiver<Arc<FleetSnapshot>> {
    let first = route(
        &snapshots.borrow_and_update(),
        &forwarded.borrow_and_update(),
    );
    let (routed, receiver) = watch::channel(first);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = snapshots.changed() => if changed.is_err() { break },
                changed = forwarded.changed() => if changed.is_err() { break },
                () = routed.closed() => break,
            }
            let next = route(
                &snapshots.borrow_and_update(),
                &forwarded.borrow_and_update(),
            );
            routed.send_replace(next);
        }
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{Endpoint, Service, SourceKind, Task};

    #[test]
    fn a_forwarded_task_is_reached_at_its_forward_as_itself() {
        let mut snapshot = FleetSnapshot::empty(SourceKind::Aws, "mcp");
        let task = |id: &str, ip: &str| {
            let endpoint = Endpoint::new(format!("http://{ip}:8080/mcp"), format!("{ip}:8080"));
            Task::serving(id, endpoint)
        };
        snapshot.services.push(Service {
            name: "echo-mcp".into(),
            desired: 2,
            running: 2,
            pending: 0,
            deployments: Vec::new(),
            tasks: vec![task("aaaa", "10.0.0.1"), task("bbbb", "10.0.0.2")],
            events: Vec::new(),
            mcp_path: "/mcp".into(),
            notes: Vec::new(),
            traffic: None,
            policy: None,
            crash_loop: None,
            latest_revision: None,
        });
        let forwarded = Forwarded::from([("bbbb".into(), "http://127.0.0.1:41235/mcp".into())]);
        let routed = through(&snapshot, &forwarded);
        let endpoints: Vec<&Endpoint> = routed.services[0]
            .tasks
            .iter()
            .filter_map(|t| t.endpoint.as_ref())
            .collect();
        assert_eq!(
            endpoints[0],
            snapshot.services[0].tasks[0].endpoint.as_ref().unwrap()
        );
        assert_eq!(endpoints[1].url, "http://127.0.0.1:41235/mcp");
        assert_eq!(endpoints[1].address, "10.0.0.2:8080");
        assert_eq!(
            endpoints[1].auth.headers,
            [("Host".to_string(), "10.0.0.2:8080".to_string())]
        );
        assert!(
            route(&Arc::new(snapshot.clone()), &Forwarded::new()).services[0].tasks[1]
                .endpoint
                .as_ref()
                .is_some_and(|e| e.url == "http://10.0.0.2:8080/mcp")
        );
    }
}
