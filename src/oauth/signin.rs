//! Signing in to one MCP server with OAuth 2.1 as the MCP authorization spec asks: discovery
//! from the server's challenge (protected-resource metadata, then authorization-server
//! metadata), a client identity (pre-registered, else a client ID metadata document, else
//! dynamic registration), an authorization-code grant with PKCE S256 and the `resource`
//! indicator through the browser and a loopback redirect, the `iss` check of RFC 9207, and
//! the tokens saved to the [`TokenStore`]. rmcp does the protocol; this file decides what to
//! ask for, keeps what must outlive the process, and turns failures into one line a person
//! can act on.

use std::time::Duration;

use rmcp::transport::auth::{
    AuthError, AuthorizationCallback, AuthorizationManager, AuthorizationMetadata,
    AuthorizationMetadataSource, AuthorizationRequest, AuthorizationSession,
    ClientCredentialsConfig,
};

use super::{
    browser,
    redirect::Redirect,
    store::{ClientRecord, Entry, TokenStore},
};

/// How long a sign-in waits for the browser to come back by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How the console gets its token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// A person signs in through the browser (authorization code with PKCE).
    #[default]
    AuthorizationCode,
    /// A machine client authenticates with its own secret; nobody is asked.
    ClientCredentials,
}

/// Who the console is to the authorization server, when config says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientSettings {
    pub grant: Grant,
    /// A client registered with the authorization server beforehand.
    pub client_id: Option<String>,
    /// The environment variable holding that client's secret (never the secret itself).
    pub client_secret_env: Option<String>,
    /// An HTTPS URL of a client ID metadata document describing the console.
    pub client_metadata_url: Option<String>,
    /// The loopback port of the redirect URI (0: any free port), for a pre-registered client
    /// whose redirect URI names one.
    pub redirect_port: u16,
    /// Scopes to ask for beyond what the server's challenge and metadata say.
    pub scopes: Vec<String>,
}

/// One sign-in's parameters.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The MCP server URL.
    pub url: String,
    /// The service's name, for the person and `auth status`.
    pub label: Option<String>,
    /// The `WWW-Authenticate` value of the 401 or 403 that asked for it, when there was one.
    pub challenge: Option<String>,
    pub client: ClientSettings,
    pub timeout: Duration,
    /// Nobody can open the address by hand (a script): without a browser, give up at once
    /// instead of waiting for the timeout.
    pub needs_browser: bool,
}

/// What the person is asked to do: open `url` and sign in to `issuer`.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub label: String,
    pub issuer: String,
    pub url: String,
    pub opened: browser::Opened,
}

/// A sign-in that ended with tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    pub issuer: Option<String>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignInError {
    #[error("cannot discover how to sign in to {url}: {reason}")]
    Discovery { url: String, reason: String },
    #[error("{0} does not use OAuth: it publishes no authorization metadata")]
    NotProtected(String),
    #[error("the authorization server {issuer} does not offer PKCE with S256; refusing to sign in")]
    NoPkce { issuer: String },
    #[error("the authorization server is not who its metadata says: {0}")]
    IssuerMismatch(String),
    #[error("cannot register mcpfleet as a client at {issuer}: {reason}")]
    Registration { issuer: String, reason: String },
    #[error("sign-in refused: {0}")]
    Denied(String),
    #[error("no answer from the browser within {}; run the sign-in again", humantime::format_duration(*.0))]
    TimedOut(Duration),
    #[error("the authorization server would not issue a token: {0}")]
    Exchange(String),
    #[error("{0}")]
    Store(String),
    #[error("cannot listen for the sign-in redirect on 127.0.0.1: {0}")]
    Listen(String),
    #[error("no browser could be opened (set $BROWSER, or sign in from a terminal: {0})")]
    NoBrowser(String),
}

/// What discovery found: the authorization server a sign-in goes to, before anyone is asked.
pub struct Discovered {
    /// The issuer, for the person ("sign in to SERVICE at ISSUER").
    pub issuer: String,
    request: SignIn,
    manager: AuthorizationManager,
    metadata: AuthorizationMetadata,
    previous: Option<Entry>,
}

impl Discovered {
    pub fn request(&self) -> &SignIn {
        &self.request
    }
}

/// Signs in and saves the tokens; `prompt` is told what the person has to do while the
/// console waits for the browser to come back.
pub async fn sign_in(
    store: &TokenStore,
    request: &SignIn,
    prompt: impl FnOnce(&Prompt),
) -> Result<Signed, SignInError> {
    let discovered = discover(store, request.clone()).await?;
    authorize(store, discovered, prompt).await
}

