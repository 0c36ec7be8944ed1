//! What the local fleet runs: the configuration (`[[local.services]]` entries), its validation,
//! task-definition revisions, and the exact command line one task of a revision is started with.
//! No process is started here.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde::Deserialize;

use super::{alarm::AlarmSpec, child::PARENT_PID_ENV};

/// Name of the built-in service (the `mcpfleet serve` replicas).
pub const BUILT_IN_SERVICE: &str = "mcpfleet-server";
/// More local tasks than this per service would only starve a laptop; refuse instead.
pub const MAX_REPLICAS: u32 = 64;

/// One service of the local fleet. Without `command` it runs the built-in server by
/// re-executing the console binary; with one it runs any MCP server that speaks Streamable
/// HTTP. `{port}`, `{task_id}` and `{revision}` in `args` and `env` values are replaced per
/// task, and `PORT` is set, so a third-party server can be told where to listen.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalServiceSpec {
    pub name: String,
    #[serde(default)]
    pub command: Option<String>,
    /// Extra arguments: after `serve --bind … --replica …` for the built-in server, the whole
    /// argument list for a command.
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default = "default_replicas")]
    pub replicas: u32,
    #[serde(default = "default_mcp_path")]
    pub mcp_path: String,
    /// GET path answering 2xx when the task can take calls. Without it the built-in server is
    /// probed on `/readyz` and a command with an MCP `initialize` POST.
    #[serde(default)]
    pub health_path: Option<String>,
    /// Injected faults, to practise finding a flaky replica: the built-in server's fault plan
    /// (`echo:error=0.2`, see `MCPFLEET_FAULTS`), given to the first `faulty_replicas` tasks
    /// the service starts (every task when unset). Tasks started later — by a deploy, or to
    /// replace a stopped one — run clean, so a deploy is the fix.
    #[serde(default)]
    pub faults: Option<String>,
    #[serde(default)]
    pub faulty_replicas: Option<u32>,
    /// Variables added to the first `canary_replicas` tasks the service starts (1 when unset):
    /// replicas that differ from their siblings, e.g. `MCPFLEET_HIDE_TOOLS = "sleep"` for the
    /// built-in server, to practise finding drift. As with faults, tasks started later run the
    /// revision as it is.
    #[serde(default)]
    pub canary_env: BTreeMap<String, String>,
    #[serde(default)]
    pub canary_replicas: Option<u32>,
    /// A deployment alarm on the service's tool-call error rate (`[local.services.alarm]`),
    /// which fails and rolls back a deployment whose tasks start healthy but fail their calls.
    #[serde(default)]
    pub alarm: Option<AlarmSpec>,
}

fn default_replicas() -> u32 {
    1
}

fn default_mcp_path() -> String {
    "/mcp".into()
}

impl LocalServiceSpec {
    /// The built-in server with `replicas` tasks.
    pub fn built_in(replicas: u32) -> Self {
        Self {
            name: BUILT_IN_SERVICE.into(),
            command: None,
            args: Vec::new(),
            env: BTreeMap::new(),
            replicas,
            mcp_path: default_mcp_path(),
            health_path: None,
            faults: None,
            faulty_replicas: None,
            canary_env: BTreeMap::new(),
            canary_replicas: None,
            alarm: None,
        }
    }

    /// Whether the task started `seq`-th (from 1) gets the fault plan.
    pub fn is_faulty(&self, seq: u64) -> bool {
        self.faults.is_some() && self.faulty_replicas.is_none_or(|n| seq <= u64::from(n))
    }

    /// Whether the task started `seq`-th (from 1) gets the canary variables.
    pub fn is_canary(&self, seq: u64) -> bool {
        !self.canary_env.is_empty() && seq <= u64::from(self.canary_replicas.unwrap_or(1))
    }

    pub fn health_check(&self) -> HealthCheck {
        match (&self.health_path, &self.command) {
            (Some(path), _) => HealthCheck::Get(path.clone()),
            (None, None) => HealthCheck::Get("/readyz".into()),
            (None, Some(_)) => HealthCheck::Initialize(self.mcp_path.clone()),
        }
    }
}

