//! A deployment alarm for a local service, judged the way a CloudWatch alarm on the service's
//! tool-call error rate would be: one datapoint per period (the errors among the calls every
//! live task served in it, from the counters its /metrics reports), ALARM after
//! `evaluation_periods` breaching datapoints in a row, OK after one that does not breach, and a
//! period without calls a missing datapoint that changes nothing. The scheduler
//! (`rollout.rs`) fails a deployment whose tasks are all healthy when this goes into ALARM
//! while it is in progress or baking, as ECS does with `deploymentConfiguration.alarms`.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use serde::Deserialize;

use crate::fleet::{AlarmState, DeploymentAlarm};

/// `[local.services.alarm]`: CloudWatch's vocabulary, so the same numbers carry to ECS.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmSpec {
    /// The alarm's name (`SERVICE-tool-errors` when unset).
    #[serde(default)]
    pub name: Option<String>,
    /// Percent of calls failing (tool errors and protocol errors) at or above which a
    /// datapoint breaches.
    pub threshold: f64,
    /// Seconds per datapoint.
    #[serde(default = "default_period")]
    pub period: u64,
    /// Breaching datapoints in a row that put the alarm into ALARM.
    #[serde(default = "default_evaluation_periods")]
    pub evaluation_periods: u32,
    /// Whether a deployment the alarm fails rolls back to the last completed one.
    #[serde(default = "default_rollback")]
    pub rollback: bool,
}

fn default_period() -> u64 {
    10
}

fn default_evaluation_periods() -> u32 {
    3
}

fn default_rollback() -> bool {
    true
}

impl AlarmSpec {
    pub fn name(&self, service: &str) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{service}-tool-errors"))
    }

    pub fn period(&self) -> Duration {
        Duration::from_secs(self.period)
    }

    /// How long a deployment whose tasks all run healthy is still watched before it
    /// completes: long enough for the alarm to go off on what the new tasks serve, as ECS
    /// derives its bake time from the alarm's configuration.
    pub fn bake_time(&self) -> Duration {
        self.period() * (self.evaluation_periods + 1)
    }

    /// Why the spec cannot be used, if it cannot.
    pub fn invalid(&self) -> Option<&'static str> {
        if !(self.threshold > 0.0 && self.threshold <= 100.0) {
            return Some("threshold is a percentage above 0 and at most 100");
        }
        if self.period == 0 {
            return Some("period is at least 1 second");
        }
        if self.evaluation_periods == 0 {
            return Some("evaluation_periods is at least 1");
        }
        None
    }
}

#[derive(Debug)]
pub struct AlarmWatch {
    pub spec: AlarmSpec,
    pub name: String,
    pub state: AlarmState,
    pub reason: Option<String>,
    /// When the alarm last went into ALARM; a deployment begun after it is not failed by it.
    pub alarm_since: Option<Instant>,
    breaching: u32,
    next_at: Instant,
    /// Each task's (calls, errors) at the last datapoint; a task not seen before counts from
    /// zero, as its process's counters do.
    seen: HashMap<String, (u64, u64)>,
}

impl AlarmWatch {
    pub fn new(spec: AlarmSpec, service: &str, now: Instant) -> Self {
        Self {
            name: spec.name(service),
            next_at: now + spec.period(),
            spec,
            state: AlarmState::InsufficientData,
            reason: None,
            alarm_since: None,
            breaching: 0,
            seen: HashMap::new(),
        }
    }

    /// Takes a datapoint when its period is over, from each running task's (id, calls,
    /// errors) counters; true when the state or what it says of it changed.
    pub fn evaluate<'a>(
        &mut self,
        counters: impl IntoIterator<Item = (&'a str, u64, u64)>,
        now: Instant,
    ) -> bool {
        if now < self.next_at {
            return false;
        }
        self.next_at = now + self.spec.period();
        let (mut calls, mut errors) = (0u64, 0u64);
        let mut seen = HashMap::new();
        for (id, task_calls, task_errors) in counters {
            let (was_calls, was_errors) = self.seen.get(id).copied().unwrap_or((0, 0));
            calls += task_calls.saturating_sub(was_calls);
            errors += task_errors.saturating_sub(was_errors);
            seen.insert(id.to_string(), (task_calls, task_errors));
        }
        self.seen = seen;
        self.datapoint(calls, errors, now)
    }

    fn datapoint(&mut self, calls: u64, errors: u64, now: Instant) -> bool {
        if calls == 0 {
            return false;
        }
        let rate = errors as f64 * 100.0 / calls as f64;
        let threshold = self.spec.threshold;
        let before = (self.state, self.reason.clone());
        if rate >= threshold {
            self.breaching += 1;
            if self.breaching >= self.spec.evaluation_periods && before.0 != AlarmState::Alarm {
                self.state = AlarmState::Alarm;
                self.alarm_since = Some(now);
                let n = self.spec.evaluation_periods;
                self.reason = Some(format!(
                    "{n} datapoint{} in a row ≥ {threshold} % of calls failing (last: {rate:.0} % of {calls})",
                    if n == 1 { "" } else { "s" }
                ));
            }
        } else {
            self.breaching = 0;
            self.state = AlarmState::Ok;
            self.reason = Some(format!(
                "{rate:.0} % of {calls} calls failing, below {threshold} %"
            ));
        }
        (self.state, &self.reason) != (before.0, &before.1)
    }

    pub fn to_model(&self) -> DeploymentAlarm {
        DeploymentAlarm {
            name: self.name.clone(),
            state: Some(self.state),
            reason: self.reason.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(threshold: f64, evaluation_periods: u32) -> AlarmWatch {
        let spec = AlarmSpec {
            name: None,
            threshold,
            period: 1,
            evaluation_periods,
            rollback: true,
        };
        AlarmWatch::new(spec, "svc", Instant::now())
    }

    #[test]
    fn alarm_needs_breaching_datapoints_in_a_row() {
        let mut alarm = watch(50.0, 3);
        let now = Instant::now();
        assert_eq!(alarm.name, "svc-tool-errors");
        assert!(!alarm.datapoint(100, 100, now) && !alarm.datapoint(10, 9, now));
        assert_eq!(alarm.state, AlarmState::InsufficientData);
        assert!(
            !alarm.datapoint(0, 0, now),
            "a period without calls is missing"
        );
        assert!(alarm.datapoint(4, 2, now), "50 % breaches: third in a row");
        assert_eq!(alarm.state, AlarmState::Alarm);
        assert_eq!(alarm.alarm_since, Some(now));
        assert!(alarm.reason.as_deref().unwrap().contains("3 datapoints"));
        assert!(!alarm.datapoint(10, 10, now), "already in ALARM");
        assert!(
            alarm.datapoint(10, 1, now),
            "one good datapoint is OK again"
        );
        assert_eq!(alarm.state, AlarmState::Ok);
        assert!(!alarm.datapoint(10, 10, now) && !alarm.datapoint(10, 10, now));
        assert_eq!(alarm.state, AlarmState::Ok, "the count starts over");
    }

    #[test]
    fn spec_is_checked_and_bakes_one_period_past_its_datapoints() {
        let mut alarm = watch(50.0, 3);
        assert_eq!(alarm.spec.bake_time(), Duration::from_secs(4));
        assert_eq!(alarm.spec.invalid(), None);
        alarm.spec.threshold = 0.0;
        assert!(alarm.spec.invalid().unwrap().contains("threshold"));
        alarm.spec.threshold = 5.0;
        alarm.spec.evaluation_periods = 0;
        assert!(alarm.spec.invalid().unwrap().contains("evaluation_periods"));
    }
}
