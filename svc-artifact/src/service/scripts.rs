//! Scripts (5.11): each upload is one script version (`disable` until reviewed), its files
//! checked against `file_md5`; review by a `reviewer` or `admin` who did not upload it.

use common::{
    audit::{self, Change, NewEvent, Origin},
    auth::Role,
    limits,
    read_cache::caller_scope,
    time::now_utc,
};

use super::{
    Actor, ArtifactError, ArtifactResult, ArtifactService, RecordKind, UploadOutcome, file_row,
    ingest::{self, Ingested},
    require_reader, require_reviewer,
};
use crate::db::models::{
    files::{self, FileRow},
    scripts::{self, ScriptRow},
};

/// Status of a reviewed, runnable script version.
pub const ABLE: &str = "able";
/// Status of a script version not (or no longer) approved.
pub const DISABLE: &str = "disable";

/// Largest script file shown as text (5.11.4).
const MAX_TEXT_BYTES: i64 = 4 * 1024 * 1024;

impl ArtifactService {
    pub(super) async fn script_stored(
        &self,
        actor: &Actor,
        ingested: &Ingested,
    ) -> ArtifactResult<UploadOutcome> {
        let app_id = ingested.required("app_id")?;
        let name = ingested.required("name")?;
        self.require_application(actor, &app_id).await?;
        if ingested.files.is_empty() {
            return Err(ArtifactError::missing("file"));
        }
        let declared = ingest::declared_md5s(ingested)?;
        ingest::check_md5s(ingested, &declared)?;
        let now = now_utc();
        let creator = actor.username().to_owned();
        let script = ScriptRow {
            id: common::ids::new_id(),
            app_id,
            name,
            uploader: creator.clone(),
            status: DISABLE.to_owned(),
            reviewer: String::new(),
            create_time: now,
            review_time: None,
        };
        let rows: Vec<FileRow> = ingested
            .files
            .iter()
            .map(|file| {
                file_row(
                    &file.id,
                    &file.name,
                    &file.name,
                    &file.object_key,
                    &file.digest,
                    &script.id,
                    "script",
                    &creator,
                    now,
                )
            })
            .collect();
        let version_id = script.id.clone();
        let write_rows = rows.clone();
        let files = rows.len().to_string();
        let event = NewEvent::new(
            &Origin::of(&actor.claims),
            "script.upload",
            "script",
            &script.id,
        )
        .app(Some(&script.app_id))
        .change(Change::new("name", None, Some(&script.name)))
        .change(Change::new("status", None, Some(&script.status)))
        .change(Change::new("files", None, Some(&files)));
        let written = self
            .database
            .transaction(move |connection| {
                scripts::insert(connection, &script)?;
                files::insert_all(connection, &write_rows)?;
                audit::append(connection, event, audit::now_ms())?;
                Ok::<_, ArtifactError>(())
            })
            .await;
        self.reads.written(&[super::SCRIPTS_SCOPE], written).await?;
        Ok(UploadOutcome {
            files: rows,
            version_id,
            ..UploadOutcome::default()
        })
    }

    /// Script versions of an application (5.11.1 list), newest first.
    pub async fn list_scripts(
        &self,
        actor: &Actor,
        app_id: &str,
        name: &str,
    ) -> ArtifactResult<Vec<ScriptRow>> {
        require_reader(actor)?;
        let (app_id, name) = (app_id.trim().to_owned(), name.trim().to_owned());
        let read = format!("scripts\n{app_id}\n{name}");
        let load = self.database.run(move |connection| {
            scripts::list(connection, &app_id, &name).map_err(ArtifactError::from)
        });
        self.reads
            .read_through(&[super::SCRIPTS_SCOPE], &read, load)
            .await
    }

    /// Whether the caller may review scripts (5.11.2). Read under the caller's own generation
    /// (which any change of their roles, sessions or tokens bumps), so a gateway may keep it.
    pub async fn may_review(&self, actor: &Actor) -> bool {
        let may = actor.claims.has_role(Role::Admin) || actor.claims.has_role(Role::Reviewer);
        let scope = caller_scope(actor.username());
        let read = format!("may review\n{may}");
        let answer = self
            .reads
            .read_through(&[scope.as_str()], &read, async {
                Ok::<bool, std::convert::Infallible>(may)
            })
            .await;
        answer.unwrap_or(may)
    }

