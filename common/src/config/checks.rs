//! Validation of the raw configuration, section by section: defaults from [`super::keys`],
//! messages naming `file_key (TAD_VARIABLE)`.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use super::{
    AppinhouseOptions, ArtifactStoreConfig, ConfigError, ExecutionOptions, ServiceConfig, invalid,
    keys::{self, KeySpec, ServiceKeys, StoreKeys},
    raw::{RawAppinhouse, RawArtifactStore, RawBucket, RawExecution, RawService},
};
use crate::storage::{S3Target, StorageTarget};

/// The value set, or the key's fixed default.
pub(super) fn or_default<T: std::str::FromStr>(
    value: Option<T>,
    key: &KeySpec,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match value {
        Some(value) => Ok(value),
        None => key.default_value(),
    }
}

/// The value set or the default, refused when zero.
fn positive<T>(value: Option<T>, key: &KeySpec) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialEq + Default,
    T::Err: std::fmt::Display,
{
    let value = or_default(value, key)?;
    if value == T::default() {
        return Err(invalid(&key.label(), "must be positive"));
    }
    Ok(value)
}

pub(super) fn socket_addr(key: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| {
        invalid(
            key,
            format!("{value:?} is not an address like 127.0.0.1:8080"),
        )
    })
}

pub(super) fn check_url(key: &str, value: &str, schemes: &[&str]) -> Result<(), ConfigError> {
    if schemes
        .iter()
        .any(|scheme| value.starts_with(&format!("{scheme}://")))
    {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!(
                "{value:?} must start with one of {}",
                schemes
                    .iter()
                    .map(|s| format!("{s}://"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }
}

/// Longest list of replica addresses of one service, and longest address.
const MAX_ADDRESSES: usize = 64;
const MAX_ADDRESS_CHARS: usize = 2048;

/// A comma-separated list of gRPC URLs (one per replica): each trimmed and checked, none empty,
/// no duplicates.
pub(super) fn address_list(key: &str, value: &str) -> Result<Vec<String>, ConfigError> {
    let mut addrs: Vec<String> = Vec::new();
    for (index, part) in value.split(',').enumerate() {
        let addr = part.trim();
        if addr.is_empty() {
            return Err(invalid(
                key,
                format!("address {} of the comma-separated list is empty", index + 1),
            ));
        }
        if addr.len() > MAX_ADDRESS_CHARS {
            return Err(invalid(
                key,
                format!(
                    "address {} is longer than {MAX_ADDRESS_CHARS} characters",
                    index + 1
                ),
            ));
        }
        check_url(key, addr, &["http", "https"])?;
        let authority = &addr[addr.find("://").map_or(0, |at| at + 3)..];
        if authority.is_empty() || authority.starts_with('/') {
            return Err(invalid(key, format!("{addr:?} names no host")));
        }
        if addrs.iter().any(|known| known == addr) {
            return Err(invalid(key, format!("{addr:?} is listed twice")));
        }
        addrs.push(addr.to_owned());
    }
    if addrs.len() > MAX_ADDRESSES {
        return Err(invalid(
            key,
            format!("at most {MAX_ADDRESSES} addresses, got {}", addrs.len()),
        ));
    }
    Ok(addrs)
}

fn check_schema_name(key: &str, value: &str) -> Result<(), ConfigError> {
    let valid = !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !value.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!("{value:?} must be lowercase letters, digits and _"),
        ))
    }
}

/// Validates one service's section, with its defaults (`sqlite://DATA_DIR/<name>.db`, schema
/// `<name>`, listen and address on the service's default port).
pub(super) fn service_config(
    keys: &ServiceKeys,
    raw: &RawService,
    data_dir: &Path,
) -> Result<ServiceConfig, ConfigError> {
    let name = keys.name;
    let database_url_configured = raw.database_url.is_some();
    let database_url = raw
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join(format!("{name}.db")).display()));
    check_url(
        &keys.database_url.label(),
        &database_url,
        &["sqlite", "postgres", "postgresql"],
    )?;
    let database_schema = or_default(raw.database_schema.clone(), &keys.database_schema)?;
    check_schema_name(&keys.database_schema.label(), &database_schema)?;
    let listen = socket_addr(
        &keys.listen.label(),
        &or_default(raw.listen.clone(), &keys.listen)?,
    )?;
    let addr = or_default(raw.addr.clone(), &keys.addr)?;
    let addrs = address_list(&keys.addr.label(), &addr)?;
    Ok(ServiceConfig {
        database_url,
        database_url_configured,
        database_schema,
        listen,
        addr,
        addrs,
    })
}

