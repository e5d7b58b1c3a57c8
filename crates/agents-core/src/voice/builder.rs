//! `AgentSessionBuilder`: the components and options of a new [`AgentSession`].

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::core::{AgentSession, Components, SessionCore};
use super::model_input::{ComponentError, IntoLlm, IntoStt, IntoTts};
use super::options::SessionOptions;
use super::toolsets::SessionTools;
use crate::llm::{ApiConnectOptions, IntoToolSet, Llm, ToolSet, ToolSetError, Toolset};
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
    /// The first `.stt`/`.llm`/`.tts` value that could not be converted; `start` returns it.
    invalid: Option<ComponentError>,
    tools: Option<Result<ToolSet, ToolSetError>>,
    toolsets: Vec<Arc<dyn Toolset>>,
}

impl fmt::Debug for AgentSessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentSessionBuilder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl AgentSessionBuilder {
    /// The LLM the session's agents use (Python's `llm=`): an [`Llm`], an `Arc` of one, or
    /// with `agents-inference` a model string such as `"openai/gpt-4.1-mini"` (see
    /// [`IntoLlm`]; a string that cannot be used makes [`start`](AgentSession::start) fail).
    pub fn llm<M>(mut self, llm: impl IntoLlm<M>) -> Self {
        self.llm = self.keep(llm.into_llm());
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

    /// The speech-to-text for audio input (Python's `stt=`): an [`Stt`], an `Arc` of one, or
    /// with `agents-inference` a model string such as `"deepgram/nova-3:en"` (see
    /// [`IntoStt`]). A non-streaming STT needs a [`vad`](Self::vad) to cut the audio into
    /// utterances.
    pub fn stt<M>(mut self, stt: impl IntoStt<M>) -> Self {
        self.stt = self.keep(stt.into_stt());
        self
    }

    /// The text-to-speech for audio output (Python's `tts=`): a [`Tts`], an `Arc` of one, or
    /// with `agents-inference` a model string such as `"cartesia/sonic-3:<voice>"` (see
    /// [`IntoTts`]). A non-streaming TTS is spoken sentence by sentence.
    pub fn tts<M>(mut self, tts: impl IntoTts<M>) -> Self {
        self.tts = self.keep(tts.into_tts());
        self
    }

    /// The converted component, or `None` with the first conversion error kept for `start`.
    fn keep<T>(&mut self, component: Result<T, ComponentError>) -> Option<T> {
        component.map_err(|error| self.invalid.get_or_insert(error)).ok()
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

    /// Tools offered to every agent of the session, after the agent's own (Python's
    /// `AgentSession(tools=[...])`). A name clash within them fails `start`.
    pub fn tools(mut self, tools: impl IntoToolSet) -> Self {
        self.tools = Some(tools.into_tool_set());
        self
    }

    /// Toolsets offered to every agent of the session (Python's `AgentSession(tools=[toolset])`,
    /// `mcp_servers=[...]`): set up by `start`, closed by `close`. Adds to those given before.
    pub fn toolsets(mut self, toolsets: impl IntoIterator<Item = Arc<dyn Toolset>>) -> Self {
        self.toolsets.extend(toolsets);
        self
    }

    /// Data of yours the session carries, for tools and hooks (Python's `userdata`).
    pub fn userdata<T: Any + Send + Sync>(mut self, userdata: T) -> Self {
        self.userdata = Some(Arc::new(userdata));
        self
    }

    /// Builds the session; start it with [`AgentSession::start`].
    pub fn build(self) -> AgentSession {
        let Self { llm, vad, stt, tts, options, userdata, invalid, tools, toolsets } = self;
        let tools = tools
            .unwrap_or_else(|| Ok(ToolSet::empty()))
            .and_then(|tools| SessionTools::new(tools, toolsets));
        AgentSession {
            core: SessionCore::new(Components {
                llm,
                vad,
                stt,
                tts,
                options,
                userdata,
                invalid,
                tools,
            }),
        }
    }
}
