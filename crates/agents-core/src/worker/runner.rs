//! `Worker`: an [`AgentServer`] registered with a LiveKit server, running the jobs it
//! dispatches as tasks of this process (Python's `AgentServer.run()`).
//!
//! One task keeps the control connection (connect, register, reconnect with Python's
//! delays, `MigrateJobRequest` for the jobs still running, status every 2.5 s, WebSocket ping
//! every 30 s); one samples the load; one serves the health check. Each availability request
//! is a task (capacity reserved atomically, the `request_fnc`, the 7.5 s assignment wait),
//! and each job is a task that owns its entrypoint's task: a panic, an error or a hang in a
//! job ends that job only, reported `JS_FAILED` with the panic text or the error.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures::{FutureExt as _, SinkExt as _, StreamExt as _};
use livekit_protocol as proto;
use prost::Message as _;
use proto::{server_message, worker_message};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::Message;

use super::connection::{self, AgentUrl, AttemptError, Socket};
use super::context::{JobContext, JobInfo, RoomCredentials};
use super::entrypoint::EntrypointFn;
use super::error::{JobError, WorkerError};
use super::health::{self, HealthSource};
use super::host::{self, FromHost, HostEvent, HostHandle, HostJobStatus, ToHost};
use super::job::RunningJob;
use super::load::{CpuMonitor, Load, MovingAverage};
use super::options::{Isolation, WorkerOptions};
use super::process::JobProcess;
use super::request::{AGENT_NAME_ATTRIBUTE, Answer, JobRequest, RequestFn};
use super::server::AgentServer;
use crate::room::Room;

/// The SDK version sent at registration and shown by the health server.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The reason given to jobs ended by [`Worker::aclose`].
const CLOSING: &str = "the worker is closing";

/// How long the server may take to answer `register`.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `aclose` waits for the jobs' graceful shutdown before aborting them.
const CLOSE_JOBS_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the memory is checked against `job_memory_warn_mb`.
const MEMORY_INTERVAL: Duration = Duration::from_secs(5);

/// The worker's connection, as [`Worker::status`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkerStatus {
    /// Connecting or reconnecting.
    Connecting,
    /// Registered, with this worker id.
    Registered {
        /// The id the server gave.
        worker_id: String,
    },
    /// Gave up: the error says why.
    Failed(String),
    /// Closed.
    Closed,
}

/// A job the worker runs.
struct ActiveJob {
    terminate: watch::Sender<Option<String>>,
    task: Option<JoinHandle<()>>,
    /// The host process running it, with [`Isolation::Processes`].
    host: Option<usize>,
}

/// Jobs and reservations, changed together under one lock: capacity is taken atomically.
#[derive(Default)]
struct Capacity {
    active: HashMap<String, ActiveJob>,
    reserved: usize,
    draining: bool,
    /// `aclose` began: a job launched from now on starts terminated.
    closing: bool,
}

/// A message for the server; a status update is dropped if its connection is gone.
struct Outgoing {
    message: worker_message::Message,
    /// For status updates: the connection it was meant for.
    epoch: Option<u64>,
}

struct Shared {
    options: WorkerOptions,
    url: AgentUrl,
    process: Arc<JobProcess>,
    entrypoint: Arc<EntrypointFn>,
    request: Arc<RequestFn>,
    capacity: Mutex<Capacity>,
    /// Bumped when a job ends or a reservation is released.
    jobs_changed: watch::Sender<u64>,
    load: Load,
    outbox: mpsc::UnboundedSender<Outgoing>,
    /// The current connection's number; 0 while disconnected.
    epoch: AtomicU64,
    status: watch::Sender<WorkerStatus>,
    pending: Mutex<HashMap<String, oneshot::Sender<proto::JobAssignment>>>,
    closing: watch::Sender<bool>,
    /// The process's memory when the worker started, in bytes.
    baseline_rss: u64,
    /// Why the worker gave up.
    failure: Mutex<Option<WorkerError>>,
    /// The job host processes, by slot (empty with [`Isolation::Tasks`]).
    hosts: Mutex<Vec<Option<HostHandle>>>,
    host_events: mpsc::UnboundedSender<HostEvent>,
    /// The instance number of the next host started (see [`HostHandle::instance`]).
    next_host: AtomicU64,
}

