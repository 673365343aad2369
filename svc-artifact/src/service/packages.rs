//! Package sync (contract 9), app-config uploads (5.11.1), the artifact filter (5.11.1) and the
//! app-config templates: their schema (5.8.2.3), value validation and rendering.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use common::{
    audit::{self, Change, NewEvent, Origin},
    read_cache::ARTIFACT_VERSIONS,
    time::now_utc,
};
use futures::StreamExt;
use serde_json::Value;

use super::{
    Actor, ArtifactError, ArtifactResult, ArtifactService, UploadOutcome,
    archive::{self, ArchiveFormat, UnpackError, UnpackLimits},
    file_row,
    ingest::{self, Ingested, IngestedFile, object_key},
    require_reader,
    schema::{self, SchemaNode},
    streamed::{StreamedUnpack, Unpacked},
};
use crate::db::models::{
    artifacts::{self, ArtifactRow, TemplateRow, VersionRow},
    files::{self, FileRow},
};

/// Largest `.yml` schema or `.j2` template read into memory.
const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;

pub use crate::domain::{KIND_CONFIGURE, KIND_PACKAGE};

/// A template found in an upload: the `.j2`, its schema and the `.yml` it came from.
struct FoundTemplate {
    /// `X` of `X.j2`.
    name: String,
    j2_index: usize,
    yml_index: Option<usize>,
    nodes: Vec<SchemaNode>,
}

/// What node ids of a template derive from: stable for one template name of one artifact.
pub fn template_subject(app_id: &str, artifact_name: &str, template_name: &str) -> String {
    format!("{app_id}/{artifact_name}/{template_name}")
}

fn is_config_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".yml") || lower.ends_with(".yaml") || lower.ends_with(".j2")
}

/// `X` of `dir/X.j2`, and the candidate schema paths `dir/X.yml`, `dir/X.yaml`.
fn template_parts(path: &str) -> Option<(String, [String; 2])> {
    let stem = path.strip_suffix(".j2")?;
    let name = stem.rsplit('/').next().unwrap_or(stem).to_owned();
    Some((name, [format!("{stem}.yml"), format!("{stem}.yaml")]))
}

/// A new version of an artifact (inserted first when new): its id, files and app-config
/// templates.
struct VersionWrite {
    artifact: ArtifactRow,
    version_id: String,
    files: Vec<FileRow>,
    templates: Vec<TemplateRow>,
}

/// The event of an upload (`action` on `kind`) that makes the version `write` labelled
/// `version`: the new version's id, of the application, with its name, label and files.
fn upload_event(
    actor: &Actor,
    action: &str,
    kind: &str,
    write: &VersionWrite,
    version: &str,
) -> NewEvent {
    let files = write.files.len().to_string();
    NewEvent::new(&Origin::of(&actor.claims), action, kind, &write.version_id)
        .app(Some(&write.artifact.app_id))
        .change(Change::new("name", None, Some(&write.artifact.name)))
        .change(Change::new("version", None, Some(version)))
        .change(Change::new("files", None, Some(&files)))
}

