//! Signing in and out from the console: the 401 of a probe or a call offers a sign-in (once
//! discovery found the authorization server), the dialog's answer starts the grant, `:login`,
//! `:logout` and `:auth` act on the token store; all of it spawned and heard back as
//! `UiEvent`s, so the loop never waits on the network.

use std::sync::Arc;

use super::{App, Mode, UiEvent};
use crate::{
    config::OAuthSection,
    mcp::McpError,
    oauth::{self, SignIn, TokenStore},
    ui::views::sign_in::SignInDialog,
};

/// Sign-ins: who the console is to authorization servers, where tokens go, which endpoints
/// were already offered one (a declined offer is not repeated by the probes; `:login` and a
/// refused call ask again), and the one sign-in under way.
#[derive(Default)]
pub(super) struct OAuth {
    pub(super) config: Arc<OAuthSection>,
    pub(super) tokens: Option<TokenStore>,
    pub(super) offered: std::collections::HashSet<String>,
    pub(super) busy: bool,
    pub(super) running: Option<tokio::task::AbortHandle>,
}

impl App {
    /// Who the console is when it signs in (the config file's `[oauth]`).
    pub fn set_oauth(&mut self, config: OAuthSection) {
        self.oauth.config = Arc::new(config);
        self.reload_sign_ins();
    }
    /// Reads the token store's list (small files, read when a sign-in changes).
    pub(super) fn reload_sign_ins(&mut self) {
        self.data.sign_ins = self
            .oauth
            .tokens
            .as_ref()
            .and_then(|tokens| tokens.list().ok())
            .unwrap_or_default()
            .iter()
            .map(oauth::Entry::status)
            .collect();
    }
    /// `:logout SERVICE|URL`: revokes the grant where the server offers it and forgets it.
    pub(super) fn sign_out(&mut self, target: &str) {
        let url = self
            .data
            .snapshot
            .service(target)
            .and_then(|s| {
                s.tasks
                    .iter()
                    .find_map(|t| t.endpoint.as_ref().map(|e| e.url.clone()))
            })
            .or_else(|| {
                self.data
                    .sign_ins
                    .iter()
                    .find(|s| s.label.as_deref() == Some(target) || s.resource == target)
                    .map(|s| s.resource.clone())
            });
        let (Some(url), Some(tokens)) = (url, self.oauth.tokens.clone()) else {
            return self.say(format!("no sign-in for {target}"), true);
        };
        let (events, target) = (self.events.clone(), target.to_string());
        tokio::spawn(async move {
            let result = oauth::revoke::sign_out(&tokens, &url).await;
            let _ = events.send(UiEvent::SignedOut { target, result });
        });
    }
    /// The service whose task answers at `url`, and whether its credentials come from
    /// config (then a refusal is for the person to fix there, not a sign-in).
    pub(super) fn endpoint_owner(&self, url: &str) -> Option<(String, bool)> {
        self.data.snapshot.services.iter().find_map(|service| {
            service.tasks.iter().find_map(|task| {
                let endpoint = task.endpoint.as_ref()?;
                (endpoint.url == url).then(|| (service.name.clone(), endpoint.auth.is_configured()))
            })
        })
    }
    /// A server refused for want of a sign-in: find its authorization server, then ask the
    /// person. `asked`: the person did something that needs it (a call, `:login`), so a
    /// declined offer is made again.
    pub(super) fn offer_sign_in(&mut self, error: &McpError, asked: bool) {
        let McpError::AuthRequired {
            url,
            challenge,
            insufficient_scope,
        } = error
        else {
            return;
        };
        let Some((service, configured)) = self.endpoint_owner(url) else {
            return;
        };
        if configured || self.oauth.busy || !matches!(self.mode, Mode::Normal) {
            return;
        }
        if !self.oauth.offered.insert(url.clone()) && !asked {
            return;
        }
        let Some(tokens) = self.oauth.tokens.clone() else {
            return self.say("no state directory to keep sign-ins in".into(), true);
        };
        self.oauth.busy = true;
        let (client, timeout) = self.oauth.config.client(&service);
        let request = SignIn {
            url: url.clone(),
            label: Some(service.clone()),
            challenge: challenge.clone(),
            client,
            timeout,
            needs_browser: false,
        };
        let (events, url, insufficient_scope) =
            (self.events.clone(), url.clone(), *insufficient_scope);
        // A machine client asks nobody: it gets its token and the console says so.
        if request.client.grant == oauth::Grant::ClientCredentials {
            tokio::spawn(async move {
                let result = oauth::sign_in(&tokens, &request, |_| {}).await;
                let _ = events.send(UiEvent::SignInDone { service, result });
            });
            return;
        }
        tokio::spawn(async move {
            let mut request = request;
            if request.challenge.is_none() {
                request.challenge = oauth::signin::challenge_of(&request.url).await;
            }
            let result = oauth::signin::discover(&tokens, request)
                .await
                .map(Box::new);
            let _ = events.send(UiEvent::SignInFound {
                service,
                url,
                insufficient_scope,
                result,
            });
        });
    }
    /// `:login SERVICE|URL`: sign in to the service's first task endpoint (or to the
    /// endpoint at that URL).
    pub(super) fn sign_in_to(&mut self, service: &str) {
        let url = self
            .data
            .snapshot
            .service(service)
            .and_then(|s| {
                s.tasks
                    .iter()
                    .find_map(|t| t.endpoint.as_ref().map(|e| e.url.clone()))
            })
            .or_else(|| self.endpoint_owner(service).map(|_| service.to_string()));
        match url {
            Some(url) => self.offer_sign_in(
                &McpError::AuthRequired {
                    url,
                    challenge: None,
                    insufficient_scope: false,
                },
                true,
            ),
            None => self.say(
                format!("{service} has no task endpoint to sign in to"),
                true,
            ),
        }
    }
    /// The person said yes: register, open the browser, wait for it.
    pub(super) fn accept_sign_in(&mut self) {
        let Mode::SignIn(SignInDialog::Offer {
            service,
            discovered,
            ..
        }) = &mut self.mode
        else {
            return;
        };
        let (Some(discovered), Some(tokens)) = (discovered.take(), self.oauth.tokens.clone())
        else {
            return;
        };
        let service = service.clone();
        self.mode = Mode::SignIn(SignInDialog::Waiting {
            service: service.clone(),
            issuer: discovered.issuer.clone(),
            prompt: None,
        });
        let events = self.events.clone();
        let task = tokio::spawn(async move {
            let prompts = events.clone();
            let result = oauth::signin::authorize(&tokens, *discovered, move |prompt| {
                let _ = prompts.send(UiEvent::SignInPrompt(prompt.clone()));
            })
            .await;
            let _ = events.send(UiEvent::SignInDone { service, result });
        });
        self.oauth.running = Some(task.abort_handle());
    }
    pub(super) fn end_sign_in(&mut self) {
        self.oauth.busy = false;
        self.oauth.running = None;
        if matches!(self.mode, Mode::SignIn(_)) {
            self.mode = Mode::Normal;
        }
    }
    /// Probes the service's ready tasks again after a sign-in, so its tools show at once.
    pub(super) fn reprobe(&self, service: &str) {
        let Some(found) = self.data.snapshot.service(service) else {
            return;
        };
        for task in found.ready_tasks() {
            let (mcp, service, task) = (self.mcp.clone(), service.to_string(), task.id.clone());
            tokio::spawn(async move {
                let _ = mcp.probe(&service, Some(&task)).await;
            });
        }
    }

