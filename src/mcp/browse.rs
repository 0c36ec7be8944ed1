//! Everything a server offers besides tools: its resources and resource templates, reading a
//! resource, its prompts, and getting a prompt with arguments. One request on one task's
//! pooled client, with the handshake's bounds; a `resources/read` or `prompts/get` that the
//! server answers with `input_required` is put to whoever answers for the console and sent
//! again, as calls are. `completion/complete` asks for the values an argument of a prompt or a
//! resource template may take, where the server declares the `completions` capability. Skills
//! (SEP-2640) are asked for here too and answered by `skills.rs`, a tool's App UI (MCP Apps)
//! by `apps.rs`.

use std::collections::{BTreeMap, HashMap};

use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, CompletionContext, CompletionInfo, GetPromptRequestParams,
    GetPromptResponse, GetPromptResult, Prompt, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceTemplate,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::fleet::Endpoint;

use super::{McpError, Pool, call::MAX_INPUT_ROUNDS, error::from_service_error};

/// What to ask a server for.
#[derive(Debug, Clone, PartialEq)]
pub enum Browse {
    Resources,
    Read {
        uri: String,
    },
    Prompts,
    Prompt {
        name: String,
        arguments: Map<String, Value>,
    },
    /// The values `argument` of a prompt or a resource template may take, given what is typed
    /// so far (`value`) and the other arguments' values (`context`).
    Complete {
        reference: Completing,
        argument: String,
        value: String,
        context: BTreeMap<String, String>,
    },
    /// A tool's App UI (MCP Apps): its `ui://` resource read, with its CSP and permissions.
    App {
        tool: String,
    },
    /// The skills the server serves (`skills/list`).
    Skills,
    /// One skill's manifest, by name or `SKILL.md` URI; `verify` reads and checks every file.
    Skill {
        skill: String,
        verify: bool,
    },
}

/// What an argument to complete belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completing {
    Prompt(String),
    /// A resource template, by its URI template.
    ResourceTemplate(String),
}

/// What it answered.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Browsed {
    Resources {
        resources: Vec<Resource>,
        templates: Vec<ResourceTemplate>,
    },
    Contents(ReadResourceResult),
    Prompts {
        prompts: Vec<Prompt>,
    },
    Prompt(GetPromptResult),
    Completion(CompletionInfo),
    Skills {
        skills: Vec<rmcp::model::Skill>,
    },
    Skill(super::skills::SkillReport),
    App(super::apps::AppUi),
}

