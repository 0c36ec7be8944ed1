//! The conformance profile: the tools, resources and prompts that the official MCP conformance
//! suite exercises. Served only with `--profile conformance`; the default profile stays the
//! clean ops toolbox.

use std::sync::Arc;

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    handler::server::router::tool::ToolRouter,
    model::{
        CallToolRequestParams, CallToolResponse, Implementation, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_handler, tool_router,
};

use super::instrumented_call;
use crate::Replica;

#[derive(Clone)]
pub struct ConformanceServer {
    replica: Arc<Replica>,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl ConformanceServer {
    pub fn new(replica: Arc<Replica>) -> Self {
        Self { replica, tool_router: Self::tool_router() }
    }

    #[tool(description = "Returns a simple text content block")]
    async fn test_simple_text(&self) -> String {
        "This is a simple text response for testing.".to_string()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for ConformanceServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("mcpfleet-server-conformance", env!("CARGO_PKG_VERSION")))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        instrumented_call(&self.replica, request, context, |request, context| {
            let call = rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
            self.tool_router.call(call)
        })
        .await
    }
}
