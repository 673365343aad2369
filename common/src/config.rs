//! Typed configuration: a TOML file (`--config`), overridden by `TAD_*` environment variables,
//! overridden by command-line flags; validated once at startup with messages naming the key.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::{
    storage::{S3Target, StorageTarget},
    time::TimeRenderer,
};

/// Why the configuration cannot be used. Every message names the key (file key, variable or flag).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    ParseFile { path: PathBuf, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        message: message.into(),
    }
}

/// How log lines are written (`TAD_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Settings of one service process: where its database is, where it listens, where others find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// PostgreSQL schema of this service (one schema per service).
    pub database_schema: String,
    /// gRPC address the service process listens on (`tad resource`).
    pub listen: SocketAddr,
    /// gRPC URL the gateway dials (`TAD_RESOURCE_ADDR`).
    pub addr: String,
}

/// Settings of the appinhouse rules (SPEC §6), beside its [`ServiceConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppinhouseOptions {
    /// `X-SecretKey` of writes (`TAD_APPINHOUSE_SECRET_KEY`); see `secrets::appinhouse_secret_key`.
    pub secret_key: Option<String>,
    /// Builds and apps per page (`TAD_APPINHOUSE_PAGE_SIZE`, default 10).
    pub page_size: u32,
    /// Largest page number (`TAD_APPINHOUSE_MAX_PAGE`, default 100).
    pub max_page: u32,
    /// Fewest builds a residue delete keeps (`TAD_APPINHOUSE_MIN_RESIDUE`, default 5).
    pub min_residue: u32,
    /// Directory of hosted build files (`TAD_APPINHOUSE_FILES_DIR`, default `DATA_DIR/appinhouse-files`).
    pub files_dir: PathBuf,
}

/// How svc-jobs executes runs (SPEC §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionOptions {
    /// Hosts of one step worked on at once (`TAD_EXECUTION_PARALLEL_HOSTS`, default 20).
    pub parallel_hosts: u32,
    /// Files of one step sent at once, over all its hosts (`TAD_EXECUTION_PARALLEL_UPLOADS`,
    /// default 24): each upload in flight holds about 0.7 MiB; fewer save memory, more hide
    /// the targets' latency.
    pub parallel_uploads: u32,
    /// Lease of a run's owner in seconds, renewed while it works; an expired lease marks the run
    /// interrupted (`TAD_EXECUTION_LEASE_SECS`, default 30).
    pub lease_secs: u64,
    /// Time one command on one host may take, when its method names none
    /// (`TAD_EXECUTION_HOST_TIMEOUT_SECS`, default 3600).
    pub host_timeout_secs: u64,
    /// Directory on each target under which runs get their work directories
    /// (`TAD_EXECUTION_WORK_DIR`, default `/tmp/tad-runs`).
    pub work_dir: String,
    /// URLs that get a signed JSON post when a run finishes (`TAD_WEBHOOK_URLS`, comma-separated;
    /// more can be added at `/api/admin/webhooks`).
    pub webhook_urls: Vec<String>,
    /// On SIGTERM, how long runs may go on finishing before they are released
    /// (`TAD_EXECUTION_DRAIN_SECS`, default 10).
    pub drain_secs: u64,
}

/// Stored files of svc-artifact: where they go and how large an upload may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactStoreConfig {
    /// Local directory (`TAD_ARTIFACT_STORAGE_DIR`, default `DATA_DIR/objects`) or S3 bucket
    /// (`TAD_ARTIFACT_S3_BUCKET` and friends).
    pub target: StorageTarget,
    /// Where uploads are unpacked before they are stored (`DATA_DIR/tmp`).
    pub spool_dir: PathBuf,
    /// Largest upload in bytes (`TAD_ARTIFACT_MAX_UPLOAD_BYTES`, default 8 GiB).
    pub max_upload_bytes: u64,
    /// Largest expanded size of an archive (`TAD_ARTIFACT_MAX_UNPACKED_BYTES`, default 32 GiB).
    pub max_unpacked_bytes: u64,
    /// Most entries in an archive (`TAD_ARTIFACT_MAX_ENTRIES`, default 100000).
    pub max_entries: u64,
    /// Largest unpacked/packed size ratio of an archive, enforced once 1 MiB is unpacked
    /// (`TAD_ARTIFACT_MAX_UNPACK_RATIO`, default 200 for 200:1).
    pub max_unpack_ratio: u64,
}