/// Finds the authorization server from the server's challenge and checks it can be used
/// (issuer, PKCE). Asks nobody anything and writes nothing.
pub async fn discover(store: &TokenStore, request: SignIn) -> Result<Discovered, SignInError> {
    let discovery = |reason: String| SignInError::Discovery {
        url: request.url.clone(),
        reason,
    };
    let manager = AuthorizationManager::new(request.url.as_str())
        .await
        .map_err(|e| discovery(one_line(&e)))?;
    let resolution = manager
        .resolve_metadata_from_challenge(request.challenge.as_deref())
        .await
        .map_err(|error| match error {
            AuthError::AuthorizationServerMismatch { .. }
            | AuthError::AuthorizationServerMissingIssuer { .. } => {
                SignInError::IssuerMismatch(one_line(&error))
            }
            other => discovery(one_line(&other)),
        })?;
    // rmcp falls back to /authorize and /token at the server's root (the 2025-03-26 way); a
    // server that published nothing does not ask for a sign-in.
    if resolution.source == AuthorizationMetadataSource::LegacyEndpointFallback {
        return Err(SignInError::NotProtected(request.url.clone()));
    }
    let metadata = resolution.metadata;
    let issuer = metadata
        .issuer
        .clone()
        .unwrap_or_else(|| origin_of(&metadata.authorization_endpoint));
    // The spec asks a client to refuse a server that does not say it supports S256; rmcp
    // tolerates one that says nothing. The client credentials grant has no code to protect.
    if request.client.grant == Grant::AuthorizationCode
        && !metadata
            .code_challenge_methods_supported
            .as_ref()
            .is_some_and(|methods| methods.iter().any(|m| m == "S256"))
    {
        return Err(SignInError::NoPkce { issuer });
    }
    let previous = store
        .load(&request.url)
        .map_err(|e| SignInError::Store(e.to_string()))?;
    Ok(Discovered {
        issuer,
        request,
        manager,
        metadata,
        previous,
    })
}

/// Registers (when needed), opens the browser, waits for the redirect and exchanges the
/// code. Nothing is written until the tokens arrive, so a sign-in that fails or is abandoned
/// leaves the stored one as it was.
pub async fn authorize(
    store: &TokenStore,
    discovered: Discovered,
    prompt: impl FnOnce(&Prompt),
) -> Result<Signed, SignInError> {
    let Discovered {
        issuer,
        request,
        mut manager,
        metadata,
        previous,
    } = discovered;
    manager.set_metadata(metadata.clone());
    if request.client.grant == Grant::ClientCredentials {
        return client_credentials(store, manager, &metadata, &request, &issuer).await;
    }
    let redirect = Redirect::listen(request.client.redirect_port)
        .await
        .map_err(|e| SignInError::Listen(e.to_string()))?;
    let scopes = scopes_to_request(
        &manager,
        previous.as_ref(),
        metadata.issuer.as_deref(),
        &request.client,
    );
    let (client, mut authorization) = client_identity(
        &mut manager,
        &metadata,
        &issuer,
        &redirect.uri,
        &scopes,
        &request.client,
    )
    .await?;
    if !scopes.is_empty() {
        authorization = authorization.with_scopes(scopes.clone());
    }
    if let Some(challenge) = &request.challenge {
        authorization = authorization.with_challenge(challenge.clone());
    }
    let entry = Entry {
        resource: request.url.clone(),
        label: request.label.clone(),
        issuer: metadata.issuer.clone(),
        client,
        revocation_endpoint: metadata
            .additional_fields
            .get("revocation_endpoint")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        credentials: None,
    };
    manager.set_credential_store(store.credential_store_for_sign_in(entry));
    exchange(manager, authorization, redirect, &request, &issuer, prompt).await
}

