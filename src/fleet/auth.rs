//! Credentials that travel with an endpoint in the snapshot, so every probe and call of every
//! source uses them. The bearer token lives in [`Secret`], whose `Debug` and `Display` print a
//! placeholder, so a token cannot leak through `{:?}` in a log line, an error message or a
//! panic; the snapshot's JSON form leaves credentials out altogether.

use std::fmt;

/// A value that must not be printed. Read it with [`Secret::expose`] at the one place that
/// needs it (building the Authorization header).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

/// Where SigV4 signatures for an endpoint are scoped: the service's signing name
/// (`execute-api`, `lambda`, `vpc-lattice-svcs`, `bedrock-agentcore`) and the region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SigV4 {
    pub service: String,
    pub region: String,
}

/// Extra headers and an optional bearer token sent with every request to an endpoint (e.g. a gateway key header, or the token `mcpfleet-server --auth-token` expects).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct EndpointAuth {
    pub headers: Vec<(String, String)>,
    pub bearer: Option<Secret>,
    /// Sign every request with SigV4 for this target, with the aws-config credential chain.
    pub sigv4: Option<SigV4>,
}

/// Header values are often keys too (`x-api-key`), so only their names are printed.
impl fmt::Debug for EndpointAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("EndpointAuth")
            .field("headers", &names)
            .field("bearer", &self.bearer)
            .field("sigv4", &self.sigv4)
            .finish()
    }
}

impl EndpointAuth {
    pub fn bearer(token: impl Into<Secret>) -> Self {
        Self {
            bearer: Some(token.into()),
            ..Self::default()
        }
    }

    /// Credentials come from config (a token, headers, SigV4): a server that refuses them
    /// wants them fixed, not an OAuth sign-in.
    pub fn is_configured(&self) -> bool {
        self.bearer.is_some() || !self.headers.is_empty() || self.sigv4.is_some()
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_token() {
        let auth = EndpointAuth::bearer("s3cr3t-token").with_header("x-api-key", "k3y-value");
        let debug = format!("{auth:?} {:#?}", auth);
        assert!(!debug.contains("s3cr3t-token"), "{debug}");
        assert!(!debug.contains("k3y-value"), "{debug}");
        assert!(
            debug.contains("x-api-key"),
            "header names stay visible: {debug}"
        );
        let secret = auth.bearer.unwrap();
        assert_eq!(secret.to_string(), "<redacted>");
        assert_eq!(secret.expose(), "s3cr3t-token");
    }
}