/// Validates the keys of one object store (`keys`): S3 when a bucket is named, else the local
/// directory `local_root`.
fn storage_target(
    keys: &StoreKeys,
    raw: RawBucket,
    local_root: PathBuf,
) -> Result<StorageTarget, ConfigError> {
    let Some(bucket) = raw.bucket else {
        return Ok(StorageTarget::Local { root: local_root });
    };
    if let Some(endpoint) = &raw.endpoint {
        check_url(&keys.endpoint.label(), endpoint, &["http", "https"])?;
    }
    let allow_http = raw.allow_http.unwrap_or_else(|| {
        raw.endpoint
            .as_deref()
            .is_some_and(|endpoint| endpoint.starts_with("http://"))
    });
    Ok(StorageTarget::S3(S3Target {
        bucket,
        endpoint: raw.endpoint,
        region: or_default(raw.region, &keys.region)?,
        access_key_id: raw.access_key_id,
        secret_access_key: raw.secret_access_key,
        allow_http,
    }))
}

/// Refuses two services' object stores in one place: each removes the objects its rows do not
/// name, so one would delete the other's.
pub(super) fn separate_stores(
    first: (&StorageTarget, &StoreKeys),
    second: (&StorageTarget, &StoreKeys),
) -> Result<(), ConfigError> {
    let (same, key, other) = match (first.0, second.0) {
        (StorageTarget::Local { root: one }, StorageTarget::Local { root: other }) => {
            (one == other, second.1.local_dir, first.1.local_dir)
        }
        (StorageTarget::S3(one), StorageTarget::S3(other)) => (
            one.bucket == other.bucket && one.endpoint == other.endpoint,
            second.1.bucket,
            first.1.bucket,
        ),
        _ => return Ok(()),
    };
    if same {
        return Err(invalid(
            &key.label(),
            format!(
                "names the same store as {}; give each service its own",
                other.env
            ),
        ));
    }
    Ok(())
}

/// Validates the object store section: S3 when a bucket is named, else a local directory.
pub(super) fn artifact_store_config(
    raw: RawArtifactStore,
    data_dir: &Path,
) -> Result<ArtifactStoreConfig, ConfigError> {
    let local_root = raw
        .storage_dir
        .clone()
        .unwrap_or_else(|| data_dir.join("objects"));
    let target = storage_target(&keys::ARTIFACT_STORE, raw.bucket(), local_root)?;
    Ok(ArtifactStoreConfig {
        target,
        spool_dir: data_dir.join("tmp"),
        max_upload_bytes: positive(raw.max_upload_bytes, &keys::ARTIFACT_MAX_UPLOAD_BYTES)?,
        max_unpacked_bytes: positive(raw.max_unpacked_bytes, &keys::ARTIFACT_MAX_UNPACKED_BYTES)?,
        max_entries: positive(raw.max_entries, &keys::ARTIFACT_MAX_ENTRIES)?,
        max_unpack_ratio: positive(raw.max_unpack_ratio, &keys::ARTIFACT_MAX_UNPACK_RATIO)?,
    })
}

