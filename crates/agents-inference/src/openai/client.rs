//! The OpenAI-compatible streaming chat client and its builder.

use std::fmt;
use std::sync::Arc;

use agents_core::llm::{
    ApiConnectOptions, ChatContext, ChatOptions, FunctionTool, LlmError, LlmStream, with_retries,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::request::{RequestParts, request_body};
use super::transport::{self, Auth, Endpoint, TokenSource};
use crate::{ConfigError, http};

/// The default base URL: OpenAI's API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The environment variable [`Llm::new`] reads the API key from.
pub const API_KEY_ENV: &str = "OPENAI_API_KEY";

/// The environment variable [`Llm::new`] reads the base URL from, if set.
pub const BASE_URL_ENV: &str = "OPENAI_BASE_URL";

/// A streaming client of an OpenAI-compatible Chat Completions API: OpenAI itself, or a local
/// server such as Ollama or llama.cpp (Python's `openai.LLM`).
///
/// It implements [`agents_core::llm::Llm`]: each [`chat`](agents_core::llm::Llm::chat) sends
/// `POST {base_url}/chat/completions` with `stream: true` and yields the answer's text, tool
/// calls and token usage as they arrive. Failed attempts are retried as the request's
/// [`ApiConnectOptions`] say, but only until something has been yielded. Streams must be
/// polled inside a Tokio runtime.
///
/// Cloning is cheap; clones share the connection pool.
///
/// ```no_run
/// use agents_core::llm::{ChatChunk, ChatContext, ChatOptions, ChatRole, Llm as _};
/// use agents_inference::openai;
/// use futures::StreamExt;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// // OPENAI_API_KEY (and optionally OPENAI_BASE_URL) from the environment:
/// let llm = openai::Llm::new("gpt-4.1-mini")?;
/// // or a local server, without a key:
/// let local = openai::Llm::builder("llama3.2").base_url("http://localhost:11434/v1").build()?;
///
/// let mut ctx = ChatContext::new();
/// ctx.add_message(ChatRole::User, "Say hi.");
/// let mut stream = llm.chat(&ctx, &[], &ChatOptions::default());
/// while let Some(chunk) = stream.next().await {
///     if let ChatChunk::Text(text) = chunk? {
///         print!("{text}");
///     }
/// }
/// # drop(local);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Llm {
    inner: Arc<Inner>,
}

struct Inner {
    model: String,
    provider: &'static str,
    base_url: String,
    endpoint: Arc<Endpoint>,
    extra_body: Map<String, Value>,
    strict_tools: bool,
    conn_options: Option<ApiConnectOptions>,
}

impl Llm {
    /// A client of OpenAI's API for `model`, configured from the environment:
    /// `OPENAI_API_KEY` (required) and `OPENAI_BASE_URL` (default
    /// `https://api.openai.com/v1`).
    ///
    /// Fails with [`ConfigError::MissingCredential`] when `OPENAI_API_KEY` is not set.
    pub fn new(model: impl Into<String>) -> Result<Self, ConfigError> {
        LlmBuilder::from_env(model)?.build()
    }

    /// A builder for `model` that reads nothing from the environment: OpenAI's base URL and no
    /// API key until you set them.
    pub fn builder(model: impl Into<String>) -> LlmBuilder {
        LlmBuilder::new(model)
    }

    /// The base URL requests go to, e.g. `https://api.openai.com/v1`, as it may be shown: a
    /// user name and password in it, and the values of its query, read `***`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The connection options of a request made with `options`: the request's when it sets
    /// them, else the builder's [`conn_options`](LlmBuilder::conn_options), else the defaults.
    fn conn_options(&self, options: &ChatOptions) -> ApiConnectOptions {
        options.conn_options.or(self.inner.conn_options).unwrap_or_default()
    }
}

impl agents_core::llm::Llm for Llm {
    fn model(&self) -> &str {
        &self.inner.model
    }

    fn provider(&self) -> &str {
        self.inner.provider
    }

    fn chat(
        &self,
        chat_ctx: &ChatContext,
        tools: &[FunctionTool],
        options: &ChatOptions,
    ) -> LlmStream {
        let parts = RequestParts {
            model: &self.inner.model,
            strict_tools: self.inner.strict_tools,
            extra_body: &self.inner.extra_body,
        };
        let body = request_body(&parts, chat_ctx, tools, options);
        let body = match serde_json::to_vec(&body) {
            Ok(body) => body,
            Err(error) => {
                return LlmStream::failed(
                    LlmError::bad_response("cannot encode the request").with_source(error),
                );
            }
        };
        let endpoint = self.inner.endpoint.clone();
        let conn = self.conn_options(options);
        with_retries(conn, move || transport::start(endpoint.clone(), body.clone(), conn.timeout))
    }
}

