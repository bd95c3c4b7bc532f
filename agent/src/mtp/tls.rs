//! TLS client settings for the MTPs (TR-369 R-MQTT.48: TLS 1.2 or later), on rustls with the
//! `ring` provider: no aws-lc, and no process-wide provider to install, because every
//! configuration names its provider explicitly.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tracing::warn;

use super::MtpError;

/// What to trust and how to authenticate, in PEM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// CA certificates to trust; `None` trusts the system's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Client certificate chain, for brokers that authenticate clients by certificate.
    pub client_cert_pem: Option<Vec<u8>>,
    /// The client certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub client_key_pem: Option<Vec<u8>>,
}

fn bad(what: &str, e: impl std::fmt::Display) -> MtpError {
    MtpError::Connect(format!("TLS configuration: {what}: {e}"))
}

/// Builds a rustls client configuration from `cfg`.
pub fn client_config(cfg: &TlsConfig) -> Result<Arc<ClientConfig>, MtpError> {
    let mut roots = RootCertStore::empty();
    match &cfg.ca_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| bad("CA certificate", e))?;
                roots.add(cert).map_err(|e| bad("CA certificate", e))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                warn!(error = %e, "could not load some system CA certificates");
            }
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            if ignored > 0 {
                warn!(
                    added,
                    ignored, "some system CA certificates were not usable"
                );
            }
        }
    }
    if roots.is_empty() {
        return Err(bad("trust", "no CA certificate to trust"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("protocol versions", e))?
        .with_root_certificates(roots);
    let config = match (&cfg.client_cert_pem, &cfg.client_key_pem) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad("client certificate", e))?;
            let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| bad("client key", e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| bad("client certificate", e))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(bad("client auth", "certificate and key go together")),
    };
    Ok(Arc::new(config))
}

/// A TLS server identity (certificate chain and key, in PEM) for the WebSocket server.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ServerTlsConfig {
    /// Certificate chain, leaf first.
    pub cert_pem: Vec<u8>,
    /// The leaf certificate's private key.
    pub key_pem: Vec<u8>,
    /// CA certificates a client's certificate must chain to; `None` asks for no client
    /// certificate (TR-369 R-MTP.7: client validation is off unless enabled).
    pub client_ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for ServerTlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("ServerTlsConfig")
            .field("cert_pem_len", &self.cert_pem.len())
            .field("validates_clients", &self.client_ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a rustls server configuration; with `client_ca_pem` every client must present a
/// certificate chaining to one of those CAs (R-MTP.6).
pub fn server_config(cfg: &ServerTlsConfig) -> Result<Arc<ServerConfig>, MtpError> {
    let chain = CertificateDer::pem_slice_iter(&cfg.cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("server certificate", e))?;
    if chain.is_empty() {
        return Err(bad("server certificate", "no certificate in PEM"));
    }
    let key = PrivateKeyDer::from_pem_slice(&cfg.key_pem).map_err(|e| bad("server key", e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("protocol versions", e))?;
    let builder = match &cfg.client_ca_pem {
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| bad("client CA certificate", e))?;
                roots
                    .add(cert)
                    .map_err(|e| bad("client CA certificate", e))?;
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(|e| bad("client CA certificate", e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| bad("server certificate", e))?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_ca_is_a_configuration_error_not_a_panic() {
        let cfg = TlsConfig {
            ca_pem: Some(
                b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_vec(),
            ),
            ..TlsConfig::default()
        };
        assert!(matches!(client_config(&cfg), Err(MtpError::Connect(_))));
        let empty = TlsConfig {
            ca_pem: Some(Vec::new()),
            ..TlsConfig::default()
        };
        assert!(matches!(client_config(&empty), Err(MtpError::Connect(_))));
    }

    #[test]
    fn client_certificate_without_key_is_refused() {
        let cfg = TlsConfig {
            ca_pem: None,
            client_cert_pem: Some(Vec::new()),
            client_key_pem: None,
        };
        assert!(client_config(&cfg).is_err());
    }
}
