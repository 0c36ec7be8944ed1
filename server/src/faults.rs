//! Fault injection: per-tool error rate and added latency, drawn from a seeded generator so that
//! a flaky sequence can be replayed. Off unless configured; the active plan is reported by
//! `whoami` and /metrics so nobody mistakes injected faults for real ones.

use std::{fmt, str::FromStr, sync::Mutex, time::Duration};

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FaultRule {
    /// Tool name, or `*` for every tool without a rule of its own.
    pub tool: String,
    /// Probability in [0, 1] that a call returns an injected tool error.
    pub error_rate: f64,
    /// Added latency range in milliseconds, inclusive.
    pub latency_ms: Option<(u64, u64)>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FaultPlan {
    pub rules: Vec<FaultRule>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FaultParseError {
    #[error("fault rule `{0}` needs the form TOOL:key=value[,key=value]")]
    Shape(String),
    #[error("unknown fault setting `{0}` (expected error or latency)")]
    UnknownKey(String),
    #[error("error rate `{0}` must be a number between 0 and 1")]
    Rate(String),
    #[error("latency `{0}` must look like 50ms or 10..200ms")]
    Latency(String),
}

impl FromStr for FaultPlan {
    type Err = FaultParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut rules = Vec::new();
        for rule in s.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            let (tool, settings) = rule
                .split_once(':')
                .ok_or_else(|| FaultParseError::Shape(rule.to_string()))?;
            let mut parsed = FaultRule {
                tool: tool.trim().to_string(),
                error_rate: 0.0,
                latency_ms: None,
            };
            if parsed.tool.is_empty() {
                return Err(FaultParseError::Shape(rule.to_string()));
            }
            for setting in settings.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (key, value) = setting
                    .split_once('=')
                    .ok_or_else(|| FaultParseError::Shape(rule.to_string()))?;
                match key.trim() {
                    "error" => parsed.error_rate = parse_rate(value.trim())?,
                    "latency" => parsed.latency_ms = Some(parse_latency(value.trim())?),
                    other => return Err(FaultParseError::UnknownKey(other.to_string())),
                }
            }
            rules.push(parsed);
        }
        Ok(Self { rules })
    }
}

fn parse_rate(value: &str) -> Result<f64, FaultParseError> {
    match value.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(FaultParseError::Rate(value.to_string())),
    }
}

fn parse_latency(value: &str) -> Result<(u64, u64), FaultParseError> {
    let bad = || FaultParseError::Latency(value.to_string());
    let digits = value.strip_suffix("ms").ok_or_else(bad)?;
    let (low, high) = match digits.split_once("..") {
        Some((low, high)) => (
            low.parse().map_err(|_| bad())?,
            high.parse().map_err(|_| bad())?,
        ),
        None => {
            let fixed = digits.parse().map_err(|_| bad())?;
            (fixed, fixed)
        }
    };
    if low > high {
        return Err(bad());
    }
    Ok((low, high))
}

impl fmt::Display for FaultPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules: Vec<String> = self
            .rules
            .iter()
            .map(|rule| {
                let mut text = format!("{}:error={}", rule.tool, rule.error_rate);
                if let Some((low, high)) = rule.latency_ms {
                    text.push_str(&format!(",latency={low}..{high}ms"));
                }
                text
            })
            .collect();
        f.write_str(&rules.join(";"))
    }
}

/// What the injector decided for one call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultDecision {
    pub delay: Duration,
    pub fail: bool,
}

pub struct FaultInjector {
    plan: FaultPlan,
    seed: u64,
    rng: Mutex<StdRng>,
}

impl FaultInjector {
    pub fn new(plan: FaultPlan, seed: u64) -> Self {
        Self {
            plan,
            seed,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn is_active(&self) -> bool {
        !self.plan.rules.is_empty()
    }

    fn rule_for(&self, tool: &str) -> Option<&FaultRule> {
        let exact = self.plan.rules.iter().find(|rule| rule.tool == tool);
        exact.or_else(|| self.plan.rules.iter().find(|rule| rule.tool == "*"))
    }

    /// Decides the fault for one call of `tool`; `None` when no rule applies.
    pub fn decide(&self, tool: &str) -> Option<FaultDecision> {
        let rule = self.rule_for(tool)?;
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let delay = rule
            .latency_ms
            .map(|(low, high)| Duration::from_millis(rng.random_range(low..=high)))
            .unwrap_or_default();
        let fail = rule.error_rate > 0.0 && rng.random_bool(rule.error_rate);
        Some(FaultDecision { delay, fail })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_and_round_trips() {
        let plan: FaultPlan = "echo:error=0.25,latency=10..20ms; *:latency=5ms"
            .parse()
            .unwrap();
        assert_eq!(plan.rules.len(), 2);
        assert_eq!(plan.rules[0].latency_ms, Some((10, 20)));
        assert_eq!(plan.rules[1].latency_ms, Some((5, 5)));
        assert_eq!(
            plan.to_string(),
            "echo:error=0.25,latency=10..20ms;*:error=0,latency=5..5ms"
        );
        assert_eq!("".parse::<FaultPlan>().unwrap(), FaultPlan::default());
    }

    #[test]
    fn rejects_bad_rules_with_the_offending_part() {
        assert_eq!(
            "echo".parse::<FaultPlan>(),
            Err(FaultParseError::Shape("echo".into()))
        );
        assert_eq!(
            "echo:error=2".parse::<FaultPlan>(),
            Err(FaultParseError::Rate("2".into()))
        );
        assert_eq!(
            "echo:latency=20..10ms".parse::<FaultPlan>(),
            Err(FaultParseError::Latency("20..10ms".into()))
        );
        assert_eq!(
            "echo:jitter=1".parse::<FaultPlan>(),
            Err(FaultParseError::UnknownKey("jitter".into()))
        );
    }

    #[test]
    fn same_seed_same_sequence() {
        let plan: FaultPlan = "echo:error=0.5,latency=0..100ms".parse().unwrap();
        let draw = |seed| {
            let injector = FaultInjector::new(plan.clone(), seed);
            (0..64)
                .map(|_| injector.decide("echo").unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let failures = draw(7).iter().filter(|d| d.fail).count();
        assert!(
            (16..=48).contains(&failures),
            "{failures} of 64 failed at rate 0.5"
        );
    }

    #[test]
    fn exact_rule_wins_over_wildcard() {
        let injector = FaultInjector::new("*:error=1;echo:error=0".parse().unwrap(), 1);
        assert!(!injector.decide("echo").unwrap().fail);
        assert!(injector.decide("sleep").unwrap().fail);
    }
}
