//! `mcpfleet streams [SERVICE]`: each ready replica's SSE stream opened and watched for a while
//! (`--for`), then per replica the streams open, opened and re-opened, the keep-alive observed
//! (the longest silence between bytes) and how long the quietest stream has been silent, judged
//! against the idle timeout in front of the replicas (`--idle-timeout`, else the config file's
//! `[streams]`, else Service Connect's 300 s). Exits `STREAM_WARNING` when a replica's stream
//! would be cut there.

use std::time::{Duration, SystemTime};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::{
    config::Config,
    mcp::{
        self, Era, repro,
        streams::{StreamHealth, seconds},
    },
};

use super::{CliError, GlobalArgs, exit, source, table};

/// What `streams` was asked for.
pub struct StreamsArgs {
    pub service: Option<String>,
    /// How long each replica's streams are watched.
    pub watch_for: Duration,
    /// Overrides the config file's idle timeout for every service.
    pub idle_timeout: Option<Duration>,
    pub json: bool,
}

/// One replica's line of the report.
struct Replica {
    service: String,
    task: String,
    url: String,
    idle_timeout: Duration,
    health: Option<StreamHealth>,
    warning: Option<String>,
    error: Option<String>,
}

pub async fn run(global: &GlobalArgs, args: StreamsArgs) -> Result<u8, CliError> {
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let service = args.service.as_deref().filter(|name| !name.is_empty());
    if let Some(name) = service
        && snapshot.service(name).is_none()
    {
        return Err(source::mcp_error(
            &snapshot,
            mcp::McpError::UnknownService(name.to_string()),
        ));
    }
    let answerer = super::elicit::answer(super::elicit::Policy::Refuse);
    let mut config = global.worker_config(&opened.config, answerer.asks);
    // The standalone stream is a 2025-11-25 session's: a 2026-07-28 client opens none, so
    // unless told otherwise the replicas are asked for a session.
    if global.protocol_era.is_none() {
        config.pool.era = Era::Initialize;
    }
    let worker = mcp::worker::spawn(opened.handle.snapshots.clone(), config);
    let ready: Vec<(&str, &str, &str)> = snapshot
        .services
        .iter()
        .filter(|s| service.is_none_or(|name| s.name == name))
        .flat_map(|s| {
            s.ready_tasks().filter_map(move |t| {
                let url = t.endpoint.as_ref()?.url.as_str();
                Some((s.name.as_str(), t.id.as_str(), url))
            })
        })
        .collect();
    if ready.is_empty() {
        return Err(CliError::new(
            exit::NOT_FOUND,
            "no ready task to watch the streams of",
        ));
    }
    if !args.json {
        eprintln!(
            "mcpfleet: watching the streams of {} replica(s) for {}",
            ready.len(),
            seconds(args.watch_for)
        );
    }
    let probed = join_all(ready.iter().map(|(service, task, _)| {
        let worker = &worker;
        async move { worker.probe(service, Some(task)).await.err() }
    }))
    .await;
    tokio::time::sleep(args.watch_for).await;
    let health = worker.stream_health().await;
    let now = SystemTime::now();
    let replicas: Vec<Replica> = ready
        .iter()
        .zip(probed)
        .map(|((service, task, url), error)| {
            let idle_timeout = idle_timeout(&opened.config, &args, service);
            let health = health.get(*task).cloned();
            let warning = health
                .as_ref()
                .and_then(|h| h.judge(idle_timeout, now))
                .map(|w| w.to_string());
            Replica {
                service: service.to_string(),
                task: task.to_string(),
                url: url.to_string(),
                idle_timeout,
                health,
                warning,
                error: error.map(|e| e.to_string()),
            }
        })
        .collect();
    let warned = replicas.iter().any(|r| r.warning.is_some());
    if args.json {
        let out = json!({
            "for_ms": millis(args.watch_for),
            "warning": warned,
            "replicas": replicas.iter().map(|r| as_json(r, now)).collect::<Vec<_>>(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON values serialise")
        );
    } else {
        print!("{}", render(&replicas, now));
    }
    Ok(if warned {
        exit::STREAM_WARNING
    } else if replicas.iter().any(|r| r.error.is_some()) {
        exit::CONNECTION
    } else {
        exit::OK
    })
}

fn idle_timeout(config: &Config, args: &StreamsArgs, service: &str) -> Duration {
    args.idle_timeout
        .unwrap_or_else(|| config.streams.idle_timeout(service))
}

fn millis(duration: Duration) -> u64 {
    duration.as_millis() as u64
}

fn as_json(replica: &Replica, now: SystemTime) -> Value {
    let health = replica.health.clone().unwrap_or_default();
    let gap = |gap: Option<Duration>| gap.map(millis);
    json!({
        "service": replica.service,
        "task": replica.task,
        "url": replica.url,
        "idle_timeout_ms": millis(replica.idle_timeout),
        "open": health.open,
        "opened": health.opened,
        "reconnects": health.reconnects,
        "keep_alive_ms": gap(health.longest_gap),
        "last_gap_ms": gap(health.last_gap),
        "silent_ms": gap(health.silent_for(now)),
        "warning": replica.warning,
        "error": replica.error,
    })
}

const HEADER: &[&str] = &[
    "SERVICE",
    "TASK",
    "OPEN",
    "OPENED",
    "RECONNECTS",
    "KEEP-ALIVE",
    "LAST GAP",
    "SILENT",
    "IDLE TIMEOUT",
    "",
];

/// The table, then each warning and error spelled out under it.
fn render(replicas: &[Replica], now: SystemTime) -> String {
    let dash = |gap: Option<Duration>| gap.map_or("-".to_string(), seconds);
    let rows: Vec<Vec<String>> = replicas
        .iter()
        .map(|r| {
            let health = r.health.clone().unwrap_or_default();
            let mark = match (&r.warning, &r.error) {
                (Some(_), _) => "WARN",
                (None, Some(_)) => "ERROR",
                (None, None) => "ok",
            };
            vec![
                r.service.clone(),
                repro::replica_label(Some(&r.task)),
                health.open.to_string(),
                health.opened.to_string(),
                health.reconnects.to_string(),
                dash(health.longest_gap),
                dash(health.last_gap),
                dash(health.silent_for(now)),
                seconds(r.idle_timeout),
                mark.to_string(),
            ]
        })
        .collect();
    let mut out = table::render(HEADER, &rows);
    for replica in replicas {
        let named = format!("{} task {}", replica.service, replica.task);
        if let Some(warning) = &replica.warning {
            out.push_str(&format!("warning: {named}: {warning}\n"));
        }
        if let Some(error) = &replica.error {
            out.push_str(&format!(
                "error: {named}: {}\n",
                crate::inert::inert_line(error)
            ));
        }
        let streamless = replica.health.as_ref().is_none_or(|h| h.open == 0);
        if replica.error.is_none() && replica.warning.is_none() && streamless {
            out.push_str(&format!(
                "note: {named}: no SSE stream stayed open: the server offers this client \
                 none (a stateless server answers in JSON; a 2026-07-28 client has no \
                 standalone stream)\n"
            ));
        }
    }
    out
}
