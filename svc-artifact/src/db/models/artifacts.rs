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

/// The artifact of `row`'s application, kind and name, when there is one.
fn find_like(connection: &mut DbConnection, row: &ArtifactRow) -> QueryResult<Option<ArtifactRow>> {
    use crate::db::schema::artifacts::dsl;
    dsl::artifacts
        .filter(dsl::app_id.eq(&row.app_id))
        .filter(dsl::kind.eq(&row.kind))
        .filter(dsl::name.eq(&row.name))
        .select(ArtifactRow::as_select())
        .first(connection)
        .optional()
}

/// The artifact of `kind` named `name` of `app_id`, created by `row` when absent.
pub fn find_or_insert(
    connection: &mut DbConnection,
    row: &ArtifactRow,
) -> QueryResult<ArtifactRow> {
    use crate::db::schema::artifacts::dsl;
    if let Some(existing) = find_like(connection, row)? {
        return Ok(existing);
    }
    let inserted = common::db::insert_unless_taken(connection, |connection| {
        diesel::insert_into(dsl::artifacts)
            .values(row)
            .execute(connection)
    })?;
    if inserted {
        return Ok(row.clone());
    }
    // A concurrent upload created the same artifact after the look above: use that one.
    find_like(connection, row)?.ok_or(diesel::result::Error::NotFound)
}

/// Artifacts of some applications (all when `app_ids` is `None`), optionally of one kind.
pub fn list(
    connection: &mut DbConnection,
    app_ids: Option<&[String]>,
    kind: Option<&str>,
) -> QueryResult<Vec<ArtifactRow>> {
    use crate::db::schema::artifacts::dsl;
    let mut query = dsl::artifacts.select(ArtifactRow::as_select()).into_boxed();
    if let Some(app_ids) = app_ids {
        query = query.filter(dsl::app_id.eq_any(app_ids.to_vec()));
    }
    if let Some(kind) = kind {
        query = query.filter(dsl::kind.eq(kind.to_owned()));
    }
    query
        .order((dsl::name.asc(), dsl::id.asc()))
        .load(connection)
}

pub fn insert_version(connection: &mut DbConnection, row: &VersionRow) -> QueryResult<()> {
    use crate::db::schema::artifact_versions::dsl;
    diesel::insert_into(dsl::artifact_versions)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn versions_of(
    connection: &mut DbConnection,
    artifact_id: &str,
) -> QueryResult<Vec<VersionRow>> {
    use crate::db::schema::artifact_versions::dsl;
    dsl::artifact_versions
        .filter(dsl::artifact_id.eq(artifact_id))
        .select(VersionRow::as_select())
        .order((dsl::create_time.asc(), dsl::id.asc()))
        .load(connection)
}

/// An artifact by id.
pub fn find(connection: &mut DbConnection, id: &str) -> QueryResult<Option<ArtifactRow>> {
    artifacts::table
        .find(id)
        .select(ArtifactRow::as_select())
        .first(connection)
        .optional()
}

pub fn insert_template(connection: &mut DbConnection, row: &TemplateRow) -> QueryResult<()> {
    use crate::db::schema::config_templates::dsl;
    diesel::insert_into(dsl::config_templates)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn find_template(
    connection: &mut DbConnection,
    file_id: &str,
) -> QueryResult<Option<TemplateRow>> {
    use crate::db::schema::config_templates::dsl;
    dsl::config_templates
        .find(file_id)
        .select(TemplateRow::as_select())
        .first(connection)
        .optional()
}

pub fn templates_of_version(
    connection: &mut DbConnection,
    version_id: &str,
) -> QueryResult<Vec<TemplateRow>> {
    use crate::db::schema::config_templates::dsl;
    dsl::config_templates
        .filter(dsl::version_id.eq(version_id))
        .select(TemplateRow::as_select())
        .order(dsl::name.asc())
        .load(connection)
}

/// A version and its artifact, by version id.
pub fn version_with_artifact(
    connection: &mut DbConnection,
    version_id: &str,
) -> QueryResult<Option<(VersionRow, ArtifactRow)>> {
    let Some(version) = artifact_versions::table
        .find(version_id)
        .select(VersionRow::as_select())
        .first(connection)
        .optional()?
    else {
        return Ok(None);
    };
    let artifact = artifacts::table
        .find(&version.artifact_id)
        .select(ArtifactRow::as_select())
        .first(connection)
        .optional()?;
    Ok(artifact.map(|artifact| (version, artifact)))
}