/// The whole validated configuration of a TAD process.
#[derive(Debug, Clone)]
pub struct Config {
    /// HTTP listen address of the gateway (`TAD_LISTEN`, `--listen`).
    pub listen: SocketAddr,
    /// Where embedded databases, stored files and generated keys live (`TAD_DATA_DIR`, `--data-dir`).
    pub data_dir: PathBuf,
    /// Password of the first `admin` (`TAD_ADMIN_PASSWORD`); random and printed once when unset.
    pub admin_password: Option<String>,
    /// Zone times are rendered in (`TAD_TIMEZONE`).
    pub timezone: TimeRenderer,
    /// Name of that zone, as configured.
    pub timezone_name: String,
    /// Public base URL of the platform (`TAD_PUBLIC_URL`).
    pub public_url: Option<String>,
    /// Redis for the shared cache and event bus (`TAD_REDIS_URL`); in-process ones when unset.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel (`TAD_REDIS_PREFIX`, default `tad:`), so several
    /// platforms can share one Redis.
    pub redis_prefix: String,
    /// Log line format (`TAD_LOG_FORMAT` = `text` | `json`).
    pub log_format: LogFormat,
    /// HS256 key of tokens, given directly (`TAD_JWT_SECRET`).
    pub jwt_secret: Option<String>,
    /// File holding the HS256 key (`TAD_JWT_SECRET_FILE`).
    pub jwt_secret_file: Option<PathBuf>,
    /// HMAC key of webhook signatures (`TAD_WEBHOOK_SECRET`).
    pub webhook_secret: Option<String>,
    /// File holding the webhook key (`TAD_WEBHOOK_SECRET_FILE`).
    pub webhook_secret_file: Option<PathBuf>,
    /// Credential encryption key as 64 hex characters, given directly (`TAD_CREDENTIAL_KEY`).
    pub credential_key: Option<String>,
    /// File holding the credential key (`TAD_CREDENTIAL_KEY_FILE`).
    pub credential_key_file: Option<PathBuf>,
    /// Time allowed for an SSH validation login in seconds (`TAD_SSH_TIMEOUT_SECS`, default 10).
    pub ssh_timeout_secs: u64,
    /// Lifetime of issued tokens in seconds (`TAD_TOKEN_TTL_SECS`, default 12 h).
    pub token_ttl_secs: u64,
    /// Largest accepted JSON body in bytes (`TAD_MAX_BODY_BYTES`, default 1 MiB).
    pub max_body_bytes: usize,
    /// Failed logins allowed per user name per minute (`TAD_LOGIN_ATTEMPTS_PER_MINUTE`, default 10).
    pub login_attempts_per_minute: u32,
    /// Longest wait for the next byte of a request body in seconds before the request is cut
    /// with 408 (`TAD_BODY_IDLE_TIMEOUT_SECS`, default 30).
    pub body_idle_timeout_secs: u64,
    /// Time a client has to send a request's headers in seconds (`TAD_HEADER_TIMEOUT_SECS`,
    /// default 10).
    pub header_timeout_secs: u64,
    /// How long an idle keep-alive connection stays open in seconds (`TAD_KEEP_ALIVE_SECS`,
    /// default 15).
    pub keep_alive_secs: u64,
    /// svc-resource.
    pub resource: ServiceConfig,
    /// svc-artifact.
    pub artifact: ServiceConfig,
    /// Object store and upload limits of svc-artifact.
    pub artifact_store: ArtifactStoreConfig,
    /// Age in seconds past which a spool file or an object no row references is a crash
    /// leftover that a starting artifact or appinhouse service removes
    /// (`TAD_STORAGE_GC_AGE_SECS`, default 3600; 0 removes every one, only for single replicas).
    pub storage_gc_age_secs: u64,
    /// svc-jobs.
    pub jobs: ServiceConfig,
    /// svc-appinhouse.
    pub appinhouse: ServiceConfig,
    /// Rules of svc-appinhouse (`[appinhouse]` keys beside the service ones).
    pub appinhouse_options: AppinhouseOptions,
    /// How svc-jobs executes runs (`[execution]`).
    pub execution: ExecutionOptions,
}

/// Flags that override the file and the environment.
#[derive(Debug, Clone, Default)]
pub struct ConfigOverrides {
    pub config_file: Option<PathBuf>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub resource_database_url: Option<String>,
    pub resource_listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    database_url: Option<String>,
    database_schema: Option<String>,
    listen: Option<String>,
    addr: Option<String>,
}

/// `[appinhouse]`: the service keys plus the appinhouse rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAppinhouse {
    database_url: Option<String>,
    database_schema: Option<String>,
    listen: Option<String>,
    addr: Option<String>,
    secret_key: Option<String>,
    page_size: Option<u32>,
    max_page: Option<u32>,
    min_residue: Option<u32>,
    files_dir: Option<PathBuf>,
}

