//! Integrity-protected `requestState` for multi round-trip tool calls (SEP-2322).
//!
//! The client echoes `requestState` back verbatim, so it is untrusted input. Each value here is
//! a compact JWS (HS256) over the tool name, the round reached and an expiry, signed with a key
//! that never leaves this process: a forged, edited, expired or cross-tool value is refused with
//! -32602. The key is random per replica, so a state minted by one replica is refused by another;
//! that is the price of keeping the secret out of configuration for a test-suite profile.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rmcp::ErrorData;
use serde::{Deserialize, Serialize};

/// How long a client may take between rounds before the state expires.
const STATE_TTL: Duration = Duration::from_secs(10 * 60);

#[derive(Serialize, Deserialize)]
struct Claims {
    /// The tool the state belongs to.
    sub: String,
    /// Unix seconds after which the state is refused.
    exp: u64,
    /// How many rounds of this call have been answered.
    round: u32,
}

pub struct StateSealer {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl StateSealer {
    pub fn random() -> Self {
        let key: [u8; 32] = rand::random();
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
        }
    }

    /// Seals "`tool` has completed `round` rounds".
    pub fn seal(&self, tool: &str, round: u32) -> Result<String, ErrorData> {
        let exp = jsonwebtoken::get_current_timestamp() + STATE_TTL.as_secs();
        let claims = Claims {
            sub: tool.to_string(),
            exp,
            round,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|error| ErrorData::internal_error(format!("cannot seal state: {error}"), None))
    }

    /// Returns the round sealed into `state`, or -32602 when the value fails verification.
    pub fn open(&self, tool: &str, state: &str) -> Result<u32, ErrorData> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.sub = Some(tool.to_string());
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 0;
        jsonwebtoken::decode::<Claims>(state, &self.decoding, &validation)
            .map(|data| data.claims.round)
            .map_err(|error| {
                ErrorData::invalid_params(
                    format!("requestState failed integrity verification: {error}"),
                    None,
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_round_opens_for_its_own_tool_only() {
        let sealer = StateSealer::random();
        let state = sealer.seal("tool_a", 2).unwrap();
        assert_eq!(sealer.open("tool_a", &state).unwrap(), 2);
        assert!(sealer.open("tool_b", &state).is_err());
    }

    #[test]
    fn edited_or_foreign_states_are_refused() {
        let sealer = StateSealer::random();
        let state = sealer.seal("tool_a", 1).unwrap();
        let mut edited = state.clone().into_bytes();
        let middle = edited.len() / 2;
        edited[middle] = if edited[middle] == b'A' { b'B' } else { b'A' };
        let edited = String::from_utf8(edited).unwrap();
        assert_eq!(sealer.open("tool_a", &edited).unwrap_err().code.0, -32602);
        assert!(StateSealer::random().open("tool_a", &state).is_err());
        assert!(sealer.open("tool_a", "not-a-state").is_err());
    }
}
