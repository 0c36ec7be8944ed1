//! Stored credentials put to use: the rmcp authorization manager an MCP client sends its
//! requests through, which adds the bearer token, refreshes it before it expires and after
//! the server rejects it, and saves what the refresh returned.

use rmcp::transport::auth::{AuthorizationManager, OAuthClientConfig};

use super::{signin::one_line, store::TokenStore};

/// A manager holding `url`'s stored credentials, or `None` when nobody signed in to it.
/// Resolving the server's metadata takes a request or two, once per connection.
pub async fn manager_for(
    store: &TokenStore,
    url: &str,
) -> Result<Option<AuthorizationManager>, String> {
    let Some(entry) = store.load(url).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    if entry.credentials.is_none() {
        return Ok(None);
    }
    let mut manager = AuthorizationManager::new(url)
        .await
        .map_err(|e| one_line(&e))?;
    manager.set_credential_store(store.credential_store(url));
    if !manager
        .initialize_from_store()
        .await
        .map_err(|e| format!("cannot use the stored sign-in for {url}: {}", one_line(&e)))?
    {
        return Ok(None);
    }
    // rmcp restores only the client id; a confidential client needs its secret to refresh.
    // A client credentials grant has nothing to refresh: a new token is a new grant.
    if entry.client.grant == super::Grant::AuthorizationCode
        && let Some(secret) = entry.client.secret()
    {
        manager
            .configure_client(
                OAuthClientConfig::new(entry.client.id.clone(), entry.client.redirect_uri.clone())
                    .with_client_secret(secret),
            )
            .map_err(|e| one_line(&e))?;
    }
    Ok(Some(manager))
}
