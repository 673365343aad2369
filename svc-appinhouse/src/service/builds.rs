//! Writes of builds: `desc` (create or update a version; ios builds its OTA plist), `extenddesc`
//! (named extra downloads), the details a hosted file gave, and the residue delete (also deleting
//! the hosted files and icons of removed builds). Reads are in `reads`, pages in `page`.

use std::collections::HashSet;

use chrono::Timelike;
use common::{
    audit::{Change, Origin},
    db::DbConnection,
    limits,
    time::now_utc,
};

use super::{
    AppinhouseError, AppinhouseResult, AppinhouseService, Fields, app_event, append_event,
    apps::existing_app,
    build_event, optional,
    platform::Platform,
    plist::OtaManifest,
    required,
    time::{BuildTime, parse_build_time},
    url_safe,
};
use crate::db::models::{
    builds::{self, BuildRow, ExtendRow},
    details::{self, DetailsRow},
};

/// Longest version in bytes.
pub const MAX_VERSION_BYTES: usize = 64;
/// Longest extend key in bytes.
const MAX_EXTEND_KEY_BYTES: usize = 64;

/// A build to record, checked (from `desc` or from an upload).
#[derive(Debug, Clone)]
pub(crate) struct BuildRecord {
    pub app: String,
    pub platform: Platform,
    pub version: String,
    pub time: BuildTime,
    pub description: String,
    pub url: String,
    pub software_url: String,
    pub bundle_identifier: String,
    pub title: String,
    pub full_size_image: String,
    pub display_image: String,
    pub hosted_key: String,
}

/// Checks a version string.
pub fn version(value: &str) -> AppinhouseResult<String> {
    url_safe("version", value, MAX_VERSION_BYTES)
}

pub(crate) fn manifest(record: &BuildRecord, software_url: &str) -> AppinhouseResult<String> {
    let bytes = OtaManifest {
        software_url: software_url.to_owned(),
        bundle_identifier: record.bundle_identifier.clone(),
        bundle_version: record.version.clone(),
        title: record.title.clone(),
        full_size_image: Some(record.full_size_image.clone()).filter(|url| !url.is_empty()),
        display_image: Some(record.display_image.clone()).filter(|url| !url.is_empty()),
    }
    .render()?;
    String::from_utf8(bytes).map_err(|error| AppinhouseError::Plist(error.to_string()))
}

pub(crate) fn record_of_row(row: &BuildRow) -> AppinhouseResult<BuildRecord> {
    Ok(BuildRecord {
        app: row.app.clone(),
        platform: Platform::parse(&row.platform)?,
        version: row.version.clone(),
        time: BuildTime {
            utc: row.build_time,
            offset_minutes: row.given_offset_minutes,
        },
        description: row.description.clone(),
        url: row.url.clone(),
        software_url: row.software_url.clone(),
        bundle_identifier: row.bundle_identifier.clone(),
        title: row.title.clone(),
        full_size_image: row.full_size_image.clone(),
        display_image: row.display_image.clone(),
        hosted_key: row.hosted_key.clone(),
    })
}

/// When a build is published, to the microsecond (as PostgreSQL keeps it): builds of one build
/// time list newest-published first by it (whole seconds left them to their version text, so
/// "1.1.9" came before "1.1.10"). Shown nowhere.
fn publish_instant() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    now.with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