impl fmt::Debug for Llm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Llm")
            .field("model", &self.inner.model)
            .field("provider", &self.inner.provider)
            .field("base_url", &self.inner.base_url)
            .field("strict_tools", &self.inner.strict_tools)
            .finish_non_exhaustive()
    }
}

/// Options of an [`Llm`]: base URL, API key, extra body options, strict tools, retries.
///
/// ```no_run
/// use std::time::Duration;
/// use agents_core::llm::ApiConnectOptions;
/// use agents_inference::openai;
///
/// let llm = openai::LlmBuilder::from_env("gpt-4.1-mini")?
///     .body_option("temperature", 0.2)
///     .body_option("max_completion_tokens", 512)
///     .conn_options(ApiConnectOptions::new(1, Duration::from_millis(500), Duration::from_secs(20)))
///     .build()?;
/// # Ok::<(), agents_inference::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct LlmBuilder {
    model: String,
    base_url: Option<String>,
    api_key: Option<String>,
    extra_body: Map<String, Value>,
    strict_tools: bool,
    conn_options: Option<ApiConnectOptions>,
    provider: &'static str,
    token_source: Option<TokenSource>,
    headers: Vec<(&'static str, String)>,
}

impl LlmBuilder {
    /// A builder for `model` that reads nothing from the environment: base URL
    /// `https://api.openai.com/v1`, no API key, strict tools.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            base_url: None,
            api_key: None,
            extra_body: Map::new(),
            strict_tools: true,
            conn_options: None,
            provider: "openai",
            token_source: None,
            headers: Vec::new(),
        }
    }

    /// A builder for `model` with the API key from `OPENAI_API_KEY` (required) and the base
    /// URL from `OPENAI_BASE_URL` (if set).
    pub fn from_env(model: impl Into<String>) -> Result<Self, ConfigError> {
        Self::from_lookup(model, crate::env::var)
    }

    /// [`from_env`](Self::from_env) with the environment read through `lookup`.
    pub(crate) fn from_lookup(
        model: impl Into<String>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let api_key = lookup(API_KEY_ENV).ok_or(ConfigError::MissingCredential {
            what: "the OpenAI API key",
            variables: &[API_KEY_ENV],
            setter: "openai::LlmBuilder::api_key",
        })?;
        let mut builder = Self::new(model).api_key(api_key);
        if let Some(base_url) = lookup(BASE_URL_ENV) {
            builder = builder.base_url(base_url);
        }
        Ok(builder)
    }

    /// Sends requests to `base_url` (e.g. `http://localhost:11434/v1`) instead of OpenAI's.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Sends `Authorization: Bearer <api_key>`. Without a key no `Authorization` header is
    /// sent, which local servers accept.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// Adds top-level keys to every request body (`temperature`, `max_completion_tokens`,
    /// `reasoning_effort`, …), replacing extra keys of the same name set before.
    ///
    /// They cannot replace a key the client sets itself (`model`, `messages`, `tools`,
    /// `stream`, `stream_options`, and `tool_choice` or `parallel_tool_calls` when the
    /// request's [`ChatOptions`] set them); `tool_choice` and `parallel_tool_calls` are only
    /// sent with tools.
    pub fn extra_body(mut self, options: Map<String, Value>) -> Self {
        self.extra_body.extend(options);
        self
    }

    /// Adds one top-level key to every request body; see [`extra_body`](Self::extra_body).
    pub fn body_option(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra_body.insert(key.into(), value.into());
        self
    }

    /// Whether tools are sent in their strict form (`"strict": true`, every property
    /// required, no additional properties); on by default, as in the Python plugin. Tools that
    /// have no strict form are sent non-strict either way.
    pub fn strict_tools(mut self, strict: bool) -> Self {
        self.strict_tools = strict;
        self
    }

    /// Retries and timeouts of requests whose [`ChatOptions::conn_options`] are `None` (a
    /// session passes its own when it has some). Without either, the defaults apply. Their
    /// [`reply_timeout`](ApiConnectOptions::reply_timeout) bounds a whole reply, retries
    /// included (two minutes by default); a `Retry-After` longer than the retries left allow
    /// fails the request at once (see [`with_retries`]).
    pub fn conn_options(mut self, conn_options: ApiConnectOptions) -> Self {
        self.conn_options = Some(conn_options);
        self
    }

    /// Mints the bearer token of each request with `source` (instead of an API key).
    pub(crate) fn token_source(mut self, source: TokenSource) -> Self {
        self.token_source = Some(source);
        self
    }

    /// Sends `name: value` with every request.
    pub(crate) fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The provider [`Llm`] reports (`openai` by default).
    pub(crate) fn provider(mut self, provider: &'static str) -> Self {
        self.provider = provider;
        self
    }

    /// Builds the client.
    ///
    /// Fails on an invalid base URL or header value, or when the HTTP client cannot be set
    /// up (for an `https` URL, the system's CA certificates must be readable).
    pub fn build(self) -> Result<Llm, ConfigError> {
        let base_url = http::base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let auth = match (self.token_source, self.api_key) {
            (Some(source), _) => Auth::Minted(source),
            (None, Some(key)) if !key.is_empty() => {
                Auth::Bearer(Auth::bearer_header(&key).map_err(|reason| {
                    ConfigError::InvalidHeader { name: "authorization", reason }
                })?)
            }
            (None, _) => Auth::None,
        };
        let mut headers = HeaderMap::new();
        for (name, value) in self.headers {
            let value = HeaderValue::from_str(&value)
                .map_err(|error| ConfigError::InvalidHeader { name, reason: error.to_string() })?;
            headers.insert(HeaderName::from_static(name), value);
        }
        let endpoint = Endpoint {
            http: http::client(&base_url)?,
            url: http::endpoint(&base_url, "chat/completions"),
            auth,
            headers,
        };
        Ok(Llm {
            inner: Arc::new(Inner {
                model: self.model,
                provider: self.provider,
                base_url: http::redact_url(&base_url).trim_end_matches('/').to_owned(),
                endpoint: Arc::new(endpoint),
                extra_body: self.extra_body,
                strict_tools: self.strict_tools,
                conn_options: self.conn_options,
            }),
        })
    }
}

