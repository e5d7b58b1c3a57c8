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
//! the user's transcripts (interim and final) and the agent's replies as text streams on
//! `lk.transcription` (attributes `lk.transcription_final`, `lk.segment_id`); text streams on
//! `lk.chat` are the user's typed input (the reply in progress is interrupted).
//!
//! No FFI type reaches the session: the input is a stream of [`AudioFrame`]s and the output
//! an [`AudioOutput`]. The task linking the participant is owned by the returned [`Room`] and
//! aborted when its last clone is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{Notify, broadcast, mpsc, watch};

use agents_rtc::{
    AudioSource, AudioSourceOptions, AudioStream, AudioStreamOptions, LocalAudioTrack,
    ParticipantKind, RemoteParticipant, RoomEvent, RoomEvents, RtcError, StreamTextOptions,
    TrackPublishOptions, TrackSource,
};

use crate::audio::{AudioFrame, Resampler};
use crate::llm::{ChatItem, ChatRole};
use crate::room::Room;
use crate::voice::{
    AgentSession, AgentState, AudioOutput, PlaybackFinished, ReplyOptions, SessionEvent,
};

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
    room.local_participant().publish_track(&track, publish).await.map_err(RoomIoError::Publish)?;
    let output: Arc<dyn AudioOutput> = Arc::new(RoomAudioOutput::new(source, track));
    let Some(plug) = session_room.take_room_io_plug() else {
        return Err(RoomIoError::InvalidOptions(format!(
            "room {:?} already has room IO, or audio of its own",
            session_room.name()
        )));
    };

    let sessions = session_room.session_receiver();
    // Registered before the session starts, so no chat message is missed.
    let chat = room.register_text_stream_handler(TOPIC_CHAT).map_err(RoomIoError::Publish)?;
    session_room.own_task(tokio::spawn(publish_session(room.clone(), sessions.clone())));
    session_room.own_task(tokio::spawn(chat_input(sessions.clone(), chat)));
    let ended = session_room.room_end_sender();
    session_room.own_task(tokio::spawn(link(room, events, options, plug.frames, sessions, ended)));
    // Last: the audio waiting for the room (a greeting) plays once the session is mirrored.
    plug.output.plug(output);
    Ok(())
}

/// The output a room gives its session before room IO is attached. Until room IO plugs its
/// voice track in, the agent's audio waits (as Python's room output waits for its track):
/// a greeting started before `ctx.connect()` is heard once the room is joined, not dropped.
/// A clear (an interruption) releases the waiting audio, dropped; so does
/// [`release`](Self::release) (the job ends without a room) for good.
#[derive(Default)]
pub(crate) struct DeferredOutput {
    target: std::sync::OnceLock<Arc<dyn AudioOutput>>,
    /// No room will come: audio is dropped.
    released: std::sync::atomic::AtomicBool,
    /// Plugged, cleared or released.
    wake: Notify,
}

impl DeferredOutput {
    fn plug(&self, output: Arc<dyn AudioOutput>) {
        let _ = self.target.set(output);
        self.wake.notify_waiters();
    }

    /// No room will be attached (the job ends): waiting and later audio is dropped.
    pub(crate) fn release(&self) {
        self.released.store(true, std::sync::atomic::Ordering::Release);
        self.wake.notify_waiters();
    }

    fn is_released(&self) -> bool {
        self.released.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The target, once plugged; `None` when a clear or the release came first.
    async fn target(&self) -> Option<&Arc<dyn AudioOutput>> {
        if self.target.get().is_none() && !self.is_released() {
            let wake = self.wake.notified();
            tokio::pin!(wake);
            wake.as_mut().enable();
            if self.target.get().is_none() && !self.is_released() {
                wake.await;
            }
        }
        self.target.get()
    }
}

#[async_trait]
impl AudioOutput for DeferredOutput {
    async fn capture_frame(&self, frame: AudioFrame) {
        if let Some(target) = self.target().await {
            target.capture_frame(frame).await;
        }
    }

    fn flush(&self) {
        if let Some(target) = self.target.get() {
            target.flush();
        }
    }

    fn clear_buffer(&self) {
        match self.target.get() {
            Some(target) => target.clear_buffer(),
            None => self.wake.notify_waiters(),
        }
    }

