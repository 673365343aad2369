//! Reads of builds: the newest build per platform (`last`), per visitor platform
//! (`mobile/last`), one page of a platform (`list`), OTA plists, each build with its download
//! link, extra downloads, details and install count. A protected app's reads need a grant
//! (`access`), and their links to this server carry it.

use std::collections::HashMap;

use common::{db::DbConnection, limits};

use super::{
    AppinhouseError, AppinhouseResult, AppinhouseService, Window,
    access::Presented,
    apps::existing_app,
    builds::{manifest, record_of_row},
    platform::{Detected, Platform, detect},
};
use crate::db::models::{
    apps::AppRow,
    builds::{self, BuildRow, ExtendRow},
    details::{self, DetailsRow},
};

/// A named extra download as answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendView {
    pub key: String,
    pub name: String,
    pub down: String,
}

/// A build as answered: its row, its download link, its extra downloads, what its hosted file
/// says and how often it was installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildView {
    pub row: BuildRow,
    pub down: String,
    pub extends: Vec<ExtendView>,
    pub details: DetailsRow,
    /// Path of the icon on this server, empty when none.
    pub icon_path: String,
}

/// Who reads, and where links point: the base URL of this server and what the caller shows for
/// a protected app. A bare base URL (`&str`) is a reader that shows nothing.
#[derive(Debug, Clone, Default)]
pub struct Reader {
    pub request_base_url: String,
    pub presented: Presented,
}

impl From<&str> for Reader {
    fn from(request_base_url: &str) -> Reader {
        Reader {
            request_base_url: request_base_url.to_owned(),
            presented: Presented::default(),
        }
    }
}

/// `https://host` of a base URL: iOS fetches OTA manifests over https only.
fn https(base_url: &str) -> String {
    match base_url.strip_prefix("http://") {
        Some(rest) => format!("https://{rest}"),
        None => base_url.to_owned(),
    }
}

/// `url` with the grant of a protected app added to its query.
pub fn with_access(url: &str, access: Option<&str>) -> String {
    match access {
        None => url.to_owned(),
        Some(access) => {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}access={access}")
        }
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

/// What a kept read shows of an app: its builds (kept under the app's generation, which every
/// write to the app moves), or its install counts too (which every counted install moves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shows {
    Builds,
    BuildsAndInstalls,
}

/// Longest read description kept in the read cache (longer ones are read through).
const MAX_CACHED_READ_BYTES: usize = 200;

/// Where the links of one answer point: this server's base URL and the grant links carry (a
/// protected app).
pub(crate) struct Links {
    pub base_url: String,
    pub access: Option<String>,
}

/// 1004 for a build `app` does not have.
pub(crate) fn missing_build(app: &str, platform: Platform, version: &str) -> AppinhouseError {
    AppinhouseError::ArchiveMissing(format!(
        "{} {} of {app:?}",
        platform.as_str(),
        limits::excerpt(version)
    ))
}

impl AppinhouseService {
    /// The app a read names (1008 when there is none) and where the read's links point
    /// (`Protected` without a valid grant for a protected app).
    pub(crate) fn open_in(
        &self,
        connection: &mut DbConnection,
        app: &str,
        reader: &Reader,
    ) -> AppinhouseResult<(AppRow, Links)> {
        let row = existing_app(connection, app)?;
        let access = self.access_in(connection, app, &reader.presented)?;
        let links = Links {
            base_url: self.base_url(&reader.request_base_url),
            access,
        };
        Ok((row, links))
    }

    /// Runs `read` on the database for a read of `app` by `reader`, given the app's row and
    /// where the answer's links point (1008 for an unknown app, `Protected` without a grant).
    pub(crate) async fn read_app<T, F>(
        &self,
        app: &str,
        reader: impl Into<Reader>,
        read: F,
    ) -> AppinhouseResult<T>
    where
        T: Send + 'static,
        F: FnOnce(
                &AppinhouseService,
                &mut DbConnection,
                &str,
                AppRow,
                Links,
            ) -> AppinhouseResult<T>
            + Send
            + 'static,
    {
        let app = app.trim().to_owned();
        let reader = reader.into();
        let service = self.clone();
        self.database
            .run(move |connection| {
                let (row, links) = service.open_in(connection, &app, &reader)?;
                read(&service, connection, &app, row, links)
            })
            .await
    }

