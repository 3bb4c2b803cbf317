//! TLS for the service (rustls on ring: no cmake, no OpenSSL): the listener's acceptor and
//! the certificates both it and the key-set client read from PEM files.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;

use super::{config, serve_error};
use crate::failure::Failure;

/// The one crypto provider of every TLS configuration here.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of the PEM file at `path` (at least one); `what` names the setting in
/// errors.
pub(crate) fn certificates(
    path: &Path,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, Failure> {
    use rustls::pki_types::pem::PemObject;
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| serve_error(format!("{what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(serve_error(format!(
            "{what} {} holds no certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// The listener's TLS: the certificate chain and key from the data folder, TLS 1.2 and 1.3
/// (rustls, ring), h2 and HTTP/1.1 by ALPN; with `client_ca`, only clients whose certificate
/// chains to those roots complete the handshake (mutual TLS).
pub(crate) fn acceptor(
    data: &std::path::Path,
    t: &config::Tls,
) -> Result<tokio_rustls::TlsAcceptor, Failure> {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    let (cert, key) = (data.join(&t.cert), data.join(&t.key));
    let certs = certificates(&cert, "tls cert")?;
    let key = PrivateKeyDer::from_pem_file(&key)
        .map_err(|e| serve_error(format!("tls key {}: {e}", key.display())))?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| serve_error(format!("TLS: {e}")))?;
    let builder = match &t.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let ca = data.join(ca);
            let mut roots = rustls::RootCertStore::empty();
            for c in certificates(&ca, "tls client_ca")? {
                roots
                    .add(c)
                    .map_err(|e| serve_error(format!("tls client_ca {}: {e}", ca.display())))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider(),
            )
            .build()
            .map_err(|e| serve_error(format!("tls client_ca {}: {e}", ca.display())))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| serve_error(format!("tls cert and key: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
