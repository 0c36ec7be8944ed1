//! `mcpfleet logs [SERVICE]`: log lines of the fleet's tasks, optionally one task, filtered by
//! a regular expression; `--follow` streams until interrupted.

use std::time::Duration;

use regex::Regex;

use crate::fleet::LogLine;

use super::{CliError, GlobalArgs, exit, source};

/// Fields already shown elsewhere on the line.
const SHOWN: &[&str] = &["timestamp", "level", "message", "msg", "target"];

pub fn format_line(line: &LogLine) -> String {
    let time = humantime::format_rfc3339_millis(line.at);
    let level = line
        .level
        .map(|l| format!("{l:?}").to_uppercase())
        .unwrap_or_else(|| "-".into());
    let task = &line.task_id[..line.task_id.len().min(8)];
    let mut text = format!("{time} {}/{task} {level:<5} {}", line.service, line.message);
    if let Some(fields) = &line.fields() {
        for (key, value) in fields.iter().filter(|(k, _)| !SHOWN.contains(&k.as_str())) {
            match value {
                serde_json::Value::String(s) => text.push_str(&format!(" {key}={s}")),
                other => text.push_str(&format!(" {key}={other}")),
            }
        }
    }
    text
}

pub struct LogFilter {
    pub service: Option<String>,
    pub task: Option<String>,
    pub grep: Option<Regex>,
}

impl LogFilter {
    pub fn matches(&self, line: &LogLine) -> bool {
        self.service.as_ref().is_none_or(|s| &line.service == s)
            && self
                .task
                .as_ref()
                .is_none_or(|t| line.task_id.starts_with(t.as_str()))
            && self
                .grep
                .as_ref()
                .is_none_or(|re| re.is_match(&format_line(line)))
    }
}

pub async fn run(global: &GlobalArgs, filter: LogFilter, follow: bool) -> Result<(), CliError> {
    let mut opened = source::open_for_command(global).await?;
    if !follow {
        // Collect what the tasks print while the fleet starts, then print the matches.
        let mut rx = std::mem::replace(&mut opened.handle.logs.rx, tokio::sync::mpsc::channel(1).1);
        let settle = async {
            let settled = source::settle(&mut opened.handle).await;
            // Lines written just as the fleet became ready still need to arrive.
            tokio::time::sleep(Duration::from_millis(500)).await;
            settled
        };
        tokio::pin!(settle);
        let mut lines = Vec::new();
        loop {
            tokio::select! {
                settled = &mut settle => {
                    settled?;
                    break;
                }
                Some(line) = rx.recv() => lines.push(line),
            }
        }
        while let Ok(line) = rx.try_recv() {
            lines.push(line);
        }
        for line in lines.iter().filter(|l| filter.matches(l)) {
            println!("{}", format_line(line));
        }
        return Ok(());
    }
    let interrupted = crate::signals::interrupted();
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            _ = &mut interrupted => break,
            line = opened.handle.logs.rx.recv() => match line {
                Some(line) if filter.matches(&line) => println!("{}", format_line(&line)),
                Some(_) => {}
                None => return Err(CliError::new(exit::CONNECTION, "the log stream ended")),
            },
        }
    }
    let dropped = opened.handle.logs.dropped();
    if dropped > 0 {
        eprintln!("{dropped} log lines were dropped because output fell behind");
    }
    Ok(())
}