impl ArtifactService {
    pub(super) async fn package_sync_stored(
        &self,
        actor: &Actor,
        ingested: &Ingested,
        written: &mut Vec<String>,
    ) -> ArtifactResult<UploadOutcome> {
        let app_id = ingested.required("app_id")?;
        let name = ingested.required("name")?;
        let version = ingested.required("version")?;
        let declared = ingested.required("md5")?.to_ascii_lowercase();
        self.require_application(actor, &app_id).await?;
        let [archive_file] = ingested.files.as_slice() else {
            return Err(ArtifactError::invalid(
                "file",
                format!(
                    "must be exactly one archive, not {} files",
                    ingested.files.len()
                ),
            ));
        };
        if archive_file.digest.md5 != declared {
            return Err(ArtifactError::Md5Mismatch {
                file: archive_file.name.clone(),
                declared,
                actual: archive_file.digest.md5.clone(),
            });
        }
        let unpack_dir = self.unpacked(archive_file).await?;
        let unpacked = &unpack_dir.1;

        // Templates first: a bad schema refuses the archive before anything else is stored.
        let mut found = Vec::new();
        for (index, file) in unpacked.iter().enumerate() {
            let Some((template_name, schema_paths)) = template_parts(&file.relative_path) else {
                continue;
            };
            let Some(yml_index) = unpacked
                .iter()
                .position(|other| schema_paths.contains(&other.relative_path))
            else {
                continue;
            };
            let yml = &unpacked[yml_index];
            let text = read_local_text(&yml.local_path, &yml.relative_path).await?;
            let subject = template_subject(&app_id, &template_name, &template_name);
            let nodes = schema::parse_schema(&yml.relative_path, &subject, &text)
                .map_err(|message| ArtifactError::InvalidSchema { message })?;
            found.push(FoundTemplate {
                name: template_name,
                j2_index: index,
                yml_index: Some(yml_index),
                nodes,
            });
        }

        let now = now_utc();
        let creator = actor.username().to_owned();
        let version_id = common::ids::new_id();
        let mut rows = vec![file_row(
            &archive_file.id,
            &archive_file.name,
            &archive_file.name,
            &archive_file.object_key,
            &archive_file.digest,
            &version_id,
            "archive",
            &creator,
            now,
        )];
        let mut unpacked_rows = Vec::new();
        for file in unpacked
            .iter()
            .filter(|file| !is_config_file(&file.relative_path))
        {
            let row = self
                .store_local(file, &version_id, "file", &creator, now, written)
                .await?;
            unpacked_rows.push(row);
        }
        let mut template_versions = Vec::new();
        for template in &found {
            let template_version_id = common::ids::new_id();
            let j2 = self
                .store_local(
                    &unpacked[template.j2_index],
                    &template_version_id,
                    "template",
                    &creator,
                    now,
                    written,
                )
                .await?;
            let yml = match template.yml_index {
                Some(index) => Some(
                    self.store_local(
                        &unpacked[index],
                        &template_version_id,
                        "schema",
                        &creator,
                        now,
                        written,
                    )
                    .await?,
                ),
                None => None,
            };
            template_versions.push((template, template_version_id, j2, yml));
        }
        rows.extend(unpacked_rows.iter().cloned());

        let package = ArtifactRow {
            id: common::ids::new_id(),
            app_id: app_id.clone(),
            name: name.clone(),
            kind: KIND_PACKAGE.to_owned(),
            creator: creator.clone(),
            create_time: now,
        };
        let mut template_rows = Vec::new();
        // The package's own version first, then each app-config template's.
        let mut writes = vec![VersionWrite {
            artifact: package,
            version_id: version_id.clone(),
            files: rows.clone(),
            templates: Vec::new(),
        }];
        for (template, template_version_id, j2, yml) in &template_versions {
            template_rows.push(j2.clone());
            let mut file_rows = vec![j2.clone()];
            file_rows.extend(yml.iter().cloned());
            writes.push(VersionWrite {
                artifact: ArtifactRow {
                    id: common::ids::new_id(),
                    app_id: app_id.clone(),
                    name: template.name.clone(),
                    kind: KIND_CONFIGURE.to_owned(),
                    creator: creator.clone(),
                    create_time: now,
                },
                version_id: template_version_id.clone(),
                files: file_rows,
                templates: vec![TemplateRow {
                    file_id: j2.id.clone(),
                    version_id: template_version_id.clone(),
                    subject_id: template_subject(&app_id, &template.name, &template.name),
                    name: template.name.clone(),
                    yml_file_id: yml.as_ref().map(|row| row.id.clone()).unwrap_or_default(),
                    schema_json: serde_json::to_string(&template.nodes)
                        .map_err(|error| ArtifactError::Io(error.to_string()))?,
                }],
            });
        }
        let event = upload_event(actor, "package.sync", "package", &writes[0], &version);
        self.write_versions(&version, &creator, now, writes, event)
            .await?;
        drop(unpack_dir);
        Ok(UploadOutcome {
            files: vec![rows[0].clone()],
            version_id,
            unpacked: unpacked_rows,
            templates: template_rows,
        })
    }

    /// The limits every unpacking of an upload's archive keeps to.
    pub(crate) fn unpack_limits(&self) -> UnpackLimits {
        UnpackLimits {
            max_unpacked_bytes: self.settings.max_unpacked_bytes,
            max_entries: self.settings.max_entries,
            max_unpack_ratio: self.settings.max_unpack_ratio,
        }
    }

