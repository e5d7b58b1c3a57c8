//! `JobContext`: what a job's entrypoint receives (Python's `JobContext`).

use std::fmt::{self, Display, Write as _};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::future::BoxFuture;
use tokio::sync::watch;

use super::error::JobError;
use super::process::JobProcess;
use crate::room::Room;
#[cfg(all(feature = "rtc", feature = "worker"))]
pub(crate) use crate::room::RoomEnd;

/// How a job's LiveKit room ended (without the `rtc` feature, it never does).
#[cfg(all(not(feature = "rtc"), feature = "worker"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoomEnd {}

/// The job a context was created for (the parts of Python's `ctx.job` that exist so far).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobInfo {
    /// The job's id: `mock-job-<n>` for the console's local jobs.
    pub id: String,
    /// The agent name the job was dispatched to (empty for automatic dispatch and the
    /// console).
    pub agent_name: String,
    /// The metadata given at dispatch (empty for the console).
    pub metadata: String,
    /// Whether the job is simulated locally, with no LiveKit server (the console's job).
    pub fake: bool,
    /// The room's name (the console's `console-room`).
    pub room_name: String,
    /// The room's server id (empty for local jobs).
    pub room_sid: String,
    /// The dispatch that created the job (empty for automatic dispatch and local jobs).
    pub dispatch_id: String,
    /// For publisher jobs, the participant the job is for.
    pub participant_identity: Option<String>,
}

impl JobInfo {
    /// A local job with no LiveKit server behind it (Python's `fake_job=True`).
    pub(crate) fn fake(id: impl Into<String>, room_name: &str) -> Self {
        Self {
            id: id.into(),
            agent_name: String::new(),
            metadata: String::new(),
            fake: true,
            room_name: room_name.to_owned(),
            room_sid: String::new(),
            dispatch_id: String::new(),
            participant_identity: None,
        }
    }
}

/// Where and as whom a dispatched job joins its room: the server's URL and the room token it
/// sent with the assignment. The token is a secret: `Debug` shows only that there is one.
#[derive(Clone, PartialEq, Eq)]
pub struct RoomCredentials {
    /// The LiveKit server's URL for the room.
    pub url: String,
    /// The participant's room token (a JWT).
    pub token: String,
    /// The identity the agent joins as.
    pub identity: String,
}

impl fmt::Debug for RoomCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoomCredentials")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .field("identity", &self.identity)
            .finish()
    }
}

type ShutdownCallback = Box<dyn FnOnce(String) -> BoxFuture<'static, ()> + Send>;

/// What a job's entrypoint receives (Python's `JobContext`): the job, its room, and the
/// process it runs in.
///
/// Cheap to clone (an `Arc` inside); clones are the same context.
///
/// ```no_run
/// use agents_core::prelude::*;
///
/// async fn entrypoint(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
///     ctx.set_log_context_fields([("room", ctx.room().name())]);
///     let session = AgentSession::builder().build();
///     session.start(Agent::new("You are a helpful assistant.")).room(ctx.room()).await?;
///     ctx.connect().await?;
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct JobContext {
    inner: Arc<ContextInner>,
}

struct ContextInner {
    job: JobInfo,
    credentials: Option<RoomCredentials>,
    room: Room,
    process: Arc<JobProcess>,
    connected: AtomicBool,
    /// The LiveKit room joined by [`JobContext::connect`] (room IO is attached to `room`).
    #[cfg(feature = "rtc")]
    rtc: tokio::sync::OnceCell<agents_rtc::Room>,
    shutdown: watch::Sender<Option<String>>,
    shutdown_callbacks: Mutex<Vec<ShutdownCallback>>,
    log_fields: Mutex<Vec<(String, String)>>,
    span: tracing::Span,
}

impl fmt::Debug for JobContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobContext")
            .field("job", &self.inner.job)
            .field("room", &self.inner.room)
            .finish_non_exhaustive()
    }
}

impl JobContext {
    pub(crate) fn new(job: JobInfo, room: Room, process: Arc<JobProcess>) -> Self {
        Self::with_credentials(job, room, process, None)
    }

