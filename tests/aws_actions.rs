//! The operator's actions through the AWS source change the emulator's ECS state: scale,
//! force a new deployment, stop a task, roll back to the last completed task definition.

mod aws_console;
mod aws_support;

use std::time::Duration;

use aws_console::{REGION, runtime, settings, start, use_fake_aws_env, wait_for};
use aws_sdk_ecs::{Client, types::KeyValuePair};
use aws_support::Emulator;
use mcpfleet::fleet::{Command, FleetSnapshot, Health, RevisionChange, RolloutState, TaskStatus};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(90);

async fn ecs(moto: &str) -> Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    Client::new(&config)
}

fn running_healthy(snapshot: &FleetSnapshot, n: usize) -> bool {
    snapshot.service("echo-mcp").is_some_and(|s| {
        s.tasks
            .iter()
            .filter(|t| t.last_status == TaskStatus::Running && t.health == Health::Healthy)
            .count()
            == n
    })
}

fn settled_on(snapshot: &FleetSnapshot, revision: u32) -> bool {
    snapshot.service("echo-mcp").is_some_and(|s| {
        s.deployments.len() == 1
            && s.primary().is_some_and(|d| {
                d.revision == revision && d.rollout_state == RolloutState::Completed
            })
    })
}

async fn service(ecs: &Client) -> aws_sdk_ecs::types::Service {
    ecs.describe_services()
        .cluster("mcp")
        .services("echo-mcp")
        .send()
        .await
        .unwrap()
        .services()[0]
        .clone()
}

#[test]
fn scale_deploy_stop_and_rollback_change_ecs() {
    use_fake_aws_env();
    runtime().block_on(async {
        let emulator = Emulator::start().await;
        emulator
            .fleet(&json!({"cluster": "mcp", "services": [
                {"name": "echo-mcp", "replicas": 2, "real": true, "mcp": "tag"},
            ]}))
            .await;
        let ecs = ecs(&emulator.moto_url).await;
        let mut handle = start(settings(&emulator.proxy_url, "mcp"));
        wait_for(&mut handle, WAIT, "2 healthy tasks", |s| {
            running_healthy(s, 2)
        })
        .await;

        let said = handle
            .execute(Command::Scale {
                service: "echo-mcp".into(),
                desired: 3,
            })
            .await
            .expect("scale");
        assert_eq!(said, "echo-mcp: desired count 2 → 3");
        assert_eq!(service(&ecs).await.desired_count(), 3);
        wait_for(&mut handle, WAIT, "3 healthy tasks", |s| {
            running_healthy(s, 3)
        })
        .await;

        let before = service(&ecs).await.deployments()[0]
            .id()
            .unwrap()
            .to_string();
        let said = handle
            .execute(Command::Deploy {
                service: "echo-mcp".into(),
                change: RevisionChange::default(),
            })
            .await
            .expect("force deploy");
        assert!(said.contains("force new deployment"), "{said}");
        let primary = service(&ecs)
            .await
            .deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"))
            .unwrap()
            .id()
            .unwrap()
            .to_string();
        assert_ne!(primary, before, "no new PRIMARY deployment");
        let done = wait_for(&mut handle, WAIT, "the forced deployment completed", |s| {
            settled_on(s, 1)
                && running_healthy(s, 3)
                && s.service("echo-mcp").unwrap().primary().unwrap().id == primary
        })
        .await;
        // A changed command is the image's or the pipeline's business, and nothing is made.
        let refused = handle
            .execute(Command::Deploy {
                service: "echo-mcp".into(),
                change: RevisionChange {
                    args: Some(vec!["serve".into()]),
                    ..RevisionChange::default()
                },
            })
            .await
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("changes only the image and the environment"),
            "{refused}"
        );

        let victim = done
            .service("echo-mcp")
            .unwrap()
            .ready_tasks()
            .next()
            .unwrap()
            .id
            .clone();
        handle
            .execute(Command::StopTask {
                service: "echo-mcp".into(),
                task_id: victim[..8].to_string(),
                reason: "wedged on a call".into(),
            })
            .await
            .expect("stop task");
        let stopped = ecs
            .describe_tasks()
            .cluster("mcp")
            .tasks(&victim)
            .send()
            .await
            .unwrap();
        let stopped = &stopped.tasks()[0];
        assert_eq!(stopped.desired_status(), Some("STOPPED"));
        let reason = stopped.stopped_reason().unwrap_or_default();
        assert!(
            reason.contains("mcpfleet") && reason.contains("wedged on a call"),
            "{reason}"
        );
        let replaced = wait_for(
            &mut handle,
            WAIT,
            "a replacement and the stopped task",
            |s| {
                running_healthy(s, 3)
                    && s.service("echo-mcp")
                        .unwrap()
                        .task(&victim)
                        .is_some_and(|t| t.last_status == TaskStatus::Stopped)
            },
        )
        .await;
        let shown = replaced.service("echo-mcp").unwrap().task(&victim).unwrap();
        assert!(
            shown
                .stopped_reason
                .as_deref()
                .unwrap_or_default()
                .contains("wedged")
        );

        // Revision 2 (one more variable) rolled out by someone else; then roll back to 1.
        let current = service(&ecs).await.task_definition().unwrap().to_string();
        let definition = ecs
            .describe_task_definition()
            .task_definition(&current)
            .send()
            .await
            .unwrap()
            .task_definition()
            .unwrap()
            .clone();
        let mut containers = definition.container_definitions().to_vec();
        containers[0].environment.get_or_insert_with(Vec::new).push(
            KeyValuePair::builder()
                .name("MCPFLEET_DEPLOY_MARK")
                .value("2")
                .build(),
        );
        let registered = ecs
            .register_task_definition()
            .family(definition.family().unwrap())
            .set_container_definitions(Some(containers))
            .set_network_mode(definition.network_mode().cloned())
            .set_requires_compatibilities(Some(definition.requires_compatibilities().to_vec()))
            .set_cpu(definition.cpu().map(str::to_string))
            .set_memory(definition.memory().map(str::to_string))
            .send()
            .await
            .unwrap();
        let second = registered
            .task_definition()
            .unwrap()
            .task_definition_arn()
            .unwrap()
            .to_string();
        ecs.update_service()
            .cluster("mcp")
            .service("echo-mcp")
            .task_definition(&second)
            .send()
            .await
            .unwrap();
        wait_for(&mut handle, WAIT, "revision 2 deployed", |s| {
            settled_on(s, 2)
        })
        .await;
        let said = handle
            .execute(Command::Rollback {
                service: "echo-mcp".into(),
            })
            .await
            .expect("rollback");
        assert!(
            said.contains("rolling back to") && said.ends_with(":2)"),
            "{said}"
        );
        assert_eq!(
            service(&ecs).await.task_definition(),
            Some(current.as_str())
        );
        wait_for(&mut handle, WAIT, "revision 1 deployed again", |s| {
            settled_on(s, 1) && running_healthy(s, 3)
        })
        .await;
    });
}
