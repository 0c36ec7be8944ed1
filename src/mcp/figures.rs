//! Per-task figures from the console's own calls, for servers that export no metrics of their
//! own (a third-party server, static URLs): every outcome the worker sees, kept for the recent
//! window, turned into `Recent` figures and outlier marks every few seconds, not per call.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

use crate::fleet::{
    FigureSource, FleetSnapshot, Outlier, Recent, outliers::outliers, recent::RECENT_WINDOW,
};

use super::{CallOutcome, OutcomeKind};

/// Outcomes kept per task: at a few hundred calls a second a minute would grow without end,
/// and the newest ten thousand say as much.
const MAX_CALLS: usize = 10_000;
/// Less than this since the first call counted is not a rate worth showing.
const MIN_SPAN: Duration = Duration::from_secs(1);

/// What the console's own calls say of each task over the recent window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFigures {
    pub by_task: HashMap<String, Recent>,
    /// Among tasks of services that have no figures from metrics.
    pub outliers: HashMap<String, Outlier>,
}

struct Seen {
    at: Instant,
    error: bool,
    latency: Duration,
}

#[derive(Default)]
pub struct CallBook {
    tasks: HashMap<String, VecDeque<Seen>>,
    /// When each task's first call was counted, for the span of a window not yet full.
    since: HashMap<String, Instant>,
    changed: bool,
}

impl CallBook {
    /// Counts a finished call against the replica that served it (none when it is unknown);
    /// a cancelled call says nothing of the replica.
    pub fn record(&mut self, outcome: &CallOutcome, at: Instant) {
        let Some(task) = outcome.served_by.as_ref().and_then(|s| s.task_id.clone()) else {
            return;
        };
        let error = match outcome.kind() {
            OutcomeKind::Ok => false,
            OutcomeKind::Cancelled => return,
            _ => true,
        };
        self.count(task, error, outcome.duration, at);
    }

    fn count(&mut self, task: String, error: bool, latency: Duration, at: Instant) {
        self.since.entry(task.clone()).or_insert(at);
        let calls = self.tasks.entry(task).or_default();
        calls.push_back(Seen { at, error, latency });
        if calls.len() > MAX_CALLS {
            calls.pop_front();
        }
        self.changed = true;
    }

    /// The figures at `now`, when they changed since the last time (a call counted, or one
    /// left the window); tasks gone from `fleet` are forgotten.
    pub fn figures(&mut self, fleet: &FleetSnapshot, now: Instant) -> Option<CallFigures> {
        let live = |id: &str| fleet.services.iter().any(|s| s.task(id).is_some());
        self.tasks.retain(|id, _| live(id));
        self.since.retain(|id, _| live(id));
        for calls in self.tasks.values_mut() {
            while calls.front().is_some_and(|c| now - c.at > RECENT_WINDOW) {
                calls.pop_front();
                self.changed = true;
            }
        }
        self.tasks.retain(|_, calls| !calls.is_empty());
        if !std::mem::take(&mut self.changed) {
            return None;
        }
        let mut figures = CallFigures::default();
        for (id, calls) in &self.tasks {
            let span = now - self.since[id];
            if span < MIN_SPAN {
                // Too soon for a rate: its figures are news next time.
                self.changed = true;
                continue;
            }
            let span = span.min(RECENT_WINDOW);
            figures.by_task.insert(id.clone(), recent(calls, span));
        }
        for service in &fleet.services {
            let live = service.tasks.iter().filter(|t| t.stopped_at.is_none());
            let live: Vec<_> = live.collect();
            let measured = live
                .iter()
                .any(|t| t.metrics.as_ref().is_some_and(|m| m.recent.is_some()));
            if measured {
                continue;
            }
            let each: Vec<Option<Recent>> = live
                .iter()
                .map(|t| figures.by_task.get(&t.id).cloned())
                .collect();
            for (task, mark) in live.iter().zip(outliers(&each)) {
                if let Some(mark) = mark {
                    figures.outliers.insert(task.id.clone(), mark);
                }
            }
        }
        Some(figures)
    }
}

fn recent(calls: &VecDeque<Seen>, span: Duration) -> Recent {
    let errors = calls.iter().filter(|c| c.error).count() as u64;
    let mut latencies: Vec<Duration> = calls.iter().map(|c| c.latency).collect();
    latencies.sort_unstable();
    // Nearest rank: every latency is known, no histogram to interpolate in.
    let rank = |q: f64| {
        let index = ((q * latencies.len() as f64).ceil() as usize).saturating_sub(1);
        latencies.get(index).map(|d| d.as_secs_f64() * 1000.0)
    };
    Recent {
        p50_ms: rank(0.5),
        p99_ms: rank(0.99),
        ..Recent::new(FigureSource::Console, span, calls.len() as u64, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{Endpoint, FleetSnapshot, Service, SourceKind, Task};

    fn fleet(ids: &[&str]) -> FleetSnapshot {
        let mut fleet = FleetSnapshot::empty(SourceKind::Static, "test");
        let endpoint = Endpoint::new("http://127.0.0.1:1/mcp", "127.0.0.1:1");
        let tasks = ids
            .iter()
            .map(|id| Task::serving(*id, endpoint.clone()))
            .collect();
        fleet.services.push(Service {
            name: "static".into(),
            desired: 3,
            running: 3,
            pending: 0,
            deployments: Vec::new(),
            tasks,
            events: Vec::new(),
            mcp_path: "/mcp".into(),
            notes: Vec::new(),
            traffic: None,
            policy: None,
            crash_loop: None,
            latest_revision: None,
        });
        fleet
    }

    #[test]
    fn the_console_calls_give_figures_and_outliers_over_the_window() {
        let start = Instant::now();
        let mut book = CallBook::default();
        for i in 0..60u32 {
            let at = start + Duration::from_millis(500 * u64::from(i));
            let latency = Duration::from_millis(u64::from(i % 10) + 1);
            book.count("a".into(), i % 5 == 0, latency, at);
            book.count("b".into(), false, latency, at);
            book.count("c".into(), false, latency, at);
        }
        let fleet = fleet(&["a", "b", "c"]);
        let early = book
            .figures(&fleet, start + Duration::from_millis(500))
            .unwrap();
        assert!(
            early.by_task.is_empty(),
            "half a second is too soon for a rate"
        );
        let now = start + Duration::from_secs(30);
        let figures = book.figures(&fleet, now).unwrap();
        let a = &figures.by_task["a"];
        assert_eq!((a.from, a.calls, a.errors), (FigureSource::Console, 60, 12));
        assert_eq!((a.calls_per_sec, a.error_rate), (2.0, Some(20.0)));
        assert_eq!((a.p50_ms, a.p99_ms), (Some(5.0), Some(10.0)));
        assert_eq!(
            figures.outliers,
            HashMap::from([("a".into(), Outlier::Errors)])
        );
        assert_eq!(
            book.figures(&fleet, now),
            None,
            "nothing new, nothing published"
        );
        // A minute and a half later every call has left the window.
        let later = book.figures(&fleet, now + Duration::from_secs(60)).unwrap();
        assert_eq!(later, CallFigures::default());
    }
}
