//! Signing out: the grant revoked at the authorization server (RFC 7009) when it offers a
//! revocation endpoint, then the stored credentials forgotten. rmcp has no revocation call,
//! so this is the one request the console builds itself.

use oauth2::TokenResponse as _;

use super::store::{Entry, TokenStore};

/// What signing out did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedOut {
    /// The server revoked the grant and the credentials are gone.
    Revoked,
    /// The server offers no revocation; the credentials are gone from this machine only.
    Forgotten,
    /// Revocation failed (the reason); the credentials are gone from this machine anyway.
    RevocationFailed(String),
    /// Nothing was stored for it.
    NotSignedIn,
}

pub async fn sign_out(store: &TokenStore, resource: &str) -> Result<SignedOut, String> {
    let Some(entry) = store.load(resource).map_err(|e| e.to_string())? else {
        return Ok(SignedOut::NotSignedIn);
    };
    let outcome = match &entry.revocation_endpoint {
        Some(endpoint) => match revoke(&entry, endpoint).await {
            Ok(()) => SignedOut::Revoked,
            Err(reason) => SignedOut::RevocationFailed(reason),
        },
        None => SignedOut::Forgotten,
    };
    store.remove(resource).map_err(|e| e.to_string())?;
    Ok(outcome)
}

/// Revokes the refresh token (which ends the grant at servers that tie access tokens to it)
/// and the access token.
async fn revoke(entry: &Entry, endpoint: &str) -> Result<(), String> {
    let Some(token) = entry
        .credentials
        .as_ref()
        .and_then(|c| c.token_response.as_ref())
    else {
        return Ok(());
    };
    let mut tokens = Vec::new();
    if let Some(refresh) = token.refresh_token() {
        tokens.push((refresh.secret().to_string(), "refresh_token"));
    }
    tokens.push((token.access_token().secret().to_string(), "access_token"));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    for (value, hint) in tokens {
        let mut form = vec![("token", value), ("token_type_hint", hint.to_string())];
        let mut request = client.post(endpoint);
        match entry.client.secret() {
            Some(secret) => request = request.basic_auth(&entry.client.id, Some(secret)),
            None => form.push(("client_id", entry.client.id.clone())),
        }
        let response = request
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("{endpoint}: {}", super::signin::one_line(&e)))?;
        // RFC 7009 §2.2: 200 whether or not the token was valid; 503 asks to try later.
        if !response.status().is_success() {
            return Err(format!(
                "{endpoint} answered HTTP {}",
                response.status().as_u16()
            ));
        }
    }
    Ok(())
}
