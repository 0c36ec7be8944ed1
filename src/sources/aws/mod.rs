//! The AWS source: ECS services that serve MCP, their tasks and endpoints, rollouts and
//! events, logs from CloudWatch Logs, Service Connect traffic from CloudWatch, a Cloud Map
//! cross-check, and the operator's actions — refreshed by a scheduler that spends a fixed
//! call budget per cycle, speeds up during rollouts, backs off with jitter when AWS pushes
//! back, and keeps the last good picture (marked stale, with its age) when a refresh fails.
//!
//! - `client`: SDK configuration, errors in words, the host-prefix fix for custom endpoints
//! - `counters`: API attempts per operation and the per-cycle budget
//! - `ecs`, `cloudmap`, `logs`, `cloudwatch`: one API family each; `scrape`: task /metrics
//! - `refresh`: a cycle's core (each cluster's read in `lanes`), `enrich`: the rest (Cloud Map cross-check, traffic, /metrics, log groups), `schedule`: budgets and delays; `mapping`: ECS shapes → fleet model; `snapshot`: the assembly
//! - `actions`: scale, force deploy, rollback, stop task; `revision`: a new task definition
//!   revision with another image or environment, for a deploy that changes them

mod actions;
pub mod client;
mod cloudmap;
mod cloudwatch;
pub mod counters;
mod ecs;
mod enrich;
mod lane;
mod lanes;
mod logs;
pub mod mapping;
mod refresh;
mod revision;
mod schedule;
mod scrape;
mod snapshot;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use rand::Rng;
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use self::{
    client::{AwsError, Clients},
    counters::Budget,
    ecs::Calls,
    refresh::Discovery,
};
use crate::fleet::{
    Attention, CommandError, CommandRequest, FleetSnapshot, LogSender, Source, SourceHandle,
    SourceKind, attention, log_channel,
};

/// The `[aws]` section of the config file; flags override it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Clusters to watch; empty means every cluster in the region.
    pub clusters: Vec<String>,
    /// Show every service, not only those recognised as MCP.
    pub all: bool,
    /// Seconds between steady refreshes (a rollout in progress refreshes faster).
    pub interval_secs: u64,
    /// Service name → MCP URL to use instead of task addresses (e.g. an internal ALB).
    pub url_overrides: BTreeMap<String, String>,
    /// API calls the first, cold discovery may make.
    pub cold_budget: u64,
    /// API calls each later refresh may make.
    pub cycle_budget: u64,
    /// API calls per second while the picture is still arriving (a big account's first look
    /// takes several cycles). ECS's rate limits are per account and Region, shared with every
    /// other tool and pipeline: keep this well below them.
    pub catch_up_rate: f64,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            profile: None,
            region: None,
            endpoint_url: None,
            clusters: Vec::new(),
            all: false,
            interval_secs: 10,
            url_overrides: BTreeMap::new(),
            cold_budget: 80,
            cycle_budget: 30,
            catch_up_rate: 15.0,
        }
    }
}

/// After an action, refresh this soon to show its effect.
const AFTER_ACTION: Duration = Duration::from_millis(500);
/// Lines the log channel holds before it drops (and counts) them.
const LOG_CHANNEL: usize = 20_000;

pub struct AwsSource {
    settings: AwsSettings,
}

impl AwsSource {
    pub fn new(settings: AwsSettings) -> Self {
        Self { settings }
    }
}

impl Source for AwsSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Aws
    }

    fn start(self: Box<Self>) -> SourceHandle {
        let mut first = FleetSnapshot::empty(SourceKind::Aws, "connecting…");
        first.stale = Some("connecting to AWS…".into());
        first.loading = true;
        let (snapshots_tx, snapshots) = watch::channel(Arc::new(first));
        let (logs_tx, logs) = log_channel(LOG_CHANNEL);
        let (commands, command_rx) = mpsc::channel(8);
        let shutdown = CancellationToken::new();
        let (pointer, attention) = attention();
        let worker = Worker {
            settings: self.settings,
            snapshots: snapshots_tx,
            logs: logs_tx,
            commands: command_rx,
            attention,
            stop: shutdown.clone(),
        };
        tokio::spawn(worker.run());
        SourceHandle::new(snapshots, logs, commands, shutdown).with_pointer(pointer)
    }
}

struct Worker {
    settings: AwsSettings,
    snapshots: watch::Sender<Arc<FleetSnapshot>>,
    logs: LogSender,
    commands: mpsc::Receiver<CommandRequest>,
    /// The service on the operator's screen, read first; and "refresh now".
    attention: Attention,
    stop: CancellationToken,
}

impl Worker {
    async fn run(self) {
        let clients = tokio::select! {
            _ = self.stop.cancelled() => return,
            connected = client::connect(&self.settings) => connected,
        };
        match clients {
            Ok(clients) => self.refresh_loop(clients).await,
            Err(error) => self.failed_for_good(error).await,
        }
    }

