//! Room IO: an agent session in a LiveKit room (Python's `RoomIO` and `RoomOptions`).
//!
//! [`room_io`] turns a connected [`agents_rtc::Room`] into the [`Room`] a session is started
//! in with `.room(..)`: the session's audio input is the microphone of the *linked
//! participant* (the configured identity, or the first remote participant of the accepted
//! kinds), delivered at the input rate and following the participant as it republishes its
//! track; the session's audio output is a track the agent publishes, fed with back-pressure
//! (the source's queue) and cleared on interruption. When the linked participant leaves for good
//! (it left, its room was deleted, or it rejected the call: Python's reasons), the session is
//! closed (unless [`RoomOptions::close_on_disconnect`] is off); one dropped while the connection
//! recovers is linked again when it comes back.
//!
//! The session is mirrored in the room: its state as the agent's `lk.agent.state` attribute,
//! and transcriptions as text streams on `lk.transcription` (attributes
//! `lk.transcription_final`, `lk.segment_id`, `lk.transcribed_track_id`): the user's
//! (interim and final) under the linked participant's identity, the agent's word by word as
//! the user hears them (an interrupted reply's stream keeps only the words heard, as the chat
//! history does). Text streams on `lk.chat` are the user's typed input (the reply in progress
//! is interrupted).
//!
//! Its parts: `input` (the linked participant and its microphone), `output` (the agent's
//! voice track), `transcription` (the session mirrored in the room) and `text_input`
//! (`lk.chat`).
//!
//! No FFI type reaches the session: the input is a stream of
//! [`AudioFrame`](crate::audio::AudioFrame)s and the output an [`AudioOutput`]. The tasks of
//! room IO are owned by the returned [`Room`] and aborted when its last clone is dropped.

mod input;
mod output;
mod text_input;
mod transcription;

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use agents_rtc::{
    AudioSource, AudioSourceOptions, LocalAudioTrack, ParticipantKind, RemoteParticipant,
    RoomEvents, RtcError, TrackPublishOptions, TrackSource,
};

use crate::room::Room;
use crate::voice::{AgentSession, AudioOutput};

pub(crate) use output::DeferredOutput;

/// How a session uses its LiveKit room (Python's `RoomOptions`), with Python's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomOptions {
    /// The identity of the participant to link; `None` links the first remote participant of
    /// [`participant_kinds`](Self::participant_kinds).
    pub participant_identity: Option<String>,
    /// The kinds of participant that may be linked (SIP and standard).
    pub participant_kinds: Vec<ParticipantKind>,
    /// Closes the session when the linked participant leaves for good (true): the
    /// disconnect reasons `ClientInitiated`, `RoomDeleted` and `UserRejected`, as in Python.
    pub close_on_disconnect: bool,
    /// The sample rate of the session's audio input, in Hz (24000).
    pub input_sample_rate: u32,
    /// The sample rate of the published voice track, in Hz (24000).
    pub output_sample_rate: u32,
    /// The name of the published voice track (`roomio_audio`).
    pub output_track_name: String,
}

impl Default for RoomOptions {
    fn default() -> Self {
        Self {
            participant_identity: None,
            participant_kinds: vec![ParticipantKind::Sip, ParticipantKind::Standard],
            close_on_disconnect: true,
            input_sample_rate: 24_000,
            output_sample_rate: 24_000,
            output_track_name: "roomio_audio".to_owned(),
        }
    }
}

impl RoomOptions {
    /// Links the participant `identity`.
    pub fn with_participant_identity(mut self, identity: impl Into<String>) -> Self {
        self.participant_identity = Some(identity.into());
        self
    }

    /// Whether the session closes when the linked participant leaves.
    pub fn with_close_on_disconnect(mut self, close: bool) -> Self {
        self.close_on_disconnect = close;
        self
    }

    fn links(&self, participant: &RemoteParticipant) -> bool {
        match &self.participant_identity {
            Some(identity) => participant.identity() == identity,
            None => self.participant_kinds.contains(&participant.info().kind),
        }
    }
}

/// Why room IO could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoomIoError {
    /// The options cannot be used.
    #[error("room options: {0}")]
    InvalidOptions(String),
    /// The room client failed (creating the source or track, publishing it).
    #[error("publishing the agent's voice track failed")]
    Publish(#[source] RtcError),
}

/// Starts room IO in `room` (its events in `events`): publishes the agent's voice track and
/// returns the [`Room`] to start the session in. The linked participant's microphone becomes
/// the session's audio input as soon as it is linked.
///
/// # Errors
///
/// [`RoomIoError::InvalidOptions`] for a sample rate of 0; [`RoomIoError::Publish`] when the
/// voice track cannot be created or published (the server refused it, the room closed).
pub async fn room_io(
    room: agents_rtc::Room,
    events: RoomEvents,
    options: RoomOptions,
) -> Result<Room, RoomIoError> {
    if options.input_sample_rate == 0 || options.output_sample_rate == 0 {
        return Err(RoomIoError::InvalidOptions(format!(
            "input {} Hz, output {} Hz: sample rates must be above 0 (e.g. 24000)",
            options.input_sample_rate, options.output_sample_rate
        )));
    }
    let session_room = Room::local(room.name());
    session_room.prepare_room_io();
    attach(&session_room, room, events, options).await?;
    Ok(session_room)
}