/// How a task's health is probed.
#[derive(Debug, Clone, PartialEq)]
pub enum HealthCheck {
    /// GET this path; 2xx is healthy.
    Get(String),
    /// POST an MCP `initialize` to this path; 2xx is healthy.
    Initialize(String),
}

/// Settings of the whole local source. Only `services` comes from a config file; the timings
/// are for tests and embedding.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LocalConfig {
    pub services: Vec<LocalServiceSpec>,
    /// The binary re-executed for the built-in server and the child shim.
    #[serde(skip)]
    pub exe: PathBuf,
    /// How long a draining task is shown as draining before it gets SIGTERM, so routers that
    /// watch the snapshot have moved away first.
    #[serde(skip)]
    pub deregistration_delay: Duration,
    /// Drain deadline handed to the built-in server; SIGKILL follows after it plus a margin.
    #[serde(skip)]
    pub drain_deadline: Duration,
    /// A new task not healthy by then counts as a failed start.
    #[serde(skip)]
    pub start_timeout: Duration,
    /// When the source stops, how long children get after SIGTERM before SIGKILL.
    #[serde(skip)]
    pub shutdown_grace: Duration,
    #[serde(skip)]
    pub health_interval: Duration,
    #[serde(skip)]
    pub metrics_interval: Duration,
    /// Stopped tasks kept per service so their stoppedReason can be read.
    #[serde(skip)]
    pub stopped_tasks_kept: usize,
    #[serde(skip)]
    pub log_capacity: usize,
}

