//! `mcpfleet call SERVICE TOOL`: one call (or one per task with `--all-tasks`), arguments from
//! `--args JSON` or `key=value` pairs, with the exit code telling how it ended.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::{
    inert::inert_line,
    mcp::{
        self, CallOutcome, CallRequest, Clearance, ContentBlock, McpError, OutcomeKind, ToolInfo,
        schema,
    },
};

use super::{
    CliError, GlobalArgs, exit,
    login::{self, Attempt},
    outcome::{outcome_json, render},
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

/// One call's outcome, or one per replica.
enum Called {
    One(Box<CallOutcome>),
    All(Vec<mcp::TaskOutcome>),
}

pub(super) fn exit_code(outcome: &CallOutcome) -> u8 {
    match (&outcome.result, outcome.kind()) {
        (_, OutcomeKind::Ok) => exit::OK,
        (_, OutcomeKind::ToolError) => exit::TOOL_ERROR,
        (_, OutcomeKind::TimedOut | OutcomeKind::Cancelled) => exit::TIMEOUT,
        (Err(McpError::InvalidArguments(_) | McpError::SharedUrl { .. }), _) => exit::USAGE,
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

pub async fn run(global: &GlobalArgs, args: CallArgs) -> Result<u8, CliError> {
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let label = if global.url.is_some() {
        ""
    } else {
        args.service.as_str()
    };
    let answerer = super::elicit::answer(args.elicit.clone());
    let called = login::with_sign_ins(
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
    let outcomes: Vec<&CallOutcome> = match &called {
        Called::One(outcome) => vec![outcome],
        Called::All(tasks) => tasks.iter().map(|t| &t.outcome).collect(),
    };
    if args.json {
        let out = match &called {
            Called::One(outcome) => outcome_json(outcome),
            Called::All(tasks) => super::fan_out::json(tasks),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON values serialise")
        );
    } else if let (Some(file), Called::One(outcome)) = (&args.output.file, &called) {
        write_output(file, args.output.format, outcome)?;
    } else {
        match &called {
            Called::One(outcome) => print!("{}", render(outcome)),
            Called::All(tasks) => print!("{}", super::fan_out::render(tasks)),
        }
        for outcome in &outcomes {
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
        .map(|outcome| exit_code(outcome))
        .max_by_key(|code| match *code {
            exit::OK => 0,
            exit::TOOL_ERROR => 1,
            other => other,
        })
        .unwrap_or(exit::OK))
}

/// The arguments from `--args JSON` and `key=value` pairs (merged over it), the pairs read by
/// the tool's schema when it is known.
pub(super) fn arguments(
    args_json: Option<&str>,
    pairs: &[String],
    tool: Option<&ToolInfo>,
) -> Result<Value, CliError> {
    let mut arguments = match args_json {
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
    let pairs = schema::parse_pairs(pairs, tool.map(|t| &t.input_schema))
        .map_err(|message| CliError::new(exit::USAGE, message))?;
    arguments.extend(pairs);
    Ok(Value::Object(arguments))
}

/// One try: probe the target for the tool's schema, check the arguments, call.
async fn attempt(
    global: &GlobalArgs,
    args: &CallArgs,
    config: mcp::WorkerConfig,
    snapshots: &tokio::sync::watch::Receiver<std::sync::Arc<crate::fleet::FleetSnapshot>>,
    snapshot: &crate::fleet::FleetSnapshot,
) -> Result<Attempt<Called>, CliError> {
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
    let arguments = arguments(args.args_json.as_deref(), &args.pairs, tool)?;
    let mut request = CallRequest::new(service, args.tool.clone(), arguments).with_timeout(
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
    let called = if args.all_tasks {
        let tasks = worker.fan_out_all(request).await.map_err(|error| {
            let code = match error {
                McpError::SharedUrl { .. } => exit::USAGE,
                _ => exit::NOT_FOUND,
            };
            CliError::new(code, error.to_string())
        })?;
        Called::All(tasks)
    } else {
        Called::One(Box::new(worker.call(request).await))
    };
    let outcomes: Vec<&CallOutcome> = match &called {
        Called::One(outcome) => vec![outcome],
        Called::All(tasks) => tasks.iter().map(|t| &t.outcome).collect(),
    };
    let refused = outcomes.iter().find_map(|outcome| match &outcome.result {
        Err(error @ McpError::AuthRequired { .. }) => Some(error.clone()),
        _ => None,
    });
    Ok(match refused {
        Some(error) => Attempt::NeedsSignIn(error),
        None => Attempt::Done(called),
    })
}
