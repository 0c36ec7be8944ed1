//! Where OAuth credentials live between runs: one JSON file per protected resource, mode 0600,
//! in a 0700 directory under the XDG state directory (`~/.local/state/mcpfleet/oauth`), never
//! in the config file. A file rather than the OS keyring: the console runs on jump hosts, in
//! containers and in CI, where no keyring daemon answers, and a headless fallback would put
//! the tokens in a file anyway.
//!
//! Each file holds the client the console registered (or was given), the issuer that granted
//! the tokens, and rmcp's `StoredCredentials`. rmcp reads and writes the credentials through
//! [`FileCredentialStore`], which keeps the rest of the file as it is.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use rmcp::transport::auth::{
    AuthError, CredentialRefreshGuard, CredentialStore, StoredCredentials,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The client the console is to the authorization server: registered by the console
/// (dynamic client registration), a client ID metadata document URL, or pre-registered in
/// config. A pre-registered client's secret stays in its environment variable and is never
/// written here; a secret the server issued at registration has nowhere else to live.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClientRecord {
    #[serde(default)]
    pub grant: super::Grant,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Environment variable of a pre-registered client's secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    pub redirect_uri: String,
}

impl std::fmt::Debug for ClientRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRecord")
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("secret_env", &self.secret_env)
            .finish()
    }
}

impl ClientRecord {
    /// The client secret, wherever it is kept.
    pub fn secret(&self) -> Option<String> {
        self.secret.clone().or_else(|| {
            self.secret_env
                .as_ref()
                .and_then(|var| std::env::var(var).ok())
        })
    }
}

/// One protected resource's credentials.
#[derive(Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The MCP server URL the credentials are for (the RFC 8707 resource).
    pub resource: String,
    /// The service name it was signed in as, for `auth status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub issuer: Option<String>,
    pub client: ClientRecord,
    /// Where to revoke the grant at sign-out (RFC 7009), when the server offers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<StoredCredentials>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("resource", &self.resource)
            .field("issuer", &self.issuer)
            .field("client", &self.client)
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// What `auth status` shows of an entry: never a token.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Status {
    pub resource: String,
    pub label: Option<String>,
    pub issuer: Option<String>,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// Seconds since the epoch when the access token expires, when the server said.
    pub expires_at: Option<u64>,
    pub refreshable: bool,
}

impl Entry {
    pub fn status(&self) -> Status {
        use oauth2::TokenResponse as _;
        use rmcp::transport::auth::OAuthTokenResponse;
        let token: Option<&OAuthTokenResponse> = self
            .credentials
            .as_ref()
            .and_then(|c| c.token_response.as_ref());
        let received = self.credentials.as_ref().and_then(|c| c.token_received_at);
        Status {
            resource: self.resource.clone(),
            label: self.label.clone(),
            issuer: self.issuer.clone(),
            client_id: self.client.id.clone(),
            scopes: self
                .credentials
                .as_ref()
                .map(|c| c.granted_scopes.clone())
                .unwrap_or_default(),
            expires_at: token
                .and_then(|t| t.expires_in())
                .zip(received)
                .map(|(expires_in, at)| at + expires_in.as_secs()),
            refreshable: token.is_some_and(|t| t.refresh_token().is_some()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no state directory for mcpfleet (set XDG_STATE_HOME or HOME)")]
    NoDirectory,
    #[error("token store {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("token store {path} is not readable JSON: {source}; delete it and sign in again")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
}

#[derive(Debug, Clone)]
pub struct TokenStore {
    dir: PathBuf,
}

impl TokenStore {
    /// The store under the XDG state directory (the local data directory where there is none).
    pub fn open_default() -> Result<Self, StoreError> {
        let dirs =
            directories::ProjectDirs::from("", "", "mcpfleet").ok_or(StoreError::NoDirectory)?;
        let base = dirs
            .state_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dirs.data_local_dir().to_path_buf());
        Ok(Self::at(base.join("oauth")))
    }

    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A resource's file: a hash of its URL, so any URL makes a safe file name.
    fn path_for(&self, resource: &str) -> PathBuf {
        let digest = Sha256::digest(key(resource).as_bytes());
        self.dir
            .join(format!("{}.json", hex::encode(&digest[..16])))
    }

    pub fn load(&self, resource: &str) -> Result<Option<Entry>, StoreError> {
        read(&self.path_for(resource))
    }

    pub fn save(&self, entry: &Entry) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            path: self.dir.clone(),
            source,
        };
        create_private_dir(&self.dir).map_err(io)?;
        let path = self.path_for(&entry.resource);
        let text = serde_json::to_vec_pretty(entry).expect("entries serialise");
        // Written beside the file and renamed over it, so a reader never sees half an entry.
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let mut file = private_file(&temporary, true).map_err(io)?;
        file.write_all(&text).map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::rename(&temporary, &path).map_err(io)
    }

