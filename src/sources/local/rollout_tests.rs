//! The scheduler driven by hand: worker reports are fed in as the processes would send them,
//! and the decisions (starts, stops, deployment states, events) are checked. No processes.

use std::time::{Duration, Instant};

use super::super::{
    alarm::AlarmSpec,
    child::Exit,
    service::{Action, ServiceState},
    spec::LocalServiceSpec,
};
use crate::fleet::{
    AlarmState, DeploymentStatus, RevisionChange, RolloutState, Service, TaskStatus,
};
use crate::sources::metrics_text::Scraped;

fn service(replicas: u32) -> ServiceState {
    ServiceState::new(
        LocalServiceSpec::built_in(replicas),
        Duration::from_secs(20),
        20,
    )
}

/// Takes the queued actions: (started ids, stopped ids).
fn actions(state: &mut ServiceState) -> (Vec<String>, Vec<String>) {
    let (mut starts, mut stops) = (Vec::new(), Vec::new());
    for action in state.actions.drain(..) {
        match action {
            Action::Start(id) => starts.push(id),
            Action::Stop(id) => stops.push(id),
        }
    }
    (starts, stops)
}

fn run(state: &mut ServiceState, ids: &[String], healthy: bool) {
    for (n, id) in ids.iter().enumerate() {
        state.on_started(
            id,
            1000 + n as u32,
            ([127, 0, 0, 1], 40000 + n as u16).into(),
        );
        if healthy {
            state.on_health(id, true, Instant::now());
        }
    }
}

fn exit(state: &mut ServiceState, ids: &[String], code: i32) {
    for id in ids {
        state.on_exited(
            id,
            &Exit::Status {
                code: Some(code),
                signal: None,
            },
            Instant::now(),
        );
    }
}

fn events(model: &Service) -> Vec<String> {
    model.events.iter().map(|e| e.message.clone()).collect()
}

/// A service of `replicas` healthy tasks on revision 1, its first deployment completed.
fn steady(replicas: u32) -> (ServiceState, Vec<String>) {
    let mut state = service(replicas);
    state.reconcile(Instant::now());
    let (started, _) = actions(&mut state);
    run(&mut state, &started, true);
    state.reconcile(Instant::now());
    (state, started)
}

#[test]
fn first_launch_reaches_a_steady_state() {
    let mut state = service(3);
    state.reconcile(Instant::now());
    let (started, stopped) = actions(&mut state);
    assert_eq!((started.len(), stopped.len()), (3, 0));
    assert_eq!(state.to_model().pending, 3);
    run(&mut state, &started, true);
    state.reconcile(Instant::now());
    let model = state.to_model();
    assert_eq!(
        (model.running, model.pending, model.ready_tasks().count()),
        (3, 0, 3)
    );
    assert_eq!(
        model.primary().unwrap().rollout_state,
        RolloutState::Completed
    );
    let events = events(&model);
    assert!(
        events[0].ends_with("has reached a steady state."),
        "{events:?}"
    );
    assert!(events[1].ends_with("deployment completed."), "{events:?}");
    assert!(events[2].contains("has started 3 tasks"), "{events:?}");
}

