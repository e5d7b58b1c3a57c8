//! The text console (Python's `console --text`): a local job, its agent session, and the
//! user's lines.

use std::future::Future;
use std::io::{self, Write};
use std::path::Path;
use std::pin::pin;
use std::sync::Arc;

use tokio::io::AsyncBufRead;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use super::lines::UserLines;
use super::printer::Printer;
use super::wav_io;
use crate::room::Room;
use crate::voice::recognition::InputClock;
use crate::voice::{
    AgentSession, AudioOutput, ErrorSource, ReplyOptions, SessionErrorEvent, SessionEvent,
};
use crate::worker::job::RunningJob;
use crate::worker::{AgentServer, JobContext, JobError};

/// The name of the console's room, as in Python.
pub const CONSOLE_ROOM: &str = "console-room";

/// Why the text console failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// The job could not start, or its entrypoint failed before connecting.
    #[error(transparent)]
    Job(#[from] JobError),
    /// The user's input could not be read.
    #[error("cannot read the console input: {0}")]
    Input(io::Error),
    /// The session reported errors (an LLM request that failed after its retries, a failed
    /// TTS or STT, a panicking hook): the console went on to the end of its input, and fails
    /// at its end.
    #[error(
        "the session reported {count} error(s), the last from the {}: {}; the log above \
         has each of them",
        origin_name(.origin),
        crate::api_error::error_chain(.last)
    )]
    SessionErrors {
        /// How many errors the session reported.
        count: usize,
        /// Where the last one came from.
        origin: ErrorSource,
        /// The last one.
        last: SessionErrorEvent,
    },
    /// The output could not be written.
    #[error("cannot write the console output: {0}")]
    Output(io::Error),
    /// An audio file could not be read or written.
    #[error(transparent)]
    Wav(#[from] crate::audio::WavError),
    /// The microphone or the speakers could not be used.
    #[cfg(feature = "audio-devices")]
    #[error(transparent)]
    Device(#[from] super::devices::DeviceError),
}

/// Runs `server` in a text console: one local job in the room `console-room`, and a
/// conversation with the agent session its entrypoint starts there.
///
/// Each non-empty line of `input` is sent as the user's turn
/// (`session.generate_reply(ReplyOptions::user_input(line))`), and the next line is read once
/// the agent is done with it. Before the first line, the agent's own turns (a greeting from
/// `on_enter`) are waited for. `output` receives the conversation as the Python console shows
/// it: `● Agent: <text>` for the agent's messages, `➜ <tool>` for tool calls, `✓ <output>`
/// and `✗ <error>` for their outputs. At the end of `input` the turns in flight are waited
/// for, the session is closed and the job ends; `Ok(())` then, or
/// [`ConsoleError::SessionErrors`] when the session reported errors along the way (it still
/// runs to the end of its input).
///
/// The job also ends when the entrypoint calls [`JobContext::shutdown`] or the session is
/// closed. It fails when the entrypoint fails before starting a session (or before
/// [`JobContext::connect`]), or returns without starting one.
///
/// ```no_run
/// use agents_core::cli::run_console_text;
/// use agents_core::prelude::*;
///
/// # async fn entrypoint(ctx: JobContext) {}
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let server = AgentServer::new().rtc_session(entrypoint);
/// let input = "Hello!\nWhat can you do?\n".as_bytes();
/// let mut output = Vec::new();
/// run_console_text(&server, input, &mut output).await?;
/// println!("{}", String::from_utf8(output)?);
/// # Ok(())
/// # }
/// ```
pub async fn run_console_text<R, W>(
    server: &AgentServer,
    input: R,
    output: W,
) -> Result<(), ConsoleError>
where
    R: AsyncBufRead + Unpin,
    W: Write,
{
    run_console_text_until(server, input, output, std::future::pending()).await
}

/// [`run_console_text`], ending cleanly also when `interrupt` resolves (what Ctrl+C does in
/// [`run_app`](super::run_app)): the reply in flight is interrupted, the session closed.
pub async fn run_console_text_until<R, W, I>(
    server: &AgentServer,
    input: R,
    output: W,
    interrupt: I,
) -> Result<(), ConsoleError>
where
    R: AsyncBufRead + Unpin,
    W: Write,
    I: Future<Output = ()>,
{
    let talk = |session: AgentSession| async move {
        talk(&session, input).await.map_err(ConsoleError::Input)
    };
    run_console(server, Room::local(CONSOLE_ROOM), output, false, interrupt, talk).await
}

/// Runs `server` in a console whose user speaks the WAV file `input` (paced at real time, or
/// as fast as it is read with `fast`): the agent session started in the console room hears it
/// through its VAD and STT, and speaks into the WAV file `output` through its TTS, if given.
/// The conversation is written to `transcript` as in [`run_console_text`], the user's turns
/// as `● You: <text>`. It ends once the file is heard and the turns it caused are done.
///
/// With `fast`, turn-taking runs on the file's own timeline: the endpointing delay
/// (`min_endpointing_delay`) is counted in the file's samples after the end of speech, and
/// the file is held while the session catches up with it: while the VAD processes what was
/// read, while the final transcript of an utterance a non-streaming STT recognizes is
/// awaited, and while the agent replies (a greeting first). The file's turns stay apart as
/// they would in real time, and its next sentence never barges in on a reply (so the user
/// never interrupts the agent). `max_endpointing_delay`, the wait for a transcript that does
/// not come, still runs on the wall clock. Without `fast`, it is read at real time and
/// turn-taking runs on the wall clock, as with a microphone.
pub async fn run_console_files<W: Write>(
    server: &AgentServer,
    input: &Path,
    output: Option<&Path>,
    fast: bool,
    transcript: W,
) -> Result<(), ConsoleError> {
    let (room_made, made_room) = tokio::sync::oneshot::channel();
    let audio = wav_io::wav_input(input, fast, made_room)?;
    let speakers = output.map(|path| Arc::new(wav_io::WavOutput::new(path)));
    let sink = speakers.clone().map(|speakers| speakers as Arc<dyn AudioOutput>);
    let clock = if fast { InputClock::Audio } else { InputClock::Wall };
    let room = Room::local_with_audio_on(CONSOLE_ROOM, Some(audio), clock, sink);
    let _ = room_made.send(room.clone());
    let talk = |session: AgentSession| async move {
        talk(&session, tokio::io::empty()).await.map_err(ConsoleError::Input)
    };
    let result = run_console(server, room, transcript, true, std::future::pending(), talk).await;
    if let Some(speakers) = speakers {
        speakers.finish()?;
    }
    result
}

/// Runs a console in `room`: `talk` is the user's side once the session is there (its end
/// ends the console), `output` receives the conversation.
pub(super) async fn run_console<W, I, T, F>(
    server: &AgentServer,
    room: Room,
    output: W,
    show_user: bool,
    interrupt: I,
    talk: T,
) -> Result<(), ConsoleError>
where
    W: Write,
    I: Future<Output = ()>,
    T: FnOnce(AgentSession) -> F,
    F: Future<Output = Result<(), ConsoleError>>,
{
    let mut interrupt = pin!(interrupt);
    let mut errors = SessionErrors::default();
    let mut job = server.launch_fake_job(room).await?;
    let ctx = job.context().clone();

    let (end, printed) = match wait_for_session(&mut job, &ctx, interrupt.as_mut()).await {
        Ok(session) => {
            let mut events = session.subscribe();
            let mut printer = Printer::new(output, show_user);
            let talk = talk(session.clone());
            let mut shown = Shown { printer: &mut printer };
            let end =
                converse(&session, &mut job, &ctx, talk, &mut shown, &mut events, interrupt).await;
            session.close().await;
            // Counted by the session itself: all of them, also those reported before the
            // console subscribed or while it fell behind the events.
            let (count, last) = session.reported_errors();
            errors = SessionErrors { count, last };
            (end, drain(&mut shown, &mut events))
        }
        Err(end) => (end, Ok(())),
    };
    job.shutdown(&end.reason()).await;
    end.into_result()?;
    printed.map_err(ConsoleError::Output)?;
    errors.into_result()
}

/// The errors the session reported, for the console's result.
#[derive(Default)]
struct SessionErrors {
    count: usize,
    last: Option<(ErrorSource, SessionErrorEvent)>,
}

impl SessionErrors {
    fn into_result(self) -> Result<(), ConsoleError> {
        match self.last {
            Some((source, last)) => {
                Err(ConsoleError::SessionErrors { count: self.count, origin: source, last })
            }
            None => Ok(()),
        }
    }
}

/// Where a session error came from, as the console names it.
fn origin_name(source: &ErrorSource) -> &'static str {
    match source {
        ErrorSource::Llm => "LLM",
        ErrorSource::ToolCall => "model's tool calls",
        ErrorSource::Hook => "agent's hooks",
        ErrorSource::Stt => "speech-to-text",
        ErrorSource::Tts => "text-to-speech",
    }
}

