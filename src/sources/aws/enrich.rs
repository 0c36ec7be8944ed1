//! The part of a refresh that improves the picture but can wait a cycle: Service Connect
//! traffic (a call per 125 services, once a minute), logs (a call per log group, in turn), recently
//! stopped tasks, the Cloud Map cross-check (with what the budget leaves), and the tasks' own
//! /metrics (no AWS call). Each part that fails is reported and the rest goes on, except
//! throttling and expired credentials, which end the cycle.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::SystemTime,
};

use aws_sdk_ecs::types::DesiredStatus;

use super::{
    client::AwsError,
    cloudmap,
    cloudwatch::{self, Target},
    ecs::{self as api, Calls},
    logs::{Group, stream_of},
    mapping,
    refresh::{Discovery, STOPPED_PER_SERVICE, STOPPED_SHOWN, Watched},
    scrape::Reach,
};

/// Cycles between new attempts at a task that could not be reached.
const UNREACHABLE_RETRY_EVERY: u64 = 6;
use crate::fleet::LogSender;

impl Discovery {
    pub async fn refresh_enrichment(
        &mut self,
        calls: &Calls<'_>,
        sender: &LogSender,
    ) -> Vec<AwsError> {
        let mut errors = Vec::new();
        // One call covers every 125 services' traffic, whose points are a minute apart: asked
        // again once a minute (GetMetricData is paid per metric), logs take a call per group,
        // in turn.
        let now = SystemTime::now();
        let traffic_due = self
            .traffic_at
            .is_none_or(|at| now.duration_since(at).unwrap_or_default() >= cloudwatch::PERIOD);
        if traffic_due {
            match cloudwatch::traffic(calls, &self.traffic_targets()).await {
                Ok(traffic) => {
                    self.traffic = traffic;
                    self.traffic_at = Some(now);
                }
                Err(error) => errors.push(error),
            }
        }
        if !stop(&errors) {
            let groups = self.log_groups();
            if let Err(error) = self.logs.read(calls, &groups, sender).await {
                errors.push(error);
            }
        }
        if !stop(&errors)
            && let Err(error) = self.refresh_stopped(calls).await
        {
            errors.push(error);
        }
        if !stop(&errors)
            && let Err(error) = self.cross_check_some(calls).await
        {
            errors.push(error);
        }
        errors.retain(|e| *e != AwsError::Budget);
        errors
    }

    fn log_groups(&self) -> Vec<Group> {
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for (service_arn, watched) in &self.services {
            let account = service_arn.split(':').nth(4).filter(|a| !a.is_empty());
            let region = service_arn.split(':').nth(3).unwrap_or_default();
            for task in self.tasks_of(watched) {
                let Some(definition) = task
                    .task_definition_arn()
                    .and_then(|a| self.definitions.get(a))
                else {
                    continue;
                };
                let task_id = mapping::short_name(task.task_arn().unwrap_or_default()).to_string();
                for container in definition.container_definitions() {
                    let Some(config) = container.log_configuration() else {
                        continue;
                    };
                    if config.log_driver().as_str() != "awslogs" {
                        continue;
                    }
                    let Some(options) = config.options() else {
                        continue;
                    };
                    let Some((group, stream)) =
                        stream_of(options, container.name().unwrap_or_default(), &task_id)
                    else {
                        continue;
                    };
                    let entry = groups.entry(group.clone()).or_insert_with(|| Group {
                        name: group.clone(),
                        streams: HashMap::new(),
                        arn: account.map(|account| {
                            format!("arn:aws:logs:{region}:{account}:log-group:{group}")
                        }),
                    });
                    entry
                        .streams
                        .insert(stream, (watched.name().to_string(), task_id.clone()));
                }
            }
        }
        groups.into_values().collect()
    }

    fn traffic_targets(&self) -> Vec<Target> {
        self.services
            .iter()
            .flat_map(|(arn, watched)| {
                let discovery = watched
                    .service
                    .deployments()
                    .iter()
                    .filter_map(|d| d.service_connect_configuration())
                    .flat_map(|c| c.services())
                    .find_map(|s| s.discovery_name().or(Some(s.port_name())))
                    .map(str::to_string);
                discovery.map(|discovery_name| Target {
                    key: arn.clone(),
                    cluster: watched.cluster_name().to_string(),
                    service: watched.name().to_string(),
                    discovery_name,
                })
            })
            .collect()
    }

