//! Job host processes: isolation for what a task cannot contain.
//!
//! With [`Isolation::Processes`](super::Isolation), the worker keeps the connection and the
//! capacity, and runs jobs in child processes — this program again, started with
//! [`HOST_ENV`] set, which [`cli::run_app`](crate::cli::run_app) turns into a host. Each host
//! runs the setup function once and then many jobs as tasks. A host that dies (a native
//! library aborting, an out-of-memory kill, `kill -9`) takes only its own jobs: the worker
//! reports them failed and starts a new host.
//!
//! They talk over a loopback TCP connection of their own (never the host's stdin/stdout, which
//! user code may print to): the worker listens on `127.0.0.1:0`, passes the address and a
//! random key in `LIVEKIT_AGENTS_JOB_HOST_CHANNEL` and `LIVEKIT_AGENTS_JOB_HOST_KEY`, and the host connects and sends the
//! key first. The channel carries one JSON object per line: `start` and `terminate` to the
//! host (the job's room token among them: never logged), `ready` and `status` back.

use std::io;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader,
};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::context::{JobContext, JobInfo, RoomCredentials};
use super::job::RunningJob;
use super::server::AgentServer;
use crate::room::Room;

/// The environment variable that makes a program started by the worker a job host.
pub const HOST_ENV: &str = "LIVEKIT_AGENTS_JOB_HOST";

/// The environment variable giving a job host the worker's channel address (`127.0.0.1:port`).
pub(crate) const CHANNEL_ENV: &str = "LIVEKIT_AGENTS_JOB_HOST_CHANNEL";

/// The environment variable giving a job host the key it sends first on the channel.
pub(crate) const CHANNEL_KEY_ENV: &str = "LIVEKIT_AGENTS_JOB_HOST_KEY";

/// The longest line either side of the channel accepts (a start message holds a job's
/// metadata and token: far less). A longer one ends the channel: nothing buffers without
/// bound, whoever connects to the port.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// The longest first line of a connection: the key (32 hex digits) and its newline.
const MAX_KEY_LINE: usize = 64;

/// How long a started host has to connect to its channel.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A message to a host.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ToHost {
    Start {
        id: String,
        agent_name: String,
        metadata: String,
        room_name: String,
        room_sid: String,
        dispatch_id: String,
        participant_identity: Option<String>,
        url: String,
        token: String,
        identity: String,
    },
    Terminate {
        id: String,
        reason: String,
    },
}

/// Without the room token.
impl std::fmt::Debug for ToHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Start { id, room_name, url, .. } => f
                .debug_struct("Start")
                .field("id", id)
                .field("room_name", room_name)
                .field("url", &super::options::redact(url))
                .field("token", &"<redacted>")
                .finish_non_exhaustive(),
            Self::Terminate { id, reason } => {
                f.debug_struct("Terminate").field("id", id).field("reason", reason).finish()
            }
        }
    }
}

/// A message from a host.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum FromHost {
    Ready,
    Status { id: String, status: HostJobStatus, error: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum HostJobStatus {
    Running,
    Success,
    Failed,
}

/// What a host's I/O task tells the worker.
#[derive(Debug)]
pub(crate) enum HostEvent {
    Message {
        host: usize,
        message: FromHost,
    },
    /// Host `instance` of slot `host` exited (`pid`), or could not be started (no `pid`).
    Exited {
        host: usize,
        instance: u64,
        pid: Option<u32>,
        reason: String,
    },
}

/// A host, as the worker sees it: messages sent to it wait until its process has started
/// and connected.
pub(crate) struct HostHandle {
    /// Which host of its slot this is (a replacement is another instance).
    pub(crate) instance: u64,
    /// Its process id once started, or why it could not be.
    started: watch::Receiver<Option<Result<u32, String>>>,
    commands: mpsc::UnboundedSender<ToHost>,
    task: JoinHandle<()>,
}

impl Drop for HostHandle {
    fn drop(&mut self) {
        // The task owns the child (killed on drop, also when it is still being started).
        self.task.abort();
    }
}

impl HostHandle {
    /// Sends `message` to the host (queued until it connects); `false` if it is gone.
    pub(crate) fn send(&self, message: ToHost) -> bool {
        self.commands.send(message).is_ok()
    }

    /// Its process id, once its process has started.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.started.borrow().as_ref().and_then(|started| started.as_ref().ok().copied())
    }

    /// Waits until its process has started: its pid, or why it could not be started.
    pub(crate) async fn started(&self) -> Result<u32, String> {
        let mut started = self.started.clone();
        match started.wait_for(Option::is_some).await {
            Ok(started) => started.clone().unwrap_or_else(|| Err("not started".to_owned())),
            // The task ended without saying (aborted).
            Err(_) => Err("its start was cancelled".to_owned()),
        }
    }
}

