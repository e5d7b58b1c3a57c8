//! `Agent::update_tools`: validation, atomic swaps, and snapshot semantics under concurrency.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use agents_core::llm::{FunctionTool, ToolSetError};
use agents_core::prelude::*;

fn call(name: &str, arguments: &str) -> RunContext {
    RunContext::new(FunctionCall::new("call", name, arguments))
}

async fn ping() -> &'static str {
    "pong"
}

async fn random_number() -> i64 {
    rand::random_range(0..=100)
}

struct AddFunctionAgent;

#[function_tools]
impl AddFunctionAgent {
    /// Print to the console.
    #[function_tool]
    async fn print_to_console(&self, _ctx: RunContext) -> &'static str {
        "I've printed to the console."
    }
}

#[tokio::test]
async fn update_tools_reads_like_the_python_seed() {
    let agent = Agent::new("You are a helpful assistant.")
        .with_tools(Arc::new(AddFunctionAgent).function_tools())
        .expect("unique names");
    // Python: await agent.update_tools(agent.tools + [function_tool(_random_number, ...)])
    agent
        .update_tools(
            agent.tools()
                + [function_tool(random_number, "random_number", "Get a random number")
                    .expect("valid tool")],
        )
        .await
        .expect("unique names");
    let tools = agent.tools();
    assert_eq!(tools.names().collect::<Vec<_>>(), ["print_to_console", "random_number"]);
    let printed = tools.invoke(call("print_to_console", "")).await.expect("runs");
    assert_eq!(printed.output, "I've printed to the console.");
}

#[tokio::test]
async fn an_invalid_update_is_rejected_whole() {
    let agent =
        Agent::new("x").with_tools(vec![function_tool(ping, "ping", "Ping.").expect("valid")]);
    let agent = agent.expect("valid set");
    let before = agent.tools();
    let clash = vec![
        function_tool(ping, "fresh", "A new tool.").expect("valid"),
        function_tool(ping, "ping", "Another ping.").expect("valid"),
        function_tool(ping, "ping", "A third ping.").expect("valid"),
    ];
    let error = agent.update_tools(clash).await.expect_err("duplicate names");
    assert!(matches!(error, ToolSetError::DuplicateName { ref name, .. } if name == "ping"));
    let after = agent.tools();
    assert!(after.same_snapshot(&before), "the current set stays in place");
    assert!(!after.contains("fresh"), "nothing of the rejected set was applied");
}

#[tokio::test]
async fn a_snapshot_keeps_the_tools_it_was_offered() {
    let agent = Agent::new("x")
        .with_tools([function_tool(ping, "old_tool", "Old.").expect("valid")])
        .expect("valid set");
    // An LLM request takes a snapshot when it is made...
    let in_flight = agent.tools();
    // ...the set is replaced while the request is in flight...
    agent
        .update_tools([function_tool(ping, "new_tool", "New.").expect("valid")])
        .await
        .expect("valid set");
    // ...and the calls it returns run against what it was offered.
    assert_eq!(in_flight.invoke(call("old_tool", "")).await.expect("offered").output, "pong");
    let error = in_flight.invoke(call("new_tool", "")).await.expect_err("not offered");
    assert_eq!(error.llm_message(), "Unknown function: new_tool - available tools: old_tool");
    // The next request sees the new set.
    let next = agent.tools();
    assert!(next.contains("new_tool") && !next.contains("old_tool"));
}

/// A tool that unlocks another tool: the model can call it in the very next step.
struct Vault {
    agent: Agent,
}

#[function_tools]
impl Vault {
    /// Unlock the secret tool.
    #[function_tool]
    async fn unlock(&self) -> Result<&'static str, ToolError> {
        let secret =
            function_tool(|| async { "the secret is 42" }, "read_secret", "Read the secret.")
                .map_err(ToolError::internal)?;
        self.agent.update_tools(self.agent.tools() + secret).await.map_err(ToolError::internal)?;
        Ok("unlocked")
    }
}

