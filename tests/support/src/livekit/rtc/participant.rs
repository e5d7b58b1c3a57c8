//! [`ServerParticipant`]: a participant that lives inside the test server. It publishes PCM,
//! captures what the others publish as PCM, sends and reads text streams and data packets,
//! and sees the others' attribute changes — without a WebRTC client of its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use livekit_protocol::{
    DataPacket, ParticipantInfo, TrackInfo, TrackSource, TrackType, data_packet,
};
use rtc::rtp;
use tokio::sync::broadcast;

use super::RtcError;
use super::media::{FRAME_SAMPLES, Packetizer, SAMPLE_RATE, resample};
use super::room::{LocalEnd, Room, Tasks, lock, new_sid, now_ms};
use super::text_stream::{self, TextStream};

struct Publication {
    track_sid: String,
    packetizer: Packetizer,
    packets: broadcast::Sender<rtp::Packet>,
    /// When the next packet is due: a call right after another goes on at real time instead
    /// of sending its first packet at once (20 ms early, which filled the receiver's jitter
    /// buffer call after call).
    next_send: Option<tokio::time::Instant>,
}

/// A participant of the test server's room that the test drives directly.
///
/// Get one with [`RtcService::join`](super::RtcService::join). Audio is 48 kHz mono PCM
/// ([`SAMPLE_RATE`]); it is Opus-encoded and sent in real time (20 ms packets), as a client
/// would. Dropping it leaves the room.
pub struct ServerParticipant {
    room: Arc<Room>,
    info: ParticipantInfo,
    end: Arc<LocalEnd>,
    publication: tokio::sync::Mutex<Option<Publication>>,
    _tasks: Tasks,
}

impl std::fmt::Debug for ServerParticipant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerParticipant")
            .field("room", &self.room.name)
            .field("identity", &self.info.identity)
            .field("sid", &self.info.sid)
            .finish()
    }
}

impl ServerParticipant {
    pub(crate) fn new(
        room: Arc<Room>,
        info: ParticipantInfo,
        end: Arc<LocalEnd>,
        tasks: Tasks,
    ) -> Self {
        Self { room, info, end, publication: tokio::sync::Mutex::new(None), _tasks: tasks }
    }

    /// Its identity.
    pub fn identity(&self) -> &str {
        &self.info.identity
    }

    /// Its participant sid (`PA_…`).
    pub fn sid(&self) -> &str {
        &self.info.sid
    }

    /// Publishes `pcm` (mono, `sample_rate` Hz; resampled to 48 kHz) on its microphone track,
    /// in real time: returns once the last 20 ms packet was sent. The track is published (and
    /// announced to the others) on the first call; calls are played one after the other.
    ///
    /// # Errors
    ///
    /// [`RtcError::Pcm`] for a zero sample rate, [`RtcError::Opus`] if encoding fails.
    pub async fn publish_pcm(&self, pcm: &[i16], sample_rate: u32) -> Result<(), RtcError> {
        if sample_rate == 0 {
            return Err(RtcError::Pcm("the sample rate is 0 Hz".into()));
        }
        let pcm = resample(pcm, sample_rate, SAMPLE_RATE);
        let mut publication = self.publication.lock().await;
        if publication.is_none() {
            let info = TrackInfo {
                sid: new_sid("TR_"),
                name: "microphone".into(),
                r#type: TrackType::Audio as i32,
                source: TrackSource::Microphone as i32,
                mime_type: "audio/opus".into(),
                ..Default::default()
            };
            let track_sid = info.sid.clone();
            let packets = self.room.publish(&self.info.sid, info);
            let ssrc = (now_ms() as u32) | 1;
            *publication = Some(Publication {
                track_sid,
                packetizer: Packetizer::new(ssrc)?,
                packets,
                next_send: None,
            });
        }
        let Some(publication) = publication.as_mut() else { return Ok(()) };
        publication.packetizer.resync();
        let now = tokio::time::Instant::now();
        let mut due = publication.next_send.filter(|due| *due > now).unwrap_or(now);
        for frame in pcm.chunks(FRAME_SAMPLES) {
            tokio::time::sleep_until(due).await;
            let packet = publication.packetizer.packet(frame)?;
            // No receiver yet (nobody subscribed) is not an error: the audio is simply unheard.
            let _ = publication.packets.send(packet);
            due += Duration::from_millis(20);
        }
        publication.next_send = Some(due);
        Ok(())
    }

