//! Typed configuration: a TOML file (`--config`), overridden by `TAD_*` environment variables,
//! overridden by command-line flags; validated once at startup with messages naming the key.
//!
//! Every key is declared once in [`keys`]; [`raw`] reads the file, variables and flags,
//! [`checks`] validates each section.

mod checks;
pub mod keys;
mod raw;
#[cfg(test)]
mod tests;

use std::{net::SocketAddr, path::PathBuf};

use crate::{storage::StorageTarget, time::TimeRenderer};
use checks::{check_url, or_default, socket_addr};
use raw::RawConfig;

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

pub(crate) fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
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
    /// Whether the URL was configured (`false`: the default SQLite file in the data directory,
    /// which only `tad serve` and `tad migrate` accept).
    pub database_url_configured: bool,
    /// PostgreSQL schema of this service (one schema per service).
    pub database_schema: String,
    /// gRPC address the service process listens on (`tad resource`).
    pub listen: SocketAddr,
    /// gRPC URLs of the service's replicas as configured, comma-separated (`TAD_RESOURCE_ADDR`).
    pub addr: String,
    /// The same URLs one by one, each checked: the gateway balances over them and fails over.
    pub addrs: Vec<String>,
}

/// Settings of the appinhouse rules (SPEC §6), beside its [`ServiceConfig`].
#[derive(Clone, PartialEq, Eq)]
pub struct AppinhouseOptions {
    /// `X-SecretKey` of writes (`TAD_APPINHOUSE_SECRET_KEY`); see `secrets::appinhouse_secret_key`.
    pub secret_key: Option<String>,
    /// Builds and apps per page (`TAD_APPINHOUSE_PAGE_SIZE`, default 10).
    pub page_size: u32,
    /// Largest page number (`TAD_APPINHOUSE_MAX_PAGE`, default 100).
    pub max_page: u32,
    /// Fewest builds a residue delete keeps (`TAD_APPINHOUSE_MIN_RESIDUE`, default 5).
    pub min_residue: u32,
    /// Age in days past which builds are deleted, beyond the newest `min_residue` of each app
    /// and platform (`TAD_APPINHOUSE_MAX_AGE_DAYS`); `None` keeps them forever.
    pub max_age_days: Option<u32>,
    /// Where hosted build files go: the directory `TAD_APPINHOUSE_FILES_DIR` (default
    /// `DATA_DIR/appinhouse-files`) or the bucket `TAD_APPINHOUSE_S3_BUCKET` and friends.
    pub store: StorageTarget,
    /// Where uploads are spooled before they reach the store: `FILES_DIR-incoming`.
    pub incoming_dir: PathBuf,
}

impl std::fmt::Debug for AppinhouseOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AppinhouseOptions")
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("page_size", &self.page_size)
            .field("max_page", &self.max_page)
            .field("min_residue", &self.min_residue)
            .field("max_age_days", &self.max_age_days)
            .field("store", &self.store)
            .field("incoming_dir", &self.incoming_dir)
            .finish()
    }
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
    /// Hours a deployment request on a protected environment waits for a decision before it
    /// expires (`TAD_EXECUTION_APPROVAL_TTL_HOURS`, default 24).
    pub approval_ttl_hours: u64,
    /// Whether a schedule's occurrences missed while no replica ran fire once at start
    /// (`TAD_EXECUTION_SCHEDULE_FIRE_MISSED`, default true) or are skipped.
    pub schedule_fire_missed: bool,
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
    /// Refused writes without credentials the audit trail records per address and minute.
    pub audit_anonymous_refusals_per_minute: u32,
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
    /// Days an audit event is kept (`TAD_AUDIT_RETENTION_DAYS`; none: forever).
    pub audit_retention_days: Option<u32>,
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

