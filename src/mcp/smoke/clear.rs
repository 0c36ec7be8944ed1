//! Whether a check file may run on a service, decided before anything is sent: each check's
//! tool listed, its arguments fitting the tool's input schema, its clearance given. Every
//! reason is kept, so a file is fixed in one go.

use crate::mcp::{Clearance, ToolInfo, schema};

use super::Check;

/// Why one check may not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The service lists no such tool.
    NotListed,
    /// A destructive tool under `--read-only`.
    ReadOnly,
    /// A destructive tool, which would be called on every replica, without the person's
    /// consent.
    NeedsConsent,
    /// The arguments break the tool's input schema.
    Arguments,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub why: Why,
    /// `line N: check "NAME": …`; a server's words (tool names) not yet made inert.
    pub message: String,
}

/// Every reason a check of `checks` may not run against a service whose tools are `tools`;
/// empty when all may. `consent` is the person's yes to destructive tools.
pub fn refusals(
    checks: &[Check],
    tools: &[ToolInfo],
    read_only: bool,
    consent: bool,
) -> Vec<Refusal> {
    let mut refused = Vec::new();
    for check in checks {
        let at = format!("line {}: check \"{}\"", check.line, check.name);
        let mut refuse = |why, text: String| {
            refused.push(Refusal {
                why,
                message: format!("{at}: {text}"),
            })
        };
        let Some(tool) = tools.iter().find(|t| t.name == check.tool) else {
            let listed: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
            refuse(
                Why::NotListed,
                format!(
                    "the service lists no tool \"{}\" (it lists: {})",
                    check.tool,
                    listed.join(", ")
                ),
            );
            continue;
        };
        match tool.clearance(read_only) {
            Clearance::Refused(why) => refuse(Why::ReadOnly, why),
            Clearance::Confirm if !consent => refuse(
                Why::NeedsConsent,
                format!(
                    "{} is annotated destructive (destructiveHint: true) and would be called on \
                     every replica",
                    check.tool
                ),
            ),
            Clearance::Confirm | Clearance::Send => {}
        }
        let problems = schema::check(&tool.input_schema, &check.arguments);
        if !problems.is_empty() {
            refuse(
                Why::Arguments,
                format!(
                    "the arguments do not fit {}'s input schema: {}",
                    check.tool,
                    problems.join("; ")
                ),
            );
        }
    }
    refused
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mcp::smoke::CheckFile;

    fn tool(name: &str, destructive: bool) -> ToolInfo {
        ToolInfo {
            name: name.into(),
            title: None,
            description: None,
            input_schema: json!({"type": "object", "properties": {"message": {"type": "string"}},
                "required": ["message"]}),
            output_schema: None,
            read_only: None,
            destructive: Some(destructive),
            idempotent: None,
            open_world: None,
            ui_resource: None,
        }
    }

    fn checks(tool: &str, args: &str) -> Vec<Check> {
        let text = format!("[[check]]\nname = \"c\"\ntool = \"{tool}\"\nargs = {args}\n");
        CheckFile::parse(&text).unwrap().checks
    }

    fn whys(refused: &[Refusal]) -> Vec<Why> {
        refused.iter().map(|r| r.why).collect()
    }

    #[test]
    fn a_check_runs_only_with_a_listed_tool_and_fitting_arguments() {
        let tools = [tool("echo", false)];
        let fine = checks("echo", "{ message = \"hi\" }");
        assert_eq!(refusals(&fine, &tools, false, false), vec![]);
        let refused = refusals(&checks("nope", "{}"), &tools, false, false);
        assert_eq!(
            refused,
            vec![Refusal {
                why: Why::NotListed,
                message: "line 1: check \"c\": the service lists no tool \"nope\" (it lists: echo)"
                    .into()
            }]
        );
        let refused = refusals(&checks("echo", "{ message = 3 }"), &tools, false, false);
        assert_eq!(whys(&refused), [Why::Arguments]);
        assert!(
            refused[0]
                .message
                .starts_with("line 1: check \"c\": the arguments do not fit echo's input schema: "),
            "{refused:?}"
        );
    }

    #[test]
    fn a_destructive_tool_needs_consent_and_is_refused_under_read_only() {
        let tools = [tool("wipe", true)];
        let wipe = checks("wipe", "{ message = \"x\" }");
        assert_eq!(
            whys(&refusals(&wipe, &tools, false, false)),
            [Why::NeedsConsent]
        );
        assert_eq!(refusals(&wipe, &tools, false, true), vec![]);
        let refused = refusals(&wipe, &tools, true, true);
        assert_eq!(whys(&refused), [Why::ReadOnly]);
        assert!(
            refused[0].message.contains("refused under --read-only"),
            "{refused:?}"
        );
    }
}
