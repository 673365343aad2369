//! Builds: `desc` (create or update a version; ios builds its OTA plist), `extenddesc` (named
//! extra downloads), the newest build per platform, per visitor platform, paginated history,
//! plists, the residue delete (also deleting hosted files of removed builds) and the page content.

use std::collections::{HashMap, HashSet};

use chrono::Timelike;
use common::{db::DbConnection, limits, time::now_utc};

use super::{
    AppinhouseError, AppinhouseResult, AppinhouseService, Fields, Window,
    apps::existing_app,
    optional,
    platform::{Detected, Platform, detect},
    plist::OtaManifest,
    required,
    time::{BuildTime, parse_build_time},
    url_safe,
};
use crate::db::models::{
    apps::AppRow,
    builds::{self, BuildRow, ExtendRow},
};

/// Longest version in bytes.
pub const MAX_VERSION_BYTES: usize = 64;
/// Longest extend key in bytes.
const MAX_EXTEND_KEY_BYTES: usize = 64;

/// A named extra download as answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendView {
    pub key: String,
    pub name: String,
    pub down: String,
}

/// A build as answered: its row, its download link and its extra downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildView {
    pub row: BuildRow,
    pub down: String,
    pub extends: Vec<ExtendView>,
}

/// What the download page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageContent {
    pub app: AppRow,
    pub detected: Detected,
    pub latest: Vec<BuildView>,
    /// One page of the builds after the newest, of each platform shown.
    pub history: Vec<BuildView>,
    /// The page of history shown (from 1) and how many there are (at least 1).
    pub page: i64,
    pub pages: i64,
}

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

/// `https://host` of a base URL: iOS fetches OTA manifests over https only.
fn https(base_url: &str) -> String {
    match base_url.strip_prefix("http://") {
        Some(rest) => format!("https://{rest}"),
        None => base_url.to_owned(),
    }
}

/// The absolute URL of a version's plist (`?extend=KEY` for an extra download's).
pub fn plist_url(base_url: &str, app: &str, version: &str, extend_key: Option<&str>) -> String {
    let mut url = format!("{}/api/v2/{app}/plist/{version}.plist", https(base_url));
    if let Some(key) = extend_key {
        url.push_str("?extend=");
        url.push_str(key);
    }
    url
}

