//! Signing in and out of OAuth-protected MCP servers from the command line: `login`,
//! `logout`, `auth status`, and the sign-in a command starts when a server asks for one —
//! only where a person can answer it (a terminal without `--json`) or where the person said
//! it may (`--login`, or `$BROWSER` set); otherwise the command ends with exit 7 and says
//! which `mcpfleet login` to run.

use std::{io::IsTerminal, time::Duration};

use serde_json::json;

use crate::{
    fleet::FleetSnapshot,
    mcp::McpError,
    oauth::{self, ClientSettings, Prompt, SignIn, TokenStore, browser, revoke::SignedOut},
};

use super::{CliError, GlobalArgs, OAuthArgs, exit, source};

/// Sign-ins one command may start (a first one and step-ups) before it gives up: a server
/// that keeps asking for more scope is not going to be satisfied.
pub const MAX_SIGN_INS: usize = 3;

fn store() -> Result<TokenStore, CliError> {
    TokenStore::open_default().map_err(|e| CliError::new(exit::CONFIG, e.to_string()))
}

/// The config file's client for `label`, with the command line's flags over it.
fn settings(global: &GlobalArgs, label: &str) -> Result<(ClientSettings, Duration), CliError> {
    let (config, _) = source::load(global)?;
    let (mut settings, mut timeout) = config.oauth.client(label);
    let args: &OAuthArgs = &global.oauth;
    if let Some(id) = &args.client_id {
        settings.client_id = Some(id.clone());
        settings.client_secret_env = args.client_secret_env.clone();
    } else if args.client_secret_env.is_some() {
        settings.client_secret_env = args.client_secret_env.clone();
    }
    if args.client_credentials {
        settings.grant = oauth::Grant::ClientCredentials;
    }
    if let Some(url) = &args.client_metadata_url {
        settings.client_metadata_url = Some(url.clone());
    }
    if let Some(port) = args.callback_port {
        settings.redirect_port = port;
    }
    settings.scopes.extend(args.scope.iter().cloned());
    if let Some(secs) = args.login_timeout {
        timeout = Duration::from_secs_f64(secs);
    }
    Ok((settings, timeout))
}

/// Tells the person on stderr what to do; stdout stays for the command's output.
fn show(prompt: &Prompt) {
    match &prompt.opened {
        browser::Opened::With(program) => eprintln!(
            "mcpfleet: signing in to {} at {} in the browser ({program}); waiting for it to come back.\n\
             mcpfleet: if no page opened, visit: {}",
            prompt.label, prompt.issuer, prompt.url
        ),
        browser::Opened::NotOpened => eprintln!(
            "mcpfleet: to sign in to {} at {}, open this URL in a browser:\n{}",
            prompt.label, prompt.issuer, prompt.url
        ),
    }
}

/// The command line that signs in to what `label` names.
fn login_hint(label: &str, url: &str) -> String {
    if label.is_empty() || label == url {
        format!("mcpfleet login --url {url}")
    } else {
        format!("mcpfleet login {label}")
    }
}

/// A command met a server that wants a sign-in: signs in when the rules allow, else the error
/// a script can act on. `label` is the service's name (empty for `--url`).
pub async fn sign_in_for(
    global: &GlobalArgs,
    json: bool,
    label: &str,
    error: &McpError,
) -> Result<(), CliError> {
    let McpError::AuthRequired { url, challenge, .. } = error else {
        return Err(CliError::new(exit::CONNECTION, error.to_string()));
    };
    let (client, timeout) = settings(global, label)?;
    let person = !json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let machine = client.grant == oauth::Grant::ClientCredentials;
    let allowed = machine || person || global.oauth.login || browser::configured();
    if global.oauth.stored_auth_only || !allowed {
        return Err(CliError::new(
            exit::AUTH,
            format!("{error}; run `{}` first", login_hint(label, url)),
        ));
    }
    let request = SignIn {
        url: url.clone(),
        label: Some(label.to_string()).filter(|l| !l.is_empty()),
        challenge: challenge.clone(),
        client,
        timeout,
        needs_browser: !person,
    };
    let signed = oauth::sign_in(&store()?, &request, show)
        .await
        .map_err(|e| CliError::new(exit::AUTH, e.to_string()))?;
    eprintln!(
        "mcpfleet: signed in to {} at {}",
        request.label.as_deref().unwrap_or(url),
        signed
            .issuer
            .as_deref()
            .unwrap_or("its authorization server")
    );
    Ok(())
}