    /// The files of an uploaded archive: unpacked as it arrived, or now from its spooled copy,
    /// or again from the stored archive when only the ratio against the bytes received so far
    /// refused it. The scratch directory they are in lives as long as `file` or, when unpacked
    /// here, as the answer's first part.
    pub(crate) async fn unpacked(
        &self,
        file: &IngestedFile,
    ) -> ArtifactResult<(Option<tempfile::TempDir>, Vec<archive::UnpackedFile>)> {
        let rejected = |error: UnpackError| match error {
            UnpackError::Local(message) => ArtifactError::Io(message),
            other => ArtifactError::ArchiveRejected {
                archive: file.name.clone(),
                reason: other.to_string(),
            },
        };
        if let Some(streamed) = &file.unpacked {
            if !streamed.needs_whole_size() {
                return match &streamed.outcome {
                    Ok(files) => Ok((None, files.clone())),
                    Err(error) => Err(rejected(error.clone())),
                };
            }
            let again = self.unpack_stored(file, streamed.format).await?;
            return match again.outcome {
                Ok(files) => Ok((Some(again.scratch), files)),
                Err(error) => Err(rejected(error)),
            };
        }
        let spool = file
            .spool
            .as_ref()
            .ok_or_else(|| ArtifactError::Io("the archive was not spooled".to_owned()))?;
        let head = read_head(spool).await?;
        let format = ArchiveFormat::detect(&file.name, &head).ok_or_else(|| {
            ArtifactError::ArchiveRejected {
                archive: file.name.clone(),
                reason: "it is not a .tar.gz, .tgz, .tar or .zip archive".to_owned(),
            }
        })?;
        let scratch = tempfile::tempdir_in(&self.settings.spool_dir)
            .map_err(|error| ArtifactError::io("cannot create a scratch directory", error))?;
        let destination = scratch.path().to_owned();
        let archive_path = spool.to_path_buf();
        let limits = self.unpack_limits();
        let unpacked = tokio::task::spawn_blocking(move || {
            archive::unpack(&archive_path, format, &destination, limits)
        })
        .await
        .map_err(|error| ArtifactError::Io(format!("unpack task stopped: {error}")))?
        .map_err(rejected)?;
        Ok((Some(scratch), unpacked))
    }

    /// Unpacks the stored archive of `file` again, read back from the object store, measuring
    /// the ratio against its whole size.
    async fn unpack_stored(
        &self,
        file: &IngestedFile,
        format: ArchiveFormat,
    ) -> ArtifactResult<Unpacked> {
        let mut streamed = StreamedUnpack::start(
            &self.settings.spool_dir,
            format,
            self.unpack_limits(),
            Some(file.digest.size),
        )
        .map_err(|error| ArtifactError::io("cannot create a scratch directory", error))?;
        let mut chunks = self.storage.read(&file.object_key, None).await?;
        while let Some(chunk) = chunks.next().await {
            match chunk {
                Ok(chunk) => streamed.feed(chunk).await,
                Err(error) => {
                    drop(streamed.finish().await);
                    return Err(error.into());
                }
            }
        }
        Ok(streamed.finish().await)
    }

    async fn store_local(
        &self,
        file: &archive::UnpackedFile,
        version_id: &str,
        role: &str,
        creator: &str,
        now: chrono::NaiveDateTime,
        written: &mut Vec<String>,
    ) -> ArtifactResult<FileRow> {
        let id = common::ids::new_id();
        let key = object_key(&id);
        written.push(key.clone());
        let digest = self
            .storage
            .adopt_file(&key, &file.local_path, file.digest.clone())
            .await?;
        let name = file
            .relative_path
            .rsplit('/')
            .next()
            .unwrap_or(&file.relative_path)
            .to_owned();
        Ok(file_row(
            &id,
            &name,
            &file.relative_path,
            &key,
            &digest,
            version_id,
            role,
            creator,
            now,
        ))
    }

