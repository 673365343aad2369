//! HTTPS clients without OpenSSL: every reqwest client (webhooks, `tad publish`, bench, tests) and
//! the S3 object store speak TLS through rustls on the `ring` provider, and verify servers against
//! the system's roots merged with Mozilla's roots built into the binary, so a client builds (and
//! reaches public hosts) on a machine without a CA bundle too.

use std::sync::Arc;

/// A client that cannot be built: a startup error, never a silent fallback.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTPS client for {purpose}: {source}")]
pub struct HttpsClientError {
    /// What the client is for (`webhooks`, `s3 object store`, ...).
    pub purpose: &'static str,
    #[source]
    pub source: reqwest::Error,
}

/// Installs `ring` as the process's rustls provider unless one is installed already. reqwest is
/// built without a provider of its own (no aws-lc) and panics on a client built before this;
/// [`client_builder`] and the object store call it, and so may anything else (it is cheap).
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // An error means another thread installed a provider first: any installed one will do.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The process's rustls provider (installs `ring` first if none is).
pub fn crypto_provider() -> Option<Arc<rustls::crypto::CryptoProvider>> {
    install_crypto_provider();
    rustls::crypto::CryptoProvider::get_default().cloned()
}

/// The Mozilla roots built into the binary, as DER.
pub fn bundled_roots() -> impl Iterator<Item = &'static [u8]> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|certificate| certificate.as_ref())
}

/// A reqwest client builder on rustls with the roots above; finish it with [`build`].
#[allow(clippy::disallowed_methods)] // the one place that may call reqwest's constructors
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    let roots = bundled_roots()
        // With rustls, `from_der` only wraps the bytes: it cannot fail on these.
        .filter_map(|der| reqwest::Certificate::from_der(der).ok());
    reqwest::Client::builder()
        .tls_backend_rustls()
        .tls_certs_merge(roots)
}

/// Builds `builder` (from [`client_builder`]), naming `purpose` in the error.
pub fn build(
    builder: reqwest::ClientBuilder,
    purpose: &'static str,
) -> Result<reqwest::Client, HttpsClientError> {
    builder
        .build()
        .map_err(|source| HttpsClientError { purpose, source })
}

/// A client with reqwest's defaults otherwise.
pub fn client(purpose: &'static str) -> Result<reqwest::Client, HttpsClientError> {
    build(client_builder(), purpose)
}
