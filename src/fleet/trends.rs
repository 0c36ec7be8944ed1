//! Figures derived from the fleet's counters, computed once per sample rather than in a
//! screen's render: call and error rates from a task's own scrape times over a window, and
//! its recent figures (`Recent`) over a longer one (the sources attach both to
//! `TaskMetrics`); and short series of in-flight calls per service and per task that the
//! console samples on a fixed cadence, whatever screen is on top.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, SystemTime},
};

use super::{
    Bucket, FigureSource, FleetSnapshot, Recent, TaskMetrics,
    recent::{RECENT_WINDOW, bucket_deltas},
};

/// Rates are taken over the samples of this last stretch.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);
/// Two samples closer than this give no rate: a count over a few milliseconds says nothing.
const MIN_SPAN: Duration = Duration::from_millis(1500);
/// Points kept per series (the sparklines show the newest of them).
pub const TREND_POINTS: usize = 20;

/// One scrape of a task's counters and latency histogram.
#[derive(Debug, Clone)]
struct Sample {
    at: SystemTime,
    calls: u64,
    errors: u64,
    buckets: Vec<Bucket>,
}

/// A task's counter samples over the last `RECENT_WINDOW`, by the time each was scraped.
#[derive(Debug, Clone, Default)]
pub struct CounterWindow {
    samples: VecDeque<Sample>,
}

impl CounterWindow {
    /// Adds a scrape (a repeat of the newest one is ignored; a counter that went down means
    /// the process restarted, and the window starts again) and returns the metrics with their
    /// rates and recent figures filled in.
    pub fn observe(&mut self, mut metrics: TaskMetrics) -> TaskMetrics {
        let buckets = std::mem::take(&mut metrics.buckets);
        if let Some(at) = metrics.fetched_at {
            let (calls, errors) = (metrics.calls, metrics.errors);
            let sample = Sample {
                at,
                calls,
                errors,
                buckets,
            };
            match self.samples.back() {
                Some(last) if at <= last.at => {}
                Some(last) if calls < last.calls || errors < last.errors => {
                    self.samples.clear();
                    self.samples.push_back(sample);
                }
                _ => self.samples.push_back(sample),
            }
            while self
                .samples
                .get(1)
                .is_some_and(|second| age(at, second.at) >= RECENT_WINDOW)
            {
                self.samples.pop_front();
            }
        }
        let rates = self.rates();
        metrics.calls_per_sec = rates.map(|r| r.0);
        metrics.errors_per_sec = rates.map(|r| r.1);
        metrics.recent = self.recent();
        metrics
    }

    /// The newest sample and the one a window's figures start from: the newest that is at
    /// least `window` older, else the oldest kept; none when they are too close together.
    fn span(&self, window: Duration) -> Option<(&Sample, &Sample, Duration)> {
        let last = self.samples.back()?;
        let first = self
            .samples
            .iter()
            .rev()
            .find(|s| age(last.at, s.at) >= window)
            .or(self.samples.front())?;
        let span = last
            .at
            .duration_since(first.at)
            .ok()
            .filter(|s| *s >= MIN_SPAN)?;
        Some((first, last, span))
    }

    /// Calls and errors per second over the last `RATE_WINDOW`.
    fn rates(&self) -> Option<(f64, f64)> {
        let (first, last, span) = self.span(RATE_WINDOW)?;
        let seconds = span.as_secs_f64();
        Some((
            (last.calls - first.calls) as f64 / seconds,
            (last.errors - first.errors) as f64 / seconds,
        ))
    }

    /// Calls, error rate and latency quantiles over the last `RECENT_WINDOW`.
    fn recent(&self) -> Option<Recent> {
        let (first, last, span) = self.span(RECENT_WINDOW)?;
        let (calls, errors) = (last.calls - first.calls, last.errors - first.errors);
        let recent = Recent::new(FigureSource::Metrics, span, calls, errors);
        Some(match bucket_deltas(&first.buckets, &last.buckets) {
            Some(window) => recent.with_histogram(&window),
            None => recent,
        })
    }
}

fn age(now: SystemTime, then: SystemTime) -> Duration {
    now.duration_since(then).unwrap_or_default()
}

/// Counter windows for every task of a source, kept across snapshots.
#[derive(Debug, Default)]
pub struct RateBook {
    windows: HashMap<String, CounterWindow>,
}

impl RateBook {
    pub fn observe(&mut self, task_id: &str, metrics: TaskMetrics) -> TaskMetrics {
        self.windows
            .entry(task_id.to_string())
            .or_default()
            .observe(metrics)
    }

    /// Forgets tasks for which `keep` is false (gone from the fleet).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.windows.retain(|id, _| keep(id));
    }
}