    /// `load`, or the answer kept for this read of an open app (`read` names the read, `shows`
    /// what it depends on). Only a reader that shows neither a grant nor `X-SecretKey` is served
    /// from the cache, and only short, well-formed reads are kept.
    pub(super) async fn cached<T: Clone + Send + Sync + 'static>(
        &self,
        app: &str,
        reader: &Reader,
        read: &str,
        shows: Shows,
        load: impl std::future::Future<Output = AppinhouseResult<T>>,
    ) -> AppinhouseResult<T> {
        let app = app.trim();
        let presented = &reader.presented;
        let cacheable = presented.secret_key.is_none()
            && presented.access.is_none()
            && app.len() <= super::apps::MAX_APP_NAME_BYTES
            && read.len() <= MAX_CACHED_READ_BYTES;
        let slot = if cacheable {
            let base_url = self.base_url(&reader.request_base_url);
            let read = format!("{read}\n{base_url}");
            match shows {
                Shows::Builds => self.reads.slot(app, &read).await,
                Shows::BuildsAndInstalls => self.reads.slot_with_installs(app, &read).await,
            }
        } else {
            None
        };
        if let Some(answer) = slot.as_ref().and_then(|slot| self.reads.get::<T>(slot)) {
            return Ok(answer);
        }
        let answer = load.await?;
        if let Some(slot) = slot {
            self.reads.put(slot, answer.clone());
        }
        Ok(answer)
    }

    pub(crate) fn views(
        &self,
        connection: &mut DbConnection,
        links: &Links,
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
        let mut found_details: HashMap<(String, String), DetailsRow> = HashMap::new();
        if let Some(app) = rows.first().map(|row| row.app.clone()) {
            for (platform, versions) in by_platform {
                for extend in builds::extends_of(connection, &app, &platform, &versions)? {
                    extends
                        .entry((extend.platform.clone(), extend.version.clone()))
                        .or_default()
                        .push(extend);
                }
                for row in details::details_of(connection, &app, &platform, &versions)? {
                    found_details.insert((row.platform.clone(), row.version.clone()), row);
                }
            }
        }
        let (base_url, access) = (links.base_url.as_str(), links.access.as_deref());
        let hosted = |url: &str, hosted: bool| {
            if hosted {
                with_access(url, access)
            } else {
                url.to_owned()
            }
        };
        Ok(rows
            .into_iter()
            .map(|row| {
                let ios = row.platform == Platform::Ios.as_str();
                let key = (row.platform.clone(), row.version.clone());
                let down = if ios {
                    with_access(&plist_url(base_url, &row.app, &row.version, None), access)
                } else {
                    hosted(&row.software_url, !row.hosted_key.is_empty())
                };
                let extends = extends
                    .remove(&key)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|extend| ExtendView {
                        down: if ios {
                            let url = plist_url(
                                base_url,
                                &row.app,
                                &row.version,
                                Some(&extend.extend_key),
                            );
                            with_access(&url, access)
                        } else {
                            let is_hosted =
                                self.hosted_key_of(&extend.software_url, base_url).is_some();
                            hosted(&extend.software_url, is_hosted)
                        },
                        key: extend.extend_key,
                        name: extend.extend_name,
                    })
                    .collect();
                let details = found_details.remove(&key).unwrap_or_default();
                let icon_path = if details.icon_key.is_empty() {
                    String::new()
                } else {
                    with_access(&format!("/download/{}", details.icon_key), access)
                };
                BuildView {
                    row,
                    down,
                    extends,
                    details,
                    icon_path,
                }
            })
            .collect())
    }

    /// `last`: the newest build of every platform.
    pub async fn last_builds(
        &self,
        app: &str,
        reader: impl Into<Reader>,
    ) -> AppinhouseResult<Vec<BuildView>> {
        let reader = reader.into();
        let load = self.read_app(app, reader.clone(), |service, connection, app, _, links| {
            let mut rows = Vec::new();
            for platform in Platform::ALL {
                rows.extend(builds::newest(connection, app, platform.as_str(), 0, 1)?);
            }
            service.views(connection, &links, rows)
        });
        self.cached(app, &reader, "last", Shows::Builds, load).await
    }

    /// `mobile/last`: the newest build of the visitor's platform.
    pub async fn mobile_last(
        &self,
        app: &str,
        user_agent: &str,
        touch_hint: bool,
        reader: impl Into<Reader>,
    ) -> AppinhouseResult<(Detected, Vec<BuildView>)> {
        let detected = detect(user_agent, touch_hint);
        let reader = reader.into();
        let load = self.read_app(
            app,
            reader.clone(),
            move |service, connection, app, _, links| {
                let rows = builds::newest(connection, app, detected.platform().as_str(), 0, 1)?;
                Ok((detected, service.views(connection, &links, rows)?))
            },
        );
        let read = format!("mobile\n{}", detected.as_str());
        self.cached(app, &reader, &read, Shows::Builds, load).await
    }

    /// `list/{platform}` and `mobile/list`: one page of a platform's builds, newest first.
    pub async fn list_builds(
        &self,
        app: &str,
        platform: Platform,
        page: Option<&str>,
        reader: impl Into<Reader>,
    ) -> AppinhouseResult<(Vec<BuildView>, Window)> {
        let read = format!("list\n{}\n{}", platform.as_str(), page.unwrap_or_default());
        let page = page.map(str::to_owned);
        let reader = reader.into();
        let load = self.read_app(
            app,
            reader.clone(),
            move |service, connection, app, _, links| {
                let total = builds::count(connection, app, platform.as_str())?;
                let window = service.window(page.as_deref(), total)?;
                let (offset, limit) = (window.offset, window.limit);
                let rows = builds::newest(connection, app, platform.as_str(), offset, limit)?;
                Ok((service.views(connection, &links, rows)?, window))
            },
        );
        self.cached(app, &reader, &read, Shows::Builds, load).await
    }

    /// The OTA plist of an ios version (or of one of its extra downloads); 1004 (the archive
    /// does not exist) when the version or the extra download has none. Fetching it counts an
    /// install. For a protected app, the hosted ipa's URL in it carries the grant.
    pub async fn plist(
        &self,
        app: &str,
        version: &str,
        extend_key: Option<&str>,
        reader: impl Into<Reader>,
    ) -> AppinhouseResult<Vec<u8>> {
        let version = version.trim().to_owned();
        let extend_key = extend_key
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .map(str::to_owned);
        let reader = reader.into();
        let read = format!(
            "plist\n{version}\n{}",
            extend_key.as_deref().unwrap_or_default()
        );
        let counted = (app.trim().to_owned(), version.clone());
        let load = self.read_app(
            app,
            reader.clone(),
            move |service, connection, app, _, links| {
                let Links { base_url, access } = links;
                let app = app.to_owned();
                let ios = Platform::Ios.as_str();
                let missing = || {
                    AppinhouseError::ArchiveMissing(match &extend_key {
                        None => format!("{}.plist of {app:?}", limits::excerpt(&version)),
                        Some(key) => format!(
                            "{}.plist?extend={} of {app:?}",
                            limits::excerpt(&version),
                            limits::excerpt(key)
                        ),
                    })
                };
                let build = builds::find(connection, &app, ios, &version)?
                    .filter(|row| !row.plist.is_empty())
                    .ok_or_else(missing)?;
                let (stored, software_url) = match &extend_key {
                    None => (build.plist.clone(), build.software_url.clone()),
                    Some(key) => builds::find_extend(connection, &app, ios, &version, key)?
                        .filter(|row| !row.plist.is_empty())
                        .map(|row| (row.plist, row.software_url))
                        .ok_or_else(missing)?,
                };
                let plist = match access.as_deref() {
                    Some(access) if service.hosted_key_of(&software_url, &base_url).is_some() => {
                        manifest(
                            &record_of_row(&build)?,
                            &with_access(&software_url, Some(access)),
                        )?
                    }
                    _ => stored,
                };
                Ok(plist.into_bytes())
            },
        );
        let plist = self
            .cached(app, &reader, &read, Shows::Builds, load)
            .await?;
        let (app, version) = counted;
        self.count_install_later(app, Platform::Ios.as_str().to_owned(), version);
        Ok(plist)
    }
}

