//! Multi round-trip requests (SEP-2322): tools and a prompt that answer with an
//! `InputRequiredResult` until the client retries with the `inputResponses` they asked for.
//! Missing or malformed answers are asked for again rather than refused; a `requestState` that
//! fails verification is refused with -32602. Only 2026-07-28 callers can use these; rmcp turns
//! an `InputRequiredResult` for an older peer into an error.

use rmcp::{
    ErrorData, RoleServer,
    handler::server::tool::{InputResponses, RequestState},
    model::{
        CallToolResponse, CallToolResult, ContentBlock, GetPromptResponse, GetPromptResult,
        InputRequest, InputRequests, InputRequiredResult, JsonObject, PromptMessage, Role,
    },
    service::RequestContext,
    tool, tool_router,
};
use serde_json::Value;

use super::{ConformanceServer, fixtures};

pub const PROMPT_NAME: &str = "test_input_required_result_prompt";
const REQUEST_STATE_TOOL: &str = "test_input_required_result_request_state";
const TAMPERED_STATE_TOOL: &str = "test_input_required_result_tampered_state";
const MULTIPLE_INPUTS_TOOL: &str = "test_input_required_result_multiple_inputs";
const MULTI_ROUND_TOOL: &str = "test_input_required_result_multi_round";

type Responses = rmcp::model::InputResponses;

/// The answer under `key` if it has the shape of a result (an object); anything else counts
/// as not answered, so the input is asked for again.
fn answer<'a>(responses: Option<&'a Responses>, key: &str) -> Option<&'a JsonObject> {
    responses?.get(key)?.as_object()
}

/// A string field of an elicitation answer's `content`.
fn field<'a>(answer: &'a JsonObject, name: &str) -> Option<&'a str> {
    answer.get("content")?.get(name)?.as_str()
}

fn asking(requests: Vec<(&str, InputRequest)>, state: Option<String>) -> InputRequiredResult {
    let requests: InputRequests = requests
        .into_iter()
        .map(|(key, request)| (key.to_string(), request))
        .collect();
    InputRequiredResult::new(Some(requests), state)
}

fn done(text: String) -> Result<CallToolResponse, ErrorData> {
    Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
}

fn name_request(message: &str) -> InputRequest {
    fixtures::ask_string(message, "name")
}

/// `prompts/get` of [`PROMPT_NAME`]: asks for context, then builds the prompt from it.
pub fn prompt(responses: Option<&Responses>) -> GetPromptResponse {
    match answer(responses, "user_context").and_then(|answer| field(answer, "context")) {
        Some(context) => GetPromptResult::new(vec![PromptMessage::new_text(
            Role::User,
            format!("Prompt with elicited context: {context}"),
        )])
        .into(),
        None => asking(
            vec![(
                "user_context",
                fixtures::ask_string("What context should the prompt use?", "context"),
            )],
            None,
        )
        .into(),
    }
}

impl ConformanceServer {
    /// Round 1 asks for a confirmation and seals the round; round 2 verifies the echoed state
    /// before acting on the answer.
    fn confirm_with_state(
        &self,
        tool: &str,
        responses: Option<&Responses>,
        state: Option<String>,
    ) -> Result<CallToolResponse, ErrorData> {
        if let Some(state) = state {
            self.shared.sealer.open(tool, &state)?;
            if let Some(confirm) = answer(responses, "confirm") {
                let ok = confirm
                    .get("content")
                    .and_then(|c| c.get("ok"))
                    .and_then(Value::as_bool);
                return done(format!("Confirmed: state-ok (ok={})", ok.unwrap_or(false)));
            }
        }
        let form = fixtures::elicitation(
            "Please confirm",
            serde_json::json!({
                "type": "object",
                "properties": { "ok": { "type": "boolean" } },
                "required": ["ok"]
            }),
        );
        Ok(asking(
            vec![("confirm", form)],
            Some(self.shared.sealer.seal(tool, 1)?),
        )
        .into())
    }
}

#[tool_router(router = input_required_router, vis = "pub(super)")]
impl ConformanceServer {
    #[tool(description = "Asks for the user's name (elicitation), then greets them")]
    async fn test_input_required_result_elicitation(
        &self,
        InputResponses(responses): InputResponses,
    ) -> Result<CallToolResponse, ErrorData> {
        match answer(responses.as_ref(), "user_name").and_then(|answer| field(answer, "name")) {
            Some(name) => done(format!("Hello, {name}!")),
            None => Ok(asking(
                vec![("user_name", name_request("What is your name?"))],
                None,
            )
            .into()),
        }
    }

    #[tool(description = "Asks the client's model a question (sampling), then reports the answer")]
    async fn test_input_required_result_sampling(
        &self,
        InputResponses(responses): InputResponses,
    ) -> Result<CallToolResponse, ErrorData> {
        let text = answer(responses.as_ref(), "capital_question")
            .and_then(|answer| answer.get("content")?.get("text")?.as_str());
        match text {
            Some(text) => done(format!("Sampling response: {text}")),
            None => {
                let question = fixtures::sampling("What is the capital of France?", 100);
                Ok(asking(vec![("capital_question", question)], None).into())
            }
        }
    }

