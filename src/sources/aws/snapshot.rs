//! The fleet as last fetched → the console's snapshot: services mapped from ECS, with the
//! notes from Cloud Map, CloudWatch Logs and reachability added where they apply.

use std::{collections::HashMap, time::SystemTime};

use super::{
    AwsSettings, cloudmap,
    mapping::{self, ServiceInput},
    refresh::{Discovery, Watched},
    scrape::{Reach, UNREACHABLE},
};
use crate::fleet::{
    FleetSnapshot, Service, SourceKind, TaskStatus, crashloop, outliers, revisions,
};

pub fn context(settings: &AwsSettings, discovery: &Discovery, region: &str) -> String {
    let clusters: Vec<&str> = if discovery.clusters.is_empty() {
        settings.clusters.iter().map(String::as_str).collect()
    } else {
        discovery
            .clusters
            .iter()
            .map(|c| mapping::short_name(c))
            .collect()
    };
    match clusters.as_slice() {
        [] => format!("aws @ {region}"),
        [one] => format!("{one} @ {region}"),
        many => format!("{} clusters @ {region}", many.len()),
    }
}

pub fn services(discovery: &Discovery, settings: &AwsSettings) -> Vec<Service> {
    let mut services: Vec<Service> = discovery
        .services
        .iter()
        .map(|(arn, watched)| service(discovery, settings, arn, watched))
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    services
}

fn service(discovery: &Discovery, settings: &AwsSettings, arn: &str, watched: &Watched) -> Service {
    let name = discovery.display_name(watched);
    let url_override = settings
        .url_overrides
        .get(&name)
        .or_else(|| settings.url_overrides.get(watched.name()))
        .map(String::as_str);
    let mut service = mapping::service(ServiceInput {
        name,
        service: &watched.service,
        tasks: discovery.tasks_of(watched),
        definitions: &discovery.definitions,
        path: watched.path.clone(),
        url_override,
    });
    for task in &mut service.tasks {
        match discovery.reach.get(&task.id) {
            Some(Reach::Metrics(metrics)) => task.metrics = Some(metrics.clone()),
            Some(Reach::Unreachable) if url_override.is_none() => {
                task.notes.push(UNREACHABLE.to_string())
            }
            _ => {}
        }
    }
    if let Some(instances) = discovery.instances.get(arn) {
        let running: Vec<(String, Option<String>)> = service
            .tasks
            .iter()
            .filter(|t| t.last_status == TaskStatus::Running)
            .map(|t| {
                let address = (url_override.is_none())
                    .then(|| t.endpoint.as_ref().map(|e| e.address.clone()))
                    .flatten();
                (t.id.clone(), address)
            })
            .collect();
        let (unregistered, orphans) = cloudmap::cross_check(instances, &running);
        for task in &mut service.tasks {
            if unregistered.contains(&task.id) {
                task.notes.push("not registered in Cloud Map".to_string());
            }
        }
        service.notes.extend(orphans);
    }
    for group in log_groups_of(discovery, watched) {
        if discovery.logs.is_missing(&group) {
            service.notes.push(format!(
                "log group {group} does not exist; no logs for this service"
            ));
        }
    }
    service.traffic = discovery.traffic.get(arn).cloned();
    outliers::mark(&mut service);
    crashloop::mark(&mut service, std::time::SystemTime::now());
    revisions::roll_up(&mut service);
    service
}

fn log_groups_of(discovery: &Discovery, watched: &Watched) -> Vec<String> {
    let mut groups: Vec<String> = discovery
        .tasks_of(watched)
        .iter()
        .filter_map(|t| t.task_definition_arn())
        .filter_map(|arn| discovery.definitions.get(arn))
        .flat_map(|d| d.container_definitions())
        .filter_map(|c| {
            c.log_configuration()?
                .options()?
                .get("awslogs-group")
                .cloned()
        })
        .collect();
    groups.sort();
    groups.dedup();
    groups
}

pub struct Status {
    pub stale: Option<String>,
    pub api_calls: u64,
    pub api_errors: u64,
    pub api: Vec<crate::fleet::ApiStat>,
}

pub fn build(
    discovery: &Discovery,
    settings: &AwsSettings,
    region: &str,
    status: Status,
) -> FleetSnapshot {
    let mut snapshot = FleetSnapshot::empty(SourceKind::Aws, context(settings, discovery, region));
    snapshot.services = services(discovery, settings);
    snapshot.fetched_at = discovery.fetched_at.unwrap_or_else(SystemTime::now);
    snapshot.stale = status.stale;
    snapshot.api_calls = status.api_calls;
    snapshot.api_errors = status.api_errors;
    snapshot.api = status.api;
    snapshot.loading = discovery.catching_up();
    snapshot.clusters = discovery.cluster_states();
    snapshot
}

/// Service display name → its ARN, for commands.
pub fn service_arns(discovery: &Discovery) -> HashMap<String, String> {
    discovery
        .services
        .iter()
        .map(|(arn, watched)| (discovery.display_name(watched), arn.clone()))
        .collect()
}