    pub(super) async fn configure_stored(
        &self,
        actor: &Actor,
        ingested: &Ingested,
    ) -> ArtifactResult<UploadOutcome> {
        let app_id = ingested.required("app_id")?;
        let name = ingested.required("name")?;
        let version = ingested
            .field("version")
            .unwrap_or_else(|| now_utc().format("%Y%m%d%H%M%S").to_string());
        self.require_application(actor, &app_id).await?;
        if ingested.files.is_empty() {
            return Err(ArtifactError::missing("file"));
        }
        let declared = ingest::declared_md5s(ingested)?;
        ingest::check_md5s(ingested, &declared)?;
        let by_name: HashMap<&str, usize> = ingested
            .files
            .iter()
            .enumerate()
            .map(|(index, file)| (file.name.as_str(), index))
            .collect();
        let mut found = Vec::new();
        for (index, file) in ingested.files.iter().enumerate() {
            let Some((template_name, schema_names)) = template_parts(&file.name) else {
                continue;
            };
            let yml_index = schema_names
                .iter()
                .find_map(|candidate| by_name.get(candidate.as_str()).copied());
            let nodes = match yml_index {
                Some(yml_index) => {
                    let yml = &ingested.files[yml_index];
                    let text = self
                        .read_stored_text(&yml.object_key, yml.digest.size, &yml.name)
                        .await?;
                    let subject = template_subject(&app_id, &name, &template_name);
                    schema::parse_schema(&yml.name, &subject, &text)
                        .map_err(|message| ArtifactError::InvalidSchema { message })?
                }
                None => Vec::new(),
            };
            found.push(FoundTemplate {
                name: template_name,
                j2_index: index,
                yml_index,
                nodes,
            });
        }
        let now = now_utc();
        let creator = actor.username().to_owned();
        let version_id = common::ids::new_id();
        let rows: Vec<FileRow> = ingested
            .files
            .iter()
            .enumerate()
            .map(|(index, file)| {
                let role = if found.iter().any(|template| template.j2_index == index) {
                    "template"
                } else if found
                    .iter()
                    .any(|template| template.yml_index == Some(index))
                {
                    "schema"
                } else {
                    "file"
                };
                file_row(
                    &file.id,
                    &file.name,
                    &file.name,
                    &file.object_key,
                    &file.digest,
                    &version_id,
                    role,
                    &creator,
                    now,
                )
            })
            .collect();
        let mut template_rows = Vec::new();
        for template in &found {
            template_rows.push(TemplateRow {
                file_id: ingested.files[template.j2_index].id.clone(),
                version_id: version_id.clone(),
                subject_id: template_subject(&app_id, &name, &template.name),
                name: template.name.clone(),
                yml_file_id: template
                    .yml_index
                    .map(|index| ingested.files[index].id.clone())
                    .unwrap_or_default(),
                schema_json: serde_json::to_string(&template.nodes)
                    .map_err(|error| ArtifactError::Io(error.to_string()))?,
            });
        }
        let artifact = ArtifactRow {
            id: common::ids::new_id(),
            app_id,
            name,
            kind: KIND_CONFIGURE.to_owned(),
            creator: creator.clone(),
            create_time: now,
        };
        let write = VersionWrite {
            artifact,
            version_id: version_id.clone(),
            files: rows.clone(),
            templates: template_rows,
        };
        let event = upload_event(actor, "config_file.upload", "config_file", &write, &version);
        self.write_versions(&version, &creator, now, vec![write], event)
            .await?;
        let templates = rows
            .iter()
            .filter(|row| row.role == "template")
            .cloned()
            .collect();
        Ok(UploadOutcome {
            files: rows,
            version_id,
            unpacked: Vec::new(),
            templates,
        })
    }

    /// Records the versions `writes` in order, in one transaction with the upload's `event`,
    /// each labelled `version`, by `creator` at `now`.
    async fn write_versions(
        &self,
        version: &str,
        creator: &str,
        now: NaiveDateTime,
        writes: Vec<VersionWrite>,
        event: NewEvent,
    ) -> ArtifactResult<()> {
        let (version, creator) = (version.to_owned(), creator.to_owned());
        let written = self
            .database
            .transaction(move |connection| {
                for write in writes {
                    let artifact = artifacts::find_or_insert(connection, &write.artifact)?;
                    let row = VersionRow {
                        id: write.version_id,
                        artifact_id: artifact.id,
                        version: version.clone(),
                        creator: creator.clone(),
                        create_time: now,
                    };
                    artifacts::insert_version(connection, &row)?;
                    files::insert_all(connection, &write.files)?;
                    for template in &write.templates {
                        artifacts::insert_template(connection, template)?;
                    }
                }
                audit::append(connection, event, audit::now_ms())?;
                Ok::<_, ArtifactError>(())
            })
            .await;
        self.reads.written(&[ARTIFACT_VERSIONS], written).await
    }

