//! AWS pushing back, through the fault proxy: at 30 % throttling the console keeps the last
//! picture, marks it stale with its age, stays within its budget and recovers by itself; when
//! every call is throttled it backs off instead of hammering; expired credentials give one
//! clear message.

mod aws_console;
mod aws_support;

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use aws_console::{runtime, screen, settings, start, use_fake_aws_env, wait_for};
use aws_support::Emulator;
use mcpfleet::{
    fleet::{FleetSnapshot, SourceHandle, TaskStatus},
    ui::{app::App, theme::Theme},
};
use serde_json::json;

fn complete(snapshot: &FleetSnapshot) -> bool {
    snapshot.service("echo-mcp").is_some_and(|s| {
        s.tasks
            .iter()
            .filter(|t| t.last_status == TaskStatus::Running)
            .count()
            == 3
    })
}

/// An emulator with one service of three tasks, and the AWS source watching it.
async fn watched_fleet() -> (Emulator, SourceHandle) {
    let emulator = Emulator::start().await;
    emulator
        .fleet(&json!({"cluster": "mcp", "services": [
            {"name": "echo-mcp", "replicas": 3, "real": false, "mcp": "tag"},
        ]}))
        .await;
    let handle = start(settings(&emulator.proxy_url, "mcp"));
    (emulator, handle)
}

/// Every snapshot published during `span`, with when it arrived.
async fn watch(handle: &mut SourceHandle, span: Duration) -> Vec<(SystemTime, Arc<FleetSnapshot>)> {
    let mut seen = Vec::new();
    let end = tokio::time::Instant::now() + span;
    while let Ok(Ok(())) = tokio::time::timeout_at(end, handle.snapshots.changed()).await {
        seen.push((
            SystemTime::now(),
            handle.snapshots.borrow_and_update().clone(),
        ));
    }
    seen
}

#[test]
fn throttling_keeps_the_last_picture_backs_off_and_recovers() {
    use_fake_aws_env();
    runtime().block_on(async {
        let (emulator, mut handle) = watched_fleet().await;
        wait_for(&mut handle, Duration::from_secs(60), "the fleet", |s| {
            complete(s) && s.stale.is_none()
        })
        .await;

        emulator.faults(&json!({"throttle": 0.3, "seed": 7})).await;
        let seen = watch(&mut handle, Duration::from_secs(25)).await;
        let stale: Vec<_> = seen.iter().filter(|(_, s)| s.stale.is_some()).collect();
        println!(
            "30 % throttling: {} of {} refreshes stale",
            stale.len(),
            seen.len()
        );
        assert!(
            !stale.is_empty(),
            "30 % throttling never made a refresh fail"
        );
        for (at, snapshot) in &stale {
            let reason = snapshot.stale.as_deref().unwrap();
            assert!(reason.contains("Throttling"), "{reason}");
            assert!(complete(snapshot), "a failed refresh lost the last picture");
            assert!(
                snapshot.fetched_at < *at,
                "stale data must carry its older fetch time"
            );
        }
        let mut calls = seen[0].1.api_calls;
        for (_, snapshot) in &seen[1..] {
            assert!(
                snapshot.api_calls - calls <= 30,
                "a refresh spent {} calls",
                snapshot.api_calls - calls
            );
            calls = snapshot.api_calls;
        }
        // What a person sees: the stale mark and the age of the data.
        let (at, snapshot) = stale.last().unwrap();
        let later = *at + Duration::from_secs(20);
        let mut app = App::for_snapshot(snapshot.clone(), 100, Theme::plain());
        let screen = screen(&mut app, 200, 12, later);
        assert!(
            screen.contains("STALE: ") && screen.contains("Throttling"),
            "{screen}"
        );
        assert!(screen.contains("s ago"), "{screen}");

        emulator.faults(&json!({})).await;
        wait_for(&mut handle, Duration::from_secs(60), "recovery", |s| {
            s.stale.is_none() && complete(s)
        })
        .await;

        // Everything throttled for 12 s: with a 1 s interval and no backoff that would be a
        // dozen refreshes of two attempts each.
        emulator.reset_stats().await;
        emulator.faults(&json!({"throttle": 1.0})).await;
        tokio::time::sleep(Duration::from_secs(12)).await;
        let refused = emulator.proxy_stats().await["total_requests"]
            .as_u64()
            .unwrap();
        println!("requests during 12 s of full throttling: {refused}");
        assert!(
            refused <= 12,
            "{refused} requests in 12 s of full throttling: no backoff"
        );
        emulator.faults(&json!({})).await;
        wait_for(
            &mut handle,
            Duration::from_secs(150),
            "recovery after full throttling",
            |s| s.stale.is_none() && complete(s),
        )
        .await;
    });
}

#[test]
fn expired_credentials_give_one_clear_message() {
    use_fake_aws_env();
    runtime().block_on(async {
        let (emulator, mut handle) = watched_fleet().await;
        wait_for(&mut handle, Duration::from_secs(60), "the fleet", complete).await;
        emulator.faults(&json!({"expired": 1.0})).await;
        let expired = wait_for(
            &mut handle,
            Duration::from_secs(30),
            "the expiry message",
            |s| s.stale.is_some(),
        )
        .await;
        let message = expired.stale.as_deref().unwrap();
        assert!(
            message.starts_with("AWS credentials have expired"),
            "{message}"
        );
        assert!(message.contains("aws sso login"), "{message}");
        assert!(complete(&expired), "the last picture stays");
        emulator.faults(&json!({})).await;
        wait_for(&mut handle, Duration::from_secs(120), "recovery", |s| {
            s.stale.is_none()
        })
        .await;
    });
}
