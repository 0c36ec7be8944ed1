//! Opening the configured source for a one-shot command, and waiting until it has something
//! worth printing.

use std::{path::PathBuf, time::Duration};

use crate::{
    config::{Config, SourceChoice},
    fleet::{FleetSnapshot, Source, SourceHandle},
    mcp::McpError,
    sources::{
        aws::{AwsSettings, AwsSource},
        local::LocalSource,
        static_source::{StaticServer, StaticSource},
    },
};

use super::{CliError, GlobalArgs, exit};

/// How long a one-shot command waits for the fleet to become ready.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Opened {
    pub handle: SourceHandle,
    pub config: Config,
}

pub fn open(global: &GlobalArgs) -> Result<Opened, CliError> {
    let (config, _path) = Config::load(global.config.as_deref())
        .map_err(|error| CliError::new(exit::CONFIG, error.to_string()))?;
    if let Some(url) = &global.url {
        let server = StaticServer {
            name: "url".into(),
            url: url.clone(),
            headers: Default::default(),
            bearer_env: None,
        };
        let handle = Box::new(StaticSource::direct(server)).start();
        return Ok(Opened { handle, config });
    }
    let choice = global
        .source
        .or(config.source)
        .unwrap_or(SourceChoice::Local);
    let source: Box<dyn Source> = match choice {
        SourceChoice::Local => {
            let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("mcpfleet"));
            let local = LocalSource::new(config.local_config(exe))
                .map_err(|error| CliError::new(exit::CONFIG, error.to_string()))?;
            Box::new(local)
        }
        SourceChoice::Static => {
            let (servers, warnings) = config
                .static_servers()
                .map_err(|error| CliError::new(exit::CONFIG, error.to_string()))?;
            for warning in warnings {
                eprintln!("warning: {warning}");
            }
            if servers.is_empty() {
                return Err(CliError::new(
                    exit::CONFIG,
                    "no servers under [static] in the config file",
                ));
            }
            Box::new(StaticSource::new(servers, "static"))
        }
        SourceChoice::Aws => Box::new(AwsSource::new(aws_settings(&config, global))),
    };
    Ok(Opened {
        handle: source.start(),
        config,
    })
}

/// The config file's `[aws]` section with the command line's overrides.
pub fn aws_settings(config: &Config, global: &GlobalArgs) -> AwsSettings {
    let mut settings = config.aws.clone();
    let args = &global.aws;
    settings.profile = args.profile.clone().or(settings.profile);
    settings.region = args.region.clone().or(settings.region);
    settings.endpoint_url = args.endpoint_url.clone().or(settings.endpoint_url);
    if !args.clusters.is_empty() {
        settings.clusters = args.clusters.clone();
    }
    settings.all |= args.all;
    settings
}

/// Waits until every service has its desired ready tasks (or some task is unhealthy, which
/// is an answer too) — for AWS, until the first look is done, as ECS's word is the answer —
/// then returns the snapshot; after the timeout, returns what there is. A source that failed
/// before it saw anything is an error with its reason.
pub async fn settle(handle: &mut SourceHandle) -> Result<std::sync::Arc<FleetSnapshot>, CliError> {
    let snapshot = match handle.wait_for(SETTLE_TIMEOUT, super::ls::settled).await {
        Some(snapshot) => snapshot,
        None => handle.snapshot(),
    };
    match &snapshot.stale {
        Some(reason) if snapshot.services.is_empty() && !snapshot.loading => {
            Err(CliError::new(exit::CONFIG, reason.clone()))
        }
        _ => Ok(snapshot),
    }
}

/// A failed probe as a command's error: a service, task or ready task that is not there is
/// exit 5 (naming the services there are), anything else a connection error.
pub fn mcp_error(snapshot: &FleetSnapshot, error: McpError) -> CliError {
    match error {
        McpError::UnknownService(service) => {
            let known: Vec<&str> = snapshot.services.iter().map(|s| s.name.as_str()).collect();
            CliError::new(
                exit::NOT_FOUND,
                format!("no service {service} (services: {})", known.join(", ")),
            )
        }
        error @ (McpError::UnknownTask { .. } | McpError::NoReadyTask { .. }) => {
            CliError::new(exit::NOT_FOUND, error.to_string())
        }
        error => CliError::new(exit::CONNECTION, error.to_string()),
    }
}
