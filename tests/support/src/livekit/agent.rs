//! The `/agent` endpoint: the agent worker protocol, as a LiveKit server speaks it.
//!
//! A worker connects, sends `RegisterWorkerRequest` first and gets `RegisterWorkerResponse`
//! (`worker_id` `AW_<n>`). The test then dispatches jobs ([`WorkerHandle::dispatch`] sends an
//! `AvailabilityRequest` and waits for the answer); a job the worker accepts is assigned
//! (`JobAssignment` with the server's URL and a room token the server mints), unless
//! assignments are withheld. Every message in both directions is recorded in order
//! ([`AgentEndpoint::exchanges`]), job statuses are tracked ([`AgentEndpoint::job`]), and
//! what a faithful worker would not do is a [violation](AgentEndpoint::violations): a text
//! frame, a first message other than `register`, an undecodable frame, a status or a
//! migration for a job the server never assigned, an availability answer after the deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use livekit_api::access_token::{AccessToken, Claims, VideoGrants};
use livekit_protocol::{
    AvailabilityRequest, AvailabilityResponse, Job, JobAssignment, JobStatus, JobTermination,
    JobType, RegisterWorkerRequest, RegisterWorkerResponse, Room, ServerInfo, ServerMessage,
    WorkerMessage, WorkerPong, server_message, worker_message,
};
use prost::Message as _;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// How long a worker has to send `register` after the upgrade.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(10);

/// The `/agent` endpoint of a [`TestServer`](super::TestServer): registration, dispatch and
/// job status, as the agent worker protocol has them. Cheap to clone; clones are the same
/// endpoint.
#[derive(Clone)]
pub struct AgentEndpoint {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    api_key: String,
    api_secret: String,
    state: Mutex<State>,
    /// Bumped on every change, for the waiters.
    changed: watch::Sender<u64>,
    next_job: AtomicU64,
}

#[derive(Default)]
struct State {
    workers: Vec<WorkerState>,
    exchanges: Vec<Exchange>,
    jobs: HashMap<String, JobRecord>,
    violations: Vec<String>,
    withhold_assignments: bool,
    register_delay: Duration,
    assignment_delay: Duration,
    availability_deadline: Option<Duration>,
}

struct WorkerState {
    /// `AW_<n>` once registered.
    worker_id: Option<String>,
    registration: Option<RegisterWorkerRequest>,
    query: Option<String>,
    claims: Claims,
    open: bool,
    commands: mpsc::UnboundedSender<Command>,
}

/// What the test asks a connection to do.
enum Command {
    Send(Box<ServerMessage>),
    /// Drop the TCP connection without a closing handshake.
    Drop,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the worker to the server.
    FromWorker,
    /// From the server to the worker.
    ToWorker,
}

/// One message of the exchange, in the order the server saw it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Exchange {
    /// A worker connection was accepted (its index).
    Connected {
        /// The connection's index, in the order of connections.
        worker: usize,
    },
    /// A message from or to a worker.
    Message {
        /// The connection's index.
        worker: usize,
        /// Which way it went.
        direction: Direction,
        /// The message, decoded: a `WorkerMessage` or a `ServerMessage`.
        message: Box<AnyMessage>,
    },
    /// The connection ended (closed by either side, or dropped).
    Disconnected {
        /// The connection's index.
        worker: usize,
    },
}

/// A message of either direction.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // recorded once each, kept boxed in `Exchange`
pub enum AnyMessage {
    /// From the worker.
    Worker(WorkerMessage),
    /// From the server.
    Server(ServerMessage),
}

/// What the server knows of a job.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobRecord {
    /// The job as dispatched.
    pub job: Job,
    /// The connection it was offered to last.
    pub worker: Option<usize>,
    /// The worker's answer to the availability request.
    pub availability: Option<AvailabilityResponse>,
    /// Whether a `JobAssignment` was sent.
    pub assigned: bool,
    /// The token sent with the assignment.
    pub token: Option<String>,
    /// Every `UpdateJobStatus` received for the job, in order: the status and the error text.
    pub statuses: Vec<(JobStatus, String)>,
    /// Whether the worker re-attached it with `MigrateJobRequest` after a reconnection.
    pub migrated: bool,
    /// When the last availability request went out.
    requested_at: Option<Instant>,
}

impl JobRecord {
    /// The last status reported (`JS_PENDING` before any).
    pub fn status(&self) -> JobStatus {
        self.statuses.last().map_or(JobStatus::JsPending, |(status, _)| *status)
    }

    /// The error text of the last status.
    pub fn error(&self) -> &str {
        self.statuses.last().map_or("", |(_, error)| error.as_str())
    }
}

