//! A small OAuth 2.1 authorization server on loopback, for tests only: metadata (RFC 8414),
//! dynamic client registration, an authorization endpoint that consents at once (the
//! headless browser follows its redirect), a token endpoint with PKCE S256 checks, the
//! `resource` indicator as the JWT's audience, refresh tokens, revocation (RFC 7009) and a
//! JWKS the MCP server verifies tokens with. Knobs make it misbehave the ways real ones do.
//! It remembers every token it issued, so a test can look for them where they must not be.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Form, Json, Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const KEY: &[u8] = b"oauth-test-signing-key-of-32+bytes!!";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consent {
    #[default]
    Grant,
    /// The person says no: the redirect carries `error=access_denied`.
    Deny,
    /// The page never redirects (the person walked away).
    Never,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// `expires_in` of access tokens, seconds.
    pub access_ttl: u64,
    pub advertise_pkce: bool,
    /// Metadata names another issuer than the one it is served for.
    pub lie_about_issuer: bool,
    /// Metadata that is not JSON.
    pub malformed_metadata: bool,
    pub consent: Consent,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            access_ttl: 3600,
            advertise_pkce: true,
            lie_about_issuer: false,
            malformed_metadata: false,
            consent: Consent::Grant,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub registrations: u32,
    pub authorizations: u32,
    pub code_grants: u32,
    pub refresh_grants: u32,
    pub refused_refreshes: u32,
    pub revocations: u32,
}

struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    resource: Option<String>,
    scope: Option<String>,
}

struct Refresh {
    client_id: String,
    resource: Option<String>,
    scope: Option<String>,
    revoked: bool,
}

#[derive(Default)]
struct Inner {
    counts: Counts,
    codes: HashMap<String, Code>,
    refresh: HashMap<String, Refresh>,
    issued: Vec<String>,
    resources: Vec<Option<String>>,
}

#[derive(Clone)]
struct Shared {
    issuer: String,
    options: Options,
    inner: Arc<Mutex<Inner>>,
}

pub struct AuthServer {
    pub issuer: String,
    pub jwks_url: String,
    shared: Shared,
}

fn random(prefix: &str) -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    format!("{prefix}{}", hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl AuthServer {
    pub async fn start(options: Options) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared {
            issuer: issuer.clone(),
            options,
            inner: Arc::default(),
        };
        let app = Router::new()
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .route("/.well-known/openid-configuration", get(metadata))
            .route("/register", post(register))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/jwks", get(jwks))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            jwks_url: format!("{issuer}/jwks"),
            issuer,
            shared,
        }
    }

    pub fn counts(&self) -> Counts {
        self.shared.inner.lock().unwrap().counts
    }

    /// Every access and refresh token it has issued.
    pub fn issued(&self) -> Vec<String> {
        self.shared.inner.lock().unwrap().issued.clone()
    }

    /// The `resource` of each token request, in order.
    pub fn resources(&self) -> Vec<Option<String>> {
        self.shared.inner.lock().unwrap().resources.clone()
    }

    /// Revokes every refresh token, as an administrator ending all sessions would.
    pub fn revoke_all(&self) {
        for refresh in self.shared.inner.lock().unwrap().refresh.values_mut() {
            refresh.revoked = true;
        }
    }
}

async fn metadata(State(shared): State<Shared>) -> Response {
    if shared.options.malformed_metadata {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"issuer\": \"broken",
        )
            .into_response();
    }
    let issuer = if shared.options.lie_about_issuer {
        "https://login.example.com".to_string()
    } else {
        shared.issuer.clone()
    };
    let base = &shared.issuer;
    let mut body = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "registration_endpoint": format!("{base}/register"),
        "revocation_endpoint": format!("{base}/revoke"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["mcp", "offline_access"],
        "authorization_response_iss_parameter_supported": true,
    });
    if shared.options.advertise_pkce {
        body["code_challenge_methods_supported"] = json!(["S256"]);
    }
    Json(body).into_response()
}

async fn register(State(shared): State<Shared>, Json(body): Json<Value>) -> Response {
    shared.inner.lock().unwrap().counts.registrations += 1;
    let client_id = random("client-");
    (
        StatusCode::CREATED,
        Json(json!({
            "client_id": client_id,
            "redirect_uris": body["redirect_uris"],
            "token_endpoint_auth_method": "none",
        })),
    )
        .into_response()
}