/// Writes a build (insert or update); answers the hosted key it replaced, if another.
pub(crate) fn record_build_in(
    connection: &mut DbConnection,
    record: &BuildRecord,
) -> AppinhouseResult<Option<String>> {
    existing_app(connection, &record.app)?;
    let plist = if record.platform == Platform::Ios {
        manifest(record, &record.software_url)?
    } else {
        String::new()
    };
    let platform = record.platform.as_str();
    let previous = builds::find(connection, &record.app, platform, &record.version)?;
    let now = now_utc();
    let row = BuildRow {
        app: record.app.clone(),
        platform: platform.to_owned(),
        version: record.version.clone(),
        build_time: record.time.utc,
        given_offset_minutes: record.time.offset_minutes,
        description: record.description.clone(),
        url: record.url.clone(),
        software_url: record.software_url.clone(),
        bundle_identifier: record.bundle_identifier.clone(),
        title: record.title.clone(),
        full_size_image: record.full_size_image.clone(),
        display_image: record.display_image.clone(),
        plist,
        hosted_key: record.hosted_key.clone(),
        create_time: previous.as_ref().map_or(now, |row| row.create_time),
        update_time: publish_instant(),
    };
    builds::upsert(connection, &row)?;
    // Extra downloads of an ios build carry plists made from the build's metadata.
    if record.platform == Platform::Ios {
        for extend in builds::extends_of(
            connection,
            &record.app,
            platform,
            std::slice::from_ref(&record.version),
        )? {
            let plist = manifest(record, &extend.software_url)?;
            builds::upsert_extend(connection, &ExtendRow { plist, ..extend })?;
        }
    }
    Ok(previous
        .map(|row| row.hosted_key)
        .filter(|key| !key.is_empty() && *key != record.hosted_key))
}

/// Stored files among `keys` that no build of `app` uses any more (as its file or its icon).
pub(crate) fn unreferenced(
    connection: &mut DbConnection,
    app: &str,
    keys: Vec<String>,
) -> AppinhouseResult<Vec<String>> {
    if keys.is_empty() {
        return Ok(keys);
    }
    let mut used: HashSet<String> = builds::of_app(connection, app)?
        .into_iter()
        .map(|row| row.hosted_key)
        .collect();
    used.extend(
        details::details_of_app(connection, app)?
            .into_iter()
            .map(|row| row.icon_key),
    );
    Ok(keys.into_iter().filter(|key| !used.contains(key)).collect())
}

/// Deletes a build with its extra downloads and details; answers whether it went (another
/// replica may have deleted it first) and the stored files it used (its hosted file and icon),
/// for the caller to delete once no other build uses them.
pub(crate) fn delete_build_in(
    connection: &mut DbConnection,
    row: &BuildRow,
) -> AppinhouseResult<(bool, Vec<String>)> {
    let mut files = Vec::new();
    if !row.hosted_key.is_empty() {
        files.push(row.hosted_key.clone());
    }
    if let Some(details) = details::find_details(connection, &row.app, &row.platform, &row.version)?
        && !details.icon_key.is_empty()
    {
        files.push(details.icon_key);
    }
    let deleted = builds::delete_one(connection, &row.app, &row.platform, &row.version)? > 0;
    Ok((deleted, if deleted { files } else { Vec::new() }))
}

/// Writes what a hosted file says of its build (`Some`), or, for a build published by `desc`
/// (`None`), clears what an earlier hosted file said, keeping the install count. Answers the icon
/// key the build no longer shows, if any.
fn save_details_in(
    connection: &mut DbConnection,
    record: &BuildRecord,
    details: Option<DetailsRow>,
) -> AppinhouseResult<Option<String>> {
    let platform = record.platform.as_str();
    let previous = details::find_details(connection, &record.app, platform, &record.version)?;
    let replaced_icon = previous.as_ref().map(|row| row.icon_key.clone());
    let row = match (details, previous) {
        (Some(row), _) => row,
        (None, Some(previous)) => DetailsRow {
            app: previous.app,
            platform: previous.platform,
            version: previous.version,
            installs: previous.installs,
            ..DetailsRow::default()
        },
        (None, None) => return Ok(None),
    };
    details::save_details(connection, &row)?;
    Ok(replaced_icon.filter(|key| !key.is_empty() && *key != row.icon_key))
}

