//! The seed in a LiveKit room, end to end: the built `update_tools` example runs as a worker
//! (`dev`, its jobs in a host process) or joins one room (`connect --room`), against the
//! LiveKit test server (`/agent` and the `/rtc` SFU) and the fake LiveKit Inference gateway
//! (STT, LLM and TTS). A server-side participant is the user: it hears the agent greet it,
//! says "please print to the console" (espeak-ng speech), and the fake model calls the
//! example's own `print_to_console` tool, whose line reaches the example's stdout.
//!
//! libwebrtc ignores loopback, so each test runs in a network namespace of its own (the
//! example, started from inside it, lives there too): the tests need root, the LiveKit
//! client library and ONNX Runtime (`cargo xtask setup` installs both). Without root they
//! fail saying so; they never skip.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;
mod room_support;

use std::time::Duration;

use agents_test_support::livekit::rtc::ServerParticipant;
use room_support::{AGENT_GREETING, WAIT, World, in_namespace, peak, spoken_request};

/// What every run checks once the agent is in the room with `user`: the greeting is heard
/// and shown, the spoken request runs the tool, and the answer is shown.
async fn converse(world: &World, user: &ServerParticipant, agent: &str) {
    // The greeting, out loud and as the agent's transcription.
    let greeting = user
        .wait_text_stream(
            "lk.transcription",
            |s| s.sender_identity == agent && s.text == AGENT_GREETING,
            WAIT,
        )
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{e}\nstates {:?}\nstreams {:?}\n{}",
                user.attribute_history(agent, "lk.agent.state"),
                user.text_streams(),
                world.agent_output()
            )
        });
    assert_eq!(greeting.attributes.get("lk.transcription_final").map(String::as_str), Some("true"));
    let deadline = tokio::time::Instant::now() + WAIT;
    while peak(&user.captured(agent)) < 1_000 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the greeting was silent ({} samples captured)\n{}",
            user.captured(agent).len(),
            world.agent_output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    assert!(!world.stdout().contains("Console Print Success!"), "the tool ran unasked");

    // The user asks, out loud.
    let (speech, rate) = spoken_request();
    user.publish_pcm(&speech, rate).await.unwrap();

    // Its words reach the room as the user's final transcription …
    user.wait_text_stream(
        "lk.transcription",
        |s| {
            s.text == "please print to the console"
                && s.attributes.get("lk.transcription_final").is_some_and(|f| f == "true")
        },
        WAIT,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", world.agent_output()));
    // … the model calls the example's tool, which prints to the example's stdout …
    world.wait_stdout("Console Print Success!").await;
    // … and the agent says it did.
    user.wait_text_stream(
        "lk.transcription",
        |s| s.sender_identity == agent && s.text == "Done: I've printed to the console.",
        WAIT,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", world.agent_output()));
    let states = user.attribute_history(agent, "lk.agent.state");
    for state in ["listening", "thinking", "speaking"] {
        assert!(states.iter().any(|s| s == state), "lk.agent.state went {states:?}");
    }
}

#[test]
fn the_seed_greets_and_runs_its_tool_in_a_room_as_a_dev_worker() {
    in_namespace(|| async {
        let world = World::start().await;
        let user = world.server.rtc().join("demo", "user").unwrap();
        // `dev`, its jobs in a host process (Python's default isolation).
        world.spawn_agent(&["dev", "--job-hosts", "1"]);
        let worker = world
            .server
            .agent()
            .registered(0, WAIT)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", world.agent_output()));
        let job = world.server.agent().new_job("demo");
        let answer = worker.dispatch(job.clone(), WAIT).await.unwrap();
        assert!(answer.available, "the worker took the job: {answer:?}");
        let agent = answer.participant_identity.clone();
        user.wait_participant(&agent, WAIT)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", world.agent_output()));

        converse(&world, &user, &agent).await;

        // The user leaves: the session closes and the job ends well; the worker stays.
        drop(user);
        let ended = world
            .server
            .agent()
            .wait_for_ended(1, WAIT)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", world.agent_output()));
        assert_eq!(ended[0].status().as_str_name(), "JS_SUCCESS", "{:?}", ended[0].statuses);
        assert!(worker.is_open());
        world.stop_agent().await;
        world.check_clean();
    });
}

#[test]
fn the_seed_greets_and_runs_its_tool_in_a_room_it_connects_to() {
    in_namespace(|| async {
        let world = World::start().await;
        let user = world.server.rtc().join("demo", "user").unwrap();
        // No worker, no dispatch: one job for the room, with a token minted from the key.
        world.spawn_agent(&["connect", "--room", "demo", "--participant-identity", "seed"]);
        user.wait_participant("seed", WAIT)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", world.agent_output()));

        converse(&world, &user, "seed").await;

        // The user leaves: the session closes, the job ends, and `connect` exits 0.
        drop(user);
        let status = world.wait_agent_exit().await;
        assert!(status.success(), "exit status {status:?}\n{}", world.agent_output());
        assert_eq!(world.server.agent().connections(), 0, "connect registers no worker");
        world.check_clean();
    });
}
