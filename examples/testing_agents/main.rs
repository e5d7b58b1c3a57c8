//! Testing an agent: `session.run(...)` and the expectation API in `#[tokio::test]`s, on the
//! in-process fakes of `agents_core::testing` (Python's `session.run(user_input=...)` and
//! `result.expect`).
//!
//! **What it shows.** The agent (`agent.rs`, a barista with two tools) runs in a real
//! `AgentSession` whose LLM is a scripted [`FakeLlm`]: each test says what the model answers
//! to which input, runs a user turn with `session.run`, and walks the turn's events with
//! `result.expect()` — the tool calls and their arguments, the tools' outputs and errors, the
//! agent's messages, nothing more. The tools themselves are the real ones; `mock_tools`
//! replaces one for a test. For evals against a real model, build the session with e.g.
//! `agents_inference::inference::Llm::new("openai/gpt-4.1-mini")` instead of the `FakeLlm`:
//! the same `expect` calls check what it did (which tool, which arguments).
//!
//! **What it needs.** Nothing: no network, no credentials. In your own crate, enable the
//! fakes for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! agents-core = { version = "0.1", features = ["testing"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! **Run it.**
//!
//! ```text
//! cargo test -p examples --test testing_agents
//! ```

mod agent;

use agents_core::llm::ChatRole;
use agents_core::prelude::*;
use agents_core::testing::{FakeLlm, FakeLlmResponse};
use agents_core::voice::MockTools;
use serde_json::json;

use agent::Barista;

/// A test's result: `?` on the session's errors fails the test with the error.
type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A session with `llm` as its model, started with a fresh barista.
async fn barista_session(llm: &FakeLlm) -> Result<AgentSession, Box<dyn std::error::Error>> {
    let session = AgentSession::builder().llm(llm.clone()).build();
    session.start(Barista::default().into_agent()?).await?;
    Ok(session)
}

#[tokio::test]
async fn takes_an_order_with_its_tool() -> TestResult {
    let llm = FakeLlm::new()
        .on_input(
            "A large latte, please.",
            FakeLlmResponse::tool_call("add_to_order", json!({"drink": "latte", "size": "large"})),
        )
        .on_input(
            "added a Large Latte; 1 drink(s) in the order",
            FakeLlmResponse::text("One large latte, coming up!"),
        );
    let session = barista_session(&llm).await?;

    let result = session.run("A large latte, please.").await?;

    let mut expect = result.expect();
    expect.next_event().is_function_call("add_to_order").with_arguments(json!({"drink": "latte"}));
    expect
        .next_event()
        .is_function_call_output()
        .is_error(false)
        .with_output("added a Large Latte; 1 drink(s) in the order");
    expect.next_event().is_message(ChatRole::Assistant).containing("large latte");
    expect.no_more_events();

    // The model was offered both tools.
    let request = &llm.requests()[0];
    assert_eq!(request.tools, ["add_to_order", "order_summary"]);
    session.close().await;
    Ok(())
}

#[tokio::test]
async fn a_sold_out_drink_is_an_error_the_model_reads() -> TestResult {
    let llm = FakeLlm::new()
        .on_input("A mocha.", FakeLlmResponse::tool_call("add_to_order", json!({"drink": "mocha"})))
        .on_input(
            "mocha is sold out today",
            FakeLlmResponse::text("Sorry, we're out of mocha. A latte instead?"),
        );
    let session = barista_session(&llm).await?;

    let result = session.run("A mocha.").await?;

    let mut expect = result.expect();
    expect.next_event().is_function_call("add_to_order");
    expect
        .next_event()
        .is_function_call_output()
        .is_error(true)
        .with_output("mocha is sold out today");
    expect.next_event().is_message(ChatRole::Assistant).containing("out of mocha");
    expect.no_more_events();
    session.close().await;
    Ok(())
}

#[tokio::test]
async fn the_order_is_kept_across_turns_and_read_back_as_json() -> TestResult {
    let llm = FakeLlm::new()
        .on_input(
            "An espresso.",
            FakeLlmResponse::tool_call(
                "add_to_order",
                json!({"drink": "espresso", "size": "small"}),
            ),
        )
        .on_input("added a Small Espresso; 1 drink(s) in the order", FakeLlmResponse::text("Sure."))
        .on_input(
            "And a flat white.",
            FakeLlmResponse::tool_call("add_to_order", json!({"drink": "flat_white"})),
        )
        .on_input(
            "added a Medium FlatWhite; 2 drink(s) in the order",
            FakeLlmResponse::text("Got it."),
        )
        .on_input("That's all.", FakeLlmResponse::tool_call("order_summary", json!({})))
        .on_input(
            r#"[{"drink":"espresso","size":"small"},{"drink":"flat_white","size":"medium"}]"#,
            FakeLlmResponse::text("A small espresso and a medium flat white."),
        );
    let session = barista_session(&llm).await?;

    session.run("An espresso.").await?;
    session.run("And a flat white.").await?;
    let result = session.run("That's all.").await?;

    let mut expect = result.expect();
    expect.next_event().is_function_call("order_summary");
    expect.next_event().is_function_call_output().with_output(
        r#"[{"drink":"espresso","size":"small"},{"drink":"flat_white","size":"medium"}]"#,
    );
    expect.next_event().is_message(ChatRole::Assistant).containing("flat white");
    expect.no_more_events();
    session.close().await;
    Ok(())
}

#[tokio::test]
async fn a_mocked_tool_failure_is_handled() -> TestResult {
    let llm = FakeLlm::new()
        .on_input("A latte.", FakeLlmResponse::tool_call("add_to_order", json!({"drink": "latte"})))
        .on_input(
            "the till is down",
            FakeLlmResponse::text("Sorry, our till is down; please order at the counter."),
        );
    let session = barista_session(&llm).await?;
    // The model still sees the real tool; only its execution is replaced.
    session.mock_tools(MockTools::new().with("add_to_order", |_arguments| async {
        Err::<String, _>(ToolError::message("the till is down"))
    }));

    let result = session.run("A latte.").await?;

    let mut expect = result.expect();
    expect.next_event().is_function_call("add_to_order");
    expect.next_event().is_function_call_output().is_error(true);
    expect.next_event().is_message(ChatRole::Assistant).containing("till is down");
    expect.no_more_events();
    session.close().await;
    Ok(())
}
