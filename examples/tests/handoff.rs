//! `handoff`, run as a user runs it (`console --text`) against a fake LiveKit Inference on
//! 127.0.0.1: the reception agent's tool hands the conversation over to billing, whose
//! instructions and tools the next requests carry.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;

use agents_test_support::{FakeOpenAi, FakeResponse, RecordedRequest};
use common::{assert_in_order, example, instructions, last_message, last_user_text};

/// A model that transfers the caller when they mention an invoice, and looks it up once it
/// has billing's tool.
fn model(request: &RecordedRequest) -> FakeResponse {
    let last = last_message(request);
    let tools = request.tool_names();
    if last["role"] == "tool" {
        return FakeResponse::text(format!("({})", last["content"].as_str().unwrap()));
    }
    let user = last_user_text(request);
    if tools.contains(&"transfer_to_billing") && user.contains("invoice") {
        FakeResponse::tool_call("call_1", "transfer_to_billing", r#"{"name":"Ada"}"#)
    } else if tools.contains(&"invoice_status") && user.contains("1042") {
        FakeResponse::tool_call("call_2", "invoice_status", r#"{"invoice":1042}"#)
    } else if tools.contains(&"invoice_status") {
        FakeResponse::text("Billing here, Ada. Which invoice?")
    } else {
        FakeResponse::text("Welcome to Acme. Who am I speaking with?")
    }
}

#[tokio::test]
async fn the_second_agent_takes_over_with_its_instructions_and_tools() {
    let llm = FakeOpenAi::with_handler(model).await.unwrap();
    let output = common::run_with_input(
        example("handoff", &["console", "--text"], &llm.base_url()),
        "I'm Ada and I have a question about my invoice\nis invoice 1042 paid?\n",
    )
    .await;
    assert_in_order(
        &output,
        &[
            "Welcome to Acme.",
            "➜ transfer_to_billing",
            // The tool's line for the model, which reception says before leaving.
            "(Transferring you to billing now.)",
            "Billing here, Ada. Which invoice?",
            "➜ invoice_status",
            "✓ Invoice 1042 of Ada was paid on March 3.",
            "(Invoice 1042 of Ada was paid on March 3.)",
        ],
    );

    let requests = llm.requests();
    let reception = &requests[0];
    assert!(instructions(reception).starts_with("You are the receptionist of Acme Corp."));
    assert_eq!(reception.tool_names(), ["transfer_to_billing"]);
    // Reception's last words after the call: still reception, with no tool calls allowed.
    let farewell = &requests[2];
    assert_eq!(last_message(farewell)["role"], "tool");
    assert_eq!(farewell.body["tool_choice"], "none");
    assert!(instructions(farewell).starts_with("You are the receptionist"));

    // From billing's greeting on: billing's instructions (with the caller's name) and tools.
    let billing: Vec<&RecordedRequest> = requests[3..].iter().collect();
    assert_eq!(billing.len(), 3, "greeting, then the invoice turn's two steps");
    for request in &billing {
        assert_eq!(
            instructions(request),
            "You work in Acme Corp's billing department and are talking with Ada. Answer \
             questions about their invoices with your tools."
        );
        assert_eq!(request.tool_names(), ["invoice_status"]);
    }
    // Billing starts from the conversation so far.
    let greeting = billing[0];
    assert!(
        greeting
            .messages()
            .iter()
            .any(|m| m["content"] == "I'm Ada and I have a question about my invoice"),
        "{:?}",
        greeting.messages()
    );
}
