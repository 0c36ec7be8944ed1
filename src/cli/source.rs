//! Opening the configured source for a one-shot command, and waiting until it has something
//! worth printing.

use std::{path::PathBuf, time::Duration};

use crate::{
    config::{Config, SourceChoice},
    fleet::{FleetSnapshot, Health, Source, SourceHandle, SourceKind},
    mcp::McpError,
    sources::{
        aws::{AwsSettings, AwsSource},
        local::{LocalSource, share},
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

/// The source a one-shot command runs on: on the local source, the fleet of a running console
/// when there is one (so task ids are the console's), else a fleet of its own. It says on
/// stderr which.
pub async fn open_for_command(global: &GlobalArgs) -> Result<Opened, CliError> {
    if global.url.is_some() {
        return open(global);
    }
    let (config, choice) = choice(global)?;
    if choice == SourceChoice::Local
        && let Some(path) = share::socket_path()
    {
        if let Some((handle, pid)) = share::attach(&path).await {
            eprintln!("mcpfleet: on the local fleet of the console running as pid {pid}");
            return Ok(Opened { handle, config });
        }
        eprintln!("mcpfleet: no console is running; starting a local fleet for this command");
    }
    open_chosen(global, config, choice)
}

/// The source a command that changes the fleet runs on. A local fleet started for the command
/// would die with it, so on the local source only a running console's fleet will do.
pub async fn open_to_act(global: &GlobalArgs, what: &str) -> Result<Opened, CliError> {
    if global.url.is_some() {
        let refusal = format!("{what} acts on a service of a fleet; --url names one server");
        return Err(CliError::new(exit::USAGE, refusal));
    }
    let (config, choice) = choice(global)?;
    if choice != SourceChoice::Local {
        return open_chosen(global, config, choice);
    }
    let attached = match share::socket_path() {
        Some(path) => share::attach(&path).await,
        None => None,
    };
    let Some((handle, pid)) = attached else {
        let refusal = format!(
            "no console is running, and a local fleet started for this {what} would stop with \
             it: start the console (`mcpfleet`) in another terminal first"
        );
        return Err(CliError::new(exit::CONNECTION, refusal));
    };
    eprintln!("mcpfleet: on the local fleet of the console running as pid {pid}");
    Ok(Opened { handle, config })
}

/// The console's source. A local fleet is shared with other processes (unless another console
/// already shares one), so one-shot commands can reach it.
pub fn open_for_console(global: &GlobalArgs) -> Result<Opened, CliError> {
    let mut opened = open(global)?;
    if opened.handle.snapshot().source == SourceKind::Local
        && let Some(path) = share::socket_path()
    {
        match share::share(&mut opened.handle, &path, global.read_only) {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(path = %path.display(), "another console shares its fleet there")
            }
            Err(error) => {
                tracing::warn!(%error, path = %path.display(), "cannot share the local fleet")
            }
        }
    }
    Ok(opened)
}

pub fn load(global: &GlobalArgs) -> Result<(Config, Option<PathBuf>), CliError> {
    Config::load(global.config.as_deref())
        .map_err(|error| CliError::new(exit::CONFIG, error.to_string()))
}

/// The configuration and the source it and the flags choose.
pub fn choice(global: &GlobalArgs) -> Result<(Config, SourceChoice), CliError> {
    let (config, _) = load(global)?;
    let choice = global
        .source
        .or(config.source)
        .unwrap_or(SourceChoice::Local);
    Ok((config, choice))
}

pub fn open(global: &GlobalArgs) -> Result<Opened, CliError> {
    if let Some(url) = &global.url {
        let (config, _) = load(global)?;
        let server = StaticServer {
            name: "url".into(),
            url: url.clone(),
            ..StaticServer::default()
        };
        let handle = Box::new(StaticSource::direct(server)).start();
        return Ok(Opened { handle, config });
    }
    let (config, choice) = choice(global)?;
    open_chosen(global, config, choice)
}

/// Starts the source `choice` names, as `config` describes it.
fn open_chosen(
    global: &GlobalArgs,
    config: Config,
    choice: SourceChoice,
) -> Result<Opened, CliError> {
    // Endpoints behind IAM are signed with the same profile the AWS source reads with.
    crate::sigv4::use_profile(aws_settings(&config, global).profile.as_deref());
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
            for server in &servers {
                server
                    .sigv4()
                    .map_err(|message| CliError::new(exit::CONFIG, message))?;
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
/// is an answer too) — for AWS, until the first look is done, as ECS's word is the answer,
/// however many cycles a big account takes, as long as each timeout sees it progress — then
/// returns the snapshot; after the timeout, returns what there is. A source that failed
/// before it saw anything is an error with its reason.
pub async fn settle(handle: &mut SourceHandle) -> Result<std::sync::Arc<FleetSnapshot>, CliError> {
    let mut seen = progress(&handle.snapshot());
    let snapshot = loop {
        // A local fleet's tasks come and go for ever when they crash; only a picture still
        // arriving from AWS earns more time.
        let moved = |s: &FleetSnapshot| {
            settled(s) || (s.source == SourceKind::Aws && s.loading && progress(s) != seen)
        };
        match handle.wait_for(SETTLE_TIMEOUT, moved).await {
            Some(snapshot) if settled(&snapshot) => break snapshot,
            Some(snapshot) => seen = progress(&snapshot),
            None => break handle.snapshot(),
        }
    };
    // Nothing seen and a reason why: the source failed (still retrying, or for good).
    match &snapshot.stale {
        Some(reason) if snapshot.services.is_empty() => {
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
        error @ (McpError::UnknownTask { .. }
        | McpError::NoReadyTask { .. }
        | McpError::UnknownTool { .. }
        | McpError::UnknownPrompt { .. }
        | McpError::UnknownSkill { .. }
        | McpError::NoSkills { .. }
        | McpError::NoAppUi { .. }) => CliError::new(exit::NOT_FOUND, error.to_string()),
        error @ McpError::InvalidArguments(_) => CliError::new(exit::USAGE, error.to_string()),
        error => CliError::new(exit::CONNECTION, error.to_string()),
    }
}

/// How far a picture still arriving has come: services, tasks, and per cluster the services
/// described and the task definitions still unread.
fn progress(snapshot: &FleetSnapshot) -> (usize, usize, usize, usize) {
    let tasks = snapshot.services.iter().map(|s| s.tasks.len()).sum();
    let described = snapshot.clusters.iter().map(|c| c.described).sum();
    let missing = snapshot
        .clusters
        .iter()
        .map(|c| c.definitions_missing)
        .sum();
    (snapshot.services.len(), tasks, described, missing)
}

/// Whether every service has as many ready tasks as it wants — the moment `ls` may print.
pub fn settled(snapshot: &FleetSnapshot) -> bool {
    if snapshot.source == SourceKind::Aws {
        return !snapshot.loading;
    }
    !snapshot.services.is_empty()
        && snapshot.services.iter().all(|s| {
            s.ready_tasks().count() as u32 >= s.desired
                || s.tasks.iter().any(|t| t.health == Health::Unhealthy)
        })
}
