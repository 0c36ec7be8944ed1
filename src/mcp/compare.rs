//! A fan-out compared: the replicas grouped by identical result (the same outcome, content and
//! structured content), the largest group first, and each other group's result set against
//! the largest one's — structured content field by field, text line by line — so the odd
//! replica, and what makes it odd, is read at a glance.

use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::inert::inert_line;

use super::{CallOutcome, OutcomeKind, TaskOutcome};

/// At most this many differences are listed per group; the rest are counted.
const MAX_DIFFERENCES: usize = 40;
/// Lines of unchanged text shown around each changed line.
const CONTEXT_LINES: usize = 2;

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// One per replica, in task order.
    pub replicas: Vec<ReplicaResult>,
    /// The largest first; equal sizes in order of their first task.
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplicaResult {
    pub task_id: String,
    pub revision: u32,
    pub zone: Option<String>,
    pub duration_ms: f64,
    pub outcome: OutcomeKind,
    pub summary: String,
    /// The first 12 hex digits of the SHA-256 of the result as compared.
    pub hash: String,
    /// The replica's group's label.
    pub group: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// `A` for the largest group, then `B`, `C`, …
    pub label: String,
    pub hash: String,
    pub outcome: OutcomeKind,
    pub tasks: Vec<String>,
    /// How this group's result differs from group A's; empty for A itself.
    pub differences: Vec<Difference>,
    /// Differences found beyond those listed.
    pub more: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// The calls ended differently (ok against a tool error, or another error).
    Outcome { expected: String, found: String },
    /// A field of the structured content, by its JSON pointer; absent on one side is null.
    Field {
        pointer: String,
        expected: Option<Value>,
        found: Option<Value>,
    },
    /// A line of the text content: `-` only group A has it, `+` only this group, ` ` both
    /// (context around a change).
    Line { sign: char, text: String },
    /// Content besides text differs (images, resources, …).
    Content { note: String },
}

impl std::fmt::Display for Difference {
    /// One line, a server's text inert: `/limits/rps: 10 → 5`, `- a line`, `+ a line`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |value: &Option<Value>| match value {
            Some(value) => inert_line(&value.to_string()).into_owned(),
            None => "(absent)".to_string(),
        };
        match self {
            Difference::Outcome { expected, found } => write!(
                f,
                "outcome: {} → {}",
                inert_line(expected),
                inert_line(found)
            ),
            Difference::Field {
                pointer,
                expected,
                found,
            } => write!(
                f,
                "{}: {} → {}",
                inert_line(pointer),
                shown(expected),
                shown(found)
            ),
            Difference::Line { sign, text } => write!(f, "{sign} {}", inert_line(text)),
            Difference::Content { note } => f.write_str(note),
        }
    }
}

impl Group {
    /// The outcome that stands for the group: its first replica's, among `outcomes`.
    pub fn first<'a>(&self, outcomes: &'a [TaskOutcome]) -> Option<&'a TaskOutcome> {
        let task = self.tasks.first()?;
        outcomes.iter().find(|t| &t.task_id == task)
    }

    /// `group B differs from group A:` and a line per difference.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!("group {} differs from group A:", self.label)];
        lines.extend(self.differences.iter().map(|d| format!("  {d}")));
        if self.more > 0 {
            lines.push(format!("  … and {} more", self.more));
        }
        lines
    }
}

