//! A svc-appinhouse service over a test database and a temporary file store, and the calls the
//! integration tests repeat: `desc` with default fields, and uploads of build files.
#![allow(dead_code)]

use std::collections::HashMap;

use common::db::Database;
use svc_appinhouse::{
    AppinhouseService, AppinhouseSettings, BuildStore,
    service::hosted::{UploadHeader, UploadedBuild},
};

/// The request base URL the tests read and write with.
pub const BASE: &str = "http://files.test";

pub struct Harness {
    pub service: AppinhouseService,
    pub dir: tempfile::TempDir,
}

/// A service with 2 builds a page, at most 3 pages, a residue of at least 1.
pub fn harness(database: Database) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = BuildStore::local(&dir.path().join("files")).expect("store");
    let service = AppinhouseService::new(
        database,
        store,
        AppinhouseSettings {
            secret_key: "secret-key-1".to_owned(),
            page_size: 2,
            max_page: 3,
            min_residue: 1,
            public_url: None,
            incoming_dir: dir.path().join("incoming"),
        },
    );
    Harness { service, dir }
}

pub fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

/// `desc` of `version` with default fields, `extra` replacing or adding some.
pub async fn desc(
    service: &AppinhouseService,
    app: &str,
    platform: &str,
    version: &str,
    extra: &[(&str, &str)],
) {
    let software_url = format!("http://cdn/{version}.bin");
    let mut form = fields(&[
        ("version", version),
        ("time", "2026-11-01T09:00:00Z"),
        ("url", "http://ci/1"),
        ("software_url", &software_url),
        ("description", "d"),
        ("plist_bundle_identifier", "org.demo"),
        ("plist_title", "Demo"),
    ]);
    form.extend(fields(extra));
    service
        .save_build(app, platform, &form, BASE)
        .await
        .expect("desc");
}

/// Uploads `bytes` as the build file `file_name`, in chunks of 100 bytes, with form `fields`.
pub async fn upload(
    service: &AppinhouseService,
    app: &str,
    platform: &str,
    file_name: &str,
    bytes: &[u8],
    form: &[(&str, &str)],
) -> UploadedBuild {
    let mut upload = service
        .begin_upload(UploadHeader {
            app: app.to_owned(),
            platform: platform.to_owned(),
            file_name: file_name.to_owned(),
            request_base_url: BASE.to_owned(),
        })
        .await
        .expect("begin");
    upload.add_fields(fields(form));
    for chunk in bytes.chunks(100) {
        upload.write(chunk).await.expect("write");
    }
    service.finish_upload(upload).await.expect("finish")
}