/// Starts host `instance` of `slot`: this program with [`HOST_ENV`] set; its messages and
/// its exit go to `events`. Returns at once: the host's task binds the channel's port and
/// forks and executes the process on the blocking pool, so a caller on the executor, even one
/// holding locks, is not held up. A host that cannot be started is reported as exited
/// (without a pid).
pub(crate) fn spawn(
    slot: usize,
    instance: u64,
    events: mpsc::UnboundedSender<HostEvent>,
) -> HostHandle {
    let (started_sender, started) = watch::channel(None);
    let (commands, queued) = mpsc::unbounded_channel::<ToHost>();
    let task = tokio::spawn(async move {
        let launched = match tokio::task::spawn_blocking(move || launch(slot)).await {
            Ok(launched) => launched,
            Err(error) => Err(io::Error::other(format!("the task starting it failed: {error}"))),
        };
        match launched {
            Ok((listener, key, child)) => {
                let pid = child.id().unwrap_or_default();
                tracing::debug!(slot, pid, "job host started");
                started_sender.send_replace(Some(Ok(pid)));
                carry(slot, instance, listener, &key, child, queued, &events).await;
            }
            Err(error) => {
                let reason = error.to_string();
                started_sender.send_replace(Some(Err(reason.clone())));
                let _ = events.send(HostEvent::Exited { host: slot, instance, pid: None, reason });
            }
        }
    });
    HostHandle { instance, started, commands, task }
}

/// Binds the host's channel and starts its process (blocking: bind, fork and exec).
fn launch(slot: usize) -> io::Result<(tokio::net::TcpListener, String, tokio::process::Child)> {
    let program = std::env::current_exe()?;
    let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    // Two randomly keyed hashes: 128 unpredictable bits, without a random-number crate.
    let key = {
        use std::hash::BuildHasher as _;
        let random = || std::collections::hash_map::RandomState::new().hash_one(slot);
        format!("{:016x}{:016x}", random(), random())
    };
    let mut command = tokio::process::Command::new(program);
    // A process group of its own: Ctrl+C in the terminal signals the terminal's group, and
    // must reach the worker only (which ends the hosts' jobs gracefully), not kill the hosts.
    #[cfg(unix)]
    command.process_group(0);
    let child = command
        .env(HOST_ENV, slot.to_string())
        .env(CHANNEL_ENV, address.to_string())
        .env(CHANNEL_KEY_ENV, &key)
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    Ok((listener, key, child))
}

/// Carries a started host's channel: waits for its connection, then carries `queued` messages to it and
/// its messages to `events`, until it exits (reported with `instance`).
async fn carry(
    slot: usize,
    instance: u64,
    listener: tokio::net::TcpListener,
    key: &str,
    mut child: tokio::process::Child,
    mut queued: mpsc::UnboundedReceiver<ToHost>,
    events: &mpsc::UnboundedSender<HostEvent>,
) {
    let pid = child.id().unwrap_or_default();
    let connected = tokio::select! {
        stream = accept(&listener, key) => stream,
        _ = child.wait() => None,
    };
    drop(listener);
    if let Some(stream) = connected {
        let (reader, mut writer) = tokio::io::split(stream);
        let mut reader = BufReader::new(reader);
        let mut pending = Vec::new();
        loop {
            tokio::select! {
                command = queued.recv() => {
                    let Some(command) = command else { break };
                    let Ok(mut line) = serde_json::to_string(&command) else { continue };
                    line.push('\n');
                    if writer.write_all(line.as_bytes()).await.is_err() {
                        break;
                    }
                }
                line = next_line(&mut reader, &mut pending, MAX_LINE) => match line {
                    Ok(Some(line)) => match serde_json::from_str::<FromHost>(&line) {
                        Ok(message) => {
                            let _ = events.send(HostEvent::Message { host: slot, message });
                        }
                        Err(error) => tracing::warn!(pid, "an unreadable line from a job host: {error}"),
                    },
                    Ok(None) => break,
                    Err(error) => {
                        tracing::warn!(pid, "the channel of a job host failed: {error}");
                        break;
                    }
                },
            }
        }
        drop(writer);
    } else {
        // It exited before connecting, or never connected.
        let _ = child.start_kill();
    }
    let reason = match child.wait().await {
        Ok(status) => exit_reason(status),
        Err(error) => format!("cannot wait for it: {error}"),
    };
    let _ = events.send(HostEvent::Exited { host: slot, instance, pid: Some(pid), reason });
}

