//! How a command answers a server's questions: a form or a page to open (elicitation), a
//! model's reply (sampling). `call` asks the person at the terminal, accepts the form's
//! defaults, answers from a JSON file, or declines, as `--on-elicit` and `--elicit-json` say;
//! without a terminal, or with `--json`, it declines. The other commands decline every
//! question: they declare the same capabilities (they are the client's, not the command's)
//! but have nobody to ask. Nothing here calls a model: a sampling reply is typed by a person
//! or read from the file, and sent as the operator's.

use std::{
    io::{BufRead, IsTerminal, Write},
    path::Path,
    sync::{Arc, Mutex, PoisonError},
};

use rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::inert::inert;
use crate::mcp::{
    Ask, AskSender,
    ask::{
        Question, Sampled, SamplingRequest, defaults, describe_sampling, message_of,
        missing_required, schema_of,
    },
    schema,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnElicit {
    /// Ask at the terminal: a form field by field, a sampling reply typed in (the default on
    /// a terminal without --json).
    Ask,
    /// Accept a form with the defaults the server's schema gives; decline when a required
    /// field has none, a page to open, and a sampling request (there is no default reply).
    AcceptDefaults,
    /// Decline every question (the default without a terminal or with --json).
    Decline,
}

/// What `--elicit-json FILE` holds: the answer to a form, a sampling reply, or both.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    pub form: Option<Map<String, Value>>,
    pub sampling: Option<String>,
}

impl Answers {
    /// A plain object is a form's answer (a form's fields are never objects); an object with
    /// only `form` (an object) and `sampling` (`{"reply": TEXT}`) holds either or both.
    pub fn parse(value: Value) -> Result<Self, String> {
        let Value::Object(object) = value else {
            return Err("--elicit-json must hold a JSON object".into());
        };
        let two_part = !object.is_empty()
            && object.iter().all(|(key, value)| {
                matches!(key.as_str(), "form" | "sampling") && value.is_object()
            });
        if !two_part {
            return Ok(Self {
                form: Some(object),
                sampling: None,
            });
        }
        let sampling = match object.get("sampling") {
            None => None,
            Some(sampling) => match sampling.get("reply") {
                Some(Value::String(reply)) => Some(reply.clone()),
                _ => {
                    return Err(
                        "--elicit-json: `sampling` must be {\"reply\": \"the reply's text\"}"
                            .into(),
                    );
                }
            },
        };
        Ok(Self {
            form: object.get("form").and_then(Value::as_object).cloned(),
            sampling,
        })
    }

    pub fn read(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("--elicit-json {shown}: {e}"))?;
        let value = serde_json::from_str::<Value>(&text)
            .map_err(|e| format!("--elicit-json {shown}: {e}"))?;
        Self::parse(value)
    }
}

/// What to answer with.
#[derive(Debug, Clone)]
pub enum Policy {
    Choose(OnElicit),
    /// Answer from `--elicit-json FILE`.
    Answer(Answers),
    /// A command that answers no questions: it declines them.
    Refuse,
}

impl Policy {
    /// The command line's choice, or the default for how the command runs.
    pub fn from_flags(on_elicit: Option<OnElicit>, answers: Option<Answers>, json: bool) -> Self {
        if let Some(answers) = answers {
            return Self::Answer(answers);
        }
        let person = !json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        Self::Choose(on_elicit.unwrap_or(if person {
            OnElicit::Ask
        } else {
            OnElicit::Decline
        }))
    }
}

/// Answers questions by a policy; holds what made an answer impossible to send.
pub struct Answerer {
    pub asks: AskSender,
    refusals: Arc<Mutex<Vec<String>>>,
}

