//! JWT bearer auth against a JWKS served on loopback: valid tokens pass; bad signatures, expired
//! tokens, wrong audience or issuer and unknown keys get 401 with an invalid_token challenge.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{Json, Router, routing::get};
use common::{RawClient, assert_still_serving, start};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;

const KEY: &[u8] = b"a-test-signing-key-of-thirty-two+bytes";
const ISSUER: &str = "https://issuer.test";
const AUDIENCE: &str = "mcpfleet-server";

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn jwks_endpoint() -> String {
    let jwks = json!({"keys": [{"kty": "oct", "kid": "k1", "alg": "HS256", "k": b64url(KEY)}]});
    let app = Router::new().route("/jwks.json", get(move || async move { Json(jwks) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/jwks.json")
}

fn token(kid: &str, key: &[u8], audience: &str, issuer: &str, expires_in: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims =
        json!({"sub": "operator", "aud": audience, "iss": issuer, "exp": now + expires_in});
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(key)).unwrap()
}

async fn status_with(server: &mcpfleet_server::RunningServer, token: &str) -> (StatusCode, String) {
    let client = RawClient::new(server).header("authorization", &format!("Bearer {token}"));
    let reply = client
        .send(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": common::PROTOCOL, "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"}}}),
        )
        .await;
    let challenge = reply
        .headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (reply.status, challenge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_validated_against_jwks() {
    let jwks = jwks_endpoint().await;
    let server = start(|c| {
        c.jwks_url = Some(jwks);
        c.jwt_issuer = Some(ISSUER.into());
        c.jwt_audience = Some(AUDIENCE.into());
    })
    .await;

    let valid = token("k1", KEY, AUDIENCE, ISSUER, 300);
    assert_eq!(status_with(&server, &valid).await.0, StatusCode::OK);

    for (case, bad) in [
        (
            "wrong signature",
            token(
                "k1",
                b"another-key-another-key-another-key!",
                AUDIENCE,
                ISSUER,
                300,
            ),
        ),
        ("expired", token("k1", KEY, AUDIENCE, ISSUER, -600)),
        (
            "wrong audience",
            token("k1", KEY, "someone-else", ISSUER, 300),
        ),
        (
            "wrong issuer",
            token("k1", KEY, AUDIENCE, "https://evil.test", 300),
        ),
        ("unknown key", token("k9", KEY, AUDIENCE, ISSUER, 300)),
        ("not a jwt", "garbage".to_string()),
    ] {
        let (status, challenge) = status_with(&server, &bad).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{case}: {challenge}"
        );
        assert!(
            challenge.contains("resource_metadata="),
            "{case}: {challenge}"
        );
    }
}

#[tokio::test]
async fn unreachable_jwks_refuses_without_crashing() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let server = start(|c| c.jwks_url = Some(format!("http://{closed}/jwks.json"))).await;
    let (status, _) = status_with(&server, &token("k1", KEY, AUDIENCE, ISSUER, 300)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let health = reqwest::get(format!("http://{}/healthz", server.local_addr))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn static_token_lets_the_right_caller_in() {
    let server = start(|c| c.auth_token = Some("s3cret-token".into())).await;
    assert_still_serving(&server).await;
}
