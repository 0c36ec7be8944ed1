//! ECS's answers → the fleet model. Pure functions of what the APIs returned, so every rule
//! (which services are MCP, where a task's endpoint is, what counts as healthy) is tested from
//! SDK-built fixtures without a network.

use std::{collections::HashMap, time::SystemTime};

use aws_sdk_ecs::types as ecs;

use crate::fleet::{
    Container, Deployment, DeploymentAlarm, DeploymentPolicy, DeploymentStatus, EcsTask, Endpoint,
    Health, RolloutState, Service, ServiceEvent, Task, TaskStatus,
};

/// The tag that marks an MCP service; its value is the MCP path.
pub const PATH_TAG: &str = "mcpfleet:path";
pub const DEFAULT_PATH: &str = "/mcp";
/// ECS keeps at most this many events per service; the console shows as many.
const EVENTS_KEPT: usize = 100;

/// The MCP path when `service` serves MCP: tagged, or published through Service Connect;
/// with `all`, every service counts.
pub fn mcp_path(service: &ecs::Service, all: bool) -> Option<String> {
    if let Some(tag) = service.tags().iter().find(|t| t.key() == Some(PATH_TAG)) {
        return Some(tag.value().unwrap_or(DEFAULT_PATH).to_string());
    }
    if service_connect_port(service).is_some() || all {
        return Some(DEFAULT_PATH.to_string());
    }
    None
}

/// The port name Service Connect publishes, from the newest deployment that has one.
fn service_connect_port(service: &ecs::Service) -> Option<&str> {
    service
        .deployments()
        .iter()
        .filter_map(|d| d.service_connect_configuration())
        .filter(|c| c.enabled())
        .flat_map(|c| c.services())
        .map(|s| s.port_name())
        .next()
}

/// (namespace name, discovery name) of the service's Service Connect, when the namespace is
/// given by name (an ARN would need another call to name it).
pub fn discovery_names(service: &ecs::Service) -> Option<(String, String)> {
    let config = service
        .deployments()
        .iter()
        .filter_map(|d| d.service_connect_configuration())
        .find(|c| c.enabled())?;
    let namespace = config.namespace().filter(|n| !n.starts_with("arn:"))?;
    let entry = config.services().first()?;
    let name = entry.discovery_name().unwrap_or(entry.port_name());
    Some((namespace.to_string(), name.to_string()))
}

