//! ECS shapes built with the SDK's builders, as DescribeServices / DescribeTasks /
//! DescribeTaskDefinition return them, mapped to the fleet model.

use std::collections::HashMap;

use aws_sdk_ecs::types::{
    ApplicationProtocol, Attachment, Container, ContainerDefinition, Deployment as EcsDeployment,
    DeploymentRolloutState, HealthCheck, HealthStatus, KeyValuePair, NetworkBinding, PortMapping,
    Service as EcsService, ServiceConnectConfiguration, ServiceConnectService,
    ServiceEvent as EcsEvent, Tag, Task as EcsTask, TaskDefinition,
};
use aws_smithy_types::DateTime;

use super::*;

const TD1: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/mcp:1";
const TD2: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/mcp:2";

fn definition(arn: &str, port_name: Option<&str>, health_check: bool) -> TaskDefinition {
    let mut mapping = PortMapping::builder()
        .container_port(8080)
        .app_protocol(ApplicationProtocol::Http);
    if let Some(name) = port_name {
        mapping = mapping.name(name);
    }
    let mut container = ContainerDefinition::builder()
        .name("server")
        .port_mappings(mapping.build());
    if health_check {
        container = container.health_check(
            HealthCheck::builder()
                .command("CMD")
                .command("healthcheck")
                .build()
                .unwrap(),
        );
    }
    TaskDefinition::builder()
        .task_definition_arn(arn)
        .container_definitions(container.build())
        .build()
}

