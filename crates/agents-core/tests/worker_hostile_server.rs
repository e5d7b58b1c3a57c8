//! The worker against a LiveKit server that sends more than any real one: a message over the
//! worker's limit fails the connection (which is retried) instead of being buffered and read.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use agents_core::prelude::*;
use agents_core::worker::__fuzz::MAX_SERVER_MESSAGE;
use agents_core::worker::{Worker, WorkerOptions};
use agents_test_support::livekit::TestServer;
use livekit_protocol::worker_message;

const KEY: &str = "APItestkey";
const SECRET: &str = "test-secret-that-is-long-enough-for-hs256";
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_limit_drops_the_connection_and_the_worker_reconnects() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let mut options = WorkerOptions::development(server.url(), KEY, SECRET);
    options.port = None;
    let app = AgentServer::new().rtc_session(|_ctx: JobContext| async {});
    let worker = Worker::start(app, options).await.unwrap();
    worker.registered().await.unwrap();
    let first = server.agent().registered(0, WAIT).await.unwrap();

    // A job whose metadata alone is over the limit: no real server sends one.
    let mut job = server.agent().new_job("room");
    job.metadata = "x".repeat(MAX_SERVER_MESSAGE + 1);
    let id = job.id.clone();
    first.request_availability(job);

    // The connection is dropped and a new one registers; the job was never answered.
    server.agent().registered(1, WAIT).await.unwrap();
    let answered = first.received().into_iter().chain(server.agent().received(1)).any(|m| {
        matches!(m.message, Some(worker_message::Message::Availability(ref a)) if a.job_id == id)
    });
    assert!(!answered, "the oversized offer was read and answered");

    // A job of normal size on the new connection is still offered and answered.
    let second = server.agent().registered(1, WAIT).await.unwrap();
    let next = server.agent().new_job("next");
    assert!(second.dispatch(next, WAIT).await.unwrap().available);
    worker.aclose().await;
}
