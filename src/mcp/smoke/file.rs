//! The check file of `mcpfleet check`: TOML, one `[[check]]` per call with what its answer must
//! show — the outcome, values at JSON pointers (equal, or matching a regex), a latency budget.
//! A bad file is refused whole, naming the line, before anything is sent.

use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use toml::Spanned;

use crate::mcp::OutcomeKind;

/// The checks of one file, in the file's order.
#[derive(Debug)]
pub struct CheckFile {
    pub checks: Vec<Check>,
}

/// One call, and what its answer on every replica must show.
#[derive(Debug)]
pub struct Check {
    pub name: String,
    pub tool: String,
    /// The arguments object sent to the tool.
    pub arguments: Value,
    pub outcome: Expected,
    pub latency_budget: Option<Duration>,
    pub expect: Vec<Expect>,
    /// The line of its `[[check]]`, for errors about it found later (the tool's schema).
    pub line: usize,
}

/// The outcome a check wants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// A result without `isError`.
    #[default]
    Ok,
    /// A result with `isError: true`.
    ToolError,
    /// No result: a protocol or transport error, a timeout.
    Error,
}

impl Expected {
    pub fn admits(self, kind: OutcomeKind) -> bool {
        match self {
            Expected::Ok => kind == OutcomeKind::Ok,
            Expected::ToolError => kind == OutcomeKind::ToolError,
            Expected::Error => matches!(
                kind,
                OutcomeKind::Failed | OutcomeKind::TimedOut | OutcomeKind::Cancelled
            ),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Expected::Ok => "ok",
            Expected::ToolError => "tool error",
            Expected::Error => "an error",
        }
    }
}

/// A value the answer must hold at `pointer`.
#[derive(Debug)]
pub struct Expect {
    pub pointer: String,
    pub test: Test,
}

