//! SSH logins (russh): connect with a timeout, check the server's host key against a pinned
//! SHA-256 fingerprint (trust on first use), and authenticate by password or private key.
//! Used by the resource service to validate hosts and by the jobs executor's SSH transport;
//! secrets never reach a log line.

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

/// Why [`open_session`] did not answer an authenticated session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The server refused the credentials.
    #[error("login refused")]
    AuthenticationFailed,
    /// The server presented another key than the pinned one.
    #[error("host key changed: pinned {pinned}, presented {presented}")]
    HostKeyMismatch { pinned: String, presented: String },
    /// No SSH session could be set up (refused, reset, not SSH, bad key file...).
    #[error("{0}")]
    Unreachable(String),
    /// Connecting and logging in did not finish within the timeout.
    #[error("timed out")]
    TimedOut,
}

/// The russh client handler of every TAD connection: accepts only the pinned host key (any key
/// when none is pinned) and remembers the fingerprint the server presented.
pub struct HostKeyCheck {
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

/// An authenticated SSH connection; open channels on it with
/// [`client::Handle::channel_open_session`].
pub type SshSession = client::Handle<HostKeyCheck>;

/// Connects to `target`, checks its host key against `pinned_fingerprint` (`SHA256:...`; any key
/// when `None`) and logs in, all within `timeout`. Answers the session and the fingerprint the
/// server presented. The connection sends keepalives, so it may stay idle for long.
pub async fn open_session(
    target: &SshTarget,
    auth: &SshAuth,
    pinned_fingerprint: Option<&str>,
    timeout: Duration,
) -> Result<(SshSession, String), SessionError> {
    let presented = Arc::new(Mutex::new(None));
    let handler = HostKeyCheck {
        pinned: pinned_fingerprint.map(str::to_owned),
        presented: presented.clone(),
    };
    let attempt = connect_and_authenticate(target, auth, handler);
    let outcome = match tokio::time::timeout(timeout, attempt).await {
        Err(_) => return Err(SessionError::TimedOut),
        Ok(outcome) => outcome,
    };
    let presented = presented
        .lock()
        .ok()
        .and_then(|presented| presented.clone());
    match (outcome, presented, pinned_fingerprint) {
        (Ok((session, true)), Some(fingerprint), _) => Ok((session, fingerprint)),
        (Ok((session, accepted)), _, _) => {
            disconnect(&session).await;
            Err(if accepted {
                SessionError::Unreachable("server presented no host key".to_owned())
            } else {
                SessionError::AuthenticationFailed
            })
        }
        (Err(_), Some(presented), Some(pinned)) if presented != pinned => {
            Err(SessionError::HostKeyMismatch {
                pinned: pinned.to_owned(),
                presented,
            })
        }
        (Err(error), _, _) => Err(SessionError::Unreachable(error)),
    }
}

/// Ends `session` politely (errors ignored: the peer may be gone already).
pub async fn disconnect(session: &SshSession) {
    let _ = session
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
}

/// Tries one login within `timeout`.
pub async fn try_login(
    target: &SshTarget,
    auth: &SshAuth,
    pinned_fingerprint: Option<&str>,
    timeout: Duration,
) -> LoginOutcome {
    let deadline = tokio::time::Instant::now() + timeout;
    match open_session(target, auth, pinned_fingerprint, timeout).await {
        Ok((session, fingerprint)) => {
            if tokio::time::timeout_at(deadline, disconnect(&session))
                .await
                .is_err()
            {
                return LoginOutcome::TimedOut;
            }
            LoginOutcome::Success { fingerprint }
        }
        Err(SessionError::AuthenticationFailed) => LoginOutcome::AuthenticationFailed,
        Err(SessionError::HostKeyMismatch { pinned, presented }) => {
            LoginOutcome::HostKeyMismatch { pinned, presented }
        }
        Err(SessionError::Unreachable(message)) => LoginOutcome::Unreachable(message),
        Err(SessionError::TimedOut) => LoginOutcome::TimedOut,
    }
}

/// Connects and authenticates; answers the session and whether the server accepted the login.
async fn connect_and_authenticate(
    target: &SshTarget,
    auth: &SshAuth,
    handler: HostKeyCheck,
) -> Result<(SshSession, bool), String> {
    let config = Arc::new(client::Config {
        keepalive_interval: Some(Duration::from_secs(15)),
        keepalive_max: 4,
        // AES-GCM first: CPUs do it in hardware, ChaCha20 is software (a deployment pushes a
        // file to every host, so the cipher is most of the work).
        preferred: russh::Preferred {
            cipher: std::borrow::Cow::Borrowed(&[
                russh::cipher::AES_256_GCM,
                russh::cipher::AES_128_GCM,
                russh::cipher::CHACHA20_POLY1305,
                russh::cipher::AES_256_CTR,
            ]),
            ..russh::Preferred::DEFAULT
        },
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
    Ok((session, result.success()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A password login as `nobody` to `127.0.0.1:port`, given `timeout`.
    async fn password_login_on(port: u16, timeout: Duration) -> LoginOutcome {
        let target = SshTarget {
            host: "127.0.0.1".into(),
            port,
            user: "nobody".into(),
        };
        try_login(&target, &SshAuth::Password("x".into()), None, timeout).await
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_quickly() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let outcome = password_login_on(port, Duration::from_secs(5)).await;
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
        let outcome = password_login_on(port, Duration::from_millis(500)).await;
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