    /// Sets a script version `able` or `disable` (5.11.3).
    pub async fn review_script(
        &self,
        actor: &Actor,
        id: &str,
        method_id: &str,
        status: &str,
    ) -> ArtifactResult<ScriptRow> {
        require_reviewer(actor)?;
        limits::check("method_id", method_id.trim(), limits::ID)?;
        limits::check("status", status.trim(), limits::TOKEN)?;
        let method_id = method_id.trim();
        if !method_id.is_empty() && method_id != id {
            return Err(ArtifactError::invalid(
                "method_id",
                format!("{method_id:?} must equal the script id {id:?} of the URL"),
            ));
        }
        let status = status.trim();
        if status != ABLE && status != DISABLE {
            if status.is_empty() {
                return Err(ArtifactError::missing("status"));
            }
            return Err(ArtifactError::invalid(
                "status",
                format!("{status:?} must be able or disable"),
            ));
        }
        let (id, status, reviewer) = (
            id.to_owned(),
            status.to_owned(),
            actor.username().to_owned(),
        );
        let origin = Origin::of(&actor.claims);
        let written = self
            .database
            .transaction(move |connection| {
                let script = scripts::find(connection, &id)?
                    .ok_or_else(|| ArtifactError::not_found(RecordKind::Script, &id))?;
                if status == ABLE && script.uploader == reviewer {
                    return Err(ArtifactError::SelfReview(format!(
                        "user {reviewer:?} uploaded script {:?} and cannot approve it; another reviewer must",
                        script.name
                    )));
                }
                let now = now_utc();
                scripts::set_status(connection, &id, &status, &reviewer, now)?;
                let event = NewEvent::new(&origin, "script.review", "script", &id)
                    .app(Some(&script.app_id))
                    .change(Change::new("status", Some(&script.status), Some(&status)));
                audit::append(connection, event, audit::now_ms())?;
                Ok(ScriptRow {
                    status,
                    reviewer,
                    review_time: Some(now),
                    ..script
                })
            })
            .await;
        self.reads.written(&[super::SCRIPTS_SCOPE], written).await
    }

    /// A script version with its files.
    pub async fn script(
        &self,
        actor: &Actor,
        id: &str,
    ) -> ArtifactResult<(ScriptRow, Vec<FileRow>)> {
        require_reader(actor)?;
        let owned = id.to_owned();
        self.database
            .run(move |connection| {
                let script = scripts::find(connection, &owned)?
                    .ok_or_else(|| ArtifactError::not_found(RecordKind::Script, &owned))?;
                let files = files::of_version(connection, &owned)?;
                Ok((script, files))
            })
            .await
    }

    /// A script file with its script version (the jobs service asks whether it may run it).
    pub async fn script_file(
        &self,
        actor: &Actor,
        file_id: &str,
    ) -> ArtifactResult<(FileRow, ScriptRow)> {
        let file = self.file(actor, file_id).await?;
        if file.role != "script" {
            return Err(ArtifactError::not_found(
                RecordKind::Script,
                &format!("of file {file_id}"),
            ));
        }
        let (script, _) = self.script(actor, &file.version_id).await?;
        Ok((file, script))
    }

    /// The text of a file (5.11.4); binary files fail. Files never change, so a small text is
    /// kept (a few, see `KEPT_TEXTS`); a large one is read each time and kept nowhere.
    pub async fn file_text(&self, actor: &Actor, file_id: &str) -> ArtifactResult<String> {
        require_reader(actor)?;
        let read = format!("text\n{file_id}");
        let load = self.read_file_text(actor, file_id);
        let small = |text: &String| text.len() <= super::MAX_KEPT_TEXT_BYTES;
        self.texts
            .read_through_if(&[super::FILES_SCOPE], &read, small, load)
            .await
    }

    async fn read_file_text(&self, actor: &Actor, file_id: &str) -> ArtifactResult<String> {
        let file = self.file(actor, file_id).await?;
        if file.size > MAX_TEXT_BYTES {
            return Err(ArtifactError::invalid(
                "file",
                format!(
                    "{:?} is larger than {MAX_TEXT_BYTES} bytes to show",
                    file.name
                ),
            ));
        }
        let bytes = self.storage.read_all(&file.object_key).await?;
        if bytes.contains(&0) {
            return Err(ArtifactError::BinaryFile { name: file.name });
        }
        String::from_utf8(bytes.to_vec()).map_err(|_| ArtifactError::BinaryFile { name: file.name })
    }
}
