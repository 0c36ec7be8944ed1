//! One cluster's read, in stages that survive a cycle cut short by its budget: its services
//! listed, then described ten at a time (each batch shown as it comes), then its running tasks
//! listed and described a hundred at a time. A cluster too big for one cycle arrives over
//! several; a small one is read whole in each, whatever the big one still owes.

use std::{
    collections::{BTreeMap, HashSet},
    time::SystemTime,
};

use aws_sdk_ecs::types::{self as ecs, DesiredStatus};

use super::{
    AwsSettings,
    client::AwsError,
    ecs::{self as api, Calls, DESCRIBE_SERVICES_MAX, DESCRIBE_TASKS_MAX},
    lane::{Lane, Stage},
    mapping,
    refresh::{Discovery, Watched},
};
use crate::fleet::ClusterState;

impl Discovery {
    /// Goes on with `cluster`'s read as far as the budget allows. `Err(Budget)` leaves the
    /// read where it stopped, for the next cycle; what it described so far is already in.
    pub async fn read_cluster(
        &mut self,
        calls: &Calls<'_>,
        settings: &AwsSettings,
        cluster: &str,
    ) -> Result<(), AwsError> {
        let mut lane = self.lanes.remove(cluster).unwrap_or_default();
        let before = calls.budget.spent();
        let result = self.advance(&mut lane, calls, settings, cluster).await;
        lane.spent += calls.budget.spent() - before;
        if result.is_ok() {
            lane.cost = std::mem::take(&mut lane.spent);
        }
        self.lanes.insert(cluster.to_string(), lane);
        result
    }

    async fn advance(
        &mut self,
        lane: &mut Lane,
        calls: &Calls<'_>,
        settings: &AwsSettings,
        cluster: &str,
    ) -> Result<(), AwsError> {
        loop {
            match &mut lane.stage {
                Stage::List => {
                    let arns = api::service_arns(calls, cluster).await?;
                    lane.stage = Stage::Services {
                        arns,
                        next: 0,
                        described: HashSet::new(),
                        tasks: 0,
                    };
                }
                Stage::Services {
                    arns,
                    next,
                    described,
                    tasks,
                } => {
                    while *next < arns.len() {
                        let end = (*next + DESCRIBE_SERVICES_MAX).min(arns.len());
                        let batch = api::describe_services(calls, cluster, &arns[*next..end]);
                        for service in batch.await? {
                            let count = service.running_count() + service.pending_count();
                            *tasks += count.max(0) as usize;
                            let Some(path) = mapping::mcp_path(&service, settings.all) else {
                                continue;
                            };
                            let arn = service.service_arn().unwrap_or_default().to_string();
                            described.insert(arn.clone());
                            let watched = Watched {
                                cluster: cluster.to_string(),
                                service,
                                path,
                            };
                            self.services.insert(arn, watched);
                        }
                        *next = end;
                    }
                    // Read whole: services no longer listed are gone.
                    self.services
                        .retain(|arn, w| w.cluster != cluster || described.contains(arn));
                    lane.stage = Stage::Tasks {
                        arns: None,
                        next: 0,
                        running: Vec::new(),
                        tasks: *tasks,
                    };
                }
                Stage::Tasks {
                    arns,
                    next,
                    running,
                    tasks,
                } => {
                    let groups: HashSet<String> = self
                        .services
                        .values()
                        .filter(|w| w.cluster == cluster)
                        .map(Watched::group)
                        .collect();
                    if groups.is_empty() {
                        *arns = Some(Vec::new());
                    }
                    if arns.is_none() {
                        *arns = Some(self.running_arns(calls, cluster, *tasks).await?);
                    }
                    let listed = arns.as_deref().unwrap_or_default();
                    while *next < listed.len() {
                        let end = (*next + DESCRIBE_TASKS_MAX).min(listed.len());
                        for task in api::describe_tasks(calls, cluster, &listed[*next..end]).await?
                        {
                            if task.group().is_some_and(|g| groups.contains(g)) {
                                running.push(task);
                            }
                        }
                        *next = end;
                    }
                    let running = std::mem::take(running);
                    self.replace_running(cluster, running);
                    lane.fetched_at = Some(SystemTime::now());
                    lane.stage = Stage::List;
                    return Ok(());
                }
            }
        }
    }

