//! `mcpfleet call SERVICE TOOL`: one call (or one per task with `--all-tasks`), arguments from
//! `--args JSON` or `key=value` pairs, with the exit code telling how it ended.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::{
    inert::{inert, inert_line},
    mcp::{
        self, CallOutcome, CallRequest, Clearance, ContentBlock, McpError, OutcomeKind, ToolInfo,
        schema,
    },
};

use super::{
    CliError, GlobalArgs, exit,
    login::{self, Attempt},
    source,
};

pub struct CallArgs {
    /// Skip the pre-send schema check.
    pub no_check: bool,
    /// The server's log lines wanted with the call, from this level up.
    pub log_level: Option<String>,
    /// Where the result goes instead of stdout, and in which form.
    pub output: super::browse::Output,
    /// How to answer a server's questions mid-call.
    pub elicit: super::elicit::Policy,
    pub service: String,
    pub tool: String,
    pub args_json: Option<String>,
    pub pairs: Vec<String>,
    pub task: Option<String>,
    pub all_tasks: bool,
    pub timeout: Option<f64>,
    pub json: bool,
}

fn exit_code(outcome: &CallOutcome) -> u8 {
    match (&outcome.result, outcome.kind()) {
        (_, OutcomeKind::Ok) => exit::OK,
        (_, OutcomeKind::ToolError) => exit::TOOL_ERROR,
        (_, OutcomeKind::TimedOut | OutcomeKind::Cancelled) => exit::TIMEOUT,
        (Err(McpError::InvalidArguments(_)), _) => exit::USAGE,
        (
            Err(
                McpError::UnknownTool { .. }
                | McpError::UnknownService(_)
                | McpError::UnknownTask { .. }
                | McpError::NoReadyTask { .. },
            ),
            _,
        ) => exit::NOT_FOUND,
        _ => exit::CONNECTION,
    }
}

pub fn outcome_json(outcome: &CallOutcome) -> Value {
    let (result, error) = match &outcome.result {
        Ok(result) => (
            json!({
                "content": result.content,
                "structuredContent": result.structured_content,
                "isError": result.is_error,
            }),
            Value::Null,
        ),
        Err(error) => (Value::Null, Value::String(error.to_string())),
    };
    json!({
        "outcome": outcome.kind(),
        "result": result,
        "error": error,
        "served_by": outcome.served_by,
        "duration_ms": (outcome.duration.as_secs_f64() * 1_000_000.0).round() / 1000.0,
        "retries": outcome.retries,
        "logs": &outcome.exchange.logs,
        "task": &outcome.exchange.task,
        "refused": &outcome.exchange.refused,
        // What crossed the wire, per request of the call: the same record the console's
        // protocol pane shows.
        "wire": outcome.exchange.rounds,
    })
}

