//! A room of the SFU: its participants (signal clients and server-side participants), the
//! tracks they publish, the routing of audio to every other participant and the relay of data.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use livekit_protocol::{
    DataPacket, MediaSectionsRequirement, ParticipantInfo, ParticipantPermission,
    ParticipantUpdate, SessionDescription, SignalResponse, TrackInfo, TrackUnpublishedResponse,
    data_packet, participant_info, signal_response::Message,
};
use prost::Message as _;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{Notify, broadcast, mpsc};
use tokio::task::{AbortHandle, JoinSet};
use webrtc::data_channel::{DataChannel, RTCDataChannelState};
use webrtc::media_stream::MediaStreamTrack;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::rtp_transceiver::RtpSender;

use super::error::RtcError;
use super::media::Depacketizer;
use super::peer::{OPUS_PAYLOAD_TYPE, Peer, opus_codec};
use super::text_stream::{Assembler, TextStream};

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A random-enough id with a LiveKit prefix (`PA_`, `TR_`, `RM_`).
pub(crate) fn new_sid(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{prefix}{:08x}{n:04x}", nanos ^ std::process::id())
}

/// Tasks owned by the service: aborted when it is dropped.
pub(crate) type Tasks = Arc<Mutex<JoinSet<()>>>;

pub(crate) fn spawn(tasks: &Tasks, task: impl Future<Output = ()> + Send + 'static) -> AbortHandle {
    let mut set = lock(tasks);
    while set.try_join_next().is_some() {}
    set.spawn(task)
}

/// The signal client's side of a participant: its subscriber peer connection (the server
/// offers) and signal channel.
pub(crate) struct RemoteEnd {
    pub(crate) signal: mpsc::UnboundedSender<SignalResponse>,
    pub(crate) subscriber: tokio::sync::Mutex<Peer>,
    /// Single peer connection (`/rtc/v1`): the client always offers; the server binds its
    /// tracks in its answers and asks for offers with `MediaSectionsRequirement`.
    pub(crate) single_pc: bool,
    /// The channels data goes to the client on: the server's own on the subscriber
    /// connection, or (single peer connection) the client's, once they arrive.
    pub(crate) reliable: Mutex<Option<Arc<dyn DataChannel>>>,
    pub(crate) lossy: Mutex<Option<Arc<dyn DataChannel>>>,
    /// Told when a channel above arrives.
    pub(crate) channel_ready: Notify,
    /// The data to send to the client, in order (one task sends it all: a text stream's
    /// header, chunks and trailer must not overtake each other).
    outbox: std::sync::OnceLock<mpsc::UnboundedSender<DataPacket>>,
    negotiation: Mutex<Negotiation>,
    senders: Mutex<HashMap<String, Arc<dyn RtpSender>>>,
    forwarders: Mutex<Vec<AbortHandle>>,
    tasks: Tasks,
    /// What went wrong in the background (a failed renegotiation), for the test to read.
    pub(crate) errors: Mutex<Vec<String>>,
}

#[derive(Default)]
struct Negotiation {
    offering: bool,
    again: bool,
}

impl RemoteEnd {
    pub(crate) fn new(
        signal: mpsc::UnboundedSender<SignalResponse>,
        subscriber: Peer,
        channels: Option<(Arc<dyn DataChannel>, Arc<dyn DataChannel>)>,
        tasks: Tasks,
    ) -> Self {
        let single_pc = channels.is_none();
        let (reliable, lossy) = channels.map_or((None, None), |(r, l)| (Some(r), Some(l)));
        Self {
            signal,
            subscriber: tokio::sync::Mutex::new(subscriber),
            single_pc,
            reliable: Mutex::new(reliable),
            lossy: Mutex::new(lossy),
            channel_ready: Notify::new(),
            outbox: std::sync::OnceLock::new(),
            negotiation: Mutex::default(),
            senders: Mutex::default(),
            forwarders: Mutex::default(),
            tasks,
            errors: Mutex::default(),
        }
    }

