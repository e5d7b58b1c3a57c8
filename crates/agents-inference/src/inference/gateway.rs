//! The gateway's WebSocket connections, shared by the STT and TTS clients: where they go, the
//! credentials they carry and the headers of every upgrade request.
//!
//! * base URL: the builder's, else `LIVEKIT_INFERENCE_URL`, else the staging gateway when
//!   `LIVEKIT_URL` is a `.staging.livekit.cloud` URL, else [`DEFAULT_BASE_URL`]; `http` becomes
//!   `ws` and `https` becomes `wss`;
//! * credentials: the builder's, else `LIVEKIT_INFERENCE_API_KEY` / `LIVEKIT_API_KEY` and
//!   `LIVEKIT_INFERENCE_API_SECRET` / `LIVEKIT_API_SECRET`;
//! * every connection carries a freshly minted `Authorization: Bearer <JWT>`, the crate's
//!   `User-Agent`, an `X-LiveKit-Session-ID` of its own, and inside a job the room, job and
//!   agent ids and the worker token (`LIVEKIT_WORKER_TOKEN`) when they are known.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agents_core::ApiError;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::token::TokenMinter;
use super::{DEFAULT_BASE_URL, STAGING_BASE_URL};
use crate::ConfigError;
use crate::http::truncate;

/// The WebSocket read buffer. tungstenite zero-fills the free part of it (up to this size) on
/// every read attempt, and a stream's task attempts one each time it wakes — 100 times a
/// second for an STT stream fed 10 ms frames. Its default of 128 KiB made that zero-filling
/// the largest cost of an STT stream after the resampler (`BENCHMARKS.md`, inference_speech);
/// the gateway's messages are small JSON (transcripts; TTS audio in chunks of a few KiB), so
/// 16 KiB reads most of them whole.
const READ_BUFFER_SIZE: usize = 16 * 1024;

const URL_ENV: &str = "LIVEKIT_INFERENCE_URL";
const LIVEKIT_URL_ENV: &str = "LIVEKIT_URL";
const WORKER_TOKEN_ENV: &str = "LIVEKIT_WORKER_TOKEN";
const API_KEY_ENV: &[&str] = &["LIVEKIT_INFERENCE_API_KEY", "LIVEKIT_API_KEY"];
const API_SECRET_ENV: &[&str] = &["LIVEKIT_INFERENCE_API_SECRET", "LIVEKIT_API_SECRET"];

/// The most of an upgrade refusal's body kept in an error.
const MAX_ERROR_BODY: usize = 512;

/// A byte stream a WebSocket runs over: plain TCP or TLS.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// An open WebSocket to the gateway.
pub(crate) type WebSocket = WebSocketStream<Box<dyn Io>>;

/// The connection settings a builder collects; what is not set is read from the environment by
/// [`resolve`](Self::resolve).
#[derive(Clone, Default)]
pub(crate) struct GatewaySettings {
    pub(crate) base_url: Option<String>,
    pub(crate) api_key: Option<String>,
    pub(crate) api_secret: Option<String>,
    pub(crate) room_id: Option<String>,
    pub(crate) job_id: Option<String>,
    pub(crate) agent_id: Option<String>,
    pub(crate) worker_token: Option<String>,
}

/// The builder methods that set the credentials, named in errors.
pub(crate) struct Setters {
    pub(crate) api_key: &'static str,
    pub(crate) api_secret: &'static str,
}

impl GatewaySettings {
    /// The gateway these settings point at, reading what was not set through `lookup`; mints a
    /// first token to check the credentials.
    pub(crate) fn resolve(
        self,
        lookup: impl Fn(&str) -> Option<String>,
        setters: &Setters,
    ) -> Result<Gateway, ConfigError> {
        let (base_url, minter) =
            resolve(self.base_url, self.api_key, self.api_secret, &lookup, setters)?;
        let base_url = crate::http::base_url(&base_url)?;
        let non_empty = |value: Option<String>| value.filter(|value| !value.is_empty());
        let job = JobHeaders {
            room_id: non_empty(self.room_id),
            job_id: non_empty(self.job_id),
            agent_id: non_empty(self.agent_id),
            worker_token: non_empty(self.worker_token).or_else(|| lookup(WORKER_TOKEN_ENV)),
        };
        for (name, value) in job.pairs() {
            HeaderValue::from_str(value)
                .map_err(|error| ConfigError::InvalidHeader { name, reason: error.to_string() })?;
        }
        Ok(Gateway { inner: Arc::new(Inner { base_url, minter, job }) })
    }
}