/// An [`AgentServer`] registered with a LiveKit server as an agent worker (Python's
/// `AgentServer.run()`), running the jobs it dispatches as tasks of this process.
///
/// One task keeps the control connection (`{url}/agent`, a fresh token per attempt;
/// reconnection with Python's delays, 0, 2, 4 … 10 s, `max_retry` times, then
/// `MigrateJobRequest` for the jobs still running; status every 2.5 s; WebSocket ping every
/// 30 s); one samples the load; one serves the health check (`GET /`, `GET /worker`). Each
/// availability request reserves capacity atomically, asks the `request_fnc`, and waits
/// 7.5 s for the assignment; each job is a task owning its entrypoint's task, reported
/// `JS_RUNNING`, then `JS_SUCCESS` or `JS_FAILED` with the error or the panic's text.
///
/// ```no_run
/// use agents_core::prelude::*;
/// use agents_core::worker::{Worker, WorkerOptions};
///
/// # async fn entrypoint(_ctx: JobContext) {}
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let server = AgentServer::new().rtc_session(entrypoint);
/// let options = WorkerOptions::production("wss://my.livekit.cloud", "APIkey", "secret");
/// let worker = Worker::start(server, options).await?;
/// let worker_id = worker.registered().await?;
/// println!("registered as {worker_id}");
/// worker.drain(None).await?; // stop taking jobs, wait for those running
/// worker.aclose().await;
/// # Ok(())
/// # }
/// ```
pub struct Worker {
    shared: Arc<Shared>,
    health_address: Option<SocketAddr>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("url", &self.shared.url.shown())
            .field("status", &*self.shared.status.borrow())
            .field("health_address", &self.health_address)
            .finish_non_exhaustive()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
        for job in lock(&self.shared.capacity).active.values_mut() {
            if let Some(task) = job.task.take() {
                task.abort();
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Worker {
    /// Prepares the process (the setup function), starts the health server and the load
    /// sampler, and starts connecting. Fails at once on missing credentials, a bad URL, a
    /// failing setup function, or a health port in use; [`registered`](Self::registered)
    /// waits for the registration.
    pub async fn start(server: AgentServer, options: WorkerOptions) -> Result<Self, WorkerError> {
        for (value, what, env, flag) in [
            (&options.url, "the LiveKit URL", "LIVEKIT_URL", "--url"),
            (&options.api_key, "the API key", "LIVEKIT_API_KEY", "--api-key"),
            (&options.api_secret, "the API secret", "LIVEKIT_API_SECRET", "--api-secret"),
        ] {
            if value.trim().is_empty() {
                return Err(WorkerError::MissingCredential { what, env, flag });
            }
        }
        let url = AgentUrl::new(&options.url, options.worker_token.as_deref())?;
        connection::worker_token(&options.api_key, &options.api_secret)?;
        let entrypoint = server.entrypoint_fn().ok_or(JobError::NoEntrypoint)?;
        // With host processes, each host runs the setup function; this process runs none.
        let process = match options.isolation {
            Isolation::Processes { .. } => Arc::new(super::process::JobProcess::new()),
            _ => server.process().await?,
        };
        let listener = match options.port {
            Some(port) => Some(health::bind(SocketAddr::new(options.host, port)).await?),
            None => None,
        };
        let health_address = listener.as_ref().and_then(|listener| listener.local_addr().ok());
        let (outbox, outgoing) = mpsc::unbounded_channel();
        let (host_events, host_messages) = mpsc::unbounded_channel();
        let mut hosts = Vec::new();
        if let Isolation::Processes { hosts: count } = options.isolation {
            // Started together (each on the blocking pool); a host that cannot start at all
            // fails the worker's start.
            hosts = (0..count.max(1))
                .map(|slot| Some(host::spawn(slot, slot as u64, host_events.clone())))
                .collect();
            for host in hosts.iter().flatten() {
                host.started().await.map_err(|error| {
                    WorkerError::Host(format!("cannot start a job host process: {error}"))
                })?;
            }
        }
        let next_host = AtomicU64::new(hosts.len() as u64);
        let shared = Arc::new(Shared {
            url,
            process,
            entrypoint,
            request: server.request_fn(),
            capacity: Mutex::new(Capacity::default()),
            jobs_changed: watch::Sender::new(0),
            load: Load::default(),
            outbox,
            epoch: AtomicU64::new(0),
            status: watch::Sender::new(WorkerStatus::Connecting),
            pending: Mutex::new(HashMap::new()),
            closing: watch::Sender::new(false),
            baseline_rss: resident_memory().unwrap_or(0),
            failure: Mutex::new(None),
            hosts: Mutex::new(hosts),
            host_events,
            next_host,
            options,
        });
        let mut tasks = vec![
            tokio::spawn(connection_loop(shared.clone(), outgoing)),
            tokio::spawn(sample_load(shared.clone())),
        ];
        if let Some(listener) = listener {
            tasks.push(tokio::spawn(health::serve(listener, shared.clone())));
        }
        if !lock(&shared.hosts).is_empty() {
            tasks.push(tokio::spawn(supervise_hosts(shared.clone(), host_messages)));
        }
        if let Some(address) = health_address {
            tracing::debug!("health check on http://{address}/");
        }
        Ok(Self { shared, health_address, tasks: Mutex::new(tasks) })
    }

    /// Waits until the worker is registered and returns its worker id; fails if it gives up
    /// connecting first.
    pub async fn registered(&self) -> Result<String, WorkerError> {
        let mut status = self.shared.status.subscribe();
        loop {
            match &*status.borrow_and_update() {
                WorkerStatus::Registered { worker_id } => return Ok(worker_id.clone()),
                WorkerStatus::Failed(_) => return Err(self.failure()),
                WorkerStatus::Closed => return Err(WorkerError::Closed),
                WorkerStatus::Connecting => {}
            }
            if status.changed().await.is_err() {
                return Err(WorkerError::Closed);
            }
        }
    }

    /// Waits until the worker gives up connecting (the error), or is closed (`Ok`).
    pub async fn closed(&self) -> Result<(), WorkerError> {
        let mut status = self.shared.status.subscribe();
        loop {
            match &*status.borrow_and_update() {
                WorkerStatus::Failed(_) => return Err(self.failure()),
                WorkerStatus::Closed => return Ok(()),
                _ => {}
            }
            if status.changed().await.is_err() {
                return Ok(());
            }
        }
    }

    fn failure(&self) -> WorkerError {
        lock(&self.shared.failure).clone().unwrap_or(WorkerError::Closed)
    }

    /// The connection's status.
    pub fn status(&self) -> WorkerStatus {
        self.shared.status.borrow().clone()
    }

    /// The health server's address, if it runs.
    pub fn health_address(&self) -> Option<SocketAddr> {
        self.health_address
    }

    /// The ids of the jobs running.
    pub fn active_jobs(&self) -> Vec<String> {
        lock(&self.shared.capacity).active.keys().cloned().collect()
    }

    /// The load last sampled (0..1).
    pub fn load(&self) -> f32 {
        self.shared.load.get()
    }

    /// Stops taking jobs (the server is told the worker is full, requests are answered
    /// unavailable) and waits for the running jobs to end, up to `timeout` (default: the
    /// options' `drain_timeout`, 3600 s). The worker stays connected: close it with
    /// [`aclose`](Self::aclose).
    pub async fn drain(&self, timeout: Option<Duration>) -> Result<(), WorkerError> {
        let timeout = timeout.unwrap_or(self.shared.options.drain_timeout);
        lock(&self.shared.capacity).draining = true;
        tracing::info!("draining: no new jobs; waiting for the running ones to end");
        self.shared.queue_status();
        let mut changed = self.shared.jobs_changed.subscribe();
        let idle = async {
            loop {
                {
                    let capacity = lock(&self.shared.capacity);
                    if capacity.active.is_empty() && capacity.reserved == 0 {
                        return;
                    }
                }
                if changed.changed().await.is_err() {
                    return;
                }
            }
        };
        match tokio::time::timeout(timeout, idle).await {
            Ok(()) => Ok(()),
            Err(_) => Err(WorkerError::DrainTimedOut {
                jobs: lock(&self.shared.capacity).active.len(),
                timeout,
            }),
        }
    }

    /// Closes the worker: stops taking jobs, ends the running ones gracefully (their sessions
    /// closed, their shutdown callbacks run, each step bounded), reports them, then closes
    /// the connection, the load sampler and the health server.
    pub async fn aclose(&self) {
        let handles: Vec<(String, JoinHandle<()>)> = {
            let mut capacity = lock(&self.shared.capacity);
            capacity.draining = true;
            capacity.closing = true;
            capacity
                .active
                .iter_mut()
                .filter_map(|(id, job)| {
                    job.terminate.send_replace(Some(CLOSING.to_owned()));
                    job.task.take().map(|task| (id.clone(), task))
                })
                .collect()
        };
        for (id, mut handle) in handles {
            if tokio::time::timeout(CLOSE_JOBS_TIMEOUT, &mut handle).await.is_err() {
                handle.abort();
                // Aborted, it cannot report itself: it is failed here.
                let removed = lock(&self.shared.capacity).active.remove(&id).is_some();
                if removed {
                    self.shared.send(job_status(
                        &id,
                        proto::JobStatus::JsFailed,
                        format!("the job did not end within {CLOSE_JOBS_TIMEOUT:?} of closing"),
                    ));
                    self.shared.jobs_changed.send_modify(|n| *n += 1);
                }
            }
        }
        // Jobs in host processes end when their host says so.
        let mut changed = self.shared.jobs_changed.subscribe();
        let _ = tokio::time::timeout(CLOSE_JOBS_TIMEOUT, async {
            while !lock(&self.shared.capacity).active.is_empty() {
                if changed.changed().await.is_err() {
                    break;
                }
            }
        })
        .await;
        self.shared.closing.send_replace(true);
        let tasks: Vec<JoinHandle<()>> = lock(&self.tasks).drain(..).collect();
        let mut tasks = tasks.into_iter();
        // The connection first: it sends what is queued (the jobs' final statuses) and closes.
        if let Some(mut connection) = tasks.next()
            && tokio::time::timeout(Duration::from_secs(5), &mut connection).await.is_err()
        {
            connection.abort();
        }
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
        // The host processes are killed with their handles.
        lock(&self.shared.hosts).clear();
        self.shared.status.send_if_modified(|status| {
            if matches!(status, WorkerStatus::Failed(_)) {
                return false;
            }
            *status = WorkerStatus::Closed;
            true
        });
    }
}

impl Shared {
    fn fail(self: &Arc<Self>, error: WorkerError) {
        tracing::error!("{error}");
        *lock(&self.failure) = Some(error.clone());
        self.status.send_replace(WorkerStatus::Failed(error.to_string()));
    }

    fn send(&self, message: worker_message::Message) {
        let _ = self.outbox.send(Outgoing { message, epoch: None });
    }

    /// Queues a status update for the current connection (dropped if there is none).
    fn queue_status(&self) {
        let epoch = self.epoch.load(Ordering::Acquire);
        if epoch == 0 {
            return;
        }
        let _ = self.outbox.send(Outgoing { message: self.status_update(), epoch: Some(epoch) });
    }

    fn status_update(&self) -> worker_message::Message {
        let capacity = lock(&self.capacity);
        let full = capacity.draining || !self.has_room(&capacity);
        let status =
            if full { proto::WorkerStatus::WsFull } else { proto::WorkerStatus::WsAvailable };
        worker_message::Message::UpdateWorker(proto::UpdateWorkerStatus {
            status: Some(status as i32),
            load: if capacity.draining { 0.0 } else { self.load.get() },
            job_count: u32::try_from(capacity.active.len()).unwrap_or(u32::MAX),
            draining: capacity.draining,
            ..proto::UpdateWorkerStatus::default()
        })
    }

    /// Whether one more job fits: `max_jobs` and the load threshold, reservations counted.
    fn has_room(&self, capacity: &Capacity) -> bool {
        let taken = capacity.active.len() + capacity.reserved;
        if self.options.max_jobs.is_some_and(|max| taken >= max) {
            return false;
        }
        let threshold = self.options.load_threshold;
        if !threshold.is_finite() {
            return true;
        }
        let load = self.load.get();
        let active = capacity.active.len();
        // Python's estimate of a job's load: the load per running job, or, with none
        // running, the threshold shared by as many jobs as there are CPUs.
        let job_load = if active > 0 {
            load / active as f32
        } else {
            threshold / std::thread::available_parallelism().map_or(1, |n| n.get()) as f32
        };
        load + capacity.reserved as f32 * job_load < threshold
    }

    /// Reserves a slot for a job if one fits.
    fn try_reserve(&self) -> bool {
        let mut capacity = lock(&self.capacity);
        if capacity.draining || !self.has_room(&capacity) {
            return false;
        }
        capacity.reserved += 1;
        true
    }

    fn release(&self) {
        let mut capacity = lock(&self.capacity);
        capacity.reserved = capacity.reserved.saturating_sub(1);
        drop(capacity);
        self.jobs_changed.send_modify(|n| *n += 1);
    }

    fn terminate(&self, job_id: &str, reason: &str) {
        match lock(&self.capacity).active.get(job_id) {
            Some(job) => {
                job.terminate.send_replace(Some(reason.to_owned()));
            }
            None => tracing::warn!(job_id, "a termination for a job this worker does not run"),
        }
    }

    /// Starts a new host in `slot` (without blocking: see [`host::spawn`]).
    fn spawn_host(&self, slot: usize) -> HostHandle {
        let instance = self.next_host.fetch_add(1, Ordering::Relaxed);
        host::spawn(slot, instance, self.host_events.clone())
    }

    fn running_job_ids(&self) -> Vec<String> {
        lock(&self.capacity).active.keys().cloned().collect()
    }
}

impl HealthSource for Shared {
    fn health(&self) -> Result<(), String> {
        match &*self.status.borrow() {
            WorkerStatus::Failed(error) => Err(format!("failed to connect to livekit: {error}")),
            WorkerStatus::Closed => Err("the worker is closed".to_owned()),
            _ => Ok(()),
        }
    }

    fn info(&self) -> serde_json::Value {
        let (active, draining) = {
            let capacity = lock(&self.capacity);
            (capacity.active.len(), capacity.draining)
        };
        let rss = resident_memory().unwrap_or(0);
        let per_job = if active > 0 {
            Some(rss.saturating_sub(self.baseline_rss) as f64 / active as f64 / 1e6)
        } else {
            None
        };
        let worker_id = match &*self.status.borrow() {
            WorkerStatus::Registered { worker_id } => worker_id.clone(),
            _ => String::new(),
        };
        serde_json::json!({
            "worker_type": self.options.server_type.as_str(),
            "agent_name": self.options.agent_name,
            "active_jobs": active,
            "sdk_version": SDK_VERSION,
            "worker_load": self.load.get(),
            "protocol_version": 1,
            "worker_id": worker_id,
            "draining": draining,
            "process_rss_mb": rss as f64 / 1e6,
            "rss_per_job_mb": per_job,
            "job_hosts": lock(&self.hosts)
                .iter()
                .flatten()
                .filter_map(HostHandle::pid)
                .collect::<Vec<_>>(),
        })
    }
}

/// The process's resident memory in bytes (`VmRSS` of `/proc/self/status`), where known.
pub(crate) fn resident_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Samples the load every `load_interval` into a moving average; checks the memory per job.
async fn sample_load(shared: Arc<Shared>) {
    let mut monitor = CpuMonitor::new();
    let mut average = MovingAverage::default();
    let mut ticks = tokio::time::interval(shared.options.load_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_memory_check = Instant::now();
    let mut warned = false;
    loop {
        ticks.tick().await;
        let sample = match &shared.options.load_fnc {
            Some(load_fnc) => {
                let load_fnc = load_fnc.clone();
                AssertUnwindSafe(async move { load_fnc() }).catch_unwind().await.ok()
            }
            None => monitor.sample(),
        };
        if let Some(sample) = sample {
            shared.load.set(average.push(sample));
        }
        if last_memory_check.elapsed() >= MEMORY_INTERVAL && shared.options.job_memory_warn_mb > 0 {
            last_memory_check = Instant::now();
            let active = lock(&shared.capacity).active.len() as u64;
            if let (Some(rss), true) = (resident_memory(), active > 0) {
                let per_job_mb = rss.saturating_sub(shared.baseline_rss) / active / 1_000_000;
                let over = per_job_mb > shared.options.job_memory_warn_mb;
                if over && !warned {
                    tracing::warn!(
                        per_job_mb,
                        active,
                        "the process's memory per running job is over job_memory_warn_mb ({} MB)",
                        shared.options.job_memory_warn_mb
                    );
                }
                warned = over;
            }
        }
    }
}

/// How a connection ended.
enum SessionEnd {
    /// The worker is closing.
    Closing,
    /// Retrying does not help.
    Fatal(WorkerError),
    /// Lost or never made: retry.
    Lost(String),
}

/// Connects, registers, serves the connection; reconnects with Python's delays.
async fn connection_loop(shared: Arc<Shared>, mut outgoing: mpsc::UnboundedReceiver<Outgoing>) {
    let mut closing = shared.closing.subscribe();
    let mut availability = JoinSet::new();
    let mut retry: u32 = 0;
    let mut next_epoch: u64 = 1;
    loop {
        if *closing.borrow() {
            break;
        }
        // The session watches for closing itself: it flushes what the jobs reported first.
        let end = session(&shared, &mut outgoing, &mut availability, &mut retry, next_epoch).await;
        shared.epoch.store(0, Ordering::Release);
        next_epoch += 1;
        match end {
            SessionEnd::Closing => break,
            SessionEnd::Fatal(error) => {
                shared.fail(error);
                break;
            }
            SessionEnd::Lost(error) => {
                if retry >= shared.options.max_retry {
                    shared.fail(WorkerError::Unreachable {
                        url: shared.url.shown().to_owned(),
                        attempts: retry + 1,
                        last_error: error,
                    });
                    break;
                }
                let delay = Duration::from_secs(u64::from((retry * 2).min(10)));
                retry += 1;
                if retry == 1 {
                    tracing::warn!("the connection to LiveKit failed: {error}; retrying");
                } else {
                    tracing::debug!(
                        retry,
                        "the connection to LiveKit failed: {error}; retrying in {delay:?}"
                    );
                }
                shared.status.send_replace(WorkerStatus::Connecting);
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = until_closing(&mut closing) => break,
                }
            }
        }
    }
    availability.shutdown().await;
}

/// One connection: connect, register, migrate, then serve it until it ends.
/// The kind of a server message, for errors and logs (never its content: tokens).
pub(crate) fn message_kind(message: &server_message::Message) -> &'static str {
    match message {
        server_message::Message::Register(_) => "register",
        server_message::Message::Availability(_) => "availability",
        server_message::Message::Assignment(_) => "assignment",
        server_message::Message::Termination(_) => "termination",
        server_message::Message::Pong(_) => "pong",
        server_message::Message::GoAway(_) => "go_away",
    }
}

async fn session(
    shared: &Arc<Shared>,
    outgoing: &mut mpsc::UnboundedReceiver<Outgoing>,
    availability: &mut JoinSet<()>,
    retry: &mut u32,
    epoch: u64,
) -> SessionEnd {
    let mut closing = shared.closing.subscribe();
    let options = &shared.options;
    let registering = async {
        let token =
            match connection::worker_token(&shared.options.api_key, &shared.options.api_secret) {
                Ok(token) => token,
                Err(error) => return Err(SessionEnd::Fatal(error)),
            };
        let mut socket = match connection::connect(&shared.url, &token).await {
            Ok(socket) => socket,
            Err(AttemptError::Unauthorized(status)) => {
                return Err(SessionEnd::Fatal(WorkerError::Unauthorized {
                    url: shared.url.shown().to_owned(),
                    status,
                }));
            }
            Err(AttemptError::Failed(error)) => return Err(SessionEnd::Lost(error)),
        };
        // Python still sets the deprecated `agent` permission.
        #[allow(deprecated)]
        let register = proto::RegisterWorkerRequest {
            r#type: match options.server_type {
                super::options::ServerType::Room => proto::JobType::JtRoom,
                super::options::ServerType::Publisher => proto::JobType::JtPublisher,
            } as i32,
            agent_name: options.agent_name.clone(),
            version: SDK_VERSION.to_owned(),
            namespace: options.namespace.clone(),
            deployment: options.deployment.clone(),
            allowed_permissions: Some(proto::ParticipantPermission {
                can_publish: options.permissions.can_publish,
                can_subscribe: options.permissions.can_subscribe,
                can_publish_data: options.permissions.can_publish_data,
                can_update_metadata: options.permissions.can_update_metadata,
                hidden: options.permissions.hidden,
                agent: true,
                ..proto::ParticipantPermission::default()
            }),
            ..proto::RegisterWorkerRequest::default()
        };
        if let Err(error) = send(&mut socket, worker_message::Message::Register(register)).await {
            return Err(SessionEnd::Lost(error));
        }
        let first = tokio::time::timeout(
            REGISTER_TIMEOUT,
            receive(&mut socket, &mut tokio::time::Instant::now()),
        )
        .await;
        let response = match first {
            Ok(Ok(Some(server_message::Message::Register(response)))) => response,
            Ok(Ok(Some(other))) => {
                // Only its kind: an assignment carries a room token.
                return Err(SessionEnd::Lost(format!(
                    "the server's first message is not `register` but `{}`",
                    message_kind(&other)
                )));
            }
            Ok(Ok(None)) => {
                return Err(SessionEnd::Lost("the server closed the connection".into()));
            }
            Ok(Err(error)) => return Err(SessionEnd::Lost(error)),
            Err(_) => {
                return Err(SessionEnd::Lost(format!(
                    "no registration within {REGISTER_TIMEOUT:?}"
                )));
            }
        };
        // Only a registration counts as a success: a server that accepts the upgrade and
        // then closes (or never answers) must not reset the retries to an endless delay-0 loop.
        *retry = 0;
        Ok((socket, response))
    };
    let (mut socket, response) = tokio::select! {
        registered = registering => match registered {
            Ok(registered) => registered,
            Err(end) => return end,
        },
        () = until_closing(&mut closing) => return SessionEnd::Closing,
    };
    let options = &shared.options;
    let region = response.server_info.as_ref().map(|info| info.region.as_str()).unwrap_or_default();
    tracing::info!(worker_id = %response.worker_id, region, "registered with LiveKit at {}", shared.url.shown());
    shared.epoch.store(epoch, Ordering::Release);
    shared.status.send_replace(WorkerStatus::Registered { worker_id: response.worker_id.clone() });
    let running = shared.running_job_ids();
    if !running.is_empty() {
        let migrate = proto::MigrateJobRequest { job_ids: running };
        if let Err(error) = send(&mut socket, worker_message::Message::MigrateJob(migrate)).await {
            return SessionEnd::Lost(error);
        }
    }
    let mut status = tokio::time::interval(options.status_interval);
    status.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ping = tokio::time::interval(options.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    // Any frame (a pong among them) shows the connection is alive; silence for two ping
    // intervals ends the session as lost (and reconnects).
    let mut last_frame = tokio::time::Instant::now();
    let silence = options.ping_interval.saturating_mul(2);
    loop {
        tokio::select! {
            () = until_closing(&mut closing) => {
                // What the jobs reported while closing goes out first.
                while let Ok(outgoing) = outgoing.try_recv() {
                    if outgoing.epoch.is_none_or(|e| e == epoch) {
                        let _ = send(&mut socket, outgoing.message).await;
                    }
                }
                let _ = socket.close(None).await;
                return SessionEnd::Closing;
            }
            Some(outgoing) = outgoing.recv() => {
                // A status update meant for an earlier connection is stale: dropped.
                if outgoing.epoch.is_some_and(|e| e != epoch) {
                    continue;
                }
                if let Err(error) = send(&mut socket, outgoing.message).await {
                    return SessionEnd::Lost(error);
                }
            }
            _ = status.tick() => {
                if let Err(error) = send(&mut socket, shared.status_update()).await {
                    return SessionEnd::Lost(error);
                }
            }
            _ = ping.tick() => {
                if last_frame.elapsed() > silence {
                    return SessionEnd::Lost(format!(
                        "nothing from the server for {silence:?} (no pong): the connection is lost"
                    ));
                }
                if let Err(error) = socket.send(Message::Ping(Vec::new().into())).await {
                    return SessionEnd::Lost(format!("the ping failed: {error}"));
                }
            }
            received = receive(&mut socket, &mut last_frame) => match received {
                Ok(Some(message)) => handle(shared, message, availability),
                Ok(None) => return SessionEnd::Lost("the server closed the connection".into()),
                Err(error) => return SessionEnd::Lost(error),
            },
            Some(_) = availability.join_next(), if !availability.is_empty() => {}
        }
    }
}

/// Resolves once the worker is closing.
async fn until_closing(closing: &mut watch::Receiver<bool>) {
    if closing.wait_for(|closing| *closing).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn send(socket: &mut Socket, message: worker_message::Message) -> Result<(), String> {
    let bytes = proto::WorkerMessage { message: Some(message) }.encode_to_vec();
    socket
        .send(Message::Binary(bytes.into()))
        .await
        .map_err(|error| format!("sending failed: {error}"))
}

/// The next server message; `None` when the server closed the connection; each frame's
/// arrival recorded in `last_frame`. Cancel safe.
async fn receive(
    socket: &mut Socket,
    last_frame: &mut tokio::time::Instant,
) -> Result<Option<server_message::Message>, String> {
    loop {
        let frame = socket.next().await;
        *last_frame = tokio::time::Instant::now();
        match frame {
            Some(Ok(Message::Binary(bytes))) => match decode_server_message(&bytes) {
                Ok(Some(message)) => return Ok(Some(message)),
                Ok(None) => tracing::debug!("an empty server message"),
                Err(error) => tracing::warn!("an undecodable server message: {error}"),
            },
            Some(Ok(Message::Text(text))) => {
                tracing::debug!("a text frame from the server, ignored: {text}")
            }
            Some(Ok(Message::Close(_))) | None => return Ok(None),
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(format!("the connection failed: {error}")),
        }
    }
}

/// A binary frame of the server as its message; `None` for a message without one (a newer
/// server's kind this worker does not know).
pub(crate) fn decode_server_message(
    bytes: &[u8],
) -> Result<Option<server_message::Message>, prost::DecodeError> {
    proto::ServerMessage::decode(bytes).map(|decoded| decoded.message)
}

fn handle(shared: &Arc<Shared>, message: server_message::Message, availability: &mut JoinSet<()>) {
    match message {
        server_message::Message::Availability(request) => {
            availability.spawn(answer_availability(shared.clone(), request));
        }
        server_message::Message::Assignment(assignment) => {
            let id = assignment.job.as_ref().map(|job| job.id.clone()).unwrap_or_default();
            match lock(&shared.pending).remove(&id) {
                Some(waiting) => {
                    let _ = waiting.send(assignment);
                }
                None => {
                    tracing::warn!(job_id = %id, "an assignment for a job this worker did not accept (or one that timed out)")
                }
            }
        }
        server_message::Message::Termination(termination) => {
            shared.terminate(&termination.job_id, "the job was terminated by the server");
        }
        server_message::Message::Register(_) => {
            tracing::warn!("a second registration answer, ignored")
        }
        server_message::Message::Pong(_) => {}
        other => tracing::debug!("a server message this worker does not use: {other:?}"),
    }
}

pub(crate) fn job_info(job: &proto::Job) -> JobInfo {
    let room = job.room.clone().unwrap_or_default();
    JobInfo {
        id: job.id.clone(),
        agent_name: job.agent_name.clone(),
        metadata: job.metadata.clone(),
        fake: false,
        room_name: room.name,
        room_sid: room.sid,
        dispatch_id: job.dispatch_id.clone(),
        participant_identity: job.participant.as_ref().map(|p| p.identity.clone()),
    }
}

/// Answers an availability request: capacity, the `request_fnc`, the assignment wait.
async fn answer_availability(shared: Arc<Shared>, request: proto::AvailabilityRequest) {
    let Some(job) = request.job else {
        tracing::warn!("an availability request without a job");
        return;
    };
    let unavailable = |terminate: bool| {
        worker_message::Message::Availability(proto::AvailabilityResponse {
            job_id: job.id.clone(),
            available: false,
            terminate,
            ..proto::AvailabilityResponse::default()
        })
    };
    if !shared.try_reserve() {
        shared.send(unavailable(false));
        return;
    }
    let info = job_info(&job);
    let (job_request, mut answered) = JobRequest::new(info.clone());
    // Its synchronous part may panic too: the reservation is released either way.
    let request_fnc =
        match std::panic::catch_unwind(AssertUnwindSafe(|| (shared.request)(job_request))) {
            Ok(request_fnc) => AssertUnwindSafe(request_fnc).catch_unwind(),
            Err(payload) => {
                let message = super::error::panic_message(&*payload);
                tracing::error!(job_id = %job.id, "the request function panicked: {message}");
                shared.release();
                shared.send(unavailable(false));
                return;
            }
        };
    let decided = tokio::time::timeout(shared.options.request_timeout, async {
        tokio::select! {
            answer = &mut answered => answer.ok(),
            ran = request_fnc => {
                if let Err(payload) = ran {
                    let message = super::error::panic_message(&*payload);
                    tracing::error!(job_id = %job.id, "the request function panicked: {message}");
                }
                answered.try_recv().ok()
            }
        }
    })
    .await;
    let arguments = match decided {
        Ok(Some(Answer::Accept(arguments))) => arguments,
        Ok(Some(Answer::Reject { terminate })) => {
            shared.release();
            shared.send(unavailable(terminate));
            return;
        }
        Ok(None) | Err(_) => {
            tracing::warn!(job_id = %job.id, "the request function neither accepted nor rejected the job: rejected");
            shared.release();
            shared.send(unavailable(false));
            return;
        }
    };
    let identity = if arguments.identity.is_empty() {
        format!("agent-{}", job.id)
    } else {
        arguments.identity.clone()
    };
    let mut attributes = arguments.attributes.clone();
    attributes.insert(AGENT_NAME_ATTRIBUTE.to_owned(), shared.options.agent_name.clone());
    let (assigned, assignment) = oneshot::channel();
    lock(&shared.pending).insert(job.id.clone(), assigned);
    shared.send(worker_message::Message::Availability(proto::AvailabilityResponse {
        job_id: job.id.clone(),
        available: true,
        participant_name: arguments.name.clone(),
        participant_identity: identity.clone(),
        participant_metadata: arguments.metadata.clone(),
        participant_attributes: attributes,
        ..proto::AvailabilityResponse::default()
    }));
    match tokio::time::timeout(shared.options.assignment_timeout, assignment).await {
        Ok(Ok(assignment)) => launch(&shared, info, assignment, identity),
        _ => {
            lock(&shared.pending).remove(&job.id);
            shared.release();
            tracing::warn!(
                job_id = %job.id,
                "the server did not assign the accepted job within {:?}: released",
                shared.options.assignment_timeout
            );
        }
    }
}

/// Starts an assigned job: its reservation becomes a running job.
fn launch(shared: &Arc<Shared>, info: JobInfo, assignment: proto::JobAssignment, identity: String) {
    let credentials = RoomCredentials {
        url: assignment
            .url
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| shared.options.url.clone()),
        token: assignment.token,
        identity,
    };
    let id = info.id.clone();
    let (terminate, terminated) = watch::channel(None);
    if !lock(&shared.hosts).is_empty() {
        launch_in_host(shared, info, credentials, terminate, terminated);
        return;
    }
    let room = Room::local(info.room_name.clone());
    let ctx = JobContext::with_credentials(info, room, shared.process.clone(), Some(credentials));
    {
        let mut capacity = lock(&shared.capacity);
        capacity.reserved = capacity.reserved.saturating_sub(1);
        if capacity.closing {
            // Assigned while closing, after `aclose` ended the running jobs: ended at once.
            terminate.send_replace(Some(CLOSING.to_owned()));
        }
        capacity.active.insert(id.clone(), ActiveJob { terminate, task: None, host: None });
    }
    let task = tokio::spawn(run_job(shared.clone(), ctx, terminated));
    if let Some(job) = lock(&shared.capacity).active.get_mut(&id) {
        job.task = Some(task);
    }
}

/// Starts an assigned job in the host process with the fewest jobs.
fn launch_in_host(
    shared: &Arc<Shared>,
    info: JobInfo,
    credentials: RoomCredentials,
    terminate: watch::Sender<Option<String>>,
    mut terminated: watch::Receiver<Option<String>>,
) {
    let id = info.id.clone();
    let mut capacity = lock(&shared.capacity);
    let hosts = lock(&shared.hosts);
    let load = |slot: usize| capacity.active.values().filter(|job| job.host == Some(slot)).count();
    let slot =
        (0..hosts.len()).filter(|slot| hosts[*slot].is_some()).min_by_key(|slot| load(*slot));
    capacity.reserved = capacity.reserved.saturating_sub(1);
    let Some((slot, host)) = slot.and_then(|slot| hosts[slot].as_ref().map(|host| (slot, host)))
    else {
        drop(hosts);
        drop(capacity);
        shared.send(job_status(
            &id,
            proto::JobStatus::JsFailed,
            "no job host process is running".into(),
        ));
        shared.jobs_changed.send_modify(|n| *n += 1);
        return;
    };
    let started = host.send(ToHost::Start {
        id: id.clone(),
        agent_name: info.agent_name,
        metadata: info.metadata,
        room_name: info.room_name,
        room_sid: info.room_sid,
        dispatch_id: info.dispatch_id,
        participant_identity: info.participant_identity,
        url: credentials.url,
        token: credentials.token,
        identity: credentials.identity,
    });
    drop(hosts);
    if !started {
        drop(capacity);
        shared.send(job_status(
            &id,
            proto::JobStatus::JsFailed,
            "the job host process is gone".into(),
        ));
        shared.jobs_changed.send_modify(|n| *n += 1);
        return;
    }
    if capacity.closing {
        // Assigned while closing, after `aclose` ended the running jobs: ended at once.
        terminate.send_replace(Some(CLOSING.to_owned()));
    }
    // Termination is forwarded to the host; the host reports the job's end.
    let forwarder = tokio::spawn({
        let shared = shared.clone();
        let id = id.clone();
        async move {
            let reason = terminated.wait_for(Option::is_some).await.map(|r| r.clone());
            if let Ok(reason) = reason
                && let Some(Some(host)) = lock(&shared.hosts).get(slot)
            {
                host.send(ToHost::Terminate { id, reason: reason.unwrap_or_default() });
            }
        }
    });
    capacity.active.insert(id, ActiveJob { terminate, task: Some(forwarder), host: Some(slot) });
}

/// A slot whose host exits this many times in a row before it is ready is given up.
const HOST_START_ATTEMPTS: u32 = 5;

/// The delay before restarting a host that exited `exits` times in a row before it was
/// ready: 0 after a host that had been ready, then 0.5, 1, 2 … 10 s.
fn host_restart_delay(exits: u32) -> Duration {
    match exits {
        0 => Duration::ZERO,
        n => Duration::from_millis(500u64.saturating_mul(1 << (n - 1).min(5)))
            .min(Duration::from_secs(10)),
    }
}

/// Turns the hosts' reports into job statuses; replaces a host that exits, its jobs failed
/// (with a growing delay while it keeps exiting before it is ready, given up after
/// [`HOST_START_ATTEMPTS`]).
async fn supervise_hosts(shared: Arc<Shared>, mut events: mpsc::UnboundedReceiver<HostEvent>) {
    let slots = lock(&shared.hosts).len();
    // Per slot: consecutive exits before `ready`.
    let mut early_exits = vec![0u32; slots];
    let mut ready = vec![false; slots];
    let mut restarts: JoinSet<usize> = JoinSet::new();
    loop {
        let event = tokio::select! {
            event = events.recv() => match event {
                Some(event) => event,
                None => break,
            },
            Some(Ok(slot)) = restarts.join_next(), if !restarts.is_empty() => {
                let mut hosts = lock(&shared.hosts);
                if *shared.closing.borrow() || hosts.get(slot).is_none_or(Option::is_some) {
                    continue;
                }
                // Returns at once: the process starts on the blocking pool (a failure to
                // start comes back as an exit).
                hosts[slot] = Some(shared.spawn_host(slot));
                tracing::info!(slot, "a new job host is starting");
                continue;
            }
        };
        match event {
            HostEvent::Message { host, message: FromHost::Ready } => {
                tracing::debug!(host, "job host ready");
                if let (Some(exits), Some(ready)) = (early_exits.get_mut(host), ready.get_mut(host))
                {
                    *exits = 0;
                    *ready = true;
                }
            }
            HostEvent::Message { message: FromHost::Status { id, status, error }, .. } => {
                match status {
                    HostJobStatus::Running => {
                        shared.send(job_status(&id, proto::JobStatus::JsRunning, String::new()));
                    }
                    HostJobStatus::Success | HostJobStatus::Failed => {
                        let status = if status == HostJobStatus::Success {
                            proto::JobStatus::JsSuccess
                        } else {
                            proto::JobStatus::JsFailed
                        };
                        let mut capacity = lock(&shared.capacity);
                        shared.send(job_status(&id, status, error));
                        capacity.active.remove(&id);
                        drop(capacity);
                        shared.jobs_changed.send_modify(|n| *n += 1);
                    }
                }
            }
            HostEvent::Exited { host, instance, pid, reason } => {
                let (error, which) = match pid {
                    Some(pid) => (
                        format!("the job host process (pid {pid}) exited: {reason}"),
                        format!("pid {pid}"),
                    ),
                    None => (
                        format!("the job host process could not be started: {reason}"),
                        "the host that could not start".to_owned(),
                    ),
                };
                // Its jobs are taken off first, then a host that had been ready is replaced at
                // once, before the jobs are reported failed: a job assigned right after that
                // report goes to the new host instead of finding none (and failing too).
                let (lost, restart) = {
                    let mut capacity = lock(&shared.capacity);
                    let lost: Vec<String> = capacity
                        .active
                        .iter()
                        .filter(|(_, job)| job.host == Some(host))
                        .map(|(id, _)| id.clone())
                        .collect();
                    for id in &lost {
                        capacity.active.remove(id);
                    }
                    let mut hosts = lock(&shared.hosts);
                    // Closing (the hosts were cleared), or an older host of this slot.
                    let current = hosts.get(host).and_then(Option::as_ref).map(|h| h.instance);
                    let restart = if current == Some(instance) && !*shared.closing.borrow() {
                        hosts[host] = None;
                        match (early_exits.get_mut(host), ready.get_mut(host)) {
                            (Some(exits), Some(was_ready)) => {
                                if !std::mem::replace(was_ready, false) {
                                    *exits += 1;
                                }
                                Some(*exits)
                            }
                            _ => None,
                        }
                    } else {
                        if current == Some(instance) {
                            hosts[host] = None;
                        }
                        None
                    };
                    let restart = match restart {
                        Some(exits) if exits >= HOST_START_ATTEMPTS => {
                            tracing::error!(
                                slot = host,
                                "job host slot {host} given up: its host exited {exits} times in a \
                                 row before it was ready (last: {reason}); check the setup \
                                 function and the log above"
                            );
                            None
                        }
                        Some(0) => {
                            // Returns at once (the process starts on the blocking pool), so
                            // the replacement is in its slot before the jobs are reported.
                            hosts[host] = Some(shared.spawn_host(host));
                            tracing::info!(slot = host, "a new job host replaces {which}");
                            None
                        }
                        Some(exits) => Some(host_restart_delay(exits)),
                        None => None,
                    };
                    (lost, restart)
                };
                if !lost.is_empty() {
                    tracing::error!(pid, jobs = lost.len(), "{error}: its jobs failed");
                }
                for id in lost {
                    shared.send(job_status(&id, proto::JobStatus::JsFailed, error.clone()));
                }
                shared.jobs_changed.send_modify(|n| *n += 1);
                if let Some(delay) = restart {
                    tracing::info!(slot = host, "a new job host replaces {which} in {delay:?}");
                    restarts.spawn(async move {
                        tokio::time::sleep(delay).await;
                        host
                    });
                }
            }
        }
    }
}

/// Runs a job to its end and reports it.
async fn run_job(
    shared: Arc<Shared>,
    ctx: JobContext,
    mut terminated: watch::Receiver<Option<String>>,
) {
    let id = ctx.job_id().to_owned();
    shared.send(job_status(&id, proto::JobStatus::JsRunning, String::new()));
    tracing::info!(parent: ctx.span(), "job started");
    let mut job = RunningJob::spawn(&shared.entrypoint, ctx.clone());
    let terminate = async {
        let reason = terminated.wait_for(Option::is_some).await.map(|reason| reason.clone());
        match reason {
            Ok(reason) => reason.unwrap_or_default(),
            Err(_) => std::future::pending().await,
        }
    };
    let outcome = drive(&mut job, &ctx, terminate).await;
    let reason = match &outcome {
        Ok(reason) => reason.clone(),
        Err(error) => error.to_string(),
    };
    job.shutdown(&reason).await;
    let update = match outcome {
        Ok(_) => {
            tracing::info!(parent: ctx.span(), "job ended: {reason}");
            job_status(&id, proto::JobStatus::JsSuccess, String::new())
        }
        Err(error) => {
            tracing::error!(parent: ctx.span(), "job failed: {error}");
            job_status(&id, proto::JobStatus::JsFailed, error.to_string())
        }
    };
    {
        // Reported and removed at once: whoever sees the status sees the job gone.
        let mut capacity = lock(&shared.capacity);
        shared.send(update);
        capacity.active.remove(&id);
    }
    shared.jobs_changed.send_modify(|n| *n += 1);
}

/// Runs a started job until it ends: its entrypoint fails (the error), or it returned and
/// its session closed, or [`JobContext::shutdown`] was called, or `terminate` resolved (the
/// reason). A job whose entrypoint returned without a session and without connecting ends
/// then.
pub(crate) async fn drive(
    job: &mut RunningJob,
    ctx: &JobContext,
    terminate: impl std::future::Future<Output = String>,
) -> Result<String, JobError> {
    let mut terminate = std::pin::pin!(terminate);
    tokio::select! {
        finished = job.finished() => match finished {
            Err(error) => Err(error),
            Ok(()) => {
                // The job goes on while its session runs, or while it is connected.
                match ctx.room().agent_session() {
                    Some(session) => tokio::select! {
                        () = session.wait_for_close() => Ok("the agent session closed".to_owned()),
                        reason = ctx.shutdown_requested() => Ok(reason),
                        reason = terminate.as_mut() => Ok(reason),
                        end = ctx.room_ended() => room_end(ctx, end),
                    },
                    None if ctx.is_connected() => tokio::select! {
                        reason = ctx.shutdown_requested() => Ok(reason),
                        reason = terminate.as_mut() => Ok(reason),
                        end = ctx.room_ended() => room_end(ctx, end),
                    },
                    None => Ok("the entrypoint returned".to_owned()),
                }
            }
        },
        reason = ctx.shutdown_requested() => Ok(reason),
        reason = terminate.as_mut() => Ok(reason),
        end = ctx.room_ended() => room_end(ctx, end),
    }
}

/// The job's end when its LiveKit room ends under it (Python shuts the job down with "room
/// disconnected"): a disconnection ends it well, with the reason; the client library's
/// failure fails it.
fn room_end(ctx: &JobContext, end: super::context::RoomEnd) -> Result<String, JobError> {
    #[cfg(not(feature = "rtc"))]
    let _ = ctx;
    match end {
        #[cfg(feature = "rtc")]
        super::context::RoomEnd::Disconnected(reason) => {
            tracing::warn!(parent: ctx.span(), "the LiveKit room disconnected ({reason}): the job ends");
            Ok(format!("the room disconnected ({reason})"))
        }
        #[cfg(feature = "rtc")]
        super::context::RoomEnd::Fatal(message) => {
            tracing::error!(parent: ctx.span(), "the LiveKit client library failed: {message}");
            Err(JobError::RoomFailed { message })
        }
    }
}

/// Runs one job for the room `room` with no registration (Python's `connect` command and
/// `simulate_job(fake_job=False)`): the process is prepared, a room token for `identity` is
/// minted from the options' API key and secret, and the entrypoint runs with them as the
/// job's [`RoomCredentials`]. Returns when the job ends; an entrypoint that fails or panics
/// is the error.
pub async fn connect_job(
    server: &AgentServer,
    options: &WorkerOptions,
    room: &str,
    identity: &str,
) -> Result<(), WorkerError> {
    connect_job_until(server, options, room, identity, std::future::pending()).await
}

/// [`connect_job`], ended gracefully when `terminate` resolves (a Ctrl+C, say) with the
/// reason it gives: the session is closed and the shutdown callbacks run, as for a job the
/// server terminates.
pub async fn connect_job_until(
    server: &AgentServer,
    options: &WorkerOptions,
    room: &str,
    identity: &str,
    terminate: impl std::future::Future<Output = String>,
) -> Result<(), WorkerError> {
    for (value, what, env, flag) in [
        (&options.url, "the LiveKit URL", "LIVEKIT_URL", "--url"),
        (&options.api_key, "the API key", "LIVEKIT_API_KEY", "--api-key"),
        (&options.api_secret, "the API secret", "LIVEKIT_API_SECRET", "--api-secret"),
    ] {
        if value.trim().is_empty() {
            return Err(WorkerError::MissingCredential { what, env, flag });
        }
    }
    AgentUrl::new(&options.url, None)?;
    let token = connection::room_token(&options.api_key, &options.api_secret, room, identity)?;
    let entrypoint = server.entrypoint_fn().ok_or(JobError::NoEntrypoint)?;
    let process = server.process().await?;
    let info = JobInfo {
        id: format!("job-{identity}"),
        agent_name: options.agent_name.clone(),
        metadata: String::new(),
        fake: false,
        room_name: room.to_owned(),
        room_sid: String::new(),
        dispatch_id: String::new(),
        participant_identity: None,
    };
    let credentials =
        RoomCredentials { url: options.url.clone(), token, identity: identity.to_owned() };
    let ctx = JobContext::with_credentials(info, Room::local(room), process, Some(credentials));
    tracing::info!(parent: ctx.span(), room, identity, "running one job in the room");
    let mut job = RunningJob::spawn(&entrypoint, ctx.clone());
    let outcome = drive(&mut job, &ctx, terminate).await;
    let reason = match &outcome {
        Ok(reason) => reason.clone(),
        Err(error) => error.to_string(),
    };
    job.shutdown(&reason).await;
    outcome.map(|_| ()).map_err(WorkerError::Job)
}

fn job_status(id: &str, status: proto::JobStatus, error: String) -> worker_message::Message {
    worker_message::Message::UpdateJob(proto::UpdateJobStatus {
        job_id: id.to_owned(),
        status: status as i32,
        error,
    })
}
