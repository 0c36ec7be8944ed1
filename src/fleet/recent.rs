//! A task's figures over the last minute — calls per second, error rate, p50 and p99 latency —
//! and where they came from. From a replica's own counters and latency histogram, taken as the
//! difference between the oldest and the newest scrape of the window; from the console's own
//! calls when the replica exports no metrics.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The stretch the figures cover: long enough for a few dozen calls on a quiet service, short
/// enough that a replica that went bad a minute ago stands out now.
pub const RECENT_WINDOW: Duration = Duration::from_secs(60);

/// One cumulative bucket of a latency histogram: calls that took at most `le` seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub le: f64,
    pub count: u64,
}

/// Where a task's recent figures came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FigureSource {
    /// The replica's `/metrics`: every call it served, whoever sent it.
    Metrics,
    /// The calls this console sent it, for a server without our metrics.
    Console,
}

/// What a task did over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recent {
    pub from: FigureSource,
    /// The span the figures cover (at most `RECENT_WINDOW`).
    pub seconds: f64,
    pub calls: u64,
    pub errors: u64,
    pub calls_per_sec: f64,
    /// Errors as a percentage of calls; none without calls.
    pub error_rate: Option<f64>,
    /// None without calls, or when the replica exports no latency histogram.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl Recent {
    pub fn new(from: FigureSource, span: Duration, calls: u64, errors: u64) -> Self {
        let seconds = span.as_secs_f64();
        Self {
            from,
            seconds,
            calls,
            errors,
            calls_per_sec: if seconds > 0.0 {
                calls as f64 / seconds
            } else {
                0.0
            },
            error_rate: (calls > 0).then(|| errors as f64 * 100.0 / calls as f64),
            p50_ms: None,
            p99_ms: None,
        }
    }

    /// Fills p50 and p99 from the calls' histogram over the window.
    pub fn with_histogram(mut self, buckets: &[Bucket]) -> Self {
        let ms = |q| quantile(q, buckets).map(|s| s * 1000.0);
        (self.p50_ms, self.p99_ms) = (ms(0.5), ms(0.99));
        self
    }
}

/// The histogram of the calls between two scrapes: `newest − oldest`, bucket by bucket. None
/// when the two do not have the same buckets (another server version) or a count went down.
pub fn bucket_deltas(oldest: &[Bucket], newest: &[Bucket]) -> Option<Vec<Bucket>> {
    if oldest.is_empty() {
        return Some(newest.to_vec());
    }
    if oldest.len() != newest.len() {
        return None;
    }
    let pairs = oldest.iter().zip(newest);
    pairs
        .map(|(a, b)| {
            let count = b.count.checked_sub(a.count)?;
            (a.le == b.le).then_some(Bucket { le: b.le, count })
        })
        .collect()
}

/// The `q` quantile, in seconds, of cumulative buckets sorted by `le`, as Prometheus'
/// `histogram_quantile` reads them: linear within the bucket the rank falls in (from 0 for the
/// first), and the highest finite bound when it falls in the `+Inf` bucket.
pub fn quantile(q: f64, buckets: &[Bucket]) -> Option<f64> {
    let total = buckets.last()?.count;
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let (mut lower, mut below) = (0.0, 0);
    for bucket in buckets {
        if bucket.count as f64 >= rank {
            if bucket.le.is_infinite() {
                return Some(lower);
            }
            let inside = (bucket.count - below) as f64;
            let fraction = if inside > 0.0 {
                (rank - below as f64) / inside
            } else {
                1.0
            };
            return Some(lower + (bucket.le - lower) * fraction);
        }
        (lower, below) = (bucket.le, bucket.count);
    }
    Some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(bounds: &[(f64, u64)]) -> Vec<Bucket> {
        let bucket = |&(le, count)| Bucket { le, count };
        bounds.iter().map(bucket).collect()
    }

    #[test]
    fn quantiles_interpolate_within_the_bucket_of_the_rank() {
        // 100 calls: 50 under 1 ms, 40 in (1, 2] ms, 10 in (2, 4] ms.
        let h = buckets(&[(0.001, 50), (0.002, 90), (0.004, 100), (f64::INFINITY, 100)]);
        assert_eq!(quantile(0.5, &h), Some(0.001));
        let p25 = quantile(0.25, &h).unwrap();
        assert!((p25 - 0.0005).abs() < 1e-12, "{p25}");
        // Rank 99: 9 of the 10 calls of (2, 4] ms.
        let p99 = quantile(0.99, &h).unwrap();
        assert!((p99 - 0.0038).abs() < 1e-12, "{p99}");
        let slow = buckets(&[(0.001, 1), (0.002, 2), (f64::INFINITY, 10)]);
        assert_eq!(
            quantile(0.9, &slow),
            Some(0.002),
            "+Inf gives the top bound"
        );
        assert_eq!(
            quantile(0.5, &buckets(&[(0.001, 0), (f64::INFINITY, 0)])),
            None
        );
        assert_eq!(quantile(0.5, &[]), None);
    }

    #[test]
    fn the_window_histogram_is_the_difference_between_its_scrapes() {
        let oldest = buckets(&[(0.001, 1000), (0.01, 1000), (f64::INFINITY, 1000)]);
        // Since then 10 calls, all slower than 1 ms: old fast calls must not drag p50 down.
        let newest = buckets(&[(0.001, 1000), (0.01, 1010), (f64::INFINITY, 1010)]);
        let window = bucket_deltas(&oldest, &newest).unwrap();
        assert_eq!(
            window,
            buckets(&[(0.001, 0), (0.01, 10), (f64::INFINITY, 10)])
        );
        let p50 = quantile(0.5, &window).unwrap();
        assert!((p50 - 0.0055).abs() < 1e-12, "{p50}");
        let lifetime = quantile(0.5, &newest).unwrap();
        assert!(lifetime < 0.001, "the lifetime figure hides it: {lifetime}");
        let fewer = buckets(&[(0.001, 1000), (f64::INFINITY, 1000)]);
        assert_eq!(bucket_deltas(&oldest, &fewer), None);
        let went_down = buckets(&[(0.001, 5), (0.01, 5), (f64::INFINITY, 5)]);
        assert_eq!(bucket_deltas(&oldest, &went_down), None);
    }

    #[test]
    fn error_rate_is_errors_over_calls() {
        let recent = Recent::new(FigureSource::Metrics, Duration::from_secs(20), 200, 40);
        assert_eq!(
            (recent.calls_per_sec, recent.error_rate),
            (10.0, Some(20.0))
        );
        let idle = Recent::new(FigureSource::Console, Duration::from_secs(20), 0, 0);
        assert_eq!(idle.error_rate, None);
    }
}