impl AppinhouseService {
    /// The hosted key a `software_url` names when it points at this server's `/download/`.
    pub(crate) fn hosted_key_of(&self, software_url: &str, base_url: &str) -> Option<String> {
        let path = software_url
            .strip_prefix(base_url)
            .filter(|rest| rest.starts_with('/'))
            .or_else(|| {
                software_url
                    .starts_with("/download/")
                    .then_some(software_url)
            })?;
        let rest = path.strip_prefix("/download/")?;
        let rest = rest.split(['?', '#']).next().unwrap_or(rest);
        let parts: Vec<&str> = rest.split('/').collect();
        (parts.len() == 4 && parts.iter().all(|part| !part.is_empty() && *part != ".."))
            .then(|| parts.join("/"))
    }

    /// Deletes hosted files that builds no longer use (1005 when the store refuses).
    pub(crate) async fn delete_hosted(&self, keys: &[String]) -> AppinhouseResult<()> {
        for key in keys {
            self.store
                .delete(key)
                .await
                .map_err(|error| AppinhouseError::DeleteFile(error.to_string()))?;
        }
        Ok(())
    }

    /// Records a build (with what its hosted file says, for an upload) with the event of
    /// `action` by the key holder; deletes a hosted file or icon it replaced.
    pub(crate) async fn record_build(
        &self,
        action: &'static str,
        record: BuildRecord,
        details: Option<DetailsRow>,
    ) -> AppinhouseResult<()> {
        let app = record.app.clone();
        let origin = Origin::key_holder();
        let replaced = self
            .database
            .transaction(move |connection| {
                let mut replaced: Vec<String> =
                    record_build_in(connection, &record)?.into_iter().collect();
                replaced.extend(save_details_in(connection, &record, details)?);
                let build = (
                    record.app.as_str(),
                    record.platform.as_str(),
                    &*record.version,
                );
                let event = build_event(&origin, action, build)
                    .change(Change::new("version", None, Some(&record.version)))
                    .change(Change::new("title", None, Some(&record.title)));
                append_event(connection, event)?;
                unreferenced(connection, &record.app, replaced)
            })
            .await?;
        self.reads.changed(&app).await;
        if !replaced.is_empty() {
            tracing::info!(%app, files = replaced.len(), "replaced hosted files deleted");
        }
        self.delete_hosted(&replaced).await
    }

    /// `desc`: creates or updates one version of a platform.
    pub async fn save_build(
        &self,
        app: &str,
        platform: &str,
        fields: &Fields,
        request_base_url: &str,
    ) -> AppinhouseResult<()> {
        let platform = Platform::parse(platform.trim())?;
        let app = app.trim().to_owned();
        let version = version(&required(fields, "version")?)?;
        let time = parse_build_time(&required(fields, "time")?)?;
        let url = required(fields, "url")?;
        limits::http_url("url", &url)?;
        let software_url = required(fields, "software_url")?;
        limits::http_url("software_url", &software_url)?;
        let (bundle_identifier, title) = if platform == Platform::Ios {
            (
                required(fields, "plist_bundle_identifier")?,
                required(fields, "plist_title")?,
            )
        } else {
            (
                optional(fields, "plist_bundle_identifier").unwrap_or_default(),
                optional(fields, "plist_title").unwrap_or_default(),
            )
        };
        limits::check("plist_bundle_identifier", &bundle_identifier, limits::NAME)?;
        limits::check("plist_title", &title, limits::NAME)?;
        let description = optional(fields, "description").unwrap_or_default();
        limits::check("description", &description, limits::REMARK)?;
        let full_size_image = optional(fields, "plist_full_size_image").unwrap_or_default();
        if !full_size_image.is_empty() {
            limits::http_url("plist_full_size_image", &full_size_image)?;
        }
        let display_image = optional(fields, "plist_display_image").unwrap_or_default();
        if !display_image.is_empty() {
            limits::http_url("plist_display_image", &display_image)?;
        }
        let base_url = self.base_url(request_base_url);
        let hosted_key = match self.hosted_key_of(&software_url, &base_url) {
            Some(key) => match self.store.size(&key).await? {
                Some(_) => key,
                None => return Err(AppinhouseError::ArchiveMissing(software_url)),
            },
            None => String::new(),
        };
        self.record_build(
            "build.save",
            BuildRecord {
                app,
                platform,
                version,
                time,
                description,
                url,
                software_url,
                bundle_identifier,
                title,
                full_size_image,
                display_image,
                hosted_key,
            },
            None,
        )
        .await
    }