/// Accepts the host's connection: the first that sends `key` (within [`CONNECT_TIMEOUT`]).
async fn accept(
    listener: &tokio::net::TcpListener,
    key: &str,
) -> Option<BufReader<tokio::net::TcpStream>> {
    let attempt = async {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let mut stream = BufReader::new(stream);
            let mut first = Vec::new();
            let read = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                next_line(&mut stream, &mut first, MAX_KEY_LINE),
            )
            .await;
            if matches!(read, Ok(Ok(Some(line))) if line == key) {
                return stream;
            }
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt).await.ok()
}

/// The next line of the channel, without its newline (`\r\n` or `\n`); `None` at the end of
/// the stream (an unfinished last line is dropped: a peer that died mid-message). A line of
/// more than `max` bytes, or not UTF-8, is an `InvalidData` error; nothing more than `max`
/// (and one buffer) is held.
///
/// Cancel safe: the bytes of an unfinished line wait in `pending` for the next call.
pub(crate) async fn next_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    pending: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<String>> {
    let invalid = |reason: String| io::Error::new(io::ErrorKind::InvalidData, reason);
    loop {
        // One byte past `max` (its newline allowed): a longer line is seen without reading it.
        let room = (max + 2).saturating_sub(pending.len());
        let read = (&mut *reader).take(room as u64).read_until(b'\n', pending).await?;
        if pending.last() == Some(&b'\n') {
            let mut line = std::mem::take(pending);
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.len() > max {
                return Err(invalid(format!("a line of more than {max} bytes")));
            }
            return String::from_utf8(line)
                .map(Some)
                .map_err(|_| invalid("a line that is not UTF-8".to_owned()));
        }
        if pending.len() > max + 1 {
            pending.clear();
            return Err(invalid(format!("a line of more than {max} bytes")));
        }
        if read == 0 {
            pending.clear();
            return Ok(None);
        }
    }
}

fn exit_reason(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "unknown exit".to_owned(),
    }
}

/// Runs this process as a job host (the program's `main` went through `run_app` with
/// [`HOST_ENV`] set): the setup function once, then the jobs the worker sends, until its
/// channel closes.
pub(crate) fn run(server: &AgentServer) -> ExitCode {
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread().enable_all().build() else {
        return ExitCode::FAILURE;
    };
    let code = runtime.block_on(serve(server));
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}