/// Validates the `[execution]` keys, with their defaults.
pub(super) fn execution_options(raw: &RawExecution) -> Result<ExecutionOptions, ConfigError> {
    let parallel_hosts = positive(raw.parallel_hosts, &keys::EXECUTION_PARALLEL_HOSTS)?;
    let parallel_uploads = positive(raw.parallel_uploads, &keys::EXECUTION_PARALLEL_UPLOADS)?;
    let lease_secs: u64 = or_default(raw.lease_secs, &keys::EXECUTION_LEASE_SECS)?;
    if lease_secs < 2 {
        return Err(invalid(
            &keys::EXECUTION_LEASE_SECS.label(),
            "must be at least 2",
        ));
    }
    let host_timeout_secs = positive(raw.host_timeout_secs, &keys::EXECUTION_HOST_TIMEOUT_SECS)?;
    let work_dir = or_default(raw.work_dir.clone(), &keys::EXECUTION_WORK_DIR)?;
    if !work_dir.starts_with('/') || work_dir.contains(['\'', '\n']) {
        return Err(invalid(
            &keys::EXECUTION_WORK_DIR.label(),
            "must be an absolute path without quotes",
        ));
    }
    let webhook_urls = raw.webhook_urls.clone().unwrap_or_default();
    if let Some(bad) = webhook_urls
        .iter()
        .find(|url| !(url.starts_with("http://") || url.starts_with("https://")))
    {
        return Err(invalid(
            &keys::WEBHOOK_URLS.label(),
            format!("{bad:?} is not an http:// or https:// URL"),
        ));
    }
    Ok(ExecutionOptions {
        drain_secs: or_default(raw.drain_secs, &keys::EXECUTION_DRAIN_SECS)?,
        approval_ttl_hours: positive(raw.approval_ttl_hours, &keys::EXECUTION_APPROVAL_TTL_HOURS)?,
        schedule_fire_missed: or_default(
            raw.schedule_fire_missed,
            &keys::EXECUTION_SCHEDULE_FIRE_MISSED,
        )?,
        webhook_urls,
        parallel_hosts,
        parallel_uploads,
        lease_secs,
        host_timeout_secs,
        work_dir: work_dir.trim_end_matches('/').to_owned(),
    })
}

/// Validates the appinhouse rules' keys, with their defaults.
pub(super) fn appinhouse_options(
    raw: &RawAppinhouse,
    data_dir: &Path,
) -> Result<AppinhouseOptions, ConfigError> {
    if let Some(secret) = &raw.secret_key
        && secret.trim().len() < 8
    {
        return Err(invalid(
            &keys::APPINHOUSE_SECRET_KEY.label(),
            "must be at least 8 characters",
        ));
    }
    let page_size = positive(raw.page_size, &keys::APPINHOUSE_PAGE_SIZE)?;
    let max_page = positive(raw.max_page, &keys::APPINHOUSE_MAX_PAGE)?;
    let min_residue = positive(raw.min_residue, &keys::APPINHOUSE_MIN_RESIDUE)?;
    retention_days(raw.max_age_days, &keys::APPINHOUSE_MAX_AGE_DAYS)?;
    let files_dir = raw
        .files_dir
        .clone()
        .unwrap_or_else(|| data_dir.join("appinhouse-files"));
    // Uploads are spooled beside the files (on the same disk when the store is local).
    let incoming_dir = files_dir.with_file_name(format!(
        "{}-incoming",
        files_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "appinhouse-files".to_owned())
    ));
    Ok(AppinhouseOptions {
        secret_key: raw.secret_key.as_ref().map(|key| key.trim().to_owned()),
        page_size,
        max_page,
        min_residue,
        max_age_days: raw.max_age_days,
        store: storage_target(&keys::APPINHOUSE_STORE, raw.bucket(), files_dir)?,
        incoming_dir,
    })
}

/// Longest retention of builds in days (a century).
const MAX_AGE_DAYS: u32 = 36_500;

/// A retention in days: unset (forever) or 1 to 36500.
pub(super) fn retention_days(days: Option<u32>, key: &KeySpec) -> Result<Option<u32>, ConfigError> {
    match days {
        Some(days) if !(1..=MAX_AGE_DAYS).contains(&days) => Err(invalid(
            &key.label(),
            format!("{days} must be between 1 and {MAX_AGE_DAYS}"),
        )),
        days => Ok(days),
    }
}
