//! A small MCP server of the tests' own, on loopback, serving skills (SEP-2640) from a folder:
//! each subfolder with a `SKILL.md` is a skill at `skill://NAME/SKILL.md`, its files listed in
//! the manifest with their sizes and sha256 digests (rmcp's `SkillResource::from_bytes`) and
//! read with `resources/read` — UTF-8 files as text, others as base64 blobs, as rmcp's
//! `SkillCatalog` serves them. `Honesty::Lies` serves one file's bytes altered after the
//! manifest was made, as a server whose files changed under it (or that lies) would.

#![allow(dead_code)]

use std::{collections::BTreeMap, net::SocketAddr, path::Path, sync::Arc};

use base64::Engine;
use rmcp::{
    ErrorData, RoleServer, ServerHandler,
    model::{
        GetSkillRequestParams, GetSkillResult, ListResourcesResult, ListSkillsResult,
        PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
        ReadResourceResult, Resource, ResourceContents, ServerCapabilities, ServerConfig, Skill,
        SkillFrontmatter, SkillResource, SkillResources,
    },
    service::RequestContext,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};
use tokio_util::sync::CancellationToken;

/// Whether the server serves the bytes its manifests describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Honesty {
    Honest,
    /// The file at this URI is served with its last byte changed.
    Lies(String),
}

struct Catalog {
    skills: Vec<Skill>,
    files: BTreeMap<String, Vec<u8>>,
    honesty: Honesty,
}

impl Catalog {
    fn load(root: &Path, honesty: Honesty) -> Self {
        let mut skills = Vec::new();
        let mut files = BTreeMap::new();
        let mut names: Vec<_> = std::fs::read_dir(root)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.join("SKILL.md").is_file())
            .collect();
        names.sort();
        for dir in names {
            let name = dir.file_name().unwrap().to_str().unwrap().to_string();
            let mut manifest = Vec::new();
            let mut stack = vec![dir.clone()];
            while let Some(folder) = stack.pop() {
                for entry in std::fs::read_dir(&folder).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let relative = path.strip_prefix(&dir).unwrap().to_str().unwrap();
                    let uri = format!("skill://{name}/{}", relative.replace('\\', "/"));
                    let bytes = std::fs::read(&path).unwrap();
                    manifest.push(SkillResource::from_bytes(uri.clone(), &bytes));
                    files.insert(uri, bytes);
                }
            }
            manifest.sort_by(|a, b| a.uri.cmp(&b.uri));
            let text = std::fs::read_to_string(dir.join("SKILL.md")).unwrap();
            let description = text
                .lines()
                .find_map(|line| line.strip_prefix("description: "))
                .unwrap_or_default();
            skills.push(Skill::new(
                format!("skill://{name}/SKILL.md"),
                SkillFrontmatter::new(name, description),
                SkillResources::Files(manifest),
            ));
        }
        Self {
            skills,
            files,
            honesty,
        }
    }

    fn read(&self, uri: &str) -> Option<ReadResourceResult> {
        let mut bytes = self.files.get(uri)?.clone();
        if self.honesty == Honesty::Lies(uri.to_string())
            && let Some(last) = bytes.last_mut()
        {
            *last = if *last == b'!' { b'?' } else { b'!' };
        }
        let contents = match String::from_utf8(bytes) {
            Ok(text) => ResourceContents::text(text, uri),
            Err(error) => ResourceContents::blob(
                base64::engine::general_purpose::STANDARD.encode(error.into_bytes()),
                uri,
            ),
        };
        Some(ReadResourceResult::new(vec![contents]))
    }
}

#[derive(Clone)]
struct Skills {
    catalog: Arc<Catalog>,
}

impl ServerHandler for Skills {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_resources()
                .enable_skills()
                .build(),
        )
    }

    async fn list_skills(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, ErrorData> {
        Ok(ListSkillsResult::with_all_items(
            self.catalog.skills.clone(),
        ))
    }

    async fn get_skill(
        &self,
        request: GetSkillRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, ErrorData> {
        self.catalog
            .skills
            .iter()
            .find(|skill| skill.uri == request.uri)
            .map(|skill| GetSkillResult::new(skill.clone()))
            .ok_or_else(|| ErrorData::invalid_params(format!("no skill {}", request.uri), None))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resources = self
            .catalog
            .files
            .keys()
            .map(|uri| Resource::new(uri.clone(), uri.rsplit('/').next().unwrap_or(uri)))
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        self.catalog
            .read(&request.uri)
            .map(Into::into)
            .ok_or_else(|| ErrorData::resource_not_found(request.uri, None))
    }
}

/// The running server; dropping it stops it.
pub struct SkillsServer {
    pub url: String,
    stop: CancellationToken,
}

impl SkillsServer {
    /// Serves the skills in the subfolders of `root`, as they are now.
    pub async fn start(root: &Path, honesty: Honesty) -> Self {
        let catalog = Arc::new(Catalog::load(root, honesty));
        let stop = CancellationToken::new();
        let service: StreamableHttpService<Skills, LocalSessionManager> =
            StreamableHttpService::new(
                move || {
                    Ok(Skills {
                        catalog: catalog.clone(),
                    })
                },
                Default::default(),
                StreamableHttpServerConfig::default().with_cancellation_token(stop.child_token()),
            );
        let router = axum::Router::new().nest_service("/mcp", service);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let stopped = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(stopped.cancelled_owned())
                .await;
        });
        Self {
            url: format!("http://{address}/mcp"),
            stop,
        }
    }
}

impl Drop for SkillsServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
