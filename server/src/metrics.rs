//! Prometheus metrics for one replica. The console scrapes these (in-flight, calls by outcome,
//! latency) to show concurrency and error rates per task, so names and labels are a contract.

use std::{
    collections::HashMap,
    sync::{
        Arc, OnceLock, PoisonError, RwLock,
        atomic::{AtomicI64, Ordering},
    },
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram, info::Info},
    registry::Registry,
};

/// Outcome of one tool call, as counted in `mcpfleet_tool_calls_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The tool ran and returned `isError: true`.
    ToolError,
    /// The call failed at the protocol level (unknown tool, invalid arguments, internal error).
    ProtocolError,
    Cancelled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ToolError => "tool_error",
            Outcome::ProtocolError => "protocol_error",
            Outcome::Cancelled => "cancelled",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    tool: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    revision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FaultPlanLabels {
    plan: String,
    seed: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FaultLabels {
    tool: String,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~33 s: loopback echo sits at the bottom, a slow upstream at the top.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0005, 2.0, 17,
    ))
}

pub struct Metrics {
    registry: Registry,
    in_flight: Gauge,
    calls: Family<CallLabels, Counter>,
    latency: Family<ToolLabels, Histogram, fn() -> Histogram>,
    open_streams: Gauge,
    open_sessions: Gauge,
    faults_injected: Family<FaultLabels, Counter>,
    draining: Gauge,
    /// Mirrors `in_flight` for readers that need the value without the registry (whoami, drain).
    in_flight_now: Arc<AtomicI64>,
    /// Each tool's series, found once: a family lookup builds and hashes an owned label set on
    /// every call.
    tools: RwLock<HashMap<String, Arc<ToolSeries>>>,
}

/// Handles on one tool's series in `calls` and `latency` (clones share the counts). A calls
/// series appears in the registry with its first call, as before.
struct ToolSeries {
    calls: [OnceLock<Counter>; 4],
    latency: Histogram,
}

impl Metrics {
    /// `faults` is the active fault plan, published as an info metric so dashboards show it.
    pub fn new(faults: Option<&crate::faults::FaultInjector>) -> Self {
        let mut registry = Registry::with_prefix("mcpfleet");
        let in_flight = Gauge::default();
        let calls = Family::<CallLabels, Counter>::default();
        let latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let open_streams = Gauge::default();
        let open_sessions = Gauge::default();
        let faults_injected = Family::<FaultLabels, Counter>::default();
        let draining = Gauge::default();
        registry.register(
            "in_flight_calls",
            "Tool calls being served now",
            in_flight.clone(),
        );
        registry.register(
            "tool_calls",
            "Tool calls by tool and outcome",
            calls.clone(),
        );
        registry.register(
            "tool_call_duration_seconds",
            "Tool call latency by tool",
            latency.clone(),
        );
        registry.register(
            "open_streams",
            "Open SSE response streams",
            open_streams.clone(),
        );
        registry.register("open_sessions", "Open MCP sessions", open_sessions.clone());
        registry.register(
            "faults_injected",
            "Tool errors injected by the fault plan",
            faults_injected.clone(),
        );
        registry.register(
            "draining",
            "1 while the replica drains after SIGTERM",
            draining.clone(),
        );
        registry.register(
            "build",
            "Build of this replica",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                revision: crate::BUILD_REVISION,
            }),
        );
        if let Some(injector) = faults.filter(|injector| injector.is_active()) {
            registry.register(
                "fault_plan",
                "Active fault injection plan (faults are injected on purpose)",
                Info::new(FaultPlanLabels {
                    plan: injector.plan().to_string(),
                    seed: injector.seed().to_string(),
                }),
            );
        }
        Self {
            registry,
            in_flight,
            calls,
            latency,
            open_streams,
            open_sessions,
            faults_injected,
            draining,
            in_flight_now: Arc::new(AtomicI64::new(0)),
            tools: RwLock::default(),
        }
    }

    pub fn call_started(&self) {
        self.in_flight.inc();
        self.in_flight_now.fetch_add(1, Ordering::Relaxed);
    }

    pub fn call_finished(&self, tool: &str, outcome: Outcome, seconds: f64) {
        self.in_flight.dec();
        self.in_flight_now.fetch_sub(1, Ordering::Relaxed);
        let series = self.tool_series(tool);
        series.calls[outcome.index()]
            .get_or_init(|| {
                self.calls
                    .get_or_create(&CallLabels {
                        tool: tool.to_string(),
                        outcome: outcome.as_str(),
                    })
                    .clone()
            })
            .inc();
        series.latency.observe(seconds);
    }

    fn tool_series(&self, tool: &str) -> Arc<ToolSeries> {
        let known = self.tools.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = known.get(tool) {
            return series.clone();
        }
        drop(known);
        let mut tools = self.tools.write().unwrap_or_else(PoisonError::into_inner);
        tools
            .entry(tool.to_string())
            .or_insert_with(|| {
                Arc::new(ToolSeries {
                    calls: Default::default(),
                    latency: self
                        .latency
                        .get_or_create(&ToolLabels {
                            tool: tool.to_string(),
                        })
                        .clone(),
                })
            })
            .clone()
    }

    pub fn fault_injected(&self, tool: &str) {
        self.faults_injected
            .get_or_create(&FaultLabels {
                tool: tool.to_string(),
            })
            .inc();
    }

    pub fn in_flight(&self) -> i64 {
        self.in_flight_now.load(Ordering::Relaxed)
    }

    pub fn stream_opened(&self) -> StreamGuard {
        self.open_streams.inc();
        StreamGuard(self.open_streams.clone())
    }

    pub fn set_open_sessions(&self, sessions: usize) {
        self.open_sessions.set(sessions as i64);
    }

    pub fn set_draining(&self) {
        self.draining.set(1);
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

/// Decrements the open-streams gauge when the stream's body is dropped, however it ends.
pub struct StreamGuard(Gauge);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_per_tool_and_outcome_as_they_happen() {
        let metrics = Metrics::new(None);
        for _ in 0..3 {
            metrics.call_started();
            metrics.call_finished("echo", Outcome::Ok, 0.001);
        }
        metrics.call_started();
        metrics.call_finished("fail", Outcome::ToolError, 0.002);
        let text = metrics.render();
        assert!(
            text.contains(r#"mcpfleet_tool_calls_total{tool="echo",outcome="ok"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"mcpfleet_tool_calls_total{tool="fail",outcome="tool_error"} 1"#),
            "{text}"
        );
        assert!(
            !text.contains(r#"tool="echo",outcome="tool_error""#),
            "{text}"
        );
        assert!(
            text.contains(r#"mcpfleet_tool_call_duration_seconds_count{tool="echo"} 3"#),
            "{text}"
        );
        assert_eq!(metrics.in_flight(), 0);
    }
}
