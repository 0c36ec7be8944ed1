//! Resources, resource templates, prompts and completions of the conformance profile. Pure
//! functions of their inputs: no session state, no I/O.

use rmcp::{
    ErrorData,
    model::{
        CacheScope, CompleteRequestParams, CompleteResult, CompletionInfo, ContentBlock,
        GetPromptResult, JsonObject, ListPromptsResult, ListResourceTemplatesResult,
        ListResourcesResult, ListToolsResult, Prompt, PromptArgument, PromptMessage,
        ReadResourceResult, Reference, Resource, ResourceContents, ResourceTemplate, Role,
    },
};
use serde_json::json;

use super::fixtures::{
    CACHE_TTL_MS, PNG_BASE64, STATIC_BINARY_URI, STATIC_TEXT, STATIC_TEXT_URI, TEMPLATE_PREFIX,
    TEMPLATE_SUFFIX, TEMPLATE_URI, WATCHED_URI, template_body,
};
use super::input_required;

/// Adds the caching hints of SEP-2549 to a result whose content is fixed for the process.
pub trait Cacheable: Sized {
    fn hinted(self, ttl_ms: u64, scope: CacheScope) -> Self;
}

macro_rules! cacheable {
    ($($result:ty),*) => {$(
        impl Cacheable for $result {
            fn hinted(self, ttl_ms: u64, scope: CacheScope) -> Self {
                self.with_ttl_ms(ttl_ms).with_cache_scope(scope)
            }
        }
    )*};
}

cacheable!(
    ListToolsResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ReadResourceResult
);

pub fn cacheable<T: Cacheable>(result: T) -> T {
    result.hinted(CACHE_TTL_MS, CacheScope::Public)
}

pub fn resources() -> ListResourcesResult {
    cacheable(ListResourcesResult::with_all_items(vec![
        Resource::new(STATIC_TEXT_URI, "static-text")
            .with_description("A fixed text resource")
            .with_mime_type("text/plain"),
        Resource::new(STATIC_BINARY_URI, "static-binary")
            .with_description("A fixed binary resource: a 1x1 PNG")
            .with_mime_type("image/png"),
        Resource::new(WATCHED_URI, "watched-resource")
            .with_description("A resource clients may subscribe to")
            .with_mime_type("text/plain"),
    ]))
}

pub fn resource_templates() -> ListResourceTemplatesResult {
    cacheable(ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(TEMPLATE_URI, "template-data")
            .with_description("JSON data for any id, the id substituted into the body")
            .with_mime_type("application/json"),
    ]))
}

pub fn read_resource(uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let contents = match uri {
        STATIC_TEXT_URI => ResourceContents::text(STATIC_TEXT, uri).with_mime_type("text/plain"),
        STATIC_BINARY_URI => ResourceContents::blob(PNG_BASE64, uri).with_mime_type("image/png"),
        WATCHED_URI => {
            ResourceContents::text("Nothing has changed yet.", uri).with_mime_type("text/plain")
        }
        _ => match template_id(uri) {
            Some(id) => {
                ResourceContents::text(template_body(id), uri).with_mime_type("application/json")
            }
            // -32002 for 2025-11-25 peers; rmcp turns it into -32602 for 2026-07-28 (SEP-2164).
            None => {
                return Err(ErrorData::resource_not_found(
                    format!("no resource at {uri}"),
                    Some(json!({ "uri": uri })),
                ));
            }
        },
    };
    Ok(cacheable(ReadResourceResult::new(vec![contents])))
}

/// The `{id}` of a `test://template/{id}/data` URI: one non-empty path segment.
fn template_id(uri: &str) -> Option<&str> {
    let id = uri
        .strip_prefix(TEMPLATE_PREFIX)?
        .strip_suffix(TEMPLATE_SUFFIX)?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

pub fn prompts() -> ListPromptsResult {
    let argument = |name: &str, description: &str| {
        PromptArgument::new(name)
            .with_description(description)
            .with_required(true)
    };
    cacheable(ListPromptsResult::with_all_items(vec![
        Prompt::new(
            "test_simple_prompt",
            Some("A prompt without arguments"),
            None,
        ),
        Prompt::new(
            "test_prompt_with_arguments",
            Some("A prompt that substitutes two arguments"),
            Some(vec![
                argument("arg1", "First test argument"),
                argument("arg2", "Second test argument"),
            ]),
        ),
        Prompt::new(
            "test_prompt_with_embedded_resource",
            Some("A prompt that embeds a resource"),
            Some(vec![argument(
                "resourceUri",
                "URI of the resource to embed",
            )]),
        ),
        Prompt::new(
            "test_prompt_with_image",
            Some("A prompt that carries an image"),
            None,
        ),
        Prompt::new(
            input_required::PROMPT_NAME,
            Some("A prompt that first asks the user for context (2026-07-28 clients only)"),
            None,
        ),
    ]))
}

fn required_argument<'a>(
    arguments: Option<&'a JsonObject>,
    name: &str,
) -> Result<&'a str, ErrorData> {
    arguments
        .and_then(|arguments| arguments.get(name))
        .and_then(|value| value.as_str())
        .ok_or_else(|| ErrorData::invalid_params(format!("missing string argument `{name}`"), None))
}