    pub(crate) fn with_credentials(
        job: JobInfo,
        room: Room,
        process: Arc<JobProcess>,
        credentials: Option<RoomCredentials>,
    ) -> Self {
        let span = tracing::info_span!(
            "job",
            id = %job.id,
            room = %room.name(),
            fields = tracing::field::Empty,
        );
        // A session started in the room before `connect` (Python's order) gets audio that
        // room IO plugs into when it connects.
        #[cfg(feature = "rtc")]
        if credentials.is_some() {
            room.prepare_room_io();
        }
        Self {
            inner: Arc::new(ContextInner {
                job,
                credentials,
                room,
                process,
                connected: AtomicBool::new(false),
                #[cfg(feature = "rtc")]
                rtc: tokio::sync::OnceCell::new(),
                shutdown: watch::Sender::new(None),
                shutdown_callbacks: Mutex::new(Vec::new()),
                log_fields: Mutex::new(Vec::new()),
                span,
            }),
        }
    }

    /// The job (Python's `ctx.job`).
    pub fn job(&self) -> &JobInfo {
        &self.inner.job
    }

    /// The job's id.
    pub fn job_id(&self) -> &str {
        &self.inner.job.id
    }

    /// For a job the LiveKit server dispatched, the URL and token to join its room with (the
    /// room client uses them); `None` for local jobs such as the console's.
    pub fn room_credentials(&self) -> Option<&RoomCredentials> {
        self.inner.credentials.as_ref()
    }

    /// The room the job runs in (Python's `ctx.room`): `console-room` in the console. Start
    /// the agent session in it with `session.start(agent).room(ctx.room())`.
    pub fn room(&self) -> &Room {
        &self.inner.room
    }

    /// The LiveKit room joined by [`connect`](Self::connect), if it was.
    #[cfg(feature = "rtc")]
    pub(crate) fn rtc_room(&self) -> Option<&agents_rtc::Room> {
        self.inner.rtc.get()
    }

    /// The process the job runs in, with what its setup function prepared (Python's
    /// `ctx.proc`): `ctx.proc().userdata.get::<T>("vad")`.
    pub fn proc(&self) -> &JobProcess {
        &self.inner.process
    }

    /// Connects to the room (Python's `await ctx.connect()`). Local rooms, such as the
    /// console's, are connected at once. A dispatched job (with the `rtc` feature) joins its
    /// LiveKit room with the server's URL and token and attaches room IO
    /// ([`room_io`](crate::room_io::room_io), linking the job's participant if it has one) to
    /// [`room`](Self::room): a session started in it with `.room(ctx.room())`, before or
    /// after connecting, talks with the room's user. Connecting again does nothing.
    ///
    /// # Errors
    ///
    /// [`JobError::RoomTokenRefused`] when the server refuses the token;
    /// [`JobError::RoomConnectFailed`] when the room cannot be joined otherwise (the server is
    /// unreachable) or the agent's voice track cannot be published.
    pub async fn connect(&self) -> Result<(), JobError> {
        #[cfg(feature = "rtc")]
        if let Some(credentials) = &self.inner.credentials {
            let job = &self.inner.job;
            self.inner
                .rtc
                .get_or_try_init(|| async {
                    let (rtc, events) = agents_rtc::Room::connect(
                        &credentials.url,
                        &credentials.token,
                        agents_rtc::RoomOptions::default(),
                    )
                    .await
                    .map_err(|error| match error {
                        refused @ agents_rtc::ConnectError::Unauthorized { .. } => {
                            JobError::RoomTokenRefused(Arc::new(refused))
                        }
                        error => JobError::RoomConnectFailed(Arc::new(error)),
                    })?;
                    let mut options = crate::room_io::RoomOptions::default();
                    options.participant_identity.clone_from(&job.participant_identity);
                    let attached =
                        crate::room_io::attach(&self.inner.room, rtc.clone(), events, options)
                            .await;
                    if let Err(error) = attached {
                        let _ = tokio::time::timeout(
                            std::time::Duration::from_secs(10),
                            rtc.disconnect(),
                        )
                        .await;
                        return Err(JobError::RoomConnectFailed(Arc::new(error)));
                    }
                    Ok::<_, JobError>(rtc)
                })
                .await?;
        }
        self.inner.connected.store(true, Ordering::Release);
        Ok(())
    }

