//! What a server asks of the person in the middle of a call — a form or a page to open
//! (elicitation), a model's reply (sampling), the roots the console shares — and where the
//! question goes: to whoever holds the other end of the `asks` channel (the console's dialog,
//! a command's `--on-elicit` answer). The console never calls a model: a sampling request is
//! answered by a person typing the reply, or declined. With nobody to ask, questions are
//! declined, as the spec lets a client do. Roots come from the configuration, none by default.

// Sampling and roots are deprecated by SEP-2577 for 2026-07-28, yet 2025-11-25 servers (and
// input requests) still use them.
#![allow(deprecated)]

use rmcp::model::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult,
    ElicitationAction, ErrorCode, InputRequest, InputRequiredResult, InputResponses,
    ListRootsResult, Role, Root, SamplingMessage, SamplingMessageContentBlock,
};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

/// The `model` of a sampling reply: no model wrote it, a person at the console did.
pub const OPERATOR_MODEL: &str = "mcpfleet-operator";

/// One question from the server at `url`.
#[derive(Debug)]
pub struct Ask {
    pub url: String,
    pub question: Question,
}

/// What the server asks; answer through `reply`.
#[derive(Debug)]
pub enum Question {
    /// `elicitation/create`, or an elicitation input request: a form, or a page to open.
    Elicit {
        request: ElicitRequestParams,
        reply: oneshot::Sender<ElicitResult>,
    },
    /// `sampling/createMessage`, or a sampling input request: the server wants a model's
    /// reply to its messages; a person types it or declines.
    Sample {
        request: Box<CreateMessageRequestParams>,
        reply: oneshot::Sender<Sampled>,
    },
}

/// A person's answer to a sampling request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sampled {
    /// The reply's text, sent as the assistant's message.
    Reply(String),
    Decline,
    Cancel,
}

pub type AskSender = mpsc::UnboundedSender<Ask>;

/// What a sampling request carries: the messages, the system prompt, the limits.
pub type SamplingRequest = CreateMessageRequestParams;

/// A root the client shares (`roots/list`), as rmcp models it.
pub type ClientRoot = Root;

/// A root at `uri`, named or not.
pub fn root(uri: &str, name: Option<&str>) -> ClientRoot {
    let root = Root::new(uri);
    match name {
        Some(name) => root.with_name(name),
        None => root,
    }
}

/// Sends the question and waits for the answer; a question nobody answers is declined.
pub(crate) async fn ask(
    asks: Option<&AskSender>,
    url: &str,
    request: ElicitRequestParams,
) -> ElicitResult {
    let Some(asks) = asks else {
        return ElicitResult::new(ElicitationAction::Decline);
    };
    let (reply, answer) = oneshot::channel();
    let sent = asks.send(Ask {
        url: url.to_string(),
        question: Question::Elicit { request, reply },
    });
    match sent {
        Ok(()) => answer
            .await
            .unwrap_or_else(|_| ElicitResult::new(ElicitationAction::Cancel)),
        Err(_) => ElicitResult::new(ElicitationAction::Decline),
    }
}

/// Puts a sampling request to whoever answers; nobody there declines.
pub(crate) async fn sample(
    asks: Option<&AskSender>,
    url: &str,
    request: CreateMessageRequestParams,
) -> Sampled {
    let Some(asks) = asks else {
        return Sampled::Decline;
    };
    let (reply, answer) = oneshot::channel();
    let sent = asks.send(Ask {
        url: url.to_string(),
        question: Question::Sample {
            request: Box::new(request),
            reply,
        },
    });
    match sent {
        Ok(()) => answer.await.unwrap_or(Sampled::Cancel),
        Err(_) => Sampled::Decline,
    }
}

/// The result of a sampling request a person answered: their text as the assistant's
/// message, from the operator "model", ended where they ended it.
pub fn operator_reply(text: String) -> CreateMessageResult {
    CreateMessageResult::new(
        SamplingMessage::new(Role::Assistant, SamplingMessageContentBlock::text(text)),
        OPERATOR_MODEL.to_string(),
    )
    .with_stop_reason(CreateMessageResult::STOP_REASON_END_TURN)
}

