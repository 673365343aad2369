//! Tests of configuration loading: defaults, precedence, validation messages, and that the
//! README table and the deploy key list are generated from the declared keys.

use std::collections::HashMap;

use super::*;
use crate::storage::S3Target;

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
        let error =
            Config::load(&ConfigOverrides::default(), &env_of(&[(name, value)])).expect_err(name);
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
        config.appinhouse_options.store,
        StorageTarget::Local {
            root: PathBuf::from("./tad-data/appinhouse-files")
        }
    );
    assert_eq!(
        config.appinhouse_options.incoming_dir,
        PathBuf::from("./tad-data/appinhouse-files-incoming")
    );
    assert_eq!(config.appinhouse_options.max_age_days, None);
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

/// Hosted builds take the artifact store's shape from their own keys: local unless a bucket is
/// named, never the artifact service's store, and no secret in the debug text.
#[test]
fn the_appinhouse_store_is_local_unless_its_own_bucket_is_named() {
    let env = env_of(&[
        ("TAD_APPINHOUSE_FILES_DIR", "/srv/builds"),
        ("TAD_APPINHOUSE_MAX_AGE_DAYS", "90"),
    ]);
    let config = Config::load(&ConfigOverrides::default(), &env).expect("valid");
    let options = &config.appinhouse_options;
    assert_eq!(
        options.store,
        StorageTarget::Local {
            root: PathBuf::from("/srv/builds")
        }
    );
    assert_eq!(options.incoming_dir, PathBuf::from("/srv/builds-incoming"));
    assert_eq!(options.max_age_days, Some(90));

    let env = env_of(&[
        ("TAD_APPINHOUSE_SECRET_KEY", "appinhouse-secret-value"),
        ("TAD_APPINHOUSE_S3_BUCKET", "builds"),
        ("TAD_APPINHOUSE_S3_ENDPOINT", "http://minio:9000"),
        ("TAD_APPINHOUSE_S3_REGION", "eu-west-3"),
        ("TAD_APPINHOUSE_S3_ACCESS_KEY_ID", "builds-key-id"),
        ("TAD_APPINHOUSE_S3_SECRET_ACCESS_KEY", "builds-secret-value"),
        ("TAD_ARTIFACT_S3_BUCKET", "artifacts"),
        ("TAD_ARTIFACT_S3_ENDPOINT", "http://minio:9000"),
    ]);
    let config = Config::load(&ConfigOverrides::default(), &env).expect("valid");
    let options = &config.appinhouse_options;
    assert_eq!(
        options.store,
        StorageTarget::S3(S3Target {
            bucket: "builds".to_owned(),
            endpoint: Some("http://minio:9000".to_owned()),
            region: "eu-west-3".to_owned(),
            access_key_id: Some("builds-key-id".to_owned()),
            secret_access_key: Some("builds-secret-value".to_owned()),
            allow_http: true,
        })
    );
    let debug = format!("{options:?}");
    assert!(
        !debug.contains("builds-secret-value") && !debug.contains("appinhouse-secret-value"),
        "{debug}"
    );

    let refusals: &[(&[(&str, &str)], &str)] = &[
        (
            &[("TAD_APPINHOUSE_MAX_AGE_DAYS", "0")],
            "TAD_APPINHOUSE_MAX_AGE_DAYS",
        ),
        (
            &[("TAD_APPINHOUSE_MAX_AGE_DAYS", "36501")],
            "TAD_APPINHOUSE_MAX_AGE_DAYS",
        ),
        (
            &[
                ("TAD_APPINHOUSE_S3_BUCKET", "builds"),
                ("TAD_APPINHOUSE_S3_ENDPOINT", "minio:9000"),
            ],
            "TAD_APPINHOUSE_S3_ENDPOINT",
        ),
        (
            &[
                ("TAD_APPINHOUSE_S3_BUCKET", "shared"),
                ("TAD_ARTIFACT_S3_BUCKET", "shared"),
            ],
            "TAD_APPINHOUSE_S3_BUCKET",
        ),
        (
            &[
                ("TAD_APPINHOUSE_FILES_DIR", "/srv/objects"),
                ("TAD_ARTIFACT_STORAGE_DIR", "/srv/objects"),
            ],
            "TAD_APPINHOUSE_FILES_DIR",
        ),
    ];
    for (pairs, named) in refusals {
        let error = Config::load(&ConfigOverrides::default(), &env_of(pairs)).expect_err(named);
        assert!(error.to_string().contains(named), "{pairs:?}: {error}");
    }
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
        let error =
            Config::load(&ConfigOverrides::default(), &env_of(&[(name, "0")])).expect_err("zero");
        assert!(error.to_string().contains(name), "{error}");
    }
}

