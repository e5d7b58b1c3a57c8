//! LiveKit Inference: LiveKit's model gateway, reached with your LiveKit project's API key.
//!
//! [`Llm`] is the [OpenAI-compatible client](crate::openai::Llm) pointed at the gateway, with a
//! fresh access token per request:
//!
//! * base URL: the builder's, else `LIVEKIT_INFERENCE_URL`, else the staging gateway when
//!   `LIVEKIT_URL` is a `.staging.livekit.cloud` URL, else
//!   `https://agent-gateway.livekit.cloud/v1`;
//! * credentials: the builder's, else `LIVEKIT_INFERENCE_API_KEY` / `LIVEKIT_API_KEY` and
//!   `LIVEKIT_INFERENCE_API_SECRET` / `LIVEKIT_API_SECRET`;
//! * every request carries `Authorization: Bearer <JWT>` (HS256, `sub` "agent", `iss` the API
//!   key, the `inference.perform` grant, valid 600 s), a `User-Agent` of
//!   `LiveKit Agents Rust/<version>`, and `X-LiveKit-Inference-Provider` when a provider is
//!   chosen;
//! * tools are always sent strict.

mod gateway;
mod model_input;
mod model_string;
pub mod protocol;
mod stt;
mod task_stream;
mod token;
mod tts;

use std::fmt;
use std::sync::Arc;

use agents_core::llm::Llm as _;
use agents_core::llm::{
    ApiConnectOptions, ChatContext, ChatOptions, FunctionTool, LlmError, LlmStream,
};
use serde_json::{Map, Value};

#[doc(hidden)]
pub use self::model_input::ModelString;
pub use self::model_string::{
    ModelKind, ModelStringError, SttModelString, TtsModelString, check_model_string,
};
pub use self::protocol::FallbackModel;
pub use self::stt::{
    FINALIZATION_TIMEOUT, INACTIVITY_TIMEOUT, InferenceSttStream, MAX_REPLAY, Stt, SttBuilder,
};
pub use self::tts::{TTS_SAMPLE_RATE, Tts, TtsBuilder, TtsStream};
use crate::{ConfigError, openai};

/// The gateway's production URL.
pub const DEFAULT_BASE_URL: &str = "https://agent-gateway.livekit.cloud/v1";

/// The gateway's staging URL, used when `LIVEKIT_URL` points at LiveKit's staging cloud.
pub const STAGING_BASE_URL: &str = "https://agent-gateway.staging.livekit.cloud/v1";

/// A LiveKit Inference LLM, e.g. `openai/gpt-4.1-mini` or `google/gemini-2.5-flash` (Python's
/// `inference.LLM`).
///
/// It implements [`agents_core::llm::Llm`]; [`provider`](agents_core::llm::Llm::provider) is
/// `livekit` and [`model`](agents_core::llm::Llm::model) the model string, sent verbatim.
///
/// ```no_run
/// use agents_inference::inference;
///
/// // LIVEKIT_API_KEY and LIVEKIT_API_SECRET from the environment:
/// let llm = inference::Llm::new("openai/gpt-4.1-mini")?;
///
/// // or everything explicit:
/// let llm = inference::Llm::builder("openai/gpt-4.1-mini")
///     .api_key("APIxxxx")
///     .api_secret("secret")
///     .body_option("temperature", 0.3)
///     .build()?;
/// # Ok::<(), agents_inference::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Llm {
    inner: openai::Llm,
}

impl Llm {
    /// A LiveKit Inference LLM for `model`, configured from the environment.
    ///
    /// Fails with [`ConfigError::MissingCredential`] naming the variables to set when the API
    /// key or secret is missing.
    pub fn new(model: impl Into<String>) -> Result<Self, ConfigError> {
        LlmBuilder::new(model).build()
    }

    /// A builder for `model`.
    pub fn builder(model: impl Into<String>) -> LlmBuilder {
        LlmBuilder::new(model)
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.inner.base_url()
    }
}

