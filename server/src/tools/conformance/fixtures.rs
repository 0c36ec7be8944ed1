//! Fixed data the conformance scenarios look for: media payloads, schemas and texts. Pure data
//! and small constructors only; no handler logic lives here.

use std::sync::{Arc, LazyLock};

use rmcp::model::{
    CreateMessageRequest, CreateMessageRequestParams, ElicitRequest, ElicitRequestParams,
    ElicitationSchema, InputRequest, JsonObject, ListRootsRequest, SamplingMessage,
};
use serde_json::{Value, json};

/// A 1x1 PNG (one teal pixel), base64.
pub const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mOQ7yoAAAHlARq3nrB9AAAAAElFTkSuQmCC";

/// A WAV file of eight samples of 8 kHz 8-bit mono silence, base64.
pub const WAV_BASE64: &str =
    "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==";

pub const STATIC_TEXT_URI: &str = "test://static-text";
pub const STATIC_TEXT: &str = "This is the content of the static text resource.";
pub const STATIC_BINARY_URI: &str = "test://static-binary";
pub const WATCHED_URI: &str = "test://watched-resource";
pub const TEMPLATE_URI: &str = "test://template/{id}/data";
pub const TEMPLATE_PREFIX: &str = "test://template/";
pub const TEMPLATE_SUFFIX: &str = "/data";

/// Lists and reads here never change while the process runs, so any cache may keep them a
/// minute; the list-changed hooks are diagnostics that do not alter them.
pub const CACHE_TTL_MS: u64 = 60_000;

/// Body of `test://template/{id}/data` for one id.
pub fn template_body(id: &str) -> String {
    json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") }).to_string()
}

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        other => unreachable!("fixture schema is not an object: {other}"),
    }
}

/// The input schema of `json_schema_2020_12_tool`: every 2020-12 keyword the suite checks
/// survives `tools/list` unchanged (`$schema`, `$defs` with `$anchor`, composition, conditionals
/// and `additionalProperties`).
pub static JSON_SCHEMA_2020_12: LazyLock<Arc<JsonObject>> = LazyLock::new(|| {
    Arc::new(object(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": { "street": { "type": "string" }, "city": { "type": "string" } }
            }
        },
        "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" },
            "contactMethod": { "type": "string", "enum": ["phone", "email"] },
            "phone": { "type": "string" },
            "email": { "type": "string" }
        },
        "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
        "if": {
            "properties": { "contactMethod": { "const": "phone" } },
            "required": ["contactMethod"]
        },
        "then": { "required": ["phone"] },
        "else": { "required": ["email"] },
        "additionalProperties": false
    })))
});

/// `test_custom_header` mirrors its `value` argument into the `Mcp-Param-Value` header.
pub static CUSTOM_HEADER_SCHEMA: LazyLock<Arc<JsonObject>> = LazyLock::new(|| {
    Arc::new(object(json!({
        "type": "object",
        "properties": {
            "value": {
                "type": "string",
                "description": "Echoed back; sent as the Mcp-Param-Value header too",
                "x-mcp-header": "Value"
            }
        },
        "required": ["value"]
    })))
});

/// Parses a fixture elicitation schema; the fixtures are constants, so failing is a bug here.
fn elicitation_schema(schema: Value) -> ElicitationSchema {
    serde_json::from_value(schema).expect("fixture elicitation schema parses")
}

pub fn elicitation(message: impl Into<String>, schema: Value) -> InputRequest {
    InputRequest::Elicitation(ElicitRequest::new(
        ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: message.into(),
            requested_schema: elicitation_schema(schema),
        },
    ))
}

/// A form asking for one required string property.
pub fn ask_string(message: &str, property: &str) -> InputRequest {
    elicitation(
        message,
        json!({
            "type": "object",
            "properties": { property: { "type": "string" } },
            "required": [property]
        }),
    )
}

pub fn sampling(prompt: impl Into<String>, max_tokens: u32) -> InputRequest {
    InputRequest::CreateMessage(CreateMessageRequest::new(CreateMessageRequestParams::new(
        vec![SamplingMessage::user_text(prompt)],
        max_tokens,
    )))
}

pub fn list_roots() -> InputRequest {
    InputRequest::ListRoots(ListRootsRequest::default())
}

