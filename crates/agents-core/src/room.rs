//! The room a job's agent runs in.
//!
//! Today a room is local: the console's `console-room`, where the session's input and output
//! are the terminal. LiveKit rooms (through livekit-ffi) come with the rooms work; the session
//! only needs what this type offers.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use futures::stream::BoxStream;
use tokio::sync::watch;

use crate::audio::AudioFrame;
use crate::voice::recognition::InputClock;
use crate::voice::{AgentSession, AudioOutput};

/// A room: its name, and the agent session running in it.
#[derive(Clone)]
pub struct Room {
    inner: Arc<RoomInner>,
}

struct RoomInner {
    name: String,
    session: watch::Sender<Option<AgentSession>>,
    audio: Mutex<RoomAudio>,
    /// Tasks serving the room (room IO), aborted when the last clone is dropped.
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Where room IO, once attached, plugs in the audio this room gave its session.
    #[cfg(feature = "rtc")]
    plug: Mutex<Option<RoomIoPlug>>,
    /// How the LiveKit room under room IO ended, once it did.
    #[cfg(feature = "rtc")]
    ended: watch::Sender<Option<RoomEnd>>,
}

/// How the LiveKit room under room IO ended (its last event).
#[cfg(feature = "rtc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoomEnd {
    /// We left the room, or the server ended our connection: the reason.
    Disconnected(String),
    /// The LiveKit client library panicked: its text.
    Fatal(String),
}

/// The far ends of the audio a room gives its session before room IO is attached: the
/// sender feeding the session's input, and the output that forwards once plugged.
#[cfg(feature = "rtc")]
pub(crate) struct RoomIoPlug {
    pub(crate) frames: tokio::sync::mpsc::Sender<AudioFrame>,
    pub(crate) output: Arc<crate::room_io::DeferredOutput>,
}

impl Drop for RoomInner {
    fn drop(&mut self) {
        for task in self.tasks.get_mut().unwrap_or_else(PoisonError::into_inner).drain(..) {
            task.abort();
        }
    }
}

/// The audio a local room gives the session started in it.
#[derive(Default)]
struct RoomAudio {
    input: Option<(BoxStream<'static, AudioFrame>, InputClock)>,
    output: Option<Arc<dyn AudioOutput>>,
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Room").field("name", &self.inner.name).finish_non_exhaustive()
    }
}

