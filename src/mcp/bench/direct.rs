//! A worker's own HTTP/1.1 connection to a plain-HTTP endpoint, as load generators hold them:
//! no pool to check out of, no per-request URL parsing or proxy matching, so the client's
//! cost per call stays below the server's. Reopened after it breaks; HTTPS and signed
//! endpoints go through the pooled HTTP client instead.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{
    Request, Response,
    body::Incoming,
    client::conn::http1::{self, SendRequest},
    header::{HOST, HeaderMap, HeaderValue},
};
use hyper_util::rt::TokioIo;

pub struct Direct {
    /// `host:port` to connect to.
    authority: String,
    /// The request target: the URL's path and query.
    target: hyper::Uri,
    host: HeaderValue,
    sender: Option<SendRequest<Full<Bytes>>>,
    timeout: Duration,
}

/// A call that got no answer: timed out, or the connection failed; `unsent` when the request
/// certainly never reached the server (the connection could not be opened, or had closed
/// before the request went out), so the replica did not run it.
pub struct Lost {
    pub timed_out: bool,
    pub unsent: bool,
    pub why: String,
}

impl Lost {
    fn unsent(why: String) -> Self {
        Self {
            timed_out: false,
            unsent: true,
            why,
        }
    }
}

/// A response read to its end.
pub struct Answered {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Direct {
    /// None unless `url` is plain HTTP with a host.
    pub fn for_url(url: &reqwest::Url, timeout: Duration) -> Option<Self> {
        if url.scheme() != "http" {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        // An IPv6 host comes bracketed, as an authority wants it.
        let authority = format!("{host}:{port}");
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        Some(Self {
            authority,
            target: target.parse().ok()?,
            host: HeaderValue::from_str(&host_header).ok()?,
            sender: None,
            timeout,
        })
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        if self.sender.as_ref().is_some_and(|s| !s.is_closed()) {
            return Ok(self.sender.as_mut().expect("checked"));
        }
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(|error| format!("connecting to {}: {error}", self.authority))?;
        // Small requests answered at once: Nagle's delay would be measured as latency.
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| format!("HTTP handshake with {}: {error}", self.authority))?;
        tokio::spawn(async move {
            // Its end is seen by the sender; the error says nothing more.
            let _ = connection.await;
        });
        Ok(self.sender.insert(sender))
    }

    /// One POST of `body` with `headers`, read to its end within the timeout; the connection
    /// is reopened for the next call after a failure.
    pub async fn post(&mut self, headers: &HeaderMap, body: String) -> Result<Answered, Lost> {
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.exchange(headers, body)).await {
            Ok(Ok(answered)) => Ok(answered),
            Ok(Err(lost)) => {
                self.sender = None;
                Err(lost)
            }
            Err(_) => {
                self.sender = None;
                Err(Lost {
                    timed_out: true,
                    unsent: false,
                    why: format!("timed out after {}", humantime::format_duration(timeout)),
                })
            }
        }
    }

    async fn exchange(&mut self, headers: &HeaderMap, body: String) -> Result<Answered, Lost> {
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = hyper::Method::POST;
        *request.uri_mut() = self.target.clone();
        let mut all = headers.clone();
        all.insert(HOST, self.host.clone());
        *request.headers_mut() = all;
        let sender = self.connect().await.map_err(Lost::unsent)?;
        sender
            .ready()
            .await
            .map_err(|error| Lost::unsent(format!("connection: {error}")))?;
        let response: Response<Incoming> =
            sender.send_request(request).await.map_err(|error| Lost {
                timed_out: false,
                // Canceled: the connection closed before the request was written.
                unsent: error.is_canceled(),
                why: format!("connection: {error}"),
            })?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|error| Lost {
                timed_out: false,
                unsent: false,
                why: format!("reading the answer: {error}"),
            })?
            .to_bytes();
        Ok(Answered {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }
}
