//! One signal client's session (two peer connections, protocol 18): the `JoinResponse`, the
//! subscriber offers, the publisher answers, trickle, tracks, data, attributes, ping.

use std::collections::HashMap;
use std::sync::Arc;

use futures::{SinkExt as _, StreamExt as _};
use livekit_protocol::{
    DataPacket, DisconnectReason, JoinResponse, LeaveRequest, ParticipantInfo, Pong,
    RequestResponse, SessionDescription, SignalRequest, SignalResponse, SignalTarget, TrackInfo,
    TrackPublishedResponse, TrackSource, TrackType, leave_request, request_response,
    signal_request, signal_response::Message,
};
use prost::Message as _;
use rtc::data_channel::RTCDataChannelInit;
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{RTCIceCandidateInit, RTCSessionDescription};

use super::RtcError;
use super::peer::{Peer, PeerEvent};
use super::room::{End, RemoteEnd, Room, lock, new_sid, now_ms, spawn};
use super::service::{Admission, RtcFault, RtcService};

fn response(message: Message) -> SignalResponse {
    SignalResponse { message: Some(message) }
}

pub(crate) async fn run(
    service: RtcService,
    admission: Admission,
    socket: WebSocketStream<TcpStream>,
) {
    let (mut sink, mut stream) = socket.split();
    if admission.fault == Some(RtcFault::AbortingJoinResponse) {
        // No room and `ping_interval: 0`: what makes livekit-ffi panic and abort its process.
        let join = JoinResponse {
            participant: Some(ParticipantInfo {
                sid: new_sid("PA_"),
                identity: admission.identity.clone(),
                ..Default::default()
            }),
            ping_interval: 0,
            ping_timeout: 0,
            subscriber_primary: true,
            ..Default::default()
        };
        let _ = sink.send(WsMessage::binary(response(Message::Join(join)).encode_to_vec())).await;
        while let Some(Ok(_)) = stream.next().await {}
        return;
    }
    let errors = |error: RtcError| {
        lock(&service.inner.errors).push(format!("{}: {error}", admission.identity))
    };
    let session = match Session::start(&service, &admission).await {
        Ok(session) => session,
        Err(error) => {
            errors(error);
            return; // dropping the socket tells the client
        }
    };
    let Session { room, sid, remote, mut publisher, mut outgoing, mut publisher_events, join } =
        session;
    let kill = Arc::new(Notify::new());
    lock(&service.inner.sessions).insert(admission.identity.clone(), Arc::clone(&kill));
    let (drop_after, leave) = match admission.fault {
        Some(RtcFault::DropSignalAfter(after)) => (Some(after), false),
        Some(RtcFault::DisconnectAfter(after)) => (Some(after), true),
        _ => (None, false),
    };
    let drop_timer = async {
        match drop_after {
            Some(after) => tokio::time::sleep(after).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(drop_timer);

    let mut pending_candidates: HashMap<i32, Vec<RTCIceCandidateInit>> = HashMap::new();
    let mut pending_tracks: Vec<(String, TrackInfo)> = Vec::new();
    let sent_join =
        sink.send(WsMessage::binary(response(Message::Join(join)).encode_to_vec())).await.is_ok();
    if sent_join && !remote.single_pc {
        // The first subscriber offer: the data channels and the tracks published so far.
        let negotiator = Arc::clone(&remote);
        spawn(&service.inner.tasks, async move { negotiator.negotiate().await });
    }
    if let Some(offer) =
        admission.join_request.as_ref().and_then(|join| join.publisher_offer.clone())
        && sent_join
    {
        // Single peer connection: the join request's offer, answered with the tracks the
        // client should receive bound to its receive-only sections.
        match answer_publisher(&mut publisher, offer).await {
            Ok(answer) => {
                let _ = remote.signal.send(response(Message::Answer(answer)));
            }
            Err(error) => errors(error),
        }
    }
    loop {
        if !sent_join {
            break; // the client is gone before its JoinResponse
        }
        tokio::select! {
            () = &mut drop_timer => {
                if leave {
                    let request = LeaveRequest {
                        can_reconnect: false,
                        reason: DisconnectReason::ParticipantRemoved as i32,
                        action: leave_request::Action::Disconnect as i32,
                        ..Default::default()
                    };
                    let _ = sink.send(WsMessage::binary(response(Message::Leave(request)).encode_to_vec())).await;
                    let _ = sink.close().await;
                }
                break;
            }
            () = kill.notified() => break,
            out = outgoing.recv() => {
                let Some(out) = out else { break };
                if sink.send(WsMessage::binary(out.encode_to_vec())).await.is_err() {
                    break;
                }
            }
            event = publisher_events.recv() => match event {
                Some(PeerEvent::Track(track)) => {
                    on_track(&service, &room, &sid, &mut pending_tracks, track).await;
                }
                Some(PeerEvent::DataChannel(channel)) => {
                    if remote.single_pc {
                        // The client's channels carry the data to it as well.
                        match channel.label().await.as_deref() {
                            Ok("_reliable") => *lock(&remote.reliable) = Some(Arc::clone(&channel)),
                            Ok("_lossy") => *lock(&remote.lossy) = Some(Arc::clone(&channel)),
                            _ => {}
                        }
                        remote.channel_ready.notify_waiters();
                    }
                    let room = Arc::clone(&room);
                    let sid = sid.clone();
                    spawn(&service.inner.tasks, relay_channel(room, sid, channel));
                }
                None => {}
            },
            incoming = stream.next() => {
                let request = match incoming {
                    Some(Ok(WsMessage::Binary(bytes))) => match SignalRequest::decode(bytes.as_ref()) {
                        Ok(request) => request,
                        Err(error) => {
                            errors(RtcError::WebRtc(format!("undecodable SignalRequest: {error}")));
                            continue;
                        }
                    },
                    Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                let Some(message) = request.message else { continue };
                match message {
                    signal_request::Message::Leave(_) => break,
                    signal_request::Message::PingReq(ping) => {
                        let pong = Pong { last_ping_timestamp: ping.timestamp, timestamp: now_ms() };
                        let _ = remote.signal.send(response(Message::PongResp(pong)));
                    }
                    signal_request::Message::Ping(timestamp) => {
                        let _ = remote.signal.send(response(Message::Pong(timestamp)));
                    }
                    signal_request::Message::Trickle(trickle) => {
                        match serde_json::from_str::<RTCIceCandidateInit>(&trickle.candidate_init) {
                            Ok(candidate) => {
                                let target = trickle.target;
                                let ready = if target == SignalTarget::Subscriber as i32 {
                                    remote.subscriber.lock().await.pc.remote_description().await.is_some()
                                } else {
                                    publisher.pc.remote_description().await.is_some()
                                };
                                if ready {
                                    add_candidate(&remote, &publisher, target, candidate).await;
                                } else {
                                    // Candidates trickled before the description was set are
                                    // added once it is (dropping them costs seconds).
                                    pending_candidates.entry(target).or_default().push(candidate);
                                }
                            }
                            Err(error) => errors(RtcError::WebRtc(format!("bad candidate_init: {error}"))),
                        }
                    }
                    signal_request::Message::Answer(answer) => {
                        let result = async {
                            let description = RTCSessionDescription::answer(answer.sdp)
                                .map_err(|e| RtcError::WebRtc(e.to_string()))?;
                            remote.subscriber.lock().await.pc.set_remote_description(description).await
                                .map_err(|e| RtcError::WebRtc(e.to_string()))
                        }.await;
                        if let Err(error) = result {
                            errors(error);
                        }
                        for candidate in pending_candidates.remove(&(SignalTarget::Subscriber as i32)).unwrap_or_default() {
                            add_candidate(&remote, &publisher, SignalTarget::Subscriber as i32, candidate).await;
                        }
                        if remote.answered() {
                            let negotiator = Arc::clone(&remote);
                            spawn(&service.inner.tasks, async move { negotiator.negotiate().await });
                        }
                    }
                    signal_request::Message::Offer(_) if admission.fault == Some(RtcFault::WithholdPublisherAnswer) => {}
                    signal_request::Message::Offer(offer) => {
                        match answer_publisher(&mut publisher, offer).await {
                            Ok(answer) => {
                                let _ = remote.signal.send(response(Message::Answer(answer)));
                            }
                            Err(error) => errors(error),
                        }
                        for candidate in pending_candidates.remove(&(SignalTarget::Publisher as i32)).unwrap_or_default() {
                            add_candidate(&remote, &publisher, SignalTarget::Publisher as i32, candidate).await;
                        }
                    }
                    signal_request::Message::AddTrack(add) => {
                        let info = TrackInfo {
                            sid: new_sid("TR_"),
                            name: add.name.clone(),
                            r#type: TrackType::Audio as i32,
                            source: if add.source == 0 { TrackSource::Microphone as i32 } else { add.source },
                            muted: add.muted,
                            disable_red: add.disable_red,
                            mime_type: "audio/opus".into(),
                            stream: add.stream.clone(),
                            audio_features: add.audio_features.clone(),
                            ..Default::default()
                        };
                        pending_tracks.push((add.cid.clone(), info.clone()));
                        let published = TrackPublishedResponse { cid: add.cid, track: Some(info) };
                        let _ = remote.signal.send(response(Message::TrackPublished(published)));
                    }
                    signal_request::Message::Mute(mute) => room.set_muted(&sid, &mute.sid, mute.muted),
                    signal_request::Message::UpdateMetadata(update) => {
                        let name = (!update.name.is_empty()).then_some(update.name);
                        let metadata = (!update.metadata.is_empty()).then_some(update.metadata);
                        room.update_participant(&sid, update.attributes, name, metadata);
                        if update.request_id != 0 {
                            let ok = RequestResponse {
                                request_id: update.request_id,
                                reason: request_response::Reason::Ok as i32,
                                ..Default::default()
                            };
                            let _ = remote.signal.send(response(Message::RequestResponse(ok)));
                        }
                    }
                    // Everything is auto-subscribed; other requests change nothing here.
                    _ => {}
                }
            }
        }
    }
    {
        let mut sessions = lock(&service.inner.sessions);
        // A newer session of the same identity may have replaced this one's kill switch.
        if sessions.get(&admission.identity).is_some_and(|current| Arc::ptr_eq(current, &kill)) {
            sessions.remove(&admission.identity);
        }
    }
    room.leave(&sid);
    remote.close().await;
    let _ = publisher.pc.close().await;
}

struct Session {
    room: Arc<Room>,
    sid: String,
    remote: Arc<RemoteEnd>,
    publisher: Peer,
    outgoing: mpsc::UnboundedReceiver<SignalResponse>,
    publisher_events: mpsc::UnboundedReceiver<PeerEvent>,
    join: JoinResponse,
}

impl Session {
    async fn start(service: &RtcService, admission: &Admission) -> Result<Self, RtcError> {
        let udp_addr = service.inner.config.udp_addr;
        let webrtc = |e: webrtc::error::Error| RtcError::WebRtc(e.to_string());
        let (signal, outgoing) = mpsc::unbounded_channel();
        let (remote, publisher, publisher_events) = if admission.join_request.is_some() {
            // One connection both ways; its data channels are the client's.
            let (peer, events) = Peer::new(udp_addr).await?;
            (
                Arc::new(RemoteEnd::new(
                    signal,
                    peer.clone(),
                    None,
                    Arc::clone(&service.inner.tasks),
                )),
                peer,
                events,
            )
        } else {
            let (subscriber, subscriber_events) = Peer::new(udp_addr).await?;
            let (publisher, publisher_events) = Peer::new(udp_addr).await?;
            let channel = |ordered, max_retransmits| RTCDataChannelInit {
                ordered,
                max_retransmits,
                ..Default::default()
            };
            let reliable = subscriber
                .pc
                .create_data_channel("_reliable", Some(channel(true, None)))
                .await
                .map_err(webrtc)?;
            let lossy = subscriber
                .pc
                .create_data_channel("_lossy", Some(channel(false, Some(0))))
                .await
                .map_err(webrtc)?;
            // The subscriber connection's own events are not needed; keep the channel drained.
            spawn(&service.inner.tasks, drain(subscriber_events));
            (
                Arc::new(RemoteEnd::new(
                    signal,
                    subscriber,
                    Some((reliable, lossy)),
                    Arc::clone(&service.inner.tasks),
                )),
                publisher,
                publisher_events,
            )
        };
        let room = service.room(&admission.room);
        replace_session(service, &room, &admission.identity).await;
        let (participant, others) = room.join(
            &admission.identity,
            &admission.name,
            admission.attributes.clone(),
            admission.kind,
            End::Remote(Arc::clone(&remote)),
        )?;
        room.subscribe_existing(&participant.sid, &End::Remote(Arc::clone(&remote))).await;
        let config = &service.inner.config;
        let join = JoinResponse {
            room: Some(room.info()),
            participant: Some(participant.clone()),
            other_participants: others,
            server_version: "1.9.0".into(),
            subscriber_primary: !remote.single_pc,
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            ..Default::default()
        };
        Ok(Self { room, sid: participant.sid, remote, publisher, outgoing, publisher_events, join })
    }
}

/// A client that joins again with an identity still in the room replaces its old session,
/// as LiveKit does (the old one is dropped).
async fn replace_session(service: &RtcService, room: &Room, identity: &str) {
    let Some(old) = lock(&service.inner.sessions).get(identity).cloned() else { return };
    old.notify_one();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while room.participants().iter().any(|p| p.identity == identity)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn drain(mut events: mpsc::UnboundedReceiver<PeerEvent>) {
    while events.recv().await.is_some() {}
}

async fn add_candidate(
    remote: &RemoteEnd,
    publisher: &Peer,
    target: i32,
    candidate: RTCIceCandidateInit,
) {
    let result = if target == SignalTarget::Subscriber as i32 {
        remote.subscriber.lock().await.pc.add_ice_candidate(candidate).await
    } else {
        publisher.pc.add_ice_candidate(candidate).await
    };
    if let Err(error) = result {
        lock(&remote.errors).push(format!("adding a candidate: {error}"));
    }
}

async fn answer_publisher(
    publisher: &mut Peer,
    offer: SessionDescription,
) -> Result<SessionDescription, RtcError> {
    let webrtc = |e: webrtc::error::Error| RtcError::WebRtc(e.to_string());
    let description = RTCSessionDescription::offer(offer.sdp).map_err(webrtc)?;
    publisher.pc.set_remote_description(description).await.map_err(webrtc)?;
    let answer = publisher.pc.create_answer(None).await.map_err(webrtc)?;
    let answer = publisher.set_local_complete(answer).await?;
    // Which section carries which of the server's tracks (single peer connection).
    let mid_to_track_id = mids_to_tracks(&answer.sdp);
    Ok(SessionDescription {
        r#type: "answer".into(),
        sdp: answer.sdp,
        id: offer.id,
        mid_to_track_id,
    })
}

/// The `a=mid` → `a=msid` track id of each media section of `sdp` that sends a track.
fn mids_to_tracks(sdp: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let mut mid = None;
    for line in sdp.lines() {
        if line.starts_with("m=") {
            mid = None;
        } else if let Some(value) = line.strip_prefix("a=mid:") {
            mid = Some(value.trim().to_owned());
        } else if let (Some(msid), Some(mid)) = (line.strip_prefix("a=msid:"), mid.as_ref())
            && let Some(track) = msid.split_whitespace().nth(1)
        {
            map.insert(mid.clone(), track.to_owned());
        }
    }
    map
}

/// A published track arrived on the publisher connection: match it to its `AddTrackRequest`
/// (by the track id, which is the request's `cid`), publish it and pump its packets.
async fn on_track(
    service: &RtcService,
    room: &Arc<Room>,
    sid: &str,
    pending: &mut Vec<(String, TrackInfo)>,
    track: Arc<dyn TrackRemote>,
) {
    let track_id = track.track_id().await;
    let stream_id = track.stream_id().await;
    let index = pending
        .iter()
        .position(|(cid, info)| *cid == track_id || *cid == stream_id || info.stream == stream_id)
        .or(if pending.is_empty() { None } else { Some(0) });
    let info = match index {
        Some(index) => pending.remove(index).1,
        None => TrackInfo {
            sid: new_sid("TR_"),
            name: track_id.clone(),
            r#type: TrackType::Audio as i32,
            source: TrackSource::Microphone as i32,
            mime_type: "audio/opus".into(),
            ..Default::default()
        },
    };
    let packets = room.publish(sid, info);
    spawn(&service.inner.tasks, async move {
        while let Some(event) = track.poll().await {
            if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                let _ = packets.send(packet);
            }
        }
    });
}

/// Relays the `DataPacket`s of one of the client's publisher data channels.
async fn relay_channel(room: Arc<Room>, sid: String, channel: Arc<dyn DataChannel>) {
    while let Some(event) = channel.poll().await {
        match event {
            DataChannelEvent::OnMessage(message) => {
                if let Ok(packet) = DataPacket::decode(message.data.as_ref()) {
                    room.relay(&sid, packet);
                }
            }
            DataChannelEvent::OnClose => break,
            _ => {}
        }
    }
}
