//! What went over the wire between the console and one server: each HTTP exchange (method,
//! status, the MCP headers with credentials redacted, the JSON-RPC bodies exactly as sent and
//! received, each SSE event as it arrived), kept per connection in a bounded log, and the
//! selection of the exchanges that belong to one logical call.
//!
//! The recording happens in [`client::WireClient`], the HTTP client every connection's rmcp
//! transport sends through, so the protocol pane shows bytes, not a reconstruction from rmcp's
//! typed messages.

pub(crate) mod client;
mod redact;
mod sse_body;
pub(crate) mod streams;

use std::{
    collections::{HashSet, VecDeque},
    sync::{Mutex, PoisonError},
    time::{Instant, SystemTime},
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bytes of one body or event the log keeps; the rest is counted, not kept.
const MAX_KEPT_BODY: usize = 256 * 1024;
/// Bytes of bodies a connection's log keeps before it forgets its oldest exchanges.
const MAX_KEPT_BYTES: usize = 8 * 1024 * 1024;
/// Exchanges a connection's log keeps at most.
const MAX_EXCHANGES: usize = 512;
/// Events of one stream kept at most (a standalone GET stream can run for hours).
const MAX_EVENTS: usize = 256;

/// One HTTP request and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpExchange {
    /// `POST`, `GET` or `DELETE`.
    pub method: String,
    pub url: String,
    /// When the request left, RFC 3339.
    pub time: String,
    /// Milliseconds from the first exchange of the call this one is shown with.
    pub at_ms: f64,
    pub request_headers: Vec<(String, String)>,
    /// The JSON-RPC message as sent, byte for byte (a POST).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<Body>,
    /// Absent while the response has not arrived, or when none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Milliseconds until the response's headers arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_headers: Vec<(String, String)>,
    /// A JSON body, or the diagnostic text of a failed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<Body>,
    /// The events of an SSE response, in arrival order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<SseEvent>,
    /// Events dropped from the front of a long stream.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub events_dropped: usize,
    /// Why no response (or no complete one) arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    began: Option<Instant>,
    #[serde(skip)]
    seq: u64,
    #[serde(skip)]
    sent: Sent,
}

/// What a POST carried, read once when it was recorded, for finding a call's exchanges.
#[derive(Debug, Clone, Default, PartialEq)]
enum Sent {
    #[default]
    Nothing,
    /// A request, by id, with its method.
    Request(Value, String),
    /// `notifications/cancelled` of the request with this id.
    Cancel(Value),
    /// An answer to the server's request with this id.
    Answer(Value),
}