#[test]
fn a_rolling_deploy_drains_old_tasks_only_after_new_ones_are_healthy() {
    let (mut state, old) = steady(3);
    let change = RevisionChange {
        env: [("A".into(), "1".into())].into(),
        args: None,
        image: None,
    };
    state.deploy(&change).unwrap();
    assert_eq!(state.revision(2).env["A"], "1");
    state.reconcile(Instant::now());
    let (new, stopped) = actions(&mut state);
    assert_eq!(
        (new.len(), stopped.len()),
        (3, 0),
        "maximumPercent 200 starts all three"
    );

    run(&mut state, &new[..1], true);
    state.reconcile(Instant::now());
    let (_, stopped) = actions(&mut state);
    assert_eq!(
        stopped,
        old[..1],
        "one healthy new task lets the oldest old one go"
    );
    let model = state.to_model();
    let draining = model.task(&old[0]).unwrap();
    assert!(draining.draining && !draining.is_ready());
    assert_eq!(draining.last_status, TaskStatus::Deactivating);
    assert_eq!(model.ready_tasks().count(), 3);

    run(&mut state, &new[1..], true);
    state.reconcile(Instant::now());
    let (_, stopped) = actions(&mut state);
    assert_eq!(stopped, old[1..]);
    assert_eq!(
        state.primary().rollout_state,
        RolloutState::InProgress,
        "old tasks still drain"
    );

    exit(&mut state, &old, 0);
    state.reconcile(Instant::now());
    let model = state.to_model();
    let primary = model.primary().unwrap();
    assert_eq!(
        (primary.revision, primary.rollout_state),
        (2, RolloutState::Completed)
    );
    assert!(model.ready_tasks().all(|t| t.revision == 2));
    let stopped = model.task(&old[2]).unwrap();
    assert!(
        stopped
            .stopped_reason
            .as_ref()
            .unwrap()
            .starts_with("Scaling activity initiated by")
    );
    let previous = model.deployments.iter().find(|d| d.revision == 1).unwrap();
    assert_eq!(previous.status, DeploymentStatus::Inactive);
}

#[test]
fn failing_new_tasks_trip_the_circuit_breaker_and_roll_back() {
    let (mut state, old) = steady(3);
    let old_deployment = state.primary().id.clone();
    state.deploy(&RevisionChange::default()).unwrap();
    for _ in 0..5 {
        state.reconcile(Instant::now());
        let (started, stopped) = actions(&mut state);
        assert!(
            stopped.is_empty(),
            "healthy old tasks are never stopped: {stopped:?}"
        );
        run(&mut state, &started, false);
        exit(&mut state, &started, 2);
    }
    let model = state.to_model();
    let failed = model.deployments.iter().find(|d| d.revision == 2).unwrap();
    assert_eq!(failed.rollout_state, RolloutState::Failed);
    assert!(
        failed
            .rollout_reason
            .as_ref()
            .unwrap()
            .contains("tasks failed to start")
    );
    let primary = model.primary().unwrap();
    assert_eq!(
        (primary.id.as_str(), primary.rollout_state),
        (old_deployment.as_str(), RolloutState::Completed)
    );
    let ready: Vec<&str> = model.ready_tasks().map(|t| t.id.as_str()).collect();
    assert_eq!(ready, old.iter().map(String::as_str).collect::<Vec<_>>());
    let events = events(&model).join("\n");
    assert!(
        events.contains("deployment failed: tasks failed to start."),
        "{events}"
    );
    assert!(
        events.contains(&format!("rolling back to deployment {old_deployment}.")),
        "{events}"
    );
    let stopped = model.tasks.iter().find(|t| t.revision == 2).unwrap();
    assert_eq!(
        stopped.stopped_reason.as_deref(),
        Some("Essential container in task exited: exit code 2")
    );
}

#[test]
fn scale_in_stops_the_newest_tasks() {
    let (mut state, first) = steady(3);
    state.scale(5).unwrap();
    state.reconcile(Instant::now());
    let (added, _) = actions(&mut state);
    assert_eq!(added.len(), 2);
    run(&mut state, &added, true);
    state.scale(2).unwrap();
    state.reconcile(Instant::now());
    let (_, mut stopped) = actions(&mut state);
    stopped.sort();
    let mut newest = vec![added[0].clone(), added[1].clone(), first[2].clone()];
    newest.sort();
    assert_eq!(stopped, newest);
    let model = state.to_model();
    assert_eq!(model.ready_tasks().count(), 2);
    assert!(events(&model)[0].contains("has stopped 3 running tasks"));
    assert!(state.scale(1000).is_err());
}

