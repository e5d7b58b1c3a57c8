//! Prints a session's conversation as the Python text console does: agent messages, tool
//! calls and their outputs.

use std::collections::HashSet;
use std::io::{self, Write};

use crate::llm::{ChatContext, ChatItem, ChatMessage, ChatRole, FunctionCall, FunctionCallOutput};
use crate::voice::SessionEvent;

/// The prefix of the agent's messages.
pub(crate) const AGENT_PREFIX: &str = "● Agent: ";
/// Before the user's spoken turns (audio console).
pub(crate) const USER_PREFIX: &str = "● You: ";
/// The prefix of a tool call.
pub(crate) const CALL_PREFIX: &str = "➜ ";
/// The prefix of a tool's output.
pub(crate) const OUTPUT_PREFIX: &str = "✓ ";
/// The prefix of a tool's error output.
pub(crate) const ERROR_PREFIX: &str = "✗ ";
/// The prefix of a handoff to another agent.
pub(crate) const HANDOFF_PREFIX: &str = "↪ ";

/// Writes conversation items as lines, each item once (an item seen in the history is not
/// printed again when its event arrives).
pub(crate) struct Printer<W> {
    out: W,
    printed: HashSet<String>,
    /// Whether the user's messages are shown (they were spoken, not typed).
    show_user: bool,
}

impl<W: Write> Printer<W> {
    pub(crate) fn new(out: W, show_user: bool) -> Self {
        Self { out, printed: HashSet::new(), show_user }
    }

    /// Prints the items of `history` not printed yet.
    pub(crate) fn print_history(&mut self, history: &ChatContext) -> io::Result<()> {
        for item in history.items() {
            self.item(item)?;
        }
        self.out.flush()
    }

    /// Prints what `event` adds to the conversation; returns whether the session closed.
    pub(crate) fn print_event(&mut self, event: &SessionEvent) -> io::Result<bool> {
        match event {
            SessionEvent::ConversationItemAdded { item } => {
                self.item(item)?;
                self.out.flush()?;
            }
            // `➜ tool` as the call starts, not when the batch is done.
            SessionEvent::FunctionToolStarted { function_call } => {
                self.call(function_call)?;
                self.out.flush()?;
            }
            // `✓ output` / `✗ error` as each call ends.
            SessionEvent::FunctionToolFinished { output, .. } => {
                self.output(output)?;
                self.out.flush()?;
            }
            SessionEvent::FunctionToolsExecuted { function_calls, function_call_outputs } => {
                let count = function_calls.len().max(function_call_outputs.len());
                for index in 0..count {
                    if let Some(call) = function_calls.get(index) {
                        self.call(call)?;
                    }
                    if let Some(output) = function_call_outputs.get(index) {
                        self.output(output)?;
                    }
                }
                self.out.flush()?;
            }
            SessionEvent::Close { .. } => return Ok(true),
            // Errors are logged by the session; states and metrics are not shown.
            _ => {}
        }
        Ok(false)
    }

    fn first_time(&mut self, id: &str) -> bool {
        self.printed.insert(id.to_owned())
    }

    fn item(&mut self, item: &ChatItem) -> io::Result<()> {
        match item {
            ChatItem::Message(message) => self.message(message),
            ChatItem::FunctionCall(call) => self.call(call),
            ChatItem::FunctionCallOutput(output) => self.output(output),
            ChatItem::AgentHandoff(handoff) => {
                if self.first_time(&handoff.id)
                    && let Some(old) = &handoff.old_agent_id
                {
                    writeln!(self.out, "{HANDOFF_PREFIX}{old} → {}", handoff.new_agent_id)?;
                }
                Ok(())
            }
        }
    }

    fn message(&mut self, message: &ChatMessage) -> io::Result<()> {
        let prefix = match message.role {
            ChatRole::Assistant => AGENT_PREFIX,
            ChatRole::User if self.show_user => USER_PREFIX,
            _ => return Ok(()),
        };
        if self.first_time(&message.id) {
            let text = message.text();
            if !text.trim().is_empty() {
                writeln!(self.out, "{prefix}{text}")?;
            }
        }
        Ok(())
    }

    fn call(&mut self, call: &FunctionCall) -> io::Result<()> {
        if self.first_time(&call.id) {
            writeln!(self.out, "{CALL_PREFIX}{}", call.name)?;
        }
        Ok(())
    }

    fn output(&mut self, output: &FunctionCallOutput) -> io::Result<()> {
        if self.first_time(&output.id) {
            let prefix = if output.is_error { ERROR_PREFIX } else { OUTPUT_PREFIX };
            writeln!(self.out, "{prefix}{}", output.output)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::llm::FunctionCallOutput;

    fn printed(printer: &Printer<Vec<u8>>) -> String {
        String::from_utf8_lossy(&printer.out).into_owned()
    }

    #[test]
    fn a_call_is_shown_when_it_starts_and_once() {
        let mut printer = Printer::new(Vec::new(), false);
        let slow = FunctionCall::new("call_1", "lookup_weather", "{}");
        let fast = FunctionCall::new("call_2", "plan_trip", "{}");
        for call in [&slow, &fast] {
            let started = SessionEvent::FunctionToolStarted { function_call: call.clone() };
            assert!(!printer.print_event(&started).unwrap());
        }
        assert_eq!(printed(&printer), "➜ lookup_weather\n➜ plan_trip\n");

        let executed = SessionEvent::FunctionToolsExecuted {
            function_calls: vec![slow, fast],
            function_call_outputs: vec![
                FunctionCallOutput::new("call_1", "lookup_weather", "sunny", false),
                FunctionCallOutput::new("call_2", "plan_trip", "no trains", true),
            ],
        };
        printer.print_event(&executed).unwrap();
        assert_eq!(
            printed(&printer),
            "➜ lookup_weather\n➜ plan_trip\n✓ sunny\n✗ no trains\n",
            "the calls are not printed again with their outputs"
        );
    }

    #[test]
    fn an_output_is_shown_when_its_call_finishes_and_once() {
        let mut printer = Printer::new(Vec::new(), false);
        let slow = FunctionCall::new("call_1", "lookup_weather", "{}");
        let fast = FunctionCall::new("call_2", "plan_trip", "{}");
        for call in [&slow, &fast] {
            let started = SessionEvent::FunctionToolStarted { function_call: call.clone() };
            printer.print_event(&started).unwrap();
        }
        let failed = FunctionCallOutput::new("call_2", "plan_trip", "no trains", true);
        let finished = SessionEvent::FunctionToolFinished {
            function_call: Box::new(fast.clone()),
            output: Box::new(failed.clone()),
            duration: std::time::Duration::from_millis(3),
        };
        printer.print_event(&finished).unwrap();
        assert_eq!(printed(&printer), "➜ lookup_weather\n➜ plan_trip\n✗ no trains\n");
        let sunny = FunctionCallOutput::new("call_1", "lookup_weather", "sunny", false);
        let executed = SessionEvent::FunctionToolsExecuted {
            function_calls: vec![slow, fast],
            function_call_outputs: vec![sunny, failed],
        };
        printer.print_event(&executed).unwrap();
        assert_eq!(
            printed(&printer),
            "➜ lookup_weather\n➜ plan_trip\n✗ no trains\n✓ sunny\n",
            "an output shown as its call finished is not shown again"
        );
    }
}
