//! `AgentServer`: the application — a setup function and an entrypoint (Python's
//! `AgentServer`).

use std::borrow::Borrow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::OnceCell;

use super::context::{JobContext, JobInfo};
use super::entrypoint::{self, EntrypointFn, IntoJobResult, SetupFn};
use super::error::{JobError, panic_message};
use super::job::RunningJob;
use super::process::JobProcess;
use super::request::{self, JobRequest, RequestFn};
use crate::room::Room;
use crate::runtime_libs::RuntimeLibrary;

/// Python's default `initialize_process_timeout`.
const DEFAULT_INITIALIZE_PROCESS_TIMEOUT: Duration = Duration::from_secs(10);

/// An agent application (Python's `AgentServer`): the entrypoint run for each job, and the
/// setup function run once per process before any job. Run it with
/// [`cli::run_app`](crate::cli::run_app).
///
/// Cheap to clone; clones share the prepared process.
///
/// ```no_run
/// use std::process::ExitCode;
///
/// use agents_core::prelude::*;
///
/// fn prewarm(proc: &mut JobProcess) {
///     proc.userdata.insert("greeting", String::from("Greet the user warmly."));
/// }
///
/// async fn entrypoint(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
///     let greeting = ctx.proc().userdata.try_get::<String>("greeting")?.clone();
///     let session = AgentSession::builder().build();
///     session.start(Agent::new(greeting)).room(ctx.room()).await?;
///     ctx.connect().await?;
///     Ok(())
/// }
///
/// fn main() -> ExitCode {
///     cli::run_app(AgentServer::new().setup_fnc(prewarm).rtc_session(entrypoint))
/// }
/// ```
#[derive(Clone)]
pub struct AgentServer {
    setup: Option<Arc<SetupFn>>,
    entrypoint: Option<Arc<EntrypointFn>>,
    request: Option<Arc<RequestFn>>,
    initialize_process_timeout: Duration,
    process: Arc<OnceCell<Arc<JobProcess>>>,
    runtime_libraries: Vec<&'static RuntimeLibrary>,
}