    /// Sends a subscriber offer, or queues one when an offer is waiting for its answer.
    pub(crate) async fn negotiate(&self) {
        if self.single_pc {
            // The client offers; this asks it to (with room for one more track).
            let requirement = MediaSectionsRequirement { num_audios: 1, num_videos: 0 };
            let _ = self.signal.send(SignalResponse {
                message: Some(Message::MediaSectionsRequirement(requirement)),
            });
            return;
        }
        {
            let mut negotiation = lock(&self.negotiation);
            if negotiation.offering {
                negotiation.again = true;
                return;
            }
            negotiation.offering = true;
        }
        let offer = async {
            let mut peer = self.subscriber.lock().await;
            let offer =
                peer.pc.create_offer(None).await.map_err(|e| RtcError::WebRtc(e.to_string()))?;
            peer.set_local_complete(offer).await
        }
        .await;
        match offer {
            Ok(offer) => {
                let _ = self.signal.send(SignalResponse {
                    message: Some(Message::Offer(SessionDescription {
                        r#type: "offer".into(),
                        sdp: offer.sdp,
                        ..Default::default()
                    })),
                });
            }
            Err(error) => {
                lock(&self.errors).push(format!("subscriber offer: {error}"));
                lock(&self.negotiation).offering = false;
            }
        }
    }

    /// The client answered the pending offer; true when another offer is due.
    pub(crate) fn answered(&self) -> bool {
        let mut negotiation = lock(&self.negotiation);
        negotiation.offering = false;
        std::mem::take(&mut negotiation.again)
    }

    /// Queues `packet` for the client. Packets are sent one after the other, in the order
    /// they were queued; those queued before the client's channels open (single peer
    /// connection) wait for them, as a LiveKit server delivers to a joined participant.
    fn send_data(self: &Arc<Self>, packet: &DataPacket) {
        let outbox = self.outbox.get_or_init(|| {
            let (sender, packets) = mpsc::unbounded_channel();
            // The task holds the end weakly: it ends when the end is dropped.
            spawn(&self.tasks, send_in_order(Arc::downgrade(self), packets));
            sender
        });
        let _ = outbox.send(packet.clone());
    }

    // `kind` is deprecated in the protocol, but clients still set it: it picks the channel.
    #[allow(deprecated)]
    fn channel_for(&self, packet: &DataPacket) -> Option<Arc<dyn DataChannel>> {
        if packet.kind == data_packet::Kind::Lossy as i32 {
            lock(&self.lossy).clone().or_else(|| lock(&self.reliable).clone())
        } else {
            lock(&self.reliable).clone()
        }
    }

    pub(crate) async fn close(&self) {
        for forwarder in lock(&self.forwarders).drain(..) {
            forwarder.abort();
        }
        let _ = self.subscriber.lock().await.pc.close().await;
    }
}

/// Sends the packets queued for `end`, in order, each once its channel exists.
async fn send_in_order(
    end: std::sync::Weak<RemoteEnd>,
    mut packets: mpsc::UnboundedReceiver<DataPacket>,
) {
    while let Some(packet) = packets.recv().await {
        let channel = loop {
            let Some(end) = end.upgrade() else { return };
            if let Some(channel) = end.channel_for(&packet)
                && matches!(channel.ready_state().await, Ok(RTCDataChannelState::Open))
            {
                break channel;
            }
            // Checked again every 10 ms (sooner when a channel arrives), so a dropped end
            // ends the task.
            let ready = end.channel_ready.notified();
            let _ = tokio::time::timeout(std::time::Duration::from_millis(10), ready).await;
        };
        let sent = channel.send(BytesMut::from(packet.encode_to_vec().as_slice())).await;
        if let (Err(error), Some(end)) = (sent, end.upgrade()) {
            lock(&end.errors).push(format!("data to the client: {error}"));
        }
    }
}

/// What a server-side participant received.
#[derive(Default)]
pub(crate) struct Inbox {
    pub(crate) data: Vec<DataPacket>,
    pub(crate) streams: Vec<TextStream>,
    pub(crate) assembler: Assembler,
    /// 48 kHz mono PCM per publisher identity.
    pub(crate) captured: HashMap<String, Vec<i16>>,
    /// Per publisher identity: when each packet arrived, and the length of `captured` after it.
    pub(crate) arrivals: HashMap<String, Vec<(std::time::Instant, usize)>>,
    /// Every `ParticipantUpdate` entry it was sent, in order.
    pub(crate) updates: Vec<ParticipantInfo>,
}