/// The gateway's base URL and a token minter, from what was set or else the environment
/// (§2.1, shared by the LLM, STT and TTS clients); mints a first token to check the
/// credentials. A missing credential names the variables to set and the builder's `setters`.
pub(crate) fn resolve(
    base_url: Option<String>,
    api_key: Option<String>,
    api_secret: Option<String>,
    lookup: &impl Fn(&str) -> Option<String>,
    setters: &Setters,
) -> Result<(String, TokenMinter), ConfigError> {
    let first = |names: &[&str]| names.iter().find_map(|name| lookup(name));
    let base_url = match base_url {
        Some(url) => url,
        None => lookup(URL_ENV).unwrap_or_else(|| {
            let staging =
                lookup(LIVEKIT_URL_ENV).is_some_and(|url| url.contains(".staging.livekit.cloud"));
            if staging { STAGING_BASE_URL } else { DEFAULT_BASE_URL }.to_owned()
        }),
    };
    let api_key = api_key.filter(|key| !key.is_empty()).or_else(|| first(API_KEY_ENV));
    let api_key = api_key.ok_or(ConfigError::MissingCredential {
        what: "the LiveKit API key",
        variables: API_KEY_ENV,
        setter: setters.api_key,
    })?;
    let api_secret =
        api_secret.filter(|secret| !secret.is_empty()).or_else(|| first(API_SECRET_ENV));
    let api_secret = api_secret.ok_or(ConfigError::MissingCredential {
        what: "the LiveKit API secret",
        variables: API_SECRET_ENV,
        setter: setters.api_secret,
    })?;
    let minter = TokenMinter::new(api_key, api_secret);
    minter.mint().map_err(|reason| ConfigError::Token { reason })?;
    Ok((base_url, minter))
}

impl fmt::Debug for GatewaySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewaySettings")
            .field("base_url", &self.base_url.as_deref().map(crate::http::redact_url_text))
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("api_secret", &self.api_secret.as_ref().map(|_| "<redacted>"))
            .field("room_id", &self.room_id)
            .field("job_id", &self.job_id)
            .field("agent_id", &self.agent_id)
            .field("worker_token", &self.worker_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The job's identity, sent with every connection made inside a job.
#[derive(Clone, Default)]
struct JobHeaders {
    room_id: Option<String>,
    job_id: Option<String>,
    agent_id: Option<String>,
    worker_token: Option<String>,
}

impl JobHeaders {
    fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("x-livekit-room-id", &self.room_id),
            ("x-livekit-job-id", &self.job_id),
            ("x-livekit-agent-id", &self.agent_id),
            ("x-livekit-worker-token", &self.worker_token),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|value| (name, value)))
    }
}

/// Where the gateway is and how to authenticate to it; cheap to clone.
#[derive(Clone)]
pub(crate) struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    /// The `http`/`https` base URL, without a trailing `/`.
    base_url: reqwest::Url,
    minter: TokenMinter,
    job: JobHeaders,
}

impl fmt::Debug for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gateway")
            .field("base_url", &crate::http::redact_url(&self.inner.base_url))
            .field("minter", &self.inner.minter)
            .field("room_id", &self.inner.job.room_id)
            .field("job_id", &self.inner.job.job_id)
            .field("agent_id", &self.inner.job.agent_id)
            .finish_non_exhaustive()
    }
}

/// Why a connection to the gateway could not be opened.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// No token could be minted.
    Token(String),
    /// TCP, TLS or the WebSocket handshake failed: what failed, and the error that made it
    /// fail (kept as the [`ApiError`]'s `source`).
    Connection(String, Option<Box<dyn std::error::Error + Send + Sync>>),
    /// The gateway refused the upgrade with this HTTP status.
    Status { status: u16, body: String },
    /// The connection was not open within the timeout.
    Timeout(Duration),
}