/// What a page of builds needs from `page` text: a number from 1; anything else is the first.
pub(crate) fn wanted_page(page: Option<&str>) -> i64 {
    page.map(str::trim)
        .filter(|text| text.len() <= 12)
        .and_then(|text| text.parse::<i64>().ok())
        .filter(|page| *page >= 1)
        .unwrap_or(1)
}

/// The platforms a visitor's page shows.
pub(crate) fn shown_platforms(detected: Detected) -> Vec<Platform> {
    match detected {
        Detected::Pc => Platform::ALL.to_vec(),
        mobile => vec![mobile.platform()],
    }
}

impl AppinhouseService {
    /// One page of app names in list order (page 1 when not given), kept in the read cache
    /// until an app is created, deleted or moved (on any replica).
    pub async fn list_apps(&self, page: Option<&str>) -> AppinhouseResult<(Vec<String>, Window)> {
        let service = self.clone();
        let page = page
            .map(str::trim)
            .filter(|page| !page.is_empty())
            .unwrap_or("1")
            .to_owned();
        let slot = if page.len() <= 32 {
            self.reads
                .slot(super::apps::LIST_SCOPE, &format!("list\n{page}"))
                .await
        } else {
            None
        };
        if let Some((names, window)) = slot
            .as_ref()
            .and_then(|slot| self.reads.get::<(Vec<String>, Window)>(slot))
        {
            return Ok((names, window));
        }
        let (names, window) = self
            .database
            .run(move |connection| {
                let total = crate::db::models::apps::count(connection)?;
                let window = service.window(Some(&page), total)?;
                let names = crate::db::models::apps::page(connection, window.offset, window.limit)?;
                Ok::<_, AppinhouseError>((names, window))
            })
            .await?;
        if let Some(slot) = slot {
            self.reads.put(slot, (names.clone(), window));
        }
        Ok((names, window))
    }
}
