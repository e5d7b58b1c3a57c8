//! One user turn of an `AgentSession` in text, against an in-process model (divan).
//!
//! Run with `cargo bench -p agents-bench --bench turn`. Results are in `BENCHMARKS.md` at the
//! workspace root; per-turn CPU time, percentiles and growth over many turns are measured by
//! the `session_turns` bench, which prints tables.
//!
//! A turn is `session.run(USER_INPUT)` in which the model calls `get_weather`, then `get_time`,
//! then answers with text: three LLM steps (see `agents_bench::turn`). The model is
//! [`InstantLlm`], which answers at once with a ready stream, so the time is the framework's:
//! the session's queue and scheduler task, the reply loop, the chat-context copies, the tool
//! tasks, the events and the history.
//!
//! Every turn runs on a current-thread Tokio runtime (`enable_all`, as an application's
//! would), driven with `block_on`; nothing waits, so wall time is CPU time on an idle machine.
//!
//! * `session::first_turn`: the first turn of a new, started session (each iteration gets its
//!   own session, made and later closed outside the timed region).
//! * `session::eleventh_turn`: the same after ten turns (60 history items), to show how the
//!   history's length shows up already.
//! * `baseline::bare_turn`: the same turn hand-written ([`bare_turn`]): the least work any
//!   agent loop does for it. `first_turn − bare_turn` is the session's overhead.
//! * `baseline::llm_only`: the model's own share: the three `chat` calls of a turn and
//!   draining their streams.

use std::cell::RefCell;

use agents_bench::turn::{InstantLlm, USER_INPUT, bare_history, bare_turn, turn_agent};
use agents_core::llm::{
    ChatContext, ChatMessage, ChatOptions, ChatRole, FunctionCall, FunctionCallOutput, Llm as _,
};
use agents_core::voice::{AgentSession, RunResult};
use divan::Bencher;
use futures::StreamExt;
use tokio::runtime::Runtime;

/// Runs the benchmarks with 200 samples each (CLI flags such as `--sample-count` override it).
fn main() {
    divan::Divan::default().sample_count(200).config_with_args().main();
}

/// A current-thread runtime with I/O and time enabled, as an application has.
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime")
}

/// A started session with an [`InstantLlm`] and the turn's agent, after `turns` turns.
fn session_after(rt: &Runtime, turns: usize) -> AgentSession {
    rt.block_on(async {
        let session = AgentSession::builder().llm(InstantLlm::new()).build();
        session.start(turn_agent()).await.expect("the session starts");
        session.wait_for_idle().await;
        for _ in 0..turns {
            session.run(USER_INPUT).await.expect("the turn runs");
        }
        session
    })
}

/// Benchmarks one turn of sessions that already ran `turns` turns. Each iteration takes a
/// fresh session; used sessions are closed while the next sample's inputs are made, outside
/// the timed region.
fn bench_turn(bencher: Bencher<'_, '_>, turns: usize) {
    let rt = runtime();
    let used: RefCell<Vec<AgentSession>> = RefCell::new(Vec::new());
    bencher
        .with_inputs(|| {
            for session in used.borrow_mut().drain(..) {
                rt.block_on(session.close());
            }
            session_after(&rt, turns)
        })
        .bench_local_values(|session| -> RunResult {
            let result = rt.block_on(session.run(USER_INPUT)).expect("the turn runs");
            used.borrow_mut().push(session);
            result
        });
    for session in used.borrow_mut().drain(..) {
        rt.block_on(session.close());
    }
}

/// Turns of an `AgentSession`.
mod session {
    use super::*;

    /// The first turn of a new session.
    #[divan::bench(sample_size = 8)]
    fn first_turn(bencher: Bencher<'_, '_>) {
        bench_turn(bencher, 0);
    }

    /// The eleventh turn (60 history items before it).
    #[divan::bench(sample_size = 8)]
    fn eleventh_turn(bencher: Bencher<'_, '_>) {
        bench_turn(bencher, 10);
    }
}

/// What the session's turn is compared with.
mod baseline {
    use super::*;

    /// The same turn hand-written, on a history with only the instructions.
    #[divan::bench(sample_size = 8)]
    fn bare_turn(bencher: Bencher<'_, '_>) {
        let rt = runtime();
        let (llm, agent) = (InstantLlm::new(), turn_agent());
        bencher.with_inputs(|| bare_history(&agent)).bench_local_values(|mut history| {
            let text = rt.block_on(super::bare_turn(&llm, &agent, &mut history));
            (history, text)
        });
    }

    /// The model's share of a turn: its three `chat` calls (on the contexts of the three
    /// steps) and draining their ready streams.
    #[divan::bench(sample_size = 32)]
    fn llm_only(bencher: Bencher<'_, '_>) {
        let llm = InstantLlm::new();
        let options = ChatOptions::default();
        let mut first = ChatContext::new();
        first.push(ChatMessage::new(ChatRole::System, "instructions"));
        first.push(ChatMessage::new(ChatRole::User, USER_INPUT));
        let mut second = first.clone();
        second.push(FunctionCall::new("call_1", "get_weather", "{}"));
        second.push(FunctionCallOutput::new("call_1", "get_weather", "sunny", false));
        let mut third = second.clone();
        third.push(FunctionCall::new("call_2", "get_time", "{}"));
        third.push(FunctionCallOutput::new("call_2", "get_time", "14:00", false));
        let contexts = [first, second, third];
        bencher.bench_local(|| {
            let mut chunks = 0;
            for ctx in &contexts {
                let stream = llm.chat(ctx, &[], &options);
                chunks += futures::executor::block_on(stream.count());
            }
            chunks
        });
    }
}
