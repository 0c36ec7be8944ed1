//! `mcpfleet deploy` and `rollback` against the emulator. `--image` registers the family's
//! next task definition revision with only the image changed, the service moves to it and
//! `--wait` exits 0 once it is deployed; an environment whose replicas cannot start trips the
//! circuit breaker, and `--wait` exits 13 with the reason and the revision rolled back to;
//! `--read-only` refuses before anything is sent, and a rollback with nothing to go back to
//! is refused with exit 15.

mod aws_console;
mod aws_support;

use aws_console::{REGION, cli, text};
use aws_sdk_ecs::{Client, types::TaskDefinition};
use aws_support::Emulator;
use serde_json::{Value, json};

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

async fn definition(ecs: &Client, arn: &str) -> TaskDefinition {
    ecs.describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .unwrap()
        .task_definition()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn deploy_registers_a_revision_waits_for_it_and_names_one_that_fails() {
    let emulator = Emulator::start().await;
    let spec = json!({"cluster": "mcp", "services": [
        {"name": "echo-mcp", "replicas": 2, "real": true, "mcp": "tag"},
    ]});
    emulator.fleet(&spec).await;
    let ecs = ecs(&emulator.moto_url).await;
    let first = service(&ecs).await;
    let old_arn = first.task_definition().unwrap().to_string();
    let old = definition(&ecs, &old_arn).await;
    let endpoint = emulator.proxy_url.clone();
    let run = |args: &[&str]| {
        let mut all = vec![
            "--source",
            "aws",
            "--endpoint-url",
            &endpoint,
            "--cluster",
            "mcp",
        ];
        all.extend_from_slice(args);
        let all: Vec<String> = all.into_iter().map(str::to_string).collect();
        async move {
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            cli(&all).await
        }
    };

    let refused = run(&["--read-only", "deploy", "echo-mcp", "--force"]).await;
    assert_eq!(refused.status.code(), Some(8), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("deploy changes the fleet; refused under --read-only"));
    let untouched = service(&ecs).await;
    assert_eq!(untouched.deployments().len(), 1, "nothing was deployed");
    assert_eq!(untouched.deployments()[0].id(), first.deployments()[0].id());

    let image = "registry.example/echo-mcp:2";
    let deployed = run(&[
        "deploy",
        "echo-mcp",
        "--image",
        image,
        "--wait",
        "--timeout",
        "50s",
        "--json",
    ])
    .await;
    let lines = text(&deployed.stderr);
    assert_eq!(deployed.status.code(), Some(0), "{lines}");
    let report: Value = serde_json::from_slice(&deployed.stdout).unwrap();
    assert_eq!(report["outcome"], "deployed", "{report:#}");
    assert_eq!(report["action"], "deploy");
    let revision = u64::try_from(old.revision()).unwrap() + 1;
    assert_eq!(report["revision"], revision, "{report:#}");
    assert!(
        lines.contains("PRIMARY rev "),
        "the rollout's lines: {lines}"
    );

    let moved = service(&ecs).await;
    let new_arn = moved.task_definition().unwrap().to_string();
    assert!(
        new_arn.ends_with(&format!("/echo-mcp:{revision}")),
        "DescribeServices shows the new revision: {new_arn}"
    );
    let new = definition(&ecs, &new_arn).await;
    let (was, now) = (
        &old.container_definitions()[0],
        &new.container_definitions()[0],
    );
    assert_eq!(now.image(), Some(image));
    let mut same = now.clone();
    same.image = was.image.clone();
    assert_eq!(&same, was, "only the image changed");
    assert_eq!(
        (new.family(), new.cpu(), new.memory(), new.network_mode()),
        (old.family(), old.cpu(), old.memory(), old.network_mode())
    );
    assert_eq!(new.task_role_arn(), old.task_role_arn());
    assert_eq!(new.execution_role_arn(), old.execution_role_arn());
    assert_eq!(new.runtime_platform(), old.runtime_platform());
    assert_eq!(
        new.requires_compatibilities(),
        old.requires_compatibilities()
    );

    // Replicas refuse an unreadable fault plan at start: every task of the revision fails.
    let failed = run(&[
        "deploy",
        "echo-mcp",
        "--env",
        "MCPFLEET_FAULTS=bogus-rule",
        "--wait",
        "--timeout",
        "50s",
    ])
    .await;
    let said = text(&failed.stdout);
    assert_eq!(
        failed.status.code(),
        Some(13),
        "{said}{}",
        text(&failed.stderr)
    );
    let reason = format!(
        "echo-mcp: revision {} failed: ECS deployment circuit breaker: tasks failed to start; \
         rolling back to revision {revision}",
        revision + 1
    );
    assert!(said.contains(&reason), "{said}");
    assert!(said.contains("deployment ecs-svc/"), "what started: {said}");
    let back = service(&ecs).await;
    assert_eq!(
        back.task_definition(),
        Some(new_arn.as_str()),
        "rolled back"
    );

    // Without ECS's deployment history (the emulator has none) a fresh command knows no
    // earlier completed deployment than the one running: it says so and changes nothing.
    let rollback = run(&["rollback", "echo-mcp"]).await;
    let why = text(&rollback.stderr);
    assert_eq!(rollback.status.code(), Some(15), "{why}");
    assert!(why.contains("no earlier completed deployment"), "{why}");
    assert_eq!(
        service(&ecs).await.task_definition(),
        Some(new_arn.as_str())
    );
}
