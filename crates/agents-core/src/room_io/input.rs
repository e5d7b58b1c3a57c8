//! The linked participant: who it is, its microphone as the session's audio input, and the
//! session's end when it leaves.

use tokio::sync::{mpsc, watch};

use agents_rtc::{
    AudioStream, AudioStreamOptions, RemoteParticipant, RoomEvent, RoomEvents, TrackKind,
    TrackSource,
};

use super::{RoomOptions, close_session};
use crate::audio::AudioFrame;
use crate::voice::AgentSession;

/// The participant the session is linked to, as its transcripts name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Linked {
    /// Its identity.
    pub(super) identity: String,
    /// The sid of its microphone track, once known.
    pub(super) track_sid: Option<String>,
}

/// Links the participant, forwards its microphone, and closes the session when it leaves;
/// reports the room's end to `ended`.
pub(super) async fn link(
    room: agents_rtc::Room,
    mut events: RoomEvents,
    options: RoomOptions,
    frames: mpsc::Sender<AudioFrame>,
    mut sessions: watch::Receiver<Option<AgentSession>>,
    linked_out: watch::Sender<Option<Linked>>,
    ended: watch::Sender<Option<crate::room::RoomEnd>>,
) {
    let mut stream_options = AudioStreamOptions::default();
    stream_options.sample_rate = options.input_sample_rate;
    let mut linked: Option<String> = None;
    let mut stream: Option<AudioStream> = None;
    let mut deaf = false;
    // The linked participant left for good and its session was closed: no one is linked again.
    let mut session_closed = false;
    let announce = |identity: &str| {
        linked_out.send_replace(Some(Linked { identity: identity.to_owned(), track_sid: None }));
    };
    for participant in room.remote_participants().into_values() {
        if linked.is_none() && options.links(&participant) {
            linked = Some(participant.identity().to_owned());
            announce(participant.identity());
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
                    if linked.is_none() && !session_closed && options.links(&participant) =>
                {
                    linked = Some(participant.identity().to_owned());
                    announce(participant.identity());
                    if !deaf {
                        stream = open(&participant, stream_options);
                    }
                }
                Some(RoomEvent::TrackPublished { participant_identity, publication })
                    if linked.as_deref() == Some(participant_identity.as_str())
                        && publication.source() == TrackSource::Microphone =>
                {
                    set_track(&linked_out, publication.sid());
                }
                Some(RoomEvent::TrackSubscribed { participant_identity, track })
                    if linked.as_deref() == Some(participant_identity.as_str())
                        && track.kind() == TrackKind::Audio =>
                {
                    set_track(&linked_out, track.sid());
                }
                Some(RoomEvent::ParticipantDisconnected { identity, reason })
                    if linked.as_deref() == Some(identity.as_str()) =>
                {
                    tracing::info!(participant = %identity, ?reason, "the linked participant left");
                    linked = None;
                    stream = None;
                    linked_out.send_replace(None);
                    // As in Python, only a participant that left for good closes the session:
                    // one the library dropped while it reconnects comes back, and is linked
                    // again then.
                    // The events are still read after that: the room's end is reported to
                    // the job, and the room keeps its view of who is present.
                    if options.close_on_disconnect
                        && closes_session(reason)
                        && close_session(&mut sessions).await
                    {
                        session_closed = true;
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

fn set_track(linked: &watch::Sender<Option<Linked>>, sid: &str) {
    linked.send_modify(|linked| {
        if let Some(linked) = linked {
            linked.track_sid = Some(sid.to_owned());
        }
    });
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