impl agents_core::llm::Llm for Llm {
    fn model(&self) -> &str {
        self.inner.model()
    }

    fn provider(&self) -> &str {
        self.inner.provider()
    }

    fn chat(
        &self,
        chat_ctx: &ChatContext,
        tools: &[FunctionTool],
        options: &ChatOptions,
    ) -> LlmStream {
        self.inner.chat(chat_ctx, tools, options)
    }
}

impl fmt::Debug for Llm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("inference::Llm")
            .field("model", &self.model())
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

/// Options of an inference [`Llm`]. Whatever is not set is read from the environment by
/// [`build`](Self::build).
#[derive(Clone)]
pub struct LlmBuilder {
    model: String,
    base_url: Option<String>,
    api_key: Option<String>,
    api_secret: Option<String>,
    provider: Option<String>,
    extra_body: Map<String, Value>,
    conn_options: Option<ApiConnectOptions>,
}

impl LlmBuilder {
    /// A builder for `model` (e.g. `openai/gpt-4.1-mini`).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            base_url: None,
            api_key: None,
            api_secret: None,
            provider: None,
            extra_body: Map::new(),
            conn_options: None,
        }
    }

    /// Sends requests to `base_url` instead of the gateway found from the environment.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The LiveKit API key (instead of `LIVEKIT_INFERENCE_API_KEY` / `LIVEKIT_API_KEY`).
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The LiveKit API secret (instead of `LIVEKIT_INFERENCE_API_SECRET` /
    /// `LIVEKIT_API_SECRET`).
    pub fn api_secret(mut self, api_secret: impl Into<String>) -> Self {
        self.api_secret = Some(api_secret.into());
        self
    }

    /// Asks the gateway to serve the model through `provider` (the
    /// `X-LiveKit-Inference-Provider` header).
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Adds top-level keys to every request body; see [`openai::LlmBuilder::extra_body`].
    pub fn extra_body(mut self, options: Map<String, Value>) -> Self {
        self.extra_body.extend(options);
        self
    }

    /// Adds one top-level key to every request body; see [`openai::LlmBuilder::extra_body`].
    pub fn body_option(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra_body.insert(key.into(), value.into());
        self
    }

    /// Retries and timeouts of requests whose options set none; see
    /// [`openai::LlmBuilder::conn_options`].
    pub fn conn_options(mut self, conn_options: ApiConnectOptions) -> Self {
        self.conn_options = Some(conn_options);
        self
    }

    /// Builds the client, reading from the environment what was not set, and mints a first
    /// token to check the credentials.
    pub fn build(self) -> Result<Llm, ConfigError> {
        self.build_with(crate::env::var)
    }

    /// [`build`](Self::build) with the environment read through `lookup`.
    fn build_with(self, lookup: impl Fn(&str) -> Option<String>) -> Result<Llm, ConfigError> {
        check_model_string(ModelKind::Llm, &self.model)?;
        let setters = gateway::Setters {
            api_key: "inference::LlmBuilder::api_key",
            api_secret: "inference::LlmBuilder::api_secret",
        };
        let (base_url, minter) =
            gateway::resolve(self.base_url, self.api_key, self.api_secret, &lookup, &setters)?;
        let source: openai::TokenSource = Arc::new(move || {
            minter.mint().map_err(|reason| {
                LlmError::configuration(format!(
                    "cannot create a LiveKit Inference access token: {reason}"
                ))
            })
        });
        let mut inner = openai::LlmBuilder::new(self.model)
            .base_url(base_url)
            .strict_tools(true)
            .extra_body(self.extra_body)
            .token_source(source)
            .provider("livekit");
        if let Some(provider) = self.provider {
            inner = inner.header("x-livekit-inference-provider", provider);
        }
        if let Some(conn_options) = self.conn_options {
            inner = inner.conn_options(conn_options);
        }
        Ok(Llm { inner: inner.build()? })
    }
}