    /// Waits for a remote participant of the job's LiveKit room (Python's
    /// `ctx.wait_for_participant(identity=None, kind=...)`): the first one (present already,
    /// or joining) whose kind is among `kinds` — `None` for SIP and standard participants,
    /// as in Python — and, when `identity` is given, with that identity.
    ///
    /// ```no_run
    /// # async fn entrypoint(ctx: agents_core::worker::JobContext) -> Result<(), agents_core::worker::JobError> {
    /// ctx.connect().await?;
    /// let user = ctx.wait_for_participant(None, None).await?;
    /// println!("talking with {}", user.identity());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`JobError::NoLiveKitRoom`] for a local job (the console's) or before
    /// [`connect`](Self::connect); [`JobError::RoomDisconnected`] when the room disconnects
    /// before such a participant joins.
    #[cfg(feature = "rtc")]
    pub async fn wait_for_participant(
        &self,
        identity: Option<&str>,
        kinds: Option<&[agents_rtc::ParticipantKind]>,
    ) -> Result<agents_rtc::RemoteParticipant, JobError> {
        use agents_rtc::ParticipantKind;
        let Some(room) = self.rtc_room() else {
            return Err(JobError::NoLiveKitRoom { operation: "wait_for_participant" });
        };
        let kinds = kinds.unwrap_or(&[ParticipantKind::Sip, ParticipantKind::Standard]);
        room.wait_for_participant(|participant| {
            kinds.contains(&participant.info().kind)
                && identity.is_none_or(|identity| participant.identity() == identity)
        })
        .await
        .map_err(|_| JobError::RoomDisconnected { operation: "wait_for_participant" })
    }

    /// Waits until the job's LiveKit room ends under it (the server dropped or ended the
    /// connection, or the client library failed); never for a local room. Only the worker's
    /// job driver waits for it.
    #[cfg(feature = "worker")]
    pub(crate) async fn room_ended(&self) -> RoomEnd {
        #[cfg(feature = "rtc")]
        {
            self.inner.room.room_ended().await
        }
        #[cfg(not(feature = "rtc"))]
        {
            std::future::pending().await
        }
    }

    /// Whether [`connect`](Self::connect) was called and succeeded.
    pub fn is_connected(&self) -> bool {
        self.inner.connected.load(Ordering::Acquire)
    }

    /// Adds fields to the job's log records (Python's `ctx.log_context_fields = {...}`),
    /// replacing those set before. Every record logged inside the entrypoint carries the job
    /// id, the room name and these fields.
    pub fn set_log_context_fields<K, V>(&self, fields: impl IntoIterator<Item = (K, V)>)
    where
        K: Into<String>,
        V: Display,
    {
        let fields: Vec<(String, String)> =
            fields.into_iter().map(|(key, value)| (key.into(), value.to_string())).collect();
        let mut rendered = String::new();
        for (index, (key, value)) in fields.iter().enumerate() {
            let separator = if index == 0 { "" } else { " " };
            let _ = write!(rendered, "{separator}{key}={value}");
        }
        self.inner.span.record("fields", tracing::field::display(rendered));
        *lock(&self.inner.log_fields) = fields;
    }

    /// The fields set with [`set_log_context_fields`](Self::set_log_context_fields).
    pub fn log_context_fields(&self) -> Vec<(String, String)> {
        lock(&self.inner.log_fields).clone()
    }

