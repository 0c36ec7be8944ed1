//! Tools that return fixed content or emit notifications, plus the diagnostic hooks the suite
//! uses to probe stateless behaviour (missing capabilities, log gating, list changes).

use std::time::Duration;

use rmcp::{
    ErrorData, RoleServer,
    handler::server::wrapper::Parameters,
    model::{
        CallToolResult, ClientCapabilities, ContentBlock, JsonObject, LoggingLevel,
        ProgressNotificationParam, ResourceContents, ResourceUpdatedNotificationParam,
    },
    service::RequestContext,
    tool, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    ConformanceServer,
    fixtures::{CUSTOM_HEADER_SCHEMA, JSON_SCHEMA_2020_12, PNG_BASE64, WAV_BASE64},
    is_modern,
};

/// Pause between the notifications of one call, so clients see them arrive one by one.
const STEP: Duration = Duration::from_millis(50);

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CustomHeaderArgs {
    value: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ResourceUpdateArgs {
    /// The resource whose subscribers hear that it changed.
    uri: String,
}

#[tool_router(router = content_router, vis = "pub(super)")]
impl ConformanceServer {
    #[tool(description = "Returns one text block")]
    async fn test_simple_text(&self) -> String {
        "This is a simple text response for testing.".to_string()
    }

    #[tool(description = "Returns one image block: a 1x1 PNG")]
    async fn test_image_content(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::image(PNG_BASE64, "image/png")])
    }

    #[tool(description = "Returns one audio block: a short silent WAV")]
    async fn test_audio_content(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::audio(WAV_BASE64, "audio/wav")])
    }

    #[tool(description = "Returns one embedded text resource")]
    async fn test_embedded_resource(&self) -> CallToolResult {
        let resource = ResourceContents::text(
            "This is an embedded resource content.",
            "test://embedded-resource",
        )
        .with_mime_type("text/plain");
        CallToolResult::success(vec![ContentBlock::resource(resource)])
    }

    #[tool(description = "Returns a text, an image and an embedded resource block")]
    async fn test_multiple_content_types(&self) -> CallToolResult {
        let resource = ResourceContents::text(
            r#"{"test":"data","value":123}"#,
            "test://mixed-content-resource",
        )
        .with_mime_type("application/json");
        CallToolResult::success(vec![
            ContentBlock::text("Multiple content types test:"),
            ContentBlock::image(PNG_BASE64, "image/png"),
            ContentBlock::resource(resource),
        ])
    }

    #[tool(description = "Always fails as a tool: a result with isError set")]
    async fn test_error_handling(&self) -> CallToolResult {
        CallToolResult::error(vec![ContentBlock::text(
            "This tool intentionally returns an error for testing",
        )])
    }

    #[tool(description = "Sends three info log messages 50 ms apart while it runs")]
    async fn test_tool_with_logging(&self, context: RequestContext<RoleServer>) -> String {
        self.log(&context, LoggingLevel::Info, "Tool execution started")
            .await;
        tokio::time::sleep(STEP).await;
        self.log(&context, LoggingLevel::Info, "Tool processing data")
            .await;
        tokio::time::sleep(STEP).await;
        self.log(&context, LoggingLevel::Info, "Tool execution completed")
            .await;
        "Logging tool finished after three log messages".to_string()
    }

    #[tool(description = "Logs one message, only when the request asked for a log level")]
    async fn test_logging_tool(&self, context: RequestContext<RoleServer>) -> String {
        self.log(&context, LoggingLevel::Info, "logLevel was requested")
            .await;
        "Logging tool completed".to_string()
    }

    #[tool(description = "Reports progress 0, 50 and 100 of 100 when given a progress token")]
    async fn test_tool_with_progress(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<String, ErrorData> {
        let token = context.meta.get_progress_token();
        for (step, progress) in [0.0, 50.0, 100.0].into_iter().enumerate() {
            if step > 0 {
                tokio::select! {
                    _ = tokio::time::sleep(STEP) => {}
                    _ = context.ct.cancelled() => {
                        return Err(ErrorData::internal_error("cancelled", None));
                    }
                }
            }
            if let Some(token) = &token {
                let update =
                    ProgressNotificationParam::new(token.clone(), progress).with_total(100.0);
                if let Err(error) = context.peer.notify_progress(update).await {
                    tracing::debug!(%error, "progress notification not delivered");
                }
            }
        }
        Ok("Progress tool finished at 100 of 100".to_string())
    }

    /// SEP-1699 wants this call's SSE stream closed mid-call so the client resumes it with
    /// Last-Event-ID. rmcp keeps the stream and its request id inside the session manager, out
    /// of a handler's reach, so the tool answers on the open stream; the suite records that as
    /// information, not as a failure.
    #[tool(description = "Answers after 100 ms; the suite's SSE polling probe calls it")]
    async fn test_reconnection(&self) -> String {
        tokio::time::sleep(Duration::from_millis(100)).await;
        "Reconnection test completed".to_string()
    }

    #[tool(
        description = "Accepts arguments described with JSON Schema 2020-12 keywords",
        input_schema = JSON_SCHEMA_2020_12.clone()
    )]
    async fn json_schema_2020_12_tool(&self, arguments: JsonObject) -> String {
        format!("Received {} argument(s)", arguments.len())
    }

    #[tool(
        description = "Echoes `value`, which clients also send as the Mcp-Param-Value header",
        input_schema = CUSTOM_HEADER_SCHEMA.clone()
    )]
    async fn test_custom_header(&self, Parameters(args): Parameters<CustomHeaderArgs>) -> String {
        args.value
    }

    #[tool(description = "Needs the client's sampling capability; refuses with -32021 without it")]
    async fn test_missing_capability(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<String, ErrorData> {
        if context
            .client_capabilities()
            .and_then(|caps| caps.sampling)
            .is_none()
        {
            return Err(ErrorData::missing_required_client_capability(
                ClientCapabilities::builder().enable_sampling().build(),
            ));
        }
        Ok("The client declared sampling".to_string())
    }

    #[tool(description = "Notifies subscribers that the tool list changed")]
    async fn test_trigger_tool_change(&self, context: RequestContext<RoleServer>) -> String {
        let mut delivered = 0;
        for sink in self.shared.listeners() {
            delivered += usize::from(sink.notify_tool_list_changed().await.is_ok());
        }
        if !is_modern(&context) && context.peer.notify_tool_list_changed().await.is_ok() {
            delivered += 1;
        }
        format!("Tool list change sent to {delivered} subscriber(s)")
    }

    #[tool(description = "Tells every subscriber of `uri` (either era) that the resource changed")]
    async fn test_trigger_resource_update(
        &self,
        Parameters(args): Parameters<ResourceUpdateArgs>,
    ) -> String {
        let mut delivered = 0;
        for sink in self.shared.listeners() {
            let sent = sink.notify_resource_updated(args.uri.clone()).await;
            delivered += usize::from(sent.is_ok());
        }
        for peer in self.shared.subscribers(&args.uri) {
            let news = ResourceUpdatedNotificationParam::new(args.uri.clone());
            delivered += usize::from(peer.notify_resource_updated(news).await.is_ok());
        }
        format!("Update of {} sent to {delivered} subscriber(s)", args.uri)
    }

    #[tool(description = "Notifies subscribers that the prompt list changed")]
    async fn test_trigger_prompt_change(&self, context: RequestContext<RoleServer>) -> String {
        let mut delivered = 0;
        for sink in self.shared.listeners() {
            delivered += usize::from(sink.notify_prompt_list_changed().await.is_ok());
        }
        if !is_modern(&context) && context.peer.notify_prompt_list_changed().await.is_ok() {
            delivered += 1;
        }
        format!("Prompt list change sent to {delivered} subscriber(s)")
    }
}
