//! The local fleet against the real binary: replicas start and turn healthy, crashes are
//! replaced, scale, rolling deploys (completed, failed and rolled back), stop task, logs, and
//! no child outliving a dropped source. Children are found through /proc by a marker variable
//! in their environment, which every child (and grandchild) inherits.

mod procs;

use std::{
    collections::BTreeSet,
    sync::Arc,
    time::{Duration, Instant},
};

use mcpfleet::{
    fleet::{
        Command, DeploymentStatus, FleetSnapshot, RevisionChange, RolloutState, Source,
        SourceHandle, TaskStatus,
    },
    sources::local::{LocalConfig, LocalServiceSpec, LocalSource},
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use procs::{marked_processes, pid_of, wait_until_gone};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const SERVICE: &str = "mcpfleet-server";
const READY_TIMEOUT: Duration = Duration::from_secs(20);

fn mark(test: &str) -> String {
    format!("{test}-{}", std::process::id())
}

fn fleet(mark: &str, services: Vec<LocalServiceSpec>) -> LocalConfig {
    let mut config = LocalConfig::default_fleet(BIN);
    config.services = services;
    for spec in &mut config.services {
        spec.env.insert("MCPFLEET_TEST_MARK".into(), mark.into());
    }
    config
}

fn start(config: LocalConfig) -> SourceHandle {
    Box::new(LocalSource::new(config).expect("valid config")).start()
}

/// A third-party server started by command: our own binary, probed by MCP `initialize`.
fn command_service(name: &str, replicas: u32) -> LocalServiceSpec {
    let mut spec = LocalServiceSpec::built_in(replicas);
    spec.name = name.into();
    spec.command = Some(BIN.into());
    spec.args = vec!["serve".into(), "--bind".into(), "127.0.0.1:{port}".into()];
    spec
}

async fn ready(handle: &mut SourceHandle, service: &str, count: usize) -> Arc<FleetSnapshot> {
    let name = service.to_string();
    handle
        .wait_for(READY_TIMEOUT, |s| {
            s.service(&name)
                .is_some_and(|s| s.ready_tasks().count() == count)
        })
        .await
        .unwrap_or_else(|| panic!("{count} ready tasks never came: {:#?}", handle.snapshot()))
}

fn ready_ids(snapshot: &FleetSnapshot, service: &str) -> BTreeSet<String> {
    snapshot
        .service(service)
        .unwrap()
        .ready_tasks()
        .map(|t| t.id.clone())
        .collect()
}

fn events(snapshot: &FleetSnapshot, service: &str) -> String {
    let service = snapshot.service(service).unwrap();
    service
        .events
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A raw JSON-RPC client of one task: initialize → notifications/initialized → tools/call.
struct Session {
    http: reqwest::Client,
    url: String,
    id: Option<String>,
}

impl Session {
    async fn open(url: &str) -> Self {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut session = Self {
            http,
            url: url.to_string(),
            id: None,
        };
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "local-fleet-test", "version": "0"}}});
        let response = session.post(init).await;
        assert!(
            response.status().is_success(),
            "initialize: {}",
            response.status()
        );
        session.id = response
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().into());
        let _ = response.text().await;
        session
            .post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        session
    }

    async fn post(&self, body: Value) -> reqwest::Response {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .json(&body);
        if let Some(id) = &self.id {
            request = request.header("mcp-session-id", id);
        }
        request.send().await.unwrap()
    }

    /// The JSON-RPC response to a tools/call (plain JSON or the last SSE data line).
    async fn call(&self, tool: &str, arguments: Value) -> Value {
        let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments}});
        let text = self.post(call).await.text().await.unwrap();
        let mut data = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim);
        let data = data.rfind(|d| d.contains("\"id\":2"));
        serde_json::from_str(data.unwrap_or(&text))
            .unwrap_or_else(|_| panic!("no response in {text}"))
    }
}