/// Attaches room IO to `session_room` (prepared with `prepare_room_io`): publishes the
/// agent's voice track, plugs it into the output the room gave its session, feeds the linked
/// participant's microphone into the session's input, and mirrors the session found in
/// `session_room` (started before or after) in the LiveKit room.
pub(crate) async fn attach(
    session_room: &Room,
    room: agents_rtc::Room,
    events: RoomEvents,
    options: RoomOptions,
) -> Result<(), RoomIoError> {
    if options.input_sample_rate == 0 || options.output_sample_rate == 0 {
        return Err(RoomIoError::InvalidOptions(format!(
            "input {} Hz, output {} Hz: sample rates must be above 0 (e.g. 24000)",
            options.input_sample_rate, options.output_sample_rate
        )));
    }
    let source = AudioSource::new(options.output_sample_rate, 1, AudioSourceOptions::default())
        .map_err(RoomIoError::Publish)?;
    let track = LocalAudioTrack::create_audio_track(&options.output_track_name, &source)
        .map_err(RoomIoError::Publish)?;
    let mut publish = TrackPublishOptions::default();
    publish.source = TrackSource::Microphone;
    let publication = room
        .local_participant()
        .publish_track(&track, publish)
        .await
        .map_err(RoomIoError::Publish)?;
    let (playout_sender, playout) = mpsc::unbounded_channel();
    let output: Arc<dyn AudioOutput> =
        Arc::new(output::RoomAudioOutput::new(source, track, playout_sender));
    let Some(plug) = session_room.take_room_io_plug() else {
        return Err(RoomIoError::InvalidOptions(format!(
            "room {:?} already has room IO, or audio of its own",
            session_room.name()
        )));
    };
    // Registered before the session starts, so no chat message is missed. On failure the
    // plug is released: a greeting waiting for the room must not wait for one that never comes.
    let chat = match room.register_text_stream_handler(TOPIC_CHAT) {
        Ok(chat) => chat,
        Err(error) => {
            plug.output.release();
            return Err(RoomIoError::Publish(error));
        }
    };

    let sessions = session_room.session_receiver();
    let (linked_sender, linked) = watch::channel(None);
    let mirror = transcription::Mirror {
        participant: room.local_participant().clone(),
        voice_track_sid: publication.sid().to_owned(),
        linked,
        playout,
    };
    session_room.own_task(tokio::spawn(transcription::publish_session(mirror, sessions.clone())));
    session_room.own_task(tokio::spawn(text_input::chat_input(sessions.clone(), chat)));
    let ended = session_room.room_end_sender();
    session_room.own_task(tokio::spawn(input::link(
        room,
        events,
        options,
        plug.frames,
        sessions,
        linked_sender,
        ended,
    )));
    // Last: the audio waiting for the room (a greeting) plays once the session is mirrored.
    plug.output.plug(output);
    Ok(())
}

/// The text stream topic of transcriptions (the user's and the agent's).
pub const TOPIC_TRANSCRIPTION: &str = "lk.transcription";
/// The text stream topic of the user's typed messages.
pub const TOPIC_CHAT: &str = "lk.chat";
/// The agent participant's attribute holding its state (`listening`, `thinking`, `speaking`).
pub const ATTRIBUTE_AGENT_STATE: &str = "lk.agent.state";
/// The transcription stream attribute saying whether it is final (`true`/`false`).
pub const ATTRIBUTE_TRANSCRIPTION_FINAL: &str = "lk.transcription_final";
/// The transcription stream attribute identifying its segment.
pub const ATTRIBUTE_SEGMENT_ID: &str = "lk.segment_id";
/// The transcription stream attribute naming the audio track it transcribes (the user's
/// microphone, the agent's voice).
pub const ATTRIBUTE_TRANSCRIBED_TRACK_ID: &str = "lk.transcribed_track_id";

/// The session started in the room, once it is; `None` if the room goes first.
async fn session_of(sessions: &mut watch::Receiver<Option<AgentSession>>) -> Option<AgentSession> {
    loop {
        if let Some(session) = sessions.borrow_and_update().clone() {
            return Some(session);
        }
        sessions.changed().await.ok()?;
    }
}

/// Closes the session started in the room, if one was; whether one was.
async fn close_session(sessions: &mut watch::Receiver<Option<AgentSession>>) -> bool {
    let session = sessions.borrow_and_update().clone();
    match session {
        Some(session) => {
            session.close().await;
            true
        }
        None => false,
    }
}
