//! `mcpfleet history`: the calls kept in the history file — the console's and every `call`
//! command's — newest first, searched by a regular expression, as a table or as JSON with
//! each call's wire record. Reads the file only: no fleet is opened.

use std::path::PathBuf;

use regex::Regex;

use crate::{
    inert::inert_line,
    mcp::{
        HistoryEntry, OutcomeKind,
        history::store::{HistoryFile, MAX_CALLS},
    },
};

use super::{CliError, exit, table};

/// `~/.local/state/mcpfleet/history.jsonl` (`$XDG_STATE_HOME`; the local data directory where
/// the platform has no state directory).
pub fn file_path() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "mcpfleet")?;
    let dir = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Some(dir.join("history.jsonl"))
}

pub struct HistoryArgs {
    /// Over service, tool, the arguments' JSON, the summary and the serving task's id.
    pub grep: Option<Regex>,
    pub service: Option<String>,
    pub limit: Option<usize>,
    pub json: bool,
}

/// Arguments shown in a table cell at most, in characters; `--json` has them whole.
const ARGUMENTS_SHOWN: usize = 48;

fn matches(entry: &HistoryEntry, args: &HistoryArgs) -> bool {
    if args.service.as_ref().is_some_and(|s| *s != entry.service) {
        return false;
    }
    let Some(grep) = &args.grep else {
        return true;
    };
    let task = entry.served_by.as_ref().and_then(|s| s.task_id.as_deref());
    let arguments = entry.arguments.to_string();
    [&entry.service, &entry.tool, &arguments, &entry.summary]
        .into_iter()
        .map(String::as_str)
        .chain(task)
        .chain(entry.exchange.trace_id.as_deref())
        .any(|text| grep.is_match(text))
}

fn outcome_word(kind: OutcomeKind) -> &'static str {
    match kind {
        OutcomeKind::Ok => "ok",
        OutcomeKind::ToolError => "tool error",
        OutcomeKind::Failed => "failed",
        OutcomeKind::TimedOut => "timed out",
        OutcomeKind::Cancelled => "cancelled",
    }
}

fn row(entry: &HistoryEntry) -> Vec<String> {
    let arguments = match &entry.arguments {
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let arguments = if arguments.chars().count() > ARGUMENTS_SHOWN {
        let cut: String = arguments.chars().take(ARGUMENTS_SHOWN - 1).collect();
        format!("{cut}…")
    } else {
        arguments
    };
    vec![
        humantime::format_rfc3339_seconds(entry.at).to_string(),
        inert_line(&entry.service).into_owned(),
        inert_line(&entry.tool).into_owned(),
        outcome_word(entry.kind).to_string(),
        format!("{:.1} ms", entry.duration.as_secs_f64() * 1000.0),
        entry
            .served_by
            .as_ref()
            .map_or("-".into(), |s| s.short_task().to_string()),
        inert_line(&arguments).into_owned(),
        inert_line(&entry.summary).into_owned(),
    ]
}

pub fn run(args: &HistoryArgs) -> Result<u8, CliError> {
    let path = file_path()
        .ok_or_else(|| CliError::new(exit::CONFIG, "no home directory to keep the history in"))?;
    let loaded = HistoryFile::at(&path)
        .load(MAX_CALLS)
        .map_err(|error| CliError::new(exit::CONFIG, error.to_string()))?;
    for skipped in &loaded.skipped {
        eprintln!(
            "mcpfleet: {} line {} skipped: {}",
            path.display(),
            skipped.line,
            skipped.reason
        );
    }
    let found: Vec<&HistoryEntry> = loaded
        .entries
        .iter()
        .rev()
        .filter(|entry| matches(entry, args))
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    if args.json {
        let out = serde_json::to_string_pretty(&found).expect("history entries serialise");
        println!("{out}");
    } else if found.is_empty() {
        eprintln!("mcpfleet: no calls match in {}", path.display());
    } else {
        let header = [
            "TIME",
            "SERVICE",
            "TOOL",
            "OUTCOME",
            "DURATION",
            "TASK",
            "ARGUMENTS",
            "SUMMARY",
        ];
        let rows: Vec<Vec<String>> = found.iter().map(|entry| row(entry)).collect();
        print!("{}", table::render(&header, &rows));
    }
    Ok(exit::OK)
}