impl std::fmt::Debug for AgentEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentEndpoint").field("url", &self.inner.url).finish_non_exhaustive()
    }
}

impl AgentEndpoint {
    pub(super) fn new(url: String, api_key: &str, api_secret: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                url,
                api_key: api_key.to_owned(),
                api_secret: api_secret.to_owned(),
                state: Mutex::new(State::default()),
                changed: watch::Sender::new(0),
                next_job: AtomicU64::new(1),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn touch(&self) {
        self.inner.changed.send_modify(|version| *version += 1);
    }

    /// Changes something in the state and wakes the waiters.
    fn update<R>(&self, change: impl FnOnce(&mut State) -> R) -> R {
        let result = change(&mut self.lock());
        self.touch();
        result
    }

    /// Waits until `check` returns something, up to `timeout`; the error says what was
    /// awaited.
    async fn wait<R>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&State) -> Option<R>,
    ) -> Result<R, String> {
        let mut changes = self.inner.changed.subscribe();
        let waited = tokio::time::timeout(timeout, async {
            loop {
                changes.borrow_and_update();
                if let Some(found) = check(&self.lock()) {
                    return found;
                }
                if changes.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        });
        waited.await.map_err(|_| format!("no {what} within {timeout:?}"))
    }

    /// A new job for a room named `room` (id `AJ_<n>`, room sid `RM_<room>`), automatic
    /// dispatch (no agent name).
    pub fn new_job(&self, room: &str) -> Job {
        let n = self.inner.next_job.fetch_add(1, Ordering::Relaxed);
        Job {
            id: format!("AJ_{n}"),
            dispatch_id: format!("AD_{n}"),
            r#type: JobType::JtRoom as i32,
            room: Some(Room {
                sid: format!("RM_{room}"),
                name: room.to_owned(),
                ..Room::default()
            }),
            ..Job::default()
        }
    }

    /// Keeps (`true`) or sends (`false`, the default) the `JobAssignment` of accepted jobs:
    /// withheld, the worker's assignment wait runs out.
    pub fn withhold_assignments(&self, withhold: bool) {
        self.update(|state| state.withhold_assignments = withhold);
    }

    /// Waits `delay` before answering each `register` (a slow server).
    pub fn register_delay(&self, delay: Duration) {
        self.update(|state| state.register_delay = delay);
    }

    /// Waits `delay` between an accepted availability and its assignment (a slow server).
    pub fn assignment_delay(&self, delay: Duration) {
        self.update(|state| state.assignment_delay = delay);
    }

    /// An availability answer later than `deadline` after the request is a violation
    /// (default: none is).
    pub fn availability_deadline(&self, deadline: Duration) {
        self.update(|state| state.availability_deadline = Some(deadline));
    }

    /// Every message exchanged, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.lock().exchanges.clone()
    }

    /// The messages the worker on connection `worker` sent, in order.
    pub fn received(&self, worker: usize) -> Vec<WorkerMessage> {
        received_from(&self.lock(), worker)
    }

    /// What the server knows of the job `id`.
    pub fn job(&self, id: &str) -> Option<JobRecord> {
        self.lock().jobs.get(id).cloned()
    }

    /// Every job dispatched.
    pub fn jobs(&self) -> Vec<JobRecord> {
        self.lock().jobs.values().cloned().collect()
    }

    /// How many worker connections there were.
    pub fn connections(&self) -> usize {
        self.lock().workers.len()
    }

    /// The protocol violations of the workers.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// Waits until connection `worker` (0 for the first) has registered.
    pub async fn registered(
        &self,
        worker: usize,
        timeout: Duration,
    ) -> Result<WorkerHandle, String> {
        self.wait(&format!("registration of connection {worker}"), timeout, |state| {
            state.workers.get(worker).and_then(|w| w.worker_id.as_ref()).map(|_| ())
        })
        .await?;
        Ok(WorkerHandle { endpoint: self.clone(), index: worker })
    }

    /// Waits until the job `id` has reported `status`; returns its record.
    pub async fn wait_for_status(
        &self,
        id: &str,
        status: JobStatus,
        timeout: Duration,
    ) -> Result<JobRecord, String> {
        let what = format!("{} for job {id}", status.as_str_name());
        self.wait(&what, timeout, |state| {
            state.jobs.get(id).filter(|job| job.statuses.iter().any(|(s, _)| *s == status)).cloned()
        })
        .await
    }

    /// Waits until `count` jobs have ended (`JS_SUCCESS` or `JS_FAILED`); returns every job.
    pub async fn wait_for_ended(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<JobRecord>, String> {
        self.wait(&format!("{count} ended jobs"), timeout, |state| {
            let ended = state.jobs.values().filter(|job| job.ended()).count();
            (ended >= count).then(|| state.jobs.values().cloned().collect())
        })
        .await
    }

    /// Waits until the worker on connection `worker` sends a message `matches` accepts, among
    /// those not seen before index `from` of its messages; returns it and its index.
    pub async fn wait_for_message(
        &self,
        worker: usize,
        from: usize,
        timeout: Duration,
        mut matches: impl FnMut(&WorkerMessage) -> bool,
    ) -> Result<(usize, WorkerMessage), String> {
        self.wait(&format!("matching message from connection {worker}"), timeout, |state| {
            received_from(state, worker)
                .into_iter()
                .enumerate()
                .skip(from)
                .find(|(_, message)| matches(message))
        })
        .await
    }

    /// Closes every connection (the server is going away).
    pub(super) fn close_all(&self) {
        for worker in &self.lock().workers {
            let _ = worker.commands.send(Command::Drop);
        }
    }

    /// Runs the protocol on an accepted upgrade.
    pub(super) async fn serve(
        &self,
        socket: WebSocketStream<TcpStream>,
        query: Option<String>,
        claims: Claims,
    ) {
        let (commands, mut queued) = mpsc::unbounded_channel();
        let index = self.update(|state| {
            state.workers.push(WorkerState {
                worker_id: None,
                registration: None,
                query,
                claims,
                open: true,
                commands,
            });
            let index = state.workers.len() - 1;
            state.exchanges.push(Exchange::Connected { worker: index });
            index
        });
        let mut connection = Connection { endpoint: self.clone(), index, socket };
        if connection.register().await {
            let mut assignments = JoinSet::new();
            loop {
                tokio::select! {
                    command = queued.recv() => match command {
                        Some(Command::Send(message)) => {
                            if !connection.send(*message).await {
                                break;
                            }
                        }
                        Some(Command::Drop) | None => break,
                    },
                    frame = connection.socket.next() => match frame {
                        Some(Ok(Message::Binary(bytes))) => {
                            if let Some(message) = connection.decode(&bytes) {
                                // Handled, then recorded: a test that sees the message sees
                                // its effect.
                                connection.handle(message.clone(), &mut assignments);
                                connection.record(Direction::FromWorker, AnyMessage::Worker(message));
                            }
                        }
                        Some(Ok(Message::Text(text))) => {
                            connection.violation(format!("a text frame: {text}"));
                        }
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                        Some(Ok(_)) => {}
                    },
                    Some(_) = assignments.join_next(), if !assignments.is_empty() => {}
                }
            }
        }
        self.update(|state| {
            state.workers[index].open = false;
            state.exchanges.push(Exchange::Disconnected { worker: index });
        });
    }
}

