//! The HTTP client of an endpoint behind IAM: every request rmcp sends (each POST, the SSE GET
//! and its reconnects, the session DELETE) is signed with SigV4 over exactly the bytes that go
//! out, then handed to the wire client, which does the rest as for any endpoint.

use std::{collections::HashMap, sync::Arc};

use futures_util::stream::BoxStream;
use reqwest::header::{HeaderName, HeaderValue};
use rmcp::transport::streamable_http_client::SseError;
use rmcp::{
    model::ClientJsonRpcMessage,
    transport::streamable_http_client::{
        StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
        StreamableHttpResponseLimits,
    },
};
use sse_stream::Sse;

use super::wire::client::WireClient;
use crate::fleet::SigV4;

#[derive(Clone)]
pub(crate) struct SigningClient {
    pub http: WireClient,
    pub target: SigV4,
}

type Headers = HashMap<HeaderName, HeaderValue>;

impl SigningClient {
    /// `headers` plus the signature of a `method` request to `uri` carrying `body`.
    async fn signed(
        &self,
        method: &str,
        uri: &str,
        body: &[u8],
        mut headers: Headers,
    ) -> Result<Headers, StreamableHttpError<reqwest::Error>> {
        let added = crate::sigv4::sign_request(&self.target, method, uri, body)
            .await
            .map_err(|error| {
                StreamableHttpError::UnexpectedServerResponse(error.to_string().into())
            })?;
        for (name, value) in added {
            if let (Ok(name), Ok(mut value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                value.set_sensitive(true);
                headers.insert(name, value);
            }
        }
        Ok(headers)
    }
}

impl StreamableHttpClient for SigningClient {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: Headers,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        _auth_header: Option<String>,
        custom_headers: Headers,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        // The bytes the wire client sends: serde_json's, of the same message.
        let body = serde_json::to_vec(&message).map_err(StreamableHttpError::Deserialize)?;
        let headers = self.signed("POST", &uri, &body, custom_headers).await?;
        self.http
            .post_message_with_response_limits(uri, message, session_id, None, headers, limits)
            .await
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        _auth_header: Option<String>,
        custom_headers: Headers,
    ) -> Result<(), StreamableHttpError<Self::Error>> {
        let headers = self.signed("DELETE", &uri, &[], custom_headers).await?;
        self.http
            .delete_session(uri, session_id, None, headers)
            .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: Headers,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<Self::Error>> {
        self.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default().max_sse_event_size,
        )
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        _auth_header: Option<String>,
        custom_headers: Headers,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<Self::Error>> {
        let headers = self.signed("GET", &uri, &[], custom_headers).await?;
        self.http
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                None,
                headers,
                max_sse_event_size,
            )
            .await
    }
}