    #[tool(description = "Asks for the client's roots (roots/list), then lists them")]
    async fn test_input_required_result_list_roots(
        &self,
        InputResponses(responses): InputResponses,
    ) -> Result<CallToolResponse, ErrorData> {
        let roots = answer(responses.as_ref(), "client_roots")
            .and_then(|answer| answer.get("roots")?.as_array());
        match roots {
            Some(roots) => {
                let uris: Vec<&str> = roots
                    .iter()
                    .filter_map(|root| root.get("uri")?.as_str())
                    .collect();
                done(format!("Client roots: [{}]", uris.join(", ")))
            }
            None => Ok(asking(vec![("client_roots", fixtures::list_roots())], None).into()),
        }
    }

    #[tool(description = "Asks for confirmation with a signed requestState, verified on retry")]
    async fn test_input_required_result_request_state(
        &self,
        InputResponses(responses): InputResponses,
        RequestState(state): RequestState,
    ) -> Result<CallToolResponse, ErrorData> {
        self.confirm_with_state(REQUEST_STATE_TOOL, responses.as_ref(), state)
    }

    #[tool(description = "Like the request-state tool; an altered requestState is refused")]
    async fn test_input_required_result_tampered_state(
        &self,
        InputResponses(responses): InputResponses,
        RequestState(state): RequestState,
    ) -> Result<CallToolResponse, ErrorData> {
        self.confirm_with_state(TAMPERED_STATE_TOOL, responses.as_ref(), state)
    }

    #[tool(description = "Asks for a name, a greeting and the roots in one round")]
    async fn test_input_required_result_multiple_inputs(
        &self,
        InputResponses(responses): InputResponses,
        RequestState(state): RequestState,
    ) -> Result<CallToolResponse, ErrorData> {
        if let Some(state) = &state {
            self.shared.sealer.open(MULTIPLE_INPUTS_TOOL, state)?;
        }
        let responses = responses.as_ref();
        let name = answer(responses, "user_name").and_then(|answer| field(answer, "name"));
        let greeting = answer(responses, "greeting")
            .and_then(|answer| answer.get("content")?.get("text")?.as_str());
        let roots =
            answer(responses, "client_roots").and_then(|answer| answer.get("roots")?.as_array());
        if let (Some(name), Some(greeting), Some(roots), Some(_)) = (name, greeting, roots, &state)
        {
            return done(format!(
                "All inputs received: name={name}, greeting={greeting}, roots={}",
                roots.len()
            ));
        }
        let mut missing = Vec::new();
        if name.is_none() {
            missing.push(("user_name", name_request("What is your name?")));
        }
        if greeting.is_none() {
            missing.push(("greeting", fixtures::sampling("Generate a greeting", 50)));
        }
        if roots.is_none() {
            missing.push(("client_roots", fixtures::list_roots()));
        }
        if missing.is_empty() {
            // Every answer arrived but the state did not: start over, sealing the round.
            missing.push(("user_name", name_request("What is your name?")));
        }
        let sealed = self.shared.sealer.seal(MULTIPLE_INPUTS_TOOL, 1)?;
        Ok(asking(missing, Some(sealed)).into())
    }

    #[tool(description = "Asks for a name, then a colour, carrying the round in requestState")]
    async fn test_input_required_result_multi_round(
        &self,
        InputResponses(responses): InputResponses,
        RequestState(state): RequestState,
    ) -> Result<CallToolResponse, ErrorData> {
        let round = match &state {
            Some(state) => self.shared.sealer.open(MULTI_ROUND_TOOL, state)?,
            None => 0,
        };
        let responses = responses.as_ref();
        let step1 = answer(responses, "step1").and_then(|answer| field(answer, "name"));
        let step2 = answer(responses, "step2").and_then(|answer| field(answer, "color"));
        let sealer = &self.shared.sealer;
        match (round, step1, step2) {
            (0, _, _) | (1, None, _) => Ok(asking(
                vec![("step1", name_request("Step 1: What is your name?"))],
                Some(sealer.seal(MULTI_ROUND_TOOL, 1)?),
            )
            .into()),
            (1, Some(_), _) | (2, _, None) => Ok(asking(
                vec![(
                    "step2",
                    fixtures::ask_string("Step 2: What is your favorite color?", "color"),
                )],
                Some(sealer.seal(MULTI_ROUND_TOOL, 2)?),
            )
            .into()),
            (_, _, Some(color)) => done(format!(
                "Multi-round flow complete: favourite colour {color}"
            )),
            (_, _, None) => Err(ErrorData::invalid_params(
                "requestState is past the last round",
                None,
            )),
        }
    }

    #[tool(description = "Asks only for the inputs the request's client capabilities allow")]
    async fn test_input_required_result_capabilities(
        &self,
        InputResponses(responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if responses
            .as_ref()
            .is_some_and(|responses| responses.values().any(Value::is_object))
        {
            return done("Capability-aware flow complete".to_string());
        }
        let capabilities = context.client_capabilities().unwrap_or_default();
        let mut requests = Vec::new();
        if capabilities.elicitation.is_some() {
            requests.push(("user_name", name_request("What is your name?")));
        }
        if capabilities.sampling.is_some() {
            requests.push(("greeting", fixtures::sampling("Generate a greeting", 50)));
        }
        if capabilities.roots.is_some() {
            requests.push(("client_roots", fixtures::list_roots()));
        }
        if requests.is_empty() {
            return done("The client declared nothing this tool could ask for".to_string());
        }
        Ok(asking(requests, None).into())
    }
}
