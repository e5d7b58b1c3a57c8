//! What the fuzz targets (the `fuzz/` crate) and the property tests drive: the worker's
//! decoding of what reaches it from outside the process. Not public API: no stability
//! guarantees.

use futures::FutureExt as _;
use livekit_protocol as proto;
use proto::server_message;

use super::context::JobInfo;

/// The largest message the worker takes from the server.
pub const MAX_SERVER_MESSAGE: usize = super::connection::MAX_SERVER_MESSAGE;
/// The longest line of the job-host channel.
pub const MAX_HOST_LINE: usize = super::host::MAX_LINE;

/// What the worker reads in a binary frame of the LiveKit server.
#[derive(Debug)]
pub struct ServerFrame {
    /// The message's kind as logged (`availability`, `assignment`, …).
    pub kind: &'static str,
    /// The job it carries (an availability request's or an assignment's), as the job's
    /// context shows it.
    pub job: Option<JobInfo>,
    /// The job the original message described, to compare with.
    pub raw_job: Option<proto::Job>,
}

/// Decodes a binary frame of the server as the worker's connection does; `Ok(None)` for a
/// message without a kind; the decoding error as text.
pub fn server_frame(bytes: &[u8]) -> Result<Option<ServerFrame>, String> {
    let Some(message) =
        super::runner::decode_server_message(bytes).map_err(|error| error.to_string())?
    else {
        return Ok(None);
    };
    let kind = super::runner::message_kind(&message);
    let raw_job = match &message {
        server_message::Message::Availability(request) => request.job.clone(),
        server_message::Message::Assignment(assignment) => assignment.job.clone(),
        _ => None,
    };
    let job = raw_job.as_ref().map(super::runner::job_info);
    Ok(Some(ServerFrame { kind, job, raw_job }))
}

/// Encodes a server message (for building inputs).
pub fn encode_server_message(message: server_message::Message) -> Vec<u8> {
    use prost::Message as _;
    proto::ServerMessage { message: Some(message) }.encode_to_vec()
}

/// One line of the job-host channel, as either side reads it.
#[derive(Debug)]
pub struct HostLine {
    /// The line, without its newline.
    pub line: String,
    /// Whether it is a message to a host (`start`, `terminate`); with its `Debug` output.
    pub to_host: Option<String>,
    /// Whether it is a message from a host (`ready`, `status`).
    pub from_host: bool,
}

/// Reads `bytes` as the job-host channel, `max` bytes a line at most, each line read in
/// pieces of `step` bytes: the lines and how each side parses them, then the error that
/// ended the channel, if any.
pub fn host_lines(bytes: &[u8], max: usize, step: usize) -> (Vec<HostLine>, Option<String>) {
    let mut reader = tokio::io::BufReader::with_capacity(step.max(1), bytes);
    let mut pending = Vec::new();
    let mut lines = Vec::new();
    loop {
        // Reading a slice never waits.
        let next = super::host::next_line(&mut reader, &mut pending, max).now_or_never();
        match next.unwrap_or_else(|| Err(std::io::Error::other("a read of a slice waited"))) {
            Ok(Some(line)) => {
                let to_host = serde_json::from_str::<super::host::ToHost>(&line)
                    .ok()
                    .map(|message| format!("{message:?}"));
                let from_host = serde_json::from_str::<super::host::FromHost>(&line).is_ok();
                lines.push(HostLine { line, to_host, from_host });
            }
            Ok(None) => return (lines, None),
            Err(error) => return (lines, Some(error.to_string())),
        }
    }
}

/// The worker's `/agent` URL for `url` (a `LIVEKIT_URL` or an assignment's URL) with
/// `worker_token`: what it shows (`Debug`) and connects to, or the error's message.
pub fn agent_url(url: &str, worker_token: Option<&str>) -> Result<(String, String), String> {
    super::connection::AgentUrl::new(url, worker_token)
        .map(|url| (format!("{url:?}"), url.shown().to_owned()))
        .map_err(|error| format!("{error} / {error:?}"))
}

/// A URL as the worker logs it (its credentials and query removed).
pub fn redact(url: &str) -> String {
    super::options::redact(url)
}
