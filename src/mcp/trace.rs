//! W3C trace context for calls: every `tools/call` carries a fresh `traceparent` (in the
//! request's `_meta`, SEP-414, and as the POST's `traceparent` header), so the server's log
//! line for the call can be found by its trace id. One trace per call: its retries and
//! `input_required` rounds share it, and each call of a fan-out has its own.

use std::fmt;

/// The HTTP header and `_meta` key.
pub const TRACEPARENT: &str = "traceparent";

/// A version-00 `traceparent`: `00-{trace id}-{parent id}-{flags}`, lowercase hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traceparent {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
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
            flags: 0x01,
        }
    }

    /// Reads a version-00 value; anything else (another version, uppercase hex, all-zero ids,
    /// wrong lengths) is `None`, as the spec asks a receiver to treat it.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('-');
        let (version, trace, parent, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || version != "00" {
            return None;
        }
        let lower_hex = |part: &str, len: usize| {
            part.len() == len && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if !(lower_hex(trace, 32) && lower_hex(parent, 16) && lower_hex(flags, 2)) {
            return None;
        }
        let mut trace_id = [0u8; 16];
        let mut parent_id = [0u8; 8];
        let mut flag = [0u8; 1];
        hex::decode_to_slice(trace, &mut trace_id).ok()?;
        hex::decode_to_slice(parent, &mut parent_id).ok()?;
        hex::decode_to_slice(flags, &mut flag).ok()?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            parent_id,
            flags: flag[0],
        })
    }

    /// The 32 hex digits that name the trace, as logs and `--json` show it.
    pub fn trace_id(&self) -> String {
        hex::encode(self.trace_id)
    }
}

impl fmt::Display for Traceparent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            hex::encode(self.trace_id),
            hex::encode(self.parent_id),
            self.flags
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
                .all(|b| b == b'-' || b.is_ascii_digit() || b.is_ascii_lowercase())
        );
        assert_eq!(first.trace_id(), parts[1]);
        assert_eq!(Traceparent::parse(&text), Some(first));
        assert_ne!(Traceparent::fresh().trace_id(), first.trace_id());
    }

    #[test]
    fn parse_takes_the_spec_example_and_refuses_what_the_spec_refuses() {
        let example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = Traceparent::parse(example).unwrap();
        assert_eq!(parsed.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parsed.to_string(), example);
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902g7-01",
        ] {
            assert_eq!(Traceparent::parse(bad), None, "{bad}");
        }
    }
}