/// One try of a command that talks to a server: done, or stopped by a server that wants a
/// sign-in (the `AuthRequired` error).
pub enum Attempt<T> {
    Done(T),
    NeedsSignIn(McpError),
}

/// Whether `service`'s endpoints carry credentials from config: a refusal of those is for
/// the person to fix in config, not a reason to sign in.
pub fn configured(snapshot: &FleetSnapshot, service: &str) -> bool {
    snapshot
        .services
        .iter()
        .filter(|s| s.name == service)
        .flat_map(|s| &s.tasks)
        .filter_map(|t| t.endpoint.as_ref())
        .any(|e| e.auth.is_configured())
}

/// Runs `attempt`, signing in between tries when a server asks, up to [`MAX_SIGN_INS`].
/// `configured`: the target's credentials come from config, so a refusal is final.
pub async fn with_sign_ins<T, Fut>(
    global: &GlobalArgs,
    json: bool,
    label: &str,
    configured: bool,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, CliError>
where
    Fut: std::future::Future<Output = Result<Attempt<T>, CliError>>,
{
    let mut sign_ins = 0;
    loop {
        match attempt().await? {
            Attempt::Done(value) => return Ok(value),
            Attempt::NeedsSignIn(McpError::AuthRequired {
                url,
                insufficient_scope,
                ..
            }) if configured => {
                let status = if insufficient_scope { 403 } else { 401 };
                return Err(CliError::new(
                    exit::CONNECTION,
                    format!(
                        "{url} refused the configured credentials (HTTP {status}); check the \
                         service's bearer_env and headers in the config file"
                    ),
                ));
            }
            Attempt::NeedsSignIn(error) if sign_ins < MAX_SIGN_INS => {
                sign_ins += 1;
                sign_in_for(global, json, label, &error).await?;
            }
            Attempt::NeedsSignIn(error) => {
                return Err(CliError::new(
                    exit::AUTH,
                    format!("{error}, still after {MAX_SIGN_INS} sign-ins; giving up"),
                ));
            }
        }
    }
}

/// The URL a service is reached at, for `login` and `logout`: `--url`, a static server's URL,
/// or a task endpoint of a fleet service.
async fn target(global: &GlobalArgs, service: Option<&str>) -> Result<(String, String), CliError> {
    if let Some(url) = &global.url {
        return Ok((String::new(), url.clone()));
    }
    let Some(service) = service else {
        return Err(CliError::new(
            exit::USAGE,
            "name a SERVICE or give --url URL",
        ));
    };
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let url = endpoint_of(&snapshot, service)?;
    Ok((service.to_string(), url))
}

fn endpoint_of(snapshot: &FleetSnapshot, service: &str) -> Result<String, CliError> {
    let Some(found) = snapshot.services.iter().find(|s| s.name == service) else {
        return Err(source::mcp_error(
            snapshot,
            McpError::UnknownService(service.to_string()),
        ));
    };
    found
        .tasks
        .iter()
        .find_map(|t| t.endpoint.as_ref().map(|e| e.url.clone()))
        .ok_or_else(|| {
            CliError::new(
                exit::NOT_FOUND,
                format!("service {service} has no task with an endpoint to sign in to"),
            )
        })
}

/// `mcpfleet login SERVICE|--url URL [--relogin]`.
pub async fn login(
    global: &GlobalArgs,
    service: Option<&str>,
    relogin: bool,
    json: bool,
) -> Result<u8, CliError> {
    let (label, url) = target(global, service).await?;
    let store = store()?;
    if relogin {
        store
            .remove(&url)
            .map_err(|e| CliError::new(exit::CONFIG, e.to_string()))?;
    }
    let challenge = oauth::signin::challenge_of(&url).await;
    let (client, timeout) = settings(global, &label)?;
    let request = SignIn {
        url: url.clone(),
        label: Some(label.clone()).filter(|l| !l.is_empty()),
        challenge,
        client,
        timeout,
        needs_browser: !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()),
    };
    let signed = oauth::sign_in(&store, &request, show)
        .await
        .map_err(|e| CliError::new(exit::AUTH, e.to_string()))?;
    if json {
        println!(
            "{}",
            json!({"resource": url, "issuer": signed.issuer, "scopes": signed.scopes})
        );
    } else {
        let scopes = if signed.scopes.is_empty() {
            String::new()
        } else {
            format!(" (scopes: {})", signed.scopes.join(" "))
        };
        println!(
            "signed in to {} at {}{scopes}",
            if label.is_empty() { &url } else { &label },
            signed
                .issuer
                .as_deref()
                .unwrap_or("its authorization server")
        );
    }
    Ok(exit::OK)
}

