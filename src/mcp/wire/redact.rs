//! Headers as the protocol pane shows them: credentials never leave the client's memory.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Names whose values are credentials whatever the value looks like.
const SECRET_NAMES: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// Parts of a header name that mark a credential (`X-Api-Key`, `X-Auth-Token`, …).
const SECRET_WORDS: &[&str] = &["token", "secret", "key", "password", "auth", "signature"];

/// The value to show for `name`: as sent, or with the credential replaced. An
/// `Authorization` header keeps its scheme (`Bearer …`), which says what kind of credential
/// went without saying which.
pub fn shown(name: &HeaderName, value: &HeaderValue) -> String {
    let lower = name.as_str();
    if lower == "authorization" || lower == "proxy-authorization" {
        let scheme = value
            .to_str()
            .ok()
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or("");
        return format!("{scheme} …");
    }
    let secret = value.is_sensitive()
        || SECRET_NAMES.contains(&lower)
        || SECRET_WORDS.iter().any(|word| lower.contains(word));
    if secret {
        return "… (redacted)".to_string();
    }
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

/// Every header of `map`, in order, redacted.
pub fn all(map: &HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(name, value)| (name.as_str().to_string(), shown(name, value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(name: &'static str, value: &'static str) -> String {
        shown(
            &HeaderName::from_static(name),
            &HeaderValue::from_static(value),
        )
    }

    #[test]
    fn credentials_are_never_shown() {
        assert_eq!(show("authorization", "Bearer eyJhbGciOi.x.y"), "Bearer …");
        assert_eq!(
            show(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=ab"
            ),
            "AWS4-HMAC-SHA256 …"
        );
        assert_eq!(show("x-api-key", "k-123"), "… (redacted)");
        assert_eq!(show("x-amz-security-token", "IQoJ"), "… (redacted)");
        let mut sensitive = HeaderValue::from_static("plain-looking");
        sensitive.set_sensitive(true);
        assert_eq!(
            shown(&HeaderName::from_static("x-tenant"), &sensitive),
            "… (redacted)"
        );
    }

    #[test]
    fn protocol_headers_are_shown_as_sent() {
        assert_eq!(show("mcp-session-id", "3f2a"), "3f2a");
        assert_eq!(show("mcp-protocol-version", "2025-11-25"), "2025-11-25");
        assert_eq!(show("mcp-method", "tools/call"), "tools/call");
    }
}
