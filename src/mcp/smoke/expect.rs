//! One answer judged against one check: each way it falls short, spelled out (what was
//! expected, what came, where), so a failed gate says why without a rerun.

use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use crate::mcp::{CallOutcome, OutcomeKind};

use super::file::{Check, Expected, Test};

/// One way an answer fell short of its check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Miss {
    Outcome {
        expected: Expected,
        got: OutcomeKind,
        /// The error, or the first line of the result.
        detail: String,
    },
    Latency {
        budget_ms: u64,
        took_ms: f64,
    },
    /// Nothing at the pointer.
    Missing {
        pointer: String,
    },
    NotEqual {
        pointer: String,
        expected: Value,
        got: Value,
    },
    NoMatch {
        pointer: String,
        pattern: String,
        got: Value,
    },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Outcome {
                expected,
                got,
                detail,
            } => write!(
                f,
                "outcome: expected {}, got {} ({detail})",
                expected.label(),
                got.label()
            ),
            Miss::Latency { budget_ms, took_ms } => {
                write!(
                    f,
                    "latency: {took_ms:.1} ms, over the {budget_ms} ms budget"
                )
            }
            Miss::Missing { pointer } => write!(f, "{}: nothing there", shown(pointer)),
            Miss::NotEqual {
                pointer,
                expected,
                got,
            } => write!(
                f,
                "{}: expected {}, got {}",
                shown(pointer),
                brief(expected),
                brief(got)
            ),
            Miss::NoMatch {
                pointer,
                pattern,
                got,
            } => write!(
                f,
                "{}: {} does not match /{pattern}/",
                shown(pointer),
                brief(got)
            ),
        }
    }
}

/// The empty pointer is the whole answer.
fn shown(pointer: &str) -> &str {
    if pointer.is_empty() {
        "(answer)"
    } else {
        pointer
    }
}