/// The README's config table, between its markers, is `tad config keys --markdown`.
#[test]
fn the_readme_table_is_generated_from_the_keys() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("read README.md");
    let start = "<!-- config-keys:start -->\n";
    let end = "<!-- config-keys:end -->";
    let table = readme
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once(end))
        .map(|(table, _)| table)
        .expect("README.md has the config-keys markers");
    assert!(
        table == keys::markdown(),
        "README.md's config table differs from the declared keys (common/src/config/keys.rs); \
         regenerate it: put the output of `cargo run -q -p tad -- config keys --markdown` \
         between the config-keys markers"
    );
}

/// `deploy/config-keys.json`, which deploy/validate_manifests.py checks the deploy files
/// against, is `tad config keys --json`.
#[test]
fn the_deploy_key_list_is_generated_from_the_keys() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/config-keys.json");
    let current = std::fs::read_to_string(path).expect("read deploy/config-keys.json");
    assert!(
        current == keys::json(),
        "deploy/config-keys.json differs from the declared keys (common/src/config/keys.rs); \
         regenerate it: cargo run -q -p tad -- config keys --json > deploy/config-keys.json"
    );
}

#[test]
fn every_key_is_declared_once_and_fixed_defaults_load() {
    let mut names: Vec<&str> = keys::ALL.iter().map(|key| key.env).collect();
    names.sort_unstable();
    let count = names.len();
    names.dedup();
    assert_eq!(names.len(), count, "a variable is declared twice");
    assert!(keys::ALL.iter().all(|key| key.env.starts_with("TAD_")));
    let defaults = Config::load(&ConfigOverrides::default(), &env_of(&[])).expect("defaults");
    assert_eq!(defaults.token_ttl_secs, 12 * 3600);
    assert_eq!(defaults.max_body_bytes, 1024 * 1024);
    assert_eq!(defaults.artifact_store.max_upload_bytes, 8 << 30);
    assert_eq!(defaults.artifact_store.max_unpacked_bytes, 32 << 30);
    assert_eq!(defaults.redis_prefix, "tad:");
    assert_eq!(defaults.execution.work_dir, "/tmp/tad-runs");
    assert_eq!(
        (
            defaults.execution.lease_secs,
            defaults.execution.host_timeout_secs
        ),
        (30, 3600)
    );
    assert_eq!(defaults.execution.drain_secs, 10);
    assert_eq!(defaults.ssh_timeout_secs, 10);
    assert_eq!(defaults.login_attempts_per_minute, 10);
    for (service, port) in [
        (&defaults.resource, 50051),
        (&defaults.artifact, 50052),
        (&defaults.jobs, 50053),
        (&defaults.appinhouse, 50054),
    ] {
        assert_eq!(service.listen.to_string(), format!("127.0.0.1:{port}"));
        assert_eq!(service.addr, format!("http://127.0.0.1:{port}"));
    }
}

#[test]
fn every_variable_is_read_into_the_configuration() {
    // A value no key accepts: each variable set alone must change the outcome or be accepted
    // as text, proving `apply_env` reads it (a parsed variable refuses "x" and names itself).
    for key in keys::ALL
        .iter()
        .filter(|key| key.kind == keys::KeyKind::Parsed)
    {
        let error = Config::load(&ConfigOverrides::default(), &env_of(&[(key.env, "x")]))
            .expect_err(key.env);
        assert!(
            error.to_string().starts_with(key.env),
            "{}: {error}",
            key.env
        );
    }
}

#[test]
fn service_addresses_are_comma_separated_lists() {
    let env = env_of(&[(
        "TAD_JOBS_ADDR",
        "http://jobs-1:50053, http://jobs-2:50053,https://jobs-3:443",
    )]);
    let config = Config::load(&ConfigOverrides::default(), &env).expect("valid");
    assert_eq!(
        config.jobs.addrs,
        [
            "http://jobs-1:50053",
            "http://jobs-2:50053",
            "https://jobs-3:443"
        ]
    );
    assert_eq!(config.resource.addrs, ["http://127.0.0.1:50051"]);

    for (value, fault) in [
        ("http://jobs-1:50053,,http://jobs-2:50053", "address 2"),
        ("http://jobs-1:50053,jobs-2:50053", "must start with"),
        ("http://jobs-1:50053,http://jobs-1:50053", "listed twice"),
        ("http://", "names no host"),
    ] {
        let pairs = [("TAD_JOBS_ADDR", value)];
        let env = env_of(&pairs);
        let error = Config::load(&ConfigOverrides::default(), &env).expect_err(value);
        let text = error.to_string();
        assert!(
            text.contains("TAD_JOBS_ADDR") && text.contains(fault),
            "{value:?}: {text}"
        );
    }
}
