//! The configuration as read, before validation: the TOML file's sections, with each
//! `TAD_*` variable (see [`super::keys`]) and flag laid over it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, ConfigOverrides};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub(super) database_url: Option<String>,
    pub(super) database_schema: Option<String>,
    pub(super) listen: Option<String>,
    pub(super) addr: Option<String>,
}

/// `[appinhouse]`: the service keys plus the appinhouse rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAppinhouse {
    pub(super) database_url: Option<String>,
    pub(super) database_schema: Option<String>,
    pub(super) listen: Option<String>,
    pub(super) addr: Option<String>,
    pub(super) secret_key: Option<String>,
    pub(super) page_size: Option<u32>,
    pub(super) max_page: Option<u32>,
    pub(super) min_residue: Option<u32>,
    pub(super) max_age_days: Option<u32>,
    pub(super) files_dir: Option<PathBuf>,
    pub(super) s3_bucket: Option<String>,
    pub(super) s3_endpoint: Option<String>,
    pub(super) s3_region: Option<String>,
    pub(super) s3_access_key_id: Option<String>,
    pub(super) s3_secret_access_key: Option<String>,
    pub(super) s3_allow_http: Option<bool>,
}

/// The [`RawBucket`] of a section whose S3 keys are its `s3_*` fields.
macro_rules! bucket_of {
    ($section:expr) => {
        RawBucket {
            bucket: $section.s3_bucket.clone(),
            endpoint: $section.s3_endpoint.clone(),
            region: $section.s3_region.clone(),
            access_key_id: $section.s3_access_key_id.clone(),
            secret_access_key: $section.s3_secret_access_key.clone(),
            allow_http: $section.s3_allow_http,
        }
    };
}

/// The S3 keys of one object store, as read (see [`super::keys::StoreKeys`]).
#[derive(Default)]
pub(super) struct RawBucket {
    pub(super) bucket: Option<String>,
    pub(super) endpoint: Option<String>,
    pub(super) region: Option<String>,
    pub(super) access_key_id: Option<String>,
    pub(super) secret_access_key: Option<String>,
    pub(super) allow_http: Option<bool>,
}

impl RawAppinhouse {
    pub(super) fn service(&self) -> RawService {
        RawService {
            database_url: self.database_url.clone(),
            database_schema: self.database_schema.clone(),
            listen: self.listen.clone(),
            addr: self.addr.clone(),
        }
    }

    pub(super) fn bucket(&self) -> RawBucket {
        bucket_of!(self)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArtifactStore {
    pub(super) storage_dir: Option<PathBuf>,
    pub(super) s3_bucket: Option<String>,
    pub(super) s3_endpoint: Option<String>,
    pub(super) s3_region: Option<String>,
    pub(super) s3_access_key_id: Option<String>,
    pub(super) s3_secret_access_key: Option<String>,
    pub(super) s3_allow_http: Option<bool>,
    pub(super) max_upload_bytes: Option<u64>,
    pub(super) max_unpacked_bytes: Option<u64>,
    pub(super) max_entries: Option<u64>,
    pub(super) max_unpack_ratio: Option<u64>,
}

impl RawArtifactStore {
    pub(super) fn bucket(&self) -> RawBucket {
        bucket_of!(self)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) listen: Option<String>,
    pub(super) data_dir: Option<PathBuf>,
    pub(super) admin_password: Option<String>,
    pub(super) timezone: Option<String>,
    pub(super) public_url: Option<String>,
    pub(super) redis_url: Option<String>,
    pub(super) redis_prefix: Option<String>,
    pub(super) log_format: Option<String>,
    pub(super) jwt_secret: Option<String>,
    pub(super) jwt_secret_file: Option<PathBuf>,
    pub(super) webhook_secret: Option<String>,
    pub(super) webhook_secret_file: Option<PathBuf>,
    pub(super) credential_key: Option<String>,
    pub(super) credential_key_file: Option<PathBuf>,
    pub(super) ssh_timeout_secs: Option<u64>,
    pub(super) token_ttl_secs: Option<u64>,
    pub(super) max_body_bytes: Option<usize>,
    pub(super) login_attempts_per_minute: Option<u32>,
    pub(super) audit_anonymous_refusals_per_minute: Option<u32>,
    pub(super) body_idle_timeout_secs: Option<u64>,
    pub(super) header_timeout_secs: Option<u64>,
    pub(super) keep_alive_secs: Option<u64>,
    #[serde(default)]
    pub(super) resource: RawService,
    #[serde(default)]
    pub(super) artifact: RawService,
    #[serde(default)]
    pub(super) jobs: RawService,
    #[serde(default)]
    pub(super) appinhouse: RawAppinhouse,
    #[serde(default)]
    pub(super) artifact_store: RawArtifactStore,
    pub(super) storage_gc_age_secs: Option<u64>,
    pub(super) audit_retention_days: Option<u32>,
    #[serde(default)]
    pub(super) execution: RawExecution,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExecution {
    pub(super) parallel_hosts: Option<u32>,
    pub(super) parallel_uploads: Option<u32>,
    pub(super) lease_secs: Option<u64>,
    pub(super) host_timeout_secs: Option<u64>,
    pub(super) work_dir: Option<String>,
    pub(super) webhook_urls: Option<Vec<String>>,
    pub(super) drain_secs: Option<u64>,
    pub(super) approval_ttl_hours: Option<u64>,
    pub(super) schedule_fire_missed: Option<bool>,
}

impl RawConfig {
    pub(super) fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|error| ConfigError::ParseFile {
            path: path.to_owned(),
            message: error.to_string(),
        })
    }

    pub(super) fn apply_flags(&mut self, flags: &ConfigOverrides) {
        if let Some(listen) = &flags.listen {
            self.listen = Some(listen.clone());
        }
        if let Some(data_dir) = &flags.data_dir {
            self.data_dir = Some(data_dir.clone());
        }
        if let Some(url) = &flags.resource_database_url {
            self.resource.database_url = Some(url.clone());
        }
        if let Some(listen) = &flags.resource_listen {
            self.resource.listen = Some(listen.clone());
        }
    }
}
