//! The local Discord answering as `https://discord.com` through an HTTPS proxy: serenity's own
//! ratelimiter always sends to discord.com, so a client that trusts the test-only certificate
//! authority in `tls/` and tunnels through this proxy (CONNECT) reaches [`Fake`]'s REST API with
//! serenity's ratelimiter on, exactly as in production.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::Arc;

use axum::Router;

use super::fake::{Fake, rest};

impl Fake {
    /// An HTTPS proxy in front of this Discord: a client that trusts [`test_ca`] and sends
    /// `https://discord.com` through it (CONNECT) reaches this server. Returns the proxy's URL.
    pub async fn https_proxy(&self) -> String {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/tls");
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(format!("{dir}/discord.com.pem")).unwrap().map(Result::unwrap).collect();
        let key = PrivateKeyDer::from_pem_file(format!("{dir}/discord.com.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut tcp, _)) = listener.accept().await else { return };
                let (acceptor, fake) = (acceptor.clone(), fake.clone());
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                        if tcp.read_exact(&mut byte).await.is_err() {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    if !head.starts_with("CONNECT discord.com:443 ") {
                        fake.violation(format!("the HTTPS proxy only tunnels to discord.com: {head:?}"));
                        let _ = tcp.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await;
                        return;
                    }
                    if tcp.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await.is_err() {
                        return;
                    }
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let app = Router::new().fallback(rest).with_state(fake);
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        url
    }
}

/// The test-only certificate authority that signed the proxy's `discord.com` certificate.
pub fn test_ca() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/tls/ca.pem")).unwrap()
}
