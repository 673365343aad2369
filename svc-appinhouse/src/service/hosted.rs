//! Hosted builds: an upload is spooled to a file on disk as it arrives (memory does not grow with
//! its size), its metadata read (ipa / apk), then copied to the store under
//! `APP/PLATFORM/VERSION/FILE` and recorded as `desc` would. Downloads read ranges of it. At
//! start, crash leftovers (spool files, files no build refers to) older than an age are removed.

use std::ops::Range;

use bytes::Bytes;
use common::storage::leftovers::{self, Removed, remove_stale_spool};
use futures::stream::BoxStream;
use tokio::io::AsyncWriteExt;

use super::{
    AppinhouseError, AppinhouseResult, AppinhouseService, Fields,
    apps::existing_app,
    builds::{BuildRecord, version},
    metadata::{self, BuildMetadata},
    optional,
    platform::Platform,
    reads::Reader,
    time::{BuildTime, parse_build_time},
};
use crate::{
    db::models::details::DetailsRow,
    store::{StoreError, file_key},
};

/// Longest stored file name in bytes.
const MAX_FILE_NAME_BYTES: usize = 128;

/// What an upload starts with.
#[derive(Debug, Clone, Default)]
pub struct UploadHeader {
    pub app: String,
    pub platform: String,
    pub file_name: String,
    pub request_base_url: String,
}

/// A build file being received.
pub struct Upload {
    app: String,
    platform: Platform,
    file_name: String,
    base_url: String,
    spool: tempfile::NamedTempFile,
    writer: tokio::fs::File,
    size: u64,
    fields: Fields,
}

/// What an upload recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedBuild {
    pub platform: Platform,
    pub version: String,
    pub software_url: String,
    pub metadata: BuildMetadata,
    pub size: u64,
}

/// The stored name of an uploaded file: its base name, with anything but `A-Z a-z 0-9 . _ -`
/// replaced by `_`; it must end with an extension of the platform.
pub fn stored_file_name(platform: Platform, name: &str) -> AppinhouseResult<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_owned();
    let extension = cleaned
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default();
    if cleaned.is_empty() || cleaned.len() > MAX_FILE_NAME_BYTES {
        return Err(AppinhouseError::Invalid {
            field: "file",
            message: format!("name {name:?} is empty or longer than {MAX_FILE_NAME_BYTES} bytes"),
        });
    }
    if !platform.extensions().contains(&extension.as_str()) {
        return Err(AppinhouseError::Invalid {
            field: "file",
            message: format!(
                "{name:?} is not a build for {} (.{})",
                platform.as_str(),
                platform.extensions().join(", .")
            ),
        });
    }
    Ok(cleaned)
}

