//! `AgentSessionBuilder`: the components and options of a new [`AgentSession`].

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::core::{AgentSession, Components, SessionCore};
use super::options::SessionOptions;
use crate::llm::{ApiConnectOptions, Llm};
use crate::stt::Stt;
use crate::tts::Tts;
use crate::vad::Vad;

/// Builds an [`AgentSession`].
#[derive(Default)]
pub struct AgentSessionBuilder {
    llm: Option<Arc<dyn Llm>>,
    vad: Option<Arc<dyn Vad>>,
    stt: Option<Arc<dyn Stt>>,
    tts: Option<Arc<dyn Tts>>,
    options: SessionOptions,
    userdata: Option<Arc<dyn Any + Send + Sync>>,
}

impl fmt::Debug for AgentSessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentSessionBuilder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl AgentSessionBuilder {
    /// The LLM the session's agents use.
    pub fn llm(mut self, llm: impl Llm) -> Self {
        self.llm = Some(Arc::new(llm));
        self
    }

    /// The LLM, already shared.
    pub fn llm_shared(mut self, llm: Arc<dyn Llm>) -> Self {
        self.llm = Some(llm);
        self
    }

    /// The voice activity detector for audio input (Python's `vad=`).
    pub fn vad(mut self, vad: Arc<dyn Vad>) -> Self {
        self.vad = Some(vad);
        self
    }

    /// The speech-to-text for audio input (Python's `stt=`). A non-streaming STT needs a
    /// [`vad`](Self::vad) to cut the audio into utterances.
    pub fn stt(mut self, stt: Arc<dyn Stt>) -> Self {
        self.stt = Some(stt);
        self
    }

    /// The text-to-speech for audio output (Python's `tts=`). A non-streaming TTS is spoken
    /// sentence by sentence.
    pub fn tts(mut self, tts: Arc<dyn Tts>) -> Self {
        self.tts = Some(tts);
        self
    }

    /// Sets `min_endpointing_delay` (default 0.5 s).
    pub fn min_endpointing_delay(mut self, delay: Duration) -> Self {
        self.options.min_endpointing_delay = delay;
        self
    }

    /// Sets `max_endpointing_delay` (default 3 s).
    pub fn max_endpointing_delay(mut self, delay: Duration) -> Self {
        self.options.max_endpointing_delay = delay;
        self
    }

    /// Sets `min_interruption_duration` (default 0.5 s).
    pub fn min_interruption_duration(mut self, duration: Duration) -> Self {
        self.options.min_interruption_duration = duration;
        self
    }

    /// Sets `max_tool_steps` (default 3).
    pub fn max_tool_steps(mut self, max_tool_steps: u32) -> Self {
        self.options.max_tool_steps = max_tool_steps;
        self
    }

    /// Sets `allow_interruptions` (default true).
    pub fn allow_interruptions(mut self, allow: bool) -> Self {
        self.options.allow_interruptions = allow;
        self
    }

    /// Sets `preemptive_generation` (default true).
    pub fn preemptive_generation(mut self, enabled: bool) -> Self {
        self.options.preemptive_generation = enabled;
        self
    }

    /// Sets the LLM connection options.
    pub fn conn_options(mut self, conn_options: ApiConnectOptions) -> Self {
        self.options.conn_options = Some(conn_options);
        self
    }

    /// Data of yours the session carries, for tools and hooks (Python's `userdata`).
    pub fn userdata<T: Any + Send + Sync>(mut self, userdata: T) -> Self {
        self.userdata = Some(Arc::new(userdata));
        self
    }

    /// Builds the session; start it with [`AgentSession::start`].
    pub fn build(self) -> AgentSession {
        let Self { llm, vad, stt, tts, options, userdata } = self;
        AgentSession {
            core: SessionCore::new(Components { llm, vad, stt, tts, options, userdata }),
        }
    }
}
