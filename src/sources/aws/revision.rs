//! A deployment that changes what runs: the service's current task definition described,
//! every field RegisterTaskDefinition takes copied, the MCP container's image or environment
//! changed, and the result registered as the family's next revision — the way a deploy
//! pipeline makes one, so nothing the service had set is lost on the way.

use aws_sdk_ecs::types::{self as ecs, KeyValuePair};

use super::{
    client::{AwsError, Clients},
    mapping,
};
use crate::fleet::RevisionChange;

/// Registers `current` with `change` applied to the container that serves MCP for `service`;
/// returns the new revision's ARN.
pub async fn register(
    clients: &Clients,
    service: &ecs::Service,
    current: &str,
    change: &RevisionChange,
) -> Result<String, AwsError> {
    let described = clients
        .ecs
        .describe_task_definition()
        .task_definition(current)
        .include(ecs::TaskDefinitionField::Tags)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:DescribeTaskDefinition", e))?;
    let definition = described.task_definition().ok_or_else(|| AwsError::Api {
        operation: "ecs:DescribeTaskDefinition".into(),
        code: "Empty".into(),
        message: format!("no task definition returned for {current}"),
    })?;
    let container = serving_container(definition, service)?;
    let containers = definition
        .container_definitions()
        .iter()
        .map(|c| match c.name() == Some(container.as_str()) {
            true => changed(c, change),
            false => c.clone(),
        })
        .collect();
    let tags = described.tags().to_vec();
    let registered = clients
        .ecs
        .register_task_definition()
        .set_family(definition.family().map(str::to_string))
        .set_task_role_arn(definition.task_role_arn().map(str::to_string))
        .set_execution_role_arn(definition.execution_role_arn().map(str::to_string))
        .set_network_mode(definition.network_mode().cloned())
        .set_container_definitions(Some(containers))
        .set_volumes(non_empty(definition.volumes()))
        .set_placement_constraints(non_empty(definition.placement_constraints()))
        .set_requires_compatibilities(non_empty(definition.requires_compatibilities()))
        .set_cpu(definition.cpu().map(str::to_string))
        .set_memory(definition.memory().map(str::to_string))
        .set_tags(non_empty(&tags))
        .set_pid_mode(definition.pid_mode().cloned())
        .set_ipc_mode(definition.ipc_mode().cloned())
        .set_proxy_configuration(definition.proxy_configuration().cloned())
        .set_inference_accelerators(non_empty(definition.inference_accelerators()))
        .set_ephemeral_storage(definition.ephemeral_storage().cloned())
        .set_runtime_platform(definition.runtime_platform().cloned())
        .set_enable_fault_injection(definition.enable_fault_injection())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ecs:RegisterTaskDefinition", e))?;
    registered
        .task_definition()
        .and_then(|d| d.task_definition_arn())
        .map(str::to_string)
        .ok_or_else(|| AwsError::Api {
            operation: "ecs:RegisterTaskDefinition".into(),
            code: "Empty".into(),
            message: "no task definition ARN returned".into(),
        })
}

/// The container whose port the console reaches MCP on; a definition of one container has
/// no other candidate.
fn serving_container(
    definition: &ecs::TaskDefinition,
    service: &ecs::Service,
) -> Result<String, AwsError> {
    if let Ok(port) = mapping::mcp_port(definition, service) {
        return Ok(port.container);
    }
    match definition.container_definitions() {
        [only] => Ok(only.name().unwrap_or_default().to_string()),
        _ => Err(AwsError::Api {
            operation: "ecs:RegisterTaskDefinition".into(),
            code: "NoMcpContainer".into(),
            message: format!(
                "{} has several containers and none serves MCP on a named port, so the \
                 one to change is unknown",
                mapping::family_revision(definition.task_definition_arn().unwrap_or("?"))
            ),
        }),
    }
}

/// `container` with the image replaced and the variables set (an existing one keeps its
/// place in the list).
fn changed(
    container: &ecs::ContainerDefinition,
    change: &RevisionChange,
) -> ecs::ContainerDefinition {
    let mut environment = container.environment().to_vec();
    for (name, value) in &change.env {
        let pair = KeyValuePair::builder().name(name).value(value).build();
        match environment
            .iter_mut()
            .find(|p| p.name() == Some(name.as_str()))
        {
            Some(existing) => *existing = pair,
            None => environment.push(pair),
        }
    }
    let mut container = container.clone();
    if let Some(image) = &change.image {
        container.image = Some(image.clone());
    }
    container.environment = Some(environment);
    container
}

/// The SDK sends an empty list as a present field, which RegisterTaskDefinition may refuse
/// where the described definition simply had none.
fn non_empty<T: Clone>(items: &[T]) -> Option<Vec<T>> {
    (!items.is_empty()).then(|| items.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_replaces_the_image_and_sets_variables_in_place() {
        let pair = |n: &str, v: &str| KeyValuePair::builder().name(n).value(v).build();
        let container = ecs::ContainerDefinition::builder()
            .name("mcp")
            .image("repo/mcp:1")
            .environment(pair("A", "1"))
            .environment(pair("B", "2"))
            .memory(512)
            .build();
        let change = RevisionChange {
            env: [("A".into(), "9".into()), ("C".into(), "3".into())].into(),
            args: None,
            image: Some("repo/mcp:2".into()),
        };
        let new = changed(&container, &change);
        assert_eq!(new.image(), Some("repo/mcp:2"));
        assert_eq!(
            new.environment(),
            [pair("A", "9"), pair("B", "2"), pair("C", "3")]
        );
        assert_eq!(new.memory(), Some(512), "the rest is kept");
        let same = changed(&container, &RevisionChange::default());
        assert_eq!(same, container);
    }
}
