//! Artifacts (`package` or `configure`, named per application), their versions, and the
//! app-config templates (a `.j2` with the schema of its sibling `.yml`).

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::{artifact_versions, artifacts, config_templates};

/// A named artifact of an application.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = artifacts)]
pub struct ArtifactRow {
    pub id: String,
    pub app_id: String,
    pub name: String,
    /// `package` or `configure`.
    pub kind: String,
    pub creator: String,
    pub create_time: NaiveDateTime,
}

/// One version of an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = artifact_versions)]
pub struct VersionRow {
    pub id: String,
    pub artifact_id: String,
    pub version: String,
    pub creator: String,
    pub create_time: NaiveDateTime,
}

/// An app-config template version: its `.j2` file, its `.yml` and the parsed schema (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = config_templates)]
pub struct TemplateRow {
    pub file_id: String,
    pub version_id: String,
    /// What node ids derive from (`<artifact id>/<template name>`), stable across versions.
    pub subject_id: String,
    /// `X` of `X.j2`: the name of the rendered file.
    pub name: String,
    pub yml_file_id: String,
    pub schema_json: String,
}

common::row_queries! { artifacts, ArtifactRow;
    find, insert;
    /// The artifact of `row`'s application, kind and name, when there is one.
    fn find_like(row: &ArtifactRow) -> first
        where app_id.eq(&row.app_id), kind.eq(&row.kind), name.eq(&row.name);
    /// Artifacts of some applications (all when `app_ids` is `None`), optionally of one kind,
    /// by name.
    pub fn list(app_ids: Option<&[String]>, kind: Option<&str>) -> all
        when Some(app_ids) = app_ids => app_id.eq_any(app_ids),
            Some(kind) = kind => kind.eq(kind)
        order name.asc(), id.asc();
}

common::row_queries! { artifact_versions, VersionRow;
    insert as insert_version, find as find_version;
    /// The versions of an artifact, oldest first.
    pub fn versions_of(artifact_id: &str) -> all
        where artifact_id.eq(artifact_id) order create_time.asc(), id.asc();
}

common::row_queries! { config_templates, TemplateRow;
    insert as insert_template, find as find_template;
    /// The app-config templates of a version, by name.
    pub fn templates_of_version(version_id: &str) -> all
        where version_id.eq(version_id) order name.asc();
}

/// The artifact of `kind` named `name` of `app_id`, created by `row` when absent.
pub fn find_or_insert(
    connection: &mut DbConnection,
    row: &ArtifactRow,
) -> QueryResult<ArtifactRow> {
    if let Some(existing) = find_like(connection, row)? {
        return Ok(existing);
    }
    if common::db::insert_unless_taken(connection, |connection| insert(connection, row))? {
        return Ok(row.clone());
    }
    // A concurrent upload created the same artifact after the look above: use that one.
    find_like(connection, row)?.ok_or(diesel::result::Error::NotFound)
}

/// A version and its artifact, by version id.
pub fn version_with_artifact(
    connection: &mut DbConnection,
    version_id: &str,
) -> QueryResult<Option<(VersionRow, ArtifactRow)>> {
    let Some(version) = find_version(connection, version_id)? else {
        return Ok(None);
    };
    let artifact = find(connection, &version.artifact_id)?;
    Ok(artifact.map(|artifact| (version, artifact)))
}
