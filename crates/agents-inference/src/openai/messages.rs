//! A chat context as Chat Completions `messages`.
//!
//! * System, developer, user and assistant messages are `{"role", "content"}`.
//! * Function calls that follow an assistant message directly (or follow nothing that can take
//!   them) are grouped into one assistant message:
//!   `{"role": "assistant", "content": "…", "tool_calls": [{"id", "type": "function",
//!   "function": {"name", "arguments"}}, …]}`; calls without text get no `content`.
//! * Each function call output is `{"role": "tool", "tool_call_id", "content"}`; `is_error` is
//!   not sent. An output whose call is not in the context is dropped with a warning (the API
//!   rejects a tool message that answers no call).
//! * Agent handoffs are not sent.

use std::borrow::Cow;
use std::collections::HashSet;

use agents_core::llm::{ChatContext, ChatItem, ChatMessage, ChatRole, FunctionCall};
use serde::Serialize;

/// One entry of `messages`, borrowing from the chat context: serialized straight into the
/// request body, with no intermediate JSON tree (the history is re-sent with every request).
#[derive(Debug, Serialize)]
pub(crate) struct WireMessage<'a> {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<WireToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

/// A tool call of an assistant message.
#[derive(Debug, Serialize)]
struct WireToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunction<'a>,
}

/// The function of a tool call.
#[derive(Debug, Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    arguments: &'a str,
}

/// The `messages` array of `chat_ctx`.
pub(crate) fn chat_messages(chat_ctx: &ChatContext) -> Vec<WireMessage<'_>> {
    let mut messages: Vec<WireMessage<'_>> = Vec::with_capacity(chat_ctx.len());
    // Whether the last message is an assistant message that the next call may join.
    let mut open_assistant = false;
    let mut call_ids = HashSet::new();
    for item in chat_ctx.items() {
        match item {
            ChatItem::Message(message) => {
                messages.push(message_entry(message));
                open_assistant = message.role == ChatRole::Assistant;
            }
            ChatItem::FunctionCall(call) => {
                call_ids.insert(call.call_id.as_str());
                let entry = tool_call_entry(call);
                match messages.last_mut() {
                    Some(last) if open_assistant => last.tool_calls.push(entry),
                    _ => messages.push(WireMessage {
                        role: "assistant",
                        content: None,
                        tool_calls: vec![entry],
                        tool_call_id: None,
                    }),
                }
                open_assistant = true;
            }
            ChatItem::FunctionCallOutput(output) => {
                open_assistant = false;
                if !call_ids.contains(output.call_id.as_str()) {
                    tracing::warn!(
                        call_id = %output.call_id,
                        tool = %output.name,
                        "dropping the output of call `{}` to `{}`: the call is not in the chat \
                         context",
                        output.call_id,
                        output.name
                    );
                    continue;
                }
                messages.push(WireMessage {
                    role: "tool",
                    content: Some(Cow::Borrowed(&output.output)),
                    tool_calls: Vec::new(),
                    tool_call_id: Some(&output.call_id),
                });
            }
            // Handoffs, and items this version does not know, are not sent.
            _ => {}
        }
    }
    messages
}

fn message_entry(message: &ChatMessage) -> WireMessage<'_> {
    let content = match message.content.as_slice() {
        [single] => Cow::Borrowed(single.as_str()),
        _ => Cow::Owned(message.text()),
    };
    WireMessage {
        role: role(message.role),
        content: Some(content),
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

fn role(role: ChatRole) -> &'static str {
    match role {
        ChatRole::System => "system",
        ChatRole::Developer => "developer",
        ChatRole::Assistant => "assistant",
        // `User` and any role added later: the user speaks.
        _ => "user",
    }
}

fn tool_call_entry(call: &FunctionCall) -> WireToolCall<'_> {
    WireToolCall {
        id: &call.call_id,
        kind: "function",
        function: WireFunction { name: &call.name, arguments: &call.arguments },
    }
}

#[cfg(test)]
mod tests {
    use agents_core::llm::{AgentHandoff, FunctionCallOutput};
    use serde_json::{Value, json};

    use super::*;

    /// The messages as JSON values, for comparing.
    fn as_values(ctx: &ChatContext) -> Vec<Value> {
        chat_messages(ctx).iter().map(|m| serde_json::to_value(m).unwrap_or(Value::Null)).collect()
    }

    fn ctx(items: Vec<ChatItem>) -> ChatContext {
        let mut ctx = ChatContext::new();
        ctx.extend(items);
        ctx
    }

    fn call(id: &str) -> ChatItem {
        FunctionCall::new(id, "lookup", "{}").into()
    }

    fn output(id: &str) -> ChatItem {
        FunctionCallOutput::new(id, "lookup", format!("out {id}"), false).into()
    }

    fn msg(role: ChatRole, text: &str) -> ChatItem {
        ChatMessage::new(role, text).into()
    }

    #[test]
    fn plain_messages() {
        let ctx = ctx(vec![
            msg(ChatRole::System, "be terse"),
            msg(ChatRole::Developer, "really"),
            msg(ChatRole::User, "hi"),
            msg(ChatRole::Assistant, "hello"),
        ]);
        assert_eq!(
            Value::Array(as_values(&ctx)),
            json!([
                {"role": "system", "content": "be terse"},
                {"role": "developer", "content": "really"},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"},
            ])
        );
    }

    #[test]
    fn calls_join_the_assistant_message_before_them() {
        let ctx = ctx(vec![
            msg(ChatRole::User, "hi"),
            msg(ChatRole::Assistant, "let me check"),
            call("call_1"),
            call("call_2"),
            output("call_2"),
            output("call_1"),
            call("call_3"),
            output("call_3"),
        ]);
        let messages = as_values(&ctx);
        let summary: Vec<(String, usize)> = messages
            .iter()
            .map(|m| {
                let role = m["role"].as_str().unwrap_or_default().to_owned();
                (role, m.get("tool_calls").and_then(Value::as_array).map_or(0, Vec::len))
            })
            .collect();
        let expected = [("user", 0), ("assistant", 2), ("tool", 0), ("tool", 0)]
            .into_iter()
            .chain([("assistant", 1), ("tool", 0)])
            .map(|(role, calls)| (role.to_owned(), calls))
            .collect::<Vec<_>>();
        assert_eq!(summary, expected);
        assert_eq!(
            messages[1],
            json!({
                "role": "assistant",
                "content": "let me check",
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "lookup", "arguments": "{}"}},
                ],
            })
        );
        assert_eq!(
            messages[2],
            json!({"role": "tool", "tool_call_id": "call_2", "content": "out call_2"})
        );
        assert!(messages[4].get("content").is_none());
    }

    #[test]
    fn a_user_message_is_never_joined() {
        let ctx = ctx(vec![msg(ChatRole::User, "hi"), call("call_1"), output("call_1")]);
        let messages = as_values(&ctx);
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[1]["role"], "assistant");
        assert_eq!(messages[0], json!({"role": "user", "content": "hi"}));
    }

    #[test]
    fn handoffs_and_orphan_outputs_are_not_sent_and_errors_are_plain_outputs() {
        let failed = FunctionCallOutput::new("call_1", "lookup", "boom", true);
        let ctx = ctx(vec![
            AgentHandoff::new(None, "agent_1").into(),
            output("call_0"),
            call("call_1"),
            failed.into(),
        ]);
        let messages = as_values(&ctx);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[1],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "boom"})
        );
    }
}