impl fmt::Debug for AgentServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentServer")
            .field("setup_fnc", &self.setup.is_some())
            .field("entrypoint", &self.entrypoint.is_some())
            .field("request_fnc", &self.request.is_some())
            .field("initialize_process_timeout", &self.initialize_process_timeout)
            .field(
                "runtime_libraries",
                &self.runtime_libraries.iter().map(|l| l.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Default for AgentServer {
    fn default() -> Self {
        Self::new()
    }
}

impl AgentServer {
    /// A server with no setup function and no entrypoint yet.
    pub fn new() -> Self {
        Self {
            setup: None,
            entrypoint: None,
            request: None,
            initialize_process_timeout: DEFAULT_INITIALIZE_PROCESS_TIMEOUT,
            process: Arc::new(OnceCell::new()),
            runtime_libraries: Vec::new(),
        }
    }

    /// Sets the setup function (Python's `server.setup_fnc = prewarm`): it runs once per
    /// process, before any job, on a thread where blocking is fine, and prepares what jobs
    /// share in [`JobProcess::userdata`]. It returns `()` or `Result<(), E>`; an error or a
    /// panic stops the process from taking jobs.
    pub fn setup_fnc<F, R>(mut self, setup: F) -> Self
    where
        F: Fn(&mut JobProcess) -> R + Send + Sync + 'static,
        R: IntoJobResult,
    {
        self.setup = Some(entrypoint::setup(setup));
        self
    }

    /// Sets the entrypoint run for each job (Python's `@server.rtc_session()`): an async
    /// function of the job's [`JobContext`] returning `()` or `Result<(), E>`. It typically
    /// starts an `AgentSession` in `ctx.room()` and returns; the job goes on until the room
    /// is left or [`JobContext::shutdown`] is called. Replaces any entrypoint set before.
    ///
    /// Each job's entrypoint runs as a task of its own: a panic in it is caught and reported,
    /// and ends that job only.
    pub fn rtc_session<F, Fut>(mut self, entrypoint: F) -> Self
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoJobResult,
    {
        self.entrypoint = Some(entrypoint::entrypoint(entrypoint));
        self
    }

    /// Sets the request function (Python's `request_fnc`): it is called with each job the
    /// LiveKit server offers and accepts it (choosing the agent participant's name,
    /// identity, metadata and attributes) or rejects it. By default every job is accepted,
    /// as long as the worker has capacity (`max_jobs`, `load_threshold`): the function is
    /// only asked about jobs the worker could take.
    ///
    /// ```
    /// use agents_core::prelude::*;
    /// use agents_core::worker::{JobAcceptArguments, JobRequest};
    ///
    /// let server = AgentServer::new().request_fnc(|request: JobRequest| async move {
    ///     let name = format!("agent for {}", request.room_name());
    ///     request.accept(JobAcceptArguments::default().name(name));
    /// });
    /// ```
    pub fn request_fnc<F, Fut>(mut self, request: F) -> Self
    where
        F: Fn(JobRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.request = Some(request::request_fn(request));
        self
    }

    /// The entrypoint, if one was set.
    #[cfg_attr(not(feature = "worker"), allow(dead_code))]
    pub(crate) fn entrypoint_fn(&self) -> Option<Arc<EntrypointFn>> {
        self.entrypoint.clone()
    }

    /// The request function (the default accepts).
    #[cfg_attr(not(feature = "worker"), allow(dead_code))]
    pub(crate) fn request_fn(&self) -> Arc<RequestFn> {
        self.request.clone().unwrap_or_else(request::accept_all)
    }

    /// How long the setup function may take (Python's `initialize_process_timeout`,
    /// default 10 s).
    pub fn initialize_process_timeout(mut self, timeout: Duration) -> Self {
        self.initialize_process_timeout = timeout;
        self
    }

    /// Declares native libraries the agent's plugins load at run time, for `<program>
    /// download-files` to install (Python's plugins register themselves; here each plugin
    /// exports its list, e.g. `agents_plugins_silero::RUNTIME_LIBRARIES`). By default there
    /// are none. Declaring one twice is the same as once.
    ///
    /// ```no_run
    /// # use agents_core::prelude::*;
    /// # async fn entrypoint(_ctx: JobContext) {}
    /// let server = AgentServer::new()
    ///     .runtime_libraries([&agents_core::runtime_libs::ONNX_RUNTIME])
    ///     .rtc_session(entrypoint);
    /// ```
    pub fn runtime_libraries(
        mut self,
        libraries: impl IntoIterator<Item = impl Borrow<&'static RuntimeLibrary>>,
    ) -> Self {
        for library in libraries {
            let library = *library.borrow();
            if !self.runtime_libraries.contains(&library) {
                self.runtime_libraries.push(library);
            }
        }
        self
    }

    /// The native libraries declared with [`runtime_libraries`](Self::runtime_libraries).
    pub fn declared_runtime_libraries(&self) -> &[&'static RuntimeLibrary] {
        &self.runtime_libraries
    }

    /// The process, prepared by the setup function the first time it is asked for.
    pub(crate) async fn process(&self) -> Result<Arc<JobProcess>, JobError> {
        self.process.get_or_try_init(|| self.run_setup()).await.cloned()
    }

    async fn run_setup(&self) -> Result<Arc<JobProcess>, JobError> {
        let mut process = JobProcess::new();
        let Some(setup) = self.setup.clone() else {
            return Ok(Arc::new(process));
        };
        let timeout = self.initialize_process_timeout;
        let running = tokio::task::spawn_blocking(move || setup(&mut process).map(|()| process));
        match tokio::time::timeout(timeout, running).await {
            Err(_) => Err(JobError::SetupTimedOut { timeout }),
            Ok(Ok(Ok(process))) => Ok(Arc::new(process)),
            Ok(Ok(Err(error))) => Err(JobError::SetupFailed(error)),
            Ok(Err(error)) => Err(JobError::SetupPanicked {
                message: if error.is_panic() {
                    panic_message(&*error.into_panic())
                } else {
                    "the setup task was cancelled".to_owned()
                },
            }),
        }
    }

    /// Starts a local job with no LiveKit server (Python's `simulate_job(fake_job=True)`):
    /// the process is prepared if needed, then the entrypoint runs in a local room `room`.
    pub(crate) async fn launch_fake_job(&self, room: Room) -> Result<RunningJob, JobError> {
        static MOCK_JOBS: AtomicU64 = AtomicU64::new(1);
        let entrypoint = self.entrypoint.clone().ok_or(JobError::NoEntrypoint)?;
        let process = self.process().await?;
        let id = format!("mock-job-{}", MOCK_JOBS.fetch_add(1, Ordering::Relaxed));
        let job = JobInfo::fake(id, room.name());
        let ctx = JobContext::new(job, room, process);
        tracing::debug!(parent: ctx.span(), "starting the job's entrypoint");
        Ok(RunningJob::spawn(&entrypoint, ctx))
    }
}