fn manifest(record: &BuildRecord, software_url: &str) -> AppinhouseResult<String> {
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

fn record_of_row(row: &BuildRow) -> AppinhouseResult<BuildRecord> {
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

/// Hosted keys among `keys` that no build refers to any more.
pub(crate) fn unreferenced(
    connection: &mut DbConnection,
    app: &str,
    keys: Vec<String>,
) -> AppinhouseResult<Vec<String>> {
    if keys.is_empty() {
        return Ok(keys);
    }
    let used: HashSet<String> = builds::of_app(connection, app)?
        .into_iter()
        .map(|row| row.hosted_key)
        .collect();
    Ok(keys.into_iter().filter(|key| !used.contains(key)).collect())
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

    /// Records a build; deletes a hosted file it replaced.
    pub(crate) async fn record_build(&self, record: BuildRecord) -> AppinhouseResult<()> {
        let app = record.app.clone();
        let replaced = self
            .database
            .transaction(move |connection| {
                let replaced = record_build_in(connection, &record)?;
                unreferenced(connection, &record.app, replaced.into_iter().collect())
            })
            .await?;
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
        self.record_build(BuildRecord {
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
        })
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
        self.database
            .transaction(move |connection| {
                existing_app(connection, &app)?;
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
                Ok(())
            })
            .await
    }

    fn views(
        connection: &mut DbConnection,
        base_url: &str,
        rows: Vec<BuildRow>,
    ) -> AppinhouseResult<Vec<BuildView>> {
        let mut by_platform: HashMap<String, Vec<String>> = HashMap::new();
        for row in &rows {
            by_platform
                .entry(row.platform.clone())
                .or_default()
                .push(row.version.clone());
        }
        let mut extends: HashMap<(String, String), Vec<ExtendRow>> = HashMap::new();
        if let Some(app) = rows.first().map(|row| row.app.clone()) {
            for (platform, versions) in by_platform {
                for extend in builds::extends_of(connection, &app, &platform, &versions)? {
                    extends
                        .entry((extend.platform.clone(), extend.version.clone()))
                        .or_default()
                        .push(extend);
                }
            }
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let ios = row.platform == Platform::Ios.as_str();
                let down = if ios {
                    plist_url(base_url, &row.app, &row.version, None)
                } else {
                    row.software_url.clone()
                };
                let extends = extends
                    .remove(&(row.platform.clone(), row.version.clone()))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|extend| ExtendView {
                        down: if ios {
                            plist_url(base_url, &row.app, &row.version, Some(&extend.extend_key))
                        } else {
                            extend.software_url
                        },
                        key: extend.extend_key,
                        name: extend.extend_name,
                    })
                    .collect();
                BuildView { row, down, extends }
            })
            .collect())
    }

    /// `last`: the newest build of every platform.
    pub async fn last_builds(
        &self,
        app: &str,
        request_base_url: &str,
    ) -> AppinhouseResult<Vec<BuildView>> {
        let app = app.trim().to_owned();
        let base_url = self.base_url(request_base_url);
        self.database
            .run(move |connection| {
                existing_app(connection, &app)?;
                let mut rows = Vec::new();
                for platform in Platform::ALL {
                    rows.extend(builds::newest(connection, &app, platform.as_str(), 0, 1)?);
                }
                Self::views(connection, &base_url, rows)
            })
            .await
    }

    /// `mobile/last`: the newest build of the visitor's platform.
    pub async fn mobile_last(
        &self,
        app: &str,
        user_agent: &str,
        touch_hint: bool,
        request_base_url: &str,
    ) -> AppinhouseResult<(Detected, Vec<BuildView>)> {
        let app = app.trim().to_owned();
        let detected = detect(user_agent, touch_hint);
        let base_url = self.base_url(request_base_url);
        self.database
            .run(move |connection| {
                existing_app(connection, &app)?;
                let rows = builds::newest(connection, &app, detected.platform().as_str(), 0, 1)?;
                Ok((detected, Self::views(connection, &base_url, rows)?))
            })
            .await
    }

    /// `list/{platform}` and `mobile/list`: one page of a platform's builds, newest first.
    pub async fn list_builds(
        &self,
        app: &str,
        platform: Platform,
        page: Option<&str>,
        request_base_url: &str,
    ) -> AppinhouseResult<(Vec<BuildView>, Window)> {
        let app = app.trim().to_owned();
        let page = page.map(str::to_owned);
        let base_url = self.base_url(request_base_url);
        let service = self.clone();
        self.database
            .run(move |connection| {
                existing_app(connection, &app)?;
                let total = builds::count(connection, &app, platform.as_str())?;
                let window = service.window(page.as_deref(), total)?;
                let rows = builds::newest(
                    connection,
                    &app,
                    platform.as_str(),
                    window.offset,
                    window.limit,
                )?;
                Ok((Self::views(connection, &base_url, rows)?, window))
            })
            .await
    }

    /// The OTA plist of an ios version (or of one of its extra downloads); 1004 (the archive
    /// does not exist) when the version or the extra download has none.
    pub async fn plist(
        &self,
        app: &str,
        version: &str,
        extend_key: Option<&str>,
    ) -> AppinhouseResult<Vec<u8>> {
        let app = app.trim().to_owned();
        let version = version.trim().to_owned();
        let extend_key = extend_key
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .map(str::to_owned);
        self.database
            .run(move |connection| {
                existing_app(connection, &app)?;
                let ios = Platform::Ios.as_str();
                let plist = match &extend_key {
                    None => builds::find(connection, &app, ios, &version)?.map(|row| row.plist),
                    Some(key) => builds::find_extend(connection, &app, ios, &version, key)?
                        .map(|row| row.plist),
                };
                plist
                    .filter(|plist| !plist.is_empty())
                    .map(String::into_bytes)
                    .ok_or_else(|| {
                        AppinhouseError::ArchiveMissing(match &extend_key {
                            None => format!("{}.plist of {app:?}", limits::excerpt(&version)),
                            Some(key) => format!(
                                "{}.plist?extend={} of {app:?}",
                                limits::excerpt(&version),
                                limits::excerpt(key)
                            ),
                        })
                    })
            })
            .await
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
        let (removed, files) = self
            .database
            .transaction(move |connection| {
                existing_app(connection, &app)?;
                let old = builds::newest(connection, &app, platform.as_str(), residue, i64::MAX)?;
                let mut keys = Vec::new();
                for row in &old {
                    builds::delete_one(connection, &app, &row.platform, &row.version)?;
                    if !row.hosted_key.is_empty() {
                        keys.push(row.hosted_key.clone());
                    }
                }
                let files = unreferenced(connection, &app, keys)?;
                Ok::<_, AppinhouseError>((old.len(), files))
            })
            .await?;
        self.delete_hosted(&files).await?;
        Ok(removed)
    }

    /// Everything the download page of `app` shows to this visitor: the newest build of its
    /// platform (of every platform for a desktop visitor) and one page of the builds after it,
    /// newest first. `page` counts from 1; anything else shows the first page, and a page past
    /// the end shows the last one (the oldest builds are always reachable, unlike the API's
    /// `max_page` window).
    pub async fn page(
        &self,
        app: &str,
        user_agent: &str,
        touch_hint: bool,
        page: Option<&str>,
        request_base_url: &str,
    ) -> AppinhouseResult<PageContent> {
        let app = app.trim().to_owned();
        let detected = detect(user_agent, touch_hint);
        let base_url = self.base_url(request_base_url);
        let page_size = self.settings.page_size.max(1);
        let wanted = page
            .map(str::trim)
            .filter(|text| text.len() <= 12)
            .and_then(|text| text.parse::<i64>().ok())
            .filter(|page| *page >= 1)
            .unwrap_or(1);
        self.database
            .run(move |connection| {
                let row = existing_app(connection, &app)?;
                let platforms: Vec<Platform> = match detected {
                    Detected::Pc => Platform::ALL.to_vec(),
                    mobile => vec![mobile.platform()],
                };
                let mut totals = Vec::new();
                for platform in platforms {
                    totals.push((
                        platform,
                        builds::count(connection, &app, platform.as_str())?,
                    ));
                }
                let pages = totals
                    .iter()
                    .map(|(_, total)| ((total - 1).max(0) + page_size - 1) / page_size)
                    .max()
                    .unwrap_or(0)
                    .max(1);
                let page = wanted.min(pages);
                let mut latest = Vec::new();
                let mut history = Vec::new();
                for (platform, total) in totals {
                    if total == 0 {
                        continue;
                    }
                    let platform = platform.as_str();
                    latest.extend(builds::newest(connection, &app, platform, 0, 1)?);
                    let offset = 1 + (page - 1) * page_size;
                    history.extend(builds::newest(
                        connection, &app, platform, offset, page_size,
                    )?);
                }
                Ok(PageContent {
                    app: row,
                    detected,
                    latest: Self::views(connection, &base_url, latest)?,
                    history: Self::views(connection, &base_url, history)?,
                    page,
                    pages,
                })
            })
            .await
    }
}
