//! The task that stands out from the rest of its service over the recent window: one whose
//! error rate is above the others' by more than chance explains, or whose p99 latency is far
//! above theirs. Derived once per snapshot from the tasks' `Recent` figures, never per frame.

use serde::{Deserialize, Serialize};

use super::{Recent, Service};

/// Calls a task (and the rest of its service together) must have made in the window before
/// its error rate is compared: a handful of calls says nothing.
pub const MIN_CALLS: u64 = 20;
/// How many standard errors the task's error rate must stand above the others' pooled rate
/// (a one-sided two-proportion z-test; 3 is about one false alarm in 740 comparisons).
pub const MIN_Z: f64 = 3.0;
/// A latency outlier's p99 is at least this many times the slowest p99 of the others…
pub const LATENCY_FACTOR: f64 = 3.0;
/// …and this much above it, so sub-millisecond jitter on loopback is not an outlier.
pub const LATENCY_MARGIN_MS: f64 = 50.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outlier {
    Errors,
    Latency,
}

/// Whether `task` (errors, calls) fails significantly more often than `others` (their errors
/// and calls pooled).
pub fn error_outlier(task: (u64, u64), others: (u64, u64)) -> bool {
    let ((e1, n1), (e2, n2)) = (task, others);
    if n1 < MIN_CALLS || n2 < MIN_CALLS {
        return false;
    }
    let (p1, p2) = (e1 as f64 / n1 as f64, e2 as f64 / n2 as f64);
    let pooled = (e1 + e2) as f64 / (n1 + n2) as f64;
    let spread = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    spread > 0.0 && (p1 - p2) / spread >= MIN_Z
}

/// Whether a p99 is far above every other task's p99.
pub fn latency_outlier(p99_ms: f64, others_p99_ms: &[f64]) -> bool {
    let Some(slowest) = others_p99_ms.iter().copied().reduce(f64::max) else {
        return false;
    };
    p99_ms >= slowest * LATENCY_FACTOR && p99_ms - slowest >= LATENCY_MARGIN_MS
}

/// Marks the outliers among the live tasks of `service` (and clears the rest), comparing each
/// task with the others that have figures over the window.
pub fn mark(service: &mut Service) {
    let figures: Vec<Option<Recent>> = service
        .tasks
        .iter()
        .map(|t| t.metrics.as_ref().and_then(|m| m.recent.clone()))
        .map(|r| r.filter(|r| r.calls > 0))
        .collect();
    let marks = outliers(&figures);
    for (task, outlier) in service.tasks.iter_mut().zip(marks) {
        task.outlier = outlier.filter(|_| task.stopped_at.is_none());
    }
}

/// The outlier mark of each task among `figures` (same order), errors before latency.
pub fn outliers(figures: &[Option<Recent>]) -> Vec<Option<Outlier>> {
    let (errors, calls) = figures
        .iter()
        .flatten()
        .fold((0, 0), |(e, n), r| (e + r.errors, n + r.calls));
    let judge = |(index, recent): (usize, &Option<Recent>)| {
        let recent = recent.as_ref()?;
        let others = (errors - recent.errors, calls - recent.calls);
        if error_outlier((recent.errors, recent.calls), others) {
            return Some(Outlier::Errors);
        }
        let others_p99: Vec<f64> = figures
            .iter()
            .enumerate()
            .filter(|(other, r)| {
                *other != index && r.as_ref().is_some_and(|r| r.calls >= MIN_CALLS)
            })
            .filter_map(|(_, r)| r.as_ref()?.p99_ms)
            .collect();
        let p99 = recent.p99_ms.filter(|_| recent.calls >= MIN_CALLS)?;
        latency_outlier(p99, &others_p99).then_some(Outlier::Latency)
    };
    figures.iter().enumerate().map(judge).collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fleet::FigureSource;

    fn recent(calls: u64, errors: u64, p99_ms: Option<f64>) -> Option<Recent> {
        let span = Duration::from_secs(60);
        let recent = Recent::new(FigureSource::Metrics, span, calls, errors);
        Some(Recent { p99_ms, ..recent })
    }

    #[test]
    fn twenty_percent_against_none_at_sixty_calls_each_stands_out() {
        assert!(error_outlier((12, 60), (0, 60)));
        let marks = outliers(&[
            recent(60, 12, None),
            recent(60, 0, None),
            recent(60, 0, None),
        ]);
        assert_eq!(marks, [Some(Outlier::Errors), None, None]);
    }

    #[test]
    fn two_in_thirty_against_none_is_noise() {
        assert!(!error_outlier((2, 30), (0, 30)));
        // Too few calls to judge, however bad the rate looks.
        assert!(!error_outlier((10, 19), (0, 100)));
        // Every task failing alike is a bad service, not an outlier.
        let marks = outliers(&[
            recent(60, 12, None),
            recent(60, 11, None),
            recent(60, 13, None),
        ]);
        assert_eq!(marks, [None, None, None]);
        // A task alone has nothing to stand out from.
        assert_eq!(outliers(&[recent(100, 50, None)]), [None]);
        assert_eq!(outliers(&[recent(60, 12, None), None]), [None, None]);
    }

    #[test]
    fn a_far_slower_p99_stands_out_and_jitter_does_not() {
        let marks = outliers(&[
            recent(60, 0, Some(400.0)),
            recent(60, 0, Some(20.0)),
            recent(60, 0, Some(30.0)),
        ]);
        assert_eq!(marks, [Some(Outlier::Latency), None, None]);
        assert!(
            !latency_outlier(3.0, &[0.5, 0.6]),
            "3 ms against 0.6 ms on loopback"
        );
        assert!(
            !latency_outlier(200.0, &[100.0]),
            "twice as slow is not far"
        );
    }
}
