//! The worker against the LiveKit test server's `/agent` endpoint, message by message:
//! registration, dispatch, assignment, job statuses, termination, rejection, the assignment
//! wait, reconnection with migration, panics, drain, the health server, and bad credentials.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_core::prelude::*;
use agents_core::worker::{
    BoxError, JobAcceptArguments, JobError, JobRequest, RoomCredentials, Worker, WorkerError,
    WorkerOptions,
};
use agents_test_support::livekit::TestServer;
use livekit_protocol::{JobStatus, WorkerMessage, worker_message};

const KEY: &str = "APItestkey";
const SECRET: &str = "test-secret-that-is-long-enough-for-hs256";
const WAIT: Duration = Duration::from_secs(10);

fn options(server: &TestServer) -> WorkerOptions {
    let mut options = WorkerOptions::development(server.url(), KEY, SECRET);
    options.port = None;
    options
}

/// A job as its entrypoint saw it: the id, the room, the credentials.
type SeenJob = (String, String, Option<RoomCredentials>);

/// What the entrypoints saw.
#[derive(Default, Clone)]
struct Seen {
    jobs: Arc<Mutex<Vec<SeenJob>>>,
}

/// An entrypoint that connects and stays until the job is ended.
fn staying_server(seen: &Seen) -> AgentServer {
    let seen = seen.clone();
    AgentServer::new().rtc_session(move |ctx: JobContext| {
        let seen = seen.clone();
        async move {
            seen.jobs.lock().unwrap().push((
                ctx.job_id().to_owned(),
                ctx.job().room_name.clone(),
                ctx.room_credentials().cloned(),
            ));
            ctx.connect().await?;
            Ok::<(), JobError>(())
        }
    })
}

