//! Reaching into a task from outside its VPC: a shell in its MCP container through ECS Exec
//! (`exec.rs`) and its MCP port on a local port through a Session Manager port forward
//! (`forward.rs`), both run by the `aws` CLI with the session-manager-plugin, after saying in
//! one line what is missing for them (`prereq.rs`); and the fleet as the console's MCP worker
//! sees it while forwards are up (`route.rs`). The console and the commands share it.
//! Imports only `fleet`: which source is on and where it looks is the caller's to say.

pub mod exec;
pub mod forward;
pub mod prereq;
pub mod route;

use crate::fleet::{FleetSnapshot, SourceKind, Task};

pub use prereq::Missing;

/// Where the `aws` CLI must look to find what the AWS source sees: the source's profile,
/// region and endpoint override, passed on as flags when set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsCli {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

impl AwsCli {
    fn flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        let pairs = [
            ("--region", &self.region),
            ("--profile", &self.profile),
            ("--endpoint-url", &self.endpoint_url),
        ];
        for (flag, value) in pairs {
            if let Some(value) = value {
                flags.push(flag.to_string());
                flags.push(value.clone());
            }
        }
        flags
    }
}

/// One container of one task, as ECS Exec and Session Manager name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub service: String,
    pub task_id: String,
    pub cluster_arn: String,
    pub cluster_name: String,
    pub task_arn: String,
    pub container: String,
    pub runtime_id: Option<String>,
    /// The MCP port inside the task, and the MCP path on it.
    pub port: Option<u16>,
    pub path: String,
}

/// The task of `service` to reach: `task` (an id or prefix), else its first ready task, else
/// its first running one; in `container`, else the one that serves MCP. Says what is missing
/// when ECS Exec cannot reach it.
pub fn target(
    snapshot: &FleetSnapshot,
    service: &str,
    task: Option<&str>,
    container: Option<&str>,
) -> Result<Target, Missing> {
    if snapshot.source != SourceKind::Aws {
        return Err(Missing::NotAws(snapshot.source));
    }
    let found = snapshot
        .service(service)
        .ok_or_else(|| Missing::NoService(service.to_string()))?;
    let chosen = match task {
        Some(id) => found.task(id),
        None => found.ready_tasks().next().or_else(|| {
            let running = |t: &&Task| t.last_status == crate::fleet::TaskStatus::Running;
            found.tasks.iter().find(running)
        }),
    };
    let chosen = chosen.ok_or_else(|| Missing::NoTask {
        service: service.to_string(),
        task: task.map(str::to_string),
    })?;
    task_target(&found.name, &found.mcp_path, chosen, container)
}

fn task_target(
    service: &str,
    path: &str,
    task: &Task,
    container: Option<&str>,
) -> Result<Target, Missing> {
    let ecs = task.ecs.as_ref().ok_or_else(|| Missing::Undescribed {
        task: task.id.clone(),
    })?;
    let name = container
        .map(str::to_string)
        .or_else(|| ecs.mcp_container.clone())
        .or_else(|| task.containers.first().map(|c| c.name.clone()))
        .ok_or_else(|| Missing::NoContainer {
            task: task.id.clone(),
            container: None,
        })?;
    let found = task.containers.iter().find(|c| c.name == name);
    let Some(found) = found else {
        return Err(Missing::NoContainer {
            task: task.id.clone(),
            container: Some(name),
        });
    };
    if !ecs.exec_enabled {
        return Err(Missing::ExecDisabled {
            task: task.id.clone(),
        });
    }
    let agent = found.exec_agent.as_deref();
    if agent != Some("RUNNING") {
        return Err(Missing::AgentNotRunning {
            task: task.id.clone(),
            container: name,
            status: agent.map(str::to_string),
        });
    }
    Ok(Target {
        service: service.to_string(),
        task_id: task.id.clone(),
        cluster_arn: ecs.cluster_arn.clone(),
        cluster_name: ecs.cluster_name().to_string(),
        task_arn: ecs.task_arn.clone(),
        container: name,
        runtime_id: found.runtime_id.clone(),
        port: ecs.mcp_port,
        path: path.to_string(),
    })
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
