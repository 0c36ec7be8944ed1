//! W3C trace context for calls: every `tools/call` carries a fresh `traceparent` (in the
//! request's `_meta`, SEP-414, and as the POST's `traceparent` header), so the server's log
//! line for the call can be found by its trace id. One trace per call: its retries and
//! `input_required` rounds share it, and each call of a fan-out has its own.

use std::fmt;

/// The HTTP header and `_meta` key.
pub const TRACEPARENT: &str = "traceparent";

/// A version-00 `traceparent`: `00-{trace id}-{parent id}-{flags}`, lowercase hex. (Reading
/// one is the server's business: `mcpfleet_server::logging::trace_id`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traceparent {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
}

impl Traceparent {
    /// A new sampled trace with random ids; the spec forbids all-zero ids, so those are drawn
    /// again.
    pub fn fresh() -> Self {
        let mut trace_id = [0u8; 16];
        while trace_id == [0; 16] {
            trace_id = rand::random();
        }
        let mut parent_id = [0u8; 8];
        while parent_id == [0; 8] {
            parent_id = rand::random();
        }
        Self {
            trace_id,
            parent_id,
        }
    }

    /// The 32 hex digits that name the trace, as logs and `--json` show it.
    pub fn trace_id(&self) -> String {
        hex::encode(self.trace_id)
    }
}

impl fmt::Display for Traceparent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Flags 01: sampled, so a tracing backend in front of the server keeps the trace.
        write!(
            f,
            "00-{}-{}-01",
            hex::encode(self.trace_id),
            hex::encode(self.parent_id)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_traceparent_is_version_00_lowercase_hex_and_sampled() {
        let first = Traceparent::fresh();
        let text = first.to_string();
        let parts: Vec<&str> = text.split('-').collect();
        assert_eq!(parts.len(), 4, "{text}");
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1].len(), 32);
        assert_eq!(parts[2].len(), 16);
        assert_eq!(parts[3], "01");
        assert!(
            text.bytes()
                .all(|b| b == b'-' || (b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        );
        assert_eq!(first.trace_id(), parts[1]);
        assert_ne!(parts[1], "0".repeat(32));
        assert_ne!(parts[2], "0".repeat(16));
        assert_ne!(Traceparent::fresh().trace_id(), first.trace_id());
    }
}