    async fn wait_for_playout(&self) -> PlaybackFinished {
        match self.target.get() {
            Some(target) => target.wait_for_playout().await,
            None => PlaybackFinished::new(Duration::ZERO, false),
        }
    }
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

/// The session started in the room, once it is; `None` if the room goes first.
async fn session_of(sessions: &mut watch::Receiver<Option<AgentSession>>) -> Option<AgentSession> {
    loop {
        if let Some(session) = sessions.borrow_and_update().clone() {
            return Some(session);
        }
        sessions.changed().await.ok()?;
    }
}

/// Feeds `lk.chat` messages to the session as user input, interrupting its reply.
async fn chat_input(
    mut sessions: watch::Receiver<Option<AgentSession>>,
    mut chat: agents_rtc::TextStreamReceiver,
) {
    let Some(session) = session_of(&mut sessions).await else { return };
    while let Some(reader) = chat.next().await {
        match reader.read_all().await {
            Ok(text) if !text.trim().is_empty() => {
                session.interrupt();
                session.generate_reply(ReplyOptions::user_input(text));
            }
            Ok(_) => {}
            Err(error) => tracing::warn!("an lk.chat message could not be read: {error}"),
        }
    }
}

/// Waits for the session, then mirrors it in the room: its state as the `lk.agent.state`
/// attribute, the user's transcripts and the agent's replies on `lk.transcription`.
async fn publish_session(
    room: agents_rtc::Room,
    mut sessions: watch::Receiver<Option<AgentSession>>,
) {
    let Some(session) = session_of(&mut sessions).await else { return };
    let mut events = session.subscribe();
    let mut segments = 0_u64;
    let mut user_segment: Option<String> = None;
    let participant = room.local_participant().clone();
    // The state it reached before this task subscribed (subscribed first, so none is lost).
    set_agent_state(&participant, session.agent_state()).await;
    loop {
        match events.recv().await {
            Ok(SessionEvent::AgentStateChanged { new_state, .. }) => {
                set_agent_state(&participant, new_state).await;
            }
            Ok(SessionEvent::UserInputTranscribed { transcript, is_final }) => {
                let segment = user_segment
                    .get_or_insert_with(|| {
                        segments += 1;
                        format!("SG_user_{segments}")
                    })
                    .clone();
                if is_final {
                    user_segment = None;
                }
                send_transcription(&participant, &transcript, &segment, is_final).await;
            }
            Ok(SessionEvent::ConversationItemAdded { item: ChatItem::Message(message) })
                if message.role == ChatRole::Assistant =>
            {
                segments += 1;
                let segment = format!("SG_agent_{segments}");
                send_transcription(&participant, &message.text(), &segment, true).await;
            }
            Ok(SessionEvent::Close { .. }) | Err(broadcast::error::RecvError::Closed) => return,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!("room IO missed {missed} session events");
            }
        }
    }
}

async fn set_agent_state(participant: &agents_rtc::LocalParticipant, state: AgentState) {
    let state = agent_state_name(state);
    let attributes = HashMap::from([(ATTRIBUTE_AGENT_STATE.to_owned(), state.to_owned())]);
    if let Err(error) = participant.set_attributes(attributes).await {
        tracing::warn!("lk.agent.state could not be set: {error}");
    }
}

fn agent_state_name(state: AgentState) -> &'static str {
    match state {
        AgentState::Initializing => "initializing",
        AgentState::Listening => "listening",
        AgentState::Thinking => "thinking",
        AgentState::Speaking => "speaking",
    }
}

async fn send_transcription(
    participant: &agents_rtc::LocalParticipant,
    text: &str,
    segment: &str,
    is_final: bool,
) {
    let options = StreamTextOptions::topic(TOPIC_TRANSCRIPTION)
        .attribute(ATTRIBUTE_TRANSCRIPTION_FINAL, if is_final { "true" } else { "false" })
        .attribute(ATTRIBUTE_SEGMENT_ID, segment);
    if let Err(error) = participant.send_text(text, &options).await {
        tracing::warn!("a transcription could not be published: {error}");
    }
}

