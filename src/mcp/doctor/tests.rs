use std::time::Duration;

use super::{Outcome, Step, StepName, net::Target};

#[test]
fn a_step_reads_as_its_documented_json() {
    let step = Step {
        step: StepName::Handshake,
        outcome: Outcome::Failed,
        latency: Some(Duration::from_micros(1_234_567)),
        detail: "handshake failed".into(),
        hint: Some("check the path".into()),
    };
    let json = serde_json::to_value(&step).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "step": "handshake", "outcome": "failed", "latency_ms": 1234.567,
            "detail": "handshake failed", "hint": "check the path",
        })
    );
    let skipped = serde_json::to_value(Step::skipped(StepName::Tools, "handshake failed"));
    let skipped = skipped.unwrap();
    assert_eq!(skipped["latency_ms"], serde_json::Value::Null);
    assert!(skipped.get("hint").is_none());
}

#[test]
fn targets_know_their_origin_and_whether_to_resolve() {
    let v6 = Target::parse("https://[::1]:8443/mcp").unwrap();
    assert_eq!(
        (v6.host.as_str(), v6.port, v6.tls, v6.literal),
        ("::1", 8443, true, true)
    );
    assert_eq!(v6.origin, "https://[::1]:8443");
    let named = Target::parse("http://mcp.internal/x/mcp").unwrap();
    assert_eq!((named.port, named.tls, named.literal), (80, false, false));
    let bad = Target::parse("ftp://host/mcp").err().unwrap();
    assert_eq!((bad.step, bad.outcome), (StepName::Dns, Outcome::Failed));
}
