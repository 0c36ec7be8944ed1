//! The operator's commands as ECS calls: scale and force-deploy are UpdateService, a deploy
//! that changes the image or environment registers a new revision first (`revision.rs`),
//! rollback is
//! UpdateService to the task definition of the last COMPLETED deployment, stop is StopTask with
//! a reason that names mcpfleet and the local user. Actions are not budgeted: an operator asked.

use super::{
    client::{AwsError, Clients},
    ecs::last_successful_definition,
    mapping,
    refresh::{Discovery, Watched},
    revision, snapshot,
};
use crate::fleet::{Command, CommandError};

fn failed(error: AwsError) -> CommandError {
    CommandError::Refused(error.to_string())
}

/// Who is asking, for StopTask's reason: `$USER` (or `$LOGNAME`) on this machine.
fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown user".into())
}

/// The reason recorded with StopTask: the operator's own words when they already name
/// mcpfleet (the console's confirm dialog does), else those words with who and how.
pub fn stop_reason(reason: &str) -> String {
    let base = format!("Stopped by {} with mcpfleet", local_user());
    let text = match reason.trim() {
        "" => base,
        reason if reason.contains("mcpfleet") => reason.to_string(),
        reason => format!("{base}: {reason}"),
    };
    // StopTask accepts up to 255 characters.
    text.chars().take(255).collect()
}

pub async fn execute(
    clients: &Clients,
    discovery: &Discovery,
    command: &Command,
) -> Result<String, CommandError> {
    let name = command.service();
    let arns = snapshot::service_arns(discovery);
    let arn = arns
        .get(name)
        .ok_or_else(|| CommandError::UnknownService(name.to_string()))?;
    let watched = &discovery.services[arn];
    let cluster = watched.cluster.clone();
    let service = watched.name().to_string();
    match command {
        Command::Scale { desired, .. } => {
            let previous = watched.service.desired_count();
            clients
                .ecs
                .update_service()
                .cluster(&cluster)
                .service(&service)
                .desired_count(i32::try_from(*desired).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(|e| failed(AwsError::from_sdk("ecs:UpdateService", e)))?;
            Ok(format!("{name}: desired count {previous} → {desired}"))
        }
        Command::Deploy { change, .. } => {
            if change.args.is_some() {
                return Err(CommandError::Refused(
                    "on ECS the container's command is its image's or the task definition's; \
                     mcpfleet changes only the image and the environment"
                        .into(),
                ));
            }
            let update = clients
                .ecs
                .update_service()
                .cluster(&cluster)
                .service(&service);
            let (update, what) = match change.is_empty() {
                true => (
                    update.force_new_deployment(true),
                    "force new deployment".to_string(),
                ),
                false => {
                    let current = primary_definition(watched);
                    let new = revision::register(clients, &watched.service, &current, change)
                        .await
                        .map_err(failed)?;
                    let what = format!(
                        "revision {}, was {}",
                        mapping::family_revision(&new),
                        mapping::family_revision(&current)
                    );
                    (update.task_definition(new), what)
                }
            };
            let answer = update
                .send()
                .await
                .map_err(|e| failed(AwsError::from_sdk("ecs:UpdateService", e)))?;
            let id = answer
                .service()
                .and_then(|s| {
                    s.deployments()
                        .iter()
                        .find(|d| d.status() == Some("PRIMARY"))
                })
                .and_then(|d| d.id())
                .unwrap_or("a new deployment");
            Ok(format!("{name}: deployment {id} started ({what})"))
        }
        Command::Rollback { .. } => {
            let current = primary_definition(watched);
            let target =
                rollback_target(clients, discovery, arn, &cluster, &service, &current).await?;
            let Some(target) = target else {
                return Err(CommandError::Refused(format!(
                    "{name} has no earlier completed deployment to roll back to"
                )));
            };
            clients
                .ecs
                .update_service()
                .cluster(&cluster)
                .service(&service)
                .task_definition(&target)
                .send()
                .await
                .map_err(|e| failed(AwsError::from_sdk("ecs:UpdateService", e)))?;
            Ok(format!(
                "{name}: rolling back to {} (was {})",
                mapping::family_revision(&target),
                mapping::family_revision(&current)
            ))
        }
        Command::StopTask {
            task_id, reason, ..
        } => {
            let task = discovery
                .tasks_of(watched)
                .into_iter()
                .filter(|t| t.last_status() != Some("STOPPED"))
                .find(|t| {
                    let id = mapping::short_name(t.task_arn().unwrap_or_default());
                    id == task_id || id.starts_with(task_id.as_str())
                })
                .and_then(|t| t.task_arn())
                .ok_or_else(|| CommandError::UnknownTask {
                    service: name.to_string(),
                    task: task_id.clone(),
                })?
                .to_string();
            clients
                .ecs
                .stop_task()
                .cluster(&cluster)
                .task(&task)
                .reason(stop_reason(reason))
                .send()
                .await
                .map_err(|e| failed(AwsError::from_sdk("ecs:StopTask", e)))?;
            Ok(format!(
                "{name}: stopping task {}",
                mapping::short_name(&task)
            ))
        }
    }
}

/// The task definition the service's PRIMARY deployment runs.
fn primary_definition(watched: &Watched) -> String {
    watched
        .service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .and_then(|d| d.task_definition())
        .or(watched.service.task_definition())
        .unwrap_or_default()
        .to_string()
}

/// The task definition to roll back to: the deployment history where the endpoint has it,
/// else an ACTIVE deployment that had completed (a rollout in progress), else the newest other
/// definition this console saw a deployment complete with.
async fn rollback_target(
    clients: &Clients,
    discovery: &Discovery,
    arn: &str,
    cluster: &str,
    service: &str,
    current: &str,
) -> Result<Option<String>, CommandError> {
    if let Some(found) = last_successful_definition(clients, cluster, service, current)
        .await
        .map_err(failed)?
    {
        return Ok(Some(found));
    }
    let watched = &discovery.services[arn];
    let active = watched
        .service
        .deployments()
        .iter()
        .filter(|d| d.status() == Some("ACTIVE"))
        .filter_map(|d| d.task_definition())
        .find(|d| *d != current);
    if let Some(active) = active {
        return Ok(Some(active.to_string()));
    }
    Ok(discovery
        .completed
        .get(arn)
        .and_then(|seen| seen.iter().rev().find(|d| *d != current))
        .cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reason_names_the_tool_and_the_user() {
        let reason = stop_reason("stuck on a call");
        assert!(reason.contains("mcpfleet"), "{reason}");
        assert!(reason.ends_with(": stuck on a call"), "{reason}");
        assert!(stop_reason(&"x".repeat(400)).chars().count() <= 255);
        let own = "stopped from mcpfleet by ana";
        assert_eq!(stop_reason(own), own);
    }
}