impl Sent {
    fn read(body: Option<&[u8]>) -> Self {
        let Some(message) = body.and_then(|b| serde_json::from_slice::<Value>(b).ok()) else {
            return Self::Nothing;
        };
        match (message.get("method"), message.get("id")) {
            (Some(method), Some(id)) => {
                Self::Request(id.clone(), method.as_str().unwrap_or("").to_string())
            }
            (Some(method), None) if method == "notifications/cancelled" => {
                Self::Cancel(message["params"]["requestId"].clone())
            }
            (None, Some(id)) => Self::Answer(id.clone()),
            _ => Self::Nothing,
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A body as it crossed the wire; past [`MAX_KEPT_BODY`] only its length is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Body {
    pub text: String,
    /// Bytes on the wire; more than `text` holds when the body was cut.
    pub bytes: usize,
}

impl Body {
    fn new(bytes: &[u8]) -> Self {
        let kept = &bytes[..bytes.len().min(MAX_KEPT_BODY)];
        Self {
            text: String::from_utf8_lossy(kept).into_owned(),
            bytes: bytes.len(),
        }
    }

    pub fn is_cut(&self) -> bool {
        self.bytes > self.text.len()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SseEvent {
    /// Milliseconds after the request left.
    pub after_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<u64>,
    /// The event's data: one JSON-RPC message, or nothing (a priming event).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Body>,
}

impl HttpExchange {
    fn kept_bytes(&self) -> usize {
        let body = |b: &Option<Body>| b.as_ref().map_or(0, |b| b.text.len());
        body(&self.request_body)
            + body(&self.response_body)
            + self.events.iter().map(|e| body(&e.data)).sum::<usize>()
    }

    /// The messages that came back: the JSON body or each event's data.
    fn received(&self) -> impl Iterator<Item = Value> + '_ {
        let body = self.response_body.iter();
        let events = self.events.iter().filter_map(|e| e.data.as_ref());
        body.chain(events)
            .filter_map(|b| serde_json::from_str::<Value>(&b.text).ok())
    }
}

/// The exchanges of one connection, oldest first, bounded in count and bytes.
#[derive(Default)]
pub(crate) struct WireLog {
    book: Mutex<Book>,
}

#[derive(Default)]
struct Book {
    next: u64,
    exchanges: VecDeque<HttpExchange>,
    kept_bytes: usize,
}

impl WireLog {
    /// Records a request about to leave; returns its handle for what comes back.
    pub fn begin(
        &self,
        method: &str,
        url: &str,
        request_headers: Vec<(String, String)>,
        body: Option<&[u8]>,
    ) -> u64 {
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        book.next += 1;
        let exchange = HttpExchange {
            method: method.to_string(),
            url: url.to_string(),
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            at_ms: 0.0,
            request_headers,
            request_body: body.map(Body::new),
            status: None,
            elapsed_ms: None,
            response_headers: Vec::new(),
            response_body: None,
            events: Vec::new(),
            events_dropped: 0,
            error: None,
            began: Some(Instant::now()),
            seq: book.next,
            sent: Sent::read(body),
        };
        book.kept_bytes += exchange.kept_bytes();
        book.exchanges.push_back(exchange);
        let seq = book.next;
        book.trim();
        seq
    }

    /// Changes the exchange `seq` if the log still holds it.
    fn update(&self, seq: u64, change: impl FnOnce(&mut HttpExchange)) {
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        // Exchanges are in `seq` order, so the one wanted is found by bisection.
        let Ok(index) = book.exchanges.binary_search_by_key(&seq, |e| e.seq) else {
            return;
        };
        let before = book.exchanges[index].kept_bytes();
        change(&mut book.exchanges[index]);
        let after = book.exchanges[index].kept_bytes();
        book.kept_bytes = (book.kept_bytes + after).saturating_sub(before);
        book.trim();
    }

    pub fn responded(&self, seq: u64, status: u16, headers: Vec<(String, String)>) {
        self.update(seq, |exchange| {
            exchange.status = Some(status);
            exchange.elapsed_ms = exchange.began.map(|t| millis(t.elapsed()));
            exchange.response_headers = headers;
        });
    }

    pub fn body(&self, seq: u64, bytes: &[u8]) {
        self.update(seq, |exchange| {
            exchange.response_body = Some(Body::new(bytes))
        });
    }

    pub fn event(&self, seq: u64, event: &sse_stream::Sse) {
        self.update(seq, |exchange| {
            if exchange.events.len() == MAX_EVENTS {
                exchange.events.remove(0);
                exchange.events_dropped += 1;
            }
            exchange.events.push(SseEvent {
                after_ms: exchange.began.map_or(0.0, |t| millis(t.elapsed())),
                id: event.id.clone(),
                event: event.event.clone(),
                retry: event.retry,
                data: event.data.as_deref().map(|d| Body::new(d.as_bytes())),
            });
        });
    }

    /// The handle the next recorded exchange will get.
    pub fn next_seq(&self) -> u64 {
        self.book
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next
            + 1
    }

    /// The results of the `method` requests recorded from exchange `from` on, as the server
    /// sent them (before rmcp read, and possibly filtered, them).
    pub fn results_since(&self, from: u64, method: &str) -> Vec<Value> {
        let book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        book.exchanges
            .iter()
            .filter(|e| e.seq >= from)
            .filter_map(|e| match &e.sent {
                Sent::Request(id, sent) if sent == method => Some((e, id)),
                _ => None,
            })
            .flat_map(|(e, id)| {
                e.received()
                    .filter(|m| m["id"] == *id)
                    .filter_map(|m| m.get("result").cloned())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Why the newest exchange that failed in the last `within` failed: what a transport
    /// error that only says "connection closed" was about.
    pub fn recent_failure(&self, within: std::time::Duration) -> Option<String> {
        let book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        book.exchanges
            .iter()
            .rev()
            .take_while(|e| e.began.is_some_and(|t| t.elapsed() <= within))
            .find_map(|e| e.error.clone())
    }

    pub fn failed(&self, seq: u64, error: String) {
        self.update(seq, |exchange| exchange.error = Some(error));
    }

    /// The exchanges of the call whose requests had `ids` (one per round, in order): each
    /// request's POST with its response stream, the client's answers to questions the server
    /// asked on that stream, and cancellations of those requests. Grouped by round.
    pub fn rounds(&self, ids: &[Value]) -> Vec<Round> {
        let book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let mut rounds: Vec<Round> = ids
            .iter()
            .map(|id| Round {
                request_id: id.clone(),
                http: Vec::new(),
            })
            .collect();
        // Requests the server sent on a round's stream, whose answers belong to that round.
        let mut asked: Vec<HashSet<String>> = vec![HashSet::new(); ids.len()];
        let origin = book
            .exchanges
            .iter()
            .find(|e| matches!(&e.sent, Sent::Request(id, _) if ids.contains(id)))
            .and_then(|e| e.began);
        for exchange in &book.exchanges {
            let round = match &exchange.sent {
                Sent::Request(sent, _) | Sent::Cancel(sent) => ids.iter().position(|id| id == sent),
                Sent::Answer(answered) => {
                    let answered = answered.to_string();
                    asked.iter().position(|ids| ids.contains(&answered))
                }
                Sent::Nothing => None,
            };
            let Some(round) = round else {
                continue;
            };
            for message in exchange.received() {
                if message.get("method").is_some() && message.get("id").is_some() {
                    asked[round].insert(message["id"].to_string());
                }
            }
            let mut shown = exchange.clone();
            if let (Some(origin), Some(began)) = (origin, exchange.began) {
                shown.at_ms = millis(began.saturating_duration_since(origin));
            }
            rounds[round].http.push(shown);
        }
        rounds.retain(|round| !round.http.is_empty());
        rounds
    }
}

impl Book {
    fn trim(&mut self) {
        while self.exchanges.len() > 1
            && (self.exchanges.len() > MAX_EXCHANGES || self.kept_bytes > MAX_KEPT_BYTES)
        {
            if let Some(gone) = self.exchanges.pop_front() {
                self.kept_bytes = self.kept_bytes.saturating_sub(gone.kept_bytes());
            }
        }
    }
}

/// The HTTP exchanges of one request of a call (an `input_required` call has several).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// The JSON-RPC id of the request.
    pub request_id: Value,
    pub http: Vec<HttpExchange>,
}

fn millis(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn post(log: &WireLog, body: Value) -> u64 {
        log.begin(
            "POST",
            "http://h/mcp",
            Vec::new(),
            Some(body.to_string().as_bytes()),
        )
    }

    fn sse(data: &Value) -> sse_stream::Sse {
        sse_stream::Sse::default().data(data.to_string())
    }

    #[test]
    fn a_call_gathers_its_stream_its_answers_and_its_cancellation() {
        let log = WireLog::default();
        post(
            &log,
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        );
        let call = post(
            &log,
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {}}),
        );
        log.responded(
            call,
            200,
            vec![("content-type".into(), "text/event-stream".into())],
        );
        log.event(
            call,
            &sse(&json!({"jsonrpc": "2.0", "id": 7, "method": "elicitation/create"})),
        );
        let answer = post(&log, json!({"jsonrpc": "2.0", "id": 7, "result": {}}));
        log.responded(answer, 202, Vec::new());
        post(
            &log,
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                   "params": {"requestId": 2}}),
        );
        post(&log, json!({"jsonrpc": "2.0", "id": 8, "result": {}}));

        let rounds = log.rounds(&[json!(2)]);
        assert_eq!(rounds.len(), 1);
        let methods: Vec<_> = rounds[0]
            .http
            .iter()
            .map(|x| serde_json::from_str::<Value>(&x.request_body.as_ref().unwrap().text).unwrap())
            .map(|m| m.get("method").cloned().unwrap_or(m["id"].clone()))
            .collect();
        assert_eq!(
            methods,
            [
                json!("tools/call"),
                json!(7),
                json!("notifications/cancelled")
            ]
        );
        assert_eq!(rounds[0].http[0].events.len(), 1);
        assert_eq!(rounds[0].http[1].status, Some(202));
    }

    #[test]
    fn bodies_are_kept_exactly_and_cut_past_the_limit() {
        let log = WireLog::default();
        let exact = br#"{"jsonrpc":"2.0", "id":1 ,"method":"x"}"#;
        let seq = log.begin("POST", "u", Vec::new(), Some(exact));
        log.body(seq, &vec![b'a'; MAX_KEPT_BODY + 10]);
        let rounds = log.rounds(&[json!(1)]);
        let kept = &rounds[0].http[0];
        assert_eq!(kept.request_body.as_ref().unwrap().text.as_bytes(), exact);
        let body = kept.response_body.as_ref().unwrap();
        assert!(body.is_cut());
        assert_eq!(body.bytes, MAX_KEPT_BODY + 10);
    }

    #[test]
    fn the_log_forgets_its_oldest_exchanges_past_its_bounds() {
        let log = WireLog::default();
        for id in 0..MAX_EXCHANGES + 5 {
            post(&log, json!({"jsonrpc": "2.0", "id": id, "method": "ping"}));
        }
        assert!(log.rounds(&[json!(0)]).is_empty());
        assert_eq!(log.rounds(&[json!(MAX_EXCHANGES + 4)]).len(), 1);
        let big = vec![b'x'; MAX_KEPT_BODY];
        for _ in 0..(MAX_KEPT_BYTES / MAX_KEPT_BODY) + 2 {
            let seq = post(
                &log,
                json!({"jsonrpc": "2.0", "id": "big", "method": "ping"}),
            );
            log.body(seq, &big);
        }
        let book = log.book.lock().unwrap();
        assert!(book.kept_bytes <= MAX_KEPT_BYTES);
    }
}
