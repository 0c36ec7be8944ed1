//! One refresh cycle's core: clusters → services → tasks → task definitions, the picture
//! itself (`enrich` adds to it with what the budget leaves). Everything fetched is kept until a
//! later cycle fetches it again, so a failed or cut-short cycle leaves the last good data in
//! place.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::{Duration, SystemTime},
};

use aws_sdk_ecs::types::{self as ecs, DesiredStatus};

use super::{
    AwsSettings,
    client::AwsError,
    cloudmap::Instance,
    ecs::{self as api, Calls},
    logs::LogReader,
    mapping,
    scrape::Reach,
};
use crate::fleet::Traffic;

/// Stopped tasks are shown this long after they stopped (ECS keeps them about an hour).
pub(super) const STOPPED_SHOWN: Duration = Duration::from_secs(60 * 60);
pub(super) const STOPPED_PER_SERVICE: usize = 10;
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

    pub(super) fn group(&self) -> String {
        format!("service:{}", self.name())
    }
}

/// What the AWS source has learned of the account so far, in the SDK's shapes: the watched
/// services, their tasks and task definitions, Cloud Map instances, traffic, what each task's
/// /metrics answered, and the log reader. The snapshot is built from it (`snapshot.rs`).
#[derive(Default)]
pub struct Discovery {
    pub clusters: Vec<String>,
    /// Keyed by service ARN.
    pub services: BTreeMap<String, Watched>,
    /// Keyed by task ARN.
    pub tasks: HashMap<String, ecs::Task>,
    /// Task definitions never change once registered: fetched once per ARN.
    pub definitions: HashMap<String, ecs::TaskDefinition>,
    /// Cloud Map instances per service ARN, as last listed.
    pub instances: HashMap<String, Vec<Instance>>,
    pub traffic: HashMap<String, Traffic>,
    /// What the last scrape of each task (by id) found.
    pub reach: HashMap<String, Reach>,
    /// The scrapes each task's call rates come from.
    pub rates: crate::fleet::trends::RateBook,
    /// Task definitions each service (by ARN) has completed a deployment of, oldest first.
    pub completed: HashMap<String, Vec<String>>,
    pub logs: LogReader,
    /// Which service the Cloud Map cross-check visits next.
    pub(super) cloud_map_next: usize,
    pub cycles: u64,
    pub fetched_at: Option<SystemTime>,
    /// API calls the last complete picture took: the floor of the next cycle's budget.
    pub core_cost: u64,
}

impl Discovery {
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
}
