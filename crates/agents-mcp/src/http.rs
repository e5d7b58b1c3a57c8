//! The HTTP client of streamable HTTP servers: HTTP/1.1 over rustls (the process's default
//! crypto provider, else `ring`), with the server's headers on every request.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;

use crate::error::McpError;

fn crypto_provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return installed.clone();
    }
    // The one call of ring's provider: no aws-lc C build in the dependency tree (as in
    // agents-inference); an application installs another with `install_default`.
    #[allow(deprecated)]
    let ring = rustls::crypto::ring::default_provider();
    Arc::new(ring)
}

/// Verifies servers against the platform's certificate store; loaded once per process.
fn platform_tls() -> Result<ClientConfig, String> {
    static CONFIG: OnceLock<Result<ClientConfig, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = crypto_provider();
            let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|error| format!("cannot load the system's CA certificates: {error}"))?;
            Ok(ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|error| error.to_string())?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth())
        })
        .clone()
}

/// Trusts no server: for plain `http` URLs on machines without CA certificates.
fn no_tls() -> Result<ClientConfig, String> {
    Ok(ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

/// A client for the server `server` at `url`, sending `headers`.
pub(crate) fn client(
    server: &str,
    url: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<reqwest::Client, McpError> {
    let invalid = |reason: String| McpError::Http { server: server.to_owned(), reason };
    let tls = match platform_tls() {
        Ok(tls) => tls,
        Err(_) if url.starts_with("http://") => no_tls().map_err(invalid)?,
        Err(reason) => return Err(invalid(reason)),
    };
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid(format!("`{name}` is not a valid HTTP header name")))?;
        // The value may be a secret: never shown.
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            invalid(format!("the value of the header `{name}` is not valid in HTTP"))
        })?;
        value.set_sensitive(true);
        map.insert(header, value);
    }
    reqwest::Client::builder()
        .user_agent(concat!("LiveKit Agents Rust/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeout)
        .default_headers(map)
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|error| invalid(error.to_string()))
}