#[derive(Debug)]
pub enum Test {
    Equals(Value),
    /// A string is matched as it is; any other value as its JSON text.
    Matches(Regex),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    #[serde(default)]
    check: Vec<Spanned<CheckSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckSpec {
    name: String,
    tool: String,
    #[serde(default)]
    args: Map<String, Value>,
    #[serde(default)]
    outcome: Expected,
    latency_ms: Option<u64>,
    #[serde(default)]
    expect: Vec<Spanned<ExpectSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectSpec {
    pointer: String,
    equals: Option<Value>,
    matches: Option<String>,
}

/// Why a check file was refused.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Not TOML, or not this format: toml's own text names the line, the column and the key.
    #[error("{0}")]
    Toml(String),
    #[error("line {line}: {message}")]
    Check { line: usize, message: String },
}

impl CheckFile {
    pub fn parse(text: &str) -> Result<Self, FileError> {
        let spec: FileSpec =
            toml::from_str(text).map_err(|e| FileError::Toml(e.to_string().trim_end().into()))?;
        let line_of = |span: std::ops::Range<usize>| text[..span.start].matches('\n').count() + 1;
        if spec.check.is_empty() {
            return Err(FileError::Check {
                line: 1,
                message: "no [[check]] in the file".into(),
            });
        }
        let mut checks: Vec<Check> = Vec::with_capacity(spec.check.len());
        for spanned in spec.check {
            let line = line_of(spanned.span());
            let check = spanned.into_inner();
            let refuse = |line: usize, message: String| FileError::Check {
                line,
                message: format!("check \"{}\": {message}", check.name),
            };
            if check.name.trim().is_empty() {
                return Err(FileError::Check {
                    line,
                    message: "a check needs a name".into(),
                });
            }
            if let Some(first) = checks.iter().find(|c| c.name == check.name) {
                let message = format!("the name is taken by the check on line {}", first.line);
                return Err(refuse(line, message));
            }
            let mut expect = Vec::with_capacity(check.expect.len());
            for spanned in &check.expect {
                let line = line_of(spanned.span());
                let spec = spanned.get_ref();
                if !(spec.pointer.is_empty() || spec.pointer.starts_with('/')) {
                    let message = format!(
                        "pointer \"{}\" is not a JSON pointer (it starts with /, or is empty for \
                         the whole answer)",
                        spec.pointer
                    );
                    return Err(refuse(line, message));
                }
                let test = match (&spec.equals, &spec.matches) {
                    (Some(value), None) => Test::Equals(value.clone()),
                    (None, Some(pattern)) => Test::Matches(
                        Regex::new(pattern)
                            .map_err(|e| refuse(line, format!("matches is not a regex: {e}")))?,
                    ),
                    _ => {
                        let message = format!(
                            "the expectation at {} needs one of equals or matches",
                            spec.pointer
                        );
                        return Err(refuse(line, message));
                    }
                };
                expect.push(Expect {
                    pointer: spec.pointer.clone(),
                    test,
                });
            }
            checks.push(Check {
                name: check.name,
                tool: check.tool,
                arguments: Value::Object(check.args),
                outcome: check.outcome,
                latency_budget: check.latency_ms.map(Duration::from_millis),
                expect,
                line,
            });
        }
        Ok(Self { checks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[check]]
name = "echo round-trips"
tool = "echo"
args = { message = "smoke", times = 2 }
latency_ms = 500
[[check.expect]]
pointer = "/content/0/text"
equals = "smoke"
[[check.expect]]
pointer = "/structuredContent/n"
matches = "^[0-9]+$"

[[check]]
name = "refuses nonsense"
tool = "divide"
outcome = "tool_error"
"#;

    fn refused(text: &str) -> String {
        CheckFile::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn a_file_reads_into_checks_with_their_lines() {
        let file = CheckFile::parse(GOOD).unwrap();
        let [echo, divide] = &file.checks[..] else {
            panic!("two checks: {file:?}")
        };
        assert_eq!((echo.line, divide.line), (2, 14));
        assert_eq!(
            echo.arguments,
            serde_json::json!({"message": "smoke", "times": 2})
        );
        assert_eq!(echo.latency_budget, Some(Duration::from_millis(500)));
        assert_eq!(echo.outcome, Expected::Ok);
        assert!(matches!(&echo.expect[0].test, Test::Equals(v) if v == "smoke"));
        assert!(matches!(&echo.expect[1].test, Test::Matches(re) if re.is_match("12")));
        assert_eq!(divide.outcome, Expected::ToolError);
        assert_eq!(divide.arguments, serde_json::json!({}));
        assert!(divide.expect.is_empty() && divide.latency_budget.is_none());
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let error = refused("[[check]]\nname = \"a\"\ntool = \"echo\"\nlatency = 5\n");
        assert!(error.contains("line 4"), "{error}");
        assert!(error.contains("unknown field `latency`"), "{error}");
        let error = refused(
            "[[check]]\nname = \"a\"\ntool = \"echo\"\n[[check.expect]]\npointer = \"/x\"\nequal = 1\n",
        );
        assert!(
            error.contains("line 6") && error.contains("`equal`"),
            "{error}"
        );
    }

    #[test]
    fn a_wrong_outcome_or_a_missing_tool_is_refused() {
        let error = refused("[[check]]\nname = \"a\"\ntool = \"echo\"\noutcome = \"fine\"\n");
        assert!(
            error.contains("line 4") && error.contains("unknown variant `fine`"),
            "{error}"
        );
        let error = refused("[[check]]\nname = \"a\"\n");
        assert!(error.contains("missing field `tool`"), "{error}");
    }

    #[test]
    fn expectations_are_checked_before_anything_is_sent() {
        let check = "[[check]]\nname = \"a\"\ntool = \"echo\"\n[[check.expect]]\n";
        let error = refused(&format!("{check}pointer = \"/x\"\nmatches = \"(\"\n"));
        assert!(
            error.starts_with("line 4: check \"a\": matches is not a regex"),
            "{error}"
        );
        let error = refused(&format!("{check}pointer = \"/x\"\n"));
        assert!(error.contains("needs one of equals or matches"), "{error}");
        let error = refused(&format!(
            "{check}pointer = \"/x\"\nequals = 1\nmatches = \"1\"\n"
        ));
        assert!(error.contains("needs one of equals or matches"), "{error}");
        let error = refused(&format!("{check}pointer = \"x\"\nequals = 1\n"));
        assert!(error.contains("is not a JSON pointer"), "{error}");
    }

    #[test]
    fn an_empty_file_or_a_repeated_name_is_refused() {
        assert_eq!(refused(""), "line 1: no [[check]] in the file");
        let error = refused(
            "[[check]]\nname = \"a\"\ntool = \"echo\"\n\n[[check]]\nname = \"a\"\ntool = \"x\"\n",
        );
        assert_eq!(
            error,
            "line 5: check \"a\": the name is taken by the check on line 1"
        );
    }
}