/// `mcpfleet logout SERVICE|--url URL|--all`.
pub async fn logout(global: &GlobalArgs, service: Option<&str>, all: bool) -> Result<u8, CliError> {
    let store = store()?;
    let resources: Vec<String> = if all {
        store
            .list()
            .map_err(|e| CliError::new(exit::CONFIG, e.to_string()))?
            .into_iter()
            .map(|entry| entry.resource)
            .collect()
    } else {
        vec![target(global, service).await?.1]
    };
    let mut code = exit::OK;
    for resource in resources {
        let outcome = oauth::revoke::sign_out(&store, &resource)
            .await
            .map_err(|e| CliError::new(exit::CONFIG, e))?;
        match outcome {
            SignedOut::Revoked => println!("signed out of {resource}; the grant is revoked"),
            SignedOut::Forgotten => println!(
                "signed out of {resource}; its authorization server offers no revocation, \
                 so the grant lasts until it expires there"
            ),
            SignedOut::RevocationFailed(reason) => {
                println!("signed out of {resource} here; revoking the grant failed: {reason}");
                code = exit::AUTH;
            }
            SignedOut::NotSignedIn => println!("not signed in to {resource}"),
        }
    }
    Ok(code)
}

/// `mcpfleet auth status`: which servers have credentials, from which issuer, with which
/// scopes, until when. Never a token.
pub fn status(json: bool) -> Result<u8, CliError> {
    let entries = store()?
        .list()
        .map_err(|e| CliError::new(exit::CONFIG, e.to_string()))?;
    let statuses: Vec<oauth::Status> = entries.iter().map(oauth::Entry::status).collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&statuses).expect("statuses serialise")
        );
        return Ok(exit::OK);
    }
    if statuses.is_empty() {
        println!("no stored sign-ins");
        return Ok(exit::OK);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let rows: Vec<Vec<String>> = statuses
        .iter()
        .map(|s| {
            let expires = match s.expires_at {
                Some(at) if at <= now => "expired".to_string(),
                Some(at) => format!(
                    "in {}",
                    humantime::format_duration(Duration::from_secs(at - now))
                ),
                None => "-".to_string(),
            };
            vec![
                s.label.clone().unwrap_or_else(|| "-".into()),
                s.resource.clone(),
                s.issuer.clone().unwrap_or_else(|| "-".into()),
                if s.scopes.is_empty() {
                    "-".into()
                } else {
                    s.scopes.join(" ")
                },
                expires,
                if s.refreshable { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        super::table::render(
            &[
                "SERVICE", "RESOURCE", "ISSUER", "SCOPES", "EXPIRES", "REFRESH"
            ],
            &rows
        )
    );
    Ok(exit::OK)
}