    /// One page of recently stopped tasks per cluster, for stoppedReason and exit codes.
    async fn refresh_stopped(&mut self, calls: &Calls<'_>) -> Result<(), AwsError> {
        let now = SystemTime::now();
        for cluster in self.clusters.clone() {
            let groups: HashSet<String> = self
                .services
                .values()
                .filter(|w| w.cluster == cluster)
                .map(Watched::group)
                .collect();
            if groups.is_empty() {
                continue;
            }
            let arns: Vec<String> =
                api::task_arns(calls, &cluster, None, DesiredStatus::Stopped, 1)
                    .await?
                    .into_iter()
                    .filter(|arn| {
                        self.tasks
                            .get(arn)
                            .is_none_or(|t| t.last_status() != Some("STOPPED"))
                    })
                    .collect();
            for task in api::describe_tasks(calls, &cluster, &arns).await? {
                if task.group().is_some_and(|g| groups.contains(g)) {
                    self.tasks
                        .insert(task.task_arn().unwrap_or_default().to_string(), task);
                }
            }
        }
        self.prune_stopped(now);
        Ok(())
    }

    fn prune_stopped(&mut self, now: SystemTime) {
        let mut stopped: HashMap<String, Vec<(SystemTime, String)>> = HashMap::new();
        for (arn, task) in &self.tasks {
            if task.last_status() != Some("STOPPED") {
                continue;
            }
            let at = task
                .stopped_at()
                .and_then(|t| SystemTime::try_from(*t).ok())
                .unwrap_or(now);
            stopped
                .entry(task.group().unwrap_or_default().to_string())
                .or_default()
                .push((at, arn.clone()));
        }
        for (_, mut list) in stopped {
            list.sort_by_key(|entry| std::cmp::Reverse(entry.0));
            for (index, (at, arn)) in list.into_iter().enumerate() {
                let old = now.duration_since(at).unwrap_or_default() > STOPPED_SHOWN;
                if old || index >= STOPPED_PER_SERVICE {
                    self.tasks.remove(&arn);
                }
            }
        }
    }

    /// Lists Cloud Map instances of as many services as the budget allows, oldest check first.
    async fn cross_check_some(&mut self, calls: &Calls<'_>) -> Result<(), AwsError> {
        let arns: Vec<String> = self.services.keys().cloned().collect();
        for _ in 0..arns.len() {
            if calls.spend().is_err() {
                break;
            }
            let index = self.cloud_map_next % arns.len();
            let arn = &arns[index];
            let service = &self.services[arn].service;
            let mut instances = Vec::new();
            match mapping::discovery_names(service) {
                Some((namespace, name)) => {
                    instances = cloudmap::discover(calls, &namespace, &name).await?;
                }
                None => {
                    for id in mapping::discovery_service_ids(service) {
                        instances.extend(cloudmap::instances(calls, &id).await?);
                    }
                }
            }
            self.instances.insert(arn.clone(), instances);
            self.cloud_map_next = index + 1;
        }
        Ok(())
    }

    /// The running tasks to scrape for /metrics this cycle (id, address). A task found
    /// unreachable is tried again only every few cycles: from outside the VPC every task is,
    /// and waiting on a thousand connect timeouts each refresh would be all the console did.
    pub fn scrape_targets(&self) -> Vec<(String, String)> {
        let retry_unreachable = self.cycles.is_multiple_of(UNREACHABLE_RETRY_EVERY);
        let mut targets = Vec::new();
        for watched in self.services.values() {
            for task in self.tasks_of(watched) {
                if task.last_status() != Some("RUNNING") {
                    continue;
                }
                let id = mapping::short_name(task.task_arn().unwrap_or_default()).to_string();
                if !retry_unreachable && self.reach.get(&id) == Some(&Reach::Unreachable) {
                    continue;
                }
                let port = task
                    .task_definition_arn()
                    .and_then(|a| self.definitions.get(a))
                    .and_then(|d| mapping::mcp_port(d, &watched.service).ok());
                if let Some((host, port)) = port.and_then(|p| mapping::task_address(task, &p)) {
                    targets.push((id, mapping::endpoint(&host, port, "").address));
                }
            }
        }
        targets
    }

    /// What a scrape of `scrape_targets` found. Tasks left out of it because they were
    /// unreachable stay so; the rest not scraped (stopped, or a scrape abandoned) are forgotten.
    pub fn apply_scrape(&mut self, found: Vec<(String, Reach)>) {
        let mut kept: HashMap<String, Reach> = self
            .reach
            .iter()
            .filter(|(_, reach)| **reach == Reach::Unreachable)
            .map(|(id, reach)| (id.clone(), reach.clone()))
            .collect();
        for (id, reach) in found {
            let reach = match reach {
                Reach::Metrics(metrics) => Reach::Metrics(self.rates.observe(&id, metrics)),
                other => other,
            };
            kept.insert(id, reach);
        }
        let running: HashSet<String> = self
            .tasks
            .values()
            .filter(|t| t.last_status() == Some("RUNNING"))
            .map(|t| mapping::short_name(t.task_arn().unwrap_or_default()).to_string())
            .collect();
        kept.retain(|id, _| running.contains(id));
        self.rates.retain(|id| kept.contains_key(id));
        self.reach = kept;
    }
}

fn stop(errors: &[AwsError]) -> bool {
    errors
        .iter()
        .any(|e| e.is_throttling() || matches!(e, AwsError::Expired(_) | AwsError::Budget))
}