impl JobRecord {
    fn ended(&self) -> bool {
        matches!(self.status(), JobStatus::JsSuccess | JobStatus::JsFailed)
    }
}

fn received_from(state: &State, worker: usize) -> Vec<WorkerMessage> {
    state
        .exchanges
        .iter()
        .filter_map(|exchange| match exchange {
            Exchange::Message { worker: w, direction: Direction::FromWorker, message }
                if *w == worker =>
            {
                match &**message {
                    AnyMessage::Worker(message) => Some(message.clone()),
                    AnyMessage::Server(_) => None,
                }
            }
            _ => None,
        })
        .collect()
}

/// A registered worker connection, to dispatch jobs to and to observe.
#[derive(Debug, Clone)]
pub struct WorkerHandle {
    endpoint: AgentEndpoint,
    index: usize,
}

impl WorkerHandle {
    /// The connection's index (0 for the first connection to the server).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The worker id the server gave (`AW_<n>`).
    pub fn worker_id(&self) -> String {
        let state = self.endpoint.lock();
        state.workers[self.index].worker_id.clone().unwrap_or_default()
    }

    /// The worker's `RegisterWorkerRequest`.
    pub fn registration(&self) -> RegisterWorkerRequest {
        let state = self.endpoint.lock();
        state.workers[self.index].registration.clone().unwrap_or_default()
    }

    /// The upgrade's query string (`worker_token=…`).
    pub fn query(&self) -> Option<String> {
        self.endpoint.lock().workers[self.index].query.clone()
    }

    /// The claims of the token the worker connected with.
    pub fn claims(&self) -> Claims {
        self.endpoint.lock().workers[self.index].claims.clone()
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        self.endpoint.lock().workers[self.index].open
    }

    /// The messages the worker sent on this connection, in order.
    pub fn received(&self) -> Vec<WorkerMessage> {
        self.endpoint.received(self.index)
    }