#[test]
fn a_crashed_task_is_replaced_and_a_crash_loop_backs_off() {
    let (mut state, tasks) = steady(3);
    let killed = Exit::Status {
        code: None,
        signal: Some(9),
    };
    state.on_exited(&tasks[0], &killed, Instant::now());
    let model = state.to_model();
    let task = model.task(&tasks[0]).unwrap();
    assert_eq!(
        (task.last_status, task.exit_code),
        (TaskStatus::Stopped, Some(137))
    );
    assert!(
        task.stopped_reason
            .as_ref()
            .unwrap()
            .contains("signal 9 (SIGKILL)")
    );
    assert_eq!(
        model.primary().unwrap().failed,
        0,
        "a crash after health is no failed start"
    );

    let now = Instant::now();
    for _ in 0..3 {
        state.reconcile(now);
        let (started, _) = actions(&mut state);
        assert_eq!(started.len(), 1);
        run(&mut state, &started, false);
        exit(&mut state, &started, 1);
    }
    state.reconcile(now);
    assert!(
        actions(&mut state).0.is_empty(),
        "the fourth start waits for the backoff"
    );
    state.reconcile(now + Duration::from_secs(1));
    assert_eq!(actions(&mut state).0.len(), 1);
}

#[test]
fn a_task_not_healthy_within_the_start_timeout_is_stopped_as_a_failed_start() {
    let mut state = service(1);
    let start = Instant::now();
    state.reconcile(start);
    let (started, _) = actions(&mut state);
    run(&mut state, &started, false);
    state.reconcile(start + Duration::from_secs(21));
    let (replacement, stopped) = actions(&mut state);
    assert_eq!((stopped, replacement.len()), (started.clone(), 1));
    let model = state.to_model();
    let task = model.task(&started[0]).unwrap();
    assert!(
        task.stopped_reason
            .as_ref()
            .unwrap()
            .contains("not healthy within 20s")
    );
    assert_eq!(model.primary().unwrap().failed, 1);
}

#[test]
fn stop_task_and_rollback_answer_in_words() {
    let (mut state, tasks) = steady(2);
    let message = state.stop_task(&tasks[0][..8], "testing").unwrap();
    assert!(message.contains(&tasks[0]));
    assert!(state.stop_task(&tasks[0], "again").is_err());
    assert!(state.stop_task("ffff-none", "").is_err());
    let model = state.to_model();
    let stopping = model.task(&tasks[0]).unwrap();
    assert_eq!(
        stopping.stopped_reason.as_deref(),
        Some("Task stopped by user: testing")
    );

    assert!(state.rollback().is_err(), "nothing earlier to roll back to");
    state.deploy(&RevisionChange::default()).unwrap();
    state.reconcile(Instant::now());
    let (new, _) = actions(&mut state);
    run(&mut state, &new, true);
    state.reconcile(Instant::now());
    let (_, old) = actions(&mut state);
    exit(&mut state, &old, 0);
    exit(&mut state, &tasks[..1], 0);
    state.reconcile(Instant::now());
    assert_eq!(state.primary().rollout_state, RolloutState::Completed);
    state.rollback().unwrap();
    assert_eq!(state.primary().revision, 1);

    // What the console's dialog promises is what the next deployment makes.
    let promised = state.to_model().next_revision();
    assert_eq!(promised, 3, "revision 2 exists; a rollback made none");
    let said = state.deploy(&RevisionChange::default()).unwrap();
    assert_eq!(state.primary().revision, promised, "{said}");
    assert!(said.ends_with("for revision 3"), "{said}");

    let image = RevisionChange {
        image: Some("registry.example/mcp:2".into()),
        ..RevisionChange::default()
    };
    let refused = state.deploy(&image).unwrap_err().to_string();
    assert!(refused.contains("runs processes, not images"), "{refused}");
    assert_eq!(
        state.revisions.len(),
        3,
        "a refused deployment registers nothing"
    );
}

#[test]
fn only_the_latest_stopped_tasks_are_kept() {
    let mut state = ServiceState::new(LocalServiceSpec::built_in(1), Duration::from_secs(20), 3);
    for _ in 0..6 {
        state.reconcile(Instant::now() + Duration::from_secs(3600));
        let (started, _) = actions(&mut state);
        run(&mut state, &started, true);
        exit(&mut state, &started, 1);
    }
    let stopped = state
        .to_model()
        .tasks
        .iter()
        .filter(|t| t.last_status == TaskStatus::Stopped)
        .count();
    assert_eq!(stopped, 3);
}

