//! Model strings on the session: `AgentSession::builder().stt("deepgram/nova-3:en")
//! .llm("openai/gpt-4.1-mini").tts("cartesia/sonic-3:<voice>")`, as Python's
//! `AgentSession(stt="deepgram/nova-3:en", ...)`.
//!
//! agents-core's [`IntoStt`], [`IntoLlm`] and [`IntoTts`] are implemented here for `&str`,
//! `&String` and `String`, with the [`ModelString`] marker. A string maps exactly as
//! [`Stt::new`], [`Llm::new`] and [`Tts::new`] take it (credentials and gateway URL from the
//! environment); a malformed string or a missing credential becomes a
//! [`ComponentError`] that the session's `start` returns.

use std::sync::Arc;

use agents_core::voice::{ComponentError, ComponentKind, IntoLlm, IntoStt, IntoTts};

use super::{Llm, Stt, Tts};

/// The marker of the model-string conversions. Never constructed.
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub enum ModelString {}

fn stt(model: &str) -> Result<Arc<dyn agents_core::stt::Stt>, ComponentError> {
    match Stt::new(model) {
        Ok(stt) => Ok(Arc::new(stt)),
        Err(error) => Err(ComponentError::new(ComponentKind::Stt, model, error)),
    }
}

fn llm(model: &str) -> Result<Arc<dyn agents_core::llm::Llm>, ComponentError> {
    match Llm::new(model) {
        Ok(llm) => Ok(Arc::new(llm)),
        Err(error) => Err(ComponentError::new(ComponentKind::Llm, model, error)),
    }
}

fn tts(model: &str) -> Result<Arc<dyn agents_core::tts::Tts>, ComponentError> {
    match Tts::new(model) {
        Ok(tts) => Ok(Arc::new(tts)),
        Err(error) => Err(ComponentError::new(ComponentKind::Tts, model, error)),
    }
}

macro_rules! string_inputs {
    ($($ty:ty),*) => {$(
        impl IntoStt<ModelString> for $ty {
            fn into_stt(self) -> Result<Arc<dyn agents_core::stt::Stt>, ComponentError> {
                stt(&self)
            }
        }

        impl IntoLlm<ModelString> for $ty {
            fn into_llm(self) -> Result<Arc<dyn agents_core::llm::Llm>, ComponentError> {
                llm(&self)
            }
        }

        impl IntoTts<ModelString> for $ty {
            fn into_tts(self) -> Result<Arc<dyn agents_core::tts::Tts>, ComponentError> {
                tts(&self)
            }
        }
    )*};
}

string_inputs!(&str, &String, String);