impl Room {
    /// A local room (no LiveKit server), such as the console's.
    pub fn local(name: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(RoomInner {
                name: name.into(),
                session: watch::Sender::new(None),
                audio: Mutex::new(RoomAudio::default()),
                tasks: Mutex::new(Vec::new()),
                #[cfg(feature = "rtc")]
                plug: Mutex::new(None),
                #[cfg(feature = "rtc")]
                ended: watch::Sender::new(None),
            }),
        }
    }

    /// A local room whose user is `input` (e.g. a microphone or a WAV file) and which plays
    /// the agent into `output`: a session started in it with `.room(..)` uses them.
    pub fn local_with_audio(
        name: impl Into<String>,
        input: Option<BoxStream<'static, AudioFrame>>,
        output: Option<Arc<dyn AudioOutput>>,
    ) -> Self {
        Self::local_with_audio_on(name, input, InputClock::Wall, output)
    }

    /// [`local_with_audio`](Self::local_with_audio), its input's turn-taking on `clock`.
    pub(crate) fn local_with_audio_on(
        name: impl Into<String>,
        input: Option<BoxStream<'static, AudioFrame>>,
        clock: InputClock,
        output: Option<Arc<dyn AudioOutput>>,
    ) -> Self {
        let room = Self::local(name);
        let input = input.map(|input| (input, clock));
        *room.inner.audio.lock().unwrap_or_else(PoisonError::into_inner) =
            RoomAudio { input, output };
        room
    }

    /// The room's audio input (and its clock) and output, for the session starting in it
    /// (once).
    #[allow(clippy::type_complexity)]
    pub(crate) fn take_audio(
        &self,
    ) -> (Option<(BoxStream<'static, AudioFrame>, InputClock)>, Option<Arc<dyn AudioOutput>>) {
        let mut audio = self.inner.audio.lock().unwrap_or_else(PoisonError::into_inner);
        (audio.input.take(), audio.output.take())
    }

    /// The room's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The agent session started in this room, if any.
    pub fn agent_session(&self) -> Option<AgentSession> {
        self.inner.session.borrow().clone()
    }

    /// Waits until an agent session is started in this room.
    pub async fn wait_for_agent_session(&self) -> AgentSession {
        let mut receiver = self.inner.session.subscribe();
        loop {
            if let Some(session) = receiver.borrow_and_update().clone() {
                return session;
            }
            // The sender lives in `self`, so `changed` cannot fail while we wait.
            if receiver.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Keeps `task` running as long as the room: it is aborted when the last clone is dropped.
    #[cfg(feature = "rtc")]
    pub(crate) fn own_task(&self, task: tokio::task::JoinHandle<()>) {
        self.inner.tasks.lock().unwrap_or_else(PoisonError::into_inner).push(task);
    }

    /// A receiver of the session started in the room, which does not keep the room alive.
    #[cfg(feature = "rtc")]
    pub(crate) fn session_receiver(&self) -> watch::Receiver<Option<AgentSession>> {
        self.inner.session.subscribe()
    }

    /// Gives the room the audio room IO plugs into later: an input fed by a channel and an
    /// output forwarding once plugged (unless it has audio of its own already). A session
    /// started in the room before room IO is attached hears and speaks once it is.
    #[cfg(feature = "rtc")]
    pub(crate) fn prepare_room_io(&self) {
        let mut audio = self.inner.audio.lock().unwrap_or_else(PoisonError::into_inner);
        if audio.input.is_some() || audio.output.is_some() {
            return;
        }
        let (frames, mut receiver) = tokio::sync::mpsc::channel(64);
        let input =
            futures::StreamExt::boxed(futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)));
        let output = Arc::new(crate::room_io::DeferredOutput::default());
        audio.input = Some((input, InputClock::Wall));
        audio.output = Some(output.clone());
        *self.inner.plug.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(RoomIoPlug { frames, output });
    }

    /// The audio ends given by [`prepare_room_io`](Self::prepare_room_io), for room IO to plug
    /// into (once).
    #[cfg(feature = "rtc")]
    pub(crate) fn take_room_io_plug(&self) -> Option<RoomIoPlug> {
        self.inner.plug.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Where room IO reports how the LiveKit room ended (a sender that does not keep the room
    /// alive).
    #[cfg(feature = "rtc")]
    pub(crate) fn room_end_sender(&self) -> watch::Sender<Option<RoomEnd>> {
        self.inner.ended.clone()
    }

    /// Waits until the LiveKit room under room IO ends (never for a local room); the
    /// worker's job driver waits for it.
    #[cfg(all(feature = "rtc", feature = "worker"))]
    pub(crate) async fn room_ended(&self) -> RoomEnd {
        let mut ended = self.inner.ended.subscribe();
        let end = ended.wait_for(Option::is_some).await.map(|end| end.clone());
        match end {
            Ok(Some(end)) => end,
            // The sender lives in `self`, so this cannot happen while we wait.
            _ => std::future::pending().await,
        }
    }

    /// No room IO will be attached (the job is ending): the audio its session gave the
    /// deferred output, waiting for the room, is dropped instead.
    #[cfg(feature = "rtc")]
    pub(crate) fn release_room_io(&self) {
        if let Some(plug) = self.inner.plug.lock().unwrap_or_else(PoisonError::into_inner).as_ref()
        {
            plug.output.release();
        }
    }

    pub(crate) fn attach_session(&self, session: AgentSession) {
        self.inner.session.send_replace(Some(session));
    }
}
