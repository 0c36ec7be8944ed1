//! One refresh cycle: clusters → services → tasks → task definitions first (the picture), then,
//! with what the budget leaves, logs, Service Connect traffic, stopped tasks and the Cloud Map
//! cross-check. Everything fetched is kept until a later cycle fetches it again, so a failed or
//! cut-short cycle leaves the last good data in place.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::{Duration, SystemTime},
};

use aws_sdk_ecs::types::{self as ecs, DesiredStatus};

use super::{
    AwsSettings,
    client::AwsError,
    cloudmap::{self, Instance},
    cloudwatch::{self, Target},
    ecs::{self as api, Calls},
    logs::{Group, LogReader, stream_of},
    mapping,
    scrape::{self, Reach},
};
use crate::fleet::{LogSender, Traffic};

/// Stopped tasks are shown this long after they stopped (ECS keeps them about an hour).
const STOPPED_SHOWN: Duration = Duration::from_secs(60 * 60);
const STOPPED_PER_SERVICE: usize = 10;
/// Clusters are listed again this often (in cycles), in case one was added.
const CLUSTERS_EVERY: u64 = 30;

/// A service the console watches, as DescribeServices last returned it.
#[derive(Debug, Clone)]
pub struct Watched {
    pub cluster: String,
    pub service: ecs::Service,
    pub path: String,
}

impl Watched {
    pub fn name(&self) -> &str {
        self.service.service_name().unwrap_or_default()
    }

    pub fn cluster_name(&self) -> &str {
        mapping::short_name(&self.cluster)
    }

    fn group(&self) -> String {
        format!("service:{}", self.name())
    }
}

#[derive(Default)]
pub struct Fleet {
    pub clusters: Vec<String>,
    /// Keyed by service ARN.
    pub services: BTreeMap<String, Watched>,
    /// Keyed by task ARN.
    pub tasks: HashMap<String, ecs::Task>,
    /// Task definitions never change once registered: fetched once per ARN.
    pub definitions: HashMap<String, ecs::TaskDefinition>,
    /// Cloud Map instances per service ARN, with when they were listed.
    pub instances: HashMap<String, Vec<Instance>>,
    pub traffic: HashMap<String, Traffic>,
    /// What the last scrape of each task (by id) found.
    pub reach: HashMap<String, Reach>,
    /// Task definitions each service (by ARN) has completed a deployment of, oldest first.
    pub completed: HashMap<String, Vec<String>>,
    pub logs: LogReader,
    /// Which service the Cloud Map cross-check visits next.
    cloud_map_next: usize,
    pub cycles: u64,
    pub fetched_at: Option<SystemTime>,
    /// API calls the last complete picture took: the floor of the next cycle's budget.
    pub core_cost: u64,
}

impl Fleet {
    /// The part of the cycle without which there is no picture; an error aborts the cycle and
    /// leaves the previous picture in place.
    pub async fn refresh_core(
        &mut self,
        calls: &Calls<'_>,
        settings: &AwsSettings,
    ) -> Result<(), AwsError> {
        if self.clusters.is_empty() || self.cycles.is_multiple_of(CLUSTERS_EVERY) {
            self.clusters = api::clusters(calls, &settings.clusters).await?;
        }
        self.cycles += 1;
        let mut services = BTreeMap::new();
        let mut all_counts = HashMap::new();
        for cluster in &self.clusters {
            let arns = api::service_arns(calls, cluster).await?;
            for service in api::describe_services(calls, cluster, &arns).await? {
                let arn = service.service_arn().unwrap_or_default().to_string();
                let count = service.running_count() + service.pending_count();
                *all_counts.entry(cluster.clone()).or_insert(0) += count.max(0) as usize;
                if let Some(path) = mapping::mcp_path(&service, settings.all) {
                    services.insert(
                        arn,
                        Watched {
                            cluster: cluster.clone(),
                            service,
                            path,
                        },
                    );
                }
            }
        }
        let mut running = Vec::new();
        for cluster in &self.clusters {
            let watched: Vec<&Watched> = services
                .values()
                .filter(|w| w.cluster == *cluster)
                .collect();
            if watched.is_empty() {
                continue;
            }
            // One cluster-wide listing costs a page per 100 tasks of every service; a listing
            // per watched service costs at least a call each. Take the cheaper.
            let cluster_pages = all_counts
                .get(cluster)
                .copied()
                .unwrap_or(0)
                .div_ceil(100)
                .max(1);
            let per_service: usize = watched
                .iter()
                .map(|w| {
                    ((w.service.running_count() + w.service.pending_count()).max(0) as usize)
                        .div_ceil(100)
                        .max(1)
                })
                .sum();
            let arns = if cluster_pages <= per_service {
                api::task_arns(calls, cluster, None, DesiredStatus::Running, usize::MAX).await?
            } else {
                let mut arns = Vec::new();
                for w in watched {
                    arns.extend(
                        api::task_arns(
                            calls,
                            cluster,
                            Some(w.name()),
                            DesiredStatus::Running,
                            usize::MAX,
                        )
                        .await?,
                    );
                }
                arns
            };
            let groups: HashSet<String> = services
                .values()
                .filter(|w| w.cluster == *cluster)
                .map(Watched::group)
                .collect();
            for task in api::describe_tasks(calls, cluster, &arns).await? {
                if task.group().is_some_and(|g| groups.contains(g)) {
                    running.push(task);
                }
            }
        }
        let fetched_definitions = self
            .describe_definitions(calls, &services, &running)
            .await?;
        self.remember_completed(&services);
        self.services = services;
        // Tasks no longer listed as running stopped (or went away): keep the ones already
        // known as stopped; the stopped listing refreshes them when the budget allows.
        let running_arns: HashSet<String> = running
            .iter()
            .filter_map(|t| t.task_arn().map(str::to_string))
            .collect();
        self.tasks.retain(|arn, task| {
            !running_arns.contains(arn) && task.last_status() == Some("STOPPED")
        });
        for task in running {
            self.tasks
                .insert(task.task_arn().unwrap_or_default().to_string(), task);
        }
        self.fetched_at = Some(SystemTime::now());
        // Task definitions are fetched once; the next cycles will not pay for them again.
        self.core_cost = calls.budget.spent() - fetched_definitions;
        Ok(())
    }

