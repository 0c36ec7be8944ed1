//! How a command answers a server's questions (elicitation) during `call`: ask the person at
//! the terminal field by field, accept with the schema's defaults, answer from a JSON file, or
//! decline. Without a terminal, or with `--json`, the default is to decline.

use std::io::{BufRead, IsTerminal, Write};

use rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::mcp::{
    Ask, AskSender,
    ask::{defaults, message_of, schema_of},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnElicit {
    /// Ask at the terminal, field by field (the default on a terminal without --json).
    Ask,
    /// Accept with the defaults the server's schema gives.
    AcceptDefaults,
    /// Decline every question (the default without a terminal or with --json).
    Decline,
}

/// What to answer with.
#[derive(Debug, Clone)]
pub enum Policy {
    Choose(OnElicit),
    /// Accept with this object (`--elicit-json FILE`).
    Answer(Map<String, Value>),
}

impl Policy {
    /// The command line's choice, or the default for how the command runs.
    pub fn from_flags(
        on_elicit: Option<OnElicit>,
        answer: Option<Map<String, Value>>,
        json: bool,
    ) -> Self {
        if let Some(answer) = answer {
            return Self::Answer(answer);
        }
        let person = !json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        Self::Choose(on_elicit.unwrap_or(if person {
            OnElicit::Ask
        } else {
            OnElicit::Decline
        }))
    }
}

/// Starts answering questions by `policy`; the sender goes to the MCP worker.
pub fn answer(policy: Policy) -> AskSender {
    let (sender, mut asks) = mpsc::unbounded_channel::<Ask>();
    tokio::spawn(async move {
        while let Some(ask) = asks.recv().await {
            let policy = policy.clone();
            // Questions at the terminal read stdin: off the runtime's threads.
            let result =
                tokio::task::spawn_blocking(move || respond(&policy, &ask.url, &ask.request))
                    .await
                    .unwrap_or_else(|_| ElicitResult::new(ElicitationAction::Cancel));
            let _ = ask.reply.send(result);
        }
    });
    sender
}

fn respond(policy: &Policy, url: &str, request: &ElicitRequestParams) -> ElicitResult {
    let accept = |content: Map<String, Value>| {
        ElicitResult::new(ElicitationAction::Accept).with_content(Value::Object(content))
    };
    match (policy, schema_of(request)) {
        (Policy::Answer(answer), _) => accept(answer.clone()),
        (Policy::Choose(OnElicit::Decline), _) => {
            eprintln!(
                "mcpfleet: {url} asked \"{}\"; declined (--on-elicit)",
                message_of(request)
            );
            ElicitResult::new(ElicitationAction::Decline)
        }
        (Policy::Choose(OnElicit::AcceptDefaults), Some(schema)) => accept(defaults(&schema)),
        (Policy::Choose(OnElicit::AcceptDefaults), None) => {
            ElicitResult::new(ElicitationAction::Decline)
        }
        (Policy::Choose(OnElicit::Ask), schema) => ask_at_terminal(url, request, schema),
    }
}

/// Field by field on stderr, answers from stdin; an empty answer keeps the default.
fn ask_at_terminal(
    url: &str,
    request: &ElicitRequestParams,
    schema: Option<Value>,
) -> ElicitResult {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut read = |prompt: &str| -> Option<String> {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        lines.next()?.ok()
    };
    eprintln!("mcpfleet: {url} asks: {}", message_of(request));
    let Some(schema) = schema else {
        // URL mode: the person goes to the page; accepting says they will.
        if let ElicitRequestParams::UrlElicitationParams { url: page, .. } = request {
            eprintln!("  open: {page}");
        }
        return match read("  continue? [y]es / [n]o / [c]ancel: ")
            .as_deref()
            .map(str::trim)
        {
            Some("y" | "yes" | "") => ElicitResult::new(ElicitationAction::Accept),
            Some("n" | "no") => ElicitResult::new(ElicitationAction::Decline),
            _ => ElicitResult::new(ElicitationAction::Cancel),
        };
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut content = Map::new();
    let properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (name, property) in &properties {
        let kind = property["type"].as_str().unwrap_or("string");
        let choices = property["enum"]
            .as_array()
            .map(|values| {
                let names: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                format!(" one of {}", names.join(", "))
            })
            .unwrap_or_default();
        let default = property
            .get("default")
            .map(|d| format!(" [{d}]"))
            .unwrap_or_default();
        let mark = if required.contains(&name.as_str()) {
            "*"
        } else {
            ""
        };
        loop {
            let Some(answer) = read(&format!("  {name}{mark} ({kind}{choices}){default}: ")) else {
                return ElicitResult::new(ElicitationAction::Cancel);
            };
            let answer = answer.trim();
            if answer.is_empty() {
                if let Some(default) = property.get("default") {
                    content.insert(name.clone(), default.clone());
                } else if mark == "*" {
                    eprintln!("  {name} is required");
                    continue;
                }
                break;
            }
            match typed(kind, answer) {
                Some(value) => {
                    content.insert(name.clone(), value);
                    break;
                }
                None => eprintln!("  not a {kind}: {answer}"),
            }
        }
    }
    match read("  send? [y]es / [n]o (decline) / [c]ancel: ")
        .as_deref()
        .map(str::trim)
    {
        Some("y" | "yes" | "") => {
            ElicitResult::new(ElicitationAction::Accept).with_content(Value::Object(content))
        }
        Some("n" | "no") => ElicitResult::new(ElicitationAction::Decline),
        _ => ElicitResult::new(ElicitationAction::Cancel),
    }
}

/// A typed answer: numbers, integers and booleans parsed, strings as they are.
fn typed(kind: &str, answer: &str) -> Option<Value> {
    match kind {
        "integer" => answer.parse::<i64>().ok().map(Value::from),
        "number" => answer.parse::<f64>().ok().map(Value::from),
        "boolean" => match answer {
            "true" | "yes" | "y" => Some(Value::Bool(true)),
            "false" | "no" | "n" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => Some(Value::String(answer.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_typed_by_the_schema() {
        assert_eq!(typed("integer", "30"), Some(Value::from(30)));
        assert_eq!(typed("integer", "3.5"), None);
        assert_eq!(typed("number", "95.5"), Some(Value::from(95.5)));
        assert_eq!(typed("boolean", "yes"), Some(Value::Bool(true)));
        assert_eq!(typed("string", "John"), Some(Value::from("John")));
    }
}
