//! The configuration keys, declared once: file key, variable, flag, default, readers and doc of
//! every `TAD_*` setting. Loading, validation messages, `tad config keys` and the README table
//! all come from this table.

use super::{ConfigError, invalid, raw::RawConfig};

/// How a variable's text becomes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Taken as is; an empty variable counts as unset.
    Text,
    /// A file or directory path; an empty variable counts as unset.
    Path,
    /// Parsed (a number or a boolean); an empty variable is an error.
    Parsed,
    /// Comma-separated values; empty items are dropped.
    List,
}

impl KeyKind {
    fn name(self) -> &'static str {
        match self {
            KeyKind::Text => "text",
            KeyKind::Path => "path",
            KeyKind::Parsed => "parsed",
            KeyKind::List => "list",
        }
    }
}

/// What a key is when it is set nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDefault {
    /// A fixed value, in the variable's own syntax; validation uses it.
    Value(&'static str),
    /// Computed from other keys or generated (described, e.g. `DATA_DIR/objects`).
    Derived(&'static str),
    /// Unset: the description says what happens then.
    Unset(&'static str),
}

/// One configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// Key in the TOML file (`section.key`).
    pub file_key: &'static str,
    /// Environment variable.
    pub env: &'static str,
    /// Command-line flag that overrides it, if any.
    pub flag: Option<&'static str>,
    /// How the variable is read.
    pub kind: KeyKind,
    /// Value when unset.
    pub default: KeyDefault,
    /// The roles (`tad` subcommands) that read it; `tad serve` reads every key.
    pub read_by: &'static str,
    /// What it does.
    pub doc: &'static str,
}

impl KeySpec {
    /// How validation messages name the key: `file_key (TAD_VARIABLE)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.file_key, self.env)
    }

    /// The fixed default, parsed; an error names the key (a bug of this table, caught by tests).
    pub fn default_value<T: std::str::FromStr>(&self) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        let KeyDefault::Value(text) = self.default else {
            return Err(invalid(&self.label(), "has no fixed default"));
        };
        text.parse::<T>()
            .map_err(|error| invalid(&self.label(), format!("default {text:?}: {error}")))
    }

    /// The default as documented.
    pub fn default_text(&self) -> &'static str {
        match self.default {
            KeyDefault::Value(text) | KeyDefault::Derived(text) | KeyDefault::Unset(text) => text,
        }
    }
}

/// How each kind of variable lands in its slot of the raw configuration.
mod load {
    use std::path::PathBuf;

    use super::ConfigError;

    pub(super) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

    pub(super) fn text(env: Env, name: &str, slot: &mut Option<String>) -> Result<(), ConfigError> {
        if let Some(value) = env(name).filter(|value| !value.is_empty()) {
            *slot = Some(value);
        }
        Ok(())
    }

    pub(super) fn path(
        env: Env,
        name: &str,
        slot: &mut Option<PathBuf>,
    ) -> Result<(), ConfigError> {
        if let Some(value) = env(name).filter(|value| !value.is_empty()) {
            *slot = Some(PathBuf::from(value));
        }
        Ok(())
    }