impl Comparison {
    pub fn of(outcomes: &[TaskOutcome]) -> Self {
        let compared: Vec<Value> = outcomes.iter().map(|o| compared(&o.outcome)).collect();
        let hashes: Vec<String> = compared.iter().map(hash).collect();
        // Groups in order of first appearance, then stably by size.
        let mut order: Vec<(String, Vec<usize>)> = Vec::new();
        for (index, hash) in hashes.iter().enumerate() {
            match order.iter_mut().find(|(h, _)| h == hash) {
                Some((_, members)) => members.push(index),
                None => order.push((hash.clone(), vec![index])),
            }
        }
        order.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
        let label = |n: usize| {
            let letter = char::from(b'A' + (n % 26) as u8);
            if n < 26 {
                letter.to_string()
            } else {
                format!("{letter}{}", n / 26)
            }
        };
        let reference = order.first().map(|(_, members)| members[0]);
        let groups: Vec<Group> = order
            .iter()
            .enumerate()
            .map(|(n, (hash, members))| {
                let first = &outcomes[members[0]].outcome;
                let mut differences = match reference {
                    Some(a) if n > 0 => differences(&outcomes[a].outcome, first),
                    _ => Vec::new(),
                };
                let more = differences.len().saturating_sub(MAX_DIFFERENCES);
                differences.truncate(MAX_DIFFERENCES);
                Group {
                    label: label(n),
                    hash: hash.clone(),
                    outcome: first.kind(),
                    tasks: members
                        .iter()
                        .map(|&i| outcomes[i].task_id.clone())
                        .collect(),
                    differences,
                    more,
                }
            })
            .collect();
        let replicas = outcomes
            .iter()
            .zip(&hashes)
            .map(|(task, hash)| ReplicaResult {
                task_id: task.task_id.clone(),
                revision: task.revision,
                zone: task.zone.clone(),
                duration_ms: (task.outcome.duration.as_secs_f64() * 1e6).round() / 1e3,
                outcome: task.outcome.kind(),
                summary: task.outcome.summary(),
                hash: hash.clone(),
                group: groups
                    .iter()
                    .find(|g| g.hash == *hash)
                    .map(|g| g.label.clone())
                    .unwrap_or_default(),
            })
            .collect();
        Self { replicas, groups }
    }

    /// Every replica answered the same.
    pub fn unanimous(&self) -> bool {
        self.groups.len() <= 1
    }
}

/// What is compared of an outcome: the result as the server sent it, or the error.
fn compared(outcome: &CallOutcome) -> Value {
    match &outcome.result {
        Ok(result) => json!({
            "isError": result.is_error,
            "content": result.content,
            "structuredContent": result.structured_content,
        }),
        Err(error) => json!({"error": error.to_string()}),
    }
}

/// Key order does not make two results different.
pub(super) fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let sorted: Map<String, Value> = keys
                .into_iter()
                .map(|k| (k.clone(), canonical(&map[k])))
                .collect();
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The first 12 hex digits of the SHA-256 of `value` in canonical form.
pub(super) fn hash(value: &Value) -> String {
    let digest = Sha256::digest(canonical(value).to_string().as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// How `found` differs from `expected`: the outcome, structured content field by field, text
/// by line, other content.
pub fn differences(expected: &CallOutcome, found: &CallOutcome) -> Vec<Difference> {
    let (Ok(a), Ok(b)) = (&expected.result, &found.result) else {
        return vec![Difference::Outcome {
            expected: expected.summary(),
            found: found.summary(),
        }];
    };
    let mut out = Vec::new();
    if a.is_error != b.is_error {
        out.push(Difference::Outcome {
            expected: expected.summary(),
            found: found.summary(),
        });
    }
    match (&a.structured_content, &b.structured_content) {
        (None, None) => {}
        (x, y) => fields(x.as_ref(), y.as_ref(), &mut String::new(), &mut out),
    }
    let (text_a, text_b) = (a.text(), b.text());
    if text_a != text_b {
        // Text that repeats the structured content says nothing the fields did not.
        let repeats = |text: &str, structured: &Option<Value>| {
            structured.is_some() && serde_json::from_str::<Value>(text.trim()).ok() == *structured
        };
        if !(repeats(&text_a, &a.structured_content) && repeats(&text_b, &b.structured_content)) {
            lines(&text_a, &text_b, &mut out);
        }
    }
    let others = |blocks: &[rmcp::model::ContentBlock]| -> Vec<Value> {
        blocks
            .iter()
            .filter(|b| b.as_text().is_none())
            .map(|b| canonical(&serde_json::to_value(b).unwrap_or_default()))
            .collect()
    };
    let (others_a, others_b) = (others(&a.content), others(&b.content));
    if others_a != others_b {
        out.push(Difference::Content {
            note: format!(
                "{} non-text blocks against {}, not the same",
                others_a.len(),
                others_b.len()
            ),
        });
    }
    out
}

/// How `found` differs from `expected`, field by field (`Difference::Field` only).
pub(super) fn field_differences(expected: &Value, found: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    fields(Some(expected), Some(found), &mut String::new(), &mut out);
    out
}

/// Field by field, objects by key and arrays by index.
fn fields(a: Option<&Value>, b: Option<&Value>, pointer: &mut String, out: &mut Vec<Difference>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                fields(x.get(key), y.get(key), pointer, out);
                pointer.truncate(len);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for index in 0..x.len().max(y.len()) {
                let len = pointer.len();
                pointer.push_str(&format!("/{index}"));
                fields(x.get(index), y.get(index), pointer, out);
                pointer.truncate(len);
            }
        }
        (x, y) if x != y => out.push(Difference::Field {
            pointer: if pointer.is_empty() {
                "/".to_string()
            } else {
                pointer.clone()
            },
            expected: x.cloned(),
            found: y.cloned(),
        }),
        _ => {}
    }
}