impl Pool {
    pub async fn browse(&self, endpoint: &Endpoint, what: &Browse) -> Result<Browsed, McpError> {
        let (connection, _) = self.connection(endpoint).await.map_err(|f| f.error)?;
        let url = &connection.url;
        let failed = |error| connection.explain(from_service_error(url, &error).error);
        let peer = connection.peer();
        let bound = self.config().handshake_timeout;
        let work = async {
            match what {
                Browse::Resources => {
                    let offers = connection
                        .server()
                        .and_then(|info| info.capabilities.resources.clone())
                        .is_some();
                    if !offers {
                        return Ok(Browsed::Resources {
                            resources: Vec::new(),
                            templates: Vec::new(),
                        });
                    }
                    let resources = peer.list_all_resources().await.map_err(failed)?;
                    // Templates are optional even where resources are offered.
                    let templates = peer.list_all_resource_templates().await.unwrap_or_default();
                    Ok(Browsed::Resources {
                        resources,
                        templates,
                    })
                }
                Browse::App { tool } => {
                    Ok(Browsed::App(super::apps::read(&connection, tool).await?))
                }
                Browse::Skills => Ok(Browsed::Skills {
                    skills: super::skills::list(&connection).await?,
                }),
                Browse::Skill { skill, verify } => Ok(Browsed::Skill(
                    super::skills::get(&connection, skill, *verify).await?,
                )),
                Browse::Prompts => Ok(Browsed::Prompts {
                    prompts: peer.list_all_prompts().await.map_err(failed)?,
                }),
                Browse::Read { uri } => {
                    let mut params = ReadResourceRequestParams::new(uri.clone());
                    for _ in 0..MAX_INPUT_ROUNDS {
                        match peer
                            .read_resource_once(params.clone())
                            .await
                            .map_err(failed)?
                        {
                            ReadResourceResponse::Complete(result) => {
                                return Ok(Browsed::Contents(result));
                            }
                            ReadResourceResponse::InputRequired(input) => {
                                let (responses, state) = self.answer(url, input).await?;
                                params.input_responses = responses;
                                params.request_state = state;
                            }
                            _ => {
                                return Err(McpError::Protocol(
                                    "unexpected reply to resources/read".into(),
                                ));
                            }
                        }
                    }
                    Err(gave_up())
                }
                Browse::Complete {
                    reference,
                    argument,
                    value,
                    context,
                } => {
                    let offers = connection
                        .server()
                        .is_some_and(|info| info.capabilities.completions.is_some());
                    if !offers {
                        return Err(McpError::Protocol(
                            "the server offers no completions (no `completions` capability)".into(),
                        ));
                    }
                    let reference = match reference {
                        Completing::Prompt(name) => rmcp::model::Reference::for_prompt(name),
                        Completing::ResourceTemplate(uri) => {
                            rmcp::model::Reference::for_resource(uri)
                        }
                    };
                    let mut params = CompleteRequestParams::new(
                        reference,
                        ArgumentInfo::new(argument.clone(), value.clone()),
                    );
                    if !context.is_empty() {
                        let arguments: HashMap<String, String> =
                            context.clone().into_iter().collect();
                        params = params.with_context(CompletionContext::with_arguments(arguments));
                    }
                    let result = peer.complete(params).await.map_err(failed)?;
                    Ok(Browsed::Completion(result.completion))
                }
                Browse::Prompt { name, arguments } => {
                    // Checked first, as a tool's arguments are: a missing required argument
                    // is the person's to fix, not a round trip to the server's error.
                    let prompts = peer.list_all_prompts().await.map_err(failed)?;
                    check_prompt(&prompts, name, arguments)?;
                    let mut params = GetPromptRequestParams::new(name.clone());
                    if !arguments.is_empty() {
                        params.arguments = Some(arguments.clone());
                    }
                    for _ in 0..MAX_INPUT_ROUNDS {
                        match peer.get_prompt_once(params.clone()).await.map_err(failed)? {
                            GetPromptResponse::Complete(result) => {
                                return Ok(Browsed::Prompt(result));
                            }
                            GetPromptResponse::InputRequired(input) => {
                                let (responses, state) = self.answer(url, input).await?;
                                params.input_responses = responses;
                                params.request_state = state;
                            }
                            _ => {
                                return Err(McpError::Protocol(
                                    "unexpected reply to prompts/get".into(),
                                ));
                            }
                        }
                    }
                    Err(gave_up())
                }
            }
        };
        // Bounded like a handshake: a server that never answers a listing is an error.
        match tokio::time::timeout(bound * 3, work).await {
            Ok(result) => result,
            Err(_) => Err(McpError::TimedOut(bound * 3)),
        }
    }

    async fn answer(
        &self,
        url: &str,
        input: rmcp::model::InputRequiredResult,
    ) -> Result<(Option<rmcp::model::InputResponses>, Option<String>), McpError> {
        let config = self.config();
        super::ask::answer_input(config.asks.as_ref(), &config.roots, url, input)
            .await
            .map_err(McpError::Protocol)
    }
}

fn check_prompt(
    prompts: &[Prompt],
    name: &str,
    arguments: &Map<String, Value>,
) -> Result<(), McpError> {
    let Some(prompt) = prompts.iter().find(|p| p.name == name) else {
        return Err(McpError::UnknownPrompt {
            prompt: name.to_string(),
            available: prompts.iter().map(|p| p.name.to_string()).collect(),
        });
    };
    let missing: Vec<String> = prompt
        .arguments
        .iter()
        .flatten()
        .filter(|argument| argument.required == Some(true))
        .filter(|argument| !arguments.contains_key(&argument.name))
        .map(|argument| format!("missing required argument `{}`", argument.name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(McpError::InvalidArguments(missing))
    }
}

fn gave_up() -> McpError {
    McpError::Protocol(format!(
        "the server asked for input {MAX_INPUT_ROUNDS} times without a result; gave up"
    ))
}
