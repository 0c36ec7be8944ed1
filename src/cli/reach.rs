//! `mcpfleet exec SERVICE [--task T] [--container C] [-- CMD…]`: a command (a shell without
//! one) in a task's container through ECS Exec, exiting with its exit code; `mcpfleet forward
//! SERVICE [--task T] [--local-port P]`: the task's MCP port on a local port through Session
//! Manager, kept up until Ctrl-C. A missing prerequisite is said in one line (exit 16).

use crate::{
    config::SourceChoice,
    reach::{self, AwsCli, Missing, Target, exec, forward, prereq},
};

use super::{CliError, GlobalArgs, exit, source};

fn refused(missing: Missing) -> CliError {
    let code = match missing {
        Missing::NoService(_) | Missing::NoTask { .. } => exit::NOT_FOUND,
        _ => exit::PREREQUISITE,
    };
    CliError::new(code, missing.to_string())
}

/// The `aws` CLI on PATH, how to point it where the source looks, and the target: each
/// prerequisite checked before anything runs.
async fn prepare(
    global: &GlobalArgs,
    service: &str,
    task: Option<&str>,
    container: Option<&str>,
) -> Result<(std::path::PathBuf, AwsCli, Target), CliError> {
    let (config, choice) = source::choice(global)?;
    if global.url.is_some() || choice != SourceChoice::Aws {
        let kind = match choice {
            SourceChoice::Local if global.url.is_none() => crate::fleet::SourceKind::Local,
            SourceChoice::Aws if global.url.is_none() => crate::fleet::SourceKind::Aws,
            _ => crate::fleet::SourceKind::Static,
        };
        return Err(refused(Missing::NotAws(kind)));
    }
    let aws = prereq::programs_on_path().map_err(refused)?;
    let settings = source::aws_settings(&config, global);
    let cli = AwsCli {
        profile: settings.profile,
        region: settings.region,
        endpoint_url: settings.endpoint_url,
    };
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let target = reach::target(&snapshot, service, task, container).map_err(refused)?;
    Ok((aws, cli, target))
}

/// Runs `command` (words joined; a shell without any) in the task; its exit code is ours.
pub async fn exec(
    global: &GlobalArgs,
    service: &str,
    task: Option<&str>,
    container: Option<&str>,
    command: &[String],
) -> Result<u8, CliError> {
    if global.read_only {
        return Err(CliError::new(
            exit::READ_ONLY,
            "--read-only: exec runs commands in a task, which a read-only session does not",
        ));
    }
    let (aws, cli, target) = prepare(global, service, task, container).await?;
    let command = match command {
        [] => exec::SHELL.to_string(),
        words => words.join(" "),
    };
    eprintln!(
        "mcpfleet: ECS Exec into task {} ({}), container {}",
        target.task_id, target.service, target.container
    );
    let args = exec::arguments(&cli, &target, &command);
    let ended = exec::run(&aws, &args)
        .await
        .map_err(|error| CliError::new(exit::PREREQUISITE, format!("aws: {error}")))?;
    if let Some(hint) = ended.hint {
        eprintln!("mcpfleet: {hint}");
    }
    Ok(u8::try_from(ended.code.clamp(0, 255)).unwrap_or(1))
}

/// Forwards a local port to the task's MCP port until a signal ends the command (whose
/// dispatch drops this future, which ends the session's processes).
pub async fn forward(
    global: &GlobalArgs,
    service: &str,
    task: Option<&str>,
    local_port: Option<u16>,
) -> Result<u8, CliError> {
    let (aws, cli, target) = prepare(global, service, task, None).await?;
    let local_port = match local_port {
        Some(port) => port,
        None => forward::free_port()
            .map_err(|error| CliError::new(exit::CONNECTION, format!("no free port: {error}")))?,
    };
    let args = forward::arguments(&cli, &target, local_port).map_err(refused)?;
    eprintln!(
        "mcpfleet: forwarding 127.0.0.1:{local_port} to task {} ({}) port {}; Ctrl-C ends it",
        target.task_id,
        target.service,
        target.port.unwrap_or_default()
    );
    println!("{}", forward::local_url(local_port, &target.path));
    forward::keep(aws, args, forward::Output::Terminal, |end, wait| {
        let why = match &end {
            Ok(end) => format!("the session ended (exit {})", end.code),
            Err(error) => format!("the session could not start: {error}"),
        };
        eprintln!("mcpfleet: {why}; starting it again in {} s", wait.as_secs());
        if let Ok(exec::Ended {
            hint: Some(hint), ..
        }) = end
        {
            eprintln!("mcpfleet: {hint}");
        }
    })
    .await;
    Ok(exit::OK)
}
