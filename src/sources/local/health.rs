//! Watching one task over HTTP: the health probe (GET of the health path, or an MCP
//! `initialize` for a server without one) and the `/metrics` scrape. Reports transitions and
//! fresh figures to the supervisor; never decides anything itself.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime},
};

use reqwest::{Client, StatusCode};
use tokio::{sync::mpsc, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::sources::metrics_text;

use super::{
    report::{WorkerEvent, WorkerReport},
    spec::HealthCheck,
};

/// While a task is starting it is probed this often, so a fast server is RUNNING at once.
const STARTING_INTERVAL: Duration = Duration::from_millis(50);
/// Consecutive failed probes that make a healthy task unhealthy.
const FAILURES_TO_UNHEALTHY: u32 = 3;
/// Scrapes whose text holds none of our series before a server counts as having no metrics.
const FOREIGN_SCRAPES_TO_GIVE_UP: u32 = 3;

pub struct HealthTarget {
    pub task_id: String,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub check: HealthCheck,
    pub health_interval: Duration,
    pub metrics_interval: Duration,
}

/// The client all probes share: loopback only, never through a proxy, short timeouts.
pub fn client() -> Client {
    Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(2))
        .pool_max_idle_per_host(2)
        .build()
        .expect("static client configuration is valid")
}

/// What the worker and the watcher of one task both need to know.
#[derive(Default)]
pub struct TaskFlags {
    /// Set on the first healthy probe; a start that never got here may be retried.
    pub ever_healthy: AtomicBool,
    /// Set when the task is told to stop: no more health reports, but the scrape goes on so
    /// the in-flight calls of a draining task can be watched going to zero.
    pub draining: AtomicBool,
}

/// Probes and scrapes until `stop`.
pub async fn watch(
    probe: HealthTarget,
    http: Client,
    events: mpsc::Sender<WorkerEvent>,
    stop: CancellationToken,
    flags: Arc<TaskFlags>,
) {
    let report = |report: WorkerReport| {
        let event = WorkerEvent {
            task_id: probe.task_id.clone(),
            report,
        };
        let events = events.clone();
        async move { events.send(event).await.is_ok() }
    };
    let (mut healthy, mut failures) = (false, 0);
    let mut metrics = MetricsScraper::default();
    loop {
        let draining = flags.draining.load(Ordering::SeqCst);
        if !draining {
            let ok = tokio::select! {
                _ = stop.cancelled() => return,
                ok = check(&http, &probe.base, &probe.check) => ok,
            };
            let turned = if ok {
                failures = 0;
                !healthy
            } else {
                failures += 1;
                healthy && failures >= FAILURES_TO_UNHEALTHY
            };
            if turned {
                healthy = ok;
                flags.ever_healthy.fetch_or(ok, Ordering::SeqCst);
                if !report(WorkerReport::Health(ok)).await {
                    return;
                }
            }
        }
        if (healthy || draining) && metrics.due(probe.metrics_interval) {
            let scraped = tokio::select! {
                _ = stop.cancelled() => return,
                scraped = metrics.scrape(&http, &probe.base) => scraped,
            };
            if let Some(scraped) = scraped
                && !report(WorkerReport::Metrics(scraped, SystemTime::now())).await
            {
                return;
            }
        }
        let pause = if flags.ever_healthy.load(Ordering::SeqCst) {
            probe.health_interval
        } else {
            STARTING_INTERVAL.min(probe.health_interval)
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

async fn check(http: &Client, base: &str, check: &HealthCheck) -> bool {
    match check {
        HealthCheck::Get(path) => http
            .get(format!("{base}{path}"))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success()),
        HealthCheck::Initialize(path) => initialize(http, &format!("{base}{path}")).await,
    }
}

/// Any 2xx answer to an `initialize` means the server takes MCP calls. The session it may have
/// opened is closed again, so probing does not pile sessions up on the server.
async fn initialize(http: &Client, url: &str) -> bool {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "mcpfleet-health", "version": env!("CARGO_PKG_VERSION")}
        }
    });
    let response = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(&body)
        .send()
        .await;
    let Ok(response) = response else { return false };
    let healthy = response.status().is_success();
    let session = response.headers().get("mcp-session-id").cloned();
    drop(response);
    if let Some(session) = session {
        let _ = http
            .delete(url)
            .header("mcp-session-id", session)
            .send()
            .await;
    }
    healthy
}

/// Scrapes `/metrics` on its own schedule and stops trying on a server that has none.
#[derive(Default)]
struct MetricsScraper {
    next: Option<Instant>,
    foreign: u32,
    absent: bool,
}

impl MetricsScraper {
    fn due(&mut self, interval: Duration) -> bool {
        let now = Instant::now();
        if self.absent || self.next.is_some_and(|next| now < next) {
            return false;
        }
        self.next = Some(now + interval);
        true
    }

    async fn scrape(&mut self, http: &Client, base: &str) -> Option<metrics_text::Scraped> {
        let response = http.get(format!("{base}/metrics")).send().await.ok()?;
        if response.status() == StatusCode::NOT_FOUND {
            self.absent = true;
            return None;
        }
        if !response.status().is_success() {
            return None;
        }
        let text = response.text().await.ok()?;
        let scraped = metrics_text::parse(&text);
        if scraped.is_none() {
            self.foreign += 1;
            self.absent = self.foreign >= FOREIGN_SCRAPES_TO_GIVE_UP;
        }
        scraped
    }
}