async fn echo(url: &str, message: &str) -> Value {
    Session::open(url)
        .await
        .call("echo", json!({"message": message}))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_become_running_and_healthy() {
    let mark = mark("three");
    let begun = Instant::now();
    let mut handle = start(fleet(&mark, vec![LocalServiceSpec::built_in(3)]));
    ready(&mut handle, SERVICE, 3).await;
    eprintln!("3 healthy replicas after {:?}", begun.elapsed());
    let snapshot = handle
        .wait_for(READY_TIMEOUT, |s| {
            events(s, SERVICE).contains("has reached a steady state.")
        })
        .await
        .expect("steady state");
    let service = snapshot.service(SERVICE).unwrap();
    assert_eq!(
        (service.desired, service.running, service.pending),
        (3, 3, 0)
    );
    let primary = service.primary().unwrap();
    assert_eq!(
        (primary.revision, primary.rollout_state),
        (1, RolloutState::Completed)
    );
    assert!(primary.id.starts_with("ecs-svc/"));
    for task in service.ready_tasks() {
        assert_eq!(task.id.len(), 32);
        assert!(task.id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!((task.revision, task.last_status), (1, TaskStatus::Running));
        assert!(task.endpoint.as_ref().unwrap().url.ends_with("/mcp"));
    }
    let events = events(&snapshot, SERVICE);
    assert!(
        events.contains("(service mcpfleet-server) has started 3 tasks: (task "),
        "{events}"
    );
    assert!(events.contains("deployment completed."), "{events}");
    let scraped = handle
        .wait_for(READY_TIMEOUT, |s| {
            s.service(SERVICE)
                .unwrap()
                .ready_tasks()
                .all(|t| t.metrics.is_some())
        })
        .await
        .expect("metrics scraped");
    let metrics = scraped.service(SERVICE).unwrap().tasks[0]
        .metrics
        .clone()
        .unwrap();
    assert!(metrics.fetched_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_is_stopped_with_its_signal_and_replaced() {
    let mark = mark("killed");
    let mut handle = start(fleet(&mark, vec![LocalServiceSpec::built_in(3)]));
    let before = ready_ids(&*ready(&mut handle, SERVICE, 3).await, SERVICE);
    let victim = before.iter().next().unwrap().clone();
    kill(Pid::from_raw(pid_of(&victim) as i32), Signal::SIGKILL).unwrap();
    let snapshot = handle
        .wait_for(READY_TIMEOUT, |s| {
            let service = s.service(SERVICE).unwrap();
            service
                .task(&victim)
                .is_some_and(|t| t.last_status == TaskStatus::Stopped)
                && service.ready_tasks().count() == 3
        })
        .await
        .expect("killed task stopped and replaced");
    let service = snapshot.service(SERVICE).unwrap();
    let stopped = service.task(&victim).unwrap();
    let reason = stopped.stopped_reason.as_deref().unwrap();
    assert!(
        reason.contains("signal 9 (SIGKILL)") && reason.starts_with("Essential container"),
        "{reason}"
    );
    assert_eq!(stopped.exit_code, Some(137));
    assert_eq!(
        stopped.stop_code.as_deref(),
        Some("EssentialContainerExited")
    );
    let container = &stopped.containers[0];
    assert_eq!(
        (container.exit_code, container.last_status.as_deref()),
        (Some(137), Some("STOPPED"))
    );
    assert_eq!(
        container.reason.as_deref(),
        Some("Essential container in task exited")
    );
    assert_eq!(service.crash_loop, None, "one death is no loop");
    let after = ready_ids(&snapshot, SERVICE);
    assert_eq!(
        after.difference(&before).count(),
        1,
        "one new task replaces the killed one"
    );
    assert!(!after.contains(&victim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_up_to_five_then_down_to_two_stops_the_newest() {
    let mark = mark("scale");
    let mut handle = start(fleet(&mark, vec![LocalServiceSpec::built_in(3)]));
    let first = ready(&mut handle, SERVICE, 3).await;
    // Running tasks are listed in launch order.
    let oldest: Vec<String> = first
        .service(SERVICE)
        .unwrap()
        .ready_tasks()
        .map(|t| t.id.clone())
        .collect();
    let scale = |desired| Command::Scale {
        service: SERVICE.into(),
        desired,
    };
    let answer = handle.execute(scale(5)).await.unwrap();
    assert!(answer.contains("3 → 5"), "{answer}");
    ready(&mut handle, SERVICE, 5).await;
    handle.execute(scale(2)).await.unwrap();
    let snapshot = handle
        .wait_for(READY_TIMEOUT, |s| {
            let service = s.service(SERVICE).unwrap();
            service
                .tasks
                .iter()
                .filter(|t| t.last_status == TaskStatus::Stopped)
                .count()
                == 3
        })
        .await
        .expect("three tasks stopped");
    let service = snapshot.service(SERVICE).unwrap();
    assert_eq!((service.desired, service.running), (2, 2));
    assert_eq!(
        ready_ids(&snapshot, SERVICE),
        oldest[..2].iter().cloned().collect()
    );
    for task in service
        .tasks
        .iter()
        .filter(|t| t.last_status == TaskStatus::Stopped)
    {
        let reason = task.stopped_reason.as_deref().unwrap();
        assert!(
            reason.starts_with("Scaling activity initiated by (deployment ecs-svc/"),
            "{reason}"
        );
        assert_eq!(task.exit_code, Some(0), "drained and exited cleanly");
    }
    assert!(events(&snapshot, SERVICE).contains("has stopped 3 running tasks"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_deploy_completes_on_the_new_revision_and_rolls_back_on_request() {
    let mark = mark("deploy");
    let mut handle = start(fleet(&mark, vec![LocalServiceSpec::built_in(3)]));
    let before = ready_ids(&*ready(&mut handle, SERVICE, 3).await, SERVICE);
    let change = RevisionChange {
        env: [("MCPFLEET_FAULT_SEED".into(), "7".into())].into(),
        args: None,
        image: None,
    };
    let begun = Instant::now();
    let answer = handle
        .execute(Command::Deploy {
            service: SERVICE.into(),
            change,
        })
        .await
        .unwrap();
    assert!(answer.contains("revision 2"), "{answer}");
    let mut fewest_ready = usize::MAX;
    let completed = loop {
        let snapshot = handle.snapshot();
        let service = snapshot.service(SERVICE).unwrap();
        fewest_ready = fewest_ready.min(service.ready_tasks().count());
        let primary = service.primary().unwrap();
        if primary.revision == 2 && primary.rollout_state == RolloutState::Completed {
            break snapshot.clone();
        }
        assert!(
            begun.elapsed() < READY_TIMEOUT,
            "deploy never completed: {snapshot:#?}"
        );
        tokio::time::timeout(Duration::from_secs(1), handle.snapshots.changed())
            .await
            .ok();
    };
    eprintln!(
        "rolling deploy of 3 tasks completed after {:?}",
        begun.elapsed()
    );
    assert!(
        fewest_ready >= 3,
        "minimumHealthyPercent 100 was broken: {fewest_ready} ready"
    );
    let service = completed.service(SERVICE).unwrap();
    let running: Vec<_> = service
        .tasks
        .iter()
        .filter(|t| t.last_status == TaskStatus::Running)
        .collect();
    assert_eq!(running.len(), 3);
    assert!(
        running
            .iter()
            .all(|t| t.revision == 2 && !before.contains(&t.id))
    );
    for id in &before {
        let old = service.task(id).unwrap();
        assert_eq!(old.last_status, TaskStatus::Stopped);
        assert!(
            old.stopped_reason
                .as_deref()
                .unwrap()
                .starts_with("Scaling activity initiated by")
        );
    }
    let text = events(&completed, SERVICE);
    let deployment = &service.primary().unwrap().id;
    assert!(
        text.contains(&format!(
            "(service {SERVICE}) (deployment {deployment}) deployment completed."
        )),
        "{text}"
    );
    assert!(text.contains("has stopped"), "{text}");
    let previous = service
        .deployments
        .iter()
        .find(|d| d.revision == 1)
        .unwrap();
    assert_eq!(previous.status, DeploymentStatus::Inactive);

    handle
        .execute(Command::Rollback {
            service: SERVICE.into(),
        })
        .await
        .unwrap();
    handle
        .wait_for(READY_TIMEOUT, |s| {
            let service = s.service(SERVICE).unwrap();
            let primary = service.primary().unwrap();
            primary.revision == 1
                && primary.rollout_state == RolloutState::Completed
                && service
                    .tasks
                    .iter()
                    .filter(|t| t.last_status == TaskStatus::Running)
                    .all(|t| t.revision == 1)
        })
        .await
        .expect("rollback to revision 1 completes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_whose_tasks_fail_to_start_rolls_back() {
    let mark = mark("failing");
    let mut handle = start(fleet(&mark, vec![LocalServiceSpec::built_in(3)]));
    let first = ready(&mut handle, SERVICE, 3).await;
    let before = ready_ids(&first, SERVICE);
    let old_deployment = first
        .service(SERVICE)
        .unwrap()
        .primary()
        .unwrap()
        .id
        .clone();
    let change = RevisionChange {
        env: [("MCPFLEET_FAULTS".into(), "bogus-rule".into())].into(),
        args: None,
        image: None,
    };
    let begun = Instant::now();
    handle
        .execute(Command::Deploy {
            service: SERVICE.into(),
            change,
        })
        .await
        .unwrap();
    let snapshot = handle
        .wait_for(READY_TIMEOUT, |s| {
            let service = s.service(SERVICE).unwrap();
            let primary = service.primary().unwrap();
            service
                .deployments
                .iter()
                .any(|d| d.rollout_state == RolloutState::Failed)
                && primary.id == old_deployment
                && primary.rollout_state == RolloutState::Completed
        })
        .await
        .expect("deployment failed and rolled back");
    eprintln!("failed deploy rolled back after {:?}", begun.elapsed());
    let service = snapshot.service(SERVICE).unwrap();
    let failed = service
        .deployments
        .iter()
        .find(|d| d.revision == 2)
        .unwrap();
    assert_eq!(failed.rollout_state, RolloutState::Failed);
    assert!(failed.failed >= 3);
    assert!(
        failed
            .rollout_reason
            .as_deref()
            .unwrap()
            .contains("tasks failed to start")
    );
    assert_eq!(
        ready_ids(&snapshot, SERVICE),
        before,
        "the old tasks kept serving throughout"
    );
    let running = service
        .tasks
        .iter()
        .filter(|t| t.last_status == TaskStatus::Running);
    assert!(running.clone().count() == 3 && running.clone().all(|t| t.revision == 1));
    let crashed = service.tasks.iter().find(|t| t.revision == 2).unwrap();
    assert_eq!(
        crashed.exit_code,
        Some(2),
        "the server refuses the bogus fault rule at start"
    );
    assert_eq!(crashed.stop_code.as_deref(), Some("TaskFailedToStart"));
    assert_eq!(
        service.crash_loop, None,
        "the deaths were the rolled-back revision's"
    );
    let text = events(&snapshot, SERVICE);
    assert!(
        text.contains(&format!(
            "deployment {} deployment failed: tasks failed to start.",
            failed.id
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("rolling back to deployment {old_deployment}.")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_whose_tasks_keep_dying_is_marked_crash_looping() {
    let mark = mark("crashloop");
    let mut spec = LocalServiceSpec::built_in(1);
    spec.name = "dying".into();
    spec.command = Some("/bin/sh".into());
    spec.args = vec!["-c".into(), "exit 3".into()];
    let mut handle = start(fleet(&mark, vec![spec]));
    let snapshot = handle
        .wait_for(READY_TIMEOUT, |s| {
            s.service("dying").is_some_and(|s| s.crash_loop.is_some())
        })
        .await
        .expect("the service is marked crash-looping");
    let service = snapshot.service("dying").unwrap();
    let crash = service.crash_loop.as_ref().unwrap();
    assert!(crash.died >= 3, "{crash:?}");
    assert!(
        crash.last.contains(": TaskFailedToStart, exit 3: "),
        "{crash:?}"
    );
    let stopped = service
        .tasks
        .iter()
        .filter(|t| t.last_status == TaskStatus::Stopped);
    assert!(stopped.clone().count() >= 3);
    assert!(
        stopped
            .clone()
            .all(|t| t.stop_code.as_deref() == Some("TaskFailedToStart"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_task_drains_first_and_the_task_is_replaced() {
    let mark = mark("stop");
    let mut handle = start(fleet(&mark, vec![LocalServiceSpec::built_in(2)]));
    let before = ready_ids(&*ready(&mut handle, SERVICE, 2).await, SERVICE);
    let victim = before.iter().next().unwrap().clone();
    let command = Command::StopTask {
        service: SERVICE.into(),
        task_id: victim[..10].into(),
        reason: "testing".into(),
    };
    handle.execute(command).await.unwrap();
    // The answer comes after the snapshot that took the task out of the ready set.
    let now = handle.snapshot();
    let task = now.service(SERVICE).unwrap().task(&victim).unwrap().clone();
    assert!(task.draining && !task.is_ready());
    assert_eq!(task.desired_status, TaskStatus::Stopped);
    let snapshot = handle
        .wait_for(READY_TIMEOUT, |s| {
            let service = s.service(SERVICE).unwrap();
            service
                .task(&victim)
                .is_some_and(|t| t.last_status == TaskStatus::Stopped)
                && service.ready_tasks().count() == 2
        })
        .await
        .expect("stopped and replaced");
    let stopped = snapshot.service(SERVICE).unwrap().task(&victim).unwrap();
    assert_eq!(
        stopped.stopped_reason.as_deref(),
        Some("Task stopped by user: testing")
    );
    assert_eq!(stopped.exit_code, Some(0));
    let again = Command::StopTask {
        service: SERVICE.into(),
        task_id: victim.clone(),
        reason: String::new(),
    };
    assert!(handle.execute(again).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_task_finishes_its_call_and_shows_it_in_flight() {
    let mark = mark("drain");
    let mut config = fleet(&mark, vec![LocalServiceSpec::built_in(2)]);
    config.metrics_interval = Duration::from_millis(100);
    let mut handle = start(config);
    let snapshot = ready(&mut handle, SERVICE, 2).await;
    let task = snapshot
        .service(SERVICE)
        .unwrap()
        .ready_tasks()
        .next()
        .unwrap()
        .clone();
    let session = Session::open(&task.endpoint.as_ref().unwrap().url).await;
    let call =
        tokio::spawn(async move { session.call("sleep", json!({"duration_ms": 1500})).await });
    let in_flight = |s: &FleetSnapshot, draining: bool| {
        let task = s.service(SERVICE).unwrap().task(&task.id).unwrap();
        task.draining == draining && task.metrics.as_ref().is_some_and(|m| m.in_flight == 1)
    };
    handle
        .wait_for(READY_TIMEOUT, |s| in_flight(s, false))
        .await
        .expect("the call is seen in flight");
    let stop = Command::StopTask {
        service: SERVICE.into(),
        task_id: task.id.clone(),
        reason: "drain".into(),
    };
    handle.execute(stop).await.unwrap();
    handle
        .wait_for(READY_TIMEOUT, |s| {
            let task = s.service(SERVICE).unwrap().task(&task.id).unwrap();
            task.last_status == TaskStatus::Stopping && in_flight(s, true)
        })
        .await
        .expect("still scraped while draining");
    let reply = call.await.unwrap();
    assert!(
        reply["result"]["isError"] != json!(true) && reply.get("error").is_none(),
        "{reply}"
    );
    let snapshot = handle
        .wait_for(READY_TIMEOUT, |s| {
            s.service(SERVICE)
                .unwrap()
                .task(&task.id)
                .unwrap()
                .last_status
                == TaskStatus::Stopped
        })
        .await
        .expect("stopped after the call");
    assert_eq!(
        snapshot
            .service(SERVICE)
            .unwrap()
            .task(&task.id)
            .unwrap()
            .exit_code,
        Some(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_call_log_line_arrives_within_a_second() {
    let mark = mark("logs");
    let mut handle = start(fleet(&mark, vec![LocalServiceSpec::built_in(1)]));
    let snapshot = ready(&mut handle, SERVICE, 1).await;
    let task = snapshot
        .service(SERVICE)
        .unwrap()
        .ready_tasks()
        .next()
        .unwrap()
        .clone();
    // The startup line may still be on its way when the first probe already succeeded.
    let listening = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            let line = handle.logs.rx.recv().await.expect("log channel open");
            if line.message == "listening" && line.task_id == task.id {
                return line;
            }
        }
    })
    .await
    .expect("the server's listening line");
    assert_eq!(listening.fields().unwrap()["replica"], task.id.as_str());
    let reply = echo(&task.endpoint.as_ref().unwrap().url, "hello fleet").await;
    assert_eq!(
        reply["result"]["content"][0]["text"], "hello fleet",
        "{reply}"
    );
    let answered = Instant::now();
    let line = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            let line = handle.logs.rx.recv().await.expect("log channel open");
            if line
                .fields()
                .as_ref()
                .is_some_and(|f| f["target"] == "mcpfleet::call")
            {
                return line;
            }
        }
    })
    .await
    .expect("the call's log line within 1 s");
    eprintln!(
        "call log line arrived {:?} after the answer",
        answered.elapsed()
    );
    assert_eq!(
        (
            line.service.as_str(),
            line.task_id.as_str(),
            line.stream.as_str()
        ),
        (SERVICE, task.id.as_str(), "stdout")
    );
    assert_eq!(line.fields().unwrap()["tool"], "echo");
    assert_eq!(handle.logs.dropped(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_service_joins_the_fleet_through_the_shim() {
    let mark = mark("command");
    let mut handle = start(fleet(&mark, vec![command_service("third-party", 2)]));
    let snapshot = ready(&mut handle, "third-party", 2).await;
    let service = snapshot.service("third-party").unwrap();
    let task = service.ready_tasks().next().unwrap().clone();
    let reply = echo(&task.endpoint.as_ref().unwrap().url, "via shim").await;
    assert_eq!(reply["result"]["content"][0]["text"], "via shim", "{reply}");
    // Shim and server for each task.
    assert_eq!(marked_processes(&mark).len(), 4);
    let command = Command::StopTask {
        service: "third-party".into(),
        task_id: task.id.clone(),
        reason: "x".into(),
    };
    handle.execute(command).await.unwrap();
    let snapshot = handle
        .wait_for(READY_TIMEOUT, |s| {
            let service = s.service("third-party").unwrap();
            service
                .task(&task.id)
                .is_some_and(|t| t.last_status == TaskStatus::Stopped)
                && service.ready_tasks().count() == 2
        })
        .await
        .expect("stopped through the shim and replaced");
    let stopped = snapshot
        .service("third-party")
        .unwrap()
        .task(&task.id)
        .unwrap();
    assert_eq!(
        stopped.exit_code,
        Some(0),
        "SIGTERM reached the server through the shim"
    );
    drop(handle);
    wait_until_gone(&mark, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_handle_stops_every_child() {
    let mark = mark("drop");
    let mut handle = start(fleet(&mark, vec![LocalServiceSpec::built_in(3)]));
    ready(&mut handle, SERVICE, 3).await;
    assert_eq!(marked_processes(&mark).len(), 3);
    drop(handle);
    let took = wait_until_gone(&mark, Duration::from_secs(5)).await;
    eprintln!("children gone {took:?} after the handle was dropped");
}
