//! `mcpfleet rollout wait SERVICE`: follows the service's rollout until it ends, a line per
//! change (and every few seconds while the figures move) with each revision's calls/s, error
//! rate and p99, so a pipeline's log shows a bad revision failing before the breaker or an
//! alarm decides. Exits 0 deployed, `ROLLOUT_FAILED` failed, `TIMEOUT` still rolling.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;

use crate::{
    fleet::{
        Service,
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
    let since = SystemTime::now();
    let first = first.primary().map(|d| d.id.clone());
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut snapshots = opened.handle.snapshots.clone();
    let (mut said, mut said_at) = (String::new(), started);
    loop {
        let snapshot = snapshots.borrow_and_update().clone();
        let Some(svc) = snapshot.service(service) else {
            let gone = format!("service {service} is no longer in the fleet");
            return Err(CliError::new(exit::NOT_FOUND, gone));
        };
        let state = progress::state_line(svc);
        let figures = progress::figures_line(svc);
        if state != said || (figures.is_some() && said_at.elapsed() >= FIGURES_EVERY) {
            let figures = figures.map(|f| format!(" · {f}")).unwrap_or_default();
            line(json, &format!("{:>6.1}s  {state}{figures}", secs(started)));
            (said, said_at) = (state, Instant::now());
        }
        let verdict = progress::verdict(svc, since, first.as_deref());
        if verdict != Verdict::Rolling {
            return Ok(finish(service, &verdict, svc, started, json));
        }
        tokio::select! {
            changed = snapshots.changed() => if changed.is_err() {
                return Err(CliError::new(exit::CONNECTION, "the source stopped"));
            },
            () = tokio::time::sleep(FIGURES_EVERY) => {}
            () = tokio::time::sleep_until(deadline) => {
                let human = humantime::format_duration(timeout);
                if json {
                    let out = json!({"service": service, "outcome": "timeout",
                        "elapsed_s": secs(started), "deployments": svc.deployments});
                    print_json(&out);
                }
                let text = format!("{service}: still rolling after {human}: {said}");
                return Err(CliError::new(exit::TIMEOUT, text));
            }
        }
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

fn finish(service: &str, verdict: &Verdict, svc: &Service, started: Instant, json: bool) -> u8 {
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
        print_json(&out);
    }
    line(json, &text);
    code
}