    /// The sid (`TR_…`) of its published microphone track, if it has one.
    pub async fn track_sid(&self) -> Option<String> {
        self.publication.lock().await.as_ref().map(|publication| publication.track_sid.clone())
    }

    /// Unpublishes its microphone track (the others are told and stop receiving it); the next
    /// [`publish_pcm`](Self::publish_pcm) publishes a new one, as a client re-publishing its
    /// microphone does. Returns the sid of the track unpublished, if there was one.
    pub async fn unpublish(&self) -> Option<String> {
        let publication = self.publication.lock().await.take()?;
        self.room.unpublish(&self.info.sid, &publication.track_sid);
        Some(publication.track_sid)
    }

    /// The 48 kHz mono PCM captured so far from what `identity` published (empty if nothing).
    pub fn captured(&self, identity: &str) -> Vec<i16> {
        lock(&self.end.inbox).captured.get(identity).cloned().unwrap_or_default()
    }

    /// When each packet from `identity` arrived (before decoding), with the length of
    /// [`captured`](Self::captured) once it was decoded: the packet holding sample `i` is the
    /// first whose length is above `i`. For latency measurements.
    pub fn captured_arrivals(&self, identity: &str) -> Vec<(std::time::Instant, usize)> {
        lock(&self.end.inbox).arrivals.get(identity).cloned().unwrap_or_default()
    }

    /// Forgets the audio captured so far (and when it arrived).
    pub fn clear_captured(&self) {
        let mut inbox = lock(&self.end.inbox);
        inbox.captured.clear();
        inbox.arrivals.clear();
    }

    /// Waits until at least `duration` of audio from `identity` was captured; returns it.
    ///
    /// # Errors
    ///
    /// [`RtcError::Timeout`] after `timeout`.
    pub async fn wait_captured(
        &self,
        identity: &str,
        duration: Duration,
        timeout: Duration,
    ) -> Result<Vec<i16>, RtcError> {
        let wanted = (duration.as_secs_f64() * f64::from(SAMPLE_RATE)) as usize;
        self.wait(timeout, &format!("{duration:?} of audio from `{identity}`"), || {
            let pcm = self.captured(identity);
            (pcm.len() >= wanted).then_some(pcm)
        })
        .await
    }

    /// Sends `text` as a text stream on `topic` to everyone (or to `destinations`), with
    /// `attributes` in its header.
    pub fn send_text(
        &self,
        topic: &str,
        text: &str,
        attributes: HashMap<String, String>,
        destinations: &[&str],
    ) -> String {
        let stream_id = new_sid("ST_");
        for mut packet in text_stream::packets(&stream_id, topic, text, attributes, now_ms()) {
            packet.destination_identities = destinations.iter().map(|d| (*d).to_owned()).collect();
            self.room.relay(&self.info.sid, packet);
        }
        stream_id
    }

    /// Sends only the header of a text stream on `topic` (its chunks and trailer never come,
    /// as from a client that left mid-message); returns its id.
    pub fn send_unfinished_text(&self, topic: &str, text: &str) -> String {
        let stream_id = new_sid("ST_");
        let packets = text_stream::packets(&stream_id, topic, text, HashMap::new(), now_ms());
        if let Some(header) = packets.into_iter().next() {
            self.room.relay(&self.info.sid, header);
        }
        stream_id
    }

    /// Sends `text` on `lk.chat`, as a user typing in a LiveKit client does.
    pub fn send_chat(&self, text: &str) -> String {
        self.send_text("lk.chat", text, HashMap::new(), &[])
    }