/// `test_elicitation`: a username and an e-mail address.
pub fn user_details_form(message: String) -> InputRequest {
    elicitation(
        message,
        json!({
            "type": "object",
            "properties": {
                "username": { "type": "string", "description": "User's response" },
                "email": { "type": "string", "description": "User's email address" }
            },
            "required": ["username", "email"]
        }),
    )
}

/// SEP-1034: a default value for every primitive type.
pub fn defaults_form() -> InputRequest {
    elicitation(
        "Review the prefilled profile",
        json!({
            "type": "object",
            "properties": {
                "name": { "type": "string", "default": "John Doe" },
                "age": { "type": "integer", "default": 30 },
                "score": { "type": "number", "default": 95.5 },
                "status": {
                    "type": "string",
                    "enum": ["active", "inactive", "pending"],
                    "default": "active"
                },
                "verified": { "type": "boolean", "default": true }
            }
        }),
    )
}

/// SEP-1330: the five enum shapes, single- and multi-select, titled and untitled.
pub fn enums_form() -> InputRequest {
    elicitation(
        "Pick from each kind of list",
        json!({
            "type": "object",
            "properties": {
                "untitledSingle": { "type": "string", "enum": ["option1", "option2", "option3"] },
                "titledSingle": {
                    "type": "string",
                    "oneOf": [
                        { "const": "value1", "title": "First Option" },
                        { "const": "value2", "title": "Second Option" },
                        { "const": "value3", "title": "Third Option" }
                    ]
                },
                "legacyEnum": {
                    "type": "string",
                    "enum": ["opt1", "opt2", "opt3"],
                    "enumNames": ["Option One", "Option Two", "Option Three"]
                },
                "untitledMulti": {
                    "type": "array",
                    "items": { "type": "string", "enum": ["option1", "option2", "option3"] }
                },
                "titledMulti": {
                    "type": "array",
                    "items": {
                        "anyOf": [
                            { "const": "value1", "title": "First Choice" },
                            { "const": "value2", "title": "Second Choice" },
                            { "const": "value3", "title": "Third Choice" }
                        ]
                    }
                }
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(request: InputRequest) -> Value {
        serde_json::to_value(request).unwrap()["params"].clone()
    }

    #[test]
    fn defaults_survive_the_typed_schema() {
        let schema = &params(defaults_form())["requestedSchema"]["properties"];
        assert_eq!(schema["name"]["default"], "John Doe");
        assert_eq!(schema["age"]["default"], 30);
        assert_eq!(schema["score"]["default"], 95.5);
        assert_eq!(schema["status"]["default"], "active");
        assert_eq!(schema["verified"]["default"], true);
    }

    #[test]
    fn every_enum_shape_survives_the_typed_schema() {
        let schema = &params(enums_form())["requestedSchema"]["properties"];
        assert!(schema["untitledSingle"]["enum"].is_array());
        assert!(schema["untitledSingle"].get("oneOf").is_none());
        assert_eq!(schema["titledSingle"]["oneOf"][0]["title"], "First Option");
        assert_eq!(schema["legacyEnum"]["enumNames"][2], "Option Three");
        assert_eq!(schema["untitledMulti"]["items"]["enum"][1], "option2");
        assert_eq!(
            schema["titledMulti"]["items"]["anyOf"][1]["const"],
            "value2"
        );
    }

    #[test]
    fn media_payloads_are_valid_base64_of_the_right_format() {
        use base64_check::decode;
        assert!(decode(PNG_BASE64).starts_with(b"\x89PNG"));
        assert!(decode(WAV_BASE64).starts_with(b"RIFF"));
    }

    /// A tiny decoder so the test needs no base64 crate.
    mod base64_check {
        pub fn decode(text: &str) -> Vec<u8> {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut bits = 0u32;
            let mut count = 0;
            let mut out = Vec::new();
            for byte in text.bytes().filter(|b| *b != b'=') {
                let value = ALPHABET
                    .iter()
                    .position(|c| *c == byte)
                    .expect("base64 char");
                bits = (bits << 6) | value as u32;
                count += 6;
                if count >= 8 {
                    count -= 8;
                    out.push((bits >> count) as u8);
                }
            }
            out
        }
    }
}
