//! The chat context: the conversation an LLM is asked to continue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A new item id: `<prefix>_<time><counter>`, unique within the process.
pub(crate) fn new_id(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{prefix}_{nanos:08x}{count:06x}")
}

/// Seconds since the Unix epoch, as the Python framework's `created_at`.
pub(crate) fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChatRole {
    /// Instructions from the application (the agent's instructions).
    System,
    /// Instructions from the developer (newer OpenAI models' name for `system`).
    Developer,
    /// The user.
    User,
    /// The agent.
    Assistant,
}

/// A text message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatMessage {
    /// Item id, unique in the conversation.
    pub id: String,
    /// Who wrote it.
    pub role: ChatRole,
    /// The text parts (usually one).
    pub content: Vec<String>,
    /// Whether the message was cut short by an interruption.
    #[serde(default)]
    pub interrupted: bool,
    /// When it was created, in seconds since the Unix epoch.
    pub created_at: f64,
}

impl ChatMessage {
    /// A message from `role` with one text part.
    pub fn new(role: ChatRole, text: impl Into<String>) -> Self {
        Self {
            id: new_id("item"),
            role,
            content: vec![text.into()],
            interrupted: false,
            created_at: now(),
        }
    }

    /// The text parts joined with newlines.
    pub fn text(&self) -> String {
        self.content.join("\n")
    }
}

/// The output of a function call, answering its `call_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionCallOutput {
    /// Item id, unique in the conversation.
    pub id: String,
    /// The call this answers.
    pub call_id: String,
    /// The tool that was called.
    pub name: String,
    /// The text the model receives.
    pub output: String,
    /// Whether the call failed (the output is an error message).
    pub is_error: bool,
}

impl FunctionCallOutput {
    /// The output of call `call_id` to tool `name`.
    pub fn new(
        call_id: impl Into<String>,
        name: impl Into<String>,
        output: impl Into<String>,
        is_error: bool,
    ) -> Self {
        Self {
            id: new_id("item"),
            call_id: call_id.into(),
            name: name.into(),
            output: output.into(),
            is_error,
        }
    }
}

/// A change of agent in the session (Python's `AgentHandoff`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentHandoff {
    /// Item id, unique in the conversation.
    pub id: String,
    /// The agent that handed off, if any (none for the first agent).
    pub old_agent_id: Option<String>,
    /// The agent that took over.
    pub new_agent_id: String,
}

impl AgentHandoff {
    /// A handoff from `old_agent_id` to `new_agent_id`.
    pub fn new(old_agent_id: Option<String>, new_agent_id: impl Into<String>) -> Self {
        Self { id: new_id("item"), old_agent_id, new_agent_id: new_agent_id.into() }
    }
}

/// One item of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChatItem {
    /// A text message.
    Message(ChatMessage),
    /// A tool call the model made.
    FunctionCall(super::FunctionCall),
    /// The output of a tool call.
    FunctionCallOutput(FunctionCallOutput),
    /// A change of agent; not sent to the model.
    AgentHandoff(AgentHandoff),
}

impl ChatItem {
    /// The item's id.
    pub fn id(&self) -> &str {
        match self {
            Self::Message(message) => &message.id,
            Self::FunctionCall(call) => &call.id,
            Self::FunctionCallOutput(output) => &output.id,
            Self::AgentHandoff(handoff) => &handoff.id,
        }
    }
}

impl From<ChatMessage> for ChatItem {
    fn from(message: ChatMessage) -> Self {
        Self::Message(message)
    }
}

impl From<super::FunctionCall> for ChatItem {
    fn from(call: super::FunctionCall) -> Self {
        Self::FunctionCall(call)
    }
}

impl From<FunctionCallOutput> for ChatItem {
    fn from(output: FunctionCallOutput) -> Self {
        Self::FunctionCallOutput(output)
    }
}

impl From<AgentHandoff> for ChatItem {
    fn from(handoff: AgentHandoff) -> Self {
        Self::AgentHandoff(handoff)
    }
}

/// A conversation: the items an LLM is asked to continue (Python's `llm.ChatContext`).
///
/// ```
/// use agents_core::llm::{ChatContext, ChatRole};
///
/// let mut ctx = ChatContext::new();
/// ctx.add_message(ChatRole::System, "You are terse.");
/// ctx.add_message(ChatRole::User, "Hi!");
/// assert_eq!(ctx.items().len(), 2);
/// let json = serde_json::to_string(&ctx).unwrap();
/// let back: ChatContext = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, ctx);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatContext {
    items: Vec<ChatItem>,
}

impl ChatContext {
    /// An empty conversation.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty conversation with room for `capacity` items.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { items: Vec::with_capacity(capacity) }
    }

    /// The items, oldest first.
    pub fn items(&self) -> &[ChatItem] {
        &self.items
    }

    /// The first item, to edit.
    pub fn first_mut(&mut self) -> Option<&mut ChatItem> {
        self.items.first_mut()
    }

    /// Appends an item.
    pub fn push(&mut self, item: impl Into<ChatItem>) {
        self.items.push(item.into());
    }

    /// Appends a text message.
    pub fn add_message(&mut self, role: ChatRole, text: impl Into<String>) {
        self.items.push(ChatItem::Message(ChatMessage::new(role, text)));
    }

    /// Appends every item of `items`.
    pub fn extend(&mut self, items: impl IntoIterator<Item = ChatItem>) {
        self.items.extend(items);
    }

    /// Inserts `item` at `index` (clamped to the end).
    pub fn insert(&mut self, index: usize, item: impl Into<ChatItem>) {
        let index = index.min(self.items.len());
        self.items.insert(index, item.into());
    }

    /// Keeps only the last `max_items` items, never starting on a function call output whose
    /// call was cut off (Python's `truncate`). System and developer messages at the start are
    /// kept.
    pub fn truncate(&mut self, max_items: usize) {
        if self.items.len() <= max_items {
            return;
        }
        let leading_instructions = self
            .items
            .iter()
            .take_while(|item| {
                matches!(item, ChatItem::Message(m) if matches!(m.role, ChatRole::System | ChatRole::Developer))
            })
            .count();
        let mut start = self.items.len() - max_items;
        while start < self.items.len()
            && matches!(self.items[start], ChatItem::FunctionCallOutput(_))
        {
            start += 1;
        }
        let mut kept: Vec<ChatItem> = self.items[..leading_instructions.min(start)].to_vec();
        kept.extend(self.items[start..].iter().cloned());
        self.items = kept;
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The item with `id`.
    pub fn get(&self, id: &str) -> Option<&ChatItem> {
        self.items.iter().find(|item| item.id() == id)
    }
}
