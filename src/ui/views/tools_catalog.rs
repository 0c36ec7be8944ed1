//! What the console knows about a service's tools: which task's probe they come from, their
//! annotations as hint words, the detail pane's lines (description, arguments, output) and the
//! server's resources and prompts.

use std::collections::HashMap;

use ratatui::text::{Line, Span};

use crate::{
    fleet::FleetSnapshot,
    mcp::{Probe, ToolInfo},
    ui::{action::Scope, theme::Theme},
};

/// Where a scope's tool list comes from.
pub enum ToolSource<'a> {
    Probed {
        task_id: String,
        probe: &'a Probe,
    },
    /// A task that will be probed; nothing has arrived from it yet.
    Probing(String),
    NoTask,
}

/// The probe of the scoped task, or of the service's first ready task that has one.
pub fn tool_source<'a>(
    snapshot: &FleetSnapshot,
    scope: &Scope,
    probes: &'a HashMap<String, Probe>,
) -> ToolSource<'a> {
    let Some(service) = scope.service.as_deref().and_then(|s| snapshot.service(s)) else {
        return ToolSource::NoTask;
    };
    let probed = |id: &str| {
        probes.get(id).map(|probe| ToolSource::Probed {
            task_id: id.to_string(),
            probe,
        })
    };
    if let Some(task) = &scope.task {
        let id = service.task(task).map_or(task.as_str(), |t| t.id.as_str());
        return probed(id).unwrap_or_else(|| ToolSource::Probing(id.to_string()));
    }
    let mut ready = service.ready_tasks();
    let first = ready.next();
    first
        .into_iter()
        .chain(ready)
        .find_map(|t| probed(&t.id))
        .or_else(|| first.map(|t| ToolSource::Probing(t.id.clone())))
        .unwrap_or(ToolSource::NoTask)
}

/// A tool's definition and its server's protocol version, from the scoped task's probe, else
/// from any probed ready task of the service; `Err` says why there is none yet.
pub fn find_tool<'a>(
    snapshot: &FleetSnapshot,
    probes: &'a HashMap<String, Probe>,
    scope: &Scope,
    tool: &str,
) -> Result<(&'a ToolInfo, &'a str), String> {
    let service = scope.service.as_deref().ok_or("a call needs a service")?;
    if snapshot.service(service).is_none() {
        return Err(format!("no service {service}"));
    }
    let probe = [scope.clone(), Scope::service(service)]
        .iter()
        .find_map(|s| match tool_source(snapshot, s, probes) {
            ToolSource::Probed { probe, .. } => Some(probe),
            _ => None,
        })
        .ok_or_else(|| format!("no tool list from {service} yet: its tasks are being probed"))?;
    let info = probe.tools.iter().find(|t| t.name == tool);
    let info = info.ok_or_else(|| format!("{service} has no tool {tool}"))?;
    Ok((info, probe.protocol_version.as_str()))
}

pub fn hint_spans(tool: &ToolInfo, theme: Theme) -> Line<'static> {
    let spans: Vec<Span> = tool
        .hints()
        .into_iter()
        .enumerate()
        .flat_map(|(i, hint)| {
            let style = match hint {
                "DESTRUCTIVE" => theme.dangerous(),
                "open-world" => theme.warn(),
                _ => theme.ok(),
            };
            [
                Span::raw(if i == 0 { "" } else { " " }),
                Span::styled(hint, style),
            ]
        })
        .collect();
    Line::from(spans)
}

pub fn first_line(text: Option<&str>) -> String {
    text.and_then(|t| t.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// What the detail pane says about a tool: description, arguments, output.
pub fn detail_lines(tool: &ToolInfo, theme: Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = match &tool.description {
        Some(text) => text.lines().map(|l| Line::from(l.to_string())).collect(),
        None => vec![Line::styled("(no description)", theme.dim())],
    };
    lines.push(Line::default());
    let fields = super::call::schema::fields(&tool.input_schema);
    lines.push(Line::styled("arguments", theme.header()));
    if fields.is_empty() {
        lines.push(Line::styled("  (none)", theme.dim()));
    }
    let width = fields
        .iter()
        .map(|f| f.name.chars().count() + 1)
        .max()
        .unwrap_or(0);
    let label_width = fields
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0);
    for field in &fields {
        let name = format!("{}{}", field.name, if field.required { "*" } else { "" });
        lines.push(Line::from(vec![
            Span::raw(format!("  {name:<width$} ")),
            Span::styled(format!("{:<label_width$}  ", field.label), theme.title()),
            Span::styled(field.hint.clone(), theme.dim()),
        ]));
    }
    let output = match tool
        .output_schema
        .as_ref()
        .and_then(|s| s.get("properties"))
    {
        Some(serde_json::Value::Object(props)) => {
            format!(
                "structured: {}",
                props.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        }
        _ if tool.output_schema.is_some() => "structured".to_string(),
        _ => "content blocks (no outputSchema)".to_string(),
    };
    lines.push(Line::from(vec![
        Span::styled("output ", theme.header()),
        Span::raw(output),
    ]));
    lines
}

/// "resources (2): a, b · prompts: not offered"
pub fn catalog_line(probe: &Probe) -> String {
    let part = |what: &str, count: Option<usize>, names: &[String]| match count {
        None => format!("{what}: not offered"),
        Some(0) => format!("{what}: none"),
        Some(n) => format!("{what} ({n}): {}", names.join(", ")),
    };
    format!(
        "{} · {}",
        part("resources", probe.resources, &probe.resource_names),
        part("prompts", probe.prompts, &probe.prompt_names)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::fixtures::Fixture;

    const TASK: &str = "0f2ab1c9d8e74f6a9b3c1d2e3f4a5b6c";

    #[test]
    fn tools_come_from_the_scoped_task_or_the_first_probed_ready_one() {
        let fixture = Fixture::new();
        let source = |scope| match tool_source(&fixture.fleet, &scope, &fixture.probes) {
            ToolSource::Probed { task_id, .. } => format!("probed {task_id}"),
            ToolSource::Probing(task) => format!("probing {task}"),
            ToolSource::NoTask => "none".into(),
        };
        assert_eq!(
            source(Scope::service("mcpfleet-server")),
            format!("probed {TASK}")
        );
        assert_eq!(
            source(Scope::task("mcpfleet-server", "7a3e")),
            "probed 7a3e5c1b9d2f4a6c8e0b2d4f6a8c0e2f"
        );
        assert_eq!(
            source(Scope::task("mcpfleet-server", "e4f6")),
            "probing e4f6a8c0b2d4e6f8a0c2e4f6a8b0d2f4"
        );
        assert_eq!(
            source(Scope::service("everything")),
            "none",
            "its only task is unhealthy"
        );
    }

    #[test]
    fn hints_follow_the_mcp_defaults() {
        let mut tool = Fixture::new().probes[TASK].tools[0].clone();
        assert_eq!(tool.hints(), vec!["ro", "idem"]);
        tool.read_only = None;
        tool.destructive = None;
        tool.open_world = Some(true);
        assert_eq!(tool.hints(), vec!["idem", "DESTRUCTIVE", "open-world"]);
    }

    #[test]
    fn detail_names_arguments_and_the_catalog() {
        let probe = &Fixture::new().probes[TASK];
        let lines: Vec<String> = detail_lines(&probe.tools[0], Theme::plain())
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(lines[2..4], ["arguments", "  message* string  "]);
        assert_eq!(
            catalog_line(probe),
            "resources (1): identity · prompts: not offered"
        );
    }
}