/// The outcome into `file`: as `--json` prints it, or the decoded bytes of the result's one
/// image, audio or blob block.
fn write_output(
    file: &std::path::Path,
    format: super::browse::OutputFormat,
    outcome: &CallOutcome,
) -> Result<(), CliError> {
    use base64::Engine;
    let bytes = match format {
        super::browse::OutputFormat::Json => {
            serde_json::to_vec_pretty(&outcome_json(outcome)).expect("JSON values serialise")
        }
        super::browse::OutputFormat::Raw => {
            let blocks: Vec<&str> = match &outcome.result {
                Ok(result) => result
                    .content
                    .iter()
                    .filter_map(|block| match block {
                        ContentBlock::Image(image) => Some(image.data.as_str()),
                        ContentBlock::Audio(audio) => Some(audio.data.as_str()),
                        ContentBlock::Resource(embedded) => match &embedded.resource {
                            rmcp::model::ResourceContents::BlobResourceContents {
                                blob, ..
                            } => Some(blob.as_str()),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect(),
                Err(error) => {
                    return Err(CliError::new(exit_code(outcome), error.to_string()));
                }
            };
            let [data] = blocks.as_slice() else {
                return Err(CliError::new(
                    exit::USAGE,
                    format!(
                        "--output-format raw needs exactly one image, audio or blob block; \
                         this result has {}",
                        blocks.len()
                    ),
                ));
            };
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| {
                    CliError::new(exit::CONNECTION, format!("the block is not base64: {e}"))
                })?
        }
    };
    std::fs::write(file, &bytes)
        .map_err(|e| CliError::new(exit::USAGE, format!("--output {}: {e}", file.display())))?;
    eprintln!(
        "mcpfleet: wrote {} bytes to {}",
        bytes.len(),
        file.display()
    );
    Ok(())
}

/// A content block as a line of text: the text itself, or what the block holds.
fn block_text(block: &ContentBlock) -> String {
    let size = |base64: &str| format!("{} bytes", base64.len() / 4 * 3);
    match block {
        ContentBlock::Text(text) => text.text.clone(),
        ContentBlock::Image(image) => format!("[image {}, {}]", image.mime_type, size(&image.data)),
        ContentBlock::Audio(audio) => format!("[audio {}, {}]", audio.mime_type, size(&audio.data)),
        ContentBlock::ResourceLink(link) => {
            let mime = link.mime_type.as_deref().unwrap_or("no mime type");
            inert_line(&format!(
                "[resource link {} · {} · {mime}]",
                link.uri, link.name
            ))
            .into_owned()
        }
        ContentBlock::Resource(embedded) => {
            let value = serde_json::to_value(&embedded.resource).unwrap_or_default();
            let uri = value["uri"].as_str().unwrap_or("");
            let mut line = inert_line(&format!("[resource {uri}]")).into_owned();
            if let Some(text) = value["text"].as_str() {
                line.push('\n');
                line.push_str(text);
            }
            line
        }
        other => {
            let kind = serde_json::to_value(other).unwrap_or_default();
            format!("[{} block]", kind["type"].as_str().unwrap_or("content"))
        }
    }
}

pub fn render(outcome: &CallOutcome) -> String {
    let mut out = String::new();
    match &outcome.result {
        Ok(result) => {
            // Blocks in the order the server sent them; a server's text is shown inert.
            for block in &result.content {
                out.push_str(&inert(&block_text(block)));
                out.push('\n');
            }
            // structuredContent repeats the text when a tool serialises it there too (the
            // spec asks servers to); it is shown only when it says something else.
            let text = result.text();
            let repeated = |structured: &Value| {
                serde_json::from_str::<Value>(text.trim()).is_ok_and(|parsed| parsed == *structured)
            };
            if let Some(structured) = &result.structured_content
                && !repeated(structured)
            {
                out.push_str(&serde_json::to_string_pretty(structured).unwrap_or_default());
                out.push('\n');
            }
        }
        Err(error) => out.push_str(&format!("error: {}\n", inert(&error.to_string()))),
    }
    let status = match outcome.kind() {
        OutcomeKind::Ok => "ok",
        OutcomeKind::ToolError => "tool error",
        OutcomeKind::Failed => "failed",
        OutcomeKind::TimedOut => "timed out",
        OutcomeKind::Cancelled => "cancelled",
    };
    let served = match &outcome.served_by {
        Some(by) => format!(
            " · task {} (rev {}, {})",
            &by.task_id[..by.task_id.len().min(8)],
            by.revision,
            by.address
        ),
        None => String::new(),
    };
    if let Some(task) = &outcome.exchange.task {
        out.push_str(&format!("── {}\n", inert_line(&task.to_string())));
    }
    // A call refused before it was sent has no timing worth showing.
    if outcome.served_by.is_some() || outcome.kind() != OutcomeKind::Failed {
        out.push_str(&format!(
            "── {status} in {:.1} ms{served}\n",
            outcome.duration.as_secs_f64() * 1000.0
        ));
    }
    out
}

pub async fn run(global: &GlobalArgs, args: CallArgs) -> Result<u8, CliError> {
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let label = if global.url.is_some() {
        ""
    } else {
        args.service.as_str()
    };
    let answerer = super::elicit::answer(args.elicit.clone());
    let outcomes = login::with_sign_ins(
        global,
        args.json,
        label,
        login::configured(
            &snapshot,
            if global.url.is_some() {
                "url"
            } else {
                args.service.as_str()
            },
        ),
        || {
            let mut config = global.worker_config(&opened.config, answerer.asks.clone());
            // A call made from a script shows up later in the console's history and in
            // `mcpfleet history`.
            config.history_file = super::history::file_path();
            attempt(global, &args, config, &opened.handle.snapshots, &snapshot)
        },
    )
    .await
    .inspect_err(|error| {
        if args.json && error.code == exit::READ_ONLY {
            println!("{}", json!({"outcome": "refused", "error": error.message}));
        }
    })?;
    // An answer from --elicit-json that did not fit the form was not sent: bad usage.
    let refusals = answerer.refusals();
    if !refusals.is_empty() {
        return Err(CliError::new(exit::USAGE, refusals.join("\n")));
    }
    if args.json {
        let values: Vec<Value> = outcomes.iter().map(outcome_json).collect();
        let out = if args.all_tasks {
            Value::Array(values)
        } else {
            values.into_iter().next().unwrap_or_default()
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON values serialise")
        );
    } else if let (Some(file), [outcome]) = (&args.output.file, outcomes.as_slice()) {
        write_output(file, args.output.format, outcome)?;
    } else {
        for outcome in &outcomes {
            print!("{}", render(outcome));
            for note in &outcome.exchange.refused {
                eprintln!("mcpfleet: {}", inert_line(note));
            }
            // The server's log lines go beside the result, not into it.
            for log in &outcome.exchange.logs {
                eprintln!("server log {}", inert_line(&log.to_string()));
            }
        }
    }
    // The worst outcome decides: a connection failure outranks a tool error.
    Ok(outcomes
        .iter()
        .map(exit_code)
        .max_by_key(|code| match *code {
            exit::OK => 0,
            exit::TOOL_ERROR => 1,
            other => other,
        })
        .unwrap_or(exit::OK))
}

/// One try: probe the target for the tool's schema, check the arguments, call.
async fn attempt(
    global: &GlobalArgs,
    args: &CallArgs,
    config: mcp::WorkerConfig,
    snapshots: &tokio::sync::watch::Receiver<std::sync::Arc<crate::fleet::FleetSnapshot>>,
    snapshot: &crate::fleet::FleetSnapshot,
) -> Result<Attempt<Vec<CallOutcome>>, CliError> {
    let service = if global.url.is_some() {
        "url".to_string()
    } else {
        args.service.clone()
    };
    let worker = mcp::worker::spawn(snapshots.clone(), config);
    let probe = match worker.probe(&service, args.task.as_deref()).await {
        Ok(probe) => probe,
        Err(error @ McpError::AuthRequired { .. }) => return Ok(Attempt::NeedsSignIn(error)),
        Err(error) => return Err(source::mcp_error(snapshot, error)),
    };
    let tool: Option<&ToolInfo> = probe.tools.iter().find(|t| t.name == args.tool);
    // The person typed the command out, so a destructive tool is not asked about again; only
    // --read-only holds it back, before anything is sent.
    if let Some(Clearance::Refused(why)) = tool.map(|t| t.clearance(global.read_only)) {
        return Err(CliError::new(exit::READ_ONLY, why));
    }
    let mut arguments = match &args.args_json {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(CliError::new(exit::USAGE, "--args must be a JSON object")),
            Err(error) => {
                return Err(CliError::new(
                    exit::USAGE,
                    format!("--args is not valid JSON: {error}"),
                ));
            }
        },
        None => Map::new(),
    };
    let pairs = schema::parse_pairs(&args.pairs, tool.map(|t| &t.input_schema))
        .map_err(|message| CliError::new(exit::USAGE, message))?;
    arguments.extend(pairs);

    let mut request = CallRequest::new(service, args.tool.clone(), Value::Object(arguments))
        .with_timeout(
            args.timeout
                .map(Duration::from_secs_f64)
                .or(Some(crate::mcp::DEFAULT_TIMEOUT)),
        );
    if let Some(task) = &args.task {
        request = request.on_task(task.clone());
    }
    if args.no_check {
        request = request.unchecked();
    }
    request.log_level = args.log_level.clone();
    let outcomes: Vec<CallOutcome> = if args.all_tasks {
        worker
            .fan_out_all(request)
            .await
            .map_err(|error| CliError::new(exit::NOT_FOUND, error.to_string()))?
            .into_iter()
            .map(|task| task.outcome)
            .collect()
    } else {
        vec![worker.call(request).await]
    };
    let refused = outcomes.iter().find_map(|outcome| match &outcome.result {
        Err(error @ McpError::AuthRequired { .. }) => Some(error.clone()),
        _ => None,
    });
    Ok(match refused {
        Some(error) => Attempt::NeedsSignIn(error),
        None => Attempt::Done(outcomes),
    })
}