    /// Ends the job (Python's `ctx.shutdown(reason)`): the agent session is closed and the
    /// shutdown callbacks run. Only the first reason given is kept.
    pub fn shutdown(&self, reason: impl Into<String>) {
        let reason = reason.into();
        self.inner.shutdown.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(reason);
            true
        });
    }

    /// Runs `callback` with the shutdown reason when the job ends (Python's
    /// `ctx.add_shutdown_callback`). The callbacks run concurrently, after the agent session
    /// is closed.
    pub fn add_shutdown_callback<F, Fut>(&self, callback: F)
    where
        F: FnOnce(String) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let callback: ShutdownCallback = Box::new(move |reason| Box::pin(callback(reason)));
        lock(&self.inner.shutdown_callbacks).push(callback);
    }

    /// Waits until [`shutdown`](Self::shutdown) is called, and returns its reason.
    pub(crate) async fn shutdown_requested(&self) -> String {
        let mut receiver = self.inner.shutdown.subscribe();
        // The guard is released before any other await: the future stays `Send`.
        let reason = receiver.wait_for(Option::is_some).await.map(|reason| reason.clone());
        match reason {
            Ok(reason) => reason.unwrap_or_default(),
            // The sender lives in `self`, so this cannot happen while we wait.
            Err(_) => std::future::pending().await,
        }
    }

    pub(crate) fn take_shutdown_callbacks(&self) -> Vec<ShutdownCallback> {
        std::mem::take(&mut *lock(&self.inner.shutdown_callbacks))
    }

    /// The span the job's entrypoint runs in.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.inner.span
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(all(test, feature = "rtc"))]
#[allow(clippy::unwrap_used, clippy::panic)]
mod rtc_tests {
    use std::net::{Ipv4Addr, SocketAddr};

    use agents_test_support::TestServer;
    use agents_test_support::livekit::rtc::{RtcConfig, RtcFault};
    use livekit_api::access_token::{AccessToken, VideoGrants};

    use super::*;
    use crate::testing::{FakeLlm, FakeLlmResponse, FakeStt, FakeTts, FakeVad, silence, tone};

    const SECRET: &str = "secret-secret-secret-secret-secret";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_room_token_fails_connect_with_a_typed_error_and_no_secret() {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let server =
            TestServer::start_with(address, RtcConfig::new("devkey", SECRET)).await.unwrap();
        server.rtc().inject(RtcFault::RefuseAllTokens);
        let token = AccessToken::with_api_key("devkey", SECRET)
            .with_identity("agent")
            .with_grants(VideoGrants { room_join: true, room: "demo".into(), ..Default::default() })
            .to_jwt()
            .unwrap();
        let credentials =
            RoomCredentials { url: server.url(), token: token.clone(), identity: "agent".into() };
        let mut job = JobInfo::fake("job-1", "demo");
        job.fake = false;
        let ctx = JobContext::with_credentials(
            job,
            Room::local("demo"),
            Arc::new(JobProcess::new()),
            Some(credentials),
        );

        let error = ctx.connect().await.unwrap_err();
        assert!(matches!(error, JobError::RoomTokenRefused(_)), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("LIVEKIT_API_KEY") && message.contains("LIVEKIT_API_SECRET"),
            "{message}"
        );
        assert!(!message.contains(&token) && !message.contains(SECRET), "{message}");
        assert!(!ctx.is_connected());
        // The server saw the client's join attempts, token in the query.
        assert!(!server.rtc().connections().is_empty());
        assert_eq!(ctx.room().name(), "demo");
    }

    #[tokio::test]
    async fn wait_for_participant_needs_a_livekit_room() {
        let ctx = JobContext::new(
            JobInfo::fake("job-1", "console-room"),
            Room::local("console-room"),
            Arc::new(JobProcess::new()),
        );
        ctx.connect().await.unwrap();
        let error = ctx.wait_for_participant(None, None).await.unwrap_err();
        assert!(matches!(error, JobError::NoLiveKitRoom { .. }), "{error:?}");
        assert!(error.to_string().contains("ctx.connect()"), "{error}");
    }