/// The console's view of the session's events: printed.
struct Shown<'a, W: Write> {
    printer: &'a mut Printer<W>,
}

impl<W: Write> Shown<'_, W> {
    /// Prints `event`; `true` when it is the session's end.
    fn event(&mut self, event: &SessionEvent) -> io::Result<bool> {
        self.printer.print_event(event)
    }
}

/// How the console ended.
enum End {
    InputDone,
    Interrupted,
    Shutdown(String),
    SessionClosed,
    Failed(ConsoleError),
}

impl End {
    /// The job's shutdown reason.
    fn reason(&self) -> String {
        match self {
            Self::InputDone => "end of the console input".to_owned(),
            Self::Interrupted => "console interrupted".to_owned(),
            Self::Shutdown(reason) => reason.clone(),
            Self::SessionClosed => "agent session closed".to_owned(),
            Self::Failed(error) => error.to_string(),
        }
    }

    fn into_result(self) -> Result<(), ConsoleError> {
        match self {
            Self::Failed(error) => Err(error),
            _ => Ok(()),
        }
    }
}

/// Waits for the session the entrypoint starts in the job's room.
async fn wait_for_session(
    job: &mut RunningJob,
    ctx: &JobContext,
    interrupt: std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Result<AgentSession, End> {
    tokio::select! {
        // A session in the room first: what it said is printed even if the job then ends.
        biased;
        session = ctx.room().wait_for_agent_session() => Ok(session),
        finished = job.finished() => {
            // It may have started the session just before returning.
            let session = ctx.room().agent_session();
            match (finished, session) {
                (Ok(()), Some(session)) => Ok(session),
                (Ok(()), None) => Err(End::Failed(JobError::NoAgentSession.into())),
                (Err(error), Some(session)) if ctx.is_connected() => {
                    tracing::error!(parent: ctx.span(), "{error}");
                    Ok(session)
                }
                (Err(error), _) => Err(End::Failed(error.into())),
            }
        },
        () = interrupt => Err(End::Interrupted),
        reason = ctx.shutdown_requested() => Err(End::Shutdown(reason)),
    }
}

/// Prints the session's events while the user's lines are sent, until something ends the
/// console.
async fn converse<W: Write>(
    session: &AgentSession,
    job: &mut RunningJob,
    ctx: &JobContext,
    talk: impl Future<Output = Result<(), ConsoleError>>,
    shown: &mut Shown<'_, W>,
    events: &mut Receiver<SessionEvent>,
    mut interrupt: std::pin::Pin<&mut impl Future<Output = ()>>,
) -> End {
    // What happened before we subscribed (a quick greeting) is in the history.
    if let Err(error) = shown.printer.print_history(&session.history()) {
        return End::Failed(ConsoleError::Output(error));
    }
    let mut talk = pin!(talk);
    loop {
        tokio::select! {
            biased;
            event = events.recv() => match event {
                Ok(event) => match shown.event(&event) {
                    Ok(false) => {}
                    Ok(true) => return End::SessionClosed,
                    Err(error) => return End::Failed(ConsoleError::Output(error)),
                },
                Err(RecvError::Lagged(missed)) => lagged(missed),
                Err(RecvError::Closed) => return End::SessionClosed,
            },
            // Closed before we subscribed (its `Close` event missed): end all the same.
            () = session.wait_for_close() => return End::SessionClosed,
            () = interrupt.as_mut() => return End::Interrupted,
            reason = ctx.shutdown_requested() => return End::Shutdown(reason),
            finished = job.finished() => {
                if let Err(error) = finished {
                    if !ctx.is_connected() {
                        return End::Failed(error.into());
                    }
                    tracing::error!(parent: ctx.span(), "{error}");
                }
            }
            talked = talk.as_mut() => {
                return match talked {
                    Ok(()) => End::InputDone,
                    Err(error) => End::Failed(error),
                };
            }
        }
    }
}

/// Sends the user's lines, one turn at a time.
async fn talk<R: AsyncBufRead + Unpin>(session: &AgentSession, input: R) -> io::Result<()> {
    // The agent's own turns first: a greeting asked for in `on_enter` (the session is in the
    // room only once `on_enter` counts as work in flight), and the turns of an audio input.
    session.wait_for_idle().await;
    session.wait_for_audio_input().await;
    session.wait_for_idle().await;
    let mut lines = UserLines::new(input);
    while let Some(line) = lines.next_line().await? {
        session.generate_reply(ReplyOptions::user_input(line));
        session.wait_for_idle().await;
    }
    Ok(())
}

/// Prints the events left in `events` (the session is closed: they are all there).
fn drain<W: Write>(
    shown: &mut Shown<'_, W>,
    events: &mut Receiver<SessionEvent>,
) -> io::Result<()> {
    loop {
        match events.try_recv() {
            Ok(event) => {
                shown.event(&event)?;
            }
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(missed)) => lagged(missed),
            Err(_) => return Ok(()),
        }
    }
}

fn lagged(missed: u64) {
    tracing::warn!("the console fell behind and did not show {missed} session events");
}
