//! The refresh scheduler's call budget, counted by the console's own counters and checked
//! against what the fault proxy saw: with 50 services × 20 tasks (each service with its own
//! task definition and log group), the cold discovery makes at most 80 API calls and each
//! steady refresh at most 30 — while the picture stays complete and fresh.

mod aws_console;
mod aws_support;

use std::{sync::Arc, time::Duration};

use aws_console::{runtime, settings, start, use_fake_aws_env, wait_for};
use aws_support::Emulator;
use mcpfleet::fleet::{FleetSnapshot, TaskStatus};
use serde_json::{Value, json};

const SERVICES: usize = 50;
const TASKS: usize = 20;

fn complete(snapshot: &FleetSnapshot) -> bool {
    snapshot.services.len() == SERVICES
        && snapshot.services.iter().all(|s| {
            s.tasks
                .iter()
                .filter(|t| t.last_status == TaskStatus::Running && t.endpoint.is_some())
                .count()
                == TASKS
        })
}

#[test]
fn cold_discovery_and_steady_refreshes_stay_within_budget() {
    use_fake_aws_env();
    runtime().block_on(async {
        let emulator = Emulator::start().await;
        let services: Vec<Value> = (0..SERVICES)
            .map(|i| json!({"name": format!("mcp-{i:02}"), "replicas": TASKS, "real": false, "mcp": "tag"}))
            .collect();
        emulator.fleet(&json!({"cluster": "big", "services": services})).await;
        emulator.reset_stats().await;
        let mut handle = start(settings(&emulator.proxy_url, "big"));
        let cold = wait_for(&mut handle, Duration::from_secs(120), "the first look", |s| !s.loading).await;
        assert!(complete(&cold), "cold discovery is incomplete: {} services", cold.services.len());
        assert!(cold.stale.is_none(), "{:?}", cold.stale);
        assert!(cold.api_calls <= 80, "cold discovery made {} calls", cold.api_calls);
        let seen = emulator.proxy_stats().await["total_requests"].as_u64().unwrap();
        assert_eq!(seen, cold.api_calls, "the console's counter disagrees with the proxy");
        println!("cold discovery: {} API calls", cold.api_calls);
        let mut previous: Arc<FleetSnapshot> = cold;
        for cycle in 1..=4 {
            let calls_before = previous.api_calls;
            let next = wait_for(&mut handle, Duration::from_secs(60), "the next refresh", |s| {
                s.api_calls > calls_before
            })
            .await;
            let spent = next.api_calls - calls_before;
            println!("steady refresh {cycle}: {spent} API calls");
            assert!(spent <= 30, "steady refresh {cycle} made {spent} calls");
            assert!(complete(&next), "refresh {cycle} lost part of the fleet");
            assert!(next.stale.is_none(), "refresh {cycle}: {:?}", next.stale);
            assert_eq!(next.api_errors, 0, "{:?}", next.api);
            previous = next;
        }
        let seen = emulator.proxy_stats().await["total_requests"].as_u64().unwrap();
        assert_eq!(seen, previous.api_calls, "the console's counter disagrees with the proxy");
    });
}