    /// One cluster-wide listing costs a page per 100 tasks of every service; a listing per
    /// watched service costs at least a call each. Takes the cheaper.
    async fn running_arns(
        &self,
        calls: &Calls<'_>,
        cluster: &str,
        tasks: usize,
    ) -> Result<Vec<String>, AwsError> {
        let watched: Vec<&Watched> = self
            .services
            .values()
            .filter(|w| w.cluster == cluster)
            .collect();
        let cluster_pages = tasks.div_ceil(100).max(1);
        let per_service: usize = watched
            .iter()
            .map(|w| {
                ((w.service.running_count() + w.service.pending_count()).max(0) as usize)
                    .div_ceil(100)
                    .max(1)
            })
            .sum();
        if cluster_pages <= per_service {
            return api::task_arns(calls, cluster, None, DesiredStatus::Running, usize::MAX).await;
        }
        let mut arns = Vec::new();
        for w in watched {
            let service = Some(w.name());
            let listed =
                api::task_arns(calls, cluster, service, DesiredStatus::Running, usize::MAX);
            arns.extend(listed.await?);
        }
        Ok(arns)
    }

    /// The cluster's running tasks as just read; tasks it no longer runs are kept only when
    /// already known as stopped (the stopped listing refreshes those when the budget allows).
    fn replace_running(&mut self, cluster: &str, running: Vec<ecs::Task>) {
        let running_arns: HashSet<&str> = running.iter().filter_map(|t| t.task_arn()).collect();
        self.tasks.retain(|arn, task| {
            let here = task.cluster_arn().is_none_or(|c| c == cluster);
            !here || (!running_arns.contains(arn.as_str()) && task.last_status() == Some("STOPPED"))
        });
        for task in running {
            self.tasks
                .insert(task.task_arn().unwrap_or_default().to_string(), task);
        }
    }

    /// Each cluster's state, for the snapshot.
    pub fn cluster_states(&self) -> Vec<ClusterState> {
        let missing = self.definitions_missing();
        self.clusters
            .iter()
            .map(|cluster| {
                let lane = self.lanes.get(cluster);
                let missing = missing.get(cluster.as_str()).copied().unwrap_or(0);
                let name = mapping::short_name(cluster);
                match lane {
                    Some(lane) => lane.state(name, missing),
                    None => Lane::default().state(name, missing),
                }
            })
            .collect()
    }

    /// Running tasks per cluster whose task definition is not read yet.
    fn definitions_missing(&self) -> BTreeMap<&str, usize> {
        let mut missing = BTreeMap::new();
        for task in self.tasks.values() {
            let Some(definition) = task.task_definition_arn() else {
                continue;
            };
            if task.last_status() != Some("STOPPED") && !self.definitions.contains_key(definition) {
                *missing
                    .entry(task.cluster_arn().unwrap_or_default())
                    .or_insert(0) += 1;
            }
        }
        missing
    }

    /// Whether the service shown as `name` has running tasks whose endpoints are unknown (or
    /// is not read yet at all).
    pub fn unread(&self, name: Option<&str>) -> bool {
        let Some(name) = name else { return false };
        let Some(watched) = self.arn_of(name).and_then(|arn| self.services.get(&arn)) else {
            return true;
        };
        self.tasks_of(watched).iter().any(|t| {
            t.last_status() != Some("STOPPED")
                && t.task_definition_arn()
                    .is_some_and(|d| !self.definitions.contains_key(d))
        })
    }

    /// Still arriving: a cluster never read whole, or a running task's definition unread.
    pub fn catching_up(&self) -> bool {
        self.clusters.is_empty() || self.cluster_states().iter().any(ClusterState::loading)
    }
}
