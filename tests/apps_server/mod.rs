//! A small MCP server of the tests' own, on loopback, with an MCP App (SEP-1865): the tool
//! `show_chart` names its UI in `_meta.ui.resourceUri`, and the resource `ui://charts/chart.html`
//! is an HTML document (`text/html;profile=mcp-app`) whose `_meta.ui` declares a content
//! security policy — one domain with an escape sequence in it, as a hostile server might send —
//! and the camera permission. `plain_tool` has no UI.

#![allow(dead_code)]

use std::net::SocketAddr;

use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListResourcesResult,
        ListToolsResult, MetaObject, PaginatedRequestParams, ReadResourceRequestParams,
        ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ServerCapabilities,
        ServerConfig, Tool,
    },
    service::RequestContext,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub const UI_URI: &str = "ui://charts/chart.html";
pub const HTML: &str = "<!doctype html><html><body><h1>chart</h1></body></html>\n";

fn object(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

#[derive(Clone)]
struct Apps;

impl ServerHandler for Apps {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema = std::sync::Arc::new(object(json!({"type": "object"})));
        let mut chart = Tool::new("show_chart", "Draw a chart.", schema.clone());
        chart.meta = Some(MetaObject(object(json!({"ui": {"resourceUri": UI_URI}}))));
        let plain = Tool::new("plain_tool", "No UI here.", schema);
        Ok(ListToolsResult::with_all_items(vec![chart, plain]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        Ok(
            CallToolResult::success(vec![ContentBlock::text(format!("{} done", request.name))])
                .into(),
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(vec![Resource::new(
            UI_URI, "chart",
        )]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != UI_URI {
            return Err(ErrorData::resource_not_found(request.uri, None));
        }
        let contents = ResourceContents::TextResourceContents {
            uri: UI_URI.into(),
            mime_type: Some("text/html;profile=mcp-app".into()),
            text: HTML.into(),
            meta: Some(MetaObject(object(json!({"ui": {
                "csp": {
                    "connectDomains": ["https://api.charts.example"],
                    "resourceDomains": ["https://cdn.charts.example", "https://evil\u{1b}[2J.example"],
                },
                "permissions": {"camera": {}},
                "prefersBorder": true,
            }})))),
        };
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}

/// The running server; dropping it stops it.
pub struct AppsServer {
    pub url: String,
    stop: CancellationToken,
}

impl AppsServer {
    pub async fn start() -> Self {
        let stop = CancellationToken::new();
        let service: StreamableHttpService<Apps, LocalSessionManager> = StreamableHttpService::new(
            || Ok(Apps),
            Default::default(),
            StreamableHttpServerConfig::default().with_cancellation_token(stop.child_token()),
        );
        let router = axum::Router::new().nest_service("/mcp", service);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let stopped = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(stopped.cancelled_owned())
                .await;
        });
        Self {
            url: format!("http://{address}/mcp"),
            stop,
        }
    }
}

impl Drop for AppsServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
