//! When the next refresh runs and how many API calls it may make: the policy of the refresh
//! loop as pure functions, so each rule is tested on its own.

use std::time::Duration;

use super::{AwsSettings, client::AwsError, client::MAX_ATTEMPTS};

/// How often to refresh while some rollout is in progress.
pub const ROLLOUT_INTERVAL: Duration = Duration::from_secs(3);
/// The longest wait between attempts while AWS keeps refusing.
pub const MAX_BACKOFF: Duration = Duration::from_secs(120);
/// Never retry sooner than this, whatever the jitter draws.
const MIN_DELAY: Duration = Duration::from_millis(500);

/// Calls the next cycle may make: the cold budget for the first look, then the steady one —
/// unless the fleet's picture alone costs more (`core_cost`), in which case the cycle gets that
/// plus room for one more operation, and `delay` stretches the interval to keep the call rate.
pub fn cycle_limit(settings: &AwsSettings, cold: bool, core_cost: u64) -> u64 {
    if cold {
        return settings.cold_budget;
    }
    settings
        .cycle_budget
        .max(core_cost + u64::from(MAX_ATTEMPTS))
}

/// The wait before the next cycle: the steady interval (shorter during a rollout, longer in
/// proportion when a cycle needs more than the steady budget); after `failures` failed cycles
/// in a row, exponential backoff scaled by `jitter` (0.5..1.0) so consoles do not retry in step.
pub fn delay(
    settings: &AwsSettings,
    rolling: bool,
    limit: u64,
    failures: u32,
    error: Option<&AwsError>,
    jitter: f64,
) -> Duration {
    let steady = Duration::from_secs(settings.interval_secs.max(1));
    let base = if rolling {
        steady.min(ROLLOUT_INTERVAL)
    } else {
        steady
    };
    let stretch = limit as f64 / settings.cycle_budget.max(1) as f64;
    let base = base.mul_f64(stretch.max(1.0));
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
    fn budgets_cold_then_steady_then_what_the_picture_costs() {
        let s = settings();
        assert_eq!(cycle_limit(&s, true, 0), 80);
        assert_eq!(cycle_limit(&s, false, 20), 30);
        assert_eq!(cycle_limit(&s, false, 28), 30);
        assert_eq!(cycle_limit(&s, false, 50), 52);
    }

    #[test]
    fn rollouts_refresh_faster_and_big_fleets_slower() {
        let s = settings();
        assert_eq!(delay(&s, false, 30, 0, None, 1.0), Duration::from_secs(10));
        assert_eq!(delay(&s, true, 30, 0, None, 1.0), Duration::from_secs(3));
        // Twice the steady budget per cycle: half as many cycles, the same call rate.
        assert_eq!(delay(&s, false, 60, 0, None, 1.0), Duration::from_secs(20));
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
            .map(|n| delay(&s, false, 30, n, Some(&throttled), 1.0).as_secs())
            .collect();
        assert_eq!(waits, [20, 40, 80, 120, 120, 120]);
        assert_eq!(
            delay(&s, false, 30, 1, Some(&throttled), 0.5),
            Duration::from_secs(10)
        );
        let expired = AwsError::Expired("ExpiredTokenException".into());
        assert_eq!(delay(&s, false, 30, 1, Some(&expired), 1.0), MAX_BACKOFF);
        let mut quick = settings();
        quick.interval_secs = 1;
        assert_eq!(
            delay(&quick, false, 30, 1, Some(&throttled), 0.1),
            Duration::from_secs(1)
        );
    }
}