/// The worker's messages without the periodic status updates.
fn without_status(messages: Vec<WorkerMessage>) -> Vec<worker_message::Message> {
    messages
        .into_iter()
        .filter_map(|message| message.message)
        .filter(|message| !matches!(message, worker_message::Message::UpdateWorker(_)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exchange_message_by_message() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let seen = Seen::default();
    let mut options = options(&server);
    options.agent_name = "my-agent".into();
    let worker = Worker::start(staying_server(&seen), options).await.unwrap();
    let worker_id = worker.registered().await.unwrap();
    assert_eq!(worker_id, "AW_1");

    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let registration = connection.registration();
    assert_eq!(registration.agent_name, "my-agent");
    assert_eq!(registration.r#type, livekit_protocol::JobType::JtRoom as i32);
    assert_eq!(registration.version, agents_core::worker::SDK_VERSION);
    let permissions = registration.allowed_permissions.unwrap();
    assert!(permissions.can_publish && permissions.can_subscribe && !permissions.hidden);
    assert!(connection.claims().video.agent, "a video.agent token");
    assert_eq!(connection.query(), None, "no worker_token without LIVEKIT_WORKER_TOKEN");

    let job = server.agent().new_job("room-1");
    let id = job.id.clone();
    let answer = connection.dispatch(job, WAIT).await.unwrap();
    assert!(answer.available);
    assert_eq!(answer.participant_identity, format!("agent-{id}"));
    assert_eq!(answer.participant_attributes["lk.agent.name"], "my-agent");

    let record = server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();
    let token = record.token.clone().unwrap();
    // The entrypoint got the server's URL and the token of the assignment.
    tokio::time::timeout(WAIT, async {
        while seen.jobs.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    let (job_id, room, credentials) = seen.jobs.lock().unwrap()[0].clone();
    assert_eq!((job_id.as_str(), room.as_str()), (id.as_str(), "room-1"));
    let credentials = credentials.unwrap();
    assert_eq!(
        (credentials.url.as_str(), credentials.token.as_str()),
        (server.url().as_str(), token.as_str())
    );
    assert!(!format!("{credentials:?}").contains(&token), "the token is not in Debug output");
    assert_eq!(worker.active_jobs(), vec![id.clone()]);

    connection.terminate(&id);
    let record = server.agent().wait_for_status(&id, JobStatus::JsSuccess, WAIT).await.unwrap();
    assert_eq!(record.error(), "");
    // (A message's effect is visible before the message itself is recorded.)
    server
        .agent()
        .wait_for_message(0, 0, WAIT, |m| {
            matches!(&m.message, Some(worker_message::Message::UpdateJob(u))
                if u.status == JobStatus::JsSuccess as i32)
        })
        .await
        .unwrap();

    let messages = without_status(connection.received());
    let kinds: Vec<String> = messages
        .iter()
        .map(|message| match message {
            worker_message::Message::Register(_) => "register".to_owned(),
            worker_message::Message::Availability(a) => format!("availability {}", a.available),
            worker_message::Message::UpdateJob(u) => {
                JobStatus::try_from(u.status).unwrap().as_str_name().to_owned()
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["register", "availability true", "JS_RUNNING", "JS_SUCCESS"]);
    worker.aclose().await;
    assert!(server.violations().is_empty(), "{:?}", server.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_updates_report_the_job_count() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let mut options = options(&server);
    options.status_interval = Duration::from_millis(50);
    let worker = Worker::start(staying_server(&Seen::default()), options).await.unwrap();
    worker.registered().await.unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let job = server.agent().new_job("r");
    let id = job.id.clone();
    connection.dispatch(job, WAIT).await.unwrap();
    server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();
    server
        .agent()
        .wait_for_message(0, 0, WAIT, |message| {
            matches!(&message.message, Some(worker_message::Message::UpdateWorker(status))
                if status.job_count == 1
                    && status.status == Some(livekit_protocol::WorkerStatus::WsAvailable as i32))
        })
        .await
        .unwrap();
    worker.aclose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_fnc_accepts_with_arguments_or_rejects() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let app = staying_server(&Seen::default()).request_fnc(|request: JobRequest| async move {
        match request.room_name() {
            "vip" => request.accept(
                JobAcceptArguments::default()
                    .name("VIP agent")
                    .identity("vip-agent")
                    .metadata("{\"tier\":1}")
                    .attribute("team", "gold"),
            ),
            "never" => request.reject(true),
            "silent" => drop(request),
            _ => request.reject(false),
        }
    });
    let worker = Worker::start(app, options(&server)).await.unwrap();
    worker.registered().await.unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();

    let answer = connection.dispatch(server.agent().new_job("vip"), WAIT).await.unwrap();
    assert!(answer.available);
    assert_eq!(
        (answer.participant_name.as_str(), answer.participant_identity.as_str()),
        ("VIP agent", "vip-agent")
    );
    assert_eq!(answer.participant_metadata, "{\"tier\":1}");
    assert_eq!(answer.participant_attributes["team"], "gold");
    assert_eq!(answer.participant_attributes["lk.agent.name"], "", "always set");

    let answer = connection.dispatch(server.agent().new_job("never"), WAIT).await.unwrap();
    assert!(!answer.available && answer.terminate);
    let answer = connection.dispatch(server.agent().new_job("other"), WAIT).await.unwrap();
    assert!(!answer.available && !answer.terminate);
    let answer = connection.dispatch(server.agent().new_job("silent"), WAIT).await.unwrap();
    assert!(!answer.available, "a request dropped unanswered is rejected");
    worker.aclose().await;
    assert!(server.violations().is_empty(), "{:?}", server.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assignment_that_never_comes_frees_the_slot() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let mut options = options(&server);
    options.max_jobs = Some(1);
    options.assignment_timeout = Duration::from_millis(200);
    let worker = Worker::start(staying_server(&Seen::default()), options).await.unwrap();
    worker.registered().await.unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    server.agent().withhold_assignments(true);
    assert!(connection.dispatch(server.agent().new_job("a"), WAIT).await.unwrap().available);
    // The slot is reserved while the worker waits for the assignment.
    assert!(!connection.dispatch(server.agent().new_job("b"), WAIT).await.unwrap().available);
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.agent().withhold_assignments(false);
    let job = server.agent().new_job("c");
    let id = job.id.clone();
    assert!(connection.dispatch(job, WAIT).await.unwrap().available, "the slot was released");
    server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();
    worker.aclose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_fails_alone() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let app = AgentServer::new().rtc_session(|ctx: JobContext| async move {
        if ctx.job().room_name == "bad" {
            panic!("the entrypoint blew up");
        }
        if ctx.job().room_name == "error" {
            return Err("no such customer".into());
        }
        ctx.connect().await?;
        Ok::<(), BoxError>(())
    });
    let worker = Worker::start(app, options(&server)).await.unwrap();
    worker.registered().await.unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let good = server.agent().new_job("good");
    let bad = server.agent().new_job("bad");
    let error = server.agent().new_job("error");
    let ids = [good.id.clone(), bad.id.clone(), error.id.clone()];
    for job in [good, bad, error] {
        connection.dispatch(job, WAIT).await.unwrap();
    }
    let failed = server.agent().wait_for_status(&ids[1], JobStatus::JsFailed, WAIT).await.unwrap();
    assert!(failed.error().contains("the entrypoint blew up"), "{}", failed.error());
    let failed = server.agent().wait_for_status(&ids[2], JobStatus::JsFailed, WAIT).await.unwrap();
    assert!(failed.error().contains("no such customer"), "{}", failed.error());
    // The good job keeps running; the worker keeps taking jobs.
    assert_eq!(server.agent().job(&ids[0]).unwrap().status(), JobStatus::JsRunning);
    assert_eq!(worker.active_jobs(), vec![ids[0].clone()]);
    let next = server.agent().new_job("next");
    assert!(connection.dispatch(next, WAIT).await.unwrap().available);
    worker.aclose().await;
    // Closed gracefully and reported before the connection closed.
    server.agent().wait_for_status(&ids[0], JobStatus::JsSuccess, WAIT).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_reconnects_and_migrates_running_jobs() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let worker = Worker::start(staying_server(&Seen::default()), options(&server)).await.unwrap();
    worker.registered().await.unwrap();
    let first = server.agent().registered(0, WAIT).await.unwrap();
    let job = server.agent().new_job("room");
    let id = job.id.clone();
    first.dispatch(job, WAIT).await.unwrap();
    server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();

    first.drop_connection();
    // The first retry is immediate (Python's delay 0); the job kept running.
    let second = server.agent().registered(1, WAIT).await.unwrap();
    let (_, migrate) = server
        .agent()
        .wait_for_message(1, 0, WAIT, |m| {
            matches!(m.message, Some(worker_message::Message::MigrateJob(_)))
        })
        .await
        .unwrap();
    let Some(worker_message::Message::MigrateJob(migrate)) = migrate.message else {
        unreachable!()
    };
    assert_eq!(migrate.job_ids, vec![id.clone()]);
    assert!(server.agent().job(&id).unwrap().migrated);
    let messages = without_status(second.received());
    assert!(matches!(messages[0], worker_message::Message::Register(_)));
    assert!(
        matches!(messages[1], worker_message::Message::MigrateJob(_)),
        "right after registering"
    );
    assert_eq!(worker.registered().await.unwrap(), "AW_2");

    second.terminate(&id);
    server.agent().wait_for_status(&id, JobStatus::JsSuccess, WAIT).await.unwrap();
    worker.aclose().await;
    assert!(server.violations().is_empty(), "{:?}", server.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_is_waited_for() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    server.agent().register_delay(Duration::from_millis(300));
    server.agent().assignment_delay(Duration::from_millis(300));
    let worker = Worker::start(staying_server(&Seen::default()), options(&server)).await.unwrap();
    assert_eq!(worker.registered().await.unwrap(), "AW_1");
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let job = server.agent().new_job("slow");
    let id = job.id.clone();
    connection.dispatch(job, WAIT).await.unwrap();
    server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();
    worker.aclose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_stops_taking_jobs_and_waits_for_the_running_ones() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let worker =
        Arc::new(Worker::start(staying_server(&Seen::default()), options(&server)).await.unwrap());
    worker.registered().await.unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let job = server.agent().new_job("busy");
    let id = job.id.clone();
    connection.dispatch(job, WAIT).await.unwrap();
    server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();

    let draining = tokio::spawn({
        let worker = worker.clone();
        async move { worker.drain(None).await }
    });
    server
        .agent()
        .wait_for_message(0, 0, WAIT, |m| {
            matches!(&m.message, Some(worker_message::Message::UpdateWorker(s))
                if s.status == Some(livekit_protocol::WorkerStatus::WsFull as i32) && s.draining)
        })
        .await
        .unwrap();
    assert!(!connection.dispatch(server.agent().new_job("late"), WAIT).await.unwrap().available);
    assert!(!draining.is_finished(), "a job still runs");
    connection.terminate(&id);
    tokio::time::timeout(WAIT, draining).await.unwrap().unwrap().unwrap();
    worker.aclose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_timeout_is_an_error() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let worker = Worker::start(staying_server(&Seen::default()), options(&server)).await.unwrap();
    worker.registered().await.unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let job = server.agent().new_job("stuck");
    let id = job.id.clone();
    connection.dispatch(job, WAIT).await.unwrap();
    server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();
    let error = worker.drain(Some(Duration::from_millis(100))).await.unwrap_err();
    assert!(matches!(error, WorkerError::DrainTimedOut { jobs: 1, .. }), "{error}");
    worker.aclose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_server_answers() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let mut options = options(&server);
    options.port = Some(0);
    options.host = std::net::Ipv4Addr::LOCALHOST.into();
    options.agent_name = "healthy".into();
    let worker = Worker::start(staying_server(&Seen::default()), options).await.unwrap();
    worker.registered().await.unwrap();
    let address = worker.health_address().unwrap();
    let (status, body) = get(address, "/").await;
    assert_eq!((status.as_str(), body.as_str()), ("200", "OK"));
    let (status, body) = get(address, "/worker").await;
    assert_eq!(status, "200");
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["agent_name"], "healthy");
    assert_eq!(info["worker_type"], "JT_ROOM");
    assert_eq!(info["active_jobs"], 0);
    assert_eq!(info["protocol_version"], 1);
    assert!(info["process_rss_mb"].as_f64().unwrap() > 0.0);
    worker.aclose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_gives_up_makes_the_health_check_fail() {
    // A port nothing listens on: every attempt fails; with one retry allowed it gives up fast.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut options = WorkerOptions::development(url.clone(), KEY, SECRET);
    options.max_retry = 1;
    options.host = std::net::Ipv4Addr::LOCALHOST.into();
    let worker = Worker::start(staying_server(&Seen::default()), options).await.unwrap();
    let error = worker.registered().await.unwrap_err();
    assert!(matches!(error, WorkerError::Unreachable { attempts: 2, .. }), "{error}");
    assert!(error.to_string().contains("LIVEKIT_URL"), "{error}");
    let (status, body) = get(worker.health_address().unwrap(), "/").await;
    assert_eq!(status, "503");
    assert!(body.contains("failed to connect to livekit"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_fail_once_and_clearly() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let options =
        WorkerOptions::development(server.url(), KEY, "the-wrong-secret-the-wrong-secret");
    let mut options = options;
    options.port = None;
    let worker = Worker::start(staying_server(&Seen::default()), options).await.unwrap();
    let error = worker.registered().await.unwrap_err();
    assert!(matches!(error, WorkerError::Unauthorized { status: 401, .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("LIVEKIT_API_SECRET") && !message.contains("wrong-secret"),
        "{message}"
    );
    assert_eq!(server.upgrades().len(), 1, "no retry storm");

    let missing = WorkerOptions::development(server.url(), KEY, "");
    let error = Worker::start(staying_server(&Seen::default()), missing).await.unwrap_err();
    assert!(error.to_string().contains("LIVEKIT_API_SECRET"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_token_goes_in_the_query() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let mut options = options(&server);
    options.worker_token = Some("cloud/token+1".into());
    let worker = Worker::start(staying_server(&Seen::default()), options).await.unwrap();
    worker.registered().await.unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    assert_eq!(connection.query().as_deref(), Some("worker_token=cloud%2Ftoken%2B1"));
    assert!(!format!("{worker:?}").contains("cloud"), "the worker token is not shown");
    worker.aclose().await;
}

async fn get(address: std::net::SocketAddr, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.split_whitespace().nth(1).unwrap().to_owned();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_over_the_threshold_refuses_jobs_and_reports_full() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let load = Arc::new(Mutex::new(0.9_f32));
    let mut options = options(&server);
    options.load_threshold = 0.7;
    options.load_interval = Duration::from_millis(10);
    options.status_interval = Duration::from_millis(20);
    options.load_fnc = Some(Arc::new({
        let load = load.clone();
        move || *load.lock().unwrap()
    }));
    let worker = Worker::start(staying_server(&Seen::default()), options).await.unwrap();
    worker.registered().await.unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    tokio::time::timeout(WAIT, async {
        while worker.load() < 0.85 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    assert!(!connection.dispatch(server.agent().new_job("hot"), WAIT).await.unwrap().available);
    server
        .agent()
        .wait_for_message(0, 0, WAIT, |m| {
            matches!(&m.message, Some(worker_message::Message::UpdateWorker(s))
                if s.status == Some(livekit_protocol::WorkerStatus::WsFull as i32) && s.load > 0.85)
        })
        .await
        .unwrap();
    // The load falls (a moving average of 5 samples): jobs are taken again.
    *load.lock().unwrap() = 0.1;
    tokio::time::timeout(WAIT, async {
        while worker.load() > 0.15 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    assert!(connection.dispatch(server.agent().new_job("cool"), WAIT).await.unwrap().available);
    worker.aclose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_runs_one_job_with_a_locally_minted_room_token() {
    let seen = Seen::default();
    let app = AgentServer::new().rtc_session({
        let seen = seen.clone();
        move |ctx: JobContext| {
            let seen = seen.clone();
            async move {
                seen.jobs.lock().unwrap().push((
                    ctx.job_id().to_owned(),
                    ctx.job().room_name.clone(),
                    ctx.room_credentials().cloned(),
                ));
                // No `ctx.connect()`: nothing serves `/rtc` at this URL; the room tests join rooms.
                ctx.shutdown("done");
                Ok::<(), JobError>(())
            }
        }
    });
    let options = WorkerOptions::development("ws://127.0.0.1:7880", KEY, SECRET);
    agents_core::worker::connect_job(&app, &options, "my-room", "agent-x").await.unwrap();
    let (_, room, credentials) = seen.jobs.lock().unwrap()[0].clone();
    assert_eq!(room, "my-room");
    let credentials = credentials.unwrap();
    assert_eq!(
        (credentials.url.as_str(), credentials.identity.as_str()),
        ("ws://127.0.0.1:7880", "agent-x")
    );
    let claims = livekit_api::access_token::TokenVerifier::with_api_key(KEY, SECRET)
        .verify(&credentials.token)
        .unwrap();
    assert_eq!((claims.sub.as_str(), claims.kind.as_str()), ("agent-x", "agent"));
    assert!(claims.video.room_join && claims.video.agent);
    assert_eq!(claims.video.room, "my-room");

    let failing = AgentServer::new().rtc_session(|_ctx: JobContext| async { Err::<(), _>("boom") });
    let error = agents_core::worker::connect_job(&failing, &options, "r", "a").await.unwrap_err();
    assert!(error.to_string().contains("boom"), "{error}");
}

/// A server that accepts the WebSocket upgrade and closes at once (never registering): the
/// retries are not reset by the upgrade, so the worker gives up after `max_retry`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_accepts_then_closes_runs_out_of_retries() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upgrades = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = upgrades.clone();
    let server = tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            if let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = socket.close(None).await;
            }
        }
    });
    let mut options = WorkerOptions::development(url, KEY, SECRET);
    options.max_retry = 1;
    options.port = None;
    let worker = Worker::start(staying_server(&Seen::default()), options).await.unwrap();
    let error = tokio::time::timeout(WAIT, worker.registered()).await.unwrap().unwrap_err();
    assert!(matches!(error, WorkerError::Unreachable { attempts: 2, .. }), "{error}");
    assert_eq!(upgrades.load(std::sync::atomic::Ordering::SeqCst), 2);
    server.abort();
}

#[test]
fn worker_options_debug_hides_url_credentials_and_query() {
    let options =
        WorkerOptions::development("wss://user:url-password@host/?token=query-secret", KEY, SECRET);
    let shown = format!("{options:?}");
    assert!(shown.contains("wss://<redacted>@host/"), "{shown}");
    for secret in ["url-password", "query-secret", SECRET] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

/// A `request_fnc` that panics before returning its future: the job is declined and its
/// reservation released (the only slot is free for the next job).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_fnc_panicking_synchronously_releases_the_slot() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let app = staying_server(&Seen::default()).request_fnc(|request: JobRequest| {
        assert!(request.room_name() != "boom", "the request function blew up");
        async move { request.accept(JobAcceptArguments::default()) }
    });
    let mut options = options(&server);
    options.max_jobs = Some(1);
    let worker = Worker::start(app, options).await.unwrap();
    worker.registered().await.unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let answer = connection.dispatch(server.agent().new_job("boom"), WAIT).await.unwrap();
    assert!(!answer.available);
    let job = server.agent().new_job("fine");
    let id = job.id.clone();
    assert!(connection.dispatch(job, WAIT).await.unwrap().available, "the slot was released");
    server.agent().wait_for_status(&id, JobStatus::JsRunning, WAIT).await.unwrap();
    worker.aclose().await;
}

/// A job accepted before `aclose` whose assignment arrives while it closes (here: while the
/// first job's shutdown callback runs) is ended at once and reported, not left running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_assigned_while_closing_is_ended_and_reported() {
    let server = TestServer::start(KEY, SECRET).await.unwrap();
    let app = AgentServer::new().rtc_session(|ctx: JobContext| async move {
        ctx.add_shutdown_callback(|_| tokio::time::sleep(Duration::from_millis(1500)));
        ctx.connect().await?;
        Ok::<(), JobError>(())
    });
    let worker = Worker::start(app, options(&server)).await.unwrap();
    worker.registered().await.unwrap();
    let connection = server.agent().registered(0, WAIT).await.unwrap();
    let first = server.agent().new_job("first");
    let first_id = first.id.clone();
    assert!(connection.dispatch(first, WAIT).await.unwrap().available);
    server.agent().wait_for_status(&first_id, JobStatus::JsRunning, WAIT).await.unwrap();

    server.agent().assignment_delay(Duration::from_millis(500));
    let late = server.agent().new_job("late");
    let late_id = late.id.clone();
    assert!(connection.dispatch(late, WAIT).await.unwrap().available);
    tokio::time::timeout(WAIT, worker.aclose()).await.unwrap();
    let ended = server.agent().wait_for_ended(2, WAIT).await.unwrap();
    for job in &ended {
        assert_eq!(job.status(), JobStatus::JsSuccess, "{}", job.error());
    }
    assert_eq!(server.agent().job(&late_id).unwrap().status(), JobStatus::JsSuccess);
}

/// A server that registers the worker and then goes silent (answers no ping): after two ping
/// intervals without a frame the worker treats the connection as lost and reconnects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_is_detected_by_the_ping_and_reconnected() {
    use futures::SinkExt as _;
    use prost::Message as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (connected, mut connections) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else { continue };
            let register = livekit_protocol::ServerMessage {
                message: Some(livekit_protocol::server_message::Message::Register(
                    livekit_protocol::RegisterWorkerResponse {
                        worker_id: "W_silent".into(),
                        ..Default::default()
                    },
                )),
            };
            let frame =
                tokio_tungstenite::tungstenite::Message::Binary(register.encode_to_vec().into());
            socket.send(frame).await.unwrap();
            // Silent from now on: never read, so no pong.
            held.push(socket);
            let _ = connected.send(std::time::Instant::now());
        }
    });
    let mut options = WorkerOptions::development(url, KEY, SECRET);
    options.port = None;
    options.ping_interval = Duration::from_millis(200);
    let worker = Worker::start(staying_server(&Seen::default()), options).await.unwrap();
    worker.registered().await.unwrap();
    let first = tokio::time::timeout(WAIT, connections.recv()).await.unwrap().unwrap();
    let second = tokio::time::timeout(WAIT, connections.recv()).await.unwrap().unwrap();
    let gap = second - first;
    assert!(gap >= Duration::from_millis(400), "not before two intervals: {gap:?}");
    worker.aclose().await;
    server.abort();
}

/// `connect_job_until`: the terminate future (Ctrl+C for `connect`) ends the job gracefully:
/// its shutdown callbacks run with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_job_until_ends_the_job_gracefully() {
    let reasons = Arc::new(Mutex::new(Vec::<String>::new()));
    let app = AgentServer::new().rtc_session({
        let reasons = reasons.clone();
        move |ctx: JobContext| {
            let reasons = reasons.clone();
            async move {
                ctx.add_shutdown_callback(move |reason| async move {
                    reasons.lock().unwrap().push(reason);
                });
                std::future::pending::<()>().await;
                Ok::<(), JobError>(())
            }
        }
    });
    let options = WorkerOptions::development("ws://127.0.0.1:7880", KEY, SECRET);
    let interrupted = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        "interrupted".to_owned()
    };
    let ended =
        agents_core::worker::connect_job_until(&app, &options, "room", "agent-y", interrupted);
    tokio::time::timeout(WAIT, ended).await.unwrap().unwrap();
    assert_eq!(*reasons.lock().unwrap(), ["interrupted"]);
}
