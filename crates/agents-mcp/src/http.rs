//! The HTTP client of streamable HTTP servers: HTTP/1.1 over rustls with the TLS
//! configuration of [`agents_core::tls`], with the server's headers on every request.

use std::time::Duration;

use agents_core::tls;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::McpError;

/// A client for the server `server` at `url`, sending `headers`.
pub(crate) fn client(
    server: &str,
    url: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<reqwest::Client, McpError> {
    let invalid = |reason: String| McpError::Http { server: server.to_owned(), reason };
    let tls = match tls::platform_config() {
        Ok(tls) => tls,
        Err(_) if url.starts_with("http://") => {
            tls::no_roots_config().map_err(|error| invalid(error.reason))?
        }
        Err(error) => return Err(invalid(error.reason)),
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
