//! Figures derived from the fleet's counters, computed once per sample rather than in a
//! screen's render: call and error rates from a task's own scrape times over a window (the
//! sources attach them to `TaskMetrics`), and short series of in-flight calls per service and
//! per task that the console samples on a fixed cadence, whatever screen is on top.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, SystemTime},
};

use super::{FleetSnapshot, TaskMetrics};

/// Rates are taken over the samples of this last stretch.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);
/// Two samples closer than this give no rate: a count over a few milliseconds says nothing.
const MIN_SPAN: Duration = Duration::from_millis(1500);
/// Points kept per series (the sparklines show the newest of them).
pub const TREND_POINTS: usize = 20;

/// A task's counter samples, by the time each was scraped.
#[derive(Debug, Clone, Default)]
pub struct CounterWindow {
    samples: VecDeque<(SystemTime, u64, u64)>,
}

impl CounterWindow {
    /// Adds a scrape (a repeat of the newest one is ignored; a counter that went down means
    /// the process restarted, and the window starts again) and returns the metrics with their
    /// rates filled in.
    pub fn observe(&mut self, mut metrics: TaskMetrics) -> TaskMetrics {
        if let Some(at) = metrics.fetched_at {
            let newest = self.samples.back().copied();
            match newest {
                Some((last, _, _)) if at <= last => {}
                Some((_, calls, errors)) if metrics.calls < calls || metrics.errors < errors => {
                    self.samples.clear();
                    self.samples.push_back((at, metrics.calls, metrics.errors));
                }
                _ => self.samples.push_back((at, metrics.calls, metrics.errors)),
            }
            while self.samples.get(1).is_some_and(|(second, _, _)| {
                at.duration_since(*second).unwrap_or_default() >= RATE_WINDOW
            }) {
                self.samples.pop_front();
            }
        }
        let rates = self.rates();
        metrics.calls_per_sec = rates.map(|r| r.0);
        metrics.errors_per_sec = rates.map(|r| r.1);
        metrics
    }

    /// Calls and errors per second between the oldest and the newest sample.
    fn rates(&self) -> Option<(f64, f64)> {
        let (first, calls0, errors0) = *self.samples.front()?;
        let (last, calls1, errors1) = *self.samples.back()?;
        let span = last.duration_since(first).ok().filter(|s| *s >= MIN_SPAN)?;
        let seconds = span.as_secs_f64();
        Some((
            (calls1 - calls0) as f64 / seconds,
            (errors1 - errors0) as f64 / seconds,
        ))
    }
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
        assert_eq!(window.samples.len(), 6, "10 s of scrapes every 2 s");
        // Nothing new for 12 s: the rate falls to what happened in the window.
        assert_eq!(
            window.observe(scraped(132, 400, 0)).calls_per_sec,
            Some(0.0)
        );
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
