//! The HTTP client of the model clients: HTTP/1.1 over rustls, with the TLS configuration
//! of [`agents_core::tls`] (the platform's certificate store); and the URLs as they may be
//! shown (secrets redacted).

use std::time::Duration;

use agents_core::tls;

use crate::ConfigError;

/// The `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("LiveKit Agents Rust/", env!("CARGO_PKG_VERSION"));

/// How long to wait for a TCP (and TLS) connection, as the Python client's httpx settings.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// An HTTP client for a server at `base_url`.
///
/// The system's CA certificates are only required for `https` URLs, so a local server
/// (Ollama, llama.cpp, a test fake) works on a machine without them.
pub(crate) fn client(base_url: &reqwest::Url) -> Result<reqwest::Client, ConfigError> {
    let tls = match tls::platform_config() {
        Ok(tls) => tls,
        Err(_) if base_url.scheme() == "http" => {
            tls::no_roots_config().map_err(|error| http_client_error(error.reason))?
        }
        Err(error) => return Err(http_client_error(error.reason)),
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
/// The URL in the error is [redacted](redact_url_text).
pub(crate) fn base_url(url: &str) -> Result<reqwest::Url, ConfigError> {
    let invalid =
        |reason: String| ConfigError::InvalidBaseUrl { url: redact_url_text(url), reason };
    let parsed =
        reqwest::Url::parse(url.trim_end_matches('/')).map_err(|e| invalid(e.to_string()))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(invalid(format!("the scheme is `{other}`, not `http` or `https`"))),
    }
}

/// `base` (a checked base URL) with `path` appended to its path, e.g. `…/v1` +
/// `chat/completions`; its query, if any, is kept.
pub(crate) fn endpoint(base: &reqwest::Url, path: &str) -> reqwest::Url {
    let mut url = base.clone();
    let joined = format!("{}/{path}", base.path().trim_end_matches('/'));
    url.set_path(&joined);
    url
}

/// What stands in for a secret in a URL.
const REDACTED: &str = "***";

/// `url` as it may be shown in logs, errors and `Debug` output: its user name and password
/// (if any) become `***`, and so do the values of its query, which may carry keys.
pub(crate) fn redact_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() || shown.password().is_some() {
        // Cannot fail for the `http` and `https` URLs a client accepts.
        let _ = shown.set_password(None);
        let _ = shown.set_username(REDACTED);
    }
    if shown.query().is_some() {
        let keys: Vec<String> = shown.query_pairs().map(|(key, _)| key.into_owned()).collect();
        shown.query_pairs_mut().clear().extend_pairs(keys.iter().map(|key| (key, REDACTED)));
    }
    shown.set_fragment(None);
    shown.to_string()
}

/// A URL given as text, redacted as [`redact_url`] does, without parsing it (it may not
/// parse): whatever comes before an `@` in its authority, and whatever follows a `?` or `#`,
/// becomes `***`.
pub(crate) fn redact_url_text(url: &str) -> String {
    let (before, after) = match url.find("://") {
        Some(at) => url.split_at(at + 3),
        None => ("", url),
    };
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => format!("{REDACTED}{}", &authority[at..]),
        None => authority.to_owned(),
    };
    let rest = match rest.find(['?', '#']) {
        Some(at) => format!("{}{}{REDACTED}", &rest[..at], &rest[at..=at]),
        None => rest.to_owned(),
    };
    format!("{before}{authority}{rest}")
}

/// `text` cut to at most `max` bytes at a character boundary, marked with `…` when cut.
pub(crate) fn truncate(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn base_urls() {
        let url = base_url("http://127.0.0.1:8080/v1/").unwrap();
        assert_eq!(
            endpoint(&url, "chat/completions").as_str(),
            "http://127.0.0.1:8080/v1/chat/completions"
        );
        let url = base_url("https://api.openai.com/v1").unwrap();
        assert_eq!(
            endpoint(&url, "chat/completions").as_str(),
            "https://api.openai.com/v1/chat/completions"
        );
        let url = base_url("https://host/openai?api-version=1").unwrap();
        assert_eq!(
            endpoint(&url, "chat/completions").as_str(),
            "https://host/openai/chat/completions?api-version=1"
        );
        assert!(matches!(base_url("api.openai.com/v1"), Err(ConfigError::InvalidBaseUrl { .. })));
        assert!(matches!(base_url("ftp://host/v1"), Err(ConfigError::InvalidBaseUrl { .. })));
    }

    #[test]
    fn urls_are_redacted() {
        let url = base_url("https://user:hunter2@host:8443/v1?key=sk-1&x=2#frag").unwrap();
        assert_eq!(redact_url(&url), "https://***@host:8443/v1?key=***&x=***");
        let url = base_url("https://token@host/v1").unwrap();
        assert_eq!(redact_url(&url), "https://***@host/v1");
        let url = base_url("http://127.0.0.1:1/v1").unwrap();
        assert_eq!(redact_url(&url), "http://127.0.0.1:1/v1");
        assert_eq!(redact_url_text("https://u:p@w@host/v1?k=s"), "https://***@host/v1?***");
        assert_eq!(redact_url_text("u:hunter2@host"), "***@host");
        assert_eq!(redact_url_text("https://host/v1"), "https://host/v1");
        let error = base_url("ftp://u:hunter2@host/v1").unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn user_agent_names_the_crate_version() {
        assert_eq!(USER_AGENT, format!("LiveKit Agents Rust/{}", env!("CARGO_PKG_VERSION")));
    }
}
