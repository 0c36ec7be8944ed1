//! Who this replica is: read once at start from ECS task metadata v4 when
//! `ECS_CONTAINER_METADATA_URI_V4` is set, otherwise made up from local facts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Identity {
    /// Short name of this replica: the ECS task id, or the local replica name.
    pub replica: String,
    /// `ecs` when read from task metadata, `local` otherwise.
    pub source: String,
    pub task_arn: Option<String>,
    pub task_id: String,
    pub cluster: Option<String>,
    /// Task definition family and revision, e.g. `mcpfleet-server:7`.
    pub task_definition: Option<String>,
    pub revision: Option<String>,
    pub availability_zone: Option<String>,
    pub image: Option<String>,
    /// Private IPv4 addresses of the task's network interfaces.
    pub addresses: Vec<String>,
    pub started_at_unix_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("task metadata request to {url} failed: {source}")]
    Request { url: String, source: reqwest::Error },
}

/// The subset of the v4 task metadata response this server uses.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskMetadata {
    #[serde(rename = "TaskARN")]
    task_arn: String,
    cluster: Option<String>,
    family: Option<String>,
    revision: Option<String>,
    availability_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerMetadata {
    image: Option<String>,
    #[serde(default)]
    networks: Vec<ContainerNetwork>,
}

#[derive(Deserialize)]
struct ContainerNetwork {
    #[serde(rename = "IPv4Addresses", default)]
    ipv4_addresses: Vec<String>,
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

impl Identity {
    /// Reads ECS task metadata when available; falls back to local values (and says why in the
    /// log) so a replica always starts.
    pub async fn discover(replica: Option<&str>) -> Self {
        if let Ok(uri) = std::env::var("ECS_CONTAINER_METADATA_URI_V4") {
            match Self::from_ecs(&uri).await {
                Ok(identity) => return identity,
                Err(error) => tracing::warn!(%error, "using local identity"),
            }
        }
        Self::local(replica)
    }

    pub fn local(replica: Option<&str>) -> Self {
        let replica = replica
            .map(str::to_string)
            .unwrap_or_else(|| format!("local-{}", std::process::id()));
        Self {
            task_id: replica.clone(),
            replica,
            source: "local".into(),
            task_arn: None,
            cluster: None,
            task_definition: None,
            revision: std::env::var("MCPFLEET_REVISION").ok(),
            availability_zone: None,
            image: None,
            addresses: vec!["127.0.0.1".into()],
            started_at_unix_ms: now_unix_ms(),
        }
    }

    async fn from_ecs(uri: &str) -> Result<Self, IdentityError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("static client configuration is valid");
        let get = |url: String| {
            let client = client.clone();
            async move {
                let response = client
                    .get(&url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status());
                match response {
                    Ok(response) => Ok(response),
                    Err(source) => Err(IdentityError::Request { url, source }),
                }
            }
        };
        let task_url = format!("{uri}/task");
        let task: TaskMetadata = get(task_url.clone())
            .await?
            .json()
            .await
            .map_err(|source| IdentityError::Request {
                url: task_url,
                source,
            })?;
        let container: ContainerMetadata =
            get(uri.to_string())
                .await?
                .json()
                .await
                .map_err(|source| IdentityError::Request {
                    url: uri.to_string(),
                    source,
                })?;
        let task_id = task
            .task_arn
            .rsplit('/')
            .next()
            .unwrap_or(&task.task_arn)
            .to_string();
        let task_definition = match (&task.family, &task.revision) {
            (Some(family), Some(revision)) => Some(format!("{family}:{revision}")),
            _ => None,
        };
        Ok(Self {
            replica: task_id.clone(),
            source: "ecs".into(),
            task_id,
            task_arn: Some(task.task_arn),
            cluster: task.cluster,
            task_definition,
            revision: task.revision,
            availability_zone: task.availability_zone,
            image: container.image,
            addresses: container
                .networks
                .into_iter()
                .flat_map(|n| n.ipv4_addresses)
                .collect(),
            started_at_unix_ms: now_unix_ms(),
        })
    }

    /// The `Served-By` response header's value: an RFC 8941 dictionary naming this replica, so a
    /// client behind a load balancer or a Service Connect alias can tell which task answered.
    /// `task` is always there; `revision` (an integer) and `zone` when known.
    pub fn served_by(&self) -> String {
        let quoted = |text: &str| {
            let escaped: String = text
                .chars()
                .filter(|c| (' '..='~').contains(c))
                .flat_map(|c| match c {
                    '"' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            format!("\"{escaped}\"")
        };
        let mut value = format!("task={}", quoted(&self.task_id));
        if let Some(revision) = self.revision.as_deref().and_then(|r| r.parse::<u64>().ok()) {
            value.push_str(&format!(", revision={revision}"));
        }
        if let Some(zone) = &self.availability_zone {
            value.push_str(&format!(", zone={}", quoted(zone)));
        }
        value
    }

    pub fn uptime(&self) -> Duration {
        Duration::from_millis(now_unix_ms().saturating_sub(self.started_at_unix_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_by_names_the_task_its_revision_and_zone() {
        let mut identity = Identity::local(Some("0a1b2c3d"));
        identity.revision = Some("7".into());
        identity.availability_zone = Some("us-east-1a".into());
        assert_eq!(
            identity.served_by(),
            r#"task="0a1b2c3d", revision=7, zone="us-east-1a""#
        );
        identity.revision = Some("latest".into());
        identity.task_id = "quote\"d\n".into();
        assert_eq!(
            identity.served_by(),
            r#"task="quote\"d", zone="us-east-1a""#
        );
    }
}