    async fn describe_definitions(
        &mut self,
        calls: &Calls<'_>,
        services: &BTreeMap<String, Watched>,
        tasks: &[ecs::Task],
    ) -> Result<u64, AwsError> {
        let mut wanted: Vec<String> = tasks
            .iter()
            .filter_map(|t| t.task_definition_arn().map(str::to_string))
            .chain(services.values().flat_map(|w| {
                w.service
                    .deployments()
                    .iter()
                    .filter_map(|d| d.task_definition().map(str::to_string))
            }))
            .filter(|arn| !self.definitions.contains_key(arn))
            .collect();
        wanted.sort();
        wanted.dedup();
        let fetched = wanted.len() as u64;
        for arn in wanted {
            let definition = api::task_definition(calls, &arn).await?;
            self.definitions.insert(arn, definition);
        }
        Ok(fetched)
    }

    fn remember_completed(&mut self, services: &BTreeMap<String, Watched>) {
        for (arn, watched) in services {
            for deployment in watched.service.deployments() {
                if deployment.rollout_state() == Some(&ecs::DeploymentRolloutState::Completed)
                    && let Some(definition) = deployment.task_definition()
                {
                    let seen = self.completed.entry(arn.clone()).or_default();
                    if seen.last().map(String::as_str) != Some(definition) {
                        seen.retain(|d| d != definition);
                        seen.push(definition.to_string());
                    }
                }
            }
        }
    }

    /// Tasks of one watched service, running first.
    pub fn tasks_of<'a>(&'a self, watched: &Watched) -> Vec<&'a ecs::Task> {
        let group = watched.group();
        self.tasks
            .values()
            .filter(|t| {
                t.cluster_arn() == Some(watched.cluster.as_str()) || t.cluster_arn().is_none()
            })
            .filter(|t| t.group() == Some(group.as_str()))
            .collect()
    }

    /// Work that improves the picture but can wait a cycle: each part that fails is reported
    /// and the rest goes on, except throttling, which ends the cycle.
    pub async fn refresh_extras(
        &mut self,
        calls: &Calls<'_>,
        sender: &LogSender,
        http: &reqwest::Client,
    ) -> Vec<AwsError> {
        let mut errors = Vec::new();
        // One call covers every service's traffic; logs take a call per group, in turn.
        match cloudwatch::traffic(calls, &self.traffic_targets()).await {
            Ok(traffic) => self.traffic = traffic,
            Err(error) => errors.push(error),
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
        self.scrape(http).await;
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

    async fn scrape(&mut self, http: &reqwest::Client) {
        let mut targets = Vec::new();
        for watched in self.services.values() {
            for task in self.tasks_of(watched) {
                if task.last_status() != Some("RUNNING") {
                    continue;
                }
                let id = mapping::short_name(task.task_arn().unwrap_or_default()).to_string();
                let port = task
                    .task_definition_arn()
                    .and_then(|a| self.definitions.get(a))
                    .and_then(|d| mapping::mcp_port(d, &watched.service).ok());
                if let Some((host, port)) = port.and_then(|p| mapping::task_address(task, &p)) {
                    targets.push((id, mapping::endpoint(&host, port, "").address));
                }
            }
        }
        self.reach = scrape::scrape_all(http, targets)
            .await
            .into_iter()
            .collect();
    }
}

fn stop(errors: &[AwsError]) -> bool {
    errors
        .iter()
        .any(|e| e.is_throttling() || matches!(e, AwsError::Expired(_) | AwsError::Budget))
}