/// A value as compact JSON, cut to a line's worth.
fn brief(value: &Value) -> String {
    const MAX: usize = 80;
    let text = value.to_string();
    if text.chars().count() <= MAX {
        return text;
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}

/// What pointers point into: the tool's result as MCP sends it (`content`,
/// `structuredContent`, `isError`), or `{"error": …}` when there was none.
pub fn answer(outcome: &CallOutcome) -> Value {
    match &outcome.result {
        Ok(result) => result.to_json(),
        Err(error) => json!({"error": error.to_string()}),
    }
}

/// Every way `outcome` falls short of `check`; empty when it passes. A wrong outcome makes the
/// pointers moot, so they are judged only when the outcome is the expected one.
pub fn judge(check: &Check, outcome: &CallOutcome) -> Vec<Miss> {
    let mut misses = Vec::new();
    let kind = outcome.kind();
    if let Some(budget) = check.latency_budget
        && outcome.duration > budget
    {
        misses.push(Miss::Latency {
            budget_ms: budget.as_millis() as u64,
            took_ms: outcome.duration.as_secs_f64() * 1000.0,
        });
    }
    if !check.outcome.admits(kind) {
        misses.insert(
            0,
            Miss::Outcome {
                expected: check.outcome,
                got: kind,
                detail: outcome.summary(),
            },
        );
        return misses;
    }
    let answer = answer(outcome);
    for expect in &check.expect {
        let pointer = expect.pointer.clone();
        let Some(got) = answer.pointer(&expect.pointer) else {
            misses.push(Miss::Missing { pointer });
            continue;
        };
        match &expect.test {
            Test::Equals(expected) if !same(expected, got) => misses.push(Miss::NotEqual {
                pointer,
                expected: expected.clone(),
                got: got.clone(),
            }),
            Test::Matches(pattern) => {
                let text = match got {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                if !pattern.is_match(&text) {
                    misses.push(Miss::NoMatch {
                        pointer,
                        pattern: pattern.to_string(),
                        got: got.clone(),
                    });
                }
            }
            Test::Equals(_) => {}
        }
    }
    misses
}

/// Equal as JSON, with numbers equal by value: TOML's `2` and a server's `2.0` are the same.
fn same(expected: &Value, got: &Value) -> bool {
    match (expected, got) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => expected == got,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use rmcp::model::ContentBlock;

    use super::*;
    use crate::mcp::{McpError, ToolResult, smoke::file::CheckFile};

    fn check(text: &str) -> Check {
        let file = format!("[[check]]\nname = \"c\"\ntool = \"echo\"\n{text}");
        CheckFile::parse(&file).unwrap().checks.remove(0)
    }

    fn answered(text: &str, structured: Option<Value>, is_error: bool, ms: u64) -> CallOutcome {
        let result = ToolResult {
            content: vec![ContentBlock::text(text)],
            structured_content: structured,
            is_error,
        };
        CallOutcome {
            result: Ok(result),
            duration: Duration::from_millis(ms),
            ..CallOutcome::failed(McpError::Cancelled, Instant::now())
        }
    }

    #[test]
    fn a_pointer_equals_by_value() {
        let check = check(
            "[[check.expect]]\npointer = \"/structuredContent/n\"\nequals = 2\n\
             [[check.expect]]\npointer = \"/content/0/text\"\nequals = \"smoke\"\n",
        );
        let good = answered("smoke", Some(json!({"n": 2.0})), false, 3);
        assert_eq!(judge(&check, &good), vec![]);
        let bad = answered("smok", Some(json!({"n": 3})), false, 3);
        let misses = judge(&check, &bad);
        assert_eq!(misses.len(), 2, "{misses:?}");
        assert_eq!(
            misses[1].to_string(),
            "/content/0/text: expected \"smoke\", got \"smok\""
        );
        assert_eq!(
            misses[0],
            Miss::NotEqual {
                pointer: "/structuredContent/n".into(),
                expected: json!(2),
                got: json!(3)
            }
        );
    }

    #[test]
    fn a_pointer_matches_strings_as_they_are_and_other_values_as_json() {
        let check = check(
            "[[check.expect]]\npointer = \"/content/0/text\"\nmatches = \"^sm.*e$\"\n\
             [[check.expect]]\npointer = \"/structuredContent\"\nmatches = '\"ok\":true'\n",
        );
        let good = answered("smoke", Some(json!({"ok": true})), false, 3);
        assert_eq!(judge(&check, &good), vec![]);
        let bad = answered("smoked", Some(json!({"ok": false})), false, 3);
        let shown: Vec<String> = judge(&check, &bad).iter().map(|m| m.to_string()).collect();
        assert_eq!(
            shown,
            [
                "/content/0/text: \"smoked\" does not match /^sm.*e$/",
                "/structuredContent: {\"ok\":false} does not match /\"ok\":true/"
            ]
        );
    }

    #[test]
    fn a_missing_pointer_is_a_miss_of_its_own() {
        let check = check("[[check.expect]]\npointer = \"/structuredContent/n\"\nequals = 1\n");
        let misses = judge(&check, &answered("x", None, false, 3));
        assert_eq!(
            misses,
            vec![Miss::Missing {
                pointer: "/structuredContent/n".into()
            }]
        );
        assert_eq!(misses[0].to_string(), "/structuredContent/n: nothing there");
    }

    #[test]
    fn the_wrong_outcome_is_said_and_the_pointers_are_not_judged() {
        let check = check("[[check.expect]]\npointer = \"/content/0/text\"\nequals = \"x\"\n");
        let misses = judge(&check, &answered("boom", None, true, 3));
        assert_eq!(
            misses.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            ["outcome: expected ok, got tool error (tool error: boom)"]
        );
        let failed = CallOutcome::failed(McpError::Protocol("no".into()), Instant::now());
        assert!(matches!(
            judge(&check, &failed)[..],
            [Miss::Outcome {
                got: OutcomeKind::Failed,
                ..
            }]
        ));
    }

    #[test]
    fn an_expected_error_passes_and_its_text_can_be_matched() {
        let check = check(
            "outcome = \"error\"\n[[check.expect]]\npointer = \"/error\"\nmatches = \"timed out\"\n",
        );
        let timed_out =
            CallOutcome::failed(McpError::TimedOut(Duration::from_secs(1)), Instant::now());
        assert_eq!(judge(&check, &timed_out), vec![], "{}", answer(&timed_out));
        let tool_error = check_of_tool_error();
        assert_eq!(judge(&tool_error, &answered("no", None, true, 3)), vec![]);
        assert_eq!(
            judge(&tool_error, &answered("yes", None, false, 3)).len(),
            1
        );
    }

    fn check_of_tool_error() -> Check {
        check("outcome = \"tool_error\"\n")
    }

    #[test]
    fn a_slow_answer_breaks_the_latency_budget() {
        let check = check("latency_ms = 100\n");
        assert_eq!(judge(&check, &answered("x", None, false, 100)), vec![]);
        let misses = judge(&check, &answered("x", None, false, 250));
        assert_eq!(
            misses.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
            ["latency: 250.0 ms, over the 100 ms budget"]
        );
    }
}
