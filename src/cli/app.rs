//! `mcpfleet app`: a tool's App UI (MCP Apps, the `io.modelcontextprotocol/ui` extension) —
//! its `ui://` resource read through the worker, shown with its MIME type, size, content
//! security policy and permissions; `--open` writes the document to a private file and opens
//! it in the browser.

use crate::{
    inert::inert_line,
    mcp::{Browse, Browsed},
    oauth::browser,
};

use super::{CliError, GlobalArgs, browse::browse, exit};

pub struct AppArgs {
    /// SERVICE and TOOL, as typed (no SERVICE with --url).
    pub words: Vec<String>,
    pub task: Option<String>,
    pub open: bool,
    pub json: bool,
}

pub async fn run(global: &GlobalArgs, args: AppArgs) -> Result<u8, CliError> {
    let (service, tool) = match (args.words.as_slice(), &global.url) {
        ([tool], Some(_)) => ("", tool),
        ([service, tool], None) => (service.as_str(), tool),
        _ => {
            return Err(CliError::new(
                exit::USAGE,
                "app needs SERVICE and TOOL (or --url URL and TOOL)",
            ));
        }
    };
    let what = Browse::App { tool: tool.clone() };
    let Browsed::App(app) = browse(global, service, args.task.as_deref(), what, args.json).await?
    else {
        return Err(CliError::new(exit::CONNECTION, "unexpected answer"));
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&app).expect("JSON values serialise")
        );
    } else {
        let width = app
            .lines()
            .iter()
            .map(|(label, _)| label.len())
            .max()
            .unwrap_or(0);
        for (label, value) in app.lines() {
            println!(
                "{:<width$} {}",
                format!("{label}:"),
                inert_line(&value),
                width = width + 1
            );
        }
    }
    if !app.is_app_document() {
        eprintln!(
            "mcpfleet: {} is not an App UI document ({} expected)",
            inert_line(&app.uri),
            crate::mcp::apps::APP_MIME_TYPE
        );
    }
    if args.open {
        let path = app.write_page().map_err(|error| {
            CliError::new(
                exit::CONFIG,
                format!("cannot write the App UI to a file: {error}"),
            )
        })?;
        let shown = path.display().to_string();
        match tokio::task::spawn_blocking(move || browser::open(&shown)).await {
            Ok(browser::Opened::With(program)) => {
                eprintln!("mcpfleet: opened {} with {program}", path.display())
            }
            _ => eprintln!("mcpfleet: open {} in a browser", path.display()),
        }
    }
    Ok(exit::OK)
}