    /// The news of a sign-in or sign-out under way.
    pub(super) fn on_sign_in_event(&mut self, event: UiEvent) {
        match event {
            UiEvent::SignInFound {
                service,
                url,
                insufficient_scope,
                result,
            } => match result {
                Ok(discovered) if matches!(self.mode, Mode::Normal) => {
                    self.mode = Mode::SignIn(SignInDialog::Offer {
                        service,
                        url,
                        insufficient_scope,
                        discovered: Some(discovered),
                    });
                }
                // Someone is typing or confirming; the next refusal offers again.
                Ok(_) => {
                    self.oauth.busy = false;
                    self.oauth.offered.remove(&url);
                }
                Err(error) => {
                    self.oauth.busy = false;
                    self.say(format!("cannot sign in to {service}: {error}"), true);
                }
            },
            UiEvent::SignInPrompt(prompt) => {
                if let Mode::SignIn(SignInDialog::Waiting { prompt: shown, .. }) = &mut self.mode {
                    *shown = Some(prompt);
                }
            }
            UiEvent::SignedOut { target, result } => {
                use oauth::revoke::SignedOut;
                let (text, error) = match result {
                    Ok(SignedOut::Revoked) => (
                        format!("signed out of {target}; the grant is revoked"),
                        false,
                    ),
                    Ok(SignedOut::Forgotten) => (
                        format!("signed out of {target}; its server offers no revocation"),
                        false,
                    ),
                    Ok(SignedOut::RevocationFailed(reason)) => (
                        format!("signed out of {target} here; revoking the grant failed: {reason}"),
                        true,
                    ),
                    Ok(SignedOut::NotSignedIn) => (format!("not signed in to {target}"), false),
                    Err(reason) => (format!("sign-out of {target}: {reason}"), true),
                };
                self.reload_sign_ins();
                self.say(text, error);
            }
            UiEvent::SignInDone { service, result } => {
                self.end_sign_in();
                self.reload_sign_ins();
                match result {
                    Ok(signed) => {
                        self.say(
                            format!(
                                "signed in to {service} at {}",
                                signed
                                    .issuer
                                    .as_deref()
                                    .unwrap_or("its authorization server")
                            ),
                            false,
                        );
                        self.reprobe(&service);
                    }
                    Err(error) => self.say(format!("sign-in to {service}: {error}"), true),
                }
            }
            UiEvent::CommandDone(_) => {}
        }
    }
}