impl fmt::Debug for LlmBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmBuilder")
            .field("model", &self.model)
            .field("base_url", &self.base_url.as_deref().map(http::redact_url_text))
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("extra_body", &self.extra_body)
            .field("strict_tools", &self.strict_tools)
            .field("conn_options", &self.conn_options)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use std::collections::HashMap;
    use std::time::Duration;

    use agents_core::llm::Llm as _;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn a_missing_key_names_the_variable() {
        let error = LlmBuilder::from_lookup("gpt", lookup(&[])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the OpenAI API key is missing: set OPENAI_API_KEY in the environment, or pass it \
             to `openai::LlmBuilder::api_key` (see docs/src/troubleshooting.md#credentials)"
        );
    }

    #[test]
    fn the_environment_gives_key_and_base_url() {
        let llm = LlmBuilder::from_lookup(
            "gpt",
            lookup(&[("OPENAI_API_KEY", "sk-1"), ("OPENAI_BASE_URL", "http://localhost:9/v1/")]),
        )
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(llm.base_url(), "http://localhost:9/v1");
        assert_eq!(llm.model(), "gpt");
        assert_eq!(llm.provider(), "openai");
        assert!(!format!("{llm:?}").contains("sk-1"));
        let builder =
            LlmBuilder::from_lookup("gpt", lookup(&[("OPENAI_API_KEY", "sk-1")])).unwrap();
        assert!(!format!("{builder:?}").contains("sk-1"));
        assert_eq!(builder.build().unwrap().base_url(), DEFAULT_BASE_URL);
    }

    #[test]
    fn builder_conn_options_apply_to_requests_with_default_options() {
        let conn = ApiConnectOptions::new(0, Duration::from_millis(1), Duration::from_millis(5));
        let llm = Llm::builder("gpt").conn_options(conn).build().unwrap();
        assert_eq!(llm.conn_options(&ChatOptions::default()), conn);
        let own = ApiConnectOptions::new(7, Duration::from_millis(1), Duration::from_millis(5));
        let options = ChatOptions::default().with_conn_options(own);
        assert_eq!(llm.conn_options(&options), own);
    }

    #[test]
    fn invalid_base_urls_are_rejected() {
        let error = Llm::builder("gpt").base_url("localhost:8080").build().unwrap_err();
        assert!(matches!(error, ConfigError::InvalidBaseUrl { .. }), "{error:?}");
    }
}