    /// Forgets a resource's credentials; false when there were none.
    pub fn remove(&self, resource: &str) -> Result<bool, StoreError> {
        let path = self.path_for(resource);
        let _ = fs::remove_file(path.with_extension("lock"));
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Every entry, ordered by resource.
    pub fn list(&self) -> Result<Vec<Entry>, StoreError> {
        let read_dir = match fs::read_dir(&self.dir) {
            Ok(read_dir) => read_dir,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StoreError::Io {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut entries = Vec::new();
        for item in read_dir.flatten() {
            let path = item.path();
            if path.extension().is_some_and(|e| e == "json")
                && let Some(entry) = read(&path)?
            {
                entries.push(entry);
            }
        }
        entries.sort_by(|a, b| a.resource.cmp(&b.resource));
        Ok(entries)
    }

    /// rmcp's view of one resource's credentials.
    pub fn credential_store(&self, resource: &str) -> FileCredentialStore {
        FileCredentialStore {
            store: self.clone(),
            resource: resource.to_string(),
            signing_in: None,
            cache: Arc::default(),
        }
    }

    /// The credential store of a sign-in in progress: the tokens it receives replace the
    /// resource's entry with `entry` (its client and issuer); until then nothing is written.
    pub fn credential_store_for_sign_in(&self, entry: Entry) -> FileCredentialStore {
        FileCredentialStore {
            store: self.clone(),
            resource: entry.resource.clone(),
            signing_in: Some(Arc::new(Mutex::new(entry))),
            cache: Arc::default(),
        }
    }
}

/// One URL, one key: `HTTP://Host/mcp/` and `http://host/mcp` are the same resource.
pub fn key(resource: &str) -> String {
    match reqwest::Url::parse(resource) {
        Ok(mut url) => {
            url.set_fragment(None);
            let mut text = url.to_string();
            while text.ends_with('/') && url.path() != "/" {
                text.pop();
            }
            text
        }
        Err(_) => resource.trim().to_string(),
    }
}

fn read(path: &Path) -> Result<Option<Entry>, StoreError> {
    match fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| StoreError::Corrupt {
                    path: path.to_path_buf(),
                    source,
                })
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    // A directory made earlier by something else keeps its mode; tighten it.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// A file only its user can read; `truncate` empties one that exists.
fn private_file(path: &Path, truncate: bool) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(truncate)
        .mode(0o600)
        .open(path)
}

/// rmcp's credential store for one resource, backed by that resource's file.
#[derive(Debug, Clone)]
pub struct FileCredentialStore {
    store: TokenStore,
    resource: String,
    /// The entry a sign-in in progress will write.
    signing_in: Option<Arc<Mutex<Entry>>>,
    /// rmcp loads the credentials before every request; they are read from the file again
    /// only when it changed (another process refreshed, signed in or out).
    cache: Arc<Mutex<Option<Cached>>>,
}

/// The credentials as last read, and which version of the file they came from.
#[derive(Debug)]
struct Cached {
    version: (u64, std::time::SystemTime, u64),
    credentials: Option<StoredCredentials>,
}

/// Which version of a file this is: a save renames a new file over the old one, so the inode
/// changes whatever the clock's resolution.
fn version_of(path: &Path) -> std::io::Result<(u64, std::time::SystemTime, u64)> {
    use std::os::unix::fs::MetadataExt;
    let metadata = fs::metadata(path)?;
    Ok((metadata.ino(), metadata.modified()?, metadata.len()))
}

impl FileCredentialStore {
    fn cached(&self) -> std::sync::MutexGuard<'_, Option<Cached>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn lock(entry: &Mutex<Entry>) -> std::sync::MutexGuard<'_, Entry> {
    entry.lock().unwrap_or_else(PoisonError::into_inner)
}

fn store_error(error: StoreError) -> AuthError {
    AuthError::CredentialStoreError(error.to_string())
}

#[async_trait::async_trait]
impl CredentialStore for FileCredentialStore {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        if let Some(entry) = &self.signing_in {
            return Ok(lock(entry).credentials.clone());
        }
        let path = self.store.path_for(&self.resource);
        let version = match version_of(&path) {
            Ok(version) => version,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                *self.cached() = None;
                return Ok(None);
            }
            Err(source) => return Err(store_error(StoreError::Io { path, source })),
        };
        if let Some(cached) = &*self.cached()
            && cached.version == version
        {
            return Ok(cached.credentials.clone());
        }
        let credentials = read(&path)
            .map_err(store_error)?
            .and_then(|entry| entry.credentials);
        *self.cached() = Some(Cached {
            version,
            credentials: credentials.clone(),
        });
        Ok(credentials)
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        let stored = match &self.signing_in {
            Some(entry) => Some(lock(entry).clone()),
            None => self.store.load(&self.resource).map_err(store_error)?,
        };
        let mut entry = stored.ok_or_else(|| {
            AuthError::CredentialStoreError(format!("no sign-in recorded for {}", self.resource))
        })?;
        if credentials.issuer.is_some() {
            entry.issuer = credentials.issuer.clone();
        }
        entry.credentials = Some(credentials);
        self.store.save(&entry).map_err(store_error)?;
        *self.cached() = None;
        if let Some(signing_in) = &self.signing_in {
            *lock(signing_in) = entry;
        }
        Ok(())
    }

    async fn clear(&self) -> Result<(), AuthError> {
        self.store
            .remove(&self.resource)
            .map(|_| ())
            .map_err(store_error)
    }

    /// An exclusive lock on the resource's lock file, held from loading the refresh token to
    /// saving its successor: a console and a command refreshing at once would otherwise
    /// both present the same refresh token, and a server that rotates them revokes the grant.
    async fn acquire_refresh_guard(&self) -> Result<Option<CredentialRefreshGuard>, AuthError> {
        let path = self.store.path_for(&self.resource).with_extension("lock");
        let dir = self.store.dir.clone();
        let flock = tokio::task::spawn_blocking(move || {
            create_private_dir(&dir)?;
            let file = private_file(&path, false)?;
            nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
                .map_err(|(_, errno)| std::io::Error::from(errno))
        })
        .await
        .map_err(|e| AuthError::CredentialStoreError(e.to_string()))?
        .map_err(|e| {
            AuthError::CredentialStoreError(format!("cannot lock the token store: {e}"))
        })?;
        Ok(Some(CredentialRefreshGuard::new(flock)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(resource: &str) -> Entry {
        Entry {
            resource: resource.into(),
            label: Some("tools".into()),
            issuer: Some("http://127.0.0.1:1".into()),
            client: ClientRecord {
                grant: Default::default(),
                id: "client-1".into(),
                secret: Some("registered-secret".into()),
                secret_env: None,
                redirect_uri: "http://127.0.0.1:2/callback".into(),
            },
            revocation_endpoint: None,
            credentials: None,
        }
    }

    #[test]
    fn entries_round_trip_in_private_files_keyed_by_url() {
        let dir = std::env::temp_dir().join(format!("mcpfleet-store-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let store = TokenStore::at(dir.join("oauth"));
        assert!(store.load("http://127.0.0.1:9/mcp").unwrap().is_none());
        store.save(&entry("http://127.0.0.1:9/mcp")).unwrap();
        let loaded = store.load("HTTP://127.0.0.1:9/mcp/").unwrap().unwrap();
        assert_eq!(loaded.client.id, "client-1");
        assert_eq!(store.list().unwrap().len(), 1);
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(store.dir()), 0o700);
            assert_eq!(mode(&store.path_for("http://127.0.0.1:9/mcp")), 0o600);
        }
        assert!(!format!("{loaded:?}").contains("registered-secret"));
        assert!(store.remove("http://127.0.0.1:9/mcp").unwrap());
        assert!(!store.remove("http://127.0.0.1:9/mcp").unwrap());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn credentials_are_read_again_only_when_the_file_changed() {
        let dir = std::env::temp_dir().join(format!("mcpfleet-cache-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let store = TokenStore::at(&dir);
        let resource = "http://127.0.0.1:9/mcp";
        let credentials = store.credential_store(resource);
        assert!(credentials.load().await.unwrap().is_none());
        let mut signed = entry(resource);
        signed.credentials = Some(StoredCredentials::new(
            "client-1".into(),
            None,
            vec!["a".into()],
            Some(1),
        ));
        store.save(&signed).unwrap();
        let first = credentials.load().await.unwrap().unwrap();
        assert_eq!(first.granted_scopes, ["a"]);
        // Another process saves: a new file, so the next load sees it.
        signed.credentials = Some(StoredCredentials::new(
            "client-1".into(),
            None,
            vec!["b".into()],
            Some(2),
        ));
        TokenStore::at(&dir).save(&signed).unwrap();
        assert_eq!(
            credentials.load().await.unwrap().unwrap().granted_scopes,
            ["b"]
        );
        // The refresh guard is exclusive across holders.
        let guard = credentials.acquire_refresh_guard().await.unwrap();
        let other = store.credential_store(resource);
        let waiting =
            tokio::spawn(async move { other.acquire_refresh_guard().await.map(|g| g.is_some()) });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "a second holder waits");
        drop(guard);
        assert!(waiting.await.unwrap().unwrap());
        assert!(store.remove(resource).unwrap());
        assert!(credentials.load().await.unwrap().is_none());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_corrupt_file_is_an_error_that_says_what_to_do() {
        let dir = std::env::temp_dir().join(format!("mcpfleet-corrupt-{}", std::process::id()));
        let store = TokenStore::at(&dir);
        create_private_dir(&dir).unwrap();
        fs::write(store.path_for("http://h/mcp"), b"{not json").unwrap();
        let error = store.load("http://h/mcp").unwrap_err().to_string();
        assert!(error.contains("delete it and sign in again"), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
