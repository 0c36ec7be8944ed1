//! A run's figures: each worker counts into its own lane (one uncontended lock per call), and
//! the run's publisher takes every lane's window once a tick, adding it to the totals and the
//! timeline the report is made of.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Mutex, PoisonError},
    time::Duration,
};

use hdrhistogram::Histogram;
use serde::Serialize;

use super::super::repro::FailureKind;

/// Latencies are kept in microseconds, up to an hour, to three significant digits.
const HIGHEST_US: u64 = 3_600_000_000;
/// Timeline samples kept: the newest hour at the default tick.
const TIMELINE_KEPT: usize = 7_200;

/// Which replica served a call, as far as it is known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Replica {
    /// None when the call went through a URL in front of every task and the server did not
    /// name itself.
    pub task_id: Option<String>,
    pub revision: Option<u32>,
}

impl Replica {
    /// The task's first 8 characters, or `?`.
    pub fn label(&self) -> String {
        match &self.task_id {
            Some(id) => id.chars().take(8).collect(),
            None => "?".to_string(),
        }
    }
}

/// Calls, failures and latencies of one replica over some span.
#[derive(Debug, Clone)]
pub struct Tally {
    pub calls: u64,
    pub failures: u64,
    pub by_kind: BTreeMap<String, u64>,
    /// Latency of every call, failed or not, in microseconds.
    pub latency: Histogram<u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            calls: 0,
            failures: 0,
            by_kind: BTreeMap::new(),
            latency: Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("valid histogram bounds"),
        }
    }
}

impl Tally {
    pub fn record(&mut self, latency: Duration, failure: Option<&FailureKind>) {
        self.calls += 1;
        if let Some(kind) = failure {
            self.failures += 1;
            *self.by_kind.entry(kind.slug()).or_default() += 1;
        }
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency.saturating_record(micros.clamp(1, HIGHEST_US));
    }

    pub fn add(&mut self, other: &Tally) {
        self.calls += other.calls;
        self.failures += other.failures;
        for (kind, count) in &other.by_kind {
            *self.by_kind.entry(kind.clone()).or_default() += count;
        }
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
    }

    pub fn quantiles(&self) -> Latency {
        if self.latency.is_empty() {
            return Latency::default();
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Latency {
            p50_ms: ms(self.latency.value_at_quantile(0.50)),
            p90_ms: ms(self.latency.value_at_quantile(0.90)),
            p99_ms: ms(self.latency.value_at_quantile(0.99)),
            max_ms: ms(self.latency.max()),
            mean_ms: self.latency.mean() / 1000.0,
        }
    }

    /// Non-empty buckets doubling from 0.1 ms: the histogram a report carries.
    pub fn buckets(&self) -> Vec<Bucket> {
        if self.latency.is_empty() {
            return Vec::new();
        }
        self.latency
            .iter_log(100, 2.0)
            .filter(|step| step.count_since_last_iteration() > 0)
            .map(|step| Bucket {
                le_ms: step.value_iterated_to() as f64 / 1000.0,
                count: step.count_since_last_iteration(),
            })
            .collect()
    }
}

/// Latency quantiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Calls that took at most `le_ms` (and more than the previous bucket's bound).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    pub le_ms: f64,
    pub count: u64,
}

/// One worker's calls since the publisher last took them, by replica.
#[derive(Default)]
pub struct Lane {
    window: Mutex<BTreeMap<Replica, Tally>>,
}

impl Lane {
    pub fn record(&self, replica: &Replica, latency: Duration, failure: Option<&FailureKind>) {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        match window.get_mut(replica) {
            Some(tally) => tally.record(latency, failure),
            None => {
                let mut tally = Tally::default();
                tally.record(latency, failure);
                window.insert(replica.clone(), tally);
            }
        }
    }

    fn take(&self) -> BTreeMap<Replica, Tally> {
        std::mem::take(&mut *self.window.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Milliseconds as the load generator's reports print them: two decimals, whole from 100.
pub fn ms_text(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// One tick of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// Seconds since the measured window opened, at the tick's end.
    pub t_s: f64,
    pub calls_per_sec: f64,
    pub failures_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Calls per second of each replica, by its label.
    pub by_replica: BTreeMap<String, f64>,
}

/// The publisher's running totals.
#[derive(Default)]
pub struct Totals {
    pub replicas: BTreeMap<Replica, Tally>,
    pub timeline: VecDeque<Sample>,
}

impl Totals {
    /// Takes every lane's window into the totals and adds a sample for the `span` it covers,
    /// ending `t` after the window opened.
    pub fn collect(&mut self, lanes: &[std::sync::Arc<Lane>], t: Duration, span: Duration) {
        let mut tick = Tally::default();
        let mut by_replica = BTreeMap::new();
        let seconds = span.as_secs_f64().max(1e-3);
        for lane in lanes {
            for (replica, tally) in lane.take() {
                tick.add(&tally);
                *by_replica.entry(replica.label()).or_insert(0.0) += tally.calls as f64 / seconds;
                self.replicas.entry(replica).or_default().add(&tally);
            }
        }
        let quantiles = tick.quantiles();
        if self.timeline.len() == TIMELINE_KEPT {
            self.timeline.pop_front();
        }
        self.timeline.push_back(Sample {
            t_s: t.as_secs_f64(),
            calls_per_sec: tick.calls as f64 / seconds,
            failures_per_sec: tick.failures as f64 / seconds,
            p50_ms: quantiles.p50_ms,
            p99_ms: quantiles.p99_ms,
            by_replica,
        });
    }

    pub fn overall(&self) -> Tally {
        let mut all = Tally::default();
        for tally in self.replicas.values() {
            all.add(tally);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn replica(id: &str) -> Replica {
        Replica {
            task_id: Some(id.to_string()),
            revision: Some(1),
        }
    }

    #[test]
    fn lanes_add_up_per_replica_and_per_tick() {
        let lanes = vec![Arc::new(Lane::default()), Arc::new(Lane::default())];
        for _ in 0..90 {
            lanes[0].record(&replica("aaaa1111"), Duration::from_millis(2), None);
        }
        for _ in 0..10 {
            lanes[1].record(
                &replica("bbbb2222"),
                Duration::from_millis(40),
                Some(&FailureKind::HttpStatus(503)),
            );
        }
        let mut totals = Totals::default();
        totals.collect(&lanes, Duration::from_secs(1), Duration::from_millis(500));
        let all = totals.overall();
        assert_eq!((all.calls, all.failures), (100, 10));
        assert_eq!(all.by_kind["http_503"], 10);
        let sample = &totals.timeline[0];
        assert_eq!(sample.calls_per_sec, 200.0);
        assert_eq!(sample.failures_per_sec, 20.0);
        assert_eq!(sample.by_replica["bbbb2222"], 20.0);
        let quantiles = all.quantiles();
        assert!((1.99..2.01).contains(&quantiles.p50_ms), "{quantiles:?}");
        assert!((39.9..40.1).contains(&quantiles.p99_ms), "{quantiles:?}");

        // Taken once: the next tick starts empty.
        totals.collect(&lanes, Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(totals.overall().calls, 100);
        assert_eq!(totals.timeline[1].calls_per_sec, 0.0);
        let buckets = totals.replicas[&replica("aaaa1111")].buckets();
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 90);
    }
}