/// The JSON-RPC answer to a sampling request: the reply, or the error the spec gives for a
/// request the user rejected.
pub(crate) fn sampling_result(answer: Sampled) -> Result<CreateMessageResult, rmcp::ErrorData> {
    match answer {
        Sampled::Reply(text) => Ok(operator_reply(text)),
        Sampled::Decline => Err(rmcp::ErrorData::new(
            ErrorCode(-1),
            "User rejected sampling request",
            None,
        )),
        Sampled::Cancel => Err(rmcp::ErrorData::new(
            ErrorCode(-1),
            "User cancelled the sampling request",
            None,
        )),
    }
}

/// Answers the questions of an `input_required` result (SEP-2322): elicitations and sampling
/// requests go to whoever answers for this console, `roots/list` gets the configured roots.
/// Returns the responses and the server's `requestState`, to send back unchanged. An input
/// response cannot say no to a sampling request, so a declined one ends the call.
pub(crate) async fn answer_input(
    asks: Option<&AskSender>,
    roots: &[Root],
    url: &str,
    input: InputRequiredResult,
) -> Result<(Option<InputResponses>, Option<String>), String> {
    let requests = input.input_requests.unwrap_or_default();
    if requests.is_empty() && input.request_state.is_none() {
        return Err("the server answered input_required with neither questions nor state".into());
    }
    let mut responses = InputResponses::new();
    for (key, request) in requests {
        let response = match request {
            InputRequest::Elicitation(request) => {
                serde_json::to_value(ask(asks, url, request.params).await)
            }
            InputRequest::ListRoots(_) => {
                serde_json::to_value(ListRootsResult::new(roots.to_vec()))
            }
            InputRequest::CreateMessage(request) => match sample(asks, url, request.params).await {
                Sampled::Reply(text) => serde_json::to_value(operator_reply(text)),
                Sampled::Decline => {
                    return Err("declined the server's request for a model's reply \
                                    (sampling); an input response cannot say no, so the call ends"
                        .into());
                }
                Sampled::Cancel => {
                    return Err("cancelled the answer to the server's request for a \
                                    model's reply (sampling)"
                        .into());
                }
            },
            _ => {
                return Err(format!(
                    "the server asked for input of a kind unknown here ({key})"
                ));
            }
        };
        responses.insert(key, response.map_err(|e| e.to_string())?);
    }
    Ok((
        (!responses.is_empty()).then_some(responses),
        input.request_state,
    ))
}

/// The form's schema as JSON: what the forms and answers read.
pub fn schema_of(request: &ElicitRequestParams) -> Option<Value> {
    match request {
        ElicitRequestParams::FormElicitationParams {
            requested_schema, ..
        } => serde_json::to_value(requested_schema).ok(),
        _ => None,
    }
}

