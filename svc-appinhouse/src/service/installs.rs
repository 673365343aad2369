//! Install counts: each install or download of a build adds one (the plist fetch for iOS, the
//! hosted file read from its first byte, or the page's counted link for a file hosted
//! elsewhere). Counting never delays the answer: it runs after it, and a failure is logged.

use super::{
    AppinhouseResult, AppinhouseService,
    builds::version,
    platform::Platform,
    reads::{Reader, Shows, missing_build, with_access},
};
use crate::db::models::{builds, details};

/// One build's install count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallCount {
    pub platform: String,
    pub version: String,
    pub installs: i64,
}

/// Most builds in one tally of installs counted elsewhere, and most installs of one build in it.
pub const MAX_TALLY_BUILDS: usize = 1024;
pub const MAX_TALLY_INSTALLS: i64 = 1_000_000;
const MAX_TALLY_NAME_BYTES: usize = 256;

/// Installs of one build counted elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalliedInstalls {
    pub app: String,
    pub platform: String,
    pub version: String,
    pub installs: i64,
}

impl AppinhouseService {
    /// Adds one install to a build, after the caller answered.
    pub(crate) fn count_install_later(&self, app: String, platform: String, version: String) {
        let (database, reads) = (self.database.clone(), self.reads.clone());
        tokio::spawn(async move {
            // A write: it takes its turn with the other writers (on SQLite a write beside a
            // running transaction would fail that transaction with "database is locked").
            let counted = database
                .transaction({
                    let app = app.clone();
                    move |connection| {
                        details::count_install(connection, &app, &platform, &version)
                            .map_err(common::db::DbError::from)
                    }
                })
                .await;
            match counted {
                Ok(()) => reads.installs_changed(&app).await,
                Err(error) => tracing::warn!(%error, "an install was not counted"),
            }
        });
    }

    /// Counts an install of a build and answers where its file is (the page's link for a build
    /// whose file is not a plist). 1004 when the build does not exist. The count is written
    /// before the answer (one short statement; the download itself is not slowed).
    pub async fn install_build(
        &self,
        app: &str,
        platform: &str,
        version_text: &str,
        reader: impl Into<Reader>,
    ) -> AppinhouseResult<String> {
        let platform = Platform::parse(platform.trim())?;
        let version = version(version_text)?;
        let (url, counted) = self
            .read_app(app, reader, move |_, connection, app, _, links| {
                let row = builds::find(connection, app, platform.as_str(), &version)?
                    .ok_or_else(|| missing_build(app, platform, &version))?;
                let url = if row.hosted_key.is_empty() {
                    row.software_url
                } else {
                    with_access(&row.software_url, links.access.as_deref())
                };
                Ok((url, (app.to_owned(), platform, version)))
            })
            .await?;
        let (app, platform, version) = counted;
        let counting = app.clone();
        self.database
            .transaction(move |connection| {
                details::count_install(connection, &counting, platform.as_str(), &version)
                    .map_err(super::AppinhouseError::from)
            })
            .await?;
        self.reads.installs_changed(&app).await;
        Ok(url)
    }

    /// Adds installs counted elsewhere (a gateway that answered plists it kept: each counts as
    /// one plist fetch would). Builds that do not exist are skipped; a tally holds at most
    /// [`MAX_TALLY_BUILDS`] builds, each counted at most [`MAX_TALLY_INSTALLS`] times.
    pub async fn count_installs(&self, tally: Vec<TalliedInstalls>) -> AppinhouseResult<()> {
        if tally.len() > MAX_TALLY_BUILDS {
            return Err(super::AppinhouseError::Invalid {
                field: "installs",
                message: format!("at most {MAX_TALLY_BUILDS} builds a tally"),
            });
        }
        let too_long = |tallied: &&TalliedInstalls| {
            [&tallied.app, &tallied.platform, &tallied.version]
                .iter()
                .any(|text| text.len() > MAX_TALLY_NAME_BYTES)
        };
        if tally.iter().any(|tallied| too_long(&tallied)) {
            return Err(super::AppinhouseError::Invalid {
                field: "installs",
                message: format!(
                    "app, platform and version are at most {MAX_TALLY_NAME_BYTES} bytes"
                ),
            });
        }
        if let Some(bad) = tally
            .iter()
            .find(|tallied| !(1..=MAX_TALLY_INSTALLS).contains(&tallied.installs))
        {
            return Err(super::AppinhouseError::Invalid {
                field: "installs",
                message: format!("{} must be from 1 to {MAX_TALLY_INSTALLS}", bad.installs),
            });
        }
        let counted = self
            .database
            .transaction(move |connection| {
                let mut apps = Vec::new();
                for tallied in tally {
                    let exists = builds::find(
                        connection,
                        &tallied.app,
                        &tallied.platform,
                        &tallied.version,
                    )?
                    .is_some();
                    if !exists {
                        continue;
                    }
                    details::count_installs(
                        connection,
                        &tallied.app,
                        &tallied.platform,
                        &tallied.version,
                        tallied.installs,
                    )?;
                    apps.push(tallied.app);
                }
                Ok::<_, super::AppinhouseError>(apps)
            })
            .await?;
        for app in counted {
            self.reads.installs_changed(&app).await;
        }
        Ok(())
    }

    /// Every build of an app that was installed, with its count, by platform and version.
    pub async fn list_installs(
        &self,
        app: &str,
        reader: impl Into<Reader>,
    ) -> AppinhouseResult<Vec<InstallCount>> {
        let reader = reader.into();
        let load = self.read_app(app, reader.clone(), |_, connection, app, _, _| {
            Ok(details::details_of_app(connection, app)?
                .into_iter()
                .filter(|row| row.installs > 0)
                .map(|row| InstallCount {
                    platform: row.platform,
                    version: row.version,
                    installs: row.installs,
                })
                .collect())
        });
        self.cached(app, &reader, "installs", Shows::BuildsAndInstalls, load)
            .await
    }
}
