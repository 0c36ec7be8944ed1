//! ECS calls, batched to the API maxima: ListServices and ListTasks 100 per page,
//! DescribeServices 10 per call, DescribeTasks 100 per call. Every call first asks the cycle's
//! budget, so a refresh can never spend more than it was given.

use aws_sdk_ecs::types::{self as ecs, DesiredStatus, ServiceField};

use super::{
    client::{AwsError, Clients, MAX_ATTEMPTS},
    counters::Budget,
};

const LIST_PAGE: i32 = 100;
pub const DESCRIBE_SERVICES_MAX: usize = 10;
pub const DESCRIBE_TASKS_MAX: usize = 100;

/// The clients and the budget of one refresh cycle.
pub struct Calls<'a> {
    pub clients: &'a Clients,
    pub budget: &'a Budget,
}

impl Calls<'_> {
    pub fn spend(&self) -> Result<(), AwsError> {
        if self.budget.allows(u64::from(MAX_ATTEMPTS)) {
            Ok(())
        } else {
            Err(AwsError::Budget)
        }
    }

    /// Follows a listing's next tokens for at most `max_pages` pages, asking the budget before
    /// each one. `fetch` asks for the page after the given token and returns its items and
    /// the next token.
    pub async fn pages<T, F, Fut>(&self, max_pages: usize, mut fetch: F) -> Result<Vec<T>, AwsError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
    {
        let mut items = Vec::new();
        let mut token = None;
        for _ in 0..max_pages {
            self.spend()?;
            let (page, next) = fetch(token.take()).await?;
            items.extend(page);
            token = next;
            if token.is_none() {
                break;
            }
        }
        Ok(items)
    }
}

/// The clusters to watch: the configured ones (checked to exist), else every cluster.
pub async fn clusters(calls: &Calls<'_>, configured: &[String]) -> Result<Vec<String>, AwsError> {
    if configured.is_empty() {
        let arns = calls
            .pages(usize::MAX, |token| {
                let request = calls
                    .clients
                    .ecs
                    .list_clusters()
                    .max_results(LIST_PAGE)
                    .set_next_token(token);
                async move {
                    let page = request
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("ecs:ListClusters", e))?;
                    Ok((
                        page.cluster_arns().to_vec(),
                        page.next_token().map(str::to_string),
                    ))
                }
            })
            .await?;
        if arns.is_empty() {
            return Err(AwsError::Config(format!(
                "no ECS clusters in {}; pass --cluster or check the region",
                calls.clients.region
            )));
        }
        return Ok(arns);
    }
    calls.spend()?;
    let answer = calls
        .clients
        .ecs
        .describe_clusters()
        .set_clusters(Some(configured.to_vec()))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:DescribeClusters", e))?;
    let missing: Vec<&str> = answer
        .failures()
        .iter()
        .filter_map(|f| f.arn())
        .map(super::mapping::short_name)
        .collect();
    let inactive: Vec<&str> = answer
        .clusters()
        .iter()
        .filter(|c| c.status() != Some("ACTIVE"))
        .filter_map(|c| c.cluster_name())
        .collect();
    if !missing.is_empty() || !inactive.is_empty() {
        let names: Vec<&str> = missing.into_iter().chain(inactive).collect();
        return Err(AwsError::Config(format!(
            "no active ECS cluster named {} in {}; check --cluster and --region",
            names.join(", "),
            calls.clients.region
        )));
    }
    Ok(answer
        .clusters()
        .iter()
        .filter_map(|c| c.cluster_arn().map(str::to_string))
        .collect())
}

pub async fn service_arns(calls: &Calls<'_>, cluster: &str) -> Result<Vec<String>, AwsError> {
    calls
        .pages(usize::MAX, |token| {
            let request = calls
                .clients
                .ecs
                .list_services()
                .cluster(cluster)
                .max_results(LIST_PAGE)
                .set_next_token(token);
            async move {
                let page = request
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ecs:ListServices", e))?;
                Ok((
                    page.service_arns().to_vec(),
                    page.next_token().map(str::to_string),
                ))
            }
        })
        .await
}

