//! `mcpfleet resources`, `read`, `prompts` and `prompt`: what a service offers besides tools,
//! as tables or `--json`, through the same worker and sign-in rules as `tools` and `call`.
//! `read --output FILE` writes a resource's contents; `--output-format raw` writes the decoded
//! bytes of its single blob (or its text) instead of JSON. `complete` asks for the values of a
//! prompt's or a resource template's argument (`read --follow` is in `follow.rs`).

use std::{collections::BTreeMap, path::PathBuf};

use rmcp::model::ResourceContents;
use serde_json::{Map, Value};

use crate::{
    inert::inert,
    mcp::{Browse, Browsed, Completing, McpError},
};

use super::{
    CliError, GlobalArgs, exit,
    login::{self, Attempt},
    source, table,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Json,
    Raw,
}

/// Where `read` puts what it read.
pub struct Output {
    pub file: Option<PathBuf>,
    pub format: OutputFormat,
}

/// Asks the service (or `--url`) for `what`, signing in when the server asks and the rules
/// allow.
pub(super) async fn browse(
    global: &GlobalArgs,
    service: &str,
    task: Option<&str>,
    what: Browse,
    json: bool,
) -> Result<Browsed, CliError> {
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let (service, label) = match &global.url {
        Some(_) => ("url", ""),
        None => (service, service),
    };
    let configured = login::configured(&snapshot, service);
    login::with_sign_ins(global, json, label, configured, || {
        let what = what.clone();
        let snapshots = opened.handle.snapshots.clone();
        let snapshot = snapshot.clone();
        let answerer = super::elicit::answer(super::elicit::Policy::Refuse);
        let config = global.worker_config(&opened.config, answerer.asks);
        async move {
            let worker = crate::mcp::worker::spawn(snapshots, config);
            match worker.browse(service, task, what).await {
                Ok(browsed) => Ok(Attempt::Done(browsed)),
                Err(error @ McpError::AuthRequired { .. }) => Ok(Attempt::NeedsSignIn(error)),
                Err(error) => Err(source::mcp_error(&snapshot, error)),
            }
        }
    })
    .await
}

fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("MCP results serialise")
    );
}

fn first_line(text: Option<&str>) -> String {
    text.and_then(|t| t.lines().next())
        .unwrap_or("")
        .to_string()
}

