//! The request a reply starts from: the agent's instructions first, then its conversation.

use crate::agent::Agent;
use crate::llm::{ChatContext, ChatItem, ChatMessage, ChatRole};

/// The id of the instructions message, as in the Python framework.
const INSTRUCTIONS_ID: &str = "lk.agent_task.instructions";

/// The agent's instructions followed by its conversation: one copy, made under its lock.
pub(super) fn initial_context(agent: &Agent) -> ChatContext {
    let conversation = agent.chat_ctx_mut();
    let mut context = ChatContext::with_capacity(conversation.len() + 8);
    let mut instructions = ChatMessage::new(ChatRole::System, agent.instructions().as_str());
    instructions.id = INSTRUCTIONS_ID.to_owned();
    context.push(instructions);
    context.extend(conversation.items().iter().cloned());
    context
}

/// Puts the agent's current instructions in the instructions message, which
/// `update_instructions` may have changed since the last step.
pub(super) fn refresh_instructions(agent: &Agent, context: &mut ChatContext) {
    let instructions = agent.instructions();
    if let Some(ChatItem::Message(message)) = context.first_mut()
        && message.id == INSTRUCTIONS_ID
        && message.content.first().map(String::as_str) != Some(instructions.as_str())
    {
        message.content = vec![instructions.as_str().to_owned()];
    }
}