    /// `extenddesc`: a named extra download of an existing version.
    pub async fn save_extend(
        &self,
        app: &str,
        platform: &str,
        fields: &Fields,
    ) -> AppinhouseResult<()> {
        let platform = Platform::parse(platform.trim())?;
        let app = app.trim().to_owned();
        let version = version(&required(fields, "version")?)?;
        let software_url = required(fields, "software_url")?;
        limits::http_url("software_url", &software_url)?;
        let extend_name = required(fields, "extend_name")?;
        limits::check("extend_name", &extend_name, limits::NAME)?;
        let extend_key = url_safe(
            "extend_key",
            &required(fields, "extend_key")?,
            MAX_EXTEND_KEY_BYTES,
        )?;
        let changed = app.clone();
        let origin = Origin::key_holder();
        self.database
            .transaction(move |connection| {
                existing_app(connection, &app)?;
                let build = (app.as_str(), platform.as_str(), version.as_str());
                let event = build_event(&origin, "build.save_extend", build)
                    .change(Change::new("extend_key", None, Some(&extend_key)))
                    .change(Change::new("extend_name", None, Some(&extend_name)));
                let build = builds::find(connection, &app, platform.as_str(), &version)?
                    .ok_or_else(|| {
                        AppinhouseError::NotFound(format!(
                            "version {version:?} of {} does not exist; call desc first",
                            platform.as_str()
                        ))
                    })?;
                let plist = if platform == Platform::Ios {
                    manifest(&record_of_row(&build)?, &software_url)?
                } else {
                    String::new()
                };
                builds::upsert_extend(
                    connection,
                    &ExtendRow {
                        app,
                        platform: platform.as_str().to_owned(),
                        version,
                        extend_key,
                        extend_name,
                        software_url,
                        plist,
                        create_time: now_utc(),
                    },
                )?;
                append_event(connection, event)?;
                Ok::<_, AppinhouseError>(())
            })
            .await?;
        self.reads.changed(&changed).await;
        Ok(())
    }

    /// The residue delete: keeps the newest `residue` builds of a platform (at least
    /// `min_residue`), deletes the others and their hosted files. Answers how many went.
    pub async fn delete_old_builds(
        &self,
        app: &str,
        platform: &str,
        residue: Option<&str>,
    ) -> AppinhouseResult<usize> {
        let platform = Platform::parse(platform.trim())?;
        let residue_text = residue
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .ok_or(AppinhouseError::Missing { field: "residue" })?;
        let residue = residue_text
            .parse::<i64>()
            .map_err(|_| AppinhouseError::Invalid {
                field: "residue",
                message: format!("{:?} is not a number", limits::excerpt(residue_text)),
            })?;
        let min_residue = self.settings.min_residue;
        if residue < min_residue {
            return Err(AppinhouseError::Invalid {
                field: "residue",
                message: format!("{residue} is below the minimum of {min_residue}"),
            });
        }
        let app = app.trim().to_owned();
        let changed = app.clone();
        let origin = Origin::key_holder();
        let (removed, files) = self
            .database
            .transaction(move |connection| {
                existing_app(connection, &app)?;
                let old = builds::newest(connection, &app, platform.as_str(), residue, i64::MAX)?;
                let mut keys = Vec::new();
                for row in &old {
                    keys.extend(delete_build_in(connection, row)?.1);
                }
                let files = unreferenced(connection, &app, keys)?;
                let deleted = old.len().to_string();
                let event = app_event(&origin, "build.delete_old", &app)
                    .change(Change::new("platform", None, Some(platform.as_str())))
                    .change(Change::new("deleted", None, Some(&deleted)));
                append_event(connection, event)?;
                Ok::<_, AppinhouseError>((old.len(), files))
            })
            .await?;
        self.reads.changed(&changed).await;
        self.delete_hosted(&files).await?;
        Ok(removed)
    }
}
