//! One refresh cycle's core: clusters → services → tasks (each cluster's read in `lanes`) →
//! task definitions, the picture itself (`enrich` adds to it with what the budget leaves).
//! Everything fetched is kept until a later cycle fetches it again, so a failed or cut-short
//! cycle leaves the last good data in place.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::{Duration, SystemTime},
};

use aws_sdk_ecs::types as ecs;

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
    /// When the traffic was last fetched.
    pub traffic_at: Option<SystemTime>,
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
    /// Each cluster's read, by cluster ARN.
    pub lanes: HashMap<String, super::lane::Lane>,
}

impl Discovery {
    /// The part of the cycle without which there is no picture: each cluster's read taken
    /// as far as its share of the budget goes (the focused cluster first, then the one read
    /// longest ago), what is left to the reads still unfinished, then task definitions, the
    /// focused service's first. Running out of budget is no error: the reads go on next
    /// cycle. Any other error aborts the cycle and leaves what was read in place.
    pub async fn refresh_core(
        &mut self,
        calls: &Calls<'_>,
        settings: &AwsSettings,
        focus: Option<&str>,
    ) -> Result<(), AwsError> {
        if self.clusters.is_empty() || self.cycles.is_multiple_of(CLUSTERS_EVERY) {
            self.clusters = api::clusters(calls, &settings.clusters).await?;
            self.lanes
                .retain(|cluster, _| self.clusters.contains(cluster));
        }
        self.cycles += 1;
        let focused = focus.and_then(|name| self.arn_of(name));
        let order = self.reading_order(focused.as_deref(), settings);
        let mut unfinished = Vec::new();
        for (index, cluster) in order.iter().enumerate() {
            let budget = calls.budget.share((order.len() - index) as u64);
            let share = Calls {
                clients: calls.clients,
                budget: &budget,
            };
            match self.read_cluster(&share, settings, cluster).await {
                Ok(()) => {}
                Err(AwsError::Budget) => unfinished.push(cluster.clone()),
                Err(error) => return Err(error),
            }
        }
        for cluster in unfinished {
            match self.read_cluster(calls, settings, &cluster).await {
                Ok(()) => {}
                Err(AwsError::Budget) => break,
                Err(error) => return Err(error),
            }
        }
        self.remember_completed();
        match self.describe_definitions(calls, focused.as_deref()).await {
            Ok(()) | Err(AwsError::Budget) => {}
            Err(error) => return Err(error),
        }
        self.fetched_at = Some(SystemTime::now());
        Ok(())
    }

    /// The name the console shows for a service: plain over one cluster, `cluster/service`
    /// over several (names repeat across clusters).
    pub fn display_name(&self, watched: &Watched) -> String {
        if self.clusters.len() > 1 {
            format!("{}/{}", watched.cluster_name(), watched.name())
        } else {
            watched.name().to_string()
        }
    }

    /// The ARN of the service the console shows as `name`.
    pub(super) fn arn_of(&self, name: &str) -> Option<String> {
        self.services
            .iter()
            .find(|(_, w)| self.display_name(w) == name)
            .map(|(arn, _)| arn.clone())
    }

    /// The clusters to read this cycle: those with a read under way or due (`Lane::due`; a
    /// cycle that comes sooner, catching up, goes to task definitions). The focused
    /// service's cluster first, then those never read, then the cheapest: a small cluster is
    /// read at the start of every cycle, and a big one still gets its share and the rest.
    fn reading_order(&self, focused: Option<&str>, settings: &AwsSettings) -> Vec<String> {
        let focused_cluster = focused
            .and_then(|arn| self.services.get(arn))
            .map(|w| w.cluster.clone());
        let now = SystemTime::now();
        let interval = Duration::from_secs(settings.interval_secs.max(1));
        let mut order: Vec<String> = self
            .clusters
            .iter()
            .filter(|cluster| {
                self.lanes.get(*cluster).is_none_or(|lane| {
                    lane.reading() || lane.due(now, interval, settings.cycle_budget)
                })
            })
            .cloned()
            .collect();
        order.sort_by_key(|cluster| {
            let lane = self.lanes.get(cluster);
            let read = lane.is_some_and(|l| l.fetched_at.is_some());
            let cost = lane.map_or(0, |l| l.cost);
            (Some(cluster) != focused_cluster.as_ref(), read, cost)
        });
        order
    }

    /// Task definitions not read yet, the focused service's first, then the running tasks'
    /// in service order, then the deployments'. Each is read once: they never change.
    async fn describe_definitions(
        &mut self,
        calls: &Calls<'_>,
        focused: Option<&str>,
    ) -> Result<(), AwsError> {
        let focused = focused.and_then(|arn| self.services.get(arn));
        let of_service = |w: &Watched| -> Vec<String> {
            let running = self
                .tasks_of(w)
                .into_iter()
                .filter(|t| t.last_status() != Some("STOPPED"))
                .filter_map(|t| t.task_definition_arn().map(str::to_string));
            let deployed = w
                .service
                .deployments()
                .iter()
                .filter_map(|d| d.task_definition().map(str::to_string));
            running.chain(deployed).collect()
        };
        let mut wanted: Vec<String> = focused.map(of_service).unwrap_or_default();
        wanted.extend(self.services.values().flat_map(of_service));
        let mut seen = HashSet::new();
        wanted.retain(|arn| !self.definitions.contains_key(arn) && seen.insert(arn.clone()));
        for arn in wanted {
            let definition = api::task_definition(calls, &arn).await?;
            self.definitions.insert(arn, definition);
        }
        Ok(())
    }

    fn remember_completed(&mut self) {
        for (arn, watched) in &self.services {
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
