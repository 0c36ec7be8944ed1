//! The load client: one MCP session per worker over its own HTTP connection, the
//! Streamable HTTP handshake, then `tools/call echo` in a closed loop. The same code
//! drives every server in the table.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use hdrhistogram::Histogram;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};

const PROTOCOL_VERSION: &str = "2025-11-25";
const MESSAGE: &str = "hello from the mcp_echo bench";
/// Per-request limit, so a stuck server cannot hold a worker past the run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Hard cap on calls per worker, on top of the time limit.
const MAX_CALLS_PER_WORKER: u64 = 5_000_000;

pub struct Session {
    http: reqwest::Client,
    url: String,
    session_id: Option<String>,
    protocol: String,
    next_id: u64,
}

impl Session {
    /// `initialize`, remember `Mcp-Session-Id` and the negotiated version, then
    /// `notifications/initialized`.
    pub async fn connect(url: &str) -> Result<Session, String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(1)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        let mut s = Session {
            http,
            url: url.to_owned(),
            session_id: None,
            protocol: PROTOCOL_VERSION.to_owned(),
            next_id: 1,
        };
        let init = json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "mcp-echo-bench", "version": "0.1.0"}
            }
        });
        let (headers, body) = s.post(init.to_string(), false).await?;
        s.session_id = headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let result = response_result(&headers, &body, 0)?;
        if let Some(v) = result.get("protocolVersion").and_then(Value::as_str) {
            s.protocol = v.to_owned();
        }
        let note = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        s.post(note.to_owned(), true).await?;
        Ok(s)
    }

    /// One `tools/call echo`; Ok only for a 2xx carrying a non-error result that
    /// contains the message.
    pub async fn call_echo(&mut self) -> Result<(), String> {
        let id = self.next_id;
        self.next_id += 1;
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"{MESSAGE}"}}}}}}"#
        );
        let (headers, bytes) = self.post(body, true).await?;
        let result = response_result(&headers, &bytes, id)?;
        if result.get("isError").and_then(Value::as_bool) == Some(true) {
            return Err(format!("tool error: {}", clip(&result.to_string())));
        }
        let echoed = result
            .pointer("/content/0/text")
            .and_then(Value::as_str)
            .is_some_and(|t| t.contains(MESSAGE));
        if !echoed {
            return Err(format!("unexpected result: {}", clip(&result.to_string())));
        }
        Ok(())
    }

    /// Best-effort session teardown (DELETE); servers without sessions skip it.
    pub async fn close(self) {
        if let Some(sid) = &self.session_id {
            let _ = self
                .http
                .delete(&self.url)
                .header("mcp-session-id", sid)
                .header("mcp-protocol-version", &self.protocol)
                .send()
                .await;
        }
    }

    async fn post(&self, body: String, after_init: bool) -> Result<(HeaderMap, Bytes), String> {
        let mut req = self
            .http
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json, text/event-stream")
            .body(body);
        if after_init {
            req = req.header("mcp-protocol-version", &self.protocol);
        }
        if let Some(sid) = &self.session_id {
            req = req.header("mcp-session-id", sid);
        }
        let resp = req.send().await.map_err(|e| format!("send: {e}"))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| format!("read body: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "HTTP {status}: {}",
                clip(&String::from_utf8_lossy(&bytes))
            ));
        }
        Ok((headers, bytes))
    }
}

/// Find the JSON-RPC response with `id` in a JSON or SSE body and return its
/// `result`, or the JSON-RPC error as Err.
fn response_result(headers: &HeaderMap, body: &[u8], id: u64) -> Result<Value, String> {
    let sse = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    let message = if sse {
        let text = std::str::from_utf8(body).map_err(|_| "SSE body is not UTF-8".to_owned())?;
        sse_events(text)
            .filter_map(|data| serde_json::from_str::<Value>(&data).ok())
            .find(|v| v.get("id").and_then(Value::as_u64) == Some(id))
            .ok_or_else(|| format!("no response with id {id} in SSE body: {}", clip(text)))?
    } else {
        serde_json::from_slice::<Value>(body)
            .map_err(|e| format!("bad JSON ({e}): {}", clip(&String::from_utf8_lossy(body))))?
    };
    if let Some(err) = message.get("error") {
        return Err(format!("JSON-RPC error: {err}"));
    }
    message
        .get("result")
        .cloned()
        .ok_or_else(|| format!("no result: {}", clip(&message.to_string())))
}

/// The `data` of each SSE event (multi-line data joined with '\n'); events without
/// data, such as priming events, yield an empty string.
fn sse_events(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split("\n\n")
        .flat_map(|block| block.split("\r\n\r\n"))
        .map(|block| {
            let mut data = String::new();
            for line in block.lines() {
                if let Some(rest) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(rest.strip_prefix(' ').unwrap_or(rest));
                }
            }
            data
        })
}

fn clip(s: &str) -> String {
    if s.len() <= 300 {
        return s.to_owned();
    }
    let mut end = 300;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

pub struct RunResult {
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Latency of successful measured calls, microseconds.
    pub hist: Histogram<u64>,
    pub measured: Duration,
}

impl RunResult {
    pub fn calls_per_sec(&self) -> f64 {
        self.ok as f64 / self.measured.as_secs_f64()
    }
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }
    pub fn error_rate(&self) -> f64 {
        let total = self.ok + self.errors;
        if total == 0 {
            1.0
        } else {
            self.errors as f64 / total as f64
        }
    }
}

fn new_hist() -> Histogram<u64> {
    // 1 µs .. 60 s, 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

/// Open `conc` sessions, then run all workers for `warmup + measure`. Only calls
/// that start after the warm-up and finish inside the window are counted.
pub async fn run(
    url: &str,
    conc: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<RunResult, String> {
    let mut sessions = Vec::with_capacity(conc);
    for i in 0..conc {
        sessions.push(
            Session::connect(url)
                .await
                .map_err(|e| format!("handshake {i}: {e}"))?,
        );
    }
    let start = Instant::now();
    let window_start = start + warmup;
    let window_end = window_start + measure;
    let workers: Vec<_> = sessions
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let mut hist = new_hist();
                let (mut ok, mut errors, mut first_error) = (0u64, 0u64, None);
                for _ in 0..MAX_CALLS_PER_WORKER {
                    let t0 = Instant::now();
                    if t0 >= window_end {
                        break;
                    }
                    let outcome = s.call_echo().await;
                    let t1 = Instant::now();
                    if t0 < window_start || t1 > window_end {
                        continue;
                    }
                    match outcome {
                        Ok(()) => {
                            ok += 1;
                            hist.saturating_record(t1.duration_since(t0).as_micros() as u64);
                        }
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
                s.close().await;
                (ok, errors, first_error, hist)
            })
        })
        .collect();
    let mut total = RunResult {
        ok: 0,
        errors: 0,
        first_error: None,
        hist: new_hist(),
        measured: measure,
    };
    for w in workers {
        let (ok, errors, first_error, hist) =
            w.await.map_err(|e| format!("worker panicked: {e}"))?;
        total.ok += ok;
        total.errors += errors;
        if total.first_error.is_none() {
            total.first_error = first_error;
        }
        total
            .hist
            .add(&hist)
            .map_err(|e| format!("merge histogram: {e}"))?;
    }
    Ok(total)
}