/// The Cloud Map service ids behind the service's Service Connect (or service registry).
pub fn discovery_service_ids(service: &ecs::Service) -> Vec<String> {
    let mut arns: Vec<&str> = service
        .deployments()
        .iter()
        .flat_map(|d| d.service_connect_resources())
        .filter_map(|r| r.discovery_arn())
        .collect();
    arns.extend(
        service
            .service_registries()
            .iter()
            .filter_map(|r| r.registry_arn()),
    );
    let mut ids: Vec<String> = arns
        .into_iter()
        .filter_map(|arn| arn.rsplit('/').next())
        .map(str::to_string)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Where a task definition serves MCP: a container and its container port.
#[derive(Debug, Clone, PartialEq)]
pub struct McpPort {
    pub container: String,
    pub port: i32,
}

/// Finds the port: the one Service Connect names, else one named `mcp`, else the only
/// `http` port. The error is the note shown on the service.
pub fn mcp_port(
    definition: &ecs::TaskDefinition,
    service: &ecs::Service,
) -> Result<McpPort, String> {
    let wanted = service_connect_port(service).unwrap_or("mcp");
    let containers = definition.container_definitions();
    let named = containers.iter().find_map(|c| {
        c.port_mappings()
            .iter()
            .find(|p| p.name() == Some(wanted))
            .map(|p| (c, p))
    });
    let http_ports: Vec<_> = containers
        .iter()
        .flat_map(|c| c.port_mappings().iter().map(move |p| (c, p)))
        .filter(|(_, p)| {
            matches!(
                p.app_protocol(),
                Some(ecs::ApplicationProtocol::Http | ecs::ApplicationProtocol::Http2)
            )
        })
        .collect();
    let chosen = named.or(match http_ports.as_slice() {
        [only] => Some(*only),
        _ => None,
    });
    match chosen {
        Some((container, mapping)) => Ok(McpPort {
            container: container.name().unwrap_or_default().to_string(),
            port: mapping.container_port().unwrap_or_default(),
        }),
        None => Err(format!(
            "task definition {} has no port named {wanted:?}; its tasks have no MCP endpoint",
            family_revision(definition.task_definition_arn().unwrap_or("?"))
        )),
    }
}

/// `family:revision` from a task definition ARN.
pub fn family_revision(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

pub fn revision_of(arn: &str) -> u32 {
    arn.rsplit(':')
        .next()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

pub fn short_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The address a task serves `port` on. In awsvpc mode (Fargate) that is the ENI's private IP
/// and the container port; in bridge or host mode the container's network binding says which
/// host port maps to it.
pub fn task_address(task: &ecs::Task, port: &McpPort) -> Option<(String, i32)> {
    let eni_ip = task
        .attachments()
        .iter()
        .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
        .flat_map(|a| a.details())
        .find(|d| d.name() == Some("privateIPv4Address"))
        .and_then(|d| d.value())
        .or_else(|| {
            task.containers()
                .iter()
                .flat_map(|c| c.network_interfaces())
                .find_map(|n| n.private_ipv4_address())
        })
        .filter(|ip| !ip.is_empty());
    let binding = task
        .containers()
        .iter()
        .filter(|c| c.name() == Some(port.container.as_str()))
        .flat_map(|c| c.network_bindings())
        .find(|b| b.container_port() == Some(port.port) && b.host_port().unwrap_or(0) > 0);
    if let Some(binding) = binding {
        let bound = binding
            .bind_ip()
            .filter(|ip| !matches!(*ip, "" | "0.0.0.0" | "::"));
        let host = bound.or(eni_ip)?;
        return Some((host.to_string(), binding.host_port().unwrap_or(port.port)));
    }
    eni_ip.map(|ip| (ip.to_string(), port.port))
}

pub fn endpoint(host: &str, port: i32, path: &str) -> Endpoint {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    Endpoint::new(
        format!("http://{host}:{port}{path}"),
        format!("{host}:{port}"),
    )
}

fn status(text: Option<&str>) -> TaskStatus {
    match text.unwrap_or_default() {
        "PROVISIONING" => TaskStatus::Provisioning,
        "PENDING" => TaskStatus::Pending,
        "ACTIVATING" => TaskStatus::Activating,
        "RUNNING" => TaskStatus::Running,
        "DEACTIVATING" => TaskStatus::Deactivating,
        "STOPPING" => TaskStatus::Stopping,
        "STOPPED" | "DELETED" => TaskStatus::Stopped,
        _ => TaskStatus::Pending,
    }
}

fn time(at: Option<&aws_smithy_types::DateTime>) -> Option<SystemTime> {
    at.and_then(|t| SystemTime::try_from(*t).ok())
}

/// Everything needed to describe one service.
pub struct ServiceInput<'a> {
    /// The name the console shows (`service`, or `cluster/service` over several clusters).
    pub name: String,
    pub service: &'a ecs::Service,
    pub tasks: Vec<&'a ecs::Task>,
    pub definitions: &'a HashMap<String, ecs::TaskDefinition>,
    pub path: String,
    /// A URL that reaches the service from here when its tasks cannot be reached directly.
    pub url_override: Option<&'a str>,
}

pub fn service(input: ServiceInput<'_>) -> Service {
    let ServiceInput {
        name,
        service,
        tasks,
        definitions,
        path,
        url_override,
    } = input;
    let mut notes = Vec::new();
    let deployments: Vec<Deployment> = service.deployments().iter().map(deployment).collect();
    let mut mapped_tasks = Vec::new();
    for task in tasks {
        let definition = task
            .task_definition_arn()
            .and_then(|arn| definitions.get(arn));
        let port = definition.map(|d| mcp_port(d, service));
        if let Some(Err(note)) = &port
            && !notes.contains(note)
        {
            notes.push(note.clone());
        }
        let port = port.and_then(Result::ok);
        let has_health_check = definition.is_some_and(|d| {
            d.container_definitions()
                .iter()
                .any(|c| c.health_check().is_some())
        });
        mapped_tasks.push(map_task(
            task,
            &deployments,
            port.as_ref(),
            has_health_check,
            &path,
            url_override,
        ));
    }
    mapped_tasks.sort_by(|a, b| {
        (a.last_status == TaskStatus::Stopped, &a.id)
            .cmp(&(b.last_status == TaskStatus::Stopped, &b.id))
    });
    let mut events: Vec<ServiceEvent> = service
        .events()
        .iter()
        .filter_map(|e| {
            Some(ServiceEvent {
                at: time(e.created_at())?,
                message: e.message()?.to_string(),
            })
        })
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
    events.truncate(EVENTS_KEPT);
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    Service {
        name,
        desired: count(service.desired_count()),
        running: count(service.running_count()),
        pending: count(service.pending_count()),
        deployments,
        tasks: mapped_tasks,
        events,
        mcp_path: path,
        notes,
        traffic: None,
        policy: policy(service),
        crash_loop: None,
        latest_revision: None,
    }
}

fn policy(service: &ecs::Service) -> Option<DeploymentPolicy> {
    let config = service.deployment_configuration()?;
    let breaker = config.deployment_circuit_breaker();
    let alarms = config.alarms().filter(|a| a.enable());
    let percent =
        |n: Option<i32>, default: u32| n.and_then(|n| u32::try_from(n).ok()).unwrap_or(default);
    Some(DeploymentPolicy {
        min_healthy_percent: percent(config.minimum_healthy_percent(), 100),
        max_percent: percent(config.maximum_percent(), 200),
        circuit_breaker: breaker.is_some_and(|b| b.enable()),
        rollback: breaker.is_some_and(|b| b.enable() && b.rollback()),
        // Their states are CloudWatch's, which this source does not ask for.
        alarms: alarms.map_or_else(Vec::new, |a| {
            let names = a.alarm_names().iter();
            names
                .map(|name| DeploymentAlarm {
                    name: name.clone(),
                    state: None,
                    reason: None,
                })
                .collect()
        }),
        alarm_rollback: alarms.is_some_and(|a| a.rollback()),
    })
}

fn deployment(d: &ecs::Deployment) -> Deployment {
    let status = match d.status() {
        Some("PRIMARY") => DeploymentStatus::Primary,
        Some("ACTIVE") => DeploymentStatus::Active,
        _ => DeploymentStatus::Inactive,
    };
    let rollout_state = match d.rollout_state() {
        Some(ecs::DeploymentRolloutState::InProgress) => RolloutState::InProgress,
        Some(ecs::DeploymentRolloutState::Failed) => RolloutState::Failed,
        _ => RolloutState::Completed,
    };
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    Deployment {
        id: d.id().unwrap_or_default().to_string(),
        status,
        revision: revision_of(d.task_definition().unwrap_or_default()),
        desired: count(d.desired_count()),
        running: count(d.running_count()),
        pending: count(d.pending_count()),
        failed: count(d.failed_tasks()),
        rollout_state,
        rollout_reason: d.rollout_state_reason().map(str::to_string),
        created_at: time(d.created_at()).unwrap_or(SystemTime::UNIX_EPOCH),
        updated_at: time(d.updated_at()).unwrap_or(SystemTime::UNIX_EPOCH),
        figures: None,
        bake_ends_at: None,
    }
}

fn map_task(
    task: &ecs::Task,
    deployments: &[Deployment],
    port: Option<&McpPort>,
    has_health_check: bool,
    path: &str,
    url_override: Option<&str>,
) -> Task {
    let arn = task.task_arn().unwrap_or_default();
    let definition = task.task_definition_arn().unwrap_or_default();
    let revision = revision_of(definition);
    let deployment_id = task
        .started_by()
        .filter(|by| deployments.iter().any(|d| d.id == *by))
        .map(str::to_string)
        .or_else(|| {
            deployments
                .iter()
                .find(|d| d.revision == revision)
                .map(|d| d.id.clone())
        })
        .unwrap_or_default();
    let last_status = status(task.last_status());
    let desired_status = status(task.desired_status());
    // A task without a container health check stays UNKNOWN forever; ECS then treats a running
    // task as healthy, and so does the console.
    let health = match task.health_status() {
        Some(ecs::HealthStatus::Healthy) => Health::Healthy,
        Some(ecs::HealthStatus::Unhealthy) => Health::Unhealthy,
        _ if !has_health_check && last_status == TaskStatus::Running => Health::Healthy,
        _ => Health::Unknown,
    };
    let mut notes = Vec::new();
    let endpoint = match (url_override, port) {
        (Some(url), _) => {
            Some(Endpoint::new(url.to_string(), super::scrape::address_of(url)).shared())
        }
        (None, Some(port)) => match task_address(task, port) {
            Some((host, port)) => Some(endpoint(&host, port, path)),
            None => {
                if last_status != TaskStatus::Stopped {
                    notes.push("no IP address yet".to_string());
                }
                None
            }
        },
        (None, None) => None,
    };
    let exit_code = task
        .containers()
        .iter()
        .find(|c| port.is_none_or(|p| c.name() == Some(p.container.as_str())))
        .and_then(|c| c.exit_code());
    Task {
        id: short_name(arn).to_string(),
        revision,
        deployment_id,
        last_status,
        desired_status,
        health,
        draining: desired_status == TaskStatus::Stopped && last_status != TaskStatus::Stopped,
        availability_zone: task.availability_zone().map(str::to_string),
        endpoint,
        started_at: time(task.started_at()),
        stopped_at: time(task.stopped_at()),
        stopped_reason: task.stopped_reason().map(str::to_string),
        exit_code,
        stop_code: task.stop_code().map(|code| code.as_str().to_string()),
        containers: task.containers().iter().map(container).collect(),
        ecs: Some(EcsTask {
            cluster_arn: task.cluster_arn().unwrap_or_default().to_string(),
            task_arn: arn.to_string(),
            exec_enabled: task.enable_execute_command(),
            mcp_container: port.map(|p| p.container.clone()),
            mcp_port: port.and_then(|p| u16::try_from(p.port).ok()),
        }),
        metrics: None,
        outlier: None,
        notes,
    }
}

fn container(c: &ecs::Container) -> Container {
    Container {
        name: c.name().unwrap_or_default().to_string(),
        last_status: c.last_status().map(str::to_string),
        health: match c.health_status() {
            Some(ecs::HealthStatus::Healthy) => Health::Healthy,
            Some(ecs::HealthStatus::Unhealthy) => Health::Unhealthy,
            _ => Health::Unknown,
        },
        exit_code: c.exit_code(),
        reason: c.reason().map(str::to_string),
        image_digest: c.image_digest().map(str::to_string),
        runtime_id: c.runtime_id().map(str::to_string),
        exec_agent: c
            .managed_agents()
            .iter()
            .find(|a| a.name() == Some(&ecs::ManagedAgentName::ExecuteCommandAgent))
            .and_then(|a| a.last_status())
            .map(str::to_string),
    }
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