impl ConnectError {
    /// A connection failure caused by `source`.
    fn caused_by(message: String, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Connection(message, Some(Box::new(source)))
    }
}

impl From<ConnectError> for ApiError {
    fn from(error: ConnectError) -> Self {
        match error {
            ConnectError::Token(reason) => ApiError::configuration(format!(
                "cannot create a LiveKit Inference access token: {reason}"
            )),
            ConnectError::Connection(message, None) => ApiError::connection(message),
            ConnectError::Connection(message, Some(source)) => {
                ApiError::connection(message).with_source(source)
            }
            ConnectError::Status { status, body } => ApiError::status(status, body),
            ConnectError::Timeout(after) => ApiError::timeout(after),
        }
    }
}

impl Gateway {
    /// The `http`/`https` base URL.
    pub(crate) fn base_url(&self) -> &str {
        self.inner.base_url.as_str()
    }

    /// The WebSocket URL of `path` (e.g. `stt`) for `model`: `{ws base}/{path}?model=…`.
    pub(crate) fn ws_url(&self, path: &str, model: Option<&str>) -> String {
        let mut url = self.inner.base_url.clone();
        url.set_path(&format!("{}/{path}", url.path().trim_end_matches('/')));
        url.set_query(None);
        if let Some(model) = model {
            url.query_pairs_mut().append_pair("model", model);
        }
        let url = url.to_string();
        // `http` → `ws`, `https` → `wss`: the scheme was checked to be one of the two.
        url.replacen("http", "ws", 1)
    }

    /// Opens a WebSocket to `path` for `model` with fresh credentials, within `timeout`.
    pub(crate) async fn connect(
        &self,
        path: &str,
        model: Option<&str>,
        timeout: Duration,
    ) -> Result<WebSocket, ConnectError> {
        let url = self.ws_url(path, model);
        match tokio::time::timeout(timeout, self.open(&url)).await {
            Ok(result) => result,
            Err(_) => Err(ConnectError::Timeout(timeout)),
        }
    }

    async fn open(&self, url: &str) -> Result<WebSocket, ConnectError> {
        let shown = redact_url(url);
        let request = self.request(url)?;
        let base = &self.inner.base_url;
        let port = base.port_or_known_default().unwrap_or(80);
        // An IP address is connected to (and verified) as an address: `host_str()` gives an
        // IPv6 address in brackets, which neither a socket address nor a server name takes.
        let Some(name) = base.host_str() else {
            return Err(ConnectError::Connection(format!("the URL {shown} has no host"), None));
        };
        let host = match name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Domain(name.to_owned()),
        };
        let tcp = match &host {
            Host::Domain(domain) => TcpStream::connect((domain.as_str(), port)).await,
            Host::Ip(ip) => TcpStream::connect((*ip, port)).await,
        }
        .map_err(|error| ConnectError::caused_by(format!("cannot reach {shown}"), error))?;
        // Small JSON messages go out at once.
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Io> = if base.scheme() == "https" {
            let config = agents_core::tls::platform_config()
                .map_err(|error| ConnectError::Connection(error.reason, None))?;
            let name = match host {
                Host::Ip(ip) => rustls::pki_types::ServerName::from(ip),
                Host::Domain(domain) => rustls::pki_types::ServerName::try_from(domain.clone())
                    .map_err(|error| {
                        ConnectError::caused_by(
                            format!("invalid TLS server name `{domain}`"),
                            error,
                        )
                    })?,
            };
            let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await
                .map_err(|error| {
                ConnectError::caused_by(format!("TLS with {shown} failed"), error)
            })?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_SIZE);
        match tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await {
            Ok((socket, _response)) => Ok(socket),
            Err(tungstenite::Error::Http(response)) => {
                let body = response.body().as_deref().map(String::from_utf8_lossy);
                let body = body.map(|body| body.into_owned()).unwrap_or_default();
                let body = truncate(body, MAX_ERROR_BODY);
                Err(ConnectError::Status { status: response.status().as_u16(), body })
            }
            Err(error) => Err(ConnectError::caused_by(
                format!("the WebSocket handshake with {shown} failed"),
                error,
            )),
        }
    }

    /// The upgrade request: the URL and every header of §2.1.
    fn request(&self, url: &str) -> Result<tungstenite::handshake::client::Request, ConnectError> {
        let mut request = url.into_client_request().map_err(|error| {
            ConnectError::caused_by(format!("invalid URL {}", redact_url(url)), error)
        })?;
        let token = self.inner.minter.mint().map_err(ConnectError::Token)?;
        let header = |value: &str| {
            HeaderValue::from_str(value)
                .map_err(|_| ConnectError::Token("the token is not a valid header value".into()))
        };
        let headers = request.headers_mut();
        headers.insert("authorization", header(&format!("Bearer {token}"))?);
        headers.insert("user-agent", HeaderValue::from_static(crate::http::USER_AGENT));
        headers.insert("x-livekit-session-id", header(&short_id("inference_"))?);
        for (name, value) in self.inner.job.pairs() {
            // Checked when the gateway was resolved.
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        Ok(request)
    }
}

