//! The connection doctor: one endpoint checked step by step — DNS, TCP, TLS where the URL is
//! https, an HTTP request to the MCP path, `/healthz`, the MCP handshake (initialize or
//! server/discover), tools/list — each with its latency and, when it fails, what to check.
//! The first failing step ends the run; the steps after it are skipped.
//!
//! The low-level steps (`net.rs`: DNS, TCP, TLS) are done here with tokio and rustls, verified
//! the way reqwest verifies (rustls with the platform verifier); the HTTP step (`http.rs`)
//! reads status and headers only; the MCP steps (`session.rs`) go through the same client as a
//! call, so the endpoint's credentials, SigV4 and stored sign-ins apply as they do there.

mod http;
mod net;
mod session;

use std::time::{Duration, Instant};

use crate::fleet::Endpoint;
use serde::Serialize;

use super::{McpError, PoolConfig, route::Candidate};

/// The steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepName {
    Dns,
    Tcp,
    Tls,
    Http,
    Healthz,
    Handshake,
    Tools,
}

impl StepName {
    pub const ALL: [StepName; 7] = [
        StepName::Dns,
        StepName::Tcp,
        StepName::Tls,
        StepName::Http,
        StepName::Healthz,
        StepName::Handshake,
        StepName::Tools,
    ];

    pub fn label(self) -> &'static str {
        match self {
            StepName::Dns => "dns",
            StepName::Tcp => "tcp",
            StepName::Tls => "tls",
            StepName::Http => "http",
            StepName::Healthz => "healthz",
            StepName::Handshake => "handshake",
            StepName::Tools => "tools",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Failed,
    /// Not run, or nothing to check (an IP address needs no DNS); `detail` says why.
    Skipped,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One step's result. `detail` and `hint` may quote the server (a status line, a challenge):
/// whoever prints them makes them inert first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub step: StepName,
    pub outcome: Outcome,
    /// How long the step took; none for a step that did not run.
    #[serde(rename = "latency_ms", serialize_with = "millis")]
    pub latency: Option<Duration>,
    pub detail: String,
    /// What to check, for a failed step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

fn millis<S: serde::Serializer>(latency: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match latency {
        Some(latency) => s.serialize_f64((latency.as_secs_f64() * 1e6).round() / 1e3),
        None => s.serialize_none(),
    }
}

impl Step {
    /// The latency in milliseconds, with a decimal below 10 ms where loopback steps sit; a
    /// dash for a step that did not run.
    pub fn latency_text(&self) -> String {
        match self.latency.map(|l| l.as_secs_f64() * 1000.0) {
            None => "-".into(),
            Some(ms) if ms < 10.0 => format!("{ms:.1}ms"),
            Some(ms) => format!("{ms:.0}ms"),
        }
    }

    fn ok(step: StepName, started: Instant, detail: impl Into<String>) -> Self {
        Self {
            step,
            outcome: Outcome::Ok,
            latency: Some(started.elapsed()),
            detail: detail.into(),
            hint: None,
        }
    }

    fn failed(
        step: StepName,
        started: Instant,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            step,
            outcome: Outcome::Failed,
            latency: Some(started.elapsed()),
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }

    fn skipped(step: StepName, why: impl Into<String>) -> Self {
        Self {
            step,
            outcome: Outcome::Skipped,
            latency: None,
            detail: why.into(),
            hint: None,
        }
    }
}

/// What was checked and how each step went, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    pub url: String,
    pub steps: Vec<Step>,
}

impl Diagnosis {
    /// The step that failed, if one did.
    pub fn failed(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.outcome == Outcome::Failed)
    }
}

/// A doctor's news as it runs: which endpoint (and task) it checks, each step as it ends,
/// then the whole diagnosis — or why there was nothing to check.
#[derive(Debug, Clone)]
pub enum DoctorUpdate {
    Target { task_id: String, url: String },
    Step(Step),
    Done(Result<Diagnosis, super::McpError>),
}

/// Where a doctor's news goes: a channel of the caller's, in whatever envelope it reads.
pub type Tell = Box<dyn Fn(DoctorUpdate) + Send + Sync>;

/// The doctor of the task `chosen` names, its news told as it runs.
pub(crate) async fn run(chosen: Result<Candidate, McpError>, config: PoolConfig, tell: Tell) {
    let candidate = match chosen {
        Ok(candidate) => candidate,
        Err(error) => return tell(DoctorUpdate::Done(Err(error))),
    };
    tell(DoctorUpdate::Target {
        task_id: candidate.task_id.clone(),
        url: candidate.endpoint.url.clone(),
    });
    let on_step = |step: &Step| tell(DoctorUpdate::Step(step.clone()));
    let diagnosis = diagnose(&candidate.endpoint, &config, on_step).await;
    tell(DoctorUpdate::Done(Ok(diagnosis)));
}

/// Runs every step against `endpoint`, telling `on_step` of each as it ends.
pub async fn diagnose(
    endpoint: &Endpoint,
    config: &PoolConfig,
    on_step: impl Fn(&Step),
) -> Diagnosis {
    let mut done: Vec<Step> = Vec::new();
    let mut record = |step: Step| {
        on_step(&step);
        let failed = step.outcome == Outcome::Failed;
        done.push(step);
        failed
    };
    let url = endpoint.url.clone();
    'run: {
        let target = match net::Target::parse(&url) {
            Ok(target) => target,
            Err(step) => {
                record(step);
                break 'run;
            }
        };
        let (step, addresses) = net::resolve(&target).await;
        if record(step) {
            break 'run;
        }
        let (step, stream) = net::connect(&addresses, config.connect_timeout).await;
        if record(step) {
            break 'run;
        }
        let step = match stream {
            Some(stream) if target.tls => net::handshake(&target, stream).await,
            _ => Step::skipped(StepName::Tls, "plain HTTP"),
        };
        if record(step) {
            break 'run;
        }
        let client = http::client(config.connect_timeout);
        let step = http::mcp_path(&client, endpoint, config).await;
        if record(step) {
            break 'run;
        }
        if record(http::healthz(&client, &target).await) {
            break 'run;
        }
        for step in session::steps(endpoint, config).await {
            if record(step) {
                break 'run;
            }
        }
    }
    // Everything after a failure is named, so a reader sees what was not checked.
    let failed = done
        .iter()
        .find(|s| s.outcome == Outcome::Failed)
        .map(|s| s.step);
    if let Some(failed) = failed {
        for name in StepName::ALL.into_iter().skip(done.len()) {
            let step = Step::skipped(name, format!("{} failed", failed.label()));
            on_step(&step);
            done.push(step);
        }
    }
    Diagnosis { url, steps: done }
}

#[cfg(test)]
mod tests;