fn alarmed(threshold: f64) -> ServiceState {
    let mut spec = LocalServiceSpec::built_in(2);
    spec.alarm = Some(AlarmSpec {
        name: None,
        threshold,
        period: 1,
        evaluation_periods: 2,
        rollback: true,
    });
    ServiceState::new(spec, Duration::from_secs(20), 20)
}

/// Each task's counters as its /metrics would report them.
fn scrape(state: &mut ServiceState, ids: &[String], calls: u64, errors: u64) {
    for id in ids {
        let scraped = Scraped {
            calls,
            errors,
            ..Scraped::default()
        };
        state.on_metrics(id, scraped, std::time::SystemTime::now());
    }
}

#[test]
fn an_alarm_holds_completion_for_its_bake_time_and_rolls_back_a_revision_whose_calls_fail() {
    let mut state = alarmed(50.0);
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_millis(s * 1000 + 10);
    state.reconcile(t0);
    let (first, _) = actions(&mut state);
    run(&mut state, &first, true);
    state.reconcile(t0);
    let model = state.to_model();
    let primary = model.primary().unwrap();
    assert_eq!(primary.rollout_state, RolloutState::InProgress, "baking");
    assert!(primary.bake_ends_at.is_some());
    let text = crate::ui::views::rollout::summary(&model, std::time::SystemTime::now());
    assert!(text.unwrap().0.contains("is baking"));
    // Healthy calls through the bake time (3 s: 2 datapoints and a period): completed.
    for s in 1..=3 {
        scrape(&mut state, &first, 100 * s, 0);
        state.reconcile(at(s));
    }
    let alarm = &state.to_model().policy.unwrap().alarms[0];
    assert_eq!(alarm.state, Some(AlarmState::Ok), "{alarm:?}");
    state.reconcile(at(4));
    assert_eq!(state.primary().rollout_state, RolloutState::Completed);

    // Revision 2 starts healthy and fails every call.
    state.deploy(&RevisionChange::default()).unwrap();
    state.reconcile(at(4));
    let (bad, _) = actions(&mut state);
    run(&mut state, &bad, true);
    state.reconcile(at(4));
    let (_, drained) = actions(&mut state);
    assert_eq!(
        drained, first,
        "the old tasks drain once the new ones are healthy"
    );
    exit(&mut state, &first, 0);
    state.reconcile(at(4));
    assert!(state.to_model().primary().unwrap().bake_ends_at.is_some());
    scrape(&mut state, &bad, 50, 50);
    state.reconcile(at(5));
    assert_eq!(state.primary().rollout_state, RolloutState::InProgress);
    scrape(&mut state, &bad, 120, 120);
    state.reconcile(at(6));
    let model = state.to_model();
    let failed = model.deployments.iter().find(|d| d.revision == 2).unwrap();
    assert_eq!(failed.rollout_state, RolloutState::Failed);
    let reason = failed.rollout_reason.as_deref().unwrap();
    assert_eq!(
        reason,
        "ECS deployment alarms: alarm mcpfleet-server-tool-errors went into ALARM."
    );
    let primary = model.primary().unwrap();
    assert_eq!(
        (primary.revision, primary.rollout_state),
        (1, RolloutState::InProgress)
    );
    let events = events(&model);
    let rolling_back = events
        .iter()
        .position(|e| e.contains("rolling back to deployment"));
    let failed_event = events.iter().position(|e| e.ends_with("went into ALARM."));
    assert!(rolling_back < failed_event, "newest first: {events:?}");

    // The rollback is not failed by the alarm it answers: revision 1's tasks start, the bad
    // ones drain, the alarm clears and the rollback completes after its bake time.
    state.reconcile(at(6));
    let (good, _) = actions(&mut state);
    run(&mut state, &good, true);
    state.reconcile(at(6));
    let (_, drained) = actions(&mut state);
    assert_eq!(drained, bad);
    exit(&mut state, &bad, 0);
    for s in 7..=11 {
        scrape(&mut state, &good, 10 * s, 0);
        state.reconcile(at(s));
    }
    let primary = state.primary();
    assert_eq!(
        (primary.revision, primary.rollout_state),
        (1, RolloutState::Completed)
    );
}