impl RawAppinhouse {
    fn service(&self) -> RawService {
        RawService {
            database_url: self.database_url.clone(),
            database_schema: self.database_schema.clone(),
            listen: self.listen.clone(),
            addr: self.addr.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArtifactStore {
    storage_dir: Option<PathBuf>,
    s3_bucket: Option<String>,
    s3_endpoint: Option<String>,
    s3_region: Option<String>,
    s3_access_key_id: Option<String>,
    s3_secret_access_key: Option<String>,
    s3_allow_http: Option<bool>,
    max_upload_bytes: Option<u64>,
    max_unpacked_bytes: Option<u64>,
    max_entries: Option<u64>,
    max_unpack_ratio: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    admin_password: Option<String>,
    timezone: Option<String>,
    public_url: Option<String>,
    redis_url: Option<String>,
    redis_prefix: Option<String>,
    log_format: Option<String>,
    jwt_secret: Option<String>,
    jwt_secret_file: Option<PathBuf>,
    webhook_secret: Option<String>,
    webhook_secret_file: Option<PathBuf>,
    credential_key: Option<String>,
    credential_key_file: Option<PathBuf>,
    ssh_timeout_secs: Option<u64>,
    token_ttl_secs: Option<u64>,
    max_body_bytes: Option<usize>,
    login_attempts_per_minute: Option<u32>,
    body_idle_timeout_secs: Option<u64>,
    header_timeout_secs: Option<u64>,
    keep_alive_secs: Option<u64>,
    #[serde(default)]
    resource: RawService,
    #[serde(default)]
    artifact: RawService,
    #[serde(default)]
    jobs: RawService,
    #[serde(default)]
    appinhouse: RawAppinhouse,
    #[serde(default)]
    artifact_store: RawArtifactStore,
    storage_gc_age_secs: Option<u64>,
    #[serde(default)]
    execution: RawExecution,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExecution {
    parallel_hosts: Option<u32>,
    parallel_uploads: Option<u32>,
    lease_secs: Option<u64>,
    host_timeout_secs: Option<u64>,
    work_dir: Option<String>,
    webhook_urls: Option<Vec<String>>,
    drain_secs: Option<u64>,
}

fn parse_env<T: std::str::FromStr>(name: &str, value: String) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse::<T>()
        .map_err(|error| invalid(name, format!("{value:?} is not valid: {error}")))
}

impl RawConfig {
    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|error| ConfigError::ParseFile {
            path: path.to_owned(),
            message: error.to_string(),
        })
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let text = |name: &str, slot: &mut Option<String>| {
            if let Some(value) = env(name).filter(|value| !value.is_empty()) {
                *slot = Some(value);
            }
        };
        text("TAD_LISTEN", &mut self.listen);
        text("TAD_ADMIN_PASSWORD", &mut self.admin_password);
        text("TAD_TIMEZONE", &mut self.timezone);
        text("TAD_PUBLIC_URL", &mut self.public_url);
        text("TAD_REDIS_URL", &mut self.redis_url);
        text("TAD_REDIS_PREFIX", &mut self.redis_prefix);
        text("TAD_LOG_FORMAT", &mut self.log_format);
        text("TAD_JWT_SECRET", &mut self.jwt_secret);
        let mut appinhouse = self.appinhouse.service();
        for (name, service) in [
            ("RESOURCE", &mut self.resource),
            ("ARTIFACT", &mut self.artifact),
            ("JOBS", &mut self.jobs),
            ("APPINHOUSE", &mut appinhouse),
        ] {
            text(
                &format!("TAD_{name}_DATABASE_URL"),
                &mut service.database_url,
            );
            text(
                &format!("TAD_{name}_DATABASE_SCHEMA"),
                &mut service.database_schema,
            );
            text(&format!("TAD_{name}_LISTEN"), &mut service.listen);
            text(&format!("TAD_{name}_ADDR"), &mut service.addr);
        }
        self.appinhouse.database_url = appinhouse.database_url;
        self.appinhouse.database_schema = appinhouse.database_schema;
        self.appinhouse.listen = appinhouse.listen;
        self.appinhouse.addr = appinhouse.addr;
        text("TAD_APPINHOUSE_SECRET_KEY", &mut self.appinhouse.secret_key);
        if let Some(value) = env("TAD_APPINHOUSE_FILES_DIR").filter(|value| !value.is_empty()) {
            self.appinhouse.files_dir = Some(PathBuf::from(value));
        }
        for (name, slot) in [
            ("TAD_APPINHOUSE_PAGE_SIZE", &mut self.appinhouse.page_size),
            ("TAD_APPINHOUSE_MAX_PAGE", &mut self.appinhouse.max_page),
            (
                "TAD_APPINHOUSE_MIN_RESIDUE",
                &mut self.appinhouse.min_residue,
            ),
        ] {
            if let Some(value) = env(name) {
                *slot = Some(parse_env(name, value)?);
            }
        }
        let store = &mut self.artifact_store;
        text("TAD_ARTIFACT_S3_BUCKET", &mut store.s3_bucket);
        text("TAD_ARTIFACT_S3_ENDPOINT", &mut store.s3_endpoint);
        text("TAD_ARTIFACT_S3_REGION", &mut store.s3_region);
        text("TAD_ARTIFACT_S3_ACCESS_KEY_ID", &mut store.s3_access_key_id);
        text(
            "TAD_ARTIFACT_S3_SECRET_ACCESS_KEY",
            &mut store.s3_secret_access_key,
        );
        if let Some(value) = env("TAD_ARTIFACT_STORAGE_DIR").filter(|value| !value.is_empty()) {
            store.storage_dir = Some(PathBuf::from(value));
        }
        if let Some(value) = env("TAD_ARTIFACT_S3_ALLOW_HTTP") {
            store.s3_allow_http = Some(parse_env("TAD_ARTIFACT_S3_ALLOW_HTTP", value)?);
        }
        if let Some(value) = env("TAD_ARTIFACT_MAX_UPLOAD_BYTES") {
            store.max_upload_bytes = Some(parse_env("TAD_ARTIFACT_MAX_UPLOAD_BYTES", value)?);
        }
        if let Some(value) = env("TAD_ARTIFACT_MAX_UNPACKED_BYTES") {
            store.max_unpacked_bytes = Some(parse_env("TAD_ARTIFACT_MAX_UNPACKED_BYTES", value)?);
        }
        if let Some(value) = env("TAD_ARTIFACT_MAX_ENTRIES") {
            store.max_entries = Some(parse_env("TAD_ARTIFACT_MAX_ENTRIES", value)?);
        }
        if let Some(value) = env("TAD_STORAGE_GC_AGE_SECS") {
            self.storage_gc_age_secs = Some(parse_env("TAD_STORAGE_GC_AGE_SECS", value)?);
        }
        if let Some(value) = env("TAD_ARTIFACT_MAX_UNPACK_RATIO") {
            store.max_unpack_ratio = Some(parse_env("TAD_ARTIFACT_MAX_UNPACK_RATIO", value)?);
        }
        if let Some(value) = env("TAD_DATA_DIR").filter(|value| !value.is_empty()) {
            self.data_dir = Some(PathBuf::from(value));
        }
        if let Some(value) = env("TAD_JWT_SECRET_FILE").filter(|value| !value.is_empty()) {
            self.jwt_secret_file = Some(PathBuf::from(value));
        }
        text("TAD_WEBHOOK_SECRET", &mut self.webhook_secret);
        if let Some(value) = env("TAD_WEBHOOK_SECRET_FILE").filter(|value| !value.is_empty()) {
            self.webhook_secret_file = Some(PathBuf::from(value));
        }
        if let Some(value) = env("TAD_WEBHOOK_URLS") {
            self.execution.webhook_urls = Some(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|url| !url.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
        text("TAD_CREDENTIAL_KEY", &mut self.credential_key);
        if let Some(value) = env("TAD_CREDENTIAL_KEY_FILE").filter(|value| !value.is_empty()) {
            self.credential_key_file = Some(PathBuf::from(value));
        }
        if let Some(value) = env("TAD_SSH_TIMEOUT_SECS") {
            self.ssh_timeout_secs = Some(parse_env("TAD_SSH_TIMEOUT_SECS", value)?);
        }
        if let Some(value) = env("TAD_TOKEN_TTL_SECS") {
            self.token_ttl_secs = Some(parse_env("TAD_TOKEN_TTL_SECS", value)?);
        }
        if let Some(value) = env("TAD_MAX_BODY_BYTES") {
            self.max_body_bytes = Some(parse_env("TAD_MAX_BODY_BYTES", value)?);
        }
        if let Some(value) = env("TAD_EXECUTION_PARALLEL_HOSTS") {
            self.execution.parallel_hosts = Some(parse_env("TAD_EXECUTION_PARALLEL_HOSTS", value)?);
        }
        if let Some(value) = env("TAD_EXECUTION_PARALLEL_UPLOADS") {
            self.execution.parallel_uploads =
                Some(parse_env("TAD_EXECUTION_PARALLEL_UPLOADS", value)?);
        }
        if let Some(value) = env("TAD_EXECUTION_LEASE_SECS") {
            self.execution.lease_secs = Some(parse_env("TAD_EXECUTION_LEASE_SECS", value)?);
        }
        if let Some(value) = env("TAD_EXECUTION_HOST_TIMEOUT_SECS") {
            self.execution.host_timeout_secs =
                Some(parse_env("TAD_EXECUTION_HOST_TIMEOUT_SECS", value)?);
        }
        text("TAD_EXECUTION_WORK_DIR", &mut self.execution.work_dir);
        if let Some(value) = env("TAD_EXECUTION_DRAIN_SECS") {
            self.execution.drain_secs = Some(parse_env("TAD_EXECUTION_DRAIN_SECS", value)?);
        }
        if let Some(value) = env("TAD_LOGIN_ATTEMPTS_PER_MINUTE") {
            self.login_attempts_per_minute =
                Some(parse_env("TAD_LOGIN_ATTEMPTS_PER_MINUTE", value)?);
        }
        for (name, slot) in [
            (
                "TAD_BODY_IDLE_TIMEOUT_SECS",
                &mut self.body_idle_timeout_secs,
            ),
            ("TAD_HEADER_TIMEOUT_SECS", &mut self.header_timeout_secs),
            ("TAD_KEEP_ALIVE_SECS", &mut self.keep_alive_secs),
        ] {
            if let Some(value) = env(name) {
                *slot = Some(parse_env(name, value)?);
            }
        }
        Ok(())
    }

    fn apply_flags(&mut self, flags: &ConfigOverrides) {
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

fn socket_addr(key: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| {
        invalid(
            key,
            format!("{value:?} is not an address like 127.0.0.1:8080"),
        )
    })
}

fn check_url(key: &str, value: &str, schemes: &[&str]) -> Result<(), ConfigError> {
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

/// Validates one service's section, with its defaults (`sqlite://DATA_DIR/<key>.db`, schema
/// `<key>`, listen and address on the service's default port).
fn service_config(
    key: &str,
    variable: &str,
    port: u16,
    raw: &RawService,
    data_dir: &Path,
) -> Result<ServiceConfig, ConfigError> {
    let database_url = raw
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join(format!("{key}.db")).display()));
    check_url(
        &format!("{key}.database_url (TAD_{variable}_DATABASE_URL)"),
        &database_url,
        &["sqlite", "postgres", "postgresql"],
    )?;
    let database_schema = raw
        .database_schema
        .clone()
        .unwrap_or_else(|| key.to_owned());
    check_schema_name(
        &format!("{key}.database_schema (TAD_{variable}_DATABASE_SCHEMA)"),
        &database_schema,
    )?;
    let default_listen = format!("127.0.0.1:{port}");
    let listen = socket_addr(
        &format!("{key}.listen (TAD_{variable}_LISTEN)"),
        raw.listen.as_deref().unwrap_or(&default_listen),
    )?;
    let addr = raw
        .addr
        .clone()
        .unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
    check_url(
        &format!("{key}.addr (TAD_{variable}_ADDR)"),
        &addr,
        &["http", "https"],
    )?;
    Ok(ServiceConfig {
        database_url,
        database_schema,
        listen,
        addr,
    })
}

/// Validates the object store section: S3 when a bucket is named, else a local directory.
fn artifact_store_config(
    raw: RawArtifactStore,
    data_dir: &Path,
) -> Result<ArtifactStoreConfig, ConfigError> {
    let target = match raw.s3_bucket {
        Some(bucket) => {
            if let Some(endpoint) = &raw.s3_endpoint {
                check_url(
                    "artifact_store.s3_endpoint (TAD_ARTIFACT_S3_ENDPOINT)",
                    endpoint,
                    &["http", "https"],
                )?;
            }
            let allow_http = raw.s3_allow_http.unwrap_or_else(|| {
                raw.s3_endpoint
                    .as_deref()
                    .is_some_and(|endpoint| endpoint.starts_with("http://"))
            });
            StorageTarget::S3(S3Target {
                bucket,
                endpoint: raw.s3_endpoint,
                region: raw.s3_region.unwrap_or_else(|| "us-east-1".to_owned()),
                access_key_id: raw.s3_access_key_id,
                secret_access_key: raw.s3_secret_access_key,
                allow_http,
            })
        }
        None => StorageTarget::Local {
            root: raw.storage_dir.unwrap_or_else(|| data_dir.join("objects")),
        },
    };
    let positive = |key: &str, value: Option<u64>, default: u64| match value {
        Some(0) => Err(invalid(key, "must be positive")),
        Some(value) => Ok(value),
        None => Ok(default),
    };
    Ok(ArtifactStoreConfig {
        target,
        spool_dir: data_dir.join("tmp"),
        max_upload_bytes: positive(
            "artifact_store.max_upload_bytes (TAD_ARTIFACT_MAX_UPLOAD_BYTES)",
            raw.max_upload_bytes,
            8 << 30,
        )?,
        max_unpacked_bytes: positive(
            "artifact_store.max_unpacked_bytes (TAD_ARTIFACT_MAX_UNPACKED_BYTES)",
            raw.max_unpacked_bytes,
            32 << 30,
        )?,
        max_entries: positive(
            "artifact_store.max_entries (TAD_ARTIFACT_MAX_ENTRIES)",
            raw.max_entries,
            100_000,
        )?,
        max_unpack_ratio: positive(
            "artifact_store.max_unpack_ratio (TAD_ARTIFACT_MAX_UNPACK_RATIO)",
            raw.max_unpack_ratio,
            200,
        )?,
    })
}

impl Config {
    /// Loads the file named by `--config` (if any), then `TAD_*` from `env`, then the flags.
    pub fn load(
        flags: &ConfigOverrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut raw = match &flags.config_file {
            Some(path) => RawConfig::from_file(path)?,
            None => RawConfig::default(),
        };
        raw.apply_env(env)?;
        raw.apply_flags(flags);
        Config::validate(raw)
    }

    /// Loads with the process environment.
    pub fn load_from_process(flags: &ConfigOverrides) -> Result<Config, ConfigError> {
        Config::load(flags, &|name| std::env::var(name).ok())
    }

    fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
        let listen = socket_addr(
            "listen (TAD_LISTEN)",
            raw.listen.as_deref().unwrap_or("127.0.0.1:8080"),
        )?;
        let data_dir = raw.data_dir.unwrap_or_else(|| PathBuf::from("./tad-data"));
        if data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir (TAD_DATA_DIR)", "must not be empty"));
        }
        let timezone_name = raw.timezone.unwrap_or_else(|| "Asia/Shanghai".to_owned());
        let timezone = TimeRenderer::new(&timezone_name)
            .map_err(|message| invalid("timezone (TAD_TIMEZONE)", message))?;
        if let Some(url) = &raw.public_url {
            check_url("public_url (TAD_PUBLIC_URL)", url, &["http", "https"])?;
        }
        if let Some(url) = &raw.redis_url {
            check_url("redis_url (TAD_REDIS_URL)", url, &["redis", "rediss"])?;
        }
        let log_format = match raw
            .log_format
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "log_format (TAD_LOG_FORMAT)",
                    format!("{other:?} must be text or json"),
                ));
            }
        };
        if let Some(password) = &raw.admin_password
            && password.len() < 8
        {
            return Err(invalid(
                "admin_password (TAD_ADMIN_PASSWORD)",
                "must be at least 8 characters",
            ));
        }
        if let Some(secret) = &raw.jwt_secret
            && secret.len() < 32
        {
            return Err(invalid(
                "jwt_secret (TAD_JWT_SECRET)",
                "must be at least 32 characters",
            ));
        }
        if let Some(key) = &raw.credential_key
            && (key.len() != 64 || !key.bytes().all(|byte| byte.is_ascii_hexdigit()))
        {
            return Err(invalid(
                "credential_key (TAD_CREDENTIAL_KEY)",
                "must be 64 hex characters (32 bytes)",
            ));
        }
        let ssh_timeout_secs = raw.ssh_timeout_secs.unwrap_or(10);
        if ssh_timeout_secs == 0 {
            return Err(invalid(
                "ssh_timeout_secs (TAD_SSH_TIMEOUT_SECS)",
                "must be positive",
            ));
        }
        let token_ttl_secs = raw.token_ttl_secs.unwrap_or(12 * 3600);
        if token_ttl_secs == 0 {
            return Err(invalid(
                "token_ttl_secs (TAD_TOKEN_TTL_SECS)",
                "must be positive",
            ));
        }
        let max_body_bytes = raw.max_body_bytes.unwrap_or(1024 * 1024);
        if max_body_bytes < 1024 {
            return Err(invalid(
                "max_body_bytes (TAD_MAX_BODY_BYTES)",
                "must be at least 1024",
            ));
        }
        let login_attempts_per_minute = raw.login_attempts_per_minute.unwrap_or(10);
        if login_attempts_per_minute == 0 {
            return Err(invalid(
                "login_attempts_per_minute (TAD_LOGIN_ATTEMPTS_PER_MINUTE)",
                "must be positive",
            ));
        }

        let mut http_timeouts = [0_u64; 3];
        for (slot, (key, value, default)) in http_timeouts.iter_mut().zip([
            (
                "body_idle_timeout_secs (TAD_BODY_IDLE_TIMEOUT_SECS)",
                raw.body_idle_timeout_secs,
                30,
            ),
            (
                "header_timeout_secs (TAD_HEADER_TIMEOUT_SECS)",
                raw.header_timeout_secs,
                10,
            ),
            (
                "keep_alive_secs (TAD_KEEP_ALIVE_SECS)",
                raw.keep_alive_secs,
                15,
            ),
        ]) {
            *slot = value.unwrap_or(default);
            if *slot == 0 || *slot > 3600 {
                return Err(invalid(key, "must be between 1 and 3600 seconds"));
            }
        }
        let [body_idle_timeout_secs, header_timeout_secs, keep_alive_secs] = http_timeouts;

        let resource = service_config("resource", "RESOURCE", 50051, &raw.resource, &data_dir)?;
        let artifact = service_config("artifact", "ARTIFACT", 50052, &raw.artifact, &data_dir)?;
        let jobs = service_config("jobs", "JOBS", 50053, &raw.jobs, &data_dir)?;
        let artifact_store = artifact_store_config(raw.artifact_store, &data_dir)?;
        let appinhouse = service_config(
            "appinhouse",
            "APPINHOUSE",
            50054,
            &raw.appinhouse.service(),
            &data_dir,
        )?;
        let appinhouse_options = appinhouse_options(&raw.appinhouse, &data_dir)?;
        let execution = execution_options(&raw.execution)?;

        Ok(Config {
            listen,
            data_dir,
            admin_password: raw.admin_password,
            timezone,
            timezone_name,
            public_url: raw
                .public_url
                .map(|url| url.trim_end_matches('/').to_owned()),
            redis_url: raw.redis_url,
            redis_prefix: raw.redis_prefix.unwrap_or_else(|| "tad:".to_owned()),
            log_format,
            jwt_secret: raw.jwt_secret,
            jwt_secret_file: raw.jwt_secret_file,
            webhook_secret: raw.webhook_secret,
            webhook_secret_file: raw.webhook_secret_file,
            credential_key: raw.credential_key,
            credential_key_file: raw.credential_key_file,
            ssh_timeout_secs,
            token_ttl_secs,
            max_body_bytes,
            login_attempts_per_minute,
            body_idle_timeout_secs,
            header_timeout_secs,
            keep_alive_secs,
            resource,
            artifact,
            artifact_store,
            storage_gc_age_secs: raw.storage_gc_age_secs.unwrap_or(3600),
            jobs,
            appinhouse,
            appinhouse_options,
            execution,
        })
    }
}