    /// Set-up failed (no region, no credentials): say so, and refuse commands until stopped.
    async fn failed_for_good(mut self, error: AwsError) {
        let mut snapshot = FleetSnapshot::empty(SourceKind::Aws, "not connected");
        snapshot.stale = Some(error.to_string());
        let _ = self.snapshots.send(Arc::new(snapshot));
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => return,
                request = self.commands.recv() => match request {
                    Some(request) => {
                        let _ = request.reply.send(Err(CommandError::Refused(error.to_string())));
                    }
                    None => return,
                },
            }
        }
    }

    async fn refresh_loop(mut self, clients: Clients) {
        let mut discovery = Discovery::default();
        let http = scrape::client();
        let mut failures: u32 = 0;
        loop {
            let started = tokio::time::Instant::now();
            let limit = schedule::cycle_limit(&self.settings, discovery.catching_up());
            let budget = Budget::new(limit, clients.counters.clone());
            let calls = Calls {
                clients: &clients,
                budget: &budget,
            };
            let focus = self.attention.focus.borrow_and_update().clone();
            let core = discovery
                .refresh_core(&calls, &self.settings, focus.as_deref())
                .await;
            let errors = match core {
                Ok(()) => {
                    // While a big picture arrives, services and tasks are shown at once; the
                    // rest follows in the cycle's next snapshot.
                    if discovery.catching_up() {
                        self.publish(&discovery, &clients, None);
                    }
                    discovery.refresh_enrichment(&calls, &self.logs).await
                }
                Err(error) => vec![error],
            };
            tracing::debug!(
                spent = budget.spent(),
                limit,
                errors = errors.len(),
                "aws refresh"
            );
            // The first error is the one the header shows.
            let last_error = errors.into_iter().next();
            match &last_error {
                Some(error) => {
                    failures += 1;
                    tracing::warn!(%error, "aws refresh failed");
                }
                None => failures = 0,
            }
            // The picture first; the tasks' own metrics (no AWS call, possibly slow from
            // outside the VPC) follow in a second snapshot, unless the next cycle is due first:
            // the scrape never holds up the refresh.
            self.publish(&discovery, &clients, last_error.as_ref());
            let scraping = scrape::scrape_all(&http, discovery.scrape_targets());
            tokio::pin!(scraping);
            let mut scraped = false;
            let delay = self.next_delay(&discovery, budget.spent(), failures, last_error.as_ref());
            // The pace is of cycle starts: the time the calls took counts.
            let sleep = tokio::time::sleep_until(started + delay);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = self.stop.cancelled() => return,
                    found = &mut scraping, if !scraped => {
                        scraped = true;
                        discovery.apply_scrape(found);
                        self.publish(&discovery, &clients, last_error.as_ref());
                    }
                    _ = &mut sleep => break,
                    _ = self.attention.wake.notified() => break,
                    changed = self.attention.focus.changed(), if failures == 0 => {
                        // A service whose endpoints are unknown is worth reading at once.
                        let focus = self.attention.focus.borrow().clone();
                        if changed.is_ok() && discovery.unread(focus.as_deref()) {
                            break;
                        }
                    }
                    request = self.commands.recv() => {
                        let Some(request) = request else { return };
                        let answer = actions::execute(&clients, &discovery, &request.command).await;
                        let acted = answer.is_ok();
                        let _ = request.reply.send(answer);
                        if acted {
                            sleep.as_mut().reset(tokio::time::Instant::now() + AFTER_ACTION);
                        }
                    }
                }
            }
        }
    }

    fn publish(&self, discovery: &Discovery, clients: &Clients, error: Option<&AwsError>) {
        let stale = error.map(|error| match error {
            AwsError::Budget => "refresh cut short by its API call budget".to_string(),
            error => error.to_string(),
        });
        let snapshot = snapshot::build(
            discovery,
            &self.settings,
            &clients.region,
            snapshot::Status {
                stale,
                api_calls: clients.counters.calls(),
                api_errors: clients.counters.errors(),
                api: clients.counters.stats(),
            },
        );
        let _ = self.snapshots.send(Arc::new(snapshot));
    }

    fn next_delay(
        &self,
        discovery: &Discovery,
        spent: u64,
        failures: u32,
        error: Option<&AwsError>,
    ) -> Duration {
        let rolling = discovery.services.values().any(|w| {
            w.service.deployments().iter().any(|d| {
                d.rollout_state() == Some(&aws_sdk_ecs::types::DeploymentRolloutState::InProgress)
            })
        });
        let pace = if discovery.catching_up() {
            schedule::Pace::CatchingUp { spent }
        } else if rolling {
            schedule::Pace::Rolling
        } else {
            schedule::Pace::Steady
        };
        let jitter = rand::rng().random_range(0.5..1.0);
        schedule::delay(&self.settings, pace, failures, error, jitter)
    }
}
