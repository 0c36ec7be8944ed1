//! A tool's App UI (MCP Apps) in the tools view's detail pane: `u` reads the tool's `ui://`
//! resource through the worker and shows its URI, MIME type, size, CSP and permissions, the
//! server's text inert; `U` does the same and then writes the HTML to a private file and
//! opens it in the browser.

use ratatui::text::Line;

use super::Fetch;
use crate::{
    inert::inert_line,
    mcp::{Browse, BrowseUpdate, Browsed, CallId, ToolInfo, apps::AppUi},
    ui::{
        action::{Action, Scope},
        theme::Theme,
    },
};

/// The App UI asked for, for one tool.
#[derive(Debug, Default)]
pub struct AppPane {
    tool: String,
    asked: Option<CallId>,
    open: bool,
    shown: Option<Result<AppUi, String>>,
    /// What became of `U`: the file opened, or why not.
    opened: Option<Result<String, String>>,
}

impl AppPane {
    /// The pane and the fetch that reads `tool`'s App UI, or no pane and a message when it
    /// has none.
    pub fn ask(tool: &ToolInfo, scope: &Scope, open: bool) -> (Option<Self>, Action) {
        if tool.ui_resource.is_none() {
            let message = Action::Message(format!(
                "{} has no App UI (no _meta.ui.resourceUri)",
                inert_line(&tool.name)
            ));
            return (None, message);
        }
        let pane = Self {
            tool: tool.name.clone(),
            open,
            ..Self::default()
        };
        let fetch = Fetch::Browse(Browse::App {
            tool: tool.name.clone(),
        });
        (Some(pane), Action::Fetch(scope.clone(), fetch))
    }

    pub fn on_fetch_started(&mut self, id: CallId, fetch: &Fetch) {
        if let Fetch::Browse(Browse::App { tool }) = fetch
            && *tool == self.tool
        {
            self.asked = Some(id);
        }
    }

    /// Takes the answer to its fetch; false when `id` is not its own.
    pub fn on_fetch_update(&mut self, id: CallId, update: &BrowseUpdate) -> bool {
        if self.asked != Some(id) {
            return false;
        }
        let BrowseUpdate::Answer(answer) = update else {
            return true;
        };
        self.asked = None;
        let shown = match answer {
            Ok(Browsed::App(app)) => Ok(app.clone()),
            Ok(_) => Err("unexpected answer".into()),
            Err(error) => Err(error.to_string()),
        };
        if self.open
            && let Ok(app) = &shown
        {
            self.opened = Some(open(app));
        }
        self.shown = Some(shown);
        true
    }

    /// The pane's lines for `tool` (nothing when it asked about another tool).
    pub fn lines(&self, tool: &str, theme: Theme) -> Vec<Line<'static>> {
        if tool != self.tool {
            return Vec::new();
        }
        let mut lines = vec![Line::default(), Line::styled("App UI", theme.header())];
        match &self.shown {
            None => lines.push(Line::styled("reading the UI resource…", theme.dim())),
            Some(Err(error)) => {
                lines.push(Line::styled(inert_line(error).into_owned(), theme.warn()))
            }
            Some(Ok(app)) => {
                let shown = app.lines();
                let width = shown
                    .iter()
                    .map(|(label, _)| label.len())
                    .max()
                    .unwrap_or(0)
                    + 1;
                for (label, value) in shown.into_iter().skip(1) {
                    lines.push(Line::from(format!(
                        "{:<width$} {}",
                        format!("{label}:"),
                        inert_line(&value)
                    )));
                }
                if !app.is_app_document() {
                    lines.push(Line::styled(
                        "not an App UI document (text/html;profile=mcp-app expected)",
                        theme.warn(),
                    ));
                }
            }
        }
        match &self.opened {
            Some(Ok(opened)) => lines.push(Line::styled(opened.clone(), theme.dim())),
            Some(Err(error)) => lines.push(Line::styled(error.clone(), theme.warn())),
            None => {}
        }
        lines
    }
}

/// Writes the page (a small local file) and hands it to the browser on a thread of its own,
/// so the loop never waits for the opener.
fn open(app: &AppUi) -> Result<String, String> {
    let path = app
        .write_page()
        .map_err(|error| format!("cannot write the App UI to a file: {error}"))?;
    let shown = path.display().to_string();
    let url = shown.clone();
    std::thread::spawn(move || crate::oauth::browser::open(&url));
    Ok(format!("opening {shown} in the browser"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn app_tool() -> ToolInfo {
        ToolInfo {
            name: "show_chart".into(),
            title: None,
            description: None,
            input_schema: json!({"type": "object"}),
            output_schema: None,
            read_only: Some(true),
            destructive: None,
            idempotent: None,
            open_world: None,
            ui_resource: Some("ui://charts/chart.html".into()),
        }
    }

    #[test]
    fn a_tool_without_an_app_ui_is_told_and_nothing_is_fetched() {
        let tool = ToolInfo {
            ui_resource: None,
            ..app_tool()
        };
        let scope = Scope::service("s");
        let (None, Action::Message(message)) = AppPane::ask(&tool, &scope, false) else {
            panic!("a message")
        };
        assert_eq!(
            message,
            "show_chart has no App UI (no _meta.ui.resourceUri)"
        );
    }

    #[test]
    fn the_answer_to_its_own_fetch_is_shown_inert() {
        let scope = Scope::service("s");
        let (Some(mut pane), Action::Fetch(_, fetch)) = AppPane::ask(&app_tool(), &scope, false)
        else {
            panic!("a fetch")
        };
        pane.on_fetch_started(7, &fetch);
        assert!(!pane.on_fetch_update(8, &BrowseUpdate::ListChanged));
        let app = AppUi {
            tool: "show_chart".into(),
            uri: "ui://charts/chart.html".into(),
            mime_type: Some("text/html;profile=mcp-app".into()),
            size: 56,
            csp: Some(json!({"connectDomains": ["https://api.example\u{1b}[2J"]})),
            permissions: None,
            domain: None,
            prefers_border: None,
            html: String::new(),
        };
        assert!(pane.on_fetch_update(7, &BrowseUpdate::Answer(Ok(Browsed::App(app)))));
        let text: Vec<String> = pane
            .lines("show_chart", Theme::plain())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            text,
            [
                "",
                "App UI",
                "ui resource:        ui://charts/chart.html",
                "mime type:          text/html;profile=mcp-app",
                "size:               56 bytes",
                "csp connectDomains: https://api.example\\u{1b}[2J",
                "permissions:        (none)",
            ]
        );
        assert!(pane.lines("other", Theme::plain()).is_empty());
    }
}