impl fmt::Debug for LlmBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("inference::LlmBuilder")
            .field("model", &self.model)
            .field("base_url", &self.base_url.as_deref().map(crate::http::redact_url_text))
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("api_secret", &self.api_secret.as_ref().map(|_| "<redacted>"))
            .field("provider", &self.provider)
            .field("extra_body", &self.extra_body)
            .field("conn_options", &self.conn_options)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn missing_credentials_name_the_variables() {
        let error = LlmBuilder::new("openai/gpt-4.1-mini").build_with(lookup(&[])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the LiveKit API key is missing: set LIVEKIT_INFERENCE_API_KEY or LIVEKIT_API_KEY in \
             the environment, or pass it to `inference::LlmBuilder::api_key` (see \
             docs/src/troubleshooting.md#credentials)"
        );
        let error = LlmBuilder::new("openai/gpt-4.1-mini")
            .build_with(lookup(&[("LIVEKIT_API_KEY", "key")]))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the LiveKit API secret is missing: set LIVEKIT_INFERENCE_API_SECRET or \
             LIVEKIT_API_SECRET in the environment, or pass it to \
             `inference::LlmBuilder::api_secret` (see docs/src/troubleshooting.md#credentials)"
        );
    }

    #[test]
    fn base_url_resolution() {
        let creds = [("LIVEKIT_API_KEY", "key"), ("LIVEKIT_API_SECRET", "secret")];
        let build = |extra: &[(&str, &str)]| {
            let vars: Vec<(&str, &str)> = creds.iter().chain(extra).copied().collect();
            LlmBuilder::new("m").build_with(lookup(&vars)).unwrap()
        };
        assert_eq!(build(&[]).base_url(), DEFAULT_BASE_URL);
        assert_eq!(
            build(&[("LIVEKIT_URL", "wss://x.staging.livekit.cloud")]).base_url(),
            STAGING_BASE_URL
        );
        assert_eq!(
            build(&[("LIVEKIT_INFERENCE_URL", "http://127.0.0.1:1/v1")]).base_url(),
            "http://127.0.0.1:1/v1"
        );
        let llm = LlmBuilder::new("m")
            .base_url("http://127.0.0.1:2/v1")
            .build_with(lookup(&[
                ("LIVEKIT_INFERENCE_API_KEY", "k2"),
                ("LIVEKIT_API_KEY", "k1"),
                ("LIVEKIT_API_SECRET", "s"),
                ("LIVEKIT_INFERENCE_URL", "http://127.0.0.1:1/v1"),
            ]))
            .unwrap();
        assert_eq!(llm.base_url(), "http://127.0.0.1:2/v1");
        assert_eq!(llm.provider(), "livekit");
        assert_eq!(llm.model(), "m");
    }

    #[test]
    fn explicit_credentials_need_no_environment_and_stay_out_of_debug_output() {
        let builder = LlmBuilder::new("m").api_key("APIkey7").api_secret("hush");
        assert!(!format!("{builder:?}").contains("hush"));
        assert!(!format!("{builder:?}").contains("APIkey7"));
        let llm = builder.build_with(lookup(&[])).unwrap();
        assert!(!format!("{llm:?}").contains("hush"));
    }

    #[test]
    fn a_password_in_the_inference_url_stays_out_of_debug_output() {
        let creds = [
            ("LIVEKIT_API_KEY", "key"),
            ("LIVEKIT_API_SECRET", "secret"),
            ("LIVEKIT_INFERENCE_URL", "http://gw:hunter2@127.0.0.1:1/v1"),
        ];
        let llm = LlmBuilder::new("m").build_with(lookup(&creds)).unwrap();
        assert_eq!(llm.base_url(), "http://***@127.0.0.1:1/v1");
        assert!(!format!("{llm:?}").contains("hunter2"));
        let builder = LlmBuilder::new("m").base_url("http://gw:hunter2@127.0.0.1:1/v1");
        assert!(!format!("{builder:?}").contains("hunter2"));
    }
}