async fn exchange(
    manager: AuthorizationManager,
    authorization: AuthorizationRequest,
    redirect: Redirect,
    request: &SignIn,
    issuer: &str,
    prompt: impl FnOnce(&Prompt),
) -> Result<Signed, SignInError> {
    let session = AuthorizationSession::new(manager, authorization)
        .await
        .map_err(|(_, error)| registration_failed(issuer, error))?;
    let url = session.get_authorization_url().to_string();
    let opened = {
        let url = url.clone();
        // An opener is given a moment to fail; that wait is not the runtime's.
        tokio::task::spawn_blocking(move || browser::open(&url))
            .await
            .unwrap_or(browser::Opened::NotOpened)
    };
    if request.needs_browser && opened == browser::Opened::NotOpened {
        let hint = match &request.label {
            Some(label) => format!("mcpfleet login {label}"),
            None => format!("mcpfleet login --url {}", request.url),
        };
        return Err(SignInError::NoBrowser(hint));
    }
    prompt(&Prompt {
        label: request.label.clone().unwrap_or_else(|| request.url.clone()),
        issuer: issuer.to_string(),
        url,
        opened,
    });
    let Some(redirected) = redirect.wait(request.timeout).await else {
        return Err(SignInError::TimedOut(request.timeout));
    };
    if let Some(denied) = denial(&redirected) {
        return Err(SignInError::Denied(denied));
    }
    let callback = AuthorizationCallback::from_redirect_url(&redirected)
        .map_err(|e| SignInError::Denied(one_line(&e)))?;
    session
        .handle_callback_with_issuer(
            &callback.code,
            &callback.csrf_token,
            callback.issuer.as_deref(),
        )
        .await
        .map_err(|error| match error {
            AuthError::AuthorizationServerMismatch { .. }
            | AuthError::AuthorizationServerMissingIssuer { .. } => {
                SignInError::IssuerMismatch(one_line(&error))
            }
            AuthError::CredentialStoreError(reason) => SignInError::Store(reason),
            other => SignInError::Exchange(one_line(&other)),
        })?;
    let granted = session
        .auth_manager
        .get_credentials()
        .await
        .ok()
        .and_then(|(_, token)| token)
        .and_then(|token| {
            use oauth2::TokenResponse as _;
            token
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        });
    Ok(Signed {
        issuer: Some(issuer.to_string()),
        scopes: granted.unwrap_or_default(),
    })
}

/// The client credentials grant (machine use): the configured client's id and secret for a
/// token, with the `resource` indicator the MCP spec requires.
async fn client_credentials(
    store: &TokenStore,
    mut manager: AuthorizationManager,
    metadata: &AuthorizationMetadata,
    request: &SignIn,
    issuer: &str,
) -> Result<Signed, SignInError> {
    let settings = &request.client;
    let (Some(client_id), Some(secret_env)) = (&settings.client_id, &settings.client_secret_env)
    else {
        return Err(SignInError::Registration {
            issuer: issuer.to_string(),
            reason: "the client credentials grant needs a client id and client_secret_env".into(),
        });
    };
    let Some(secret) = std::env::var(secret_env).ok().filter(|s| !s.is_empty()) else {
        return Err(SignInError::Registration {
            issuer: issuer.to_string(),
            reason: format!("{secret_env} is not set"),
        });
    };
    let config = ClientCredentialsConfig::ClientSecret {
        client_id: client_id.clone(),
        client_secret: secret,
        scopes: settings.scopes.clone(),
        resource: Some(request.url.clone()),
    };
    let entry = Entry {
        resource: request.url.clone(),
        label: request.label.clone(),
        issuer: metadata.issuer.clone(),
        client: ClientRecord {
            grant: Grant::ClientCredentials,
            id: client_id.clone(),
            secret: None,
            secret_env: Some(secret_env.clone()),
            redirect_uri: String::new(),
        },
        revocation_endpoint: None,
        credentials: None,
    };
    manager.set_credential_store(store.credential_store_for_sign_in(entry));
    let refused = |error: AuthError| SignInError::Exchange(one_line(&error));
    manager
        .validate_client_credentials_metadata(&config)
        .map_err(refused)?;
    manager
        .configure_client_credentials(&config)
        .map_err(refused)?;
    let token = manager
        .exchange_client_credentials(&config)
        .await
        .map_err(refused)?;
    use oauth2::TokenResponse as _;
    Ok(Signed {
        issuer: Some(issuer.to_string()),
        scopes: token
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
    })
}

/// The scopes of this grant: what the challenge, the resource's metadata or config ask for
/// (rmcp's selection), joined with what an earlier grant from the same issuer held, so a
/// step-up never loses what the first sign-in got (SEP-2350). Empty means "omit `scope`".
fn scopes_to_request(
    manager: &AuthorizationManager,
    previous: Option<&Entry>,
    issuer: Option<&str>,
    client: &ClientSettings,
) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    if let Some(previous) = previous
        && previous.issuer.as_deref() == issuer
        && let Some(credentials) = &previous.credentials
    {
        scopes.extend(credentials.granted_scopes.iter().cloned());
    }
    scopes.extend(client.scopes.iter().cloned());
    scopes.extend(manager.select_scopes(None, &[]));
    let mut seen = std::collections::HashSet::new();
    scopes.retain(|scope| seen.insert(scope.clone()));
    scopes
}

