//! Counting every HTTP attempt the SDK makes, per operation, and the per-cycle call budget the
//! refresh scheduler spends. Attempts are counted (not operations) because a retried call costs
//! the account's API rate as much as a new one.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        interceptors::{
            Intercept,
            context::{BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef},
        },
        orchestrator::Metadata,
        runtime_components::RuntimeComponents,
    },
};
use aws_smithy_types::config_bag::ConfigBag;

use crate::fleet::ApiStat;

/// Shared by every client of one source.
#[derive(Debug, Default)]
pub struct ApiCounters {
    calls: AtomicU64,
    errors: AtomicU64,
    by_operation: Mutex<BTreeMap<String, ApiStat>>,
}

impl ApiCounters {
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn stats(&self) -> Vec<ApiStat> {
        let map = self.by_operation.lock().unwrap_or_else(|e| e.into_inner());
        map.values().cloned().collect()
    }

    fn record_call(&self, operation: String) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut map = self.by_operation.lock().unwrap_or_else(|e| e.into_inner());
        let stat = map.entry(operation.clone()).or_insert_with(|| ApiStat {
            operation,
            ..ApiStat::default()
        });
        stat.calls += 1;
    }

    fn record_error(&self, operation: String, error: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut map = self.by_operation.lock().unwrap_or_else(|e| e.into_inner());
        let stat = map.entry(operation.clone()).or_insert_with(|| ApiStat {
            operation,
            ..ApiStat::default()
        });
        stat.errors += 1;
        stat.last_error = Some(error);
    }
}

/// `ecs:DescribeServices` from the SDK's operation metadata.
fn operation(cfg: &ConfigBag) -> String {
    match cfg.load::<Metadata>() {
        Some(meta) => format!("{}:{}", iam_prefix(meta.service()), meta.name()),
        None => "unknown".into(),
    }
}

/// The SDK names services by their model (`ECS`, `CloudWatch Logs`); people know the IAM
/// prefixes.
fn iam_prefix(service: &str) -> String {
    match service.to_ascii_lowercase().replace(' ', "").as_str() {
        "ecs" => "ecs".into(),
        "cloudwatchlogs" | "logs" => "logs".into(),
        "cloudwatch" | "monitoring" => "cloudwatch".into(),
        "servicediscovery" => "servicediscovery".into(),
        other => other.to_string(),
    }
}

/// The interceptor that feeds `ApiCounters`.
#[derive(Debug, Clone)]
pub struct CountingInterceptor(pub Arc<ApiCounters>);

impl Intercept for CountingInterceptor {
    fn name(&self) -> &'static str {
        "mcpfleet-api-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.record_call(operation(cfg));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let status = context.response().map(|r| r.status().as_u16());
        let failed = match status {
            Some(code) => code >= 400,
            None => context.output_or_error().is_some_and(|r| r.is_err()),
        };
        if failed {
            // JSON protocols name the error in a header; the body may be any size.
            let kind = context
                .response()
                .and_then(|r| r.headers().get("x-amzn-errortype"))
                .map(|t| t.split(':').next().unwrap_or(t).to_string());
            let what = match (status, kind) {
                (Some(code), Some(kind)) => format!("HTTP {code} {kind}"),
                (Some(code), None) => format!("HTTP {code}"),
                (None, _) => "no response".to_string(),
            };
            self.0.record_error(operation(cfg), what);
        }
        Ok(())
    }
}

/// API calls one refresh cycle may still make. The scheduler asks before each operation,
/// reserving the SDK's maximum attempts so that retries cannot overspend.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    start: u64,
    counters: Arc<ApiCounters>,
}

impl Budget {
    pub fn new(limit: u64, counters: Arc<ApiCounters>) -> Self {
        let start = counters.calls();
        Self {
            limit,
            start,
            counters,
        }
    }

    pub fn spent(&self) -> u64 {
        self.counters.calls() - self.start
    }

    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.spent())
    }

    /// A budget of `1/parts` of what is left, counted by the same counters, so a cluster's
    /// read can be held to its share of the cycle.
    pub fn share(&self, parts: u64) -> Budget {
        Budget::new(self.remaining() / parts.max(1), self.counters.clone())
    }

    /// True when an operation of up to `attempts` HTTP attempts still fits.
    pub fn allows(&self, attempts: u64) -> bool {
        self.spent() + attempts <= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_reserves_every_attempt() {
        let counters = Arc::new(ApiCounters::default());
        let budget = Budget::new(5, counters.clone());
        assert!(budget.allows(5));
        for _ in 0..3 {
            counters.record_call("ecs:ListTasks".into());
        }
        assert_eq!(budget.spent(), 3);
        assert!(budget.allows(2));
        assert!(!budget.allows(3));
        let half = budget.share(2);
        assert_eq!(half.remaining(), 1);
        counters.record_call("ecs:ListTasks".into());
        assert_eq!(half.remaining(), 0);
        assert_eq!(budget.remaining(), 1);
    }

    #[test]
    fn stats_are_per_operation() {
        let counters = ApiCounters::default();
        counters.record_call("ecs:ListTasks".into());
        counters.record_call("ecs:ListTasks".into());
        counters.record_error("ecs:ListTasks".into(), "HTTP 400".into());
        let stats = counters.stats();
        assert_eq!(stats.len(), 1);
        assert_eq!(stats[0].calls, 2);
        assert_eq!(stats[0].errors, 1);
        assert_eq!(counters.errors(), 1);
    }
}
