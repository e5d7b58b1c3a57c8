//! The HTTP client of the model clients: HTTP/1.1 over rustls with the `ring` provider,
//! verifying servers against the platform's certificate store.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::ClientConfig;

use crate::ConfigError;

/// The `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("LiveKit Agents Rust/", env!("CARGO_PKG_VERSION"));

/// How long to wait for a TCP (and TLS) connection, as the Python client's httpx settings.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The TLS configuration, loaded once per process (the platform's roots are read from disk).
pub(crate) fn platform_tls() -> Result<ClientConfig, String> {
    static CONFIG: OnceLock<Result<ClientConfig, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
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

/// A TLS configuration that trusts no server, for clients that only speak plain HTTP.
pub(crate) fn no_tls() -> Result<ClientConfig, String> {
    Ok(ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

/// An HTTP client for a server at `base_url`.
///
/// The system's CA certificates are only required for `https` URLs, so a local server
/// (Ollama, llama.cpp, a test fake) works on a machine without them.
pub(crate) fn client(base_url: &reqwest::Url) -> Result<reqwest::Client, ConfigError> {
    let tls = match platform_tls() {
        Ok(tls) => tls,
        Err(_) if base_url.scheme() == "http" => no_tls().map_err(http_client_error)?,
        Err(reason) => return Err(http_client_error(reason)),
    };
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|error| http_client_error(error_chain(&error)))
}

fn http_client_error(reason: String) -> ConfigError {
    ConfigError::HttpClient { reason }
}

/// An error and its sources, joined with `: ` (reqwest's own message is terse).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Parses and checks a base URL: absolute, `http` or `https`; a trailing `/` is dropped.
pub(crate) fn base_url(url: &str) -> Result<reqwest::Url, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidBaseUrl { url: url.to_owned(), reason };
    let parsed =
        reqwest::Url::parse(url.trim_end_matches('/')).map_err(|e| invalid(e.to_string()))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(invalid(format!("the scheme is `{other}`, not `http` or `https`"))),
    }
}

/// `base` (a checked base URL) with `path` appended, e.g. `…/v1` + `chat/completions`.
pub(crate) fn endpoint(base: &reqwest::Url, path: &str) -> String {
    format!("{}/{path}", base.as_str().trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn base_urls() {
        let url = base_url("http://127.0.0.1:8080/v1/").unwrap();
        assert_eq!(endpoint(&url, "chat/completions"), "http://127.0.0.1:8080/v1/chat/completions");
        let url = base_url("https://api.openai.com/v1").unwrap();
        assert_eq!(
            endpoint(&url, "chat/completions"),
            "https://api.openai.com/v1/chat/completions"
        );
        assert!(matches!(base_url("api.openai.com/v1"), Err(ConfigError::InvalidBaseUrl { .. })));
        assert!(matches!(base_url("ftp://host/v1"), Err(ConfigError::InvalidBaseUrl { .. })));
    }

    #[test]
    fn user_agent_names_the_crate_version() {
        assert_eq!(USER_AGENT, format!("LiveKit Agents Rust/{}", env!("CARGO_PKG_VERSION")));
    }
}