pub async fn describe_services(
    calls: &Calls<'_>,
    cluster: &str,
    arns: &[String],
) -> Result<Vec<ecs::Service>, AwsError> {
    let mut services = Vec::new();
    for chunk in arns.chunks(DESCRIBE_SERVICES_MAX) {
        calls.spend()?;
        let answer = calls
            .clients
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeServices", e))?;
        services.extend(answer.services().iter().cloned());
    }
    Ok(services)
}

/// Task ARNs with `desired` status, of the whole cluster or of one service.
pub async fn task_arns(
    calls: &Calls<'_>,
    cluster: &str,
    service: Option<&str>,
    desired: DesiredStatus,
    max_pages: usize,
) -> Result<Vec<String>, AwsError> {
    calls
        .pages(max_pages, |token| {
            let request = calls
                .clients
                .ecs
                .list_tasks()
                .cluster(cluster)
                .set_service_name(service.map(str::to_string))
                .desired_status(desired.clone())
                .max_results(LIST_PAGE)
                .set_next_token(token);
            async move {
                let page = request
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ecs:ListTasks", e))?;
                Ok((
                    page.task_arns().to_vec(),
                    page.next_token().map(str::to_string),
                ))
            }
        })
        .await
}

pub async fn describe_tasks(
    calls: &Calls<'_>,
    cluster: &str,
    arns: &[String],
) -> Result<Vec<ecs::Task>, AwsError> {
    let mut tasks = Vec::new();
    for chunk in arns.chunks(DESCRIBE_TASKS_MAX) {
        calls.spend()?;
        let answer = calls
            .clients
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeTasks", e))?;
        tasks.extend(answer.tasks().iter().cloned());
    }
    Ok(tasks)
}

pub async fn task_definition(
    calls: &Calls<'_>,
    arn: &str,
) -> Result<ecs::TaskDefinition, AwsError> {
    calls.spend()?;
    let answer = calls
        .clients
        .ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:DescribeTaskDefinition", e))?;
    answer
        .task_definition()
        .cloned()
        .ok_or_else(|| AwsError::Api {
            operation: "ecs:DescribeTaskDefinition".into(),
            code: "Empty".into(),
            message: format!("no task definition returned for {arn}"),
        })
}

/// The task definition of the newest SUCCESSFUL service deployment other than `current`, from
/// the service-deployment history. `Ok(None)` when the endpoint does not offer that API (older
/// regions, emulators) or the history has none.
pub async fn last_successful_definition(
    clients: &Clients,
    cluster: &str,
    service: &str,
    current: &str,
) -> Result<Option<String>, AwsError> {
    let listed = clients
        .ecs
        .list_service_deployments()
        .cluster(cluster)
        .service(service)
        .status(ecs::ServiceDeploymentStatus::Successful)
        .send()
        .await;
    let listed = match listed {
        Ok(listed) => listed,
        // Unsupported by the endpoint: fall back to what DescribeServices shows.
        Err(_) => return Ok(None),
    };
    let arns: Vec<String> = listed
        .service_deployments()
        .iter()
        .filter_map(|d| d.service_deployment_arn().map(str::to_string))
        .collect();
    if arns.is_empty() {
        return Ok(None);
    }
    let described = clients
        .ecs
        .describe_service_deployments()
        .set_service_deployment_arns(Some(arns))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:DescribeServiceDeployments", e))?;
    let mut deployments: Vec<_> = described.service_deployments().iter().collect();
    deployments.sort_by_key(|d| std::cmp::Reverse(d.finished_at().map(|t| t.secs())));
    // A service revision ARN names the revision, not the task definition; the task definition
    // comes from describing the revision.
    for deployment in deployments {
        let Some(revision) = deployment.target_service_revision().and_then(|r| r.arn()) else {
            continue;
        };
        let revisions = clients
            .ecs
            .describe_service_revisions()
            .service_revision_arns(revision)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:DescribeServiceRevisions", e))?;
        if let Some(definition) = revisions
            .service_revisions()
            .iter()
            .filter_map(|r| r.task_definition())
            .find(|d| *d != current)
        {
            return Ok(Some(definition.to_string()));
        }
    }
    Ok(None)
}
