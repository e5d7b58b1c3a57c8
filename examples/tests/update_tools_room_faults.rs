//! The seed's room faults, end to end: the built `update_tools` example against the LiveKit
//! test server when the server misbehaves. Each fault has a clean, typed outcome: a dropped
//! signal connection ends the job (its reason logged) and the worker takes the next job; a
//! refused token names the credentials to check; the `JoinResponse` that aborts the LiveKit
//! client library kills only the job's host process, and the worker reports the job failed
//! and takes the next one.
//!
//! Like `update_tools_room.rs`, each test runs in a network namespace of its own (root, the
//! LiveKit client library and ONNX Runtime: `cargo xtask setup`).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod common;
mod room_support;

use agents_test_support::livekit::WorkerHandle;
use agents_test_support::livekit::rtc::RtcFault;
use common::SECRET;
use room_support::{AGENT_GREETING, WAIT, World, in_namespace};

/// Dispatches a job for `room` (where `user` waits) and waits until the agent greets there;
/// returns the job's id.
async fn greeted_in(
    world: &World,
    worker: &WorkerHandle,
    user: &agents_test_support::livekit::rtc::ServerParticipant,
    room: &str,
) -> (String, String) {
    let job = world.server.agent().new_job(room);
    let answer = worker.dispatch(job.clone(), WAIT).await.unwrap();
    assert!(answer.available, "the worker took the job: {answer:?}");
    let agent = answer.participant_identity;
    user.wait_text_stream(
        "lk.transcription",
        |s| s.sender_identity == agent && s.text == AGENT_GREETING,
        WAIT,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", world.agent_output()));
    (job.id, agent)
}

fn status(world: &World, id: &str) -> (String, String) {
    let record = world.server.agent().job(id).unwrap();
    (record.status().as_str_name().to_owned(), record.error().to_owned())
}

#[test]
fn a_dropped_signal_connection_ends_the_job_and_the_worker_takes_the_next() {
    in_namespace(|| async {
        let world = World::start().await;
        let user = world.server.rtc().join("first", "user").unwrap();
        world.spawn_agent(&["dev"]);
        let worker = world.server.agent().registered(0, WAIT).await.unwrap();
        let (first, agent) = greeted_in(&world, &worker, &user, "first").await;

        // The server drops the agent's signal connection and refuses it back: the client's
        // resume and rejoins fail, and it leaves the room (the library gives up after about
        // 20 s of rejoin attempts).
        world.server.rtc().inject(RtcFault::RefuseAllTokens);
        assert!(world.server.rtc().drop_signal(&agent));
        let record = world
            .server
            .agent()
            .wait_for_ended(1, 2 * WAIT)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", world.agent_output()));
        assert_eq!(record[0].job.id, first);
        assert_eq!(status(&world, &first).0, "JS_SUCCESS", "{}", world.agent_output());
        world.wait_stderr("the LiveKit room disconnected (").await;

        // The worker stayed registered, and takes the next job.
        assert!(worker.is_open());
        assert_eq!(world.server.agent().connections(), 1, "the worker did not reconnect");
        world.server.rtc().clear_faults();
        let second_user = world.server.rtc().join("second", "user").unwrap();
        let (second, _) = greeted_in(&world, &worker, &second_user, "second").await;
        assert_eq!(status(&world, &second).0, "JS_RUNNING");
        world.stop_agent().await;
    });
}

#[test]
fn a_dropped_signal_connection_that_comes_back_keeps_the_session() {
    in_namespace(|| async {
        let world = World::start().await;
        let user = world.server.rtc().join("first", "user").unwrap();
        world.spawn_agent(&["dev"]);
        let worker = world.server.agent().registered(0, WAIT).await.unwrap();
        let (first, agent) = greeted_in(&world, &worker, &user, "first").await;

        // The connection drops; the client rejoins (the server does not resume sessions).
        // Meanwhile the library reports the user gone: that must not close the session.
        assert!(world.server.rtc().drop_signal(&agent));
        world.wait_stderr("reason=UnknownReason").await;
        let deadline = tokio::time::Instant::now() + WAIT;
        while world.stderr().matches("linked participant participant=user").count() < 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the user was not linked again\n{}",
                world.agent_output()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(status(&world, &first).0, "JS_RUNNING", "{}", world.agent_output());

        // The same session hears the user and runs the tool.
        let (speech, rate) = room_support::spoken_request();
        user.publish_pcm(&speech, rate).await.unwrap();
        world.wait_stdout("Console Print Success!").await;
        world.stop_agent().await;
    });
}

#[test]
fn a_refused_room_token_names_the_credentials_to_check() {
    in_namespace(|| async {
        let world = World::start().await;
        world.server.rtc().inject(RtcFault::RefuseAllTokens);
        world.spawn_agent(&["connect", "--room", "demo"]);
        let status = world.wait_agent_exit().await;
        assert!(!status.success());
        let stderr = world.stderr();
        assert!(
            stderr.contains("refused the job's room token")
                && stderr.contains("LIVEKIT_API_KEY")
                && stderr.contains("LIVEKIT_API_SECRET"),
            "{}",
            world.agent_output()
        );
        // Never the secret, nor a token minted from it.
        assert!(!stderr.contains(SECRET) && !stderr.contains("eyJ"), "{stderr}");
        assert!(!world.server.rtc().connections().is_empty());
    });
}

#[test]
fn the_aborting_join_response_kills_only_the_jobs_host_and_the_worker_goes_on() {
    in_namespace(|| async {
        let world = World::start().await;
        let user = world.server.rtc().join("first", "user").unwrap();
        // Jobs in a host process: what a native library's abort takes is that process.
        world.spawn_agent(&["dev", "--job-hosts", "1"]);
        let worker = world.server.agent().registered(0, WAIT).await.unwrap();
        world.server.rtc().inject(RtcFault::AbortingJoinResponse);
        let job = world.server.agent().new_job("first");
        let answer = worker.dispatch(job.clone(), WAIT).await.unwrap();
        assert!(answer.available);
        let record = world
            .server
            .agent()
            .wait_for_ended(1, WAIT)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", world.agent_output()));
        let (status, error) = (record[0].status().as_str_name(), record[0].error());
        assert_eq!(status, "JS_FAILED", "{}", world.agent_output());
        assert!(error.contains("job host process") && error.contains("exited"), "{error}");

        // The worker is still registered, a new host replaces the dead one, and the next job
        // runs and greets its user.
        assert!(worker.is_open());
        assert_eq!(world.server.agent().connections(), 1);
        let (second, _) = greeted_in(&world, &worker, &user, "first").await;
        assert_eq!(self::status(&world, &second).0, "JS_RUNNING");
        world.stop_agent().await;
    });
}