/// A line diff with a little context around each change.
fn lines(a: &str, b: &str, out: &mut Vec<Difference>) {
    let diff = similar::TextDiff::from_lines(a, b);
    for group in diff.grouped_ops(CONTEXT_LINES) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Equal => ' ',
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                };
                let text = change.value().trim_end_matches('\n').to_string();
                out.push(Difference::Line { sign, text });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use rmcp::model::ContentBlock;

    use super::*;
    use crate::mcp::{McpError, ToolResult};

    fn replica(id: &str, result: Result<ToolResult, McpError>) -> TaskOutcome {
        let mut outcome = CallOutcome::failed(McpError::Cancelled, Instant::now());
        outcome.result = result;
        outcome.duration = Duration::from_millis(12);
        TaskOutcome {
            task_id: id.into(),
            revision: 1,
            zone: Some("us-east-1a".into()),
            outcome,
        }
    }

    fn ok(text: &str, structured: Option<Value>) -> Result<ToolResult, McpError> {
        Ok(ToolResult {
            content: vec![ContentBlock::text(text)],
            structured_content: structured,
            is_error: false,
        })
    }

    #[test]
    fn the_odd_replica_is_grouped_apart_with_its_fields_diffed() {
        let same = json!({"region": "us-east-1", "limits": {"rps": 10}, "tags": ["a"]});
        let odd = json!({"limits": {"rps": 5}, "tags": ["a", "b"], "region": "us-east-1"});
        // Key order alone does not split a group.
        let reordered = json!({"tags": ["a"], "limits": {"rps": 10}, "region": "us-east-1"});
        let compared = Comparison::of(&[
            replica("t1", ok("{}", Some(same.clone()))),
            replica("t2", ok("{}", Some(odd))),
            replica("t3", ok("{}", Some(reordered))),
        ]);
        assert_eq!(compared.groups.len(), 2);
        let (a, b) = (&compared.groups[0], &compared.groups[1]);
        assert_eq!(
            (a.label.as_str(), a.tasks.clone()),
            ("A", vec!["t1".into(), "t3".into()])
        );
        assert_eq!(b.tasks, vec!["t2".to_string()]);
        assert_eq!(
            b.differences,
            vec![
                Difference::Field {
                    pointer: "/limits/rps".into(),
                    expected: Some(json!(10)),
                    found: Some(json!(5)),
                },
                Difference::Field {
                    pointer: "/tags/1".into(),
                    expected: None,
                    found: Some(json!("b")),
                },
            ]
        );
        assert_eq!(compared.replicas[1].group, "B");
        assert_ne!(compared.replicas[0].hash, compared.replicas[1].hash);
        assert_eq!(compared.replicas[0].hash, compared.replicas[2].hash);
        assert!(!compared.unanimous());
    }

    #[test]
    fn text_is_diffed_by_line_and_errors_by_outcome() {
        let compared = Comparison::of(&[
            replica("t1", ok("one\ntwo\nthree", None)),
            replica("t2", ok("one\ntwo\nthree", None)),
            replica("t3", ok("one\nTWO\nthree", None)),
            replica("t4", Err(McpError::TimedOut(Duration::from_secs(1)))),
        ]);
        let lines: Vec<(char, &str)> = compared.groups[1]
            .differences
            .iter()
            .map(|d| match d {
                Difference::Line { sign, text } => (*sign, text.as_str()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            lines,
            [(' ', "one"), ('-', "two"), ('+', "TWO"), (' ', "three")]
        );
        assert!(matches!(
            &compared.groups[2].differences[..],
            [Difference::Outcome { found, .. }] if found.starts_with("timed out")
        ));
    }

    #[test]
    fn one_answer_everywhere_is_one_group() {
        let compared = Comparison::of(&[
            replica("t1", ok("same", None)),
            replica("t2", ok("same", None)),
        ]);
        assert!(compared.unanimous());
        assert!(compared.groups[0].differences.is_empty());
    }
}
