//! Skills (SEP-2640, the `io.modelcontextprotocol/skills` extension): `skills/list`, and one
//! skill's manifest by `skills/get`, checked against the spec's rules (`Skill::validate`) and,
//! when asked, file by file — each file read with `resources/read`, its text or blob decoded to
//! bytes, and its size and sha256 digest compared with the manifest's (rmcp's
//! `SkillResource::verify`). Called by `browse.rs` on the worker's pooled client; nothing here
//! opens a connection of its own.

use base64::Engine;
use rmcp::{
    Peer, RoleClient,
    model::{
        GetSkillRequestParams, ReadResourceRequestParams, ReadResourceResponse, ResourceContents,
        Skill, SkillResource, SkillResources,
    },
};
use serde::Serialize;

use super::{McpError, connection::Connection, error::from_service_error};

/// One skill's manifest, with what was checked of it.
#[derive(Debug, Clone, Serialize)]
pub struct SkillReport {
    pub skill: Skill,
    /// Why the manifest breaks the spec's rules (`Skill::validate`), if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
    /// Each file's check, in the manifest's order; `None` when not asked to verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileCheck>>,
}

impl SkillReport {
    /// Whether every check asked for passed.
    pub fn sound(&self) -> bool {
        self.invalid.is_none()
            && self
                .files
                .iter()
                .flatten()
                .all(|file| file.status == FileStatus::Ok)
    }

    /// The files that did not match their manifest entry.
    pub fn failed(&self) -> Vec<&FileCheck> {
        self.files
            .iter()
            .flatten()
            .filter(|file| file.status != FileStatus::Ok)
            .collect()
    }
}

/// One file of a manifest, read and compared.
#[derive(Debug, Clone, Serialize)]
pub struct FileCheck {
    pub uri: String,
    pub status: FileStatus,
    /// What did not match, or why the file could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Ok,
    Mismatch,
    Unreadable,
}

fn declared(connection: &Connection) -> Result<(), McpError> {
    let serves = connection
        .server()
        .is_some_and(|info| info.capabilities.supports_skills());
    if serves {
        Ok(())
    } else {
        Err(McpError::NoSkills {
            server: connection.url.clone(),
        })
    }
}

pub(super) async fn list(connection: &Connection) -> Result<Vec<Skill>, McpError> {
    declared(connection)?;
    let url = &connection.url;
    connection
        .peer()
        .list_all_skills()
        .await
        .map_err(|error| connection.explain(from_service_error(url, &error).error))
}

/// `skill` is a skill's name (its frontmatter name, looked up in `skills/list`) or the URI of
/// its `SKILL.md`.
pub(super) async fn get(
    connection: &Connection,
    skill: &str,
    verify: bool,
) -> Result<SkillReport, McpError> {
    declared(connection)?;
    let url = &connection.url;
    let failed = |error| connection.explain(from_service_error(url, &error).error);
    let peer = connection.peer();
    let uri = if skill.contains("://") {
        skill.to_string()
    } else {
        let skills = peer.list_all_skills().await.map_err(failed)?;
        match skills.iter().find(|s| s.name() == skill) {
            Some(found) => found.uri.clone(),
            None => {
                return Err(McpError::UnknownSkill {
                    skill: skill.to_string(),
                    available: skills.iter().map(|s| s.name().to_string()).collect(),
                });
            }
        }
    };
    let result = peer
        .get_skill(GetSkillRequestParams::new(uri))
        .await
        .map_err(failed)?;
    let skill = result.skill;
    let invalid = skill.validate().err().map(|error| error.to_string());
    let files = match (&skill.resources, verify) {
        (SkillResources::Files(files), true) => {
            let mut checks = Vec::with_capacity(files.len());
            for file in files {
                checks.push(check(peer, file).await);
            }
            Some(checks)
        }
        _ => None,
    };
    Ok(SkillReport {
        skill,
        invalid,
        files,
    })
}

async fn check(peer: &Peer<RoleClient>, file: &SkillResource) -> FileCheck {
    let (status, reason) = match read_bytes(peer, &file.uri).await {
        Ok(bytes) => match file.verify(&bytes) {
            Ok(()) => (FileStatus::Ok, None),
            Err(error) => (FileStatus::Mismatch, Some(error.to_string())),
        },
        Err(reason) => (FileStatus::Unreadable, Some(reason)),
    };
    FileCheck {
        uri: file.uri.clone(),
        status,
        reason,
    }
}

/// The bytes of the resource at `uri`: its text as UTF-8, or its blob decoded.
async fn read_bytes(peer: &Peer<RoleClient>, uri: &str) -> Result<Vec<u8>, String> {
    let response = peer
        .read_resource_once(ReadResourceRequestParams::new(uri.to_string()))
        .await
        .map_err(|error| error.to_string())?;
    let ReadResourceResponse::Complete(result) = response else {
        return Err("the server asked for input to read a skill file".into());
    };
    let uri_of = |contents: &ResourceContents| match contents {
        ResourceContents::TextResourceContents { uri, .. }
        | ResourceContents::BlobResourceContents { uri, .. } => Some(uri.clone()),
        _ => None,
    };
    let contents = match result.contents.as_slice() {
        [one] => one,
        many => many
            .iter()
            .find(|c| uri_of(c).as_deref() == Some(uri))
            .ok_or_else(|| format!("{} items, none for this URI", many.len()))?,
    };
    match contents {
        ResourceContents::TextResourceContents { text, .. } => Ok(text.clone().into_bytes()),
        ResourceContents::BlobResourceContents { blob, .. } => {
            base64::engine::general_purpose::STANDARD
                .decode(blob)
                .map_err(|error| format!("the blob is not base64: {error}"))
        }
        _ => Err("contents of a kind unknown here".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(statuses: &[FileStatus]) -> SkillReport {
        let skill: Skill = serde_json::from_value(serde_json::json!({
            "uri": "skill://a/SKILL.md",
            "frontmatter": {"name": "a", "description": "d"},
            "resources": "dynamic",
        }))
        .unwrap();
        SkillReport {
            skill,
            invalid: None,
            files: Some(
                statuses
                    .iter()
                    .enumerate()
                    .map(|(i, status)| FileCheck {
                        uri: format!("skill://a/{i}"),
                        status: *status,
                        reason: None,
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn a_report_is_sound_only_when_every_file_matched() {
        assert!(report(&[FileStatus::Ok, FileStatus::Ok]).sound());
        let bad = report(&[FileStatus::Ok, FileStatus::Mismatch, FileStatus::Unreadable]);
        assert!(!bad.sound());
        let failed: Vec<&str> = bad.failed().iter().map(|f| f.uri.as_str()).collect();
        assert_eq!(failed, ["skill://a/1", "skill://a/2"]);
    }
}
