//! `mcpfleet deploy SERVICE` and `mcpfleet rollback SERVICE`: the console's deploy and
//! rollback from a script. The command goes to the source the console would send it to (on
//! the local source, a running console's fleet through its socket); without `--wait` it says
//! which deployment started and exits, with `--wait` it follows the rollout as `rollout wait`
//! does (`rollout::follow`), so its exit code says whether the new revision took.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;

use crate::{
    fleet::{Command, CommandError, RevisionChange},
    mcp::McpError,
};

use super::{
    CliError, GlobalArgs, exit,
    rollout::{self, Watch},
    source,
};

/// How long the new deployment may take to show in the source's snapshots once the source
/// accepted the command (AWS shows it at its next refresh).
const SHOWS_WITHIN: Duration = Duration::from_secs(60);

/// What to do and how to report it.
pub struct Order {
    pub command: Command,
    pub wait: bool,
    pub timeout: Duration,
    pub json: bool,
}

/// `NAME=VALUE` of `--env`.
pub fn name_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() && !name.contains(char::is_whitespace) => {
            Ok((name.to_string(), value.to_string()))
        }
        _ => Err(format!("{text:?} is not NAME=VALUE")),
    }
}

/// `deploy`'s change from its flags: exactly one of an image or environment change, or
/// `--force` for a new deployment of the current revision.
pub fn change(
    image: Option<String>,
    env: Vec<(String, String)>,
    force: bool,
) -> Result<RevisionChange, CliError> {
    let change = RevisionChange {
        env: env.into_iter().collect(),
        args: None,
        image,
    };
    match (change.is_empty(), force) {
        (true, false) => Err(CliError::new(
            exit::USAGE,
            "say what to deploy: --image URI, --env NAME=VALUE, or --force for a new \
             deployment of the current revision",
        )),
        (false, true) => Err(CliError::new(
            exit::USAGE,
            "--force deploys the current revision again; it takes no --image or --env",
        )),
        _ => Ok(change),
    }
}

pub async fn run(global: &GlobalArgs, order: Order) -> Result<u8, CliError> {
    let what = match order.command {
        Command::Rollback { .. } => "rollback",
        _ => "deploy",
    };
    if global.read_only {
        let refusal = format!("{what} changes the fleet; refused under --read-only");
        return Err(CliError::new(exit::READ_ONLY, refusal));
    }
    let service = order.command.service().to_string();
    let mut opened = source::open_to_act(global, what).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let Some(before) = snapshot.service(&service) else {
        let unknown = McpError::UnknownService(service.clone());
        return Err(source::mcp_error(&snapshot, unknown));
    };
    let first = before.primary().map(|d| d.id.clone());
    let (since, started) = (SystemTime::now(), Instant::now());
    let said = opened
        .handle
        .execute(order.command.clone())
        .await
        .map_err(refusal)?;
    // The source answers before its snapshots show the new deployment; judging the old one
    // would call a rollout that has not begun deployed.
    let shown = opened
        .handle
        .wait_for(SHOWS_WITHIN.min(order.timeout), |s| {
            let primary = s.service(&service).and_then(|s| s.primary());
            primary.is_some_and(|d| Some(&d.id) != first.as_ref())
        })
        .await;
    let deployment = shown
        .as_ref()
        .and_then(|s| s.service(&service)?.primary().cloned());
    let outcome = json!({"action": what, "message": said});
    if !order.wait {
        if order.json {
            let mut out = outcome;
            out["service"] = json!(service);
            out["deployment"] = json!(deployment);
            println!(
                "{}",
                serde_json::to_string_pretty(&out).expect("JSON serialises")
            );
        } else {
            let revision = deployment.map_or(String::new(), |d| {
                format!(" (deployment {}, revision {})", d.id, d.revision)
            });
            println!("{said}{revision}");
        }
        return Ok(exit::OK);
    }
    if !order.json {
        println!("{said}");
    }
    let Some(deployment) = deployment else {
        let late = format!(
            "{service}: the new deployment did not show within {}",
            humantime::format_duration(SHOWS_WITHIN.min(order.timeout))
        );
        return Err(CliError::new(exit::TIMEOUT, late));
    };
    let watch = Watch {
        service: &service,
        since,
        first: Some(deployment.id),
        timeout: order.timeout.saturating_sub(started.elapsed()),
        json: order.json,
        started,
        said: Some(outcome),
    };
    rollout::follow(opened.handle.snapshots.clone(), watch).await
}

/// A source's refusal as the command's error and exit code.
fn refusal(error: CommandError) -> CliError {
    let code = match &error {
        CommandError::UnknownService(_) | CommandError::UnknownTask { .. } => exit::NOT_FOUND,
        CommandError::ReadOnly(_) => exit::READ_ONLY,
        CommandError::Refused(_) => exit::REFUSED,
        CommandError::SourceGone => exit::CONNECTION,
    };
    CliError::new(code, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_say_exactly_one_thing_to_deploy() {
        let env = vec![("A".to_string(), "1".to_string())];
        assert!(change(None, Vec::new(), true).unwrap().is_empty());
        let image = change(Some("repo/mcp:2".into()), Vec::new(), false).unwrap();
        assert_eq!(image.image.as_deref(), Some("repo/mcp:2"));
        assert_eq!(change(None, env.clone(), false).unwrap().env["A"], "1");
        assert_eq!(
            change(None, Vec::new(), false).unwrap_err().code,
            exit::USAGE
        );
        assert_eq!(change(None, env, true).unwrap_err().code, exit::USAGE);
        assert_eq!(name_value("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert!(name_value("=x").is_err() && name_value("novalue").is_err());
    }
}