    /// Sends `message` to the worker.
    pub fn send(&self, message: server_message::Message) {
        let state = self.endpoint.lock();
        let _ = state.workers[self.index]
            .commands
            .send(Command::Send(Box::new(ServerMessage { message: Some(message) })));
    }

    /// Offers `job` to the worker (an `AvailabilityRequest`) without waiting for the answer.
    pub fn request_availability(&self, job: Job) {
        let id = job.id.clone();
        self.endpoint.update(|state| {
            let record = state.jobs.entry(id).or_insert_with(|| JobRecord {
                job: job.clone(),
                worker: None,
                availability: None,
                assigned: false,
                token: None,
                statuses: Vec::new(),
                migrated: false,
                requested_at: None,
            });
            record.worker = Some(self.index);
            record.availability = None;
            record.requested_at = Some(Instant::now());
        });
        self.send(server_message::Message::Availability(AvailabilityRequest {
            job: Some(job),
            resuming: false,
        }));
    }

    /// Offers `job` to the worker and waits for its answer (an accepted job is then
    /// assigned, unless assignments are withheld).
    pub async fn dispatch(
        &self,
        job: Job,
        timeout: Duration,
    ) -> Result<AvailabilityResponse, String> {
        let id = job.id.clone();
        self.request_availability(job);
        self.endpoint
            .wait(&format!("availability answer for job {id}"), timeout, |state| {
                state.jobs.get(&id).and_then(|job| job.availability.clone())
            })
            .await
    }

    /// Asks the worker to end the job `id` (`JobTermination`).
    pub fn terminate(&self, id: &str) {
        self.send(server_message::Message::Termination(JobTermination { job_id: id.to_owned() }));
    }

    /// Drops the connection without a closing handshake, as a network failure does.
    pub fn drop_connection(&self) {
        let state = self.endpoint.lock();
        let _ = state.workers[self.index].commands.send(Command::Drop);
    }
}

/// One worker connection being served.
struct Connection {
    endpoint: AgentEndpoint,
    index: usize,
    socket: WebSocketStream<TcpStream>,
}

impl Connection {
    fn violation(&self, problem: String) {
        let index = self.index;
        self.endpoint.update(|state| state.violations.push(format!("/agent #{index}: {problem}")));
    }

    fn record(&self, direction: Direction, message: AnyMessage) {
        let worker = self.index;
        self.endpoint.update(|state| {
            state.exchanges.push(Exchange::Message {
                worker,
                direction,
                message: Box::new(message),
            })
        });
    }

    fn decode(&self, bytes: &[u8]) -> Option<WorkerMessage> {
        match WorkerMessage::decode(bytes) {
            Ok(message) => Some(message),
            Err(error) => {
                self.violation(format!("an undecodable WorkerMessage: {error}"));
                None
            }
        }
    }

    async fn send(&mut self, message: ServerMessage) -> bool {
        let bytes = message.encode_to_vec();
        self.record(Direction::ToWorker, AnyMessage::Server(message));
        self.socket.send(Message::Binary(bytes.into())).await.is_ok()
    }

