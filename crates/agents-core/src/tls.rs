//! The TLS client configuration every LiveKit connection of this project uses: rustls with
//! the process's default crypto provider (else *ring*), verifying servers against the
//! platform's certificate store. One home for the worker's WebSocket, the model clients
//! (agents-inference) and the MCP client (agents-mcp).
//!
//! ```
//! let config = agents_core::tls::platform_config();
//! // Without CA certificates on the machine it is an error saying so; plain HTTP still works:
//! let plain = agents_core::tls::no_roots_config()?;
//! # let _ = config;
//! # let _ = plain;
//! # Ok::<(), agents_core::tls::TlsError>(())
//! ```

use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;

/// A TLS client configuration could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
#[non_exhaustive]
pub struct TlsError {
    /// What went wrong, e.g. that the system's CA certificates cannot be loaded (install the
    /// `ca-certificates` package).
    pub reason: String,
}

impl TlsError {
    fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into() }
    }
}

/// The crypto provider of the TLS connections: the process default when the application
/// installed one (e.g. aws-lc-rs, for post-quantum key exchange), else *ring*.
///
/// rustls 0.23.48 deprecates `ring::default_provider` (ring has no post-quantum key
/// exchange) without a replacement that builds ring's provider: its parts (the signature
/// algorithm table, the random source) are private. This is the one place that calls it, so
/// that the dependency tree keeps no aws-lc C build; an application that wants post-quantum
/// key exchange installs its provider with `CryptoProvider::install_default`, and it is used.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return installed.clone();
    }
    #[allow(deprecated)]
    let ring = rustls::crypto::ring::default_provider();
    Arc::new(ring)
}

/// The configuration that verifies servers against the platform's certificate store; built
/// once per process (the platform's roots are read from disk), then cloned.
pub fn platform_config() -> Result<ClientConfig, TlsError> {
    static CONFIG: OnceLock<Result<ClientConfig, TlsError>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = crypto_provider();
            let verifier =
                rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|error| {
                    TlsError::new(format!("cannot load the system's CA certificates: {error}"))
                })?;
            Ok(ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|error| TlsError::new(error.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth())
        })
        .clone()
}

/// A configuration that trusts no server, for clients that only speak plain HTTP on a
/// machine without CA certificates (a local model server, a test fake).
pub fn no_roots_config() -> Result<ClientConfig, TlsError> {
    Ok(ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::new(error.to_string()))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_platform_configuration_is_built_once_and_the_same_each_time() {
        let (first, second) = (platform_config(), platform_config());
        match (first, second) {
            (Ok(first), Ok(second)) => {
                assert_eq!(first.alpn_protocols, second.alpn_protocols);
                assert!(Arc::ptr_eq(&first.crypto_provider().clone(), second.crypto_provider()));
            }
            (Err(first), Err(second)) => assert_eq!(first, second),
            (first, second) => panic!("{first:?} then {second:?}"),
        }
    }

    #[test]
    fn a_configuration_without_roots_builds_on_any_machine() {
        let config = no_roots_config().unwrap();
        assert!(config.alpn_protocols.is_empty());
    }
}
