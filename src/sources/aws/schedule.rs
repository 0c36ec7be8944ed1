//! When the next refresh runs and how many API calls it may make: the policy of the refresh
//! loop as pure functions, so each rule is tested on its own.

use std::time::Duration;

use super::{AwsSettings, client::AwsError};

/// What the refresh loop is doing, which sets how soon it goes on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// The picture is still arriving; the last cycle made `spent` calls.
    CatchingUp {
        spent: u64,
    },
    /// A rollout is in progress.
    Rolling,
    Steady,
}

/// How often to refresh while some rollout is in progress.
pub const ROLLOUT_INTERVAL: Duration = Duration::from_secs(3);
/// The longest wait between attempts while AWS keeps refusing.
pub const MAX_BACKOFF: Duration = Duration::from_secs(120);
/// Never retry sooner than this, whatever the jitter draws.
const MIN_DELAY: Duration = Duration::from_millis(500);

/// Calls the next cycle may make: the cold budget while the picture is still arriving (a
/// cluster never read whole, endpoints unknown), then the steady one. A picture bigger than
/// one cycle's budget is read over several (`lanes.rs`), never by a bigger cycle.
pub fn cycle_limit(settings: &AwsSettings, catching_up: bool) -> u64 {
    if catching_up {
        settings.cold_budget
    } else {
        settings.cycle_budget
    }
}

/// The wait before the next cycle. While catching up, as long as keeps `catch_up_rate` for
/// the `spent` calls just made; then the steady
/// interval (shorter during a rollout); after `failures` failed cycles in a row, exponential
/// backoff scaled by `jitter` (0.5..1.0) so consoles do not retry in step.
pub fn delay(
    settings: &AwsSettings,
    pace: Pace,
    failures: u32,
    error: Option<&AwsError>,
    jitter: f64,
) -> Duration {
    let steady = Duration::from_secs(settings.interval_secs.max(1));
    let base = match pace {
        Pace::CatchingUp { spent } => {
            let rate = settings.catch_up_rate.max(0.1);
            Duration::from_secs_f64(spent as f64 / rate)
                .min(steady)
                .max(MIN_DELAY)
        }
        Pace::Rolling => steady.min(ROLLOUT_INTERVAL),
        Pace::Steady => steady,
    };
    if failures == 0 {
        return base;
    }
    let factor: u32 = match error {
        // Credentials and set-up problems do not fix themselves in seconds.
        Some(AwsError::Expired(_) | AwsError::Config(_)) => 1 << 4,
        _ => 1 << failures.min(5),
    };
    (base * factor)
        .min(MAX_BACKOFF)
        .mul_f64(jitter.clamp(0.5, 1.0))
        .max(MIN_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AwsSettings {
        AwsSettings::default()
    }

    #[test]
    fn budgets_cold_while_catching_up_then_steady() {
        let s = settings();
        assert_eq!(cycle_limit(&s, true), 80);
        assert_eq!(cycle_limit(&s, false), 30);
    }

    #[test]
    fn catching_up_keeps_the_cold_rate_and_rollouts_refresh_faster() {
        let s = settings();
        assert_eq!(
            delay(&s, Pace::Steady, 0, None, 1.0),
            Duration::from_secs(10)
        );
        assert_eq!(
            delay(&s, Pace::Rolling, 0, None, 1.0),
            Duration::from_secs(3)
        );
        // 15 calls a second: 30 calls made, 2 s to wait; a cheap cycle goes on at once, and
        // none waits longer than the steady interval.
        let after = |spent| delay(&s, Pace::CatchingUp { spent }, 0, None, 1.0);
        assert_eq!(after(30), Duration::from_secs(2));
        assert_eq!(after(0), MIN_DELAY);
        assert_eq!(after(600), Duration::from_secs(10));
    }

    #[test]
    fn failures_back_off_exponentially_with_jitter_up_to_a_cap() {
        let s = settings();
        let throttled = AwsError::Api {
            operation: "ecs:ListTasks".into(),
            code: "ThrottlingException".into(),
            message: "Rate exceeded".into(),
        };
        let waits: Vec<u64> = (1..=6)
            .map(|n| delay(&s, Pace::Steady, n, Some(&throttled), 1.0).as_secs())
            .collect();
        assert_eq!(waits, [20, 40, 80, 120, 120, 120]);
        assert_eq!(
            delay(&s, Pace::Steady, 1, Some(&throttled), 0.5),
            Duration::from_secs(10)
        );
        let expired = AwsError::Expired("ExpiredTokenException".into());
        assert_eq!(delay(&s, Pace::Steady, 1, Some(&expired), 1.0), MAX_BACKOFF);
        let mut quick = settings();
        quick.interval_secs = 1;
        assert_eq!(
            delay(&quick, Pace::Steady, 1, Some(&throttled), 0.1),
            Duration::from_secs(1)
        );
    }
}