fn deployment(id: &str, status: &str, td: &str, state: DeploymentRolloutState) -> EcsDeployment {
    EcsDeployment::builder()
        .id(id)
        .status(status)
        .task_definition(td)
        .desired_count(2)
        .running_count(1)
        .rollout_state(state)
        .service_connect_configuration(
            ServiceConnectConfiguration::builder()
                .enabled(true)
                .services(
                    ServiceConnectService::builder()
                        .port_name("mcp")
                        .discovery_name("echo")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .build()
}

fn service(tags: Vec<Tag>, service_connect: bool) -> EcsService {
    let mut builder = EcsService::builder()
        .service_name("echo")
        .service_arn("arn:aws:ecs:us-east-1:123456789012:service/c/echo")
        .desired_count(2)
        .running_count(2)
        .set_tags(Some(tags))
        .events(
            EcsEvent::builder()
                .created_at(DateTime::from_secs(100))
                .message("(service echo) has started 1 tasks")
                .build(),
        )
        .events(
            EcsEvent::builder()
                .created_at(DateTime::from_secs(200))
                .message("(service echo) has reached a steady state.")
                .build(),
        );
    if service_connect {
        builder = builder
            .deployments(deployment(
                "ecs-svc/2",
                "PRIMARY",
                TD2,
                DeploymentRolloutState::InProgress,
            ))
            .deployments(deployment(
                "ecs-svc/1",
                "ACTIVE",
                TD1,
                DeploymentRolloutState::Completed,
            ));
    }
    builder.build()
}

fn eni(ip: &str) -> Attachment {
    Attachment::builder()
        .r#type("ElasticNetworkInterface")
        .details(
            KeyValuePair::builder()
                .name("subnetId")
                .value("subnet-1")
                .build(),
        )
        .details(
            KeyValuePair::builder()
                .name("privateIPv4Address")
                .value(ip)
                .build(),
        )
        .build()
}

fn task(id: &str, td: &str, ip: Option<&str>, binding: Option<i32>) -> EcsTask {
    let mut container = Container::builder().name("server");
    if let Some(host_port) = binding {
        container = container.network_bindings(
            NetworkBinding::builder()
                .bind_ip("127.0.0.1")
                .container_port(8080)
                .host_port(host_port)
                .build(),
        );
    }
    let mut builder = EcsTask::builder()
        .task_arn(format!("arn:aws:ecs:us-east-1:123456789012:task/c/{id}"))
        .task_definition_arn(td)
        .last_status("RUNNING")
        .desired_status("RUNNING")
        .started_by("ecs-svc/2")
        .availability_zone("us-east-1b")
        .containers(container.build());
    if let Some(ip) = ip {
        builder = builder.attachments(eni(ip));
    }
    builder.build()
}

fn definitions(port_name: Option<&str>, health_check: bool) -> HashMap<String, TaskDefinition> {
    [TD1, TD2]
        .into_iter()
        .map(|arn| (arn.to_string(), definition(arn, port_name, health_check)))
        .collect()
}

#[test]
fn mcp_services_are_tagged_or_published_through_service_connect() {
    let tagged = service(
        vec![Tag::builder().key(PATH_TAG).value("/v1/mcp").build()],
        false,
    );
    assert_eq!(mcp_path(&tagged, false).as_deref(), Some("/v1/mcp"));
    let connected = service(Vec::new(), true);
    assert_eq!(mcp_path(&connected, false).as_deref(), Some(DEFAULT_PATH));
    let plain = service(Vec::new(), false);
    assert_eq!(mcp_path(&plain, false), None);
    assert_eq!(mcp_path(&plain, true).as_deref(), Some(DEFAULT_PATH));
}

#[test]
fn the_port_is_the_one_service_connect_names() {
    let svc = service(Vec::new(), true);
    let port = mcp_port(&definition(TD1, Some("mcp"), false), &svc).unwrap();
    assert_eq!(
        port,
        McpPort {
            container: "server".into(),
            port: 8080
        }
    );
    let unnamed = definition(TD1, Some("admin"), false);
    let extra = PortMapping::builder()
        .name("other")
        .container_port(9090)
        .build();
    let two_http = TaskDefinition::builder()
        .task_definition_arn(TD1)
        .container_definitions(
            ContainerDefinition::builder()
                .name("server")
                .port_mappings(unnamed.container_definitions()[0].port_mappings()[0].clone())
                .port_mappings(extra)
                .build(),
        )
        .build();
    // One http port and no port called "mcp": that one is used.
    assert!(mcp_port(&unnamed, &svc).is_ok());
    let note = mcp_port(
        &TaskDefinition::builder()
            .task_definition_arn(TD1)
            .container_definitions(
                ContainerDefinition::builder()
                    .name("server")
                    .port_mappings(PortMapping::builder().container_port(8080).build())
                    .build(),
            )
            .build(),
        &svc,
    )
    .unwrap_err();
    assert!(note.contains("mcp:1 has no port named \"mcp\""), "{note}");
    assert!(mcp_port(&two_http, &svc).is_ok());
}

#[test]
fn awsvpc_tasks_are_reached_at_their_eni_address_and_container_port() {
    let port = McpPort {
        container: "server".into(),
        port: 8080,
    };
    let fargate = task("aaa", TD2, Some("10.0.1.17"), None);
    assert_eq!(
        task_address(&fargate, &port),
        Some(("10.0.1.17".into(), 8080))
    );
    let bridged = task("bbb", TD2, Some("10.0.1.18"), Some(49153));
    assert_eq!(
        task_address(&bridged, &port),
        Some(("127.0.0.1".into(), 49153))
    );
    let provisioning = task("ccc", TD2, None, None);
    assert_eq!(task_address(&provisioning, &port), None);
}

#[test]
fn a_service_maps_with_its_tasks_deployments_and_events() {
    let svc = service(Vec::new(), true);
    let tasks = [
        task("aaaaaaaa1111", TD2, Some("10.0.1.17"), None),
        task("bbbbbbbb2222", TD1, None, None),
    ];
    let defs = definitions(Some("mcp"), false);
    let mapped = super::service(ServiceInput {
        name: "echo".into(),
        service: &svc,
        tasks: tasks.iter().collect(),
        definitions: &defs,
        path: "/mcp".into(),
        url_override: None,
    });
    assert_eq!((mapped.desired, mapped.running), (2, 2));
    assert_eq!(mapped.primary().unwrap().revision, 2);
    assert_eq!(mapped.deployments[1].rollout_state, RolloutState::Completed);
    assert_eq!(
        mapped.events[0].message,
        "(service echo) has reached a steady state."
    );
    let first = &mapped.tasks[0];
    assert_eq!(first.id, "aaaaaaaa1111");
    assert_eq!(
        first.endpoint.as_ref().unwrap().url,
        "http://10.0.1.17:8080/mcp"
    );
    // No container health check: a running task counts as healthy, as ECS treats it.
    assert_eq!(first.health, Health::Healthy);
    assert_eq!(first.deployment_id, "ecs-svc/2");
    assert_eq!(first.availability_zone.as_deref(), Some("us-east-1b"));
    let second = &mapped.tasks[1];
    assert!(second.endpoint.is_none());
    assert_eq!(second.notes, ["no IP address yet"]);
    assert!(mapped.notes.is_empty());
}

#[test]
fn health_checked_tasks_wait_for_ecs_to_say_healthy() {
    let svc = service(Vec::new(), true);
    let unknown = task("aaaa", TD2, Some("10.0.1.17"), None);
    let healthy = EcsTask::builder()
        .task_arn("arn:aws:ecs:us-east-1:123456789012:task/c/bbbb")
        .task_definition_arn(TD2)
        .last_status("RUNNING")
        .health_status(HealthStatus::Healthy)
        .attachments(eni("10.0.1.18"))
        .build();
    let defs = definitions(Some("mcp"), true);
    let mapped = super::service(ServiceInput {
        name: "echo".into(),
        service: &svc,
        tasks: vec![&unknown, &healthy],
        definitions: &defs,
        path: "/mcp".into(),
        url_override: None,
    });
    let health: Vec<Health> = mapped.tasks.iter().map(|t| t.health).collect();
    assert_eq!(health, [Health::Unknown, Health::Healthy]);
    // Fed by a revision whose tasks cannot be found: the service says why.
    let without_port = definitions(None, false);
    let noted = super::service(ServiceInput {
        name: "echo".into(),
        service: &svc,
        tasks: vec![&unknown],
        definitions: &without_port,
        path: "/mcp".into(),
        url_override: Some("https://mcp.internal.example/mcp"),
    });
    let endpoint = noted.tasks[0].endpoint.as_ref().unwrap();
    assert_eq!(endpoint.address, "mcp.internal.example:443");
    assert!(endpoint.shared, "an override is in front of every task");
}

#[test]
fn a_stopped_task_keeps_its_stop_code_and_each_container_its_end() {
    let svc = service(Vec::new(), true);
    let oom = Container::builder()
        .name("server")
        .last_status("STOPPED")
        .exit_code(137)
        .reason("OutOfMemoryError: Container killed due to memory usage")
        .image_digest("sha256:0123abcd")
        .health_status(HealthStatus::Unhealthy)
        .build();
    let stopped = EcsTask::builder()
        .task_arn("arn:aws:ecs:us-east-1:123456789012:task/c/cccc")
        .task_definition_arn(TD2)
        .last_status("STOPPED")
        .desired_status("STOPPED")
        .stop_code(aws_sdk_ecs::types::TaskStopCode::EssentialContainerExited)
        .stopped_reason("Essential container in task exited")
        .containers(oom)
        .build();
    let defs = definitions(Some("mcp"), false);
    let mapped = super::service(ServiceInput {
        name: "echo".into(),
        service: &svc,
        tasks: vec![&stopped],
        definitions: &defs,
        path: "/mcp".into(),
        url_override: None,
    });
    let task = &mapped.tasks[0];
    assert_eq!(task.stop_code.as_deref(), Some("EssentialContainerExited"));
    assert_eq!(task.exit_code, Some(137));
    let container = &task.containers[0];
    assert_eq!(container.name, "server");
    assert_eq!(container.health, Health::Unhealthy);
    assert_eq!(container.last_status.as_deref(), Some("STOPPED"));
    assert_eq!(container.image_digest.as_deref(), Some("sha256:0123abcd"));
    assert!(
        container
            .reason
            .as_deref()
            .unwrap()
            .starts_with("OutOfMemoryError")
    );
}

#[test]
fn cloud_map_ids_come_from_service_connect_resources() {
    let svc = EcsService::builder()
        .deployments(
            EcsDeployment::builder()
                .service_connect_resources(
                    aws_sdk_ecs::types::ServiceConnectServiceResource::builder()
                        .discovery_name("echo")
                        .discovery_arn("arn:aws:servicediscovery:us-east-1:1:service/srv-abc")
                        .build(),
                )
                .build(),
        )
        .build();
    assert_eq!(discovery_service_ids(&svc), ["srv-abc"]);
}