impl Default for LocalConfig {
    fn default() -> Self {
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("mcpfleet"));
        Self::default_fleet(exe)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LocalConfigError {
    #[error("a local service needs a name")]
    EmptyName,
    #[error("local service {0} is defined twice")]
    Duplicate(String),
    #[error("local service {name}: {field} must start with '/' (got {value:?})")]
    Path {
        name: String,
        field: &'static str,
        value: String,
    },
    #[error("local service {name}: at most {MAX_REPLICAS} replicas (got {replicas})")]
    TooManyReplicas { name: String, replicas: u32 },
    #[error("local service {0}: command is empty")]
    EmptyCommand(String),
    #[error("local service {0}: faults are for the built-in server, not a command")]
    FaultsNeedBuiltIn(String),
    #[error("local service {name}: alarm: {why}")]
    Alarm { name: String, why: &'static str },
}

impl LocalConfig {
    /// The default fleet: the built-in server with 3 replicas.
    pub fn default_fleet(exe: impl Into<PathBuf>) -> Self {
        Self {
            services: vec![LocalServiceSpec::built_in(3)],
            exe: exe.into(),
            deregistration_delay: Duration::from_millis(100),
            drain_deadline: Duration::from_secs(20),
            start_timeout: Duration::from_secs(20),
            shutdown_grace: Duration::from_secs(3),
            // Starting tasks are probed every 50 ms until healthy; after that, ECS-like
            // health checks need no more than one a second, and a slower scrape keeps an idle
            // console near 0 % CPU. Crashes are seen at once through the process exit anyway.
            health_interval: Duration::from_secs(1),
            metrics_interval: Duration::from_secs(2),
            stopped_tasks_kept: 20,
            log_capacity: 8192,
        }
    }

    pub fn validate(&self) -> Result<(), LocalConfigError> {
        let mut seen = std::collections::BTreeSet::new();
        for spec in &self.services {
            let name = spec.name.trim();
            if name.is_empty() {
                return Err(LocalConfigError::EmptyName);
            }
            if !seen.insert(name) {
                return Err(LocalConfigError::Duplicate(name.into()));
            }
            let paths = [
                ("mcp_path", Some(&spec.mcp_path)),
                ("health_path", spec.health_path.as_ref()),
            ];
            for (field, value) in paths {
                if let Some(value) = value.filter(|v| !v.starts_with('/')) {
                    let (name, value) = (name.into(), value.clone());
                    return Err(LocalConfigError::Path { name, field, value });
                }
            }
            if spec.replicas > MAX_REPLICAS {
                let name = name.into();
                return Err(LocalConfigError::TooManyReplicas {
                    name,
                    replicas: spec.replicas,
                });
            }
            if spec.command.as_deref().is_some_and(|c| c.trim().is_empty()) {
                return Err(LocalConfigError::EmptyCommand(name.into()));
            }
            if spec.faults.is_some() && spec.command.is_some() {
                return Err(LocalConfigError::FaultsNeedBuiltIn(name.into()));
            }
            if let Some(why) = spec.alarm.as_ref().and_then(AlarmSpec::invalid) {
                return Err(LocalConfigError::Alarm {
                    name: name.into(),
                    why,
                });
            }
        }
        Ok(())
    }

    /// SIGKILL deadline after SIGTERM: the drain deadline plus time to close connections.
    pub fn kill_after(&self) -> Duration {
        self.drain_deadline + Duration::from_secs(5)
    }
}

/// A task-definition revision of one service: what its tasks run.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub number: u32,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

impl Revision {
    pub fn first(spec: &LocalServiceSpec) -> Self {
        Self {
            number: 1,
            args: spec.args.clone(),
            env: spec.env.clone(),
        }
    }

    /// The next revision: `env` merged over this one's, `args` replacing them when given.
    pub fn next(&self, number: u32, change: &crate::fleet::RevisionChange) -> Self {
        let mut env = self.env.clone();
        env.extend(change.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let args = change.args.clone().unwrap_or_else(|| self.args.clone());
        Self { number, args, env }
    }
}

/// The process of one task: program, arguments and environment, for a given port.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandLine {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Runs under the `__child` shim, which forwards signals to the command's process group.
    pub shimmed: bool,
}

pub fn command_line(
    config: &LocalConfig,
    spec: &LocalServiceSpec,
    revision: &Revision,
    task_id: &str,
    port: u16,
    seq: u64,
) -> CommandLine {
    let fill = |text: &str| {
        text.replace("{port}", &port.to_string())
            .replace("{task_id}", task_id)
            .replace("{revision}", &revision.number.to_string())
    };
    let mut env: Vec<(String, String)> =
        vec![(PARENT_PID_ENV.into(), std::process::id().to_string())];
    let (args, shimmed) = match &spec.command {
        None => {
            env.push(("MCPFLEET_REVISION".into(), revision.number.to_string()));
            if let Some(plan) = spec.faults.as_ref().filter(|_| spec.is_faulty(seq)) {
                env.push(("MCPFLEET_FAULTS".into(), plan.clone()));
            }
            let deadline = config.drain_deadline.as_secs().max(1).to_string();
            env.push(("MCPFLEET_DRAIN_DEADLINE_SECS".into(), deadline));
            let bind = format!("127.0.0.1:{port}");
            let mut args: Vec<String> = vec!["serve".into(), "--bind".into(), bind];
            args.extend(["--replica".into(), task_id.into()]);
            (args, false)
        }
        Some(command) => {
            env.push(("PORT".into(), port.to_string()));
            (vec!["__child".into(), "--".into(), command.clone()], true)
        }
    };
    let mut args = args;
    args.extend(revision.args.iter().map(|arg| fill(arg)));
    // The revision's own variables come last so they win over the defaults above.
    env.extend(revision.env.iter().map(|(k, v)| (k.clone(), fill(v))));
    // A canary's own variables win over the revision's: that is what sets it apart.
    if spec.is_canary(seq) {
        env.extend(spec.canary_env.iter().map(|(k, v)| (k.clone(), fill(v))));
    }
    CommandLine {
        program: config.exe.clone(),
        args,
        env,
        shimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::RevisionChange;

    #[test]
    fn faults_go_to_the_first_tasks_only() {
        let mut spec = LocalServiceSpec::built_in(3);
        assert!(!spec.is_faulty(1), "no plan, no faults");
        spec.faults = Some("echo:error=0.2".into());
        assert!(
            spec.is_faulty(1) && spec.is_faulty(9),
            "every task without a count"
        );
        spec.faulty_replicas = Some(1);
        assert!(spec.is_faulty(1) && !spec.is_faulty(2));
        let config = LocalConfig::default_fleet("mcpfleet");
        let revision = Revision::first(&spec);
        let env = |seq| command_line(&config, &spec, &revision, "abc", 4100, seq).env;
        let plan = ("MCPFLEET_FAULTS".to_string(), "echo:error=0.2".to_string());
        assert!(env(1).contains(&plan));
        assert!(!env(2).contains(&plan));
        spec.command = Some("node".into());
        let config = LocalConfig {
            services: vec![spec],
            ..config
        };
        assert!(matches!(
            config.validate(),
            Err(LocalConfigError::FaultsNeedBuiltIn(_))
        ));
    }

    #[test]
    fn canary_variables_go_to_the_first_task_and_win_over_the_revisions() {
        let mut spec = LocalServiceSpec::built_in(3);
        assert!(!spec.is_canary(1), "no variables, no canary");
        spec.env.insert("MCPFLEET_HIDE_TOOLS".into(), "fail".into());
        spec.canary_env
            .insert("MCPFLEET_HIDE_TOOLS".into(), "sleep".into());
        assert!(
            spec.is_canary(1) && !spec.is_canary(2),
            "one canary by default"
        );
        let config = LocalConfig::default_fleet("mcpfleet");
        let revision = Revision::first(&spec);
        let hidden = |seq| {
            let env = command_line(&config, &spec, &revision, "abc", 4100, seq).env;
            let found = env.iter().rev().find(|(k, _)| k == "MCPFLEET_HIDE_TOOLS");
            found.map(|(_, v)| v.clone())
        };
        assert_eq!(hidden(1).as_deref(), Some("sleep"));
        assert_eq!(hidden(2).as_deref(), Some("fail"));
        spec.canary_replicas = Some(2);
        assert!(spec.is_canary(2) && !spec.is_canary(3));
    }

    #[test]
    fn services_deserialize_from_the_config_file_shape() {
        let text = r#"
            [[services]]
            name = "everything"
            command = "npx"
            args = ["-y", "@modelcontextprotocol/server-everything", "streamableHttp"]
            env = { PORT = "{port}" }
            replicas = 2
            health_path = "/health"
        "#;
        let config: LocalConfig = toml::from_str(text).unwrap();
        let spec = &config.services[0];
        assert_eq!(spec.replicas, 2);
        assert_eq!(spec.mcp_path, "/mcp");
        assert_eq!(spec.health_check(), HealthCheck::Get("/health".into()));
        assert_eq!(config.stopped_tasks_kept, 20);
        config.validate().unwrap();
    }

    #[test]
    fn validation_names_the_problem() {
        let mut config = LocalConfig::default_fleet("mcpfleet");
        config.services.push(LocalServiceSpec::built_in(1));
        assert_eq!(
            config.validate(),
            Err(LocalConfigError::Duplicate(BUILT_IN_SERVICE.into()))
        );
        config.services[1].name = "x".into();
        config.services[1].mcp_path = "mcp".into();
        assert!(matches!(
            config.validate(),
            Err(LocalConfigError::Path { .. })
        ));
    }

    #[test]
    fn built_in_tasks_re_execute_serve_and_commands_go_through_the_shim() {
        let config = LocalConfig::default_fleet("/bin/mcpfleet");
        let spec = LocalServiceSpec::built_in(3);
        let change = RevisionChange {
            env: [("A".into(), "{port}".into())].into(),
            args: None,
            image: None,
        };
        let revision = Revision::first(&spec).next(2, &change);
        let line = command_line(&config, &spec, &revision, "abc", 4100, 1);
        assert_eq!(
            line.args,
            ["serve", "--bind", "127.0.0.1:4100", "--replica", "abc"]
        );
        assert!(line.env.contains(&("MCPFLEET_REVISION".into(), "2".into())));
        assert!(line.env.contains(&("A".into(), "4100".into())));
        assert!(!line.shimmed);

        let mut spec = LocalServiceSpec::built_in(1);
        spec.command = Some("python3".into());
        spec.args = vec!["server.py".into(), "--port={port}".into()];
        let line = command_line(&config, &spec, &Revision::first(&spec), "abc", 4200, 1);
        assert_eq!(
            line.args,
            ["__child", "--", "python3", "server.py", "--port=4200"]
        );
        assert!(line.env.contains(&("PORT".into(), "4200".into())));
        assert_eq!(spec.health_check(), HealthCheck::Initialize("/mcp".into()));
        assert!(line.shimmed);
    }
}