fn parse_env<T: std::str::FromStr>(name: &str, value: String) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse::<T>()
        .map_err(|error| invalid(name, format!("{value:?} is not valid: {error}")))
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
        keys::apply_env(&mut raw, env)?;
        raw.apply_flags(flags);
        Config::validate(raw)
    }

    /// Loads with the process environment.
    pub fn load_from_process(flags: &ConfigOverrides) -> Result<Config, ConfigError> {
        Config::load(flags, &|name| std::env::var(name).ok())
    }

    fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
        let listen = socket_addr(
            &keys::LISTEN.label(),
            &or_default(raw.listen, &keys::LISTEN)?,
        )?;
        let data_dir: PathBuf = or_default(raw.data_dir, &keys::DATA_DIR)?;
        if data_dir.as_os_str().is_empty() {
            return Err(invalid(&keys::DATA_DIR.label(), "must not be empty"));
        }
        let timezone_name = or_default(raw.timezone, &keys::TIMEZONE)?;
        let timezone = TimeRenderer::new(&timezone_name)
            .map_err(|message| invalid(&keys::TIMEZONE.label(), message))?;
        if let Some(url) = &raw.public_url {
            check_url(&keys::PUBLIC_URL.label(), url, &["http", "https"])?;
        }
        if let Some(url) = &raw.redis_url {
            check_url(&keys::REDIS_URL.label(), url, &["redis", "rediss"])?;
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
                    &keys::LOG_FORMAT.label(),
                    format!("{other:?} must be text or json"),
                ));
            }
        };
        if let Some(password) = &raw.admin_password
            && password.len() < 8
        {
            return Err(invalid(
                &keys::ADMIN_PASSWORD.label(),
                "must be at least 8 characters",
            ));
        }
        if let Some(secret) = &raw.jwt_secret
            && secret.len() < 32
        {
            return Err(invalid(
                &keys::JWT_SECRET.label(),
                "must be at least 32 characters",
            ));
        }
        if let Some(key) = &raw.credential_key
            && (key.len() != 64 || !key.bytes().all(|byte| byte.is_ascii_hexdigit()))
        {
            return Err(invalid(
                &keys::CREDENTIAL_KEY.label(),
                "must be 64 hex characters (32 bytes)",
            ));
        }
        let positive = |value: Option<u64>, key: &keys::KeySpec| match or_default(value, key)? {
            0 => Err(invalid(&key.label(), "must be positive")),
            value => Ok(value),
        };
        let ssh_timeout_secs = positive(raw.ssh_timeout_secs, &keys::SSH_TIMEOUT_SECS)?;
        let token_ttl_secs = positive(raw.token_ttl_secs, &keys::TOKEN_TTL_SECS)?;
        let max_body_bytes: usize = or_default(raw.max_body_bytes, &keys::MAX_BODY_BYTES)?;
        if max_body_bytes < 1024 {
            return Err(invalid(
                &keys::MAX_BODY_BYTES.label(),
                "must be at least 1024",
            ));
        }
        let login_attempts_per_minute: u32 = or_default(
            raw.login_attempts_per_minute,
            &keys::LOGIN_ATTEMPTS_PER_MINUTE,
        )?;
        let audit_anonymous_refusals_per_minute: u32 = or_default(
            raw.audit_anonymous_refusals_per_minute,
            &keys::AUDIT_ANONYMOUS_REFUSALS_PER_MINUTE,
        )?;
        if audit_anonymous_refusals_per_minute == 0 {
            return Err(invalid(
                &keys::AUDIT_ANONYMOUS_REFUSALS_PER_MINUTE.label(),
                "must be positive",
            ));
        }
        if login_attempts_per_minute == 0 {
            return Err(invalid(
                &keys::LOGIN_ATTEMPTS_PER_MINUTE.label(),
                "must be positive",
            ));
        }

        let mut http_timeouts = [0_u64; 3];
        for (slot, (key, value)) in http_timeouts.iter_mut().zip([
            (keys::BODY_IDLE_TIMEOUT_SECS, raw.body_idle_timeout_secs),
            (keys::HEADER_TIMEOUT_SECS, raw.header_timeout_secs),
            (keys::KEEP_ALIVE_SECS, raw.keep_alive_secs),
        ]) {
            *slot = or_default(value, &key)?;
            if *slot == 0 || *slot > 3600 {
                return Err(invalid(&key.label(), "must be between 1 and 3600 seconds"));
            }
        }
        let [body_idle_timeout_secs, header_timeout_secs, keep_alive_secs] = http_timeouts;

        let [resource_keys, artifact_keys, jobs_keys, appinhouse_keys] = &keys::SERVICES;
        let resource = checks::service_config(resource_keys, &raw.resource, &data_dir)?;
        let artifact = checks::service_config(artifact_keys, &raw.artifact, &data_dir)?;
        let jobs = checks::service_config(jobs_keys, &raw.jobs, &data_dir)?;
        let artifact_store = checks::artifact_store_config(raw.artifact_store, &data_dir)?;
        let appinhouse =
            checks::service_config(appinhouse_keys, &raw.appinhouse.service(), &data_dir)?;
        let appinhouse_options = checks::appinhouse_options(&raw.appinhouse, &data_dir)?;
        checks::separate_stores(
            (&artifact_store.target, &keys::ARTIFACT_STORE),
            (&appinhouse_options.store, &keys::APPINHOUSE_STORE),
        )?;
        let execution = checks::execution_options(&raw.execution)?;

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
            redis_prefix: or_default(raw.redis_prefix, &keys::REDIS_PREFIX)?,
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
            audit_anonymous_refusals_per_minute,
            body_idle_timeout_secs,
            header_timeout_secs,
            keep_alive_secs,
            resource,
            artifact,
            artifact_store,
            storage_gc_age_secs: or_default(raw.storage_gc_age_secs, &keys::STORAGE_GC_AGE_SECS)?,
            audit_retention_days: checks::retention_days(
                raw.audit_retention_days,
                &keys::AUDIT_RETENTION_DAYS,
            )?,
            jobs,
            appinhouse,
            appinhouse_options,
            execution,
        })
    }
}