/// Validates the `[execution]` keys, with their defaults.
fn execution_options(raw: &RawExecution) -> Result<ExecutionOptions, ConfigError> {
    let parallel_hosts = raw.parallel_hosts.unwrap_or(20);
    if parallel_hosts == 0 {
        return Err(invalid(
            "execution.parallel_hosts (TAD_EXECUTION_PARALLEL_HOSTS)",
            "must be positive",
        ));
    }
    let parallel_uploads = raw.parallel_uploads.unwrap_or(24);
    if parallel_uploads == 0 {
        return Err(invalid(
            "execution.parallel_uploads (TAD_EXECUTION_PARALLEL_UPLOADS)",
            "must be positive",
        ));
    }
    let lease_secs = raw.lease_secs.unwrap_or(30);
    if lease_secs < 2 {
        return Err(invalid(
            "execution.lease_secs (TAD_EXECUTION_LEASE_SECS)",
            "must be at least 2",
        ));
    }
    let host_timeout_secs = raw.host_timeout_secs.unwrap_or(3600);
    if host_timeout_secs == 0 {
        return Err(invalid(
            "execution.host_timeout_secs (TAD_EXECUTION_HOST_TIMEOUT_SECS)",
            "must be positive",
        ));
    }
    let work_dir = raw
        .work_dir
        .clone()
        .unwrap_or_else(|| "/tmp/tad-runs".to_owned());
    if !work_dir.starts_with('/') || work_dir.contains(['\'', '\n']) {
        return Err(invalid(
            "execution.work_dir (TAD_EXECUTION_WORK_DIR)",
            "must be an absolute path without quotes",
        ));
    }
    let webhook_urls = raw.webhook_urls.clone().unwrap_or_default();
    if let Some(bad) = webhook_urls
        .iter()
        .find(|url| !(url.starts_with("http://") || url.starts_with("https://")))
    {
        return Err(invalid(
            "execution.webhook_urls (TAD_WEBHOOK_URLS)",
            format!("{bad:?} is not an http:// or https:// URL"),
        ));
    }
    Ok(ExecutionOptions {
        drain_secs: raw.drain_secs.unwrap_or(10),
        webhook_urls,
        parallel_hosts,
        parallel_uploads,
        lease_secs,
        host_timeout_secs,
        work_dir: work_dir.trim_end_matches('/').to_owned(),
    })
}

