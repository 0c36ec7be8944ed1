//! What a server asks of the person in the middle of a call (elicitation), and where the
//! question goes: to whoever holds the other end of the `asks` channel (the console's dialog,
//! a command's `--on-elicit` answer). With nobody to ask, the request is declined, as the
//! spec lets a client do.

use rmcp::model::{
    ElicitRequestParams, ElicitResult, ElicitationAction, InputRequest, InputRequiredResult,
    InputResponses,
};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

/// One question from the server at `url`; answer through `reply`.
#[derive(Debug)]
pub struct Ask {
    pub url: String,
    pub request: ElicitRequestParams,
    pub reply: oneshot::Sender<ElicitResult>,
}

pub type AskSender = mpsc::UnboundedSender<Ask>;

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
        request,
        reply,
    });
    match sent {
        Ok(()) => answer
            .await
            .unwrap_or_else(|_| ElicitResult::new(ElicitationAction::Cancel)),
        Err(_) => ElicitResult::new(ElicitationAction::Decline),
    }
}

/// Answers the questions of an `input_required` result (SEP-2322): elicitations go to whoever
/// answers for this console, `roots/list` gets the roots the console declares (none). Returns
/// the responses and the server's `requestState`, to send back unchanged.
pub(crate) async fn answer_input(
    asks: Option<&AskSender>,
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
            // Roots (deprecated by SEP-2577, still asked by some servers): none declared.
            InputRequest::ListRoots(_) => Ok(serde_json::json!({"roots": []})),
            InputRequest::CreateMessage(_) => {
                return Err(
                    "the server asked for a model's reply (sampling), which this console does not give"
                        .into(),
                );
            }
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
}