/// A server-side participant's end: what it received.
#[derive(Default)]
pub(crate) struct LocalEnd {
    pub(crate) inbox: Mutex<Inbox>,
    pub(crate) changed: Notify,
}

#[derive(Clone)]
pub(crate) enum End {
    Remote(Arc<RemoteEnd>),
    Local(Arc<LocalEnd>),
}

struct Member {
    info: ParticipantInfo,
    end: End,
}

struct Published {
    info: TrackInfo,
    publisher_sid: String,
    publisher_identity: String,
    packets: broadcast::Sender<rtp::Packet>,
}

/// A room.
pub(crate) struct Room {
    pub(crate) name: String,
    pub(crate) sid: String,
    created_at: i64,
    state: Mutex<Vec<Member>>,
    tracks: Mutex<Vec<Published>>,
    /// (subscriber sid, track sid) pairs already routed.
    subscriptions: Mutex<std::collections::HashSet<(String, String)>>,
    tasks: Tasks,
}

impl Room {
    pub(crate) fn new(name: &str, tasks: Tasks) -> Self {
        Self {
            name: name.to_owned(),
            sid: new_sid("RM_"),
            created_at: now_ms() / 1000,
            state: Mutex::default(),
            tracks: Mutex::default(),
            subscriptions: Mutex::default(),
            tasks,
        }
    }

    pub(crate) fn info(&self) -> livekit_protocol::Room {
        livekit_protocol::Room {
            sid: self.sid.clone(),
            name: self.name.clone(),
            creation_time: self.created_at,
            creation_time_ms: self.created_at * 1000,
            empty_timeout: 300,
            departure_timeout: 20,
            num_participants: lock(&self.state).len() as u32,
            ..Default::default()
        }
    }

