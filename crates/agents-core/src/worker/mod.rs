//! Jobs and the application that runs them: [`AgentServer`], [`JobContext`], [`JobProcess`]
//! (Python's `AgentServer`, `JobContext`, `JobProcess`).
//!
//! An application is an [`AgentServer`] with an entrypoint, run for each job, and an optional
//! setup function, run once per process before any job (Python's prewarm). A job's entrypoint
//! receives a [`JobContext`]: the job, its room, and the [`JobProcess`] with what the setup
//! function prepared. [`cli::run_app`](crate::cli::run_app) runs the application from the
//! command line.
//!
//! Today jobs are local: the text console runs one in a local room. Registering with a LiveKit
//! server and taking dispatched jobs (each as a task of its own, many per process) comes with
//! the worker; the types here keep their shape when it does.

#[cfg(feature = "worker")]
mod connection;
mod context;
mod entrypoint;
mod error;
#[cfg(feature = "worker")]
mod health;
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
pub use options::{
    ASSIGNMENT_TIMEOUT, DEFAULT_DRAIN_TIMEOUT, DEFAULT_HTTP_PORT, DEFAULT_LOAD_THRESHOLD,
    DEFAULT_MAX_RETRY, LoadFn, ServerType, WorkerOptions, WorkerPermissions,
};
pub use process::JobProcess;
pub use request::{AGENT_NAME_ATTRIBUTE, JobAcceptArguments, JobRequest};
#[cfg(feature = "worker")]
pub use runner::{SDK_VERSION, Worker, WorkerStatus};
pub use server::AgentServer;
pub use userdata::Userdata;
