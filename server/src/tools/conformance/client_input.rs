//! Tools that need an answer from the client: sampling and elicitation. Each works in both
//! protocol eras through [`ask`]: a 2025-11-25 session gets a server-to-client request on the
//! call's stream, a 2026-07-28 caller (which forbids those) gets an `InputRequiredResult` and
//! retries with `inputResponses`.

use rmcp::{
    ErrorData, RoleServer,
    handler::server::{tool::InputResponses, wrapper::Parameters},
    model::{
        CallToolResponse, CallToolResult, ClientCapabilities, ContentBlock, InputRequest,
        InputRequests, InputRequiredResult, ServerRequest,
    },
    service::RequestContext,
    tool, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{ConformanceServer, fixtures, is_modern};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SamplingArgs {
    /// The prompt to send to the client's model.
    prompt: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ElicitationArgs {
    /// The message to show the user.
    message: String,
}

/// The client capability an input request needs, in the shape -32021 reports it.
fn required_capability(request: &InputRequest) -> Option<ClientCapabilities> {
    let builder = ClientCapabilities::builder();
    match request {
        InputRequest::Elicitation(_) => Some(builder.enable_elicitation().build()),
        InputRequest::CreateMessage(_) => Some(builder.enable_sampling().build()),
        InputRequest::ListRoots(_) => Some(builder.enable_roots().build()),
        _ => None,
    }
}

/// What a tool call answers; also what [`ask`] returns when the call cannot go on yet.
type Reply = Result<CallToolResponse, ErrorData>;

fn tool_error(message: String) -> Reply {
    Ok(CallToolResult::error(vec![ContentBlock::text(message)]).into())
}

fn declared(context: &RequestContext<RoleServer>, request: &InputRequest) -> bool {
    let capabilities = context.client_capabilities().unwrap_or_default();
    match request {
        InputRequest::Elicitation(_) => capabilities.elicitation.is_some(),
        InputRequest::CreateMessage(_) => capabilities.sampling.is_some(),
        InputRequest::ListRoots(_) => capabilities.roots.is_some(),
        _ => false,
    }
}

/// The client's answer to `request` under `key`, or the response that ends this round early:
/// an `InputRequiredResult` asking for it, a -32021 error when a 2026-07-28 caller did not
/// declare the capability, or a tool error when a 2025-11-25 session did not.
pub async fn ask(
    context: &RequestContext<RoleServer>,
    responses: Option<&rmcp::model::InputResponses>,
    key: &str,
    request: InputRequest,
) -> Result<Value, Reply> {
    if is_modern(context) {
        if let Some(answer) = responses
            .and_then(|responses| responses.get(key))
            .filter(|a| a.is_object())
        {
            return Ok(answer.clone());
        }
        if !declared(context, &request) {
            let required = required_capability(&request).unwrap_or_default();
            return Err(Err(ErrorData::missing_required_client_capability(required)));
        }
        let mut requests = InputRequests::new();
        requests.insert(key.to_string(), request);
        return Err(Ok(InputRequiredResult::from_input_requests(requests).into()));
    }
    if !declared(context, &request) {
        let refusal = "the client did not declare the capability this tool needs";
        return Err(tool_error(refusal.to_string()));
    }
    let outgoing = match request {
        InputRequest::Elicitation(request) => ServerRequest::ElicitRequest(request),
        InputRequest::CreateMessage(request) => ServerRequest::CreateMessageRequest(request),
        InputRequest::ListRoots(request) => ServerRequest::ListRootsRequest(request),
        _ => {
            return Err(Err(ErrorData::internal_error(
                "unsupported input request",
                None,
            )));
        }
    };
    match context.peer.send_request(outgoing).await {
        Ok(result) => serde_json::to_value(result)
            .map_err(|error| Err(ErrorData::internal_error(error.to_string(), None))),
        Err(error) => Err(tool_error(format!("the client did not answer: {error}"))),
    }
}

fn done(text: String) -> Reply {
    Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
}

/// "`what`: action=…, content=…" for an elicitation answer.
fn elicited(what: &str, answer: &Value) -> Reply {
    let action = answer.get("action").and_then(Value::as_str);
    let content = answer.get("content").cloned().unwrap_or(Value::Null);
    done(format!(
        "{what}: action={}, content={content}",
        action.unwrap_or("unknown")
    ))
}

#[tool_router(router = client_input_router, vis = "pub(super)")]
impl ConformanceServer {
    #[tool(description = "Asks the client's model to answer `prompt` (sampling/createMessage)")]
    async fn test_sampling(
        &self,
        Parameters(args): Parameters<SamplingArgs>,
        InputResponses(responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Reply {
        let request = fixtures::sampling(args.prompt, 100);
        let answer = match ask(&context, responses.as_ref(), "sampling", request).await {
            Ok(answer) => answer,
            Err(early) => return early,
        };
        let text = answer
            .pointer("/content/text")
            .and_then(Value::as_str)
            .unwrap_or("");
        done(format!("LLM response: {text}"))
    }

    #[tool(description = "Asks the user for a username and e-mail address (elicitation/create)")]
    async fn test_elicitation(
        &self,
        Parameters(args): Parameters<ElicitationArgs>,
        InputResponses(responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Reply {
        let request = fixtures::user_details_form(args.message);
        match ask(&context, responses.as_ref(), "user_details", request).await {
            Ok(answer) => elicited("User response", &answer),
            Err(early) => early,
        }
    }

    #[tool(description = "Asks for a form whose fields all carry default values (SEP-1034)")]
    async fn test_elicitation_sep1034_defaults(
        &self,
        InputResponses(responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Reply {
        let request = fixtures::defaults_form();
        match ask(&context, responses.as_ref(), "profile", request).await {
            Ok(answer) => elicited("Elicitation completed", &answer),
            Err(early) => early,
        }
    }

    #[tool(description = "Asks for a form with every enum shape of SEP-1330")]
    async fn test_elicitation_sep1330_enums(
        &self,
        InputResponses(responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Reply {
        let request = fixtures::enums_form();
        match ask(&context, responses.as_ref(), "choices", request).await {
            Ok(answer) => elicited("Elicitation completed", &answer),
            Err(early) => early,
        }
    }

    #[tool(description = "Asks for one value; 2026-07-28 callers get an InputRequiredResult")]
    async fn test_streaming_elicitation(
        &self,
        InputResponses(responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Reply {
        let request = fixtures::ask_string("Provide a value", "value");
        match ask(&context, responses.as_ref(), "value", request).await {
            Ok(answer) => elicited("Received", &answer),
            Err(early) => early,
        }
    }
}