/// Chooses the client identity in the spec's order: pre-registered, client ID metadata
/// document (when the server takes them), dynamic registration. Registration is done here
/// rather than inside rmcp so a secret the server issues can be kept for later refreshes.
async fn client_identity(
    manager: &mut AuthorizationManager,
    metadata: &AuthorizationMetadata,
    issuer: &str,
    redirect_uri: &str,
    scopes: &[String],
    settings: &ClientSettings,
) -> Result<(ClientRecord, AuthorizationRequest), SignInError> {
    let request = AuthorizationRequest::new(redirect_uri).with_client_name("mcpfleet");
    if let Some(id) = &settings.client_id {
        let record = ClientRecord {
            grant: Grant::AuthorizationCode,
            id: id.clone(),
            secret: None,
            secret_env: settings.client_secret_env.clone(),
            redirect_uri: redirect_uri.to_string(),
        };
        let mut request = request.with_preregistered_client(id.clone());
        if let Some(secret) = record.secret() {
            request = request.with_client_secret(secret);
        }
        return Ok((record, request));
    }
    let takes_metadata_documents = metadata
        .additional_fields
        .get("client_id_metadata_document_supported")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if let Some(document) = &settings.client_metadata_url
        && takes_metadata_documents
    {
        let record = ClientRecord {
            grant: Grant::AuthorizationCode,
            id: document.clone(),
            secret: None,
            secret_env: None,
            redirect_uri: redirect_uri.to_string(),
        };
        return Ok((record, request.with_client_metadata_url(document.clone())));
    }
    let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
    let config = manager
        .register_client("mcpfleet", redirect_uri, &scope_refs)
        .await
        .map_err(|error| registration_failed(issuer, error))?;
    let mut request = request.with_preregistered_client(config.client_id.clone());
    if let Some(secret) = &config.client_secret {
        request = request.with_client_secret(secret.clone());
    }
    let record = ClientRecord {
        grant: Grant::AuthorizationCode,
        id: config.client_id,
        secret: config.client_secret,
        secret_env: None,
        redirect_uri: redirect_uri.to_string(),
    };
    Ok((record, request))
}

/// The `WWW-Authenticate` challenge `url` answers an unauthenticated `initialize` with, when
/// it asks for credentials: where a sign-in started by a person (not by a refused call)
/// learns the resource metadata and the scopes the server wants.
pub async fn challenge_of(url: &str) -> Option<String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .ok()?;
    let initialize = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "mcpfleet", "version": env!("CARGO_PKG_VERSION")}}});
    let response = client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(&initialize)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    if status != 401 && status != 403 {
        return None;
    }
    response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Setting the client up failed: no PKCE, or the registration itself.
fn registration_failed(issuer: &str, error: AuthError) -> SignInError {
    match error {
        AuthError::PkceUnsupported => SignInError::NoPkce {
            issuer: issuer.to_string(),
        },
        other => SignInError::Registration {
            issuer: issuer.to_string(),
            reason: one_line(&other),
        },
    }
}

/// The `error` (and its description) of a redirect that carries one instead of a code.
fn denial(redirected: &str) -> Option<String> {
    let url = reqwest::Url::parse(redirected).ok()?;
    let mut error = None;
    let mut description = None;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "error" => error = Some(value.into_owned()),
            "error_description" => description = Some(value.into_owned()),
            _ => {}
        }
    }
    let error = error?;
    Some(match (error.as_str(), description) {
        ("access_denied", None) => "consent was denied at the authorization server".to_string(),
        (_, Some(description)) => format!("{error}: {}", one_line_text(&description)),
        (_, None) => error,
    })
}

fn origin_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_string())
}

pub(crate) fn one_line(error: &dyn std::fmt::Display) -> String {
    one_line_text(&error.to_string())
}

fn one_line_text(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denied_consent_reads_as_such() {
        assert_eq!(
            denial("http://127.0.0.1:1/callback?error=access_denied&state=x").as_deref(),
            Some("consent was denied at the authorization server")
        );
        assert_eq!(
            denial("http://127.0.0.1:1/callback?error=invalid_scope&error_description=no%0Asuch")
                .as_deref(),
            Some("invalid_scope: no such")
        );
        assert_eq!(denial("http://127.0.0.1:1/callback?code=c&state=s"), None);
    }
}