    pub(super) fn parsed<T: std::str::FromStr>(
        env: Env,
        name: &str,
        slot: &mut Option<T>,
    ) -> Result<(), ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        if let Some(value) = env(name) {
            *slot = Some(super::super::parse_env(name, value)?);
        }
        Ok(())
    }

    pub(super) fn list(
        env: Env,
        name: &str,
        slot: &mut Option<Vec<String>>,
    ) -> Result<(), ConfigError> {
        if let Some(value) = env(name) {
            *slot = Some(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
        Ok(())
    }
}

macro_rules! kind_of {
    (text) => {
        KeyKind::Text
    };
    (path) => {
        KeyKind::Path
    };
    (parsed) => {
        KeyKind::Parsed
    };
    (list) => {
        KeyKind::List
    };
}

/// Declares every key once: a `KeySpec` constant each, `ALL` in loading order, and
/// `apply_env`, which reads each variable into its slot of the raw configuration.
macro_rules! config_keys {
    ($(
        $name:ident: $env:literal => $kind:ident($($field:ident).+),
            file $file:literal, $(flag $flag:literal,)? default $default:expr,
            read_by $read_by:literal, $doc:literal;
    )+) => {
        $(
            #[doc = $doc]
            pub const $name: KeySpec = KeySpec {
                file_key: $file,
                env: $env,
                flag: config_keys!(@flag $($flag)?),
                kind: kind_of!($kind),
                default: $default,
                read_by: $read_by,
                doc: $doc,
            };
        )+

        /// Every key, in the order variables are read.
        pub const ALL: &[KeySpec] = &[$($name),+];

        /// Reads every `TAD_*` variable from `env` into `raw` (an unset variable leaves the file's
        /// value); a variable that does not parse names itself.
        pub(super) fn apply_env(raw: &mut RawConfig, env: load::Env) -> Result<(), ConfigError> {
            $( load::$kind(env, $env, &mut raw.$($field).+)?; )+
            Ok(())
        }
    };
    (@flag $flag:literal) => { Some($flag) };
    (@flag) => { None };
}

use KeyDefault::{Derived, Unset, Value};

// Variables that are only text are read first; parsed ones keep the order in which they have
// always been read, so the first bad variable reported stays the same.
config_keys! {
    LISTEN: "TAD_LISTEN" => text(listen), file "listen", flag "--listen",
        default Value("127.0.0.1:8080"), read_by "gateway", "HTTP listen address of the gateway.";
    DATA_DIR: "TAD_DATA_DIR" => path(data_dir), file "data_dir", flag "--data-dir",
        default Value("./tad-data"), read_by "all, migrate, import, publish",
        "Where embedded SQLite files, stored files and generated keys live.";
    ADMIN_PASSWORD: "TAD_ADMIN_PASSWORD" => text(admin_password), file "admin_password",
        default Unset("random, printed once on first start"), read_by "resource",
        "Password of the first `admin` (at least 8 characters).";
    TIMEZONE: "TAD_TIMEZONE" => text(timezone), file "timezone",
        default Value("Asia/Shanghai"), read_by "gateway",
        "Zone times are rendered in (as `YYYY-MM-DD HH:MM:SS`).";
    PUBLIC_URL: "TAD_PUBLIC_URL" => text(public_url), file "public_url",
        default Unset("taken from the request"), read_by "appinhouse",
        "Public base URL of the platform (`http://` or `https://`).";
    REDIS_URL: "TAD_REDIS_URL" => text(redis_url), file "redis_url",
        default Unset("in-process cache and event bus"), read_by "all",
        "Redis of the shared cache, event bus and login rate limits (`redis://` or `rediss://`).";
    REDIS_PREFIX: "TAD_REDIS_PREFIX" => text(redis_prefix), file "redis_prefix",
        default Value("tad:"), read_by "all",
        "Prefix of every Redis key and channel, so several platforms can share one Redis.";
    LOG_FORMAT: "TAD_LOG_FORMAT" => text(log_format), file "log_format",
        default Value("text"), read_by "all", "Log line format: `text`, or `json` for one JSON object per line.";
    JWT_SECRET: "TAD_JWT_SECRET" => text(jwt_secret), file "jwt_secret",
        default Derived("`tad serve` generates `DATA_DIR/jwt.key`"), read_by "all",
        "HS256 key of tokens (at least 32 characters); every process needs the same one.";
    JWT_SECRET_FILE: "TAD_JWT_SECRET_FILE" => path(jwt_secret_file), file "jwt_secret_file",
        default Unset("none"), read_by "all", "File holding the HS256 key of tokens.";
    CREDENTIAL_KEY: "TAD_CREDENTIAL_KEY" => text(credential_key), file "credential_key",
        default Derived("`tad serve` generates `DATA_DIR/credential.key`"), read_by "resource, jobs, import",
        "64 hex characters sealing SSH secrets (resource) and parameter values, app-config values and run snapshots (jobs) with ChaCha20-Poly1305; both services need the same key.";
    CREDENTIAL_KEY_FILE: "TAD_CREDENTIAL_KEY_FILE" => path(credential_key_file),
        file "credential_key_file", default Unset("none"), read_by "resource, jobs, import",
        "File holding the credential key.";
    WEBHOOK_SECRET: "TAD_WEBHOOK_SECRET" => text(webhook_secret), file "webhook_secret",
        default Derived("`tad serve` generates `DATA_DIR/webhook.key`"), read_by "jobs",
        "HMAC key of webhook signatures.";
    WEBHOOK_SECRET_FILE: "TAD_WEBHOOK_SECRET_FILE" => path(webhook_secret_file),
        file "webhook_secret_file", default Unset("none"), read_by "jobs",
        "File holding the HMAC key of webhook signatures.";
    WEBHOOK_URLS: "TAD_WEBHOOK_URLS" => list(execution.webhook_urls), file "execution.webhook_urls",
        default Unset("none"), read_by "jobs",
        "Comma-separated URLs posted to when a run finishes (more at `/api/admin/webhooks`).";
    RESOURCE_DATABASE_URL: "TAD_RESOURCE_DATABASE_URL" => text(resource.database_url),
        file "resource.database_url", flag "--resource-database-url",
        default Derived("sqlite://DATA_DIR/resource.db"), read_by "resource, migrate, import",
        "Database of the resource service (`sqlite://PATH` or `postgres://...`).";
    RESOURCE_DATABASE_SCHEMA: "TAD_RESOURCE_DATABASE_SCHEMA" => text(resource.database_schema),
        file "resource.database_schema", default Value("resource"), read_by "resource, migrate, import",
        "PostgreSQL schema of the resource service.";
    RESOURCE_LISTEN: "TAD_RESOURCE_LISTEN" => text(resource.listen), file "resource.listen",
        flag "--resource-listen", default Value("127.0.0.1:50051"), read_by "resource",
        "gRPC listen address of `tad resource`.";
    RESOURCE_ADDR: "TAD_RESOURCE_ADDR" => text(resource.addr), file "resource.addr",
        default Value("http://127.0.0.1:50051"), read_by "gateway, artifact, jobs",
        "Where the gateway, `tad jobs` and `tad artifact` find the resource service (comma-separated URLs of its replicas).";
    ARTIFACT_DATABASE_URL: "TAD_ARTIFACT_DATABASE_URL" => text(artifact.database_url),
        file "artifact.database_url", default Derived("sqlite://DATA_DIR/artifact.db"),
        read_by "artifact, migrate", "Database of the artifact service.";
    ARTIFACT_DATABASE_SCHEMA: "TAD_ARTIFACT_DATABASE_SCHEMA" => text(artifact.database_schema),
        file "artifact.database_schema", default Value("artifact"), read_by "artifact, migrate",
        "PostgreSQL schema of the artifact service.";
    ARTIFACT_LISTEN: "TAD_ARTIFACT_LISTEN" => text(artifact.listen), file "artifact.listen",
        default Value("127.0.0.1:50052"), read_by "artifact", "gRPC listen address of `tad artifact`.";
    ARTIFACT_ADDR: "TAD_ARTIFACT_ADDR" => text(artifact.addr), file "artifact.addr",
        default Value("http://127.0.0.1:50052"), read_by "gateway, jobs",
        "Where the gateway and `tad jobs` find the artifact service (comma-separated URLs of its replicas).";
    JOBS_DATABASE_URL: "TAD_JOBS_DATABASE_URL" => text(jobs.database_url),
        file "jobs.database_url", default Derived("sqlite://DATA_DIR/jobs.db"),
        read_by "jobs, migrate", "Database of the jobs service.";
    JOBS_DATABASE_SCHEMA: "TAD_JOBS_DATABASE_SCHEMA" => text(jobs.database_schema),
        file "jobs.database_schema", default Value("jobs"), read_by "jobs, migrate",
        "PostgreSQL schema of the jobs service.";
    JOBS_LISTEN: "TAD_JOBS_LISTEN" => text(jobs.listen), file "jobs.listen",
        default Value("127.0.0.1:50053"), read_by "jobs", "gRPC listen address of `tad jobs`.";
    JOBS_ADDR: "TAD_JOBS_ADDR" => text(jobs.addr), file "jobs.addr",
        default Value("http://127.0.0.1:50053"), read_by "gateway, resource",
        "Where the gateway and `tad resource` (before it deletes a cluster) find the jobs service (comma-separated URLs of its replicas).";
    APPINHOUSE_DATABASE_URL: "TAD_APPINHOUSE_DATABASE_URL" => text(appinhouse.database_url),
        file "appinhouse.database_url", default Derived("sqlite://DATA_DIR/appinhouse.db"),
        read_by "appinhouse, migrate", "Database of the appinhouse service.";
    APPINHOUSE_DATABASE_SCHEMA: "TAD_APPINHOUSE_DATABASE_SCHEMA" => text(appinhouse.database_schema),
        file "appinhouse.database_schema", default Value("appinhouse"),
        read_by "appinhouse, migrate", "PostgreSQL schema of the appinhouse service.";
    APPINHOUSE_LISTEN: "TAD_APPINHOUSE_LISTEN" => text(appinhouse.listen), file "appinhouse.listen",
        default Value("127.0.0.1:50054"), read_by "appinhouse",
        "gRPC listen address of `tad appinhouse serve`.";
    APPINHOUSE_ADDR: "TAD_APPINHOUSE_ADDR" => text(appinhouse.addr), file "appinhouse.addr",
        default Value("http://127.0.0.1:50054"), read_by "gateway",
        "Where the gateway finds the appinhouse service (comma-separated URLs of its replicas).";
    APPINHOUSE_SECRET_KEY: "TAD_APPINHOUSE_SECRET_KEY" => text(appinhouse.secret_key),
        file "appinhouse.secret_key",
        default Derived("`tad serve` generates `DATA_DIR/appinhouse.key` and prints it once"),
        read_by "appinhouse, publish", "`X-SecretKey` of appinhouse writes (at least 8 characters).";
    APPINHOUSE_FILES_DIR: "TAD_APPINHOUSE_FILES_DIR" => path(appinhouse.files_dir),
        file "appinhouse.files_dir", default Derived("DATA_DIR/appinhouse-files"),
        read_by "appinhouse",
        "Directory of hosted builds (when no S3 bucket is named); uploads are spooled beside it, in `FILES_DIR-incoming`.";
    APPINHOUSE_PAGE_SIZE: "TAD_APPINHOUSE_PAGE_SIZE" => parsed(appinhouse.page_size),
        file "appinhouse.page_size", default Value("10"), read_by "appinhouse",
        "Builds and apps per page.";
    APPINHOUSE_MAX_PAGE: "TAD_APPINHOUSE_MAX_PAGE" => parsed(appinhouse.max_page),
        file "appinhouse.max_page", default Value("100"), read_by "appinhouse",
        "Largest page number.";
    APPINHOUSE_MIN_RESIDUE: "TAD_APPINHOUSE_MIN_RESIDUE" => parsed(appinhouse.min_residue),
        file "appinhouse.min_residue", default Value("5"), read_by "appinhouse",
        "Fewest builds a residue delete keeps, and the age sweep too (per app and platform).";
    APPINHOUSE_MAX_AGE_DAYS: "TAD_APPINHOUSE_MAX_AGE_DAYS" => parsed(appinhouse.max_age_days),
        file "appinhouse.max_age_days", default Unset("builds are kept forever"), read_by "appinhouse",
        "Builds whose build time is older than this many days (1 to 36500) are deleted with their extra downloads and hosted files, hourly by every appinhouse process, keeping the newest `TAD_APPINHOUSE_MIN_RESIDUE` of each app and platform.";
    APPINHOUSE_S3_BUCKET: "TAD_APPINHOUSE_S3_BUCKET" => text(appinhouse.s3_bucket),
        file "appinhouse.s3_bucket", default Unset("local directory"), read_by "appinhouse",
        "S3 bucket of hosted builds; naming one switches from the local directory to S3 (not the artifact bucket: each service collects the objects it does not know).";
    APPINHOUSE_S3_ENDPOINT: "TAD_APPINHOUSE_S3_ENDPOINT" => text(appinhouse.s3_endpoint),
        file "appinhouse.s3_endpoint", default Unset("the AWS endpoint"), read_by "appinhouse",
        "S3 endpoint URL of hosted builds (`http://` or `https://`).";
    APPINHOUSE_S3_REGION: "TAD_APPINHOUSE_S3_REGION" => text(appinhouse.s3_region),
        file "appinhouse.s3_region", default Value("us-east-1"), read_by "appinhouse",
        "S3 region of hosted builds.";
    APPINHOUSE_S3_ACCESS_KEY_ID: "TAD_APPINHOUSE_S3_ACCESS_KEY_ID" => text(appinhouse.s3_access_key_id),
        file "appinhouse.s3_access_key_id", default Unset("none"), read_by "appinhouse",
        "S3 access key id of hosted builds.";
    APPINHOUSE_S3_SECRET_ACCESS_KEY: "TAD_APPINHOUSE_S3_SECRET_ACCESS_KEY" => text(appinhouse.s3_secret_access_key),
        file "appinhouse.s3_secret_access_key", default Unset("none"), read_by "appinhouse",
        "S3 secret access key of hosted builds.";
    APPINHOUSE_S3_ALLOW_HTTP: "TAD_APPINHOUSE_S3_ALLOW_HTTP" => parsed(appinhouse.s3_allow_http),
        file "appinhouse.s3_allow_http", default Derived("true when the endpoint is `http://`"),
        read_by "appinhouse", "Whether the S3 store of hosted builds may be reached over plain HTTP (`true` or `false`).";
    ARTIFACT_S3_BUCKET: "TAD_ARTIFACT_S3_BUCKET" => text(artifact_store.s3_bucket),
        file "artifact_store.s3_bucket", default Unset("local directory"), read_by "artifact",
        "S3 bucket of stored files; naming one switches from the local directory to S3.";
    ARTIFACT_S3_ENDPOINT: "TAD_ARTIFACT_S3_ENDPOINT" => text(artifact_store.s3_endpoint),
        file "artifact_store.s3_endpoint", default Unset("the AWS endpoint"), read_by "artifact",
        "S3 endpoint URL (`http://` or `https://`).";
    ARTIFACT_S3_REGION: "TAD_ARTIFACT_S3_REGION" => text(artifact_store.s3_region),
        file "artifact_store.s3_region", default Value("us-east-1"), read_by "artifact",
        "S3 region.";
    ARTIFACT_S3_ACCESS_KEY_ID: "TAD_ARTIFACT_S3_ACCESS_KEY_ID" => text(artifact_store.s3_access_key_id),
        file "artifact_store.s3_access_key_id", default Unset("none"), read_by "artifact",
        "S3 access key id.";
    ARTIFACT_S3_SECRET_ACCESS_KEY: "TAD_ARTIFACT_S3_SECRET_ACCESS_KEY" => text(artifact_store.s3_secret_access_key),
        file "artifact_store.s3_secret_access_key", default Unset("none"), read_by "artifact",
        "S3 secret access key.";
    ARTIFACT_STORAGE_DIR: "TAD_ARTIFACT_STORAGE_DIR" => path(artifact_store.storage_dir),
        file "artifact_store.storage_dir", default Derived("DATA_DIR/objects"), read_by "artifact",
        "Stored files, local object store (when no S3 bucket is named).";
    ARTIFACT_S3_ALLOW_HTTP: "TAD_ARTIFACT_S3_ALLOW_HTTP" => parsed(artifact_store.s3_allow_http),
        file "artifact_store.s3_allow_http", default Derived("true when the endpoint is `http://`"),
        read_by "artifact", "Whether S3 may be reached over plain HTTP (`true` or `false`).";
    ARTIFACT_MAX_UPLOAD_BYTES: "TAD_ARTIFACT_MAX_UPLOAD_BYTES" => parsed(artifact_store.max_upload_bytes),
        file "artifact_store.max_upload_bytes", default Value("8589934592"), read_by "gateway, artifact",
        "Largest upload in bytes, 8 GiB by default (multipart uploads have their own limit, not `TAD_MAX_BODY_BYTES`).";
    ARTIFACT_MAX_UNPACKED_BYTES: "TAD_ARTIFACT_MAX_UNPACKED_BYTES" => parsed(artifact_store.max_unpacked_bytes),
        file "artifact_store.max_unpacked_bytes", default Value("34359738368"), read_by "artifact",
        "Largest expanded size of an archive in bytes, 32 GiB by default.";
    ARTIFACT_MAX_ENTRIES: "TAD_ARTIFACT_MAX_ENTRIES" => parsed(artifact_store.max_entries),
        file "artifact_store.max_entries", default Value("100000"), read_by "artifact",
        "Most entries in an archive.";
    STORAGE_GC_AGE_SECS: "TAD_STORAGE_GC_AGE_SECS" => parsed(storage_gc_age_secs),
        file "storage_gc_age_secs", default Value("3600"), read_by "artifact, appinhouse",
        "Spool files and unreferenced objects older than this are removed when the artifact and appinhouse services start; keep it above your longest upload (0 removes every one, only for single replicas).";
    ARTIFACT_MAX_UNPACK_RATIO: "TAD_ARTIFACT_MAX_UNPACK_RATIO" => parsed(artifact_store.max_unpack_ratio),
        file "artifact_store.max_unpack_ratio", default Value("200"), read_by "artifact",
        "Largest unpacked/packed ratio of an archive (200 for 200:1), checked once 1 MiB is unpacked.";
    SSH_TIMEOUT_SECS: "TAD_SSH_TIMEOUT_SECS" => parsed(ssh_timeout_secs), file "ssh_timeout_secs",
        default Value("10"), read_by "resource, jobs",
        "Seconds allowed for the SSH validation of a host (8.2.7) and each SSH connect of a deployment.";
    AUDIT_RETENTION_DAYS: "TAD_AUDIT_RETENTION_DAYS" => parsed(audit_retention_days),
        file "audit_retention_days", default Unset("audit events are kept forever"), read_by "resource, artifact, jobs, appinhouse",
        "Audit events older than this many days (1 to 36500) are removed hourly by every service from the oldest end of its trail; the removal is itself an audit event and `tad audit verify` still checks the rest.";
    TOKEN_TTL_SECS: "TAD_TOKEN_TTL_SECS" => parsed(token_ttl_secs), file "token_ttl_secs",
        default Value("43200"), read_by "resource", "Lifetime of issued tokens in seconds (12 h).";
    MAX_BODY_BYTES: "TAD_MAX_BODY_BYTES" => parsed(max_body_bytes), file "max_body_bytes",
        default Value("1048576"), read_by "gateway", "Largest accepted JSON body in bytes (at least 1024).";
    EXECUTION_PARALLEL_HOSTS: "TAD_EXECUTION_PARALLEL_HOSTS" => parsed(execution.parallel_hosts),
        file "execution.parallel_hosts", default Value("20"), read_by "jobs",
        "Hosts of one step worked on at once.";
    EXECUTION_PARALLEL_UPLOADS: "TAD_EXECUTION_PARALLEL_UPLOADS" => parsed(execution.parallel_uploads),
        file "execution.parallel_uploads", default Value("24"), read_by "jobs",
        "Files of one step sent at once over all its hosts; each holds about 0.7 MiB while it is sent.";
    EXECUTION_LEASE_SECS: "TAD_EXECUTION_LEASE_SECS" => parsed(execution.lease_secs),
        file "execution.lease_secs", default Value("30"), read_by "jobs",
        "A run whose owner stops renewing its lease for this many seconds is marked `interrupted` (at least 2).";
    EXECUTION_HOST_TIMEOUT_SECS: "TAD_EXECUTION_HOST_TIMEOUT_SECS" => parsed(execution.host_timeout_secs),
        file "execution.host_timeout_secs", default Value("3600"), read_by "jobs",
        "Seconds one command on one host may take, when the method's `timeout` is not set.";
    EXECUTION_WORK_DIR: "TAD_EXECUTION_WORK_DIR" => text(execution.work_dir),
        file "execution.work_dir", default Value("/tmp/tad-runs"), read_by "jobs",
        "Absolute directory on the targets under which runs get their work directories.";
    EXECUTION_DRAIN_SECS: "TAD_EXECUTION_DRAIN_SECS" => parsed(execution.drain_secs),
        file "execution.drain_secs", default Value("10"), read_by "jobs",
        "On SIGTERM, runs may finish this many seconds; the rest are stopped and left `interrupted` for 6.1 to resume.";
    EXECUTION_APPROVAL_TTL_HOURS: "TAD_EXECUTION_APPROVAL_TTL_HOURS" => parsed(execution.approval_ttl_hours),
        file "execution.approval_ttl_hours", default Value("24"), read_by "jobs",
        "Hours a deployment request on a protected environment waits for an approver before it expires (at least 1).";
    EXECUTION_SCHEDULE_FIRE_MISSED: "TAD_EXECUTION_SCHEDULE_FIRE_MISSED" => parsed(execution.schedule_fire_missed),
        file "execution.schedule_fire_missed", default Value("true"), read_by "jobs",
        "Whether a scheduled deploy whose occurrences were missed while no jobs replica ran fires once when one starts (`true`) or skips them to the next occurrence (`false`).";
    AUDIT_ANONYMOUS_REFUSALS_PER_MINUTE: "TAD_AUDIT_ANONYMOUS_REFUSALS_PER_MINUTE" => parsed(audit_anonymous_refusals_per_minute),
        file "audit_anonymous_refusals_per_minute", default Value("60"), read_by "gateway",
        "Refused writes without valid credentials recorded in the audit trail per client address and minute (the rest are counted and recorded as one `audit.refusals_suppressed` event), so a flood cannot grow the trail without bound.";
    LOGIN_ATTEMPTS_PER_MINUTE: "TAD_LOGIN_ATTEMPTS_PER_MINUTE" => parsed(login_attempts_per_minute),
        file "login_attempts_per_minute", default Value("10"), read_by "resource",
        "Failed logins allowed per user name per minute.";
    BODY_IDLE_TIMEOUT_SECS: "TAD_BODY_IDLE_TIMEOUT_SECS" => parsed(body_idle_timeout_secs),
        file "body_idle_timeout_secs", default Value("30"), read_by "gateway",
        "A request body with no byte for this many seconds is cut with 408 and its connection closed (1 to 3600).";
    HEADER_TIMEOUT_SECS: "TAD_HEADER_TIMEOUT_SECS" => parsed(header_timeout_secs),
        file "header_timeout_secs", default Value("10"), read_by "gateway",
        "Seconds a client has to send a request's headers (1 to 3600).";
    KEEP_ALIVE_SECS: "TAD_KEEP_ALIVE_SECS" => parsed(keep_alive_secs), file "keep_alive_secs",
        default Value("15"), read_by "gateway",
        "Seconds an idle keep-alive connection stays open (1 to 3600).";
}

/// The four keys of one service's section, with the section's name.
#[derive(Debug, Clone, Copy)]
pub struct ServiceKeys {
    /// Section and default schema and SQLite file name (`resource`).
    pub name: &'static str,
    pub database_url: KeySpec,
    pub database_schema: KeySpec,
    pub listen: KeySpec,
    pub addr: KeySpec,
}

/// The services' sections, in the order they are validated.
pub const SERVICES: [ServiceKeys; 4] = [
    ServiceKeys {
        name: "resource",
        database_url: RESOURCE_DATABASE_URL,
        database_schema: RESOURCE_DATABASE_SCHEMA,
        listen: RESOURCE_LISTEN,
        addr: RESOURCE_ADDR,
    },
    ServiceKeys {
        name: "artifact",
        database_url: ARTIFACT_DATABASE_URL,
        database_schema: ARTIFACT_DATABASE_SCHEMA,
        listen: ARTIFACT_LISTEN,
        addr: ARTIFACT_ADDR,
    },
    ServiceKeys {
        name: "jobs",
        database_url: JOBS_DATABASE_URL,
        database_schema: JOBS_DATABASE_SCHEMA,
        listen: JOBS_LISTEN,
        addr: JOBS_ADDR,
    },
    ServiceKeys {
        name: "appinhouse",
        database_url: APPINHOUSE_DATABASE_URL,
        database_schema: APPINHOUSE_DATABASE_SCHEMA,
        listen: APPINHOUSE_LISTEN,
        addr: APPINHOUSE_ADDR,
    },
];

/// The keys of one object store: a local directory, or an S3 bucket once one is named.
#[derive(Debug, Clone, Copy)]
pub struct StoreKeys {
    pub local_dir: KeySpec,
    pub bucket: KeySpec,
    pub endpoint: KeySpec,
    pub region: KeySpec,
    pub access_key_id: KeySpec,
    pub secret_access_key: KeySpec,
    pub allow_http: KeySpec,
}

/// Stored files of svc-artifact.
pub const ARTIFACT_STORE: StoreKeys = StoreKeys {
    local_dir: ARTIFACT_STORAGE_DIR,
    bucket: ARTIFACT_S3_BUCKET,
    endpoint: ARTIFACT_S3_ENDPOINT,
    region: ARTIFACT_S3_REGION,
    access_key_id: ARTIFACT_S3_ACCESS_KEY_ID,
    secret_access_key: ARTIFACT_S3_SECRET_ACCESS_KEY,
    allow_http: ARTIFACT_S3_ALLOW_HTTP,
};

/// Hosted builds of svc-appinhouse.
pub const APPINHOUSE_STORE: StoreKeys = StoreKeys {
    local_dir: APPINHOUSE_FILES_DIR,
    bucket: APPINHOUSE_S3_BUCKET,
    endpoint: APPINHOUSE_S3_ENDPOINT,
    region: APPINHOUSE_S3_REGION,
    access_key_id: APPINHOUSE_S3_ACCESS_KEY_ID,
    secret_access_key: APPINHOUSE_S3_SECRET_ACCESS_KEY,
    allow_http: APPINHOUSE_S3_ALLOW_HTTP,
};

/// The default port of an address-like default (`127.0.0.1:8080` → 8080).
fn default_port(key: &KeySpec) -> Option<u16> {
    key.default_text().rsplit(':').next()?.parse().ok()
}

/// The roles a key read by `all` is read by: the gateway and the four services.
pub const SERVICE_ROLES: [&str; 5] = ["gateway", "resource", "artifact", "jobs", "appinhouse"];

/// Whether `role` (a `tad` subcommand; `appinhouse` for `tad appinhouse serve`, `publish` for
/// `tad appinhouse publish`) reads `key`; `serve` reads every key.
pub fn read_by_role(key: &KeySpec, role: &str) -> bool {
    role == "serve"
        || key
            .read_by
            .split(", ")
            .any(|reader| reader == role || (reader == "all" && SERVICE_ROLES.contains(&role)))
}

/// The end of `tad ROLE --help`: every variable the role reads, with the first sentence of its
/// meaning.
pub fn role_help(role: &str) -> String {
    let mut text = String::from(
        "Variables it reads (`tad config keys` gives their defaults and file keys):\n",
    );
    for key in ALL.iter().filter(|key| read_by_role(key, role)) {
        let first_sentence = key.doc.split(". ").next().unwrap_or(key.doc);
        let first_sentence = first_sentence.trim_end_matches('.');
        text.push_str(&format!("  {:<34} {first_sentence}\n", key.env));
    }
    text
}

/// The table as Markdown, as it stands in the README between the `config-keys` markers.
pub fn markdown() -> String {
    let mut out = String::from(
        "| Variable | File key | Flag | Default | Read by | Meaning |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for key in ALL {
        let default = match key.default {
            KeyDefault::Value(text) => format!("`{text}`"),
            KeyDefault::Derived(text) | KeyDefault::Unset(text) => text.to_owned(),
        };
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} | {} |\n",
            key.env,
            key.file_key,
            key.flag.map(|flag| format!("`{flag}`")).unwrap_or_default(),
            default,
            key.read_by,
            key.doc,
        ));
    }
    out
}

/// The table as plain text, one key a line.
pub fn text() -> String {
    ALL.iter()
        .map(|key| format!("{:<36} {:<40} {}\n", key.env, key.default_text(), key.doc))
        .collect()
}

/// The table as JSON (`deploy/config-keys.json`, read by `deploy/validate_manifests.py`): every
/// key, and each role's port.
pub fn json() -> String {
    let keys: Vec<serde_json::Value> = ALL
        .iter()
        .map(|key| {
            serde_json::json!({
                "env": key.env,
                "file_key": key.file_key,
                "flag": key.flag,
                "kind": key.kind.name(),
                "default": key.default_text(),
                "read_by": key.read_by,
                "doc": key.doc,
            })
        })
        .collect();
    let services: Vec<serde_json::Value> = SERVICES
        .iter()
        .map(|service| {
            serde_json::json!({
                "name": service.name,
                "variable": service.listen.env.trim_start_matches("TAD_").trim_end_matches("_LISTEN"),
                "port": default_port(&service.listen),
            })
        })
        .collect();
    let document = serde_json::json!({
        "generated_by": "tad config keys --json",
        "gateway_port": default_port(&LISTEN),
        "services": services,
        "keys": keys,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}
