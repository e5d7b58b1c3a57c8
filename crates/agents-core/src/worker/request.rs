//! `JobRequest`: a job the server offers, for the `request_fnc` to accept or reject
//! (Python's `JobRequest`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::oneshot;

use super::context::JobInfo;

/// The attribute every agent participant carries: the agent's name.
pub const AGENT_NAME_ATTRIBUTE: &str = "lk.agent.name";

/// How the agent joins the room of a job it accepts (Python's `accept(...)` arguments).
///
/// ```
/// use agents_core::worker::JobAcceptArguments;
///
/// let arguments = JobAcceptArguments::default()
///     .name("Support agent")
///     .identity("support-1")
///     .attribute("team", "billing");
/// assert_eq!(arguments.attributes["team"], "billing");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobAcceptArguments {
    /// The participant's display name (default: empty).
    pub name: String,
    /// The participant's identity (default: `agent-<job id>`).
    pub identity: String,
    /// The participant's metadata.
    pub metadata: String,
    /// The participant's attributes; `lk.agent.name` is always set to the agent's name.
    pub attributes: HashMap<String, String>,
}

impl JobAcceptArguments {
    /// Sets the display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the identity.
    pub fn identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = identity.into();
        self
    }

    /// Sets the metadata.
    pub fn metadata(mut self, metadata: impl Into<String>) -> Self {
        self.metadata = metadata.into();
        self
    }

    /// Adds an attribute.
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }
}

/// The `request_fnc`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Accept(JobAcceptArguments),
    Reject { terminate: bool },
}

/// A job the server offers this worker (Python's `JobRequest`): accept it, with how the
/// agent joins the room, or reject it. A request dropped unanswered is rejected.
///
/// ```
/// use agents_core::worker::{JobAcceptArguments, JobRequest};
///
/// async fn request_fnc(request: JobRequest) {
///     if request.job().metadata.contains("vip") {
///         request.accept(JobAcceptArguments::default().name("VIP agent"));
///     } else {
///         request.reject(false);
///     }
/// }
/// ```
#[derive(Debug)]
pub struct JobRequest {
    job: JobInfo,
    answer: oneshot::Sender<Answer>,
}

impl JobRequest {
    #[cfg_attr(not(feature = "worker"), allow(dead_code))]
    pub(crate) fn new(job: JobInfo) -> (Self, oneshot::Receiver<Answer>) {
        let (answer, answered) = oneshot::channel();
        (Self { job, answer }, answered)
    }

    /// The job offered.
    pub fn job(&self) -> &JobInfo {
        &self.job
    }

    /// The job's id.
    pub fn id(&self) -> &str {
        &self.job.id
    }

    /// The room's name.
    pub fn room_name(&self) -> &str {
        &self.job.room_name
    }

    /// The agent name the job was dispatched to.
    pub fn agent_name(&self) -> &str {
        &self.job.agent_name
    }

    /// Accepts the job: the agent joins its room as `arguments` say.
    pub fn accept(self, arguments: JobAcceptArguments) {
        let _ = self.answer.send(Answer::Accept(arguments));
    }

    /// Rejects the job; with `terminate`, the server does not offer it to another worker.
    pub fn reject(self, terminate: bool) {
        let _ = self.answer.send(Answer::Reject { terminate });
    }
}

/// A stored request function.
pub(crate) type RequestFn = dyn Fn(JobRequest) -> BoxFuture<'static, ()> + Send + Sync;

pub(crate) fn request_fn<F, Fut>(request: F) -> Arc<RequestFn>
where
    F: Fn(JobRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |job| Box::pin(request(job)))
}

/// The default request function: accept with the default arguments (Python's default).
pub(crate) fn accept_all() -> Arc<RequestFn> {
    request_fn(|request: JobRequest| async move { request.accept(JobAcceptArguments::default()) })
}
