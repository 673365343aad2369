//! Secret keys (JWT signing key, appinhouse X-SecretKey, later the credential encryption key): taken from the
//! environment or a file, or generated once into the data directory by `tad serve`.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use rand::RngCore;

use crate::config::Config;

/// Why a key cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} is empty or shorter than 32 characters")]
    TooShort { path: PathBuf },
    #[error(
        "no {what}: set {variable} or {file_variable}, or run `tad serve` once to generate one in the data directory"
    )]
    Missing {
        what: &'static str,
        variable: &'static str,
        file_variable: &'static str,
    },
}

/// Reads a key file (trimmed); it must hold at least 32 characters.
pub fn read_key_file(path: &Path) -> Result<Vec<u8>, SecretError> {
    let text = std::fs::read_to_string(path).map_err(|source| SecretError::Read {
        path: path.to_owned(),
        source,
    })?;
    let key = text.trim();
    if key.len() < 32 {
        return Err(SecretError::TooShort {
            path: path.to_owned(),
        });
    }
    Ok(key.as_bytes().to_vec())
}

/// Reads the key file at `path`, or creates it (mode 0600) with 32 random bytes in hex.
pub fn read_or_create_key_file(path: &Path) -> Result<Vec<u8>, SecretError> {
    if path.exists() {
        return read_key_file(path);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| SecretError::Write {
            path: path.to_owned(),
            source,
        })?;
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let write = |options: &std::fs::OpenOptions| -> std::io::Result<()> {
        let mut file = options.open(path)?;
        file.write_all(key.as_bytes())?;
        file.sync_all()
    };
    match write(&options) {
        Ok(()) => Ok(key.into_bytes()),
        // Another process created it first: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read_key_file(path),
        Err(source) => Err(SecretError::Write {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The JWT signing key: `TAD_JWT_SECRET`, else `TAD_JWT_SECRET_FILE`, else `DATA_DIR/jwt.key`
/// (created when `generate` is true, as in `tad serve`).
pub fn jwt_secret(config: &Config, generate: bool) -> Result<Vec<u8>, SecretError> {
    resolve_key(
        config.jwt_secret.as_deref(),
        config.jwt_secret_file.as_deref(),
        &config.data_dir.join("jwt.key"),
        generate,
        ("JWT signing key", "TAD_JWT_SECRET", "TAD_JWT_SECRET_FILE"),
    )
}

/// The HMAC key of webhook signatures: `TAD_WEBHOOK_SECRET`, else `TAD_WEBHOOK_SECRET_FILE`, else
/// `DATA_DIR/webhook.key` (created when `generate` is true); None when there is none.
pub fn webhook_secret(config: &Config, generate: bool) -> Result<Option<Vec<u8>>, SecretError> {
    match resolve_key(
        config.webhook_secret.as_deref(),
        config.webhook_secret_file.as_deref(),
        &config.data_dir.join("webhook.key"),
        generate,
        (
            "webhook signing key",
            "TAD_WEBHOOK_SECRET",
            "TAD_WEBHOOK_SECRET_FILE",
        ),
    ) {
        Ok(key) => Ok(Some(key)),
        Err(SecretError::Missing { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The credential encryption key (64 hex chars): `TAD_CREDENTIAL_KEY`, else
/// `TAD_CREDENTIAL_KEY_FILE`, else `DATA_DIR/credential.key` (created when `generate` is true).
pub fn credential_key(config: &Config, generate: bool) -> Result<Vec<u8>, SecretError> {
    resolve_key(
        config.credential_key.as_deref(),
        config.credential_key_file.as_deref(),
        &config.data_dir.join("credential.key"),
        generate,
        (
            "credential encryption key",
            "TAD_CREDENTIAL_KEY",
            "TAD_CREDENTIAL_KEY_FILE",
        ),
    )
}

fn resolve_key(
    direct: Option<&str>,
    file: Option<&Path>,
    default_path: &Path,
    generate: bool,
    (what, variable, file_variable): (&'static str, &'static str, &'static str),
) -> Result<Vec<u8>, SecretError> {
    if let Some(secret) = direct {
        return Ok(secret.as_bytes().to_vec());
    }
    if let Some(path) = file {
        return read_key_file(path);
    }
    if generate {
        return read_or_create_key_file(default_path);
    }
    if default_path.exists() {
        return read_key_file(default_path);
    }
    Err(SecretError::Missing {
        what,
        variable,
        file_variable,
    })
}

/// The appinhouse `X-SecretKey` and whether this call generated it (to be shown once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppinhouseSecret {
    pub key: String,
    pub generated: bool,
}

/// The appinhouse `X-SecretKey`: `TAD_APPINHOUSE_SECRET_KEY`, else `DATA_DIR/appinhouse.key`
/// (created when `generate` is true, as in `tad serve`).
pub fn appinhouse_secret_key(
    config: &Config,
    generate: bool,
) -> Result<AppinhouseSecret, SecretError> {
    if let Some(key) = &config.appinhouse_options.secret_key {
        return Ok(AppinhouseSecret {
            key: key.clone(),
            generated: false,
        });
    }
    let path = config.data_dir.join("appinhouse.key");
    let existed = path.exists();
    if !existed && !generate {
        return Err(SecretError::Missing {
            what: "appinhouse secret key",
            variable: "TAD_APPINHOUSE_SECRET_KEY",
            file_variable: "appinhouse.secret_key in the config file",
        });
    }
    let key = read_or_create_key_file(&path)?;
    Ok(AppinhouseSecret {
        key: String::from_utf8_lossy(&key).into_owned(),
        generated: !existed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_and_private() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("keys/jwt.key");
        let first = read_or_create_key_file(&path).expect("create");
        let second = read_or_create_key_file(&path).expect("read back");
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_appinhouse_key_comes_from_config_or_is_generated_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let overrides = crate::config::ConfigOverrides {
            data_dir: Some(dir.path().to_owned()),
            ..Default::default()
        };
        let config = Config::load(&overrides, &|_| None).expect("config");
        assert!(matches!(
            appinhouse_secret_key(&config, false),
            Err(SecretError::Missing { .. })
        ));
        let first = appinhouse_secret_key(&config, true).expect("generate");
        assert!(first.generated);
        let second = appinhouse_secret_key(&config, false).expect("read back");
        assert_eq!(second.key, first.key);
        assert!(!second.generated);
        let given = Config::load(&overrides, &|name| {
            (name == "TAD_APPINHOUSE_SECRET_KEY").then(|| "given-secret".to_owned())
        })
        .expect("config");
        assert_eq!(
            appinhouse_secret_key(&given, true).expect("given").key,
            "given-secret"
        );
    }

    #[test]
    fn a_short_key_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("jwt.key");
        std::fs::write(&path, "short\n").expect("write");
        assert!(matches!(
            read_key_file(&path),
            Err(SecretError::TooShort { .. })
        ));
    }
}
