//! Jobs and the application that runs them: [`AgentServer`], [`JobContext`], [`JobProcess`]
//! (Python's `AgentServer`, `JobContext`, `JobProcess`).
//!
//! An application is an [`AgentServer`] with an entrypoint, run for each job, and an optional
//! setup function, run once per process before any job (Python's prewarm). A job's entrypoint
//! receives a [`JobContext`]: the job, its room, and the [`JobProcess`] with what the setup
//! function prepared. [`cli::run_app`](crate::cli::run_app) runs the application from the
//! command line.
//!
//! The console runs one local job. With the `worker` feature (on by default), a [`Worker`]
//! registers the application with a LiveKit server and runs every job it dispatches as a
//! task of this process — many jobs per process, all sharing what the setup function
//! prepared — and `<program> dev` / `start` run one from the command line. The server offers
//! each job first ([`JobRequest`], answered by the
//! [`request_fnc`](AgentServer::request_fnc)); capacity is taken atomically at that moment
//! (`max_jobs`, `load_threshold` in [`WorkerOptions`]).
//!
//! A job's panic, error or hang ends that job only: it is reported failed with the panic's
//! text or the error, and the worker and the other jobs go on. What a task cannot contain —
//! a native library that aborts the process, an out-of-memory kill — takes the whole worker
//! down with its jobs (the server reassigns them); run several worker processes to bound
//! that. Per-job memory is not measurable inside one process: the health endpoint reports
//! the process's resident memory and its growth per running job.

#[cfg(feature = "worker")]
#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;
#[cfg(feature = "worker")]
mod connection;
mod context;
mod entrypoint;
mod error;
#[cfg(feature = "worker")]
mod health;
#[cfg(feature = "worker")]
pub(crate) mod host;
pub(crate) mod job;
#[cfg(feature = "worker")]
mod load;
mod options;
mod process;
mod request;
#[cfg(feature = "worker")]
mod runner;
mod server;
mod userdata;

pub use context::{JobContext, JobInfo, RoomCredentials};
pub use entrypoint::{BoxError, IntoJobResult};
#[cfg(feature = "worker")]
pub use error::WorkerError;
pub use error::{JobError, SharedError, UserdataError};
#[cfg(feature = "worker")]
pub use host::HOST_ENV;
pub use options::{
    ASSIGNMENT_TIMEOUT, DEFAULT_DRAIN_TIMEOUT, DEFAULT_HTTP_PORT, DEFAULT_LOAD_THRESHOLD,
    DEFAULT_MAX_RETRY, Isolation, LoadFn, ServerType, WorkerOptions, WorkerPermissions,
};
pub use process::JobProcess;
pub use request::{AGENT_NAME_ATTRIBUTE, JobAcceptArguments, JobRequest};
#[cfg(feature = "worker")]
pub use runner::{SDK_VERSION, Worker, WorkerStatus, connect_job, connect_job_until};
pub use server::AgentServer;
pub use userdata::Userdata;