pub fn get_prompt(
    name: &str,
    arguments: Option<&JsonObject>,
) -> Result<GetPromptResult, ErrorData> {
    let messages = match name {
        "test_simple_prompt" => {
            vec![PromptMessage::new_text(
                Role::User,
                "This is a simple prompt for testing.",
            )]
        }
        "test_prompt_with_arguments" => {
            let first = required_argument(arguments, "arg1")?;
            let second = required_argument(arguments, "arg2")?;
            vec![PromptMessage::new_text(
                Role::User,
                format!("Prompt with arguments: arg1='{first}', arg2='{second}'"),
            )]
        }
        "test_prompt_with_embedded_resource" => {
            let uri = required_argument(arguments, "resourceUri")?;
            let resource = ResourceContents::text("Embedded resource content for testing.", uri)
                .with_mime_type("text/plain");
            vec![
                PromptMessage::new(Role::User, ContentBlock::resource(resource)),
                PromptMessage::new_text(Role::User, "Please process the embedded resource above."),
            ]
        }
        "test_prompt_with_image" => vec![
            PromptMessage::new(Role::User, ContentBlock::image(PNG_BASE64, "image/png")),
            PromptMessage::new_text(Role::User, "Please analyze the image above."),
        ],
        _ => {
            return Err(ErrorData::invalid_params(
                format!("no prompt named `{name}`"),
                None,
            ));
        }
    };
    Ok(GetPromptResult::new(messages))
}

/// Candidates per completable argument; the typed prefix narrows them.
fn candidates(reference: &Reference, argument: &str) -> &'static [&'static str] {
    match (reference, argument) {
        (Reference::Prompt(prompt), "arg1" | "arg2")
            if prompt.name == "test_prompt_with_arguments" =>
        {
            &["test", "testValue1", "testValue2", "paris", "park", "party"]
        }
        (Reference::Prompt(prompt), "resourceUri")
            if prompt.name == "test_prompt_with_embedded_resource" =>
        {
            &[STATIC_TEXT_URI, STATIC_BINARY_URI, WATCHED_URI]
        }
        (Reference::Resource(template), "id") if template.uri == TEMPLATE_URI => {
            &["1", "2", "3", "42", "123"]
        }
        _ => &[],
    }
}

pub fn complete(request: &CompleteRequestParams) -> Result<CompleteResult, ErrorData> {
    let typed = request.argument.value.as_str();
    let values = candidates(&request.r#ref, &request.argument.name)
        .iter()
        .filter(|candidate| candidate.starts_with(typed))
        .map(|candidate| candidate.to_string())
        .collect();
    let completion = CompletionInfo::with_all_values(values)
        .map_err(|error| ErrorData::internal_error(error, None))?;
    Ok(CompleteResult::new(completion))
}

#[cfg(test)]
mod tests {
    use rmcp::model::{ArgumentInfo, PromptReference};

    use super::*;

    #[test]
    fn template_reads_substitute_the_id() {
        let result = read_resource("test://template/123/data").unwrap();
        let body = serde_json::to_value(&result.contents[0]).unwrap();
        assert!(body["text"].as_str().unwrap().contains("\"id\":\"123\""));
        assert_eq!(body["mimeType"], "application/json");
    }

    #[test]
    fn unknown_resources_name_the_uri() {
        let error = read_resource("test://nope").unwrap_err();
        assert_eq!(error.data.unwrap()["uri"], "test://nope");
        assert!(read_resource("test://template//data").is_err());
    }

    #[test]
    fn prompt_arguments_are_substituted_and_required() {
        let arguments = json!({ "arg1": "a", "arg2": "b" });
        let result = get_prompt("test_prompt_with_arguments", arguments.as_object()).unwrap();
        let text = serde_json::to_string(&result.messages).unwrap();
        assert!(text.contains("arg1='a'") && text.contains("arg2='b'"));
        assert!(get_prompt("test_prompt_with_arguments", None).is_err());
    }

    #[test]
    fn completion_filters_by_prefix() {
        let request = CompleteRequestParams::new(
            Reference::Prompt(PromptReference::new("test_prompt_with_arguments")),
            ArgumentInfo::new("arg1", "par"),
        );
        let result = complete(&request).unwrap();
        assert_eq!(result.completion.values, ["paris", "park", "party"]);
        assert_eq!(result.completion.has_more, Some(false));
    }
}
