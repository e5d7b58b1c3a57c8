//! Preemptive generation (Python's `preemptive_generation`): the LLM starts on the user's
//! final transcript before the end of the turn is confirmed, and the reply uses what it
//! already streamed — if nothing changed meanwhile. Tools only run once the turn is committed.

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::instructions::initial_context;
use crate::agent::Agent;
use crate::llm::{
    ChatChunk, ChatContext, ChatItem, ChatMessage, ChatRole, LlmError, LlmStream, ToolSet,
};

/// An LLM request started ahead of the end of the turn, buffering its answer.
pub(crate) struct Preemptive {
    transcript: String,
    agent: Agent,
    tools: ToolSet,
    request: ChatContext,
    chunks: mpsc::UnboundedReceiver<Result<ChatChunk, LlmError>>,
    /// The request, until its answer is handed over.
    task: Option<JoinHandle<()>>,
}

impl Drop for Preemptive {
    fn drop(&mut self) {
        // Discarded: the request is not needed anymore.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Preemptive {
    /// Starts the request the reply to `transcript` would make for `agent`: `llm_node` makes
    /// it (the agent's node) from the request and the tools.
    pub(crate) fn start(
        agent: Agent,
        transcript: String,
        llm_node: impl FnOnce(&ChatContext, &ToolSet) -> LlmStream,
    ) -> Self {
        let tools = agent.tools();
        let mut request = initial_context(&agent);
        request.push(ChatMessage::new(ChatRole::User, transcript.clone()));
        let mut stream = llm_node(&request, &tools);
        let (sender, chunks) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Some(chunk) = stream.next().await {
                if sender.send(chunk).is_err() {
                    break;
                }
            }
        });
        Self { transcript, agent, tools, request, chunks, task: Some(task) }
    }

    /// The transcript it answers.
    pub(crate) fn transcript(&self) -> &str {
        &self.transcript
    }

    /// Its answer, if the reply about to be made is the one it anticipated: same agent, same
    /// tools, same conversation (the `on_user_turn_completed` hook may have changed it).
    pub(crate) fn into_stream_for(
        self,
        agent: &Agent,
        tools: &ToolSet,
        request: &ChatContext,
    ) -> Option<LlmStream> {
        let valid = self.agent.same_agent(agent)
            && self.tools.same_snapshot(tools)
            && same_conversation(&self.request, request);
        if !valid {
            tracing::debug!("preemptive generation invalidated; generating the reply again");
            return None;
        }
        let mut this = self;
        // The request goes on while its answer is read: the stream owns it from here (and
        // aborts it if dropped early).
        let task = this.task.take().map(AbortOnDrop);
        let (_, closed) = mpsc::unbounded_channel();
        let chunks = std::mem::replace(&mut this.chunks, closed);
        let stream = futures::stream::unfold((chunks, task), |(mut chunks, task)| async move {
            chunks.recv().await.map(|chunk| (chunk, (chunks, task)))
        });
        Some(LlmStream::new(stream))
    }
}

/// Aborts the request's task when the stream reading its answer is dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether two requests hold the same messages and calls (ids aside).
fn same_conversation(a: &ChatContext, b: &ChatContext) -> bool {
    a.len() == b.len()
        && a.items().iter().zip(b.items()).all(|(a, b)| match (a, b) {
            (ChatItem::Message(a), ChatItem::Message(b)) => {
                a.role == b.role && a.content == b.content
            }
            (ChatItem::FunctionCall(a), ChatItem::FunctionCall(b)) => {
                a.call_id == b.call_id && a.arguments == b.arguments
            }
            (ChatItem::FunctionCallOutput(a), ChatItem::FunctionCallOutput(b)) => {
                a.call_id == b.call_id && a.output == b.output
            }
            (ChatItem::AgentHandoff(a), ChatItem::AgentHandoff(b)) => a == b,
            _ => false,
        })
}