    /// Adds a participant; returns its info and the others'. Tell the others.
    pub(crate) fn join(
        &self,
        identity: &str,
        name: &str,
        attributes: HashMap<String, String>,
        kind: participant_info::Kind,
        end: End,
    ) -> Result<(ParticipantInfo, Vec<ParticipantInfo>), RtcError> {
        let info = ParticipantInfo {
            sid: new_sid("PA_"),
            identity: identity.to_owned(),
            name: name.to_owned(),
            state: participant_info::State::Active as i32,
            joined_at: now_ms() / 1000,
            joined_at_ms: now_ms(),
            version: 1,
            kind: kind as i32,
            attributes,
            permission: Some(ParticipantPermission {
                can_subscribe: true,
                can_publish: true,
                can_publish_data: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut members = lock(&self.state);
        if members.iter().any(|member| member.info.identity == identity) {
            return Err(RtcError::DuplicateIdentity {
                room: self.name.clone(),
                identity: identity.to_owned(),
            });
        }
        let others: Vec<ParticipantInfo> =
            members.iter().map(|member| member.info.clone()).collect();
        for member in members.iter() {
            deliver_update(&member.end, std::slice::from_ref(&info));
        }
        members.push(Member { info: info.clone(), end });
        Ok((info, others))
    }

    /// Removes a participant and its tracks; tells the others.
    pub(crate) fn leave(&self, sid: &str) {
        let removed_tracks: Vec<Published> = {
            let mut tracks = lock(&self.tracks);
            let (gone, kept) = tracks.drain(..).partition(|track| track.publisher_sid == sid);
            *tracks = kept;
            gone
        };
        let mut members = lock(&self.state);
        let Some(index) = members.iter().position(|member| member.info.sid == sid) else { return };
        let mut member = members.remove(index);
        member.info.state = participant_info::State::Disconnected as i32;
        // It left (a real server says so too): clients tell a leave from a dropped connection.
        member.info.disconnect_reason = livekit_protocol::DisconnectReason::ClientInitiated as i32;
        member.info.tracks.clear();
        member.info.version += 1;
        for other in members.iter() {
            deliver_update(&other.end, std::slice::from_ref(&member.info));
            if let End::Remote(remote) = &other.end
                && !removed_tracks.is_empty()
            {
                let track_sids =
                    removed_tracks.iter().map(|track| track.info.sid.clone()).collect();
                self.withdraw(remote, track_sids);
            }
        }
        // Dropping the tracks' senders ends their forwarders.
        drop(removed_tracks);
    }

    /// Removes `track_sids` from a signal client's subscriber connection and renegotiates.
    fn withdraw(&self, remote: &Arc<RemoteEnd>, track_sids: Vec<String>) {
        let remote = Arc::clone(remote);
        spawn(&self.tasks, async move {
            let senders: Vec<_> =
                track_sids.iter().filter_map(|sid| lock(&remote.senders).remove(sid)).collect();
            {
                let peer = remote.subscriber.lock().await;
                for sender in &senders {
                    let _ = peer.pc.remove_track(sender).await;
                }
            }
            remote.negotiate().await;
        });
    }

    /// Unpublishes a track: the others are told (`TrackUnpublished` and a participant update)
    /// and stop receiving it.
    pub(crate) fn unpublish(&self, publisher_sid: &str, track_sid: &str) {
        let removed: Vec<Published> = {
            let mut tracks = lock(&self.tracks);
            let (gone, kept) = tracks.drain(..).partition(|track| track.info.sid == track_sid);
            *tracks = kept;
            gone
        };
        if removed.is_empty() {
            return;
        }
        lock(&self.subscriptions).retain(|(_, track)| track != track_sid);
        let mut members = lock(&self.state);
        let Some(publisher) = members.iter_mut().find(|member| member.info.sid == publisher_sid)
        else {
            return;
        };
        publisher.info.tracks.retain(|track| track.sid != track_sid);
        publisher.info.version += 1;
        let update = publisher.info.clone();
        for other in members.iter().filter(|member| member.info.sid != publisher_sid) {
            deliver_update(&other.end, std::slice::from_ref(&update));
            if let End::Remote(remote) = &other.end {
                let unpublished = TrackUnpublishedResponse { track_sid: track_sid.to_owned() };
                let _ = remote
                    .signal
                    .send(SignalResponse { message: Some(Message::TrackUnpublished(unpublished)) });
                self.withdraw(remote, vec![track_sid.to_owned()]);
            }
        }
    }

    /// The participants, in join order.
    pub(crate) fn participants(&self) -> Vec<ParticipantInfo> {
        lock(&self.state).iter().map(|member| member.info.clone()).collect()
    }

    /// Publishes a track of `publisher_sid`: announced to the others, then routed to them.
    pub(crate) fn publish(
        &self,
        publisher_sid: &str,
        info: TrackInfo,
    ) -> broadcast::Sender<rtp::Packet> {
        let (packets, _) = broadcast::channel(512);
        let mut members = lock(&self.state);
        let Some(publisher) = members.iter_mut().find(|member| member.info.sid == publisher_sid)
        else {
            return packets; // it left meanwhile: nobody will receive these packets
        };
        publisher.info.tracks.push(info.clone());
        publisher.info.is_publisher = true;
        publisher.info.version += 1;
        let update = publisher.info.clone();
        let published = Published {
            info,
            publisher_sid: publisher_sid.to_owned(),
            publisher_identity: update.identity.clone(),
            packets: packets.clone(),
        };
        for member in members.iter().filter(|member| member.info.sid != publisher_sid) {
            deliver_update(&member.end, std::slice::from_ref(&update));
            self.subscribe(&member.info.sid, &member.end, &published);
        }
        lock(&self.tracks).push(published);
        packets
    }

    /// Routes every track published so far to the participant `sid` (a newcomer). For a
    /// signal client this adds the tracks to its subscriber connection before its first offer.
    pub(crate) async fn subscribe_existing(&self, subscriber_sid: &str, end: &End) {
        let tracks: Vec<(TrackInfo, String, String, broadcast::Sender<rtp::Packet>)> =
            lock(&self.tracks)
                .iter()
                .map(|t| {
                    (
                        t.info.clone(),
                        t.publisher_sid.clone(),
                        t.publisher_identity.clone(),
                        t.packets.clone(),
                    )
                })
                .collect();
        for (info, publisher_sid, publisher_identity, packets) in tracks {
            let published = Published { info, publisher_sid, publisher_identity, packets };
            match end {
                End::Remote(remote) => {
                    if self.claim(subscriber_sid, &published.info.sid) {
                        add_forwarder(&self.tasks, remote, &published).await;
                    }
                }
                End::Local(_) => self.subscribe(subscriber_sid, end, &published),
            }
        }
    }

    /// Records the subscription of `subscriber_sid` to `track_sid`; false if it exists (a
    /// track published while a newcomer's existing tracks were being routed is seen twice).
    fn claim(&self, subscriber_sid: &str, track_sid: &str) -> bool {
        lock(&self.subscriptions).insert((subscriber_sid.to_owned(), track_sid.to_owned()))
    }

    fn subscribe(&self, subscriber_sid: &str, end: &End, published: &Published) {
        if !self.claim(subscriber_sid, &published.info.sid) {
            return;
        }
        match end {
            End::Remote(remote) => {
                let remote = Arc::clone(remote);
                let published = Published {
                    info: published.info.clone(),
                    publisher_sid: published.publisher_sid.clone(),
                    publisher_identity: published.publisher_identity.clone(),
                    packets: published.packets.clone(),
                };
                let tasks = Arc::clone(&self.tasks);
                spawn(&self.tasks, async move {
                    add_forwarder(&tasks, &remote, &published).await;
                    remote.negotiate().await;
                });
            }
            End::Local(local) => {
                let local = Arc::clone(local);
                let mut packets = published.packets.subscribe();
                let publisher = published.publisher_identity.clone();
                spawn(&self.tasks, async move {
                    let Ok(mut depacketizer) = Depacketizer::new() else { return };
                    loop {
                        match packets.recv().await {
                            Ok(packet) => {
                                let mut pcm = Vec::new();
                                let arrived = std::time::Instant::now();
                                if depacketizer.decode(&packet, &mut pcm).is_ok() {
                                    let mut inbox = lock(&local.inbox);
                                    let captured =
                                        inbox.captured.entry(publisher.clone()).or_default();
                                    captured.extend(pcm);
                                    let end = captured.len();
                                    inbox
                                        .arrivals
                                        .entry(publisher.clone())
                                        .or_default()
                                        .push((arrived, end));
                                    drop(inbox);
                                    local.changed.notify_waiters();
                                }
                            }
                            Err(broadcast::error::RecvError::Lagged(_)) => {}
                            Err(broadcast::error::RecvError::Closed) => break,
                        }
                    }
                });
            }
        }
    }

    /// Relays a data packet from `sender_sid` to the others (or to its destinations),
    /// stamped with the sender's identity.
    // The user packet's own identity fields are deprecated but older clients read them.
    #[allow(deprecated)]
    pub(crate) fn relay(&self, sender_sid: &str, mut packet: DataPacket) {
        let members = lock(&self.state);
        let Some(sender) = members.iter().find(|member| member.info.sid == sender_sid) else {
            return;
        };
        // As LiveKit's SFU: the sender's identity is asserted, except on the header of a
        // text stream an agent sends on behalf of another participant (a user's
        // transcription), which keeps that identity and is marked as generated.
        let on_behalf = sender.info.kind == participant_info::Kind::Agent as i32
            && !packet.participant_identity.is_empty()
            && packet.participant_identity != sender.info.identity;
        let text_header = match packet.value.as_mut() {
            Some(data_packet::Value::StreamHeader(header)) => {
                match header.content_header.as_mut() {
                    Some(livekit_protocol::data_stream::header::ContentHeader::TextHeader(
                        text,
                    )) => Some(text),
                    _ => None,
                }
            }
            _ => None,
        };
        match text_header {
            Some(text) if on_behalf => text.generated = true,
            _ => packet.participant_identity = sender.info.identity.clone(),
        }
        packet.participant_sid = sender.info.sid.clone();
        if let Some(data_packet::Value::User(user)) = packet.value.as_mut() {
            user.participant_identity = sender.info.identity.clone();
            user.participant_sid = sender.info.sid.clone();
        }
        let destinations = packet.destination_identities.clone();
        for member in members.iter().filter(|member| member.info.sid != sender_sid) {
            if !destinations.is_empty() && !destinations.contains(&member.info.identity) {
                continue;
            }
            match &member.end {
                End::Remote(remote) => remote.send_data(&packet),
                End::Local(local) => {
                    let mut inbox = lock(&local.inbox);
                    if let Some(stream) = inbox.assembler.push(&packet) {
                        inbox.streams.push(stream);
                    }
                    inbox.data.push(packet.clone());
                    drop(inbox);
                    local.changed.notify_waiters();
                }
            }
        }
    }

    /// Merges `attributes` (an empty value deletes the key) and tells everyone, the
    /// participant included.
    pub(crate) fn update_participant(
        &self,
        sid: &str,
        attributes: HashMap<String, String>,
        name: Option<String>,
        metadata: Option<String>,
    ) {
        let mut members = lock(&self.state);
        let Some(member) = members.iter_mut().find(|member| member.info.sid == sid) else { return };
        for (key, value) in attributes {
            if value.is_empty() {
                member.info.attributes.remove(&key);
            } else {
                member.info.attributes.insert(key, value);
            }
        }
        if let Some(name) = name {
            member.info.name = name;
        }
        if let Some(metadata) = metadata {
            member.info.metadata = metadata;
        }
        member.info.version += 1;
        let update = member.info.clone();
        for member in members.iter() {
            deliver_update(&member.end, std::slice::from_ref(&update));
        }
    }

    /// Marks a track muted or unmuted; tells the others.
    pub(crate) fn set_muted(&self, publisher_sid: &str, track_sid: &str, muted: bool) {
        let mut members = lock(&self.state);
        let Some(member) = members.iter_mut().find(|member| member.info.sid == publisher_sid)
        else {
            return;
        };
        let Some(track) = member.info.tracks.iter_mut().find(|track| track.sid == track_sid) else {
            return;
        };
        track.muted = muted;
        member.info.version += 1;
        let update = member.info.clone();
        for member in members.iter().filter(|member| member.info.sid != publisher_sid) {
            deliver_update(&member.end, std::slice::from_ref(&update));
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.state).is_empty()
    }
}

fn deliver_update(end: &End, participants: &[ParticipantInfo]) {
    match end {
        End::Remote(remote) => {
            let _ = remote.signal.send(SignalResponse {
                message: Some(Message::Update(ParticipantUpdate {
                    participants: participants.to_vec(),
                })),
            });
        }
        End::Local(local) => {
            lock(&local.inbox).updates.extend_from_slice(participants);
            local.changed.notify_waiters();
        }
    }
}

/// Adds `published` to a signal client's subscriber connection and forwards its packets.
async fn add_forwarder(tasks: &Tasks, remote: &Arc<RemoteEnd>, published: &Published) {
    let ssrc = rand_ssrc();
    let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        format!("{}|{}", published.publisher_sid, published.info.sid),
        published.info.sid.clone(),
        published.info.name.clone(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: opus_codec(),
            ..Default::default()
        }],
    )));
    let sender = {
        let peer = remote.subscriber.lock().await;
        peer.pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>).await
    };
    let sender = match sender {
        Ok(sender) => sender,
        Err(error) => {
            lock(&remote.errors).push(format!("adding track {}: {error}", published.info.sid));
            return;
        }
    };
    lock(&remote.senders).insert(published.info.sid.clone(), sender);
    let mut packets = published.packets.subscribe();
    let forwarder = spawn(tasks, async move {
        loop {
            match packets.recv().await {
                Ok(mut packet) => {
                    // The publisher connection's header extensions (sdes:mid among them) would
                    // route the packet to a mid the subscriber does not have: strip them.
                    packet.header.ssrc = ssrc;
                    packet.header.payload_type = OPUS_PAYLOAD_TYPE;
                    packet.header.extension = false;
                    packet.header.extension_profile = 0;
                    packet.header.extensions.clear();
                    // Before the answer binds the track, writes fail: those packets are dropped,
                    // as an SFU drops packets for a subscriber not yet connected.
                    let _ = track.write_rtp(packet).await;
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    lock(&remote.forwarders).push(forwarder);
}

fn rand_ssrc() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_i64(now_ms());
    (hasher.finish() as u32) | 1
}