    async fn read_stored_text(&self, key: &str, size: u64, name: &str) -> ArtifactResult<String> {
        if size > MAX_TEMPLATE_BYTES {
            return Err(ArtifactError::invalid(
                name,
                format!("is larger than {MAX_TEMPLATE_BYTES} bytes"),
            ));
        }
        let bytes = self.storage.read_all(key).await?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| ArtifactError::invalid(name, "is not UTF-8 text"))
    }

    /// Artifacts (5.11.1 filter) of `app_ids` (all when `None`), of `kind` when given.
    pub async fn filter_artifacts(
        &self,
        actor: &Actor,
        app_ids: Option<Vec<String>>,
        kind: Option<String>,
    ) -> ArtifactResult<Vec<ArtifactRow>> {
        require_reader(actor)?;
        if let Some(kind) = &kind
            && kind != KIND_PACKAGE
            && kind != KIND_CONFIGURE
        {
            return Err(ArtifactError::invalid(
                "type",
                format!("{kind:?} must be configure or package"),
            ));
        }
        let read = format!("artifacts\n{app_ids:?}\n{kind:?}");
        let load = self.database.run(move |connection| {
            artifacts::list(connection, app_ids.as_deref(), kind.as_deref())
                .map_err(ArtifactError::from)
        });
        self.reads
            .read_through(&[ARTIFACT_VERSIONS], &read, load)
            .await
    }

    /// The template whose `.j2` is `file_id` (or, when `file_id` names a template, its newest
    /// version's `.j2`), with its parsed schema.
    pub async fn template(
        &self,
        actor: &Actor,
        file_id: &str,
    ) -> ArtifactResult<(TemplateRow, Vec<SchemaNode>)> {
        require_reader(actor)?;
        let owned = file_id.to_owned();
        let row = self
            .database
            .run(move |connection| super::templates::resolve_template(connection, &owned))
            .await?;
        let nodes: Vec<SchemaNode> = serde_json::from_str(&row.schema_json).map_err(|error| {
            ArtifactError::Io(format!(
                "stored schema of {file_id:?} is unreadable: {error}"
            ))
        })?;
        Ok((row, nodes))
    }

    /// Checks `values` (keyed by node id) against a template's schema; answers them by key.
    pub async fn validate_template_values(
        &self,
        actor: &Actor,
        file_id: &str,
        values: &Value,
    ) -> ArtifactResult<Value> {
        let (_, nodes) = self.template(actor, file_id).await?;
        schema::validate_values(&nodes, values)
            .map_err(|message| ArtifactError::InvalidValues { message })
    }

    /// Renders a template's `.j2` with `values` (keyed by node id); answers the text and the
    /// name of the rendered file.
    pub async fn render_template(
        &self,
        actor: &Actor,
        file_id: &str,
        values: &Value,
    ) -> ArtifactResult<(String, String)> {
        let (row, nodes) = self.template(actor, file_id).await?;
        let by_key = schema::validate_values(&nodes, values)
            .map_err(|message| ArtifactError::InvalidValues { message })?;
        let file = self.file(actor, &row.file_id).await?;
        let source = self
            .read_stored_text(
                &file.object_key,
                u64::try_from(file.size).unwrap_or(u64::MAX),
                &file.name,
            )
            .await?;
        let text = schema::render(&file.name, &source, &by_key)
            .map_err(|message| ArtifactError::RenderFailed { message })?;
        Ok((text, row.name))
    }
}

async fn read_head(path: &std::path::Path) -> ArtifactResult<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|error| ArtifactError::io("cannot open the spooled archive", error))?;
    let mut head = vec![0_u8; 512];
    let mut filled = 0;
    while filled < head.len() {
        let read = file
            .read(&mut head[filled..])
            .await
            .map_err(|error| ArtifactError::io("cannot read the spooled archive", error))?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    head.truncate(filled);
    Ok(head)
}

async fn read_local_text(path: &std::path::Path, name: &str) -> ArtifactResult<String> {
    let metadata = tokio::fs::metadata(path)
        .await
        .map_err(|error| ArtifactError::io(name, error))?;
    if metadata.len() > MAX_TEMPLATE_BYTES {
        return Err(ArtifactError::invalid(
            name,
            format!("is larger than {MAX_TEMPLATE_BYTES} bytes"),
        ));
    }
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|error| ArtifactError::io(name, error))?;
    String::from_utf8(bytes).map_err(|_| ArtifactError::invalid(name, "is not UTF-8 text"))
}
