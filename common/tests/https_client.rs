//! The HTTPS client of every TAD process, without network: it builds (rustls on the `ring`
//! provider, no OpenSSL, no system CA bundle needed), and its TLS handshake is made by rustls.

use std::error::Error as _;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The rustls error somewhere in `error`'s chain (io errors hide theirs behind `get_ref`).
fn rustls_error_in(error: &(dyn std::error::Error + 'static)) -> Option<rustls::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<rustls::Error>() {
            return Some(found.clone());
        }
        current = match error.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    None
}

#[test]
fn the_client_builds_with_rustls_on_ring() {
    let builder = common::https::client_builder().timeout(std::time::Duration::from_secs(5));
    common::https::build(builder, "test").expect("the client builds");
    let provider = common::https::crypto_provider().expect("a provider is installed");
    let ring = rustls::crypto::ring::default_provider();
    assert_eq!(
        format!("{:?}", provider.cipher_suites),
        format!("{:?}", ring.cipher_suites),
        "the process's rustls provider is ring"
    );
    assert!(
        common::https::bundled_roots().count() > 100,
        "the Mozilla roots are built in"
    );
}

#[tokio::test]
async fn the_handshake_is_made_by_rustls() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    // A server that reads the client's first record and answers in plain HTTP.
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut header = [0_u8; 5];
        socket.read_exact(&mut header).await.expect("read");
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await;
        header
    });
    let client = common::https::client("test").expect("the client builds");
    let error = client
        .get(format!("https://{address}/"))
        .send()
        .await
        .expect_err("a plain-HTTP answer is no TLS handshake");
    let header = server.await.expect("server task");
    assert_eq!(
        header[0], 0x16,
        "the client opened with a TLS handshake record"
    );
    let found = rustls_error_in(&error);
    assert!(
        found.is_some(),
        "the TLS error comes from rustls: {error:?} (source {:?})",
        error.source()
    );
}
