//! The lifecycle hooks and pipeline nodes of an agent, and their defaults.

use async_trait::async_trait;

use super::AgentContext;
use crate::llm::{ChatContext, ChatMessage, ChatOptions, LlmError, LlmStream, ToolChoice, ToolSet};

/// Returned by [`AgentHooks::on_user_turn_completed`] to skip the reply to that turn
/// (Python's `raise StopResponse()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, thiserror::Error)]
#[error("no reply for this user turn (StopResponse)")]
pub struct StopResponse;

/// Settings of one LLM step, given to [`AgentHooks::llm_node`].
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ModelSettings {
    /// The tool choice for this step (`None`: the provider's default).
    pub tool_choice: Option<ToolChoice>,
}

/// The lifecycle hooks and pipeline nodes of an agent (the overridable methods of Python's
/// `Agent`). Every method has a default; implement the ones you need with
/// [`#[async_trait]`](crate::async_trait).
///
/// ```
/// use agents_core::prelude::*;
/// use agents_core::agent::{AgentContext, AgentHooks};
///
/// struct Greeter;
///
/// #[async_trait]
/// impl AgentHooks for Greeter {
///     async fn on_enter(&self, ctx: AgentContext) {
///         ctx.session().generate_reply(ReplyOptions::default());
///     }
/// }
/// ```
#[async_trait]
pub trait AgentHooks: Send + Sync + 'static {
    /// Called when the agent becomes the session's active agent (at `start`, or after a
    /// handoff). The seed example greets the user here with `generate_reply`.
    async fn on_enter(&self, ctx: AgentContext) {
        let _ = ctx;
    }

    /// Called when the agent stops being active (a handoff away, or the session closing),
    /// before the next agent's `on_enter`.
    async fn on_exit(&self, ctx: AgentContext) {
        let _ = ctx;
    }

    /// Called when the user finished a turn, before the reply. `turn_ctx` is a copy of the
    /// conversation for this reply only; edits to it affect this reply, not the history.
    /// Return `Err(StopResponse)` to skip the reply.
    ///
    /// Unlike Python, this runs for text input too (`run`, the text console), not only for
    /// speech.
    async fn on_user_turn_completed(
        &self,
        ctx: AgentContext,
        turn_ctx: &mut ChatContext,
        new_message: &ChatMessage,
    ) -> Result<(), StopResponse> {
        let _ = (ctx, turn_ctx, new_message);
        Ok(())
    }

    /// The LLM step (Python's `llm_node`): asks the model to continue `chat_ctx` with `tools`.
    /// Override it to change the request or the answer; call [`default_llm_node`] to delegate.
    fn llm_node(
        &self,
        ctx: &AgentContext,
        chat_ctx: &ChatContext,
        tools: &ToolSet,
        settings: &ModelSettings,
    ) -> LlmStream {
        default_llm_node(ctx, chat_ctx, tools, settings)
    }
}

/// Hooks that do nothing: the defaults of [`AgentHooks`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl AgentHooks for NoHooks {}

/// The default LLM step: the session's LLM with the session's connection options.
pub fn default_llm_node(
    ctx: &AgentContext,
    chat_ctx: &ChatContext,
    tools: &ToolSet,
    settings: &ModelSettings,
) -> LlmStream {
    let Some(llm) = ctx.session().llm() else {
        return LlmStream::failed(LlmError::configuration(
            "the session has no LLM: build it with AgentSession::builder().llm(...)".to_owned(),
        ));
    };
    let options = ChatOptions {
        tool_choice: settings.tool_choice.clone(),
        conn_options: ctx.session().conn_options(),
        ..ChatOptions::default()
    };
    llm.chat(chat_ctx, tools.as_slice(), &options)
}
