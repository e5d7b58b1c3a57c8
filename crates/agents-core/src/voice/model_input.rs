//! What the session builder's `.stt(...)`, `.llm(...)` and `.tts(...)` accept: a model
//! client, a shared one, or — with `agents-inference` — a LiveKit Inference model string such
//! as `"deepgram/nova-3:en"` (Python's `AgentSession(stt="deepgram/nova-3:en", ...)`).
//!
//! agents-core knows nothing of the gateway: it defines the conversion traits, implements them
//! for every [`Stt`], [`Llm`] and [`Tts`] (owned or in an [`Arc`]), and `agents-inference`
//! implements them for `&str` and `String`. The marker type parameter `M` keeps those impls
//! apart; it is always inferred.
//!
//! A conversion that fails (a malformed model string, a missing credential) does not stop the
//! builder: the first failure is kept and [`start`](super::AgentSession::start) returns it as
//! [`SessionError::InvalidComponent`](super::SessionError::InvalidComponent).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::llm::Llm;
use crate::stt::Stt;
use crate::tts::Tts;

/// Marker types telling the conversions apart. Never constructed.
#[doc(hidden)]
pub mod input {
    /// The model client itself.
    #[allow(missing_debug_implementations)]
    pub enum Value {}
    /// A model client in an `Arc`.
    #[allow(missing_debug_implementations)]
    pub enum Shared {}
    /// A model client already shared as a trait object (`Arc<dyn Stt>`).
    #[allow(missing_debug_implementations)]
    pub enum Dyn {}
}

/// Which of the session's model components a [`ComponentError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ComponentKind {
    /// The speech-to-text (`.stt(...)`).
    Stt,
    /// The LLM (`.llm(...)`).
    Llm,
    /// The text-to-speech (`.tts(...)`).
    Tts,
}

impl fmt::Display for ComponentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stt => "speech-to-text",
            Self::Llm => "LLM",
            Self::Tts => "text-to-speech",
        })
    }
}

/// A value given to the session builder could not be turned into a model client: a malformed
/// model string, or a client that could not be configured (a missing credential).
///
/// The message says which component, what was given and why; the underlying error is kept
/// (for downcasting) in [`cause`](Self::cause) and printed in the message, so it is not also
/// returned by `source()`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot use `{input}` as the session's {kind}: {cause}")]
#[non_exhaustive]
pub struct ComponentError {
    /// Which component.
    pub kind: ComponentKind,
    /// What was given (a model string such as `deepgram/nova-3:en`).
    pub input: String,
    cause: Arc<dyn StdError + Send + Sync>,
}

impl ComponentError {
    /// `input`, given as the session's `kind`, failed with `cause`.
    pub fn new(
        kind: ComponentKind,
        input: impl Into<String>,
        cause: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self { kind, input: input.into(), cause: Arc::new(cause) }
    }

    /// Why it failed (downcast it to the converting crate's error type).
    pub fn cause(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.cause
    }
}

/// A value the session builder's [`stt`](super::AgentSessionBuilder::stt) accepts: any
/// [`Stt`], an `Arc` of one, or with `agents-inference` a model string
/// (`"deepgram/nova-3:en"`, `provider/model[:language]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as the session's speech-to-text",
    label = "not an `Stt`, an `Arc` of one, or a model string",
    note = "`.stt(...)` takes a type implementing `agents_core::stt::Stt`, or an `Arc` of one",
    note = "model strings such as `\"deepgram/nova-3:en\"` need `voice-agents-inference` in \
            [dependencies] and the crate referenced once in your code: \
            `use agents_inference as _;` (or any `agents_inference::...` path)"
)]
pub trait IntoStt<M> {
    /// The speech-to-text.
    fn into_stt(self) -> Result<Arc<dyn Stt>, ComponentError>;
}

/// A value the session builder's [`llm`](super::AgentSessionBuilder::llm) accepts: any
/// [`Llm`], an `Arc` of one, or with `agents-inference` a model string
/// (`"openai/gpt-4.1-mini"`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as the session's LLM",
    label = "not an `Llm`, an `Arc` of one, or a model string",
    note = "`.llm(...)` takes a type implementing `agents_core::llm::Llm`, or an `Arc` of one",
    note = "model strings such as `\"openai/gpt-4.1-mini\"` need `voice-agents-inference` in \
            [dependencies] and the crate referenced once in your code: \
            `use agents_inference as _;` (or any `agents_inference::...` path)"
)]
pub trait IntoLlm<M> {
    /// The LLM.
    fn into_llm(self) -> Result<Arc<dyn Llm>, ComponentError>;
}

/// A value the session builder's [`tts`](super::AgentSessionBuilder::tts) accepts: any
/// [`Tts`], an `Arc` of one, or with `agents-inference` a model string
/// (`"cartesia/sonic-3:<voice>"`, `provider/model[:voice]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as the session's text-to-speech",
    label = "not a `Tts`, an `Arc` of one, or a model string",
    note = "`.tts(...)` takes a type implementing `agents_core::tts::Tts`, or an `Arc` of one",
    note = "model strings such as `\"cartesia/sonic-3:<voice>\"` need `voice-agents-inference` in \
            [dependencies] and the crate referenced once in your code: \
            `use agents_inference as _;` (or any `agents_inference::...` path)"
)]
pub trait IntoTts<M> {
    /// The text-to-speech.
    fn into_tts(self) -> Result<Arc<dyn Tts>, ComponentError>;
}

impl<T: Stt> IntoStt<input::Value> for T {
    fn into_stt(self) -> Result<Arc<dyn Stt>, ComponentError> {
        Ok(Arc::new(self))
    }
}

impl<T: Stt> IntoStt<input::Shared> for Arc<T> {
    fn into_stt(self) -> Result<Arc<dyn Stt>, ComponentError> {
        Ok(self)
    }
}

impl IntoStt<input::Dyn> for Arc<dyn Stt> {
    fn into_stt(self) -> Result<Arc<dyn Stt>, ComponentError> {
        Ok(self)
    }
}

impl<T: Llm> IntoLlm<input::Value> for T {
    fn into_llm(self) -> Result<Arc<dyn Llm>, ComponentError> {
        Ok(Arc::new(self))
    }
}

impl<T: Llm> IntoLlm<input::Shared> for Arc<T> {
    fn into_llm(self) -> Result<Arc<dyn Llm>, ComponentError> {
        Ok(self)
    }
}

impl IntoLlm<input::Dyn> for Arc<dyn Llm> {
    fn into_llm(self) -> Result<Arc<dyn Llm>, ComponentError> {
        Ok(self)
    }
}

impl<T: Tts> IntoTts<input::Value> for T {
    fn into_tts(self) -> Result<Arc<dyn Tts>, ComponentError> {
        Ok(Arc::new(self))
    }
}

impl<T: Tts> IntoTts<input::Shared> for Arc<T> {
    fn into_tts(self) -> Result<Arc<dyn Tts>, ComponentError> {
        Ok(self)
    }
}

impl IntoTts<input::Dyn> for Arc<dyn Tts> {
    fn into_tts(self) -> Result<Arc<dyn Tts>, ComponentError> {
        Ok(self)
    }
}
