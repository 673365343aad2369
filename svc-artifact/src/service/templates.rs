//! App-config templates by id: what a `file_id` of 5.6.2.3 names (the `.j2` of a template
//! version, or the template itself, meaning its newest version's `.j2`), and the versions of a
//! template with their `.j2` file ids (so the templates package sync creates can be bound).

use common::read_cache::ARTIFACT_VERSIONS;

use super::{Actor, ArtifactError, ArtifactResult, ArtifactService, RecordKind, require_reader};
use crate::db::models::{
    artifacts::{self, ArtifactRow, TemplateRow, VersionRow},
    files::{self, FileRow},
};
use crate::domain::KIND_CONFIGURE;

/// One `.j2` of one version of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateVersionView {
    pub version: VersionRow,
    pub template: TemplateRow,
    pub j2: FileRow,
}

/// The template row `id` names: the `.j2` of a template version, or else a `configure`
/// artifact, whose newest version must then hold exactly one template.
pub(crate) fn resolve_template(
    connection: &mut common::db::DbConnection,
    id: &str,
) -> ArtifactResult<TemplateRow> {
    if let Some(row) = artifacts::find_template(connection, id)? {
        return Ok(row);
    }
    let artifact = artifacts::find(connection, id)?
        .filter(|artifact| artifact.kind == KIND_CONFIGURE)
        .ok_or_else(|| ArtifactError::not_found(RecordKind::Template, id))?;
    // Newest first: a version without a `.j2` (a configure upload of other files) is skipped.
    for version in artifacts::versions_of(connection, &artifact.id)?
        .iter()
        .rev()
    {
        let mut templates = artifacts::templates_of_version(connection, &version.id)?;
        match templates.len() {
            0 => continue,
            1 => return Ok(templates.remove(0)),
            count => {
                let names: Vec<String> = templates
                    .iter()
                    .map(|template| format!("{} ({})", template.name, template.file_id))
                    .collect();
                return Err(ArtifactError::invalid(
                    "file_id",
                    format!(
                        "names template {:?} whose newest version {:?} holds {count} templates ({}); give the .j2 file id of one",
                        artifact.name,
                        version.version,
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    Err(ArtifactError::invalid(
        "file_id",
        format!(
            "names template {:?} ({id}), which has no version with a .j2 file",
            artifact.name
        ),
    ))
}

impl ArtifactService {
    /// The versions of app-config template `id` (a `configure` artifact), newest first, each
    /// `.j2` with its file.
    pub async fn template_versions(
        &self,
        actor: &Actor,
        id: &str,
    ) -> ArtifactResult<(ArtifactRow, Vec<TemplateVersionView>)> {
        require_reader(actor)?;
        let owned = id.to_owned();
        let read = format!("template versions\n{id}");
        let load = self.database.run(move |connection| {
            let artifact = artifacts::find(connection, &owned)?
                .filter(|artifact| artifact.kind == KIND_CONFIGURE)
                .ok_or_else(|| ArtifactError::not_found(RecordKind::Template, &owned))?;
            let mut views = Vec::new();
            for version in artifacts::versions_of(connection, &artifact.id)?
                .into_iter()
                .rev()
            {
                for template in artifacts::templates_of_version(connection, &version.id)? {
                    let j2 = files::find(connection, &template.file_id)?.ok_or_else(|| {
                        ArtifactError::not_found(RecordKind::File, &template.file_id)
                    })?;
                    views.push(TemplateVersionView {
                        version: version.clone(),
                        template,
                        j2,
                    });
                }
            }
            Ok((artifact, views))
        });
        self.reads
            .read_through(&[ARTIFACT_VERSIONS], &read, load)
            .await
    }
}