    /// A reply started before `connect` waits for the room; a job that ends without joining
    /// it (no `connect`, or a failed one) must not wait for that reply to close its session.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reply_waiting_for_a_room_never_joined_does_not_hold_the_jobs_end() {
        let credentials = RoomCredentials {
            url: "ws://127.0.0.1:9".into(),
            token: token("agent"),
            identity: "agent".into(),
        };
        let mut job = JobInfo::fake("job-1", "demo");
        job.fake = false;
        let ctx = JobContext::with_credentials(
            job,
            Room::local("demo"),
            Arc::new(JobProcess::new()),
            Some(credentials),
        );
        let session = crate::voice::AgentSession::builder()
            .llm(FakeLlm::new().then(FakeLlmResponse::text("Hello there, welcome!")))
            .tts(Arc::new(FakeTts::new()))
            .build();
        session.start(crate::agent::Agent::new("Greet.")).room(ctx.room()).await.unwrap();
        session.generate_reply(crate::voice::ReplyOptions::default());
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // The greeting waits for the room …
        assert_eq!(session.agent_state(), crate::voice::AgentState::Speaking);

        // … and the job's end releases it: the session closes at once, not after the close
        // timeout.
        let entrypoint: Arc<super::super::entrypoint::EntrypointFn> =
            Arc::new(|_ctx| Box::pin(std::future::pending()));
        let job = super::super::job::RunningJob::spawn(&entrypoint, ctx.clone());
        let mut events = session.subscribe();
        let started = std::time::Instant::now();
        job.shutdown("test").await;
        assert!(session.is_closed());
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
        // The session says why it closed: the job's end.
        let reason = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                match events.recv().await {
                    Ok(crate::voice::SessionEvent::Close { reason }) => break reason,
                    Ok(_) => {}
                    Err(error) => panic!("no Close event: {error:?}"),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(reason, crate::voice::CloseReason::JobShutdown);
    }

    fn token(identity: &str) -> String {
        AccessToken::with_api_key("devkey", SECRET)
            .with_identity(identity)
            .with_grants(VideoGrants { room_join: true, room: "demo".into(), ..Default::default() })
            .to_jwt()
            .unwrap()
    }

    /// The library's threads live in the network namespace of the thread that first loads it,
    /// and other tests of this binary load it outside one: the test runs in a child process of
    /// its own (needs root for the namespace, and liblivekit_ffi.so: `cargo xtask setup`).
    #[test]
    fn connect_joins_the_jobs_room_and_room_becomes_its_room_io() {
        let name = "worker::context::rtc_tests::connect_joins_in_a_namespace_of_its_own";
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--ignored", "--nocapture"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "the child failed:\n{stdout}\n{stderr}");
        assert!(stdout.contains("1 passed"), "the child ran its test:\n{stdout}");
    }