async fn serve(server: &AgentServer) -> ExitCode {
    let Some(entrypoint) = server.entrypoint_fn() else {
        tracing::error!("the job host has no entrypoint");
        return ExitCode::FAILURE;
    };
    let (Ok(address), Ok(key)) = (std::env::var(CHANNEL_ENV), std::env::var(CHANNEL_KEY_ENV))
    else {
        tracing::error!(
            "a job host needs {CHANNEL_ENV} and {CHANNEL_KEY_ENV}: it is started by the worker \
             (`--job-hosts`), not by hand"
        );
        return ExitCode::FAILURE;
    };
    let mut stream = match tokio::net::TcpStream::connect(address.as_str()).await {
        Ok(stream) => stream,
        Err(error) => {
            tracing::error!("the job host cannot reach the worker at {address}: {error}");
            return ExitCode::FAILURE;
        }
    };
    if stream.write_all(format!("{key}\n").as_bytes()).await.is_err() {
        return ExitCode::FAILURE;
    }
    // Connected first, set up then: the worker's wait for the connection is not a bound on
    // the setup function (which has its own, `initialize_process_timeout`).
    let process = match server.process().await {
        Ok(process) => process,
        Err(error) => {
            tracing::error!("the job host's setup failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (reader, mut channel) = stream.into_split();
    let (out, mut outgoing) = mpsc::unbounded_channel::<FromHost>();
    let writer = tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            let Ok(mut line) = serde_json::to_string(&message) else { continue };
            line.push('\n');
            if channel.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let _ = out.send(FromHost::Ready);
    let mut reader = BufReader::new(reader);
    let mut pending = Vec::new();
    let mut jobs = JoinSet::new();
    let mut terminations: std::collections::HashMap<String, watch::Sender<Option<String>>> =
        std::collections::HashMap::new();
    loop {
        tokio::select! {
            line = next_line(&mut reader, &mut pending, MAX_LINE) => {
                let line = match line {
                    Ok(Some(line)) => line,
                    Ok(None) => break,
                    Err(error) => {
                        tracing::error!("the channel to the worker failed: {error}");
                        break;
                    }
                };
                match serde_json::from_str::<ToHost>(&line) {
                    Ok(ToHost::Start { id, agent_name, metadata, room_name, room_sid, dispatch_id, participant_identity, url, token, identity }) => {
                        let info = JobInfo { id: id.clone(), agent_name, metadata, fake: false, room_name, room_sid, dispatch_id, participant_identity };
                        let credentials = RoomCredentials { url, token, identity };
                        let room = Room::local(info.room_name.clone());
                        let ctx = JobContext::with_credentials(info, room, process.clone(), Some(credentials));
                        let (terminate, terminated) = watch::channel(None);
                        terminations.insert(id, terminate);
                        jobs.spawn(run_job(entrypoint.clone(), ctx, terminated, out.clone()));
                    }
                    Ok(ToHost::Terminate { id, reason }) => {
                        if let Some(terminate) = terminations.get(&id) {
                            terminate.send_replace(Some(reason));
                        }
                    }
                    Err(error) => tracing::warn!("an unreadable line from the worker: {error}"),
                }
            }
            Some(done) = jobs.join_next(), if !jobs.is_empty() => {
                if let Ok(id) = done {
                    terminations.remove(&id);
                }
            }
        }
    }
    // The worker is gone: end the jobs.
    for terminate in terminations.values() {
        terminate.send_replace(Some("the worker closed the job host".to_owned()));
    }
    while jobs.join_next().await.is_some() {}
    drop(out);
    let _ = writer.await;
    ExitCode::SUCCESS
}

async fn run_job(
    entrypoint: Arc<super::entrypoint::EntrypointFn>,
    ctx: JobContext,
    mut terminated: watch::Receiver<Option<String>>,
    out: mpsc::UnboundedSender<FromHost>,
) -> String {
    let id = ctx.job_id().to_owned();
    let status = |status, error: String| FromHost::Status { id: id.clone(), status, error };
    let _ = out.send(status(HostJobStatus::Running, String::new()));
    let mut job = RunningJob::spawn(&entrypoint, ctx.clone());
    let terminate = async {
        let reason = terminated.wait_for(Option::is_some).await.map(|reason| reason.clone());
        match reason {
            Ok(reason) => reason.unwrap_or_default(),
            Err(_) => std::future::pending().await,
        }
    };
    let outcome = super::runner::drive(&mut job, &ctx, terminate).await;
    let reason = match &outcome {
        Ok(reason) => reason.clone(),
        Err(error) => error.to_string(),
    };
    job.shutdown(&reason).await;
    let _ = out.send(match outcome {
        Ok(_) => status(HostJobStatus::Success, String::new()),
        Err(error) => status(HostJobStatus::Failed, error.to_string()),
    });
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_message_hides_its_room_token_from_debug() {
        let start = ToHost::Start {
            id: "AJ_1".into(),
            agent_name: String::new(),
            metadata: String::new(),
            room_name: "room".into(),
            room_sid: String::new(),
            dispatch_id: String::new(),
            participant_identity: None,
            url: "wss://user:password@host?access_token=query-secret".into(),
            token: "the-room-jwt".into(),
            identity: "agent".into(),
        };
        let shown = format!("{start:?}");
        assert!(shown.contains("AJ_1"), "{shown}");
        for secret in ["the-room-jwt", "password", "query-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
