//! `mcpfleet rollout wait SERVICE`: follows the service's rollout until it ends, a line per
//! change (and every few seconds while the figures move) with each revision's calls/s, error
//! rate and p99, so a pipeline's log shows a bad revision failing before the breaker or an
//! alarm decides; on a terminal one live line instead. Exits 0 deployed, `ROLLOUT_FAILED`
//! failed, `TIMEOUT` still rolling. `deploy --wait` and `rollback --wait` follow through
//! `follow` too.

use std::{
    io::{IsTerminal, Write},
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use serde_json::json;
use tokio::sync::watch;

use crate::{
    fleet::{
        FleetSnapshot, Service,
        progress::{self, Verdict},
    },
    mcp::McpError,
};

use super::{CliError, GlobalArgs, exit, source};

/// Under load the figures move between state changes: a line this often shows them.
const FIGURES_EVERY: Duration = Duration::from_secs(5);

pub async fn wait(
    global: &GlobalArgs,
    service: &str,
    timeout: Duration,
    json: bool,
) -> Result<u8, CliError> {
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let Some(first) = snapshot.service(service) else {
        let unknown = McpError::UnknownService(service.to_string());
        return Err(source::mcp_error(&snapshot, unknown));
    };
    let watch = Watch {
        service,
        since: SystemTime::now(),
        first: first.primary().map(|d| d.id.clone()),
        timeout,
        json,
        started: Instant::now(),
        said: None,
    };
    follow(opened.handle.snapshots.clone(), watch).await
}

/// A rollout being followed: the service, since when and from which primary deployment a
/// failure counts (`progress::verdict`), and what the command already said about it.
pub struct Watch<'a> {
    pub service: &'a str,
    pub since: SystemTime,
    pub first: Option<String>,
    pub timeout: Duration,
    pub json: bool,
    pub started: Instant,
    /// What started the rollout (`deploy`, `rollback`), added to the JSON outcome.
    pub said: Option<serde_json::Value>,
}

/// Follows the service's snapshots until `progress::verdict` says the rollout ended, or the
/// timeout: on a terminal one live line, else a line per change (and every few seconds while
/// the figures move). Returns the exit code: 0 deployed, `ROLLOUT_FAILED`; `TIMEOUT` as an
/// error.
pub async fn follow(
    mut snapshots: watch::Receiver<Arc<FleetSnapshot>>,
    watch: Watch<'_>,
) -> Result<u8, CliError> {
    let Watch {
        service,
        since,
        ref first,
        timeout,
        json,
        started,
        ref said,
    } = watch;
    let live = !json && std::io::stdout().is_terminal();
    let deadline = tokio::time::Instant::now() + timeout;
    let (mut state_said, mut said_at) = (String::new(), Instant::now());
    let mut shown = String::new();
    loop {
        let snapshot = snapshots.borrow_and_update().clone();
        let Some(svc) = snapshot.service(service) else {
            end_live(live);
            let gone = format!("service {service} is no longer in the fleet");
            return Err(CliError::new(exit::NOT_FOUND, gone));
        };
        let state = progress::state_line(svc);
        let figures = progress::figures_line(svc);
        let figures_due = figures.is_some() && said_at.elapsed() >= FIGURES_EVERY;
        let figures = figures.map(|f| format!(" · {f}")).unwrap_or_default();
        if live {
            let text = format!("{:>6.1}s  {state}{figures}", secs(started));
            if text != shown {
                // A line longer than the terminal would wrap, and the next draw would clear
                // only its last row.
                let width = crossterm::terminal::size().map_or(usize::MAX, |(w, _)| w.into());
                let fits: String = text.chars().take(width.saturating_sub(1)).collect();
                print!("\r\x1b[2K{fits}");
                let _ = std::io::stdout().flush();
                shown = text;
            }
            state_said = state;
        } else if state != state_said || figures_due {
            line(json, &format!("{:>6.1}s  {state}{figures}", secs(started)));
            (state_said, said_at) = (state, Instant::now());
        }
        let verdict = progress::verdict(svc, since, first.as_deref());
        if verdict != Verdict::Rolling {
            end_live(live);
            return Ok(finish(service, &verdict, svc, started, json, said.as_ref()));
        }
        // On a terminal the line's clock moves every second.
        let pause = if live {
            Duration::from_secs(1)
        } else {
            FIGURES_EVERY
        };
        tokio::select! {
            changed = snapshots.changed() => if changed.is_err() {
                end_live(live);
                return Err(CliError::new(exit::CONNECTION, "the source stopped"));
            },
            () = tokio::time::sleep(pause) => {}
            () = tokio::time::sleep_until(deadline) => {
                end_live(live);
                let human = humantime::format_duration(timeout);
                if json {
                    let mut out = json!({"service": service, "outcome": "timeout",
                        "elapsed_s": secs(started), "deployments": svc.deployments});
                    merge(&mut out, said.as_ref());
                    print_json(&out);
                }
                let text = format!("{service}: still rolling after {human}: {state_said}");
                return Err(CliError::new(exit::TIMEOUT, text));
            }
        }
    }
}

/// Ends the live line so what follows starts on a line of its own.
fn end_live(live: bool) {
    if live {
        println!();
    }
}

fn merge(out: &mut serde_json::Value, said: Option<&serde_json::Value>) {
    if let (Some(out), Some(serde_json::Value::Object(said))) = (out.as_object_mut(), said) {
        out.extend(said.clone());
    }
}

fn secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

/// A progress line: on stdout, or stderr when stdout carries the JSON.
fn line(json: bool, text: &str) {
    match json {
        true => eprintln!("{text}"),
        false => println!("{text}"),
    }
}

fn print_json(value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    println!("{text}");
}

fn finish(
    service: &str,
    verdict: &Verdict,
    svc: &Service,
    started: Instant,
    json: bool,
    said: Option<&serde_json::Value>,
) -> u8 {
    let elapsed = secs(started);
    let (text, code) = match verdict {
        Verdict::Deployed { revision } => (
            format!(
                "{service}: revision {revision} is deployed, {}/{} running ({elapsed:.1} s)",
                svc.running, svc.desired
            ),
            exit::OK,
        ),
        Verdict::Failed {
            revision,
            reason,
            back_to,
        } => {
            let back = back_to.map_or(String::new(), |r| format!("; rolling back to revision {r}"));
            let reason = reason.trim_end_matches('.');
            let text = format!("{service}: revision {revision} failed: {reason}{back}");
            (text, exit::ROLLOUT_FAILED)
        }
        Verdict::Rolling => unreachable!("only an ended rollout is finished"),
    };
    if json {
        let mut out = serde_json::to_value(verdict).expect("a verdict serialises");
        out["service"] = json!(service);
        out["elapsed_s"] = json!(elapsed);
        out["deployments"] = json!(svc.deployments);
        merge(&mut out, said);
        print_json(&out);
    }
    line(json, &text);
    code
}