async fn authorize(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    shared.inner.lock().unwrap().counts.authorizations += 1;
    let Some(redirect_uri) = query.get("redirect_uri").cloned() else {
        return (StatusCode::BAD_REQUEST, "no redirect_uri").into_response();
    };
    let state = query.get("state").cloned().unwrap_or_default();
    let mut target = reqwest::Url::parse(&redirect_uri).unwrap();
    match shared.options.consent {
        Consent::Never => {
            return (StatusCode::OK, "<p>Sign in (nobody will)</p>").into_response();
        }
        Consent::Deny => {
            target
                .query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair("state", &state);
        }
        Consent::Grant => {
            if query.get("code_challenge_method").map(String::as_str) != Some("S256") {
                return (StatusCode::BAD_REQUEST, "PKCE S256 required").into_response();
            }
            let code = random("code-");
            shared.inner.lock().unwrap().codes.insert(
                code.clone(),
                Code {
                    client_id: query.get("client_id").cloned().unwrap_or_default(),
                    redirect_uri: redirect_uri.clone(),
                    challenge: query.get("code_challenge").cloned().unwrap_or_default(),
                    resource: query.get("resource").cloned(),
                    scope: query.get("scope").cloned(),
                },
            );
            target
                .query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &state)
                .append_pair("iss", &shared.issuer);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

fn oauth_error(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response()
}

fn access_token(shared: &Shared, resource: Option<&str>, scope: Option<&str>) -> String {
    let claims = json!({
        "iss": shared.issuer,
        "sub": "operator",
        "aud": resource.unwrap_or_default(),
        "scope": scope.unwrap_or_default(),
        "iat": now(),
        "exp": now() + shared.options.access_ttl,
        "jti": random(""),
    });
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(KEY)).unwrap()
}

fn pkce_ok(verifier: &str, challenge: &str) -> bool {
    use sha2::{Digest, Sha256};
    b64url(&Sha256::digest(verifier.as_bytes())) == challenge
}

async fn token(
    State(shared): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let get = |key: &str| form.get(key).cloned();
    let (client_id, resource, scope) = match get("grant_type").as_deref() {
        Some("authorization_code") => {
            let mut inner = shared.inner.lock().unwrap();
            let Some(code) = get("code").and_then(|c| inner.codes.remove(&c)) else {
                return oauth_error("invalid_grant");
            };
            let verifier = get("code_verifier").unwrap_or_default();
            if !pkce_ok(&verifier, &code.challenge)
                || get("redirect_uri").as_deref() != Some(code.redirect_uri.as_str())
                || get("client_id").is_some_and(|id| id != code.client_id)
            {
                return oauth_error("invalid_grant");
            }
            inner.counts.code_grants += 1;
            inner.resources.push(get("resource"));
            (code.client_id, code.resource, code.scope)
        }
        Some("refresh_token") => {
            let mut inner = shared.inner.lock().unwrap();
            let presented = get("refresh_token").unwrap_or_default();
            let usable = inner.refresh.get(&presented).is_some_and(|r| !r.revoked);
            if !usable {
                inner.counts.refused_refreshes += 1;
                return oauth_error("invalid_grant");
            }
            // Rotation: the presented refresh token is spent.
            let old = inner.refresh.remove(&presented).unwrap();
            inner.counts.refresh_grants += 1;
            inner.resources.push(get("resource"));
            (old.client_id, old.resource, old.scope)
        }
        _ => return oauth_error("unsupported_grant_type"),
    };
    let access = access_token(&shared, resource.as_deref(), scope.as_deref());
    let refresh = random("refresh-");
    let mut inner = shared.inner.lock().unwrap();
    inner.refresh.insert(
        refresh.clone(),
        Refresh {
            client_id,
            resource,
            scope: scope.clone(),
            revoked: false,
        },
    );
    inner.issued.push(access.clone());
    inner.issued.push(refresh.clone());
    Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": shared.options.access_ttl,
        "refresh_token": refresh,
        "scope": scope.unwrap_or_default(),
    }))
    .into_response()
}

async fn revoke(
    State(shared): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut inner = shared.inner.lock().unwrap();
    inner.counts.revocations += 1;
    if let Some(token) = form.get("token")
        && let Some(refresh) = inner.refresh.get_mut(token)
    {
        refresh.revoked = true;
    }
    StatusCode::OK.into_response()
}

async fn jwks() -> Json<Value> {
    Json(json!({"keys": [{"kty": "oct", "kid": "k1", "alg": "HS256", "k": b64url(KEY)}]}))
}