    /// Sends a user data packet (`publish_data`) on `topic`.
    #[allow(deprecated)] // `kind`: deprecated, still set by clients
    pub fn publish_data(&self, payload: &[u8], topic: Option<&str>, reliable: bool) {
        let kind = if reliable { data_packet::Kind::Reliable } else { data_packet::Kind::Lossy };
        let packet = DataPacket {
            kind: kind as i32,
            value: Some(data_packet::Value::User(livekit_protocol::UserPacket {
                payload: payload.to_vec(),
                topic: topic.map(str::to_owned),
                ..Default::default()
            })),
            ..Default::default()
        };
        self.room.relay(&self.info.sid, packet);
    }

    /// The text streams received so far (complete ones), in order.
    pub fn text_streams(&self) -> Vec<TextStream> {
        lock(&self.end.inbox).streams.clone()
    }

    /// Waits for a complete text stream on `topic` that `matches`.
    ///
    /// # Errors
    ///
    /// [`RtcError::Timeout`] after `timeout`.
    pub async fn wait_text_stream(
        &self,
        topic: &str,
        matches: impl Fn(&TextStream) -> bool,
        timeout: Duration,
    ) -> Result<TextStream, RtcError> {
        self.wait(timeout, &format!("a text stream on `{topic}`"), || {
            lock(&self.end.inbox).streams.iter().find(|s| s.topic == topic && matches(s)).cloned()
        })
        .await
    }

    /// Every data packet received so far (text stream packets included), as relayed.
    pub fn data_packets(&self) -> Vec<DataPacket> {
        lock(&self.end.inbox).data.clone()
    }

    /// Every participant update it was sent, in order (joins, leaves, tracks, attributes).
    pub fn participant_updates(&self) -> Vec<ParticipantInfo> {
        lock(&self.end.inbox).updates.clone()
    }

    /// The successive values of `identity`'s attribute `key` (e.g. `lk.agent.state`), in the
    /// order the updates came, consecutive repeats collapsed.
    pub fn attribute_history(&self, identity: &str, key: &str) -> Vec<String> {
        let mut history: Vec<String> = Vec::new();
        for update in lock(&self.end.inbox).updates.iter().filter(|u| u.identity == identity) {
            if let Some(value) = update.attributes.get(key)
                && history.last() != Some(value)
            {
                history.push(value.clone());
            }
        }
        history
    }

    /// Waits until `identity`'s attribute `key` is `value`.
    ///
    /// # Errors
    ///
    /// [`RtcError::Timeout`] after `timeout`.
    pub async fn wait_attribute(
        &self,
        identity: &str,
        key: &str,
        value: &str,
        timeout: Duration,
    ) -> Result<(), RtcError> {
        self.wait(timeout, &format!("`{identity}`'s `{key}` = `{value}`"), || {
            self.room
                .participants()
                .iter()
                .any(|p| {
                    p.identity == identity && p.attributes.get(key).is_some_and(|v| v == value)
                })
                .then_some(())
        })
        .await
    }

    /// Waits until `identity` is in the room.
    ///
    /// # Errors
    ///
    /// [`RtcError::Timeout`] after `timeout`.
    pub async fn wait_participant(
        &self,
        identity: &str,
        timeout: Duration,
    ) -> Result<ParticipantInfo, RtcError> {
        self.wait(timeout, &format!("the participant `{identity}`"), || {
            self.room.participants().into_iter().find(|p| p.identity == identity)
        })
        .await
    }

    /// Sets its own attributes (an empty value deletes a key); everyone is told.
    pub fn set_attributes(&self, attributes: HashMap<String, String>) {
        self.room.update_participant(&self.info.sid, attributes, None, None);
    }

    async fn wait<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut ready: impl FnMut() -> Option<T>,
    ) -> Result<T, RtcError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.end.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(value) = ready() {
                return Ok(value);
            }
            // Room membership changes do not all notify this participant: poll as well.
            let step = tokio::time::sleep(Duration::from_millis(50));
            tokio::select! {
                () = changed => {}
                () = step => {}
                () = tokio::time::sleep_until(deadline) => {
                    return ready().ok_or_else(|| RtcError::Timeout { what: what.to_owned(), after: timeout });
                }
            }
        }
    }
}

impl Drop for ServerParticipant {
    fn drop(&mut self) {
        self.room.leave(&self.info.sid);
    }
}