/// Validates the appinhouse rules' keys, with their defaults.
fn appinhouse_options(
    raw: &RawAppinhouse,
    data_dir: &Path,
) -> Result<AppinhouseOptions, ConfigError> {
    if let Some(secret) = &raw.secret_key
        && secret.trim().len() < 8
    {
        return Err(invalid(
            "appinhouse.secret_key (TAD_APPINHOUSE_SECRET_KEY)",
            "must be at least 8 characters",
        ));
    }
    let positive = |key: &str, value: Option<u32>, default: u32| match value.unwrap_or(default) {
        0 => Err(invalid(key, "must be positive")),
        value => Ok(value),
    };
    let page_size = positive(
        "appinhouse.page_size (TAD_APPINHOUSE_PAGE_SIZE)",
        raw.page_size,
        10,
    )?;
    let max_page = positive(
        "appinhouse.max_page (TAD_APPINHOUSE_MAX_PAGE)",
        raw.max_page,
        100,
    )?;
    let min_residue = positive(
        "appinhouse.min_residue (TAD_APPINHOUSE_MIN_RESIDUE)",
        raw.min_residue,
        5,
    )?;
    Ok(AppinhouseOptions {
        secret_key: raw.secret_key.as_ref().map(|key| key.trim().to_owned()),
        page_size,
        max_page,
        min_residue,
        files_dir: raw
            .files_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("appinhouse-files")),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_are_the_embedded_laptop_setup() {
        let config =
            Config::load(&ConfigOverrides::default(), &env_of(&[])).expect("defaults are valid");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./tad-data"));
        assert_eq!(config.timezone_name, "Asia/Shanghai");
        assert_eq!(
            config.resource.database_url,
            "sqlite://./tad-data/resource.db"
        );
        assert_eq!(config.log_format, LogFormat::Text);
        assert!(config.redis_url.is_none());
    }

    #[test]
    fn execution_parallelism_has_defaults_env_values_and_refuses_zero() {
        let defaults =
            Config::load(&ConfigOverrides::default(), &env_of(&[])).expect("defaults are valid");
        assert_eq!(
            (
                defaults.execution.parallel_hosts,
                defaults.execution.parallel_uploads
            ),
            (20, 24)
        );
        let set = Config::load(
            &ConfigOverrides::default(),
            &env_of(&[
                ("TAD_EXECUTION_PARALLEL_HOSTS", "200"),
                ("TAD_EXECUTION_PARALLEL_UPLOADS", "4"),
            ]),
        )
        .expect("valid values");
        assert_eq!(
            (set.execution.parallel_hosts, set.execution.parallel_uploads),
            (200, 4)
        );
        let error = Config::load(
            &ConfigOverrides::default(),
            &env_of(&[("TAD_EXECUTION_PARALLEL_UPLOADS", "0")]),
        )
        .expect_err("zero uploads at once");
        assert!(
            error.to_string().contains("TAD_EXECUTION_PARALLEL_UPLOADS")
                && error.to_string().contains("must be positive"),
            "{error}"
        );
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tad.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\ntimezone = \"UTC\"\nlog_format = \"json\"\n[resource]\naddr = \"http://res:1\"\n",
        )
        .expect("write config");
        let flags = ConfigOverrides {
            config_file: Some(path),
            data_dir: Some(PathBuf::from("/srv/tad")),
            ..ConfigOverrides::default()
        };
        let env = env_of(&[
            ("TAD_LISTEN", "127.0.0.1:9100"),
            ("TAD_DATA_DIR", "/env/dir"),
            ("TAD_RESOURCE_ADDR", "http://res:2"),
        ]);
        let config = Config::load(&flags, &env).expect("valid");
        assert_eq!(
            config.listen.to_string(),
            "127.0.0.1:9100",
            "env beats file"
        );
        assert_eq!(config.data_dir, PathBuf::from("/srv/tad"), "flag beats env");
        assert_eq!(config.timezone_name, "UTC", "file value kept");
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.resource.addr, "http://res:2");
        assert_eq!(
            config.resource.database_url,
            "sqlite:///srv/tad/resource.db"
        );
    }

    #[test]
    fn invalid_values_name_their_key() {
        let cases: &[(&str, &str, &str)] = &[
            ("TAD_LISTEN", "nowhere", "TAD_LISTEN"),
            ("TAD_TIMEZONE", "Mars/Base", "TAD_TIMEZONE"),
            ("TAD_REDIS_URL", "http://x", "TAD_REDIS_URL"),
            ("TAD_LOG_FORMAT", "xml", "TAD_LOG_FORMAT"),
            (
                "TAD_RESOURCE_DATABASE_URL",
                "mysql://x",
                "TAD_RESOURCE_DATABASE_URL",
            ),
            ("TAD_TOKEN_TTL_SECS", "soon", "TAD_TOKEN_TTL_SECS"),
            ("TAD_JWT_SECRET", "short", "TAD_JWT_SECRET"),
            (
                "TAD_APPINHOUSE_SECRET_KEY",
                "short",
                "TAD_APPINHOUSE_SECRET_KEY",
            ),
            ("TAD_APPINHOUSE_PAGE_SIZE", "0", "TAD_APPINHOUSE_PAGE_SIZE"),
            ("TAD_APPINHOUSE_MAX_PAGE", "many", "TAD_APPINHOUSE_MAX_PAGE"),
        ];
        for (name, value, expected) in cases {
            let error = Config::load(&ConfigOverrides::default(), &env_of(&[(name, value)]))
                .expect_err(name);
            assert!(error.to_string().contains(expected), "{name}: {error}");
        }
    }

    #[test]
    fn every_service_has_its_own_section_and_defaults() {
        let env = env_of(&[
            ("TAD_APPINHOUSE_DATABASE_URL", "postgres://db/tad"),
            ("TAD_JOBS_LISTEN", "0.0.0.0:7000"),
        ]);
        let config = Config::load(&ConfigOverrides::default(), &env).expect("valid");
        assert_eq!(
            config.artifact.database_url,
            "sqlite://./tad-data/artifact.db"
        );
        assert_eq!(config.artifact.addr, "http://127.0.0.1:50052");
        assert_eq!(config.appinhouse.database_url, "postgres://db/tad");
        assert_eq!(config.appinhouse.database_schema, "appinhouse");
        assert_eq!(config.jobs.listen.to_string(), "0.0.0.0:7000");
        assert_eq!(config.appinhouse_options.page_size, 10);
        assert_eq!(config.appinhouse_options.max_page, 100);
        assert_eq!(config.appinhouse_options.min_residue, 5);
        assert_eq!(
            config.appinhouse_options.files_dir,
            PathBuf::from("./tad-data/appinhouse-files")
        );
        assert_eq!(config.appinhouse_options.secret_key, None);
        let error = Config::load(
            &ConfigOverrides::default(),
            &env_of(&[("TAD_JOBS_ADDR", "jobs:1")]),
        )
        .expect_err("no scheme");
        assert!(error.to_string().contains("TAD_JOBS_ADDR"), "{error}");
    }

    #[test]
    fn the_artifact_store_is_local_unless_a_bucket_is_named() {
        let config = Config::load(&ConfigOverrides::default(), &env_of(&[])).expect("valid");
        assert_eq!(
            config.artifact_store.target,
            StorageTarget::Local {
                root: PathBuf::from("./tad-data/objects")
            }
        );
        assert_eq!(config.artifact_store.max_entries, 100_000);
        assert_eq!(config.artifact_store.max_unpack_ratio, 200);
        assert_eq!(config.storage_gc_age_secs, 3600);
        let env = env_of(&[
            ("TAD_ARTIFACT_MAX_UNPACK_RATIO", "50"),
            ("TAD_STORAGE_GC_AGE_SECS", "0"),
        ]);
        let config = Config::load(&ConfigOverrides::default(), &env).expect("valid");
        assert_eq!(config.artifact_store.max_unpack_ratio, 50);
        assert_eq!(config.storage_gc_age_secs, 0);
        let env = env_of(&[("TAD_ARTIFACT_MAX_UNPACK_RATIO", "0")]);
        let error = Config::load(&ConfigOverrides::default(), &env).expect_err("zero ratio");
        assert!(
            error.to_string().contains("TAD_ARTIFACT_MAX_UNPACK_RATIO"),
            "{error}"
        );
        let env = env_of(&[
            ("TAD_ARTIFACT_S3_BUCKET", "tad"),
            ("TAD_ARTIFACT_S3_ENDPOINT", "http://minio:9000"),
            ("TAD_ARTIFACT_MAX_UPLOAD_BYTES", "1048576"),
        ]);
        let config = Config::load(&ConfigOverrides::default(), &env).expect("valid");
        let StorageTarget::S3(s3) = &config.artifact_store.target else {
            panic!("expected s3: {:?}", config.artifact_store.target);
        };
        assert_eq!(s3.bucket, "tad");
        assert!(s3.allow_http, "an http endpoint allows http");
        assert_eq!(config.artifact_store.max_upload_bytes, 1_048_576);
        let error = Config::load(
            &ConfigOverrides::default(),
            &env_of(&[("TAD_ARTIFACT_MAX_ENTRIES", "0")]),
        )
        .expect_err("zero refused");
        assert!(
            error.to_string().contains("TAD_ARTIFACT_MAX_ENTRIES"),
            "{error}"
        );
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tad.toml");
        std::fs::write(&path, "listne = \"127.0.0.1:1\"\n").expect("write config");
        let flags = ConfigOverrides {
            config_file: Some(path),
            ..ConfigOverrides::default()
        };
        let error = Config::load(&flags, &env_of(&[])).expect_err("typo refused");
        assert!(error.to_string().contains("listne"), "{error}");
    }

    #[test]
    fn http_timeouts_have_defaults_env_values_and_bounds() {
        let defaults = Config::load(&ConfigOverrides::default(), &env_of(&[])).expect("defaults");
        assert_eq!(
            (
                defaults.body_idle_timeout_secs,
                defaults.header_timeout_secs,
                defaults.keep_alive_secs
            ),
            (30, 10, 15)
        );
        let set = Config::load(
            &ConfigOverrides::default(),
            &env_of(&[
                ("TAD_BODY_IDLE_TIMEOUT_SECS", "1"),
                ("TAD_HEADER_TIMEOUT_SECS", "2"),
                ("TAD_KEEP_ALIVE_SECS", "3"),
            ]),
        )
        .expect("set");
        assert_eq!(
            (
                set.body_idle_timeout_secs,
                set.header_timeout_secs,
                set.keep_alive_secs
            ),
            (1, 2, 3)
        );
        for name in [
            "TAD_BODY_IDLE_TIMEOUT_SECS",
            "TAD_HEADER_TIMEOUT_SECS",
            "TAD_KEEP_ALIVE_SECS",
        ] {
            let error = Config::load(&ConfigOverrides::default(), &env_of(&[(name, "0")]))
                .expect_err("zero");
            assert!(error.to_string().contains(name), "{error}");
        }
    }
}