    /// Run by `connect_joins_the_jobs_room_and_room_becomes_its_room_io` in a child process.
    #[test]
    #[ignore = "run in a child process by connect_joins_the_jobs_room_and_room_becomes_its_room_io"]
    fn connect_joins_in_a_namespace_of_its_own() {
        let ns = agents_test_support::NetNs::create().expect("root, for a network namespace");
        let thread = ns
            .spawn_thread(|| {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
                    let server = TestServer::start_with(address, RtcConfig::new("devkey", SECRET))
                        .await
                        .unwrap();
                    let user = server.rtc().join("demo", "user").unwrap();
                    let credentials = RoomCredentials {
                        url: server.url(),
                        token: token("agent"),
                        identity: "agent".into(),
                    };
                    let mut job = JobInfo::fake("job-1", "demo");
                    job.fake = false;
                    let local = Room::local("demo");
                    let ctx = JobContext::with_credentials(
                        job,
                        local.clone(),
                        Arc::new(JobProcess::new()),
                        Some(credentials),
                    );
                    // Python's order: the session starts in ctx.room() before connect.
                    let session = crate::voice::AgentSession::builder()
                        .llm(FakeLlm::new().on_input("Hello.", FakeLlmResponse::text("Hi there!")))
                        .stt(Arc::new(FakeStt::new(["Hello."])))
                        .tts(Arc::new(
                            FakeTts::new().with_char_duration(std::time::Duration::from_millis(40)),
                        ))
                        .vad(Arc::new(FakeVad::new()))
                        .min_endpointing_delay(std::time::Duration::from_millis(200))
                        .build();
                    session
                        .start(crate::agent::Agent::new("You are friendly."))
                        .room(ctx.room())
                        .await
                        .unwrap();
                    ctx.connect().await.unwrap();
                    ctx.connect().await.unwrap(); // a second connect joins nothing more
                    assert!(ctx.is_connected());
                    // One room for the job: the session is found in it.
                    assert!(ctx.room().agent_session().is_some());
                    assert!(local.agent_session().is_some());
                    let joined = user
                        .wait_participant("agent", std::time::Duration::from_secs(20))
                        .await
                        .unwrap();
                    assert_eq!(joined.identity, "agent");
                    let wait = std::time::Duration::from_secs(30);
                    let rate = 16_000;
                    let speech: Vec<i16> = tone(std::time::Duration::from_millis(700), 300.0, rate)
                        .into_iter()
                        .chain(silence(std::time::Duration::from_millis(1_500), rate))
                        .flat_map(|frame| frame.data().to_vec())
                        .collect();
                    user.publish_pcm(&speech, rate).await.unwrap();
                    // The session hears the user and the user hears the agent's voice.
                    user.wait_text_stream("lk.transcription", |s| s.text == "Hello.", wait)
                        .await
                        .unwrap();
                    let voice = user
                        .wait_captured("agent", std::time::Duration::from_millis(300), wait)
                        .await
                        .unwrap();
                    let peak = voice.iter().map(|&s| i32::from(s).abs()).max().unwrap_or(0);
                    assert!(peak > 1_000, "the agent's audio is silent (peak {peak})");
                    // The agent's state follows the session started before connect.
                    assert!(
                        user.attribute_history("agent", "lk.agent.state")
                            .iter()
                            .any(|state| state == "speaking" || state == "listening")
                    );
                    let joins =
                        server.rtc().connections().iter().filter(|c| c.identity == "agent").count();
                    assert_eq!(joins, 1);
                    // wait_for_participant: one present already, one joining later, and one
                    // that never comes (the room's end fails the wait).
                    let present = ctx.wait_for_participant(None, None).await.unwrap();
                    assert_eq!(present.identity(), "user");
                    let late = tokio::spawn({
                        let ctx = ctx.clone();
                        async move { ctx.wait_for_participant(Some("late"), None).await }
                    });
                    let never = tokio::spawn({
                        let ctx = ctx.clone();
                        async move { ctx.wait_for_participant(Some("never"), None).await }
                    });
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    assert!(!late.is_finished(), "resolved before `late` joined");
                    let _late_user = server.rtc().join("demo", "late").unwrap();
                    let joined = tokio::time::timeout(wait, late).await.unwrap().unwrap().unwrap();
                    assert_eq!(joined.identity(), "late");
                    let agents_only = [agents_rtc::ParticipantKind::Agent];
                    assert!(
                        tokio::time::timeout(
                            std::time::Duration::from_millis(200),
                            ctx.wait_for_participant(Some("user"), Some(&agents_only)),
                        )
                        .await
                        .is_err(),
                        "the user is not an agent"
                    );
                    // The job's end closes the session and leaves the LiveKit room.
                    let entrypoint: Arc<super::super::entrypoint::EntrypointFn> =
                        Arc::new(|_ctx| Box::pin(std::future::pending()));
                    let job = super::super::job::RunningJob::spawn(&entrypoint, ctx.clone());
                    job.shutdown("test").await;
                    assert!(session.is_closed());
                    let deadline = tokio::time::Instant::now() + wait;
                    while server
                        .rtc()
                        .participants("demo")
                        .iter()
                        .any(|participant| participant.identity == "agent")
                    {
                        assert!(tokio::time::Instant::now() < deadline, "the agent stayed");
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                    let never = tokio::time::timeout(wait, never).await.unwrap().unwrap();
                    assert!(matches!(never, Err(JobError::RoomDisconnected { .. })), "{never:?}");
                });
            })
            .unwrap();
        thread.join().unwrap().unwrap();
    }
}
