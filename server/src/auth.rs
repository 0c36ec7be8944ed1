//! Optional bearer authentication for `/mcp`: a static token compared in constant time, or a JWT
//! verified against a JWKS (cached, refetched when an unknown key id appears). Failures answer
//! 401 with `WWW-Authenticate` pointing at the protected-resource metadata (RFC 9728), which is
//! how MCP clients discover where to get a token. Tokens are never logged or echoed.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio::sync::RwLock;

use crate::config::ServerConfig;

const JWKS_TTL: Duration = Duration::from_secs(300);
/// An unknown `kid` triggers a refetch at most this often, so garbage tokens cannot make the
/// replica hammer the identity provider.
const JWKS_MIN_REFETCH: Duration = Duration::from_secs(30);
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid token")]
    Invalid,
    #[error("token signed by an unknown key")]
    UnknownKey,
    #[error("cannot fetch the JWKS")]
    Jwks,
}

pub enum Authenticator {
    Open,
    StaticToken(String),
    Jwt(JwtVerifier),
}

pub struct JwtVerifier {
    jwks_url: String,
    issuer: Option<String>,
    audience: Option<String>,
    client: reqwest::Client,
    keys: RwLock<Option<(JwkSet, Instant)>>,
}

impl Authenticator {
    pub fn from_config(config: &ServerConfig) -> Self {
        if let Some(url) = &config.jwks_url {
            return Self::Jwt(JwtVerifier {
                jwks_url: url.clone(),
                issuer: config.jwt_issuer.clone(),
                audience: config.jwt_audience.clone(),
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .expect("static client configuration is valid"),
                keys: RwLock::new(None),
            });
        }
        match &config.auth_token {
            Some(token) if !token.is_empty() => Self::StaticToken(token.clone()),
            _ => Self::Open,
        }
    }

    pub fn is_enabled(&self) -> bool {
        !matches!(self, Self::Open)
    }

    pub async fn check(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        let token = match self {
            Self::Open => return Ok(()),
            _ => bearer_token(headers).ok_or(AuthError::Missing)?,
        };
        match self {
            Self::Open => Ok(()),
            Self::StaticToken(expected) => {
                if bool::from(token.as_bytes().ct_eq(expected.as_bytes())) {
                    Ok(())
                } else {
                    Err(AuthError::Invalid)
                }
            }
            Self::Jwt(verifier) => verifier.verify(token).await,
        }
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

impl JwtVerifier {
    async fn verify(&self, token: &str) -> Result<(), AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        let key = match self.find_key(header.kid.as_deref(), false).await? {
            Some(key) => key,
            None => self
                .find_key(header.kid.as_deref(), true)
                .await?
                .ok_or(AuthError::UnknownKey)?,
        };
        let mut validation = Validation::new(header.alg);
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
        }
        jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .map(|_| ())
            .map_err(|_| AuthError::Invalid)
    }

    async fn find_key(
        &self,
        kid: Option<&str>,
        refresh: bool,
    ) -> Result<Option<DecodingKey>, AuthError> {
        let stale = match &*self.keys.read().await {
            None => true,
            Some((_, fetched)) if refresh => fetched.elapsed() >= JWKS_MIN_REFETCH,
            Some((_, fetched)) => fetched.elapsed() >= JWKS_TTL,
        };
        if stale {
            let set: JwkSet = self
                .client
                .get(&self.jwks_url)
                .send()
                .await
                .and_then(|response| response.error_for_status())
                .map_err(|_| AuthError::Jwks)?
                .json()
                .await
                .map_err(|_| AuthError::Jwks)?;
            *self.keys.write().await = Some((set, Instant::now()));
        }
        let keys = self.keys.read().await;
        let Some((set, _)) = &*keys else {
            return Ok(None);
        };
        let jwk = match kid {
            Some(kid) => set.find(kid),
            None if set.keys.len() == 1 => set.keys.first(),
            None => None,
        };
        Ok(jwk.and_then(|jwk| DecodingKey::from_jwk(jwk).ok()))
    }
}

/// The public URL of `/mcp` for this request: configured, or derived from the Host header.
fn resource_url(config: &ServerConfig, headers: &HeaderMap) -> String {
    if let Some(url) = &config.resource_url {
        return url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/mcp")
}

fn metadata_url(config: &ServerConfig, headers: &HeaderMap) -> String {
    let resource = resource_url(config, headers);
    let origin = resource.strip_suffix("/mcp").unwrap_or(&resource);
    format!("{origin}{METADATA_PATH}")
}

pub struct AuthState {
    pub authenticator: Authenticator,
    pub config: ServerConfig,
}

impl AuthState {
    /// `Err` with the 401 answer (and its `WWW-Authenticate` challenge) when the request does not
    /// carry an acceptable bearer token.
    pub async fn authorize(&self, headers: &HeaderMap) -> Result<(), Response> {
        let Err(error) = self.authenticator.check(headers).await else {
            return Ok(());
        };
        let mut challenge = format!(
            "Bearer resource_metadata=\"{}\"",
            metadata_url(&self.config, headers)
        );
        if error != AuthError::Missing {
            challenge.push_str(", error=\"invalid_token\"");
        }
        let mut response = (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        Err(response)
    }
}

/// RFC 9728 protected-resource metadata.
pub async fn protected_resource_metadata(
    State(state): State<Arc<AuthState>>,
    headers: HeaderMap,
) -> Response {
    Json(json!({
        "resource": resource_url(&state.config, &headers),
        "authorization_servers": state.config.authorization_servers,
        "bearer_methods_supported": ["header"],
        "resource_name": "mcpfleet-server",
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_parsing() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  abc "),
        );
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&headers), None);
    }

    #[tokio::test]
    async fn static_token_accepts_only_the_exact_token() {
        let auth = Authenticator::StaticToken("s3cret".into());
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            headers
        };
        assert_eq!(auth.check(&with("Bearer s3cret")).await, Ok(()));
        assert_eq!(
            auth.check(&with("Bearer s3cre")).await,
            Err(AuthError::Invalid)
        );
        assert_eq!(
            auth.check(&with("Bearer s3crett")).await,
            Err(AuthError::Invalid)
        );
        assert_eq!(auth.check(&HeaderMap::new()).await, Err(AuthError::Missing));
    }
}