    /// Waits for `register` and answers it; `false` when the worker did not register.
    async fn register(&mut self) -> bool {
        let first = tokio::time::timeout(REGISTER_TIMEOUT, async {
            loop {
                match self.socket.next().await {
                    Some(Ok(Message::Binary(bytes))) => {
                        let message = self.decode(&bytes);
                        if let Some(message) = &message {
                            self.record(Direction::FromWorker, AnyMessage::Worker(message.clone()));
                        }
                        return message;
                    }
                    Some(Ok(Message::Text(text))) => {
                        self.violation(format!("a text frame: {text}"));
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        let request = match first {
            Ok(Some(WorkerMessage {
                message: Some(worker_message::Message::Register(request)),
            })) => request,
            Ok(Some(other)) => {
                self.violation(format!("the first message is not `register`: {other:?}"));
                return false;
            }
            Ok(None) => return false,
            Err(_) => {
                self.violation(format!("no `register` within {REGISTER_TIMEOUT:?}"));
                return false;
            }
        };
        let delay = self.endpoint.lock().register_delay;
        tokio::time::sleep(delay).await;
        let worker_id = format!("AW_{}", self.index + 1);
        let response = RegisterWorkerResponse {
            worker_id: worker_id.clone(),
            server_info: Some(ServerInfo {
                version: "1.9.0-test".into(),
                protocol: 16,
                region: "test".into(),
                node_id: "ND_test".into(),
                agent_protocol: 1,
                ..ServerInfo::default()
            }),
            ..RegisterWorkerResponse::default()
        };
        let sent = self
            .send(ServerMessage { message: Some(server_message::Message::Register(response)) })
            .await;
        let index = self.index;
        self.endpoint.update(|state| {
            let worker = &mut state.workers[index];
            worker.worker_id = Some(worker_id);
            worker.registration = Some(request);
        });
        sent
    }

    /// Handles a message after registration.
    fn handle(&self, message: WorkerMessage, assignments: &mut JoinSet<()>) {
        let Some(message) = message.message else {
            self.violation("a WorkerMessage with no message".into());
            return;
        };
        let index = self.index;
        match message {
            worker_message::Message::Register(_) => {
                self.violation("`register` sent twice on one connection".into());
            }
            worker_message::Message::Availability(answer) => self.availability(answer, assignments),
            worker_message::Message::UpdateJob(update) => {
                let status = JobStatus::try_from(update.status).unwrap_or(JobStatus::JsPending);
                let known =
                    self.endpoint.update(|state| match state.jobs.get_mut(&update.job_id) {
                        Some(job) if job.assigned => {
                            job.statuses.push((status, update.error.clone()));
                            true
                        }
                        _ => false,
                    });
                if !known {
                    self.violation(format!("a status for job {} never assigned", update.job_id));
                }
            }
            worker_message::Message::MigrateJob(migrate) => {
                let unknown = self.endpoint.update(|state| {
                    let mut unknown = Vec::new();
                    for id in &migrate.job_ids {
                        match state.jobs.get_mut(id) {
                            Some(job) if job.assigned => {
                                job.migrated = true;
                                job.worker = Some(index);
                            }
                            _ => unknown.push(id.clone()),
                        }
                    }
                    unknown
                });
                if !unknown.is_empty() {
                    self.violation(format!("migration of jobs never assigned: {unknown:?}"));
                }
            }
            worker_message::Message::Ping(ping) => {
                let pong = WorkerPong { last_timestamp: ping.timestamp, timestamp: unix_millis() };
                self.queue(server_message::Message::Pong(pong));
            }
            worker_message::Message::UpdateWorker(_) | worker_message::Message::SimulateJob(_) => {}
        }
    }

    fn queue(&self, message: server_message::Message) {
        let state = self.endpoint.lock();
        let _ = state.workers[self.index]
            .commands
            .send(Command::Send(Box::new(ServerMessage { message: Some(message) })));
    }

    /// Records the answer; assigns an accepted job (after the assignment delay) unless
    /// assignments are withheld.
    fn availability(&self, answer: AvailabilityResponse, assignments: &mut JoinSet<()>) {
        let mut guard = self.endpoint.lock();
        let state = &mut *guard;
        let withhold = state.withhold_assignments;
        let delay = state.assignment_delay;
        let deadline = state.availability_deadline;
        let Some(record) = state.jobs.get_mut(&answer.job_id) else {
            drop(guard);
            self.violation(format!("an availability answer for unknown job {}", answer.job_id));
            return;
        };
        record.availability = Some(answer.clone());
        let late = match (deadline, record.requested_at) {
            (Some(deadline), Some(at)) if at.elapsed() > deadline => Some(at.elapsed()),
            _ => None,
        };
        let job = record.job.clone();
        if let Some(late) = late {
            state.violations.push(format!(
                "/agent #{}: job {} answered after {late:?}, past the deadline",
                self.index, answer.job_id
            ));
        }
        if !answer.available || withhold {
            drop(guard);
            self.endpoint.touch();
            return;
        }
        let identity = if answer.participant_identity.is_empty() {
            format!("agent-{}", job.id)
        } else {
            answer.participant_identity.clone()
        };
        let room = job.room.as_ref().map(|room| room.name.clone()).unwrap_or_default();
        let token = AccessToken::with_api_key(
            &self.endpoint.inner.api_key,
            &self.endpoint.inner.api_secret,
        )
        .with_identity(&identity)
        .with_name(&answer.participant_name)
        .with_kind("agent")
        .with_grants(VideoGrants { room_join: true, room, agent: true, ..VideoGrants::default() })
        .to_jwt()
        .unwrap_or_default();
        record.assigned = true;
        record.token = Some(token.clone());
        let commands = state.workers[self.index].commands.clone();
        drop(guard);
        self.endpoint.touch();
        let url = self.endpoint.inner.url.clone();
        assignments.spawn(async move {
            tokio::time::sleep(delay).await;
            let assignment = JobAssignment { job: Some(job), url: Some(url), token };
            let message =
                ServerMessage { message: Some(server_message::Message::Assignment(assignment)) };
            let _ = commands.send(Command::Send(Box::new(message)));
        });
    }
}

fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}