/// The answer "accept with the defaults": each property that has a default, with it (SEP-1034).
pub fn defaults(schema: &Value) -> Map<String, Value> {
    schema["properties"]
        .as_object()
        .map(|properties| {
            properties
                .iter()
                .filter_map(|(name, property)| {
                    Some((name.clone(), property.get("default")?.clone()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The message the server shows with its question.
pub fn message_of(request: &ElicitRequestParams) -> &str {
    match request {
        ElicitRequestParams::FormElicitationParams { message, .. }
        | ElicitRequestParams::UrlElicitationParams { message, .. } => message,
        _ => "",
    }
}

/// The required properties of a form that `answer` leaves out.
pub fn missing_required(schema: &Value, answer: &Map<String, Value>) -> Vec<String> {
    schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|name| !answer.contains_key(*name))
        .map(str::to_string)
        .collect()
}

/// A sampling request as a person reads it, in the server's own words (the caller makes them
/// inert before they reach a terminal).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingShown {
    /// Each message: its role and its parts, text as sent and anything else as one line
    /// saying what it is.
    pub messages: Vec<(String, Vec<String>)>,
    /// The system prompt, the token limit, the model preferences and the rest, labelled.
    pub details: Vec<(&'static str, String)>,
}

pub fn describe_sampling(request: &CreateMessageRequestParams) -> SamplingShown {
    let size = |data: &str| data.len() / 4 * 3;
    let messages = request
        .messages
        .iter()
        .map(|message| {
            let role = match message.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            let parts = message
                .content
                .iter()
                .map(|part| match part {
                    SamplingMessageContentBlock::Text(text) => text.text.clone(),
                    SamplingMessageContentBlock::Image(image) => {
                        format!("[image, {}, {} bytes]", image.mime_type, size(&image.data))
                    }
                    SamplingMessageContentBlock::Audio(audio) => {
                        format!("[audio, {}, {} bytes]", audio.mime_type, size(&audio.data))
                    }
                    SamplingMessageContentBlock::ToolUse(used) => format!(
                        "[tool use {}: {} {}]",
                        used.id,
                        used.name,
                        Value::Object(used.input.clone())
                    ),
                    SamplingMessageContentBlock::ToolResult(result) => format!(
                        "[tool result for {}: {} block(s)]",
                        result.tool_use_id,
                        result.content.len()
                    ),
                    _ => "[content of a kind unknown here]".to_string(),
                })
                .collect();
            (role.to_string(), parts)
        })
        .collect();
    let mut details = Vec::new();
    if let Some(prompt) = &request.system_prompt {
        details.push(("system prompt", prompt.clone()));
    }
    details.push(("max tokens", request.max_tokens.to_string()));
    if let Some(temperature) = request.temperature {
        details.push(("temperature", temperature.to_string()));
    }
    if let Some(stops) = request.stop_sequences.as_ref().filter(|s| !s.is_empty()) {
        details.push(("stop sequences", format!("{stops:?}")));
    }
    if let Some(preferences) = &request.model_preferences {
        let hints: Vec<&str> = preferences
            .hints
            .iter()
            .flatten()
            .filter_map(|hint| hint.name.as_deref())
            .collect();
        if !hints.is_empty() {
            details.push(("model hints", hints.join(", ")));
        }
        let priorities: Vec<String> = [
            ("cost", preferences.cost_priority),
            ("speed", preferences.speed_priority),
            ("intelligence", preferences.intelligence_priority),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some(format!("{name} {}", value?)))
        .collect();
        if !priorities.is_empty() {
            details.push(("priorities", priorities.join(" · ")));
        }
    }
    if let Some(context) = &request.include_context {
        let context = serde_json::to_value(context).unwrap_or_default();
        details.push((
            "include context",
            context.as_str().unwrap_or("").to_string(),
        ));
    }
    if let Some(tools) = request.tools.as_ref().filter(|t| !t.is_empty()) {
        let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
        details.push(("tools offered", names.join(", ")));
    }
    SamplingShown { messages, details }
}

/// Why a question the client could not read as MCP's (rmcp fell back to a custom request)
/// cannot be shown: the first property of a form that is not a string, number, integer,
/// boolean or a choice of those, or the request's shape in general.
pub(crate) fn unshowable(method: &str, params: Option<&Value>) -> String {
    if method == "elicitation/create"
        && let Some(properties) = params
            .and_then(|p| p.get("requestedSchema"))
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
    {
        for (name, property) in properties {
            let kind = property.get("type").and_then(Value::as_str);
            let flat = match kind {
                Some("string" | "number" | "integer" | "boolean") => true,
                // A multiple choice: an array of enumerated strings.
                Some("array") => property.get("items").is_some_and(|items| {
                    items.get("enum").is_some() || items.get("anyOf").is_some()
                }),
                _ => false,
            };
            if !flat {
                return format!(
                    "property `{name}` is {}; an MCP form holds only strings, numbers, booleans \
                     and choices",
                    kind.map_or("untyped".to_string(), |kind| format!("of type {kind}"))
                );
            }
        }
    }
    format!("its params do not fit MCP's schema for {method}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_take_every_property_that_has_one() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "default": "John Doe"},
            "age": {"type": "integer", "default": 30},
            "note": {"type": "string"},
            "verified": {"type": "boolean", "default": true},
        }});
        let answer = defaults(&schema);
        assert_eq!(
            Value::Object(answer),
            json!({"name": "John Doe", "age": 30, "verified": true})
        );
    }

    #[tokio::test]
    async fn nobody_to_ask_declines_and_a_dropped_question_cancels() {
        let request: ElicitRequestParams = serde_json::from_value(json!({
            "mode": "form", "message": "Who?", "requestedSchema": {"type": "object", "properties": {}}
        }))
        .unwrap();
        assert_eq!(
            ask(None, "u", request.clone()).await.action,
            ElicitationAction::Decline
        );
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let answer = tokio::spawn(async move { ask(Some(&sender), "u", request).await });
        drop(receiver.recv().await.unwrap());
        assert_eq!(answer.await.unwrap().action, ElicitationAction::Cancel);
    }

    fn sampling_request() -> CreateMessageRequestParams {
        serde_json::from_value(json!({
            "messages": [
                {"role": "user", "content": {"type": "text", "text": "Capital of France?"}},
                {"role": "user", "content": [{"type": "image", "mimeType": "image/png", "data": "AAAA"}]}
            ],
            "systemPrompt": "Be brief.",
            "maxTokens": 100,
            "modelPreferences": {"hints": [{"name": "claude"}], "speedPriority": 0.5}
        }))
        .unwrap()
    }

    #[test]
    fn a_sampling_request_reads_as_messages_and_details() {
        let shown = describe_sampling(&sampling_request());
        assert_eq!(
            shown.messages,
            vec![
                ("user".to_string(), vec!["Capital of France?".to_string()]),
                ("user".into(), vec!["[image, image/png, 3 bytes]".into()]),
            ]
        );
        assert_eq!(
            shown.details,
            vec![
                ("system prompt", "Be brief.".to_string()),
                ("max tokens", "100".into()),
                ("model hints", "claude".into()),
                ("priorities", "speed 0.5".into()),
            ]
        );
    }

    #[test]
    fn a_typed_reply_is_the_operators_and_a_refusal_is_the_specs_error() {
        let reply = serde_json::to_value(sampling_result(Sampled::Reply("Paris".into())).unwrap());
        assert_eq!(
            reply.unwrap(),
            json!({"role": "assistant", "content": {"type": "text", "text": "Paris"},
                   "model": "mcpfleet-operator", "stopReason": "endTurn"})
        );
        let refused = sampling_result(Sampled::Decline).unwrap_err();
        assert_eq!(
            (refused.code.0, refused.message.as_ref()),
            (-1, "User rejected sampling request")
        );
    }

    #[tokio::test]
    async fn input_requests_get_roots_from_config_and_replies_from_the_person() {
        let input: InputRequiredResult = serde_json::from_value(json!({
            "resultType": "input_required",
            "inputRequests": {
                "roots": {"method": "roots/list"},
                "greeting": {"method": "sampling/createMessage", "params": {
                    "messages": [{"role": "user", "content": {"type": "text", "text": "Hi?"}}],
                    "maxTokens": 50}}
            },
            "requestState": "s1"
        }))
        .unwrap();
        let roots = [Root::new("file:///srv/app").with_name("app")];
        let (sender, mut receiver) = mpsc::unbounded_channel::<Ask>();
        let person = tokio::spawn(async move {
            let ask = receiver.recv().await.unwrap();
            let Question::Sample { request, reply } = ask.question else {
                panic!("a sampling question")
            };
            assert_eq!(request.max_tokens, 50);
            reply.send(Sampled::Reply("Hello".into())).unwrap();
            receiver
        });
        let (responses, state) = answer_input(Some(&sender), &roots, "u", input.clone())
            .await
            .unwrap();
        let responses = responses.unwrap();
        assert_eq!(
            responses["roots"],
            json!({"roots": [{"uri": "file:///srv/app", "name": "app"}]})
        );
        assert_eq!(responses["greeting"]["content"]["text"], "Hello");
        assert_eq!(state.as_deref(), Some("s1"));
        drop(person.await.unwrap());
        // Nobody to ask: the sampling request is declined, which ends the call.
        let ended = answer_input(None, &roots, "u", input).await.unwrap_err();
        assert!(
            ended.starts_with("declined the server's request"),
            "{ended}"
        );
    }
}
