//! The control connection: `{LIVEKIT_URL}/agent` as a WebSocket, with a fresh worker token
//! for each attempt (Python's `_connection_task`).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use livekit_api::access_token::{AccessToken, VideoGrants};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest as _, http};

use super::error::WorkerError;
use super::options::redact;

/// A byte stream: TCP, or TLS over TCP.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The control WebSocket.
pub(crate) type Socket = WebSocketStream<Box<dyn Io>>;

/// The largest message the worker takes from the server (as Python's aiohttp client, 4 MiB):
/// its messages are jobs and their metadata, far smaller; a larger one fails the connection
/// (which is retried) instead of being buffered.
pub(crate) const MAX_SERVER_MESSAGE: usize = 4 << 20;

/// How long one connection attempt (TCP, TLS, upgrade) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the worker connects: the `/agent` URL, and the same without its query, to show.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct AgentUrl {
    url: String,
    shown: String,
    tls: bool,
    host: String,
    port: u16,
}

/// Shows the URL without its query: it holds the worker token.
impl std::fmt::Debug for AgentUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentUrl").field("url", &self.shown).field("tls", &self.tls).finish()
    }
}

impl AgentUrl {
    /// `{url}/agent`, `http` → `ws`, `https` → `wss`, with `worker_token` in the query when
    /// given.
    pub(crate) fn new(url: &str, worker_token: Option<&str>) -> Result<Self, WorkerError> {
        let shown_input = redact(url);
        let invalid = |reason: &str| WorkerError::InvalidUrl {
            url: shown_input.clone(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) =
            url.trim().split_once("://").ok_or_else(|| invalid("it has no scheme"))?;
        let (scheme, tls) = match scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => ("ws", false),
            "https" | "wss" => ("wss", true),
            _ => return Err(invalid("the scheme must be http, https, ws or wss")),
        };
        let rest = rest.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/');
        if rest.contains('@') {
            return Err(invalid(
                "it must not hold credentials: use LIVEKIT_API_KEY and LIVEKIT_API_SECRET",
            ));
        }
        let base = format!("{scheme}://{rest}/agent");
        let uri: http::Uri = base.parse().map_err(|error| invalid(&format!("{error}")))?;
        let host =
            uri.host().filter(|host| !host.is_empty()).ok_or_else(|| invalid("it has no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let url = match worker_token {
            Some(token) => format!("{base}?worker_token={}", percent_encode(token)),
            None => base.clone(),
        };
        Ok(Self { url, shown: base, tls, host, port })
    }

    /// The URL without its query (no worker token), for logs and errors.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttemptError {
    /// The server refused the credentials (401/403): retrying does not help.
    Unauthorized(u16),
    /// Anything else: retried.
    Failed(String),
}

/// A worker token: `video.agent`, signed with the API secret, valid 6 h.
pub(crate) fn worker_token(api_key: &str, api_secret: &str) -> Result<String, WorkerError> {
    AccessToken::with_api_key(api_key, api_secret)
        .with_grants(VideoGrants { agent: true, ..VideoGrants::default() })
        .to_jwt()
        .map_err(|error| WorkerError::Token(error.to_string()))
}

/// A room token for the agent (Python's `connect`): `identity`, kind `agent`, allowed to
/// join `room` as an agent.
pub(crate) fn room_token(
    api_key: &str,
    api_secret: &str,
    room: &str,
    identity: &str,
) -> Result<String, WorkerError> {
    AccessToken::with_api_key(api_key, api_secret)
        .with_identity(identity)
        .with_kind("agent")
        .with_grants(VideoGrants {
            room_join: true,
            room: room.to_owned(),
            agent: true,
            ..VideoGrants::default()
        })
        .to_jwt()
        .map_err(|error| WorkerError::Token(error.to_string()))
}

/// Opens the control WebSocket with `token`.
pub(crate) async fn connect(url: &AgentUrl, token: &str) -> Result<Socket, AttemptError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, open(url, token)).await {
        Ok(result) => result,
        Err(_) => Err(AttemptError::Failed(format!("no connection within {CONNECT_TIMEOUT:?}"))),
    }
}

async fn open(url: &AgentUrl, token: &str) -> Result<Socket, AttemptError> {
    let mut request = url
        .url
        .as_str()
        .into_client_request()
        .map_err(|error| AttemptError::Failed(format!("invalid URL: {error}")))?;
    let value = http::HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| AttemptError::Failed("the token is not a valid header value".into()))?;
    request.headers_mut().insert("authorization", value);
    let tcp = TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(|error| AttemptError::Failed(format!("cannot reach {}: {error}", url.shown)))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if url.tls {
        let config = tls_config().map_err(AttemptError::Failed)?;
        let name = rustls::pki_types::ServerName::try_from(url.host.clone()).map_err(|error| {
            AttemptError::Failed(format!("invalid TLS server name `{}`: {error}", url.host))
        })?;
        let tls =
            tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.map_err(|error| {
                AttemptError::Failed(format!("TLS with {} failed: {error}", url.shown))
            })?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_SERVER_MESSAGE))
        .max_frame_size(Some(MAX_SERVER_MESSAGE));
    match tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            if status == 401 || status == 403 {
                Err(AttemptError::Unauthorized(status))
            } else {
                Err(AttemptError::Failed(format!(
                    "the server answered the upgrade with HTTP {status}"
                )))
            }
        }
        Err(error) => Err(AttemptError::Failed(format!("the WebSocket handshake failed: {error}"))),
    }
}

/// The shared TLS configuration (the platform's certificates), once per process.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| crate::tls::platform_config().map(Arc::new).map_err(|error| error.reason))
        .clone()
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_agent_url_follows_python() {
        let url = AgentUrl::new("https://my.livekit.cloud/", None).unwrap();
        assert_eq!(
            (url.url.as_str(), url.tls, url.port),
            ("wss://my.livekit.cloud/agent", true, 443)
        );
        let url = AgentUrl::new("http://127.0.0.1:7880/base", Some("a b")).unwrap();
        assert_eq!(url.url, "ws://127.0.0.1:7880/base/agent?worker_token=a%20b");
        assert_eq!(url.shown(), "ws://127.0.0.1:7880/base/agent", "no token shown");
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 7880));
        let error = AgentUrl::new("ftp://x", None).unwrap_err().to_string();
        assert!(error.contains("LIVEKIT_URL"), "{error}");
        let url = AgentUrl::new("http://127.0.0.1:7880", Some("secret-token")).unwrap();
        assert!(!format!("{url:?}").contains("secret-token"), "{url:?}");
        let error = AgentUrl::new("wss://user:pw@host", None).unwrap_err().to_string();
        assert!(!error.contains("pw"), "{error}");
    }
}