impl Upload {
    /// Appends received bytes to the spool file.
    pub async fn write(&mut self, bytes: &[u8]) -> AppinhouseResult<()> {
        self.writer
            .write_all(bytes)
            .await
            .map_err(|error| AppinhouseError::Upload(error.to_string()))?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Adds form fields (`version`, `time`, `description`, `url`, plist fields).
    pub fn add_fields(&mut self, fields: Fields) {
        self.fields.extend(fields);
    }
}

impl AppinhouseService {
    /// Starts receiving a build for an existing app.
    pub async fn begin_upload(&self, header: UploadHeader) -> AppinhouseResult<Upload> {
        let platform = Platform::parse(header.platform.trim())?;
        let file_name = stored_file_name(platform, &header.file_name)?;
        let app = header.app.trim().to_owned();
        let lookup = app.clone();
        self.database
            .run(move |connection| existing_app(connection, &lookup).map(|_| ()))
            .await?;
        let incoming = self.settings.incoming_dir.clone();
        let spool = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&incoming)?;
            tempfile::Builder::new()
                .prefix("upload-")
                .tempfile_in(&incoming)
        })
        .await
        .map_err(|error| AppinhouseError::Upload(error.to_string()))?
        .map_err(|error| AppinhouseError::Upload(format!("cannot spool the upload: {error}")))?;
        let writer = spool
            .reopen()
            .map(tokio::fs::File::from_std)
            .map_err(|error| AppinhouseError::Upload(error.to_string()))?;
        Ok(Upload {
            app,
            platform,
            file_name,
            base_url: self.base_url(&header.request_base_url),
            spool,
            writer,
            size: 0,
            fields: Fields::new(),
        })
    }

    /// Reads the metadata, stores the file and records the build.
    pub async fn finish_upload(&self, mut upload: Upload) -> AppinhouseResult<UploadedBuild> {
        upload
            .writer
            .flush()
            .await
            .map_err(|error| AppinhouseError::Upload(error.to_string()))?;
        if upload.size == 0 {
            return Err(AppinhouseError::Missing { field: "file" });
        }
        let spool_path = upload.spool.path().to_owned();
        let platform = upload.platform;
        let metadata = tokio::task::spawn_blocking(move || metadata::read(platform, &spool_path))
            .await
            .map_err(|error| AppinhouseError::Upload(error.to_string()))??;
        let fields = &upload.fields;
        let version = match optional(fields, "version") {
            Some(given) => version(&given)?,
            None if !metadata.version.is_empty() => version(&metadata.version)?,
            None => return Err(AppinhouseError::Missing { field: "version" }),
        };
        let time = match optional(fields, "time") {
            Some(text) => parse_build_time(&text)?,
            None => BuildTime {
                utc: common::time::now_utc(),
                offset_minutes: 0,
            },
        };
        let key = file_key(&upload.app, platform.as_str(), &version, &upload.file_name);
        let stored = self.store.put_file(&key, upload.spool.path()).await?;
        let software_url = format!("{}/download/{key}", upload.base_url);
        let record = BuildRecord {
            app: upload.app.clone(),
            platform,
            version: version.clone(),
            time,
            description: optional(fields, "description").unwrap_or_default(),
            url: optional(fields, "url").unwrap_or_default(),
            software_url: software_url.clone(),
            bundle_identifier: optional(fields, "plist_bundle_identifier")
                .unwrap_or_else(|| metadata.bundle_id.clone()),
            title: optional(fields, "plist_title").unwrap_or_else(|| metadata.title.clone()),
            full_size_image: optional(fields, "plist_full_size_image").unwrap_or_default(),
            display_image: optional(fields, "plist_display_image").unwrap_or_default(),
            hosted_key: key.clone(),
        };
        if platform == Platform::Ios && record.bundle_identifier.is_empty() {
            return Err(AppinhouseError::Missing {
                field: "plist_bundle_identifier",
            });
        }
        let icon_key = match &metadata.icon {
            Some(icon) => {
                let icon_key =
                    file_key(&upload.app, platform.as_str(), &version, &icon.file_name());
                if let Err(error) = self.store.put_bytes(&icon_key, icon.bytes.clone()).await {
                    let _ = self.store.delete(&key).await;
                    return Err(error.into());
                }
                icon_key
            }
            None => String::new(),
        };
        let details = DetailsRow {
            app: upload.app.clone(),
            platform: platform.as_str().to_owned(),
            version: version.clone(),
            size_bytes: i64::try_from(stored).unwrap_or(i64::MAX),
            version_code: metadata.version_code.clone(),
            min_os: metadata.min_os.clone(),
            label: metadata.title.clone(),
            icon_key: icon_key.clone(),
            installs: 0,
        };
        if let Err(error) = self
            .record_build("build.upload", record, Some(details))
            .await
        {
            // The app may have gone meanwhile: leave no file behind a failed record.
            let _ = self.store.delete(&key).await;
            if !icon_key.is_empty() {
                let _ = self.store.delete(&icon_key).await;
            }
            return Err(error);
        }
        tracing::info!(app = %upload.app, platform = platform.as_str(), %version, bytes = stored, "hosted build stored");
        Ok(UploadedBuild {
            platform,
            version,
            software_url,
            metadata,
            size: stored,
        })
    }

    fn hosted_key(
        app: &str,
        platform: &str,
        version_text: &str,
        file: &str,
    ) -> AppinhouseResult<String> {
        let platform = Platform::parse(platform)?;
        let version = version(version_text)?;
        let file = super::url_safe("file", file, MAX_FILE_NAME_BYTES)?;
        let app = super::url_safe("app", app, super::apps::MAX_APP_NAME_BYTES)?;
        Ok(file_key(&app, platform.as_str(), &version, &file))
    }

    /// Removes the spool files of uploads that never finished and the hosted files no build
    /// refers to (stored before a crash, never recorded), when at least `min_age` old, and logs
    /// what went. Younger ones may belong to uploads in flight and are kept.
    pub async fn remove_leftovers(
        &self,
        min_age: std::time::Duration,
    ) -> AppinhouseResult<(Removed, Removed)> {
        let incoming = self.settings.incoming_dir.clone();
        let spool = tokio::task::spawn_blocking(move || remove_stale_spool(&incoming, min_age))
            .await
            .map_err(|error| AppinhouseError::Upload(error.to_string()))?
            .map_err(StoreError::Io)?;
        let referenced = leftovers::referenced_in(
            self.database.clone(),
            crate::db::models::builds::referenced_files,
        );
        let files = self.store.remove_unreferenced(min_age, referenced).await?;
        leftovers::log_removed("appinhouse", spool, files, min_age);
        Ok((spool, files))
    }

    /// Checks that `reader` may read hosted files of `app` (a protected app needs a grant).
    async fn check_read(&self, app: &str, reader: Reader) -> AppinhouseResult<()> {
        self.read_app(app, reader, |_, _, _, _, _| Ok(())).await
    }

    /// The size of a hosted file (1004 when there is none).
    pub async fn hosted_file_size(
        &self,
        app: &str,
        platform: &str,
        version: &str,
        file: &str,
        reader: impl Into<Reader>,
    ) -> AppinhouseResult<u64> {
        let key = Self::hosted_key(app, platform, version, file)?;
        self.check_read(app.trim(), reader.into()).await?;
        self.store
            .size(&key)
            .await?
            .ok_or(AppinhouseError::ArchiveMissing(key))
    }

    /// A byte range of a hosted file. A read from the first byte of a build's file counts an
    /// install of it (a resumed download does not count again).
    pub async fn read_hosted_file(
        &self,
        app: &str,
        platform: &str,
        version: &str,
        file: &str,
        range: Range<u64>,
        reader: impl Into<Reader>,
    ) -> AppinhouseResult<BoxStream<'static, Result<Bytes, StoreError>>> {
        let key = Self::hosted_key(app, platform, version, file)?;
        self.check_read(app.trim(), reader.into()).await?;
        let stream = self.store.read(&key, range.clone()).await?;
        if range.start == 0 {
            self.count_download_later(key);
        }
        Ok(stream)
    }

    /// Counts an install of the build whose file `key` is, if it is one (not an icon).
    fn count_download_later(&self, key: String) {
        let mut parts = key.splitn(4, '/').map(str::to_owned);
        let (Some(app), Some(platform), Some(version)) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let service = self.clone();
        tokio::spawn(async move {
            let (lookup, platform_text, version_text) =
                (app.clone(), platform.clone(), version.clone());
            let build = service
                .database
                .run(move |connection| {
                    crate::db::models::builds::find(
                        connection,
                        &lookup,
                        &platform_text,
                        &version_text,
                    )
                    .map_err(common::db::DbError::from)
                })
                .await;
            match build {
                Ok(Some(row)) if row.hosted_key == key => {
                    service.count_install_later(app, platform, version)
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "a download was not counted"),
            }
        });
    }
}
