//! `JobProcess`: what a process prepares once for all its jobs (Python's `JobProcess`).

use super::userdata::Userdata;

/// The process jobs run in (Python's `JobProcess`), as the setup function prepares it.
///
/// The setup function registered with
/// [`AgentServer::setup_fnc`](super::AgentServer::setup_fnc) runs once per process, before
/// any job, and fills [`userdata`](Self::userdata) with what jobs share — typically models
/// that are slow to load, such as the VAD. Jobs then read it through
/// [`JobContext::proc`](super::JobContext::proc); it is read-only from then on (put a
/// `Mutex` inside a value that jobs must change).
///
/// ```
/// use agents_core::worker::JobProcess;
///
/// fn prewarm(proc: &mut JobProcess) {
///     proc.userdata.insert("vad", String::from("a loaded model"));
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct JobProcess {
    /// Values the setup function prepares for the jobs (Python's `proc.userdata`).
    pub userdata: Userdata,
    pid: u32,
}

impl JobProcess {
    /// This process, with empty userdata. The server makes the one jobs see; make your own to
    /// call a setup function in a test.
    pub fn new() -> Self {
        Self { userdata: Userdata::default(), pid: std::process::id() }
    }

    /// The operating system's id of the process.
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl Default for JobProcess {
    fn default() -> Self {
        Self::new()
    }
}