/// In-flight calls over time, per service (summed over its live tasks) and per task.
#[derive(Debug, Default)]
pub struct Trends {
    pub services: HashMap<String, VecDeque<u64>>,
    pub tasks: HashMap<String, VecDeque<u64>>,
}

impl Trends {
    /// Takes one point of every series from `snapshot`; returns whether any series changed
    /// what it shows (an idle fleet's zeros shifting along do not).
    pub fn sample(&mut self, snapshot: &FleetSnapshot) -> bool {
        let mut changed = false;
        let mut push = |series: &mut VecDeque<u64>, value: u64| {
            changed |= series.iter().any(|&v| v != value) || series.is_empty();
            series.push_back(value);
            if series.len() > TREND_POINTS {
                series.pop_front();
            }
        };
        let mut services = HashMap::new();
        let mut tasks = HashMap::new();
        for service in &snapshot.services {
            let live = service.tasks.iter().filter(|t| t.stopped_at.is_none());
            let mut total = 0;
            for task in live {
                let in_flight = task.metrics.as_ref().map_or(0, |m| m.in_flight);
                total += in_flight;
                let mut series = self.tasks.remove(&task.id).unwrap_or_default();
                push(&mut series, in_flight);
                tasks.insert(task.id.clone(), series);
            }
            let mut series = self.services.remove(&service.name).unwrap_or_default();
            push(&mut series, total);
            services.insert(service.name.clone(), series);
        }
        changed |= !self.services.is_empty() || !self.tasks.is_empty();
        (self.services, self.tasks) = (services, tasks);
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scraped(seconds: u64, calls: u64, errors: u64) -> TaskMetrics {
        TaskMetrics {
            calls,
            errors,
            fetched_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)),
            ..TaskMetrics::default()
        }
    }

    #[test]
    fn rates_come_from_the_scrape_times_over_the_window() {
        let mut window = CounterWindow::default();
        assert_eq!(window.observe(scraped(100, 0, 0)).calls_per_sec, None);
        let two = window.observe(scraped(102, 40, 2));
        assert_eq!(
            (two.calls_per_sec, two.errors_per_sec),
            (Some(20.0), Some(1.0))
        );
        // A repeat of the same scrape (a snapshot published for another reason) changes nothing.
        assert_eq!(
            window.observe(scraped(102, 40, 2)).calls_per_sec,
            Some(20.0)
        );
        let mut last = None;
        for s in 2..=10 {
            last = window
                .observe(scraped(100 + 2 * s, 40 * s, 0))
                .calls_per_sec;
        }
        assert_eq!(last, Some(20.0), "the window slides and the rate holds");
        assert_eq!(window.samples.len(), 9, "the minute's scrapes are kept");
        // Nothing new for 12 s: the rate falls to what happened in the window.
        assert_eq!(
            window.observe(scraped(132, 400, 0)).calls_per_sec,
            Some(0.0)
        );
    }

    #[test]
    fn recent_figures_cover_the_minute_with_its_histogram() {
        let mut window = CounterWindow::default();
        let with_buckets = |seconds, calls, errors, fast, all| TaskMetrics {
            buckets: vec![
                Bucket {
                    le: 0.001,
                    count: fast,
                },
                Bucket {
                    le: f64::INFINITY,
                    count: all,
                },
            ],
            ..scraped(seconds, calls, errors)
        };
        window.observe(with_buckets(0, 1000, 0, 1000, 1000));
        window.observe(with_buckets(30, 1300, 30, 1000, 1300));
        let recent = window
            .observe(with_buckets(60, 1600, 60, 1000, 1600))
            .recent
            .unwrap();
        assert_eq!(
            (recent.calls, recent.errors, recent.seconds),
            (600, 60, 60.0)
        );
        assert_eq!(
            (recent.calls_per_sec, recent.error_rate),
            (10.0, Some(10.0))
        );
        assert_eq!(
            recent.p50_ms,
            Some(1.0),
            "every call of the minute was slower than 1 ms"
        );
        let next = window
            .observe(with_buckets(90, 1600, 60, 1000, 1600))
            .recent
            .unwrap();
        assert_eq!((next.calls, next.seconds), (300, 60.0), "the window slides");
    }

    #[test]
    fn a_restarted_counter_starts_the_window_again() {
        let mut window = CounterWindow::default();
        window.observe(scraped(0, 500, 5));
        window.observe(scraped(2, 540, 5));
        let restarted = window.observe(scraped(4, 3, 0));
        assert_eq!(
            restarted.calls_per_sec, None,
            "no negative rate across a restart"
        );
        assert_eq!(window.observe(scraped(6, 43, 0)).calls_per_sec, Some(20.0));
    }
}