#[tokio::test]
async fn a_tool_can_unlock_another_tool_for_the_next_step_of_the_same_turn() {
    let agent = Agent::new("x");
    let vault = Arc::new(Vault { agent: agent.clone() });
    agent.update_tools(vault.function_tools()).await.expect("valid set");

    // Step 1 of a turn: the model is offered `unlock` and calls it.
    let step_one = agent.tools();
    assert!(!step_one.contains("read_secret"));
    assert_eq!(step_one.invoke(call("unlock", "{}")).await.expect("runs").output, "unlocked");
    // Step 2 of the same turn takes a fresh snapshot and can call the new tool.
    let step_two = agent.tools();
    assert_eq!(
        step_two.invoke(call("read_secret", "")).await.expect("unlocked").output,
        "the secret is 42"
    );
    // Step 1's snapshot is unchanged.
    assert!(!step_one.contains("read_secret"));
}

#[tokio::test]
async fn update_instructions_applies_to_the_next_request() {
    let agent = Agent::new("v1");
    let before = agent.instructions();
    agent.update_instructions("v2").await;
    assert_eq!(*before, "v1");
    assert_eq!(*agent.instructions(), "v2");
}

/// The tools of generation `g`: every tool answers `g`, so a call's output names the set it ran
/// against.
fn generation(g: u64, size: usize) -> Vec<FunctionTool> {
    (0..size)
        .map(|i| {
            function_tool(move || async move { g }, format!("tool_{}", (g as usize + i) % 8), "T.")
                .expect("valid tool")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swaps_under_concurrent_turns_never_mix_sets() {
    const SWAPS: u64 = 5_000;
    const TURN_TASKS: usize = 4;

    let agent = Agent::new("x").with_tools(generation(0, 3)).expect("valid set");
    let done = Arc::new(AtomicBool::new(false));
    let calls_made = Arc::new(AtomicU64::new(0));
    let calls_answered = Arc::new(AtomicU64::new(0));

    let mut turns = Vec::new();
    for _ in 0..TURN_TASKS {
        let agent = agent.clone();
        let done = done.clone();
        let calls_made = calls_made.clone();
        let calls_answered = calls_answered.clone();
        turns.push(tokio::spawn(async move {
            let mut turns = 0u64;
            while !done.load(Ordering::Acquire) || turns < 100 {
                // A simulated turn: offer the snapshot's tools, then run every call the
                // "model" makes against that same snapshot.
                let offered = agent.tools();
                let names: Vec<String> = offered.names().map(str::to_owned).collect();
                let mut generation_seen = None;
                for name in &names {
                    calls_made.fetch_add(1, Ordering::Relaxed);
                    let answer = offered.invoke(call(name, "{}")).await.expect("offered tool runs");
                    calls_answered.fetch_add(1, Ordering::Relaxed);
                    let g: u64 = answer.output.parse().expect("generation number");
                    assert_eq!(*generation_seen.get_or_insert(g), g, "one turn, one set");
                }
                turns += 1;
                tokio::task::yield_now().await;
            }
            turns
        }));
    }

    let swapper = {
        let agent = agent.clone();
        tokio::spawn(async move {
            for g in 1..=SWAPS {
                let size = 1 + (g % 5) as usize;
                agent.update_tools(generation(g, size)).await.expect("valid set");
                if g % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    swapper.await.expect("swapper finished");
    done.store(true, Ordering::Release);
    let mut total_turns = 0;
    for turn in turns {
        total_turns += turn.await.expect("turn task finished");
    }
    assert!(total_turns >= 100 * TURN_TASKS as u64);
    assert_eq!(calls_made.load(Ordering::Relaxed), calls_answered.load(Ordering::Relaxed));
    let last = agent.tools();
    let answer = last.invoke(call(last.names().next().expect("a tool"), "")).await.expect("runs");
    assert_eq!(answer.output, SWAPS.to_string(), "the last swap won");
}