/// A WebSocket URL as it may be shown: redacted as [`crate::http::redact_url`] does (user
/// info and query values hidden).
fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => crate::http::redact_url(&parsed),
        Err(_) => crate::http::redact_url_text(url),
    }
}

/// Where a connection goes: a name to resolve, or an address.
enum Host {
    Domain(String),
    Ip(IpAddr),
}

/// A process-unique id with `prefix`: time and a counter, in base 36.
pub(crate) fn short_id(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut value = (u64::from(nanos) << 20) ^ count.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut digits = Vec::with_capacity(13);
    while value > 0 || digits.is_empty() {
        let digit = (value % 36) as u8;
        digits.push(if digit < 10 { b'0' + digit } else { b'a' + digit - 10 });
        value /= 36;
    }
    digits.reverse();
    format!("{prefix}{}", String::from_utf8_lossy(&digits))
}

/// The builder methods of the gateway's settings, shared by the STT and TTS builders.
macro_rules! gateway_setters {
    () => {
        /// Connects to `base_url` (`http(s)://…/v1`) instead of the gateway found from the
        /// environment.
        pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
            self.gateway.base_url = Some(base_url.into());
            self
        }

        /// The LiveKit API key (instead of `LIVEKIT_INFERENCE_API_KEY` / `LIVEKIT_API_KEY`).
        pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
            self.gateway.api_key = Some(api_key.into());
            self
        }

        /// The LiveKit API secret (instead of `LIVEKIT_INFERENCE_API_SECRET` /
        /// `LIVEKIT_API_SECRET`). It is never logged nor shown in `Debug` output.
        pub fn api_secret(mut self, api_secret: impl Into<String>) -> Self {
            self.gateway.api_secret = Some(api_secret.into());
            self
        }

        /// The room's id, sent as `X-LiveKit-Room-ID` (inside a job).
        pub fn room_id(mut self, room_id: impl Into<String>) -> Self {
            self.gateway.room_id = Some(room_id.into());
            self
        }

        /// The job's id, sent as `X-LiveKit-Job-ID` (inside a job).
        pub fn job_id(mut self, job_id: impl Into<String>) -> Self {
            self.gateway.job_id = Some(job_id.into());
            self
        }

        /// The agent's participant id, sent as `X-LiveKit-Agent-ID` (inside a job).
        pub fn agent_id(mut self, agent_id: impl Into<String>) -> Self {
            self.gateway.agent_id = Some(agent_id.into());
            self
        }

        /// The worker's token, sent as `X-LiveKit-Worker-Token` (instead of
        /// `LIVEKIT_WORKER_TOKEN`). It is never logged nor shown in `Debug` output.
        pub fn worker_token(mut self, worker_token: impl Into<String>) -> Self {
            self.gateway.worker_token = Some(worker_token.into());
            self
        }
    };
}
pub(crate) use gateway_setters;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashMap;

    use super::*;

    const SETTERS: Setters =
        Setters { api_key: "Builder::api_key", api_secret: "Builder::api_secret" };

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| vars.get(name).cloned()
    }

    fn settings() -> GatewaySettings {
        GatewaySettings {
            api_key: Some("key".into()),
            api_secret: Some("hush-secret".into()),
            ..GatewaySettings::default()
        }
    }

    #[test]
    fn http_becomes_ws_and_the_model_is_url_encoded() {
        let gateway = settings().resolve(lookup(&[]), &SETTERS).unwrap();
        assert_eq!(
            gateway.ws_url("stt", Some("deepgram/nova-3")),
            "wss://agent-gateway.livekit.cloud/v1/stt?model=deepgram%2Fnova-3"
        );
        let gateway =
            GatewaySettings { base_url: Some("http://127.0.0.1:9/v1/".into()), ..settings() }
                .resolve(lookup(&[]), &SETTERS)
                .unwrap();
        assert_eq!(
            gateway.ws_url("tts", Some("cartesia/sonic-3")),
            "ws://127.0.0.1:9/v1/tts?model=cartesia%2Fsonic-3"
        );
        assert_eq!(gateway.ws_url("stt", None), "ws://127.0.0.1:9/v1/stt");
        let gateway = settings()
            .resolve(lookup(&[("LIVEKIT_URL", "wss://p.staging.livekit.cloud")]), &SETTERS)
            .unwrap();
        assert_eq!(gateway.base_url(), "https://agent-gateway.staging.livekit.cloud/v1");
    }

    #[test]
    fn missing_credentials_name_the_variables_and_the_setter() {
        let error = GatewaySettings::default().resolve(lookup(&[]), &SETTERS).unwrap_err();
        assert!(error.to_string().contains("LIVEKIT_INFERENCE_API_KEY or LIVEKIT_API_KEY"));
        assert!(error.to_string().contains("Builder::api_key"));
        let error = GatewaySettings::default()
            .resolve(lookup(&[("LIVEKIT_API_KEY", "k")]), &SETTERS)
            .unwrap_err();
        assert!(error.to_string().contains("LIVEKIT_INFERENCE_API_SECRET or LIVEKIT_API_SECRET"));
        assert!(
            GatewaySettings::default()
                .resolve(lookup(&[("LIVEKIT_API_KEY", "k"), ("LIVEKIT_API_SECRET", "s")]), &SETTERS)
                .is_ok()
        );
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let settings = GatewaySettings {
            worker_token: Some("worker-hush".into()),
            base_url: Some("https://user:url-hush@gw.example/v1".into()),
            ..settings()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hush"), "{shown}");
        let gateway = settings.resolve(lookup(&[]), &SETTERS).unwrap();
        let shown = format!("{gateway:?}");
        assert!(!shown.contains("hush"), "{shown}");
    }

    #[test]
    fn the_upgrade_request_carries_the_headers() {
        let gateway = GatewaySettings {
            room_id: Some("RM_1".into()),
            job_id: Some("AJ_1".into()),
            ..settings()
        }
        .resolve(lookup(&[("LIVEKIT_WORKER_TOKEN", "wt")]), &SETTERS)
        .unwrap();
        let request = gateway.request(&gateway.ws_url("tts", Some("m"))).unwrap();
        let headers = request.headers();
        assert!(headers["authorization"].to_str().unwrap().starts_with("Bearer ey"));
        assert_eq!(headers["user-agent"], crate::http::USER_AGENT);
        assert!(headers["x-livekit-session-id"].to_str().unwrap().starts_with("inference_"));
        assert_eq!(headers["x-livekit-room-id"], "RM_1");
        assert_eq!(headers["x-livekit-job-id"], "AJ_1");
        assert_eq!(headers["x-livekit-worker-token"], "wt");
        assert!(headers.get("x-livekit-agent-id").is_none());
        // A fresh session id per connection.
        let again = gateway.request(&gateway.ws_url("tts", Some("m"))).unwrap();
        assert_ne!(again.headers()["x-livekit-session-id"], headers["x-livekit-session-id"]);
    }

    #[test]
    fn a_bad_header_value_is_a_config_error() {
        let error = GatewaySettings { room_id: Some("a\nb".into()), ..settings() }
            .resolve(lookup(&[]), &SETTERS)
            .unwrap_err();
        assert!(matches!(error, ConfigError::InvalidHeader { name: "x-livekit-room-id", .. }));
    }
}