impl Answerer {
    /// Why an answer from `--elicit-json` was not sent: it did not fit the form.
    pub fn refusals(&self) -> Vec<String> {
        self.refusals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Starts answering questions by `policy`; its sender goes to the MCP worker.
pub fn answer(policy: Policy) -> Answerer {
    let (sender, mut asks) = mpsc::unbounded_channel::<Ask>();
    let refusals = Arc::new(Mutex::new(Vec::new()));
    let noted = refusals.clone();
    tokio::spawn(async move {
        while let Some(ask) = asks.recv().await {
            let policy = policy.clone();
            let noted = noted.clone();
            // Questions at the terminal read stdin: off the runtime's threads.
            match ask.question {
                Question::Elicit { request, reply } => {
                    let url = ask.url;
                    let result = tokio::task::spawn_blocking(move || {
                        let (result, refusal) = respond(&policy, &url, &request);
                        if let Some(refusal) = refusal {
                            noted
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .push(refusal);
                        }
                        result
                    })
                    .await
                    .unwrap_or_else(|_| ElicitResult::new(ElicitationAction::Cancel));
                    let _ = reply.send(result);
                }
                Question::Sample { request, reply } => {
                    let url = ask.url;
                    let answer =
                        tokio::task::spawn_blocking(move || sample(&policy, &url, &request))
                            .await
                            .unwrap_or(Sampled::Cancel);
                    let _ = reply.send(answer);
                }
            }
        }
    });
    Answerer {
        asks: sender,
        refusals,
    }
}

/// The answer to a form or a page, and why an answer from the file could not be sent.
fn respond(
    policy: &Policy,
    url: &str,
    request: &ElicitRequestParams,
) -> (ElicitResult, Option<String>) {
    let declined = |why: &str| {
        eprintln!(
            "mcpfleet: {url} asked \"{}\"; declined ({why})",
            inert(message_of(request))
        );
        (ElicitResult::new(ElicitationAction::Decline), None)
    };
    let accept = |content: Map<String, Value>| {
        ElicitResult::new(ElicitationAction::Accept).with_content(Value::Object(content))
    };
    match (policy, schema_of(request)) {
        (Policy::Answer(Answers { form: Some(_), .. }), None) => {
            declined("a page to open, which --elicit-json cannot do")
        }
        (Policy::Answer(Answers { form: None, .. }), _) => {
            declined("--elicit-json holds no answer to a form")
        }
        (
            Policy::Answer(Answers {
                form: Some(answer), ..
            }),
            Some(schema),
        ) => {
            let content = Value::Object(answer.clone());
            let problems = schema::problems(&schema, &content);
            if problems.is_empty() {
                return (accept(answer.clone()), None);
            }
            let named: Vec<String> = problems
                .iter()
                .map(|p| inert(&p.to_string()).into_owned())
                .collect();
            let refusal = format!(
                "the answer in --elicit-json does not fit the form {url} asked for (\"{}\"), so \
                 it was not sent: {}",
                inert(message_of(request)),
                named.join("; ")
            );
            (ElicitResult::new(ElicitationAction::Cancel), Some(refusal))
        }
        (Policy::Refuse, _) => declined("this command does not answer questions"),
        (Policy::Choose(OnElicit::Decline), _) => declined("--on-elicit decline"),
        (Policy::Choose(OnElicit::AcceptDefaults), Some(schema)) => {
            let answer = defaults(&schema);
            let missing = missing_required(&schema, &answer);
            if missing.is_empty() {
                (accept(answer), None)
            } else {
                let missing: Vec<String> = missing
                    .iter()
                    .map(|name| inert(name).into_owned())
                    .collect();
                declined(&format!(
                    "--on-elicit accept-defaults: no default for the required {}",
                    missing.join(", ")
                ))
            }
        }
        (Policy::Choose(OnElicit::AcceptDefaults), None) => {
            declined("--on-elicit accept-defaults: a page to open has no default")
        }
        (Policy::Choose(OnElicit::Ask), schema) => (ask_at_terminal(url, request, schema), None),
    }
}

/// The answer to a sampling request.
fn sample(policy: &Policy, url: &str, request: &SamplingRequest) -> Sampled {
    let declined = |why: &str| {
        eprintln!("mcpfleet: {url} asked for a model's reply (sampling); declined ({why})");
        Sampled::Decline
    };
    match policy {
        Policy::Answer(Answers {
            sampling: Some(reply),
            ..
        }) => Sampled::Reply(reply.clone()),
        Policy::Answer(_) => declined("--elicit-json holds no sampling reply"),
        Policy::Refuse => declined("this command does not answer questions"),
        Policy::Choose(OnElicit::Decline) => declined("--on-elicit decline"),
        Policy::Choose(OnElicit::AcceptDefaults) => {
            declined("--on-elicit accept-defaults: a sampling request has no default reply")
        }
        Policy::Choose(OnElicit::Ask) => sample_at_terminal(url, request),
    }
}

/// The server's messages on stderr, the reply from stdin up to an empty line or the end.
fn sample_at_terminal(url: &str, request: &SamplingRequest) -> Sampled {
    let shown = describe_sampling(request);
    eprintln!("mcpfleet: {url} asks for a model's reply (sampling); you write it, no model does");
    for (role, parts) in &shown.messages {
        for part in parts {
            let mut lines = part.lines();
            eprintln!("  {role}: {}", inert(lines.next().unwrap_or("")));
            for line in lines {
                eprintln!("  {:width$}  {}", "", inert(line), width = role.len());
            }
        }
    }
    for (label, value) in &shown.details {
        eprintln!("  ({label}: {})", inert(value));
    }
    eprintln!("  Type the reply; an empty line ends it (an empty reply declines, EOF cancels):");
    let stdin = std::io::stdin();
    let mut reply = Vec::new();
    for line in stdin.lock().lines() {
        match line {
            Ok(line) if line.is_empty() => break,
            Ok(line) => reply.push(line),
            Err(_) => return Sampled::Cancel,
        }
    }
    if reply.is_empty() {
        Sampled::Decline
    } else {
        Sampled::Reply(reply.join("\n"))
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
    eprintln!("mcpfleet: {url} asks: {}", inert(message_of(request)));
    let Some(schema) = schema else {
        // URL mode: the person goes to the page; accepting says they will.
        if let ElicitRequestParams::UrlElicitationParams { url: page, .. } = request {
            eprintln!("  open: {}", inert(page));
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
                let names: Vec<String> = values
                    .iter()
                    .map(|v| inert(&v.to_string()).into_owned())
                    .collect();
                format!(" one of {}", names.join(", "))
            })
            .unwrap_or_default();
        let default = property
            .get("default")
            .map(|d| format!(" [{}]", inert(&d.to_string())))
            .unwrap_or_default();
        let mark = if required.contains(&name.as_str()) {
            "*"
        } else {
            ""
        };
        loop {
            let prompt = format!("  {}{mark} ({kind}{choices}){default}: ", inert(name));
            let Some(answer) = read(&prompt) else {
                return ElicitResult::new(ElicitationAction::Cancel);
            };
            let answer = answer.trim();
            if answer.is_empty() {
                if let Some(default) = property.get("default") {
                    content.insert(name.clone(), default.clone());
                } else if mark == "*" {
                    eprintln!("  {} is required", inert(name));
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
    use serde_json::json;

    use super::*;

    #[test]
    fn answers_are_typed_by_the_schema() {
        assert_eq!(typed("integer", "30"), Some(Value::from(30)));
        assert_eq!(typed("integer", "3.5"), None);
        assert_eq!(typed("number", "95.5"), Some(Value::from(95.5)));
        assert_eq!(typed("boolean", "yes"), Some(Value::Bool(true)));
        assert_eq!(typed("string", "John"), Some(Value::from("John")));
    }

    #[test]
    fn an_answer_file_holds_a_form_a_sampling_reply_or_both() {
        let form = |value: Value| value.as_object().cloned();
        assert_eq!(
            Answers::parse(json!({"name": "Ada", "form": "x"})),
            Ok(Answers {
                form: form(json!({"name": "Ada", "form": "x"})),
                sampling: None
            }),
            "a plain object is a form's answer"
        );
        assert_eq!(
            Answers::parse(json!({"form": {"name": "Ada"}, "sampling": {"reply": "Paris"}})),
            Ok(Answers {
                form: form(json!({"name": "Ada"})),
                sampling: Some("Paris".into())
            })
        );
        assert_eq!(
            Answers::parse(json!({"sampling": {"reply": "Paris"}})),
            Ok(Answers {
                form: None,
                sampling: Some("Paris".into())
            })
        );
        assert!(Answers::parse(json!({"sampling": {"text": "Paris"}})).is_err());
        assert!(Answers::parse(json!([1])).is_err());
    }

    fn form(schema: Value) -> ElicitRequestParams {
        serde_json::from_value(
            json!({"mode": "form", "message": "Who?", "requestedSchema": schema}),
        )
        .unwrap()
    }

    #[test]
    fn an_answer_that_breaks_the_form_is_not_sent() {
        let request = form(
            json!({"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"},
            "integer": {"type": "integer", "maximum": 100},
            "email": {"type": "string", "format": "email"}}}),
        );
        let answers = |value: Value| {
            Policy::Answer(Answers {
                form: value.as_object().cloned(),
                sampling: None,
            })
        };
        let (result, refusal) = respond(
            &answers(json!({"name": "Ada", "integer": 500, "email": "not-an-email"})),
            "u",
            &request,
        );
        assert_eq!(result.action, ElicitationAction::Cancel);
        let refusal = refusal.unwrap();
        assert!(
            refusal.contains("/integer: 500 is greater than the maximum of 100")
                && refusal.contains(r#"/email: "not-an-email" is not a "email""#),
            "{refusal}"
        );
        let (result, refusal) = respond(&answers(json!({"name": "Ada"})), "u", &request);
        assert_eq!((result.action, refusal), (ElicitationAction::Accept, None));
    }

    #[test]
    fn defaults_decline_when_a_required_field_has_none() {
        let request = form(
            json!({"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"}, "age": {"type": "integer", "default": 3}}}),
        );
        let (result, _) = respond(&Policy::Choose(OnElicit::AcceptDefaults), "u", &request);
        assert_eq!(result.action, ElicitationAction::Decline);
        let request = form(
            json!({"type": "object", "required": ["age"], "properties": {
            "name": {"type": "string"}, "age": {"type": "integer", "default": 3}}}),
        );
        let (result, _) = respond(&Policy::Choose(OnElicit::AcceptDefaults), "u", &request);
        assert_eq!(result.content, Some(json!({"age": 3})));
    }
}
