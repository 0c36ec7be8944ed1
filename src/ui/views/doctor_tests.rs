use std::time::{Duration, SystemTime};

use super::*;
use crate::{
    assert_view_snapshots,
    mcp::doctor::Diagnosis,
    ui::views::{fixtures::Fixture, snapshot_support::render},
};

const URL: &str = "http://10.0.1.17:8080/mcp";

fn step(step: StepName, outcome: Outcome, ms: u64, detail: &str, hint: Option<&str>) -> Step {
    Step {
        step,
        outcome,
        latency: (outcome != Outcome::Skipped).then(|| Duration::from_micros(ms * 100)),
        detail: detail.into(),
        hint: hint.map(str::to_string),
    }
}

/// A check of the first task that got as far as HTTP, where the server refused the Host.
fn refused_host() -> Vec<Step> {
    let hint = "add 10.0.1.17 to the server's allowed hosts";
    vec![
        step(
            StepName::Dns,
            Outcome::Skipped,
            0,
            "10.0.1.17 is an IP address",
            None,
        ),
        step(
            StepName::Tcp,
            Outcome::Ok,
            4,
            "connected to 10.0.1.17:8080",
            None,
        ),
        step(StepName::Tls, Outcome::Skipped, 0, "plain HTTP", None),
        step(
            StepName::Http,
            Outcome::Failed,
            21,
            "Host not allowed: HTTP 403 Forbidden",
            Some(hint),
        ),
    ]
}

fn opened() -> (DoctorView, CallId) {
    let mut view = DoctorView::new(Scope::task("mcpfleet-server", "0f2a9c31d4e5"));
    assert_eq!(view.initial_fetches(), [Fetch::Doctor]);
    view.on_fetch_started(7, &Fetch::Doctor);
    let target = DoctorUpdate::Target {
        task_id: "0f2a9c31d4e5".into(),
        url: URL.into(),
    };
    view.on_fetch_update(7, &BrowseUpdate::Doctor(target), SystemTime::now());
    (view, 7)
}

fn tell(view: &mut DoctorView, id: CallId, update: DoctorUpdate) {
    view.on_fetch_update(id, &BrowseUpdate::Doctor(update), SystemTime::now());
}

#[test]
fn steps_fill_in_as_they_end_and_the_next_one_runs() {
    let (mut view, id) = opened();
    for step in refused_host().into_iter().take(2) {
        tell(&mut view, id, DoctorUpdate::Step(step));
    }
    let states: Vec<String> = rows(&view.steps, true)
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    let expected = [
        "skipped", "ok", "running", "waiting", "waiting", "waiting", "waiting",
    ];
    assert_eq!(states, expected);
    // Another check's news is not this page's.
    let stray = step(StepName::Tls, Outcome::Ok, 1, "stray", None);
    tell(&mut view, id + 1, DoctorUpdate::Step(stray));
    assert_eq!(view.steps.len(), 2);
    let fixture = Fixture::new();
    let screen = render(&mut view, &fixture.context(), 80, 24);
    assert!(screen.contains("checking…"), "{screen}");
    assert!(screen.contains(URL), "{screen}");
    let again = view.on_key(KeyId::Again, &fixture.context());
    assert!(
        matches!(again, Some(Action::Message(_))),
        "no second check while one runs"
    );
}

#[test]
fn a_failed_step_says_what_to_check_and_r_checks_again() {
    let (mut view, id) = opened();
    let mut steps = refused_host();
    for name in [StepName::Healthz, StepName::Handshake, StepName::Tools] {
        steps.push(step(name, Outcome::Skipped, 0, "http failed", None));
    }
    let diagnosis = Diagnosis {
        url: URL.into(),
        steps,
    };
    tell(&mut view, id, DoctorUpdate::Done(Ok(diagnosis)));
    let fixture = Fixture::new();
    let ctx = fixture.context();
    assert_view_snapshots!("doctor_failed", &mut view, &ctx);
    assert_eq!(
        view.on_key(KeyId::Again, &ctx),
        Some(Action::Fetch(view.scope.clone(), Fetch::Doctor))
    );
    view.on_fetch_started(9, &Fetch::Doctor);
    assert!(view.steps.is_empty() && view.progress == Progress::Running);
}

#[test]
fn nothing_to_check_is_said() {
    let (mut view, id) = opened();
    let error = crate::mcp::McpError::UnknownTask {
        service: "mcpfleet-server".into(),
        task: "0f2a9c31d4e5".into(),
    };
    tell(&mut view, id, DoctorUpdate::Done(Err(error)));
    let fixture = Fixture::new();
    let screen = render(&mut view, &fixture.context(), 80, 24);
    assert!(
        screen.contains("service mcpfleet-server has no task 0f2a9c31d4e5 with an endpoint"),
        "{screen}"
    );
}