pub async fn resources(
    global: &GlobalArgs,
    service: &str,
    task: Option<&str>,
    json: bool,
) -> Result<u8, CliError> {
    let browsed = browse(global, service, task, Browse::Resources, json).await?;
    if json {
        print_json(&browsed);
        return Ok(exit::OK);
    }
    let Browsed::Resources {
        resources,
        templates,
    } = browsed
    else {
        return Err(CliError::new(exit::CONNECTION, "unexpected answer"));
    };
    let rows: Vec<Vec<String>> = resources
        .iter()
        .map(|r| {
            vec![
                r.uri.clone(),
                r.name.clone(),
                r.mime_type.clone().unwrap_or_default(),
                first_line(r.description.as_deref()),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["URI", "NAME", "MIME", "DESCRIPTION"], &rows)
    );
    if !templates.is_empty() {
        let rows: Vec<Vec<String>> = templates
            .iter()
            .map(|t| {
                vec![
                    t.uri_template.clone(),
                    t.name.clone(),
                    first_line(t.description.as_deref()),
                ]
            })
            .collect();
        println!();
        print!(
            "{}",
            table::render(&["URI TEMPLATE", "NAME", "DESCRIPTION"], &rows)
        );
    }
    Ok(exit::OK)
}

pub async fn read(
    global: &GlobalArgs,
    service: &str,
    uri: &str,
    task: Option<&str>,
    json: bool,
    output: Output,
) -> Result<u8, CliError> {
    let what = Browse::Read {
        uri: uri.to_string(),
    };
    let Browsed::Contents(result) = browse(global, service, task, what, json).await? else {
        return Err(CliError::new(exit::CONNECTION, "unexpected answer"));
    };
    if let Some(file) = &output.file {
        let bytes = match output.format {
            OutputFormat::Json => {
                serde_json::to_vec_pretty(&result).expect("MCP results serialise")
            }
            OutputFormat::Raw => raw_bytes(&result.contents)?,
        };
        std::fs::write(file, &bytes)
            .map_err(|e| CliError::new(exit::USAGE, format!("--output {}: {e}", file.display())))?;
        eprintln!(
            "mcpfleet: wrote {} bytes to {}",
            bytes.len(),
            file.display()
        );
        return Ok(exit::OK);
    }
    print_contents(&result, json);
    Ok(exit::OK)
}

/// A resource's contents: text inert, a blob as a line saying what it is; with `json` the
/// whole result.
pub(super) fn print_contents(result: &rmcp::model::ReadResourceResult, json: bool) {
    if json {
        print_json(result);
        return;
    }
    for contents in &result.contents {
        match contents {
            ResourceContents::TextResourceContents { text, .. } => {
                print!("{}", inert(text));
                if !text.ends_with('\n') {
                    println!();
                }
            }
            ResourceContents::BlobResourceContents {
                blob, mime_type, ..
            } => println!(
                "[blob, {} base64 characters, {}] (--output FILE --output-format raw writes it)",
                blob.len(),
                mime_type.as_deref().unwrap_or("no MIME type")
            ),
            _ => println!("[contents of a kind unknown here]"),
        }
    }
}

/// The single item's decoded bytes: a blob's, or a text's.
fn raw_bytes(contents: &[ResourceContents]) -> Result<Vec<u8>, CliError> {
    use base64::Engine;
    match contents {
        [ResourceContents::BlobResourceContents { blob, .. }] => {
            base64::engine::general_purpose::STANDARD
                .decode(blob)
                .map_err(|e| {
                    CliError::new(exit::CONNECTION, format!("the blob is not base64: {e}"))
                })
        }
        [ResourceContents::TextResourceContents { text, .. }] => Ok(text.clone().into_bytes()),
        _ => Err(CliError::new(
            exit::USAGE,
            format!(
                "--output-format raw needs exactly one item; this resource has {}",
                contents.len()
            ),
        )),
    }
}

pub async fn prompts(
    global: &GlobalArgs,
    service: &str,
    task: Option<&str>,
    json: bool,
) -> Result<u8, CliError> {
    let Browsed::Prompts { prompts } = browse(global, service, task, Browse::Prompts, json).await?
    else {
        return Err(CliError::new(exit::CONNECTION, "unexpected answer"));
    };
    if json {
        print_json(&prompts);
        return Ok(exit::OK);
    }
    let rows: Vec<Vec<String>> = prompts
        .iter()
        .map(|p| {
            let arguments: Vec<String> = p
                .arguments
                .iter()
                .flatten()
                .map(|a| {
                    let required = if a.required == Some(true) { "*" } else { "" };
                    format!("{}{required}", a.name)
                })
                .collect();
            vec![
                p.name.clone(),
                arguments.join(" "),
                first_line(p.description.as_deref()),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["PROMPT", "ARGUMENTS", "DESCRIPTION"], &rows)
    );
    Ok(exit::OK)
}

pub async fn prompt(
    global: &GlobalArgs,
    service: &str,
    name: &str,
    pairs: &[String],
    task: Option<&str>,
    json: bool,
) -> Result<u8, CliError> {
    // Prompt arguments are strings (the spec's PromptArgument has no type).
    let mut arguments = Map::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(CliError::new(
                exit::USAGE,
                format!("`{pair}` is not KEY=VALUE"),
            ));
        };
        arguments.insert(key.to_string(), Value::String(value.to_string()));
    }
    let what = Browse::Prompt {
        name: name.to_string(),
        arguments,
    };
    let Browsed::Prompt(result) = browse(global, service, task, what, json).await? else {
        return Err(CliError::new(exit::CONNECTION, "unexpected answer"));
    };
    if json {
        print_json(&result);
        return Ok(exit::OK);
    }
    if let Some(description) = &result.description {
        println!("{}\n", inert(description));
    }
    for message in &result.messages {
        let role = serde_json::to_value(&message.role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let text = match message.content.as_text() {
            Some(text) => inert(&text.text).into_owned(),
            None => {
                let kind = serde_json::to_value(&message.content).ok();
                let kind = kind
                    .as_ref()
                    .and_then(|v| v["type"].as_str())
                    .unwrap_or("content");
                format!("[{kind} block]")
            }
        };
        println!("{role}: {text}");
    }
    Ok(exit::OK)
}

/// What `complete` asks, beside the words.
pub struct Completion {
    pub reference: Completing,
    /// KEY=VALUE pairs: the other arguments' values.
    pub context: Vec<String>,
    pub json: bool,
}

/// `complete [SERVICE] ARG [VALUE]`: the values the server offers, one per line.
pub async fn complete(
    global: &GlobalArgs,
    words: &[String],
    task: Option<&str>,
    asked: Completion,
) -> Result<u8, CliError> {
    let (service, argument, value) = match (words, &global.url) {
        ([argument], Some(_)) => ("", argument, ""),
        ([argument, value], Some(_)) => ("", argument, value.as_str()),
        ([service, argument], None) => (service.as_str(), argument, ""),
        ([service, argument, value], None) => (service.as_str(), argument, value.as_str()),
        _ => {
            return Err(CliError::new(
                exit::USAGE,
                "complete needs SERVICE ARG [VALUE] (or --url URL and ARG [VALUE])",
            ));
        }
    };
    let mut context = BTreeMap::new();
    for pair in &asked.context {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(CliError::new(
                exit::USAGE,
                format!("--context `{pair}` is not KEY=VALUE"),
            ));
        };
        context.insert(key.to_string(), value.to_string());
    }
    let what = Browse::Complete {
        reference: asked.reference,
        argument: argument.clone(),
        value: value.to_string(),
        context,
    };
    let Browsed::Completion(completion) = browse(global, service, task, what, asked.json).await?
    else {
        return Err(CliError::new(exit::CONNECTION, "unexpected answer"));
    };
    if asked.json {
        print_json(&completion);
        return Ok(exit::OK);
    }
    for value in &completion.values {
        println!("{}", inert(value));
    }
    if completion.has_more == Some(true)
        || completion
            .total
            .is_some_and(|t| t as usize > completion.values.len())
    {
        let total = completion.total.map_or("more".into(), |t| t.to_string());
        eprintln!(
            "mcpfleet: {} of {total} values; type more of the value to narrow them",
            completion.values.len()
        );
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_control_characters_are_shown_inert() {
        assert_eq!(
            inert("ok\n\x1b]0;pwned\x07tab\there"),
            "ok\n\\u{1b}]0;pwned\\u{7}tab\there"
        );
    }
}