/// Links the participant, forwards its microphone, and closes the session when it leaves;
/// reports the room's end to `ended`.
async fn link(
    room: agents_rtc::Room,
    mut events: RoomEvents,
    options: RoomOptions,
    frames: mpsc::Sender<AudioFrame>,
    mut sessions: watch::Receiver<Option<AgentSession>>,
    ended: watch::Sender<Option<crate::room::RoomEnd>>,
) {
    let mut stream_options = AudioStreamOptions::default();
    stream_options.sample_rate = options.input_sample_rate;
    let mut linked: Option<String> = None;
    let mut stream: Option<AudioStream> = None;
    let mut deaf = false;
    for participant in room.remote_participants().into_values() {
        if linked.is_none() && options.links(&participant) {
            linked = Some(participant.identity().to_owned());
            stream = open(&participant, stream_options);
        }
    }
    loop {
        let frame = async {
            match stream.as_mut() {
                Some(stream) => stream.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = events.recv() => match event {
                Some(RoomEvent::ParticipantConnected(participant))
                    if linked.is_none() && options.links(&participant) =>
                {
                    linked = Some(participant.identity().to_owned());
                    if !deaf {
                        stream = open(&participant, stream_options);
                    }
                }
                Some(RoomEvent::ParticipantDisconnected { identity, reason })
                    if linked.as_deref() == Some(identity.as_str()) =>
                {
                    tracing::info!(participant = %identity, ?reason, "the linked participant left");
                    linked = None;
                    stream = None;
                    // As in Python, only a participant that left for good closes the session:
                    // one the library dropped while it reconnects comes back, and is linked
                    // again then.
                    if options.close_on_disconnect && closes_session(reason) {
                        close_session(&mut sessions).await;
                        return;
                    }
                }
                Some(RoomEvent::Disconnected { reason }) => {
                    let reason = format!("{reason:?}");
                    ended.send_replace(Some(crate::room::RoomEnd::Disconnected(reason)));
                    return;
                }
                Some(RoomEvent::Fatal { message }) => {
                    ended.send_replace(Some(crate::room::RoomEnd::Fatal(message)));
                    return;
                }
                None => {
                    let reason = "the room's events ended".to_owned();
                    ended.send_replace(Some(crate::room::RoomEnd::Disconnected(reason)));
                    return;
                }
                Some(_) => {}
            },
            frame = frame => match frame.map(to_core) {
                Some(Ok(frame)) => {
                    if frames.send(frame).await.is_err() {
                        // The session does not listen (it has no speech-to-text, or its
                        // input ended): the participant stays linked, unheard.
                        deaf = true;
                        stream = None;
                    }
                }
                Some(Err(error)) => tracing::warn!("a microphone frame was dropped: {error}"),
                // The stream ended (the room is closing): the participant stays linked.
                None => stream = None,
            },
        }
    }
}

/// Whether the linked participant leaving for `reason` closes the session (Python's
/// `DEFAULT_CLOSE_ON_DISCONNECT_REASONS`): it left, its room was deleted, or it rejected the
/// call.
fn closes_session(reason: agents_rtc::DisconnectReason) -> bool {
    use agents_rtc::DisconnectReason as Reason;
    matches!(reason, Reason::ClientInitiated | Reason::RoomDeleted | Reason::UserRejected)
}

/// A stream of `participant`'s microphone (following republished tracks), or `None` (logged)
/// when the library refuses it.
fn open(participant: &RemoteParticipant, options: AudioStreamOptions) -> Option<AudioStream> {
    match AudioStream::from_participant(participant, TrackSource::Microphone, options) {
        Ok(stream) => {
            tracing::info!(participant = %participant.identity(), "linked participant");
            Some(stream)
        }
        Err(error) => {
            tracing::error!(
                participant = %participant.identity(),
                "cannot read the linked participant's microphone: {error}"
            );
            None
        }
    }
}

fn to_core(frame: agents_rtc::AudioFrame) -> Result<AudioFrame, crate::audio::AudioError> {
    let channels = u16::try_from(frame.num_channels).unwrap_or(u16::MAX);
    AudioFrame::new(frame.data, frame.sample_rate, channels)
}

/// Closes the session started in the room, if one was.
async fn close_session(sessions: &mut watch::Receiver<Option<AgentSession>>) {
    let session = sessions.borrow_and_update().clone();
    if let Some(session) = session {
        session.close().await;
    }
}

/// The agent's voice, published as a track: frames go to the source's queue (which waits
/// while it is full), a clear empties it.
struct RoomAudioOutput {
    source: AudioSource,
    /// Kept so the published track lives as long as the output.
    _track: LocalAudioTrack,
    state: Mutex<Segment>,
    cleared: Notify,
}

/// The segment being played.
#[derive(Default)]
struct Segment {
    /// When its first frame was queued.
    started: Option<Instant>,
    /// How much audio it has.
    queued: Duration,
    cleared: bool,
    resampler: Option<Resampler>,
}

impl RoomAudioOutput {
    fn new(source: AudioSource, track: LocalAudioTrack) -> Self {
        Self {
            source,
            _track: track,
            state: Mutex::new(Segment::default()),
            cleared: Notify::new(),
        }
    }

    fn segment(&self) -> std::sync::MutexGuard<'_, Segment> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `frame` as mono at the source's rate.
    fn convert(&self, frame: &AudioFrame) -> Vec<i16> {
        let mono = frame.to_mono();
        let rate = self.source.sample_rate();
        if mono.sample_rate() == rate {
            return mono.data().to_vec();
        }
        let mut segment = self.segment();
        let resampler = match segment.resampler.take() {
            Some(resampler) if resampler.input_rate() == mono.sample_rate() => resampler,
            _ => match Resampler::new(mono.sample_rate(), rate) {
                Ok(resampler) => resampler,
                Err(error) => {
                    tracing::warn!("the agent's audio cannot be resampled: {error}");
                    return Vec::new();
                }
            },
        };
        let resampler = segment.resampler.insert(resampler);
        let mut out = Vec::new();
        resampler.process_i16(mono.data(), &mut out);
        out.into_iter().map(|s| s.round().clamp(-32768.0, 32767.0) as i16).collect()
    }
}

#[async_trait]
impl AudioOutput for RoomAudioOutput {
    async fn capture_frame(&self, frame: AudioFrame) {
        let samples = self.convert(&frame);
        if samples.is_empty() {
            return;
        }
        {
            let mut segment = self.segment();
            segment.started.get_or_insert_with(Instant::now);
            segment.queued += frame.duration();
        }
        let frame = agents_rtc::AudioFrame::new(samples, self.source.sample_rate(), 1);
        if let Err(error) = self.source.capture_frame(&frame).await {
            tracing::warn!("the agent's audio could not be published: {error}");
        }
    }

    fn flush(&self) {}

    fn clear_buffer(&self) {
        if let Err(error) = self.source.clear_queue() {
            tracing::warn!("the agent's queued audio could not be cleared: {error}");
        }
        self.segment().cleared = true;
        self.cleared.notify_waiters();
    }

    async fn wait_for_playout(&self) -> PlaybackFinished {
        // The source plays its queue in real time from the first frame: the segment ends
        // when its audio has had the time to play, or when it is cleared.
        let cleared = self.cleared.notified();
        let end = {
            let segment = self.segment();
            if segment.cleared {
                None
            } else {
                segment.started.map(|started| started + segment.queued)
            }
        };
        if let Some(end) = end {
            tokio::select! {
                () = tokio::time::sleep_until(end.into()) => {}
                () = cleared => {}
            }
        }
        let mut segment = self.segment();
        let played = segment.started.map_or(Duration::ZERO, |started| started.elapsed());
        let finished = PlaybackFinished::new(played.min(segment.queued), segment.cleared);
        *segment = Segment { resampler: segment.resampler.take(), ..Segment::default() };
        finished
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod deferred_output_tests {
    use super::*;
    use crate::testing::{FakeAudioOutput, tone};

    #[tokio::test]
    async fn audio_before_the_room_waits_for_it_and_a_clear_releases_it() {
        let deferred = Arc::new(DeferredOutput::default());
        let frame = tone(Duration::from_millis(20), 440.0, 24_000).remove(0);

        // Captured before room IO plugs in: the frame waits …
        let waiting = tokio::spawn({
            let deferred = deferred.clone();
            let frame = frame.clone();
            async move { deferred.capture_frame(frame).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "the greeting must wait for the room, not be dropped");
        // … and plays once it does.
        let target = Arc::new(FakeAudioOutput::instant());
        deferred.plug(target.clone());
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        assert_eq!(target.frames().len(), 1);

        // Without a room, a clear (an interruption) releases the waiting audio, dropped; a
        // release (the job ends unconnected) drops what waits and what comes after.
        let unplugged = Arc::new(DeferredOutput::default());
        let capture = |frame: AudioFrame| {
            let unplugged = unplugged.clone();
            tokio::spawn(async move { unplugged.capture_frame(frame).await })
        };
        let waiting = capture(frame.clone());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        unplugged.clear_buffer();
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        let waiting = capture(frame.clone());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        unplugged.release();
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        tokio::time::timeout(Duration::from_secs(5), capture(frame)).await.unwrap().unwrap();
    }
}
