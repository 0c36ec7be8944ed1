//! The Cloud Map side of discovery: which instances are registered for a service's Service
//! Connect (or service registry), to cross-check against the running tasks. DiscoverInstances
//! (the data plane, with the higher rate limit) when the namespace is known by name, else
//! ListInstances by the Cloud Map service id.

use std::collections::HashMap;

use aws_sdk_servicediscovery::types::HealthStatusFilter;

use super::{client::AwsError, ecs::Calls};

/// DiscoverInstances answers at most this many instances (it has no paging).
const DISCOVER_MAX: i32 = 1000;

fn instance(id: Option<&str>, attributes: Option<&HashMap<String, String>>) -> Instance {
    let attribute = |key: &str| attributes.and_then(|a| a.get(key)).cloned();
    let address = match (
        attribute("AWS_INSTANCE_IPV4"),
        attribute("AWS_INSTANCE_PORT"),
    ) {
        (Some(ip), Some(port)) => Some(format!("{ip}:{port}")),
        (Some(ip), None) => Some(ip),
        _ => None,
    };
    Instance {
        id: id.unwrap_or_default().to_string(),
        address,
    }
}

/// Every registered instance of `service` in the namespace named `namespace`, healthy or not.
pub async fn discover(
    calls: &Calls<'_>,
    namespace: &str,
    service: &str,
) -> Result<Vec<Instance>, AwsError> {
    calls.spend()?;
    let answer = calls
        .clients
        .cloudmap
        .discover_instances()
        .namespace_name(namespace)
        .service_name(service)
        .health_status(HealthStatusFilter::All)
        .max_results(DISCOVER_MAX)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("servicediscovery:DiscoverInstances", e))?;
    Ok(answer
        .instances()
        .iter()
        .map(|i| instance(i.instance_id(), i.attributes()))
        .collect())
}

/// One registered instance: the id (ECS uses the task id) and the address it advertises.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub id: String,
    pub address: Option<String>,
}

pub async fn instances(calls: &Calls<'_>, service_id: &str) -> Result<Vec<Instance>, AwsError> {
    calls
        .pages(usize::MAX, |token| {
            let request = calls
                .clients
                .cloudmap
                .list_instances()
                .service_id(service_id)
                .max_results(100)
                .set_next_token(token);
            async move {
                let page = request
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("servicediscovery:ListInstances", e))?;
                let found = page
                    .instances()
                    .iter()
                    .map(|i| instance(i.id(), i.attributes()))
                    .collect();
                Ok((found, page.next_token().map(str::to_string)))
            }
        })
        .await
}

/// Marks running tasks that are not registered and registered instances with no running task.
/// Returns (task ids not registered, notes for the service).
pub fn cross_check(
    instances: &[Instance],
    running: &[(String, Option<String>)],
) -> (Vec<String>, Vec<String>) {
    let registered = |(id, address): &(String, Option<String>)| {
        instances.iter().any(|i| {
            i.id == *id || (address.is_some() && i.address.as_deref() == address.as_deref())
        })
    };
    let unregistered = running
        .iter()
        .filter(|task| !registered(task))
        .map(|(id, _)| id.clone())
        .collect();
    let orphans = instances
        .iter()
        .filter(|i| {
            !running.iter().any(|(id, address)| {
                i.id == *id || (address.is_some() && i.address.as_deref() == address.as_deref())
            })
        })
        .map(|i| {
            format!(
                "Cloud Map instance {} ({}) has no running task",
                i.id,
                i.address.as_deref().unwrap_or("no address")
            )
        })
        .collect();
    (unregistered, orphans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(id: &str, address: &str) -> Instance {
        Instance {
            id: id.into(),
            address: Some(address.into()),
        }
    }

    #[test]
    fn finds_both_kinds_of_mismatch() {
        let instances = [
            instance("a", "10.0.0.1:8080"),
            instance("zombie", "10.0.0.9:8080"),
        ];
        let running = [
            ("a".to_string(), Some("10.0.0.1:8080".to_string())),
            ("b".to_string(), Some("10.0.0.2:8080".to_string())),
        ];
        let (unregistered, notes) = cross_check(&instances, &running);
        assert_eq!(unregistered, ["b"]);
        assert_eq!(
            notes,
            ["Cloud Map instance zombie (10.0.0.9:8080) has no running task"]
        );
    }

    #[test]
    fn an_instance_matches_by_address_when_ids_differ() {
        let instances = [instance("i-123", "10.0.0.1:8080")];
        let running = [("task1".to_string(), Some("10.0.0.1:8080".to_string()))];
        assert_eq!(cross_check(&instances, &running), (vec![], vec![]));
    }
}
