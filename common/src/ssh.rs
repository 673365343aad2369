//! SSH logins (russh): connect with a timeout, check the server's host key against a pinned
//! SHA-256 fingerprint (trust on first use), and authenticate by password or private key.
//! Used by the resource service to validate hosts; secrets never reach a log line.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use russh::{
    client,
    keys::{HashAlg, PrivateKeyWithHashAlg},
};

/// How to authenticate.
#[derive(Clone)]
pub enum SshAuth {
    Password(String),
    /// An OpenSSH private key (PEM text), without passphrase.
    PrivateKey(String),
}

impl std::fmt::Debug for SshAuth {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SshAuth::Password(_) => formatter.write_str("Password(***)"),
            SshAuth::PrivateKey(_) => formatter.write_str("PrivateKey(***)"),
        }
    }
}

/// Where to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
}

/// What a login attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Logged in; the server presented the key with this fingerprint.
    Success { fingerprint: String },
    /// The server refused the credentials.
    AuthenticationFailed,
    /// The server presented another key than the pinned one.
    HostKeyMismatch { pinned: String, presented: String },
    /// No SSH session could be set up (refused, reset, not SSH, bad key file...).
    Unreachable(String),
    /// Nothing finished within the timeout.
    TimedOut,
}

struct HostKeyCheck {
    pinned: Option<String>,
    presented: Arc<Mutex<Option<String>>>,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let fingerprint = match server_key {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => {
                key.fingerprint(HashAlg::Sha256).to_string()
            }
            russh::keys::PublicKeyOrCertificate::Certificate(certificate) => certificate
                .public_key()
                .fingerprint(HashAlg::Sha256)
                .to_string(),
        };
        let accepted = self
            .pinned
            .as_deref()
            .is_none_or(|pinned| pinned == fingerprint);
        if let Ok(mut presented) = self.presented.lock() {
            *presented = Some(fingerprint);
        }
        Ok(accepted)
    }
}

/// Tries one login within `timeout`.
pub async fn try_login(
    target: &SshTarget,
    auth: &SshAuth,
    pinned_fingerprint: Option<&str>,
    timeout: Duration,
) -> LoginOutcome {
    let presented = Arc::new(Mutex::new(None));
    let handler = HostKeyCheck {
        pinned: pinned_fingerprint.map(str::to_owned),
        presented: presented.clone(),
    };
    let attempt = login(target, auth, handler);
    let outcome = match tokio::time::timeout(timeout, attempt).await {
        Err(_) => return LoginOutcome::TimedOut,
        Ok(outcome) => outcome,
    };
    let presented = presented
        .lock()
        .ok()
        .and_then(|presented| presented.clone());
    match (outcome, presented, pinned_fingerprint) {
        (Ok(true), Some(fingerprint), _) => LoginOutcome::Success { fingerprint },
        (Ok(true), None, _) => LoginOutcome::Unreachable("server presented no host key".to_owned()),
        (Ok(false), _, _) => LoginOutcome::AuthenticationFailed,
        (Err(_), Some(presented), Some(pinned)) if presented != pinned => {
            LoginOutcome::HostKeyMismatch {
                pinned: pinned.to_owned(),
                presented,
            }
        }
        (Err(error), _, _) => LoginOutcome::Unreachable(error),
    }
}

async fn login(target: &SshTarget, auth: &SshAuth, handler: HostKeyCheck) -> Result<bool, String> {
    let config = Arc::new(client::Config {
        inactivity_timeout: Some(Duration::from_secs(30)),
        ..client::Config::default()
    });
    let mut session = client::connect(config, (target.host.as_str(), target.port), handler)
        .await
        .map_err(|error| error.to_string())?;
    let result = match auth {
        SshAuth::Password(password) => session
            .authenticate_password(target.user.clone(), password.clone())
            .await
            .map_err(|error| error.to_string())?,
        SshAuth::PrivateKey(pem) => {
            let key = russh::keys::decode_secret_key(pem, None)
                .map_err(|error| format!("private key is not usable: {error}"))?;
            let hash = session
                .best_supported_rsa_hash()
                .await
                .map_err(|error| error.to_string())?
                .flatten();
            session
                .authenticate_publickey(
                    target.user.clone(),
                    PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                )
                .await
                .map_err(|error| error.to_string())?
        }
    };
    let _ = session
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    Ok(result.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_port_is_unreachable_quickly() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let target = SshTarget {
            host: "127.0.0.1".into(),
            port,
            user: "nobody".into(),
        };
        let outcome = try_login(
            &target,
            &SshAuth::Password("x".into()),
            None,
            Duration::from_secs(5),
        )
        .await;
        assert!(
            matches!(outcome, LoginOutcome::Unreachable(_)),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let _accepting = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let target = SshTarget {
            host: "127.0.0.1".into(),
            port,
            user: "nobody".into(),
        };
        let outcome = try_login(
            &target,
            &SshAuth::Password("x".into()),
            None,
            Duration::from_millis(500),
        )
        .await;
        assert_eq!(outcome, LoginOutcome::TimedOut);
    }

    #[test]
    fn credentials_do_not_print() {
        assert_eq!(
            format!("{:?}", SshAuth::Password("hunter2".into())),
            "Password(***)"
        );
    }
}
