//! [`Room`]: connect, events, disconnect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::client::{self, unexpected};
use crate::data_stream::TextStreamReceiver;
use crate::dispatch::{self, RoomMessage};
use crate::error::{ConnectError, RtcError, redact, redact_url};
use crate::participant::{LocalParticipant, RemoteParticipant};
use crate::proto::{
    self, FfiOwnedHandle, connect_callback, ffi_event, ffi_request, ffi_response, room_event,
};
use crate::track::{RemoteTrack, TrackPublication};

/// Options of [`Room::connect`], with Python's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomOptions {
    /// Subscribe to every track as it is published (true).
    pub auto_subscribe: bool,
    /// Dynacast (false).
    pub dynacast: bool,
    /// Adaptive stream (false).
    pub adaptive_stream: bool,
    /// How many times the library retries joining after a failed attempt (the library's
    /// default when `None`: 3).
    pub join_retries: Option<u32>,
    /// The time allowed for each signal connection attempt (the library's default when
    /// `None`: 5 s).
    pub attempt_timeout: Option<Duration>,
    /// One peer connection for publishing and subscribing (the library's default when
    /// `None`: one).
    pub single_peer_connection: Option<bool>,
    /// The time allowed for the whole connect, retries included (30 s); then
    /// [`ConnectError::Timeout`].
    pub timeout: Duration,
}

impl Default for RoomOptions {
    fn default() -> Self {
        Self {
            auto_subscribe: true,
            dynacast: false,
            adaptive_stream: false,
            join_retries: None,
            attempt_timeout: None,
            single_peer_connection: None,
            timeout: Duration::from_secs(30),
        }
    }
}

impl RoomOptions {
    fn to_proto(&self) -> proto::RoomOptions {
        proto::RoomOptions {
            auto_subscribe: Some(self.auto_subscribe),
            adaptive_stream: Some(self.adaptive_stream),
            dynacast: Some(self.dynacast),
            join_retries: self.join_retries,
            single_peer_connection: self.single_peer_connection,
            connect_timeout_ms: self
                .attempt_timeout
                .map(|timeout| u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)),
        }
    }
}

/// Why a participant or we left (Python's `DisconnectReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum DisconnectReason {
    UnknownReason,
    ClientInitiated,
    DuplicateIdentity,
    ServerShutdown,
    ParticipantRemoved,
    RoomDeleted,
    StateMismatch,
    JoinFailure,
    Migration,
    SignalClose,
    RoomClosed,
    UserUnavailable,
    UserRejected,
    SipTrunkFailure,
    ConnectionTimeout,
    MediaFailure,
    AgentError,
}

impl DisconnectReason {
    pub(crate) fn from_proto(value: i32) -> Self {
        use proto::DisconnectReason as R;
        match R::try_from(value) {
            Ok(R::ClientInitiated) => Self::ClientInitiated,
            Ok(R::DuplicateIdentity) => Self::DuplicateIdentity,
            Ok(R::ServerShutdown) => Self::ServerShutdown,
            Ok(R::ParticipantRemoved) => Self::ParticipantRemoved,
            Ok(R::RoomDeleted) => Self::RoomDeleted,
            Ok(R::StateMismatch) => Self::StateMismatch,
            Ok(R::JoinFailure) => Self::JoinFailure,
            Ok(R::Migration) => Self::Migration,
            Ok(R::SignalClose) => Self::SignalClose,
            Ok(R::RoomClosed) => Self::RoomClosed,
            Ok(R::UserUnavailable) => Self::UserUnavailable,
            Ok(R::UserRejected) => Self::UserRejected,
            Ok(R::SipTrunkFailure) => Self::SipTrunkFailure,
            Ok(R::ConnectionTimeout) => Self::ConnectionTimeout,
            Ok(R::MediaFailure) => Self::MediaFailure,
            Ok(R::AgentError) => Self::AgentError,
            Ok(R::UnknownReason) | Err(_) => Self::UnknownReason,
        }
    }
}

/// The room connection's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Disconnected.
    Disconnected,
    /// Connected.
    Connected,
    /// Reconnecting after a network failure.
    Reconnecting,
}

/// Whether a data packet came reliably.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataPacketKind {
    /// Unordered, not retransmitted.
    Lossy,
    /// Ordered, retransmitted.
    Reliable,
}

/// Something that happened in the room (Python's room events).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RoomEvent {
    /// A participant joined.
    ParticipantConnected(RemoteParticipant),
    /// A participant left.
    ParticipantDisconnected {
        /// Its identity.
        identity: String,
        /// Why.
        reason: DisconnectReason,
    },
    /// A participant published a track.
    TrackPublished {
        /// The publisher.
        participant_identity: String,
        /// The track.
        publication: TrackPublication,
    },
    /// A participant unpublished a track.
    TrackUnpublished {
        /// The publisher.
        participant_identity: String,
        /// The track's sid.
        track_sid: String,
    },
    /// We subscribed to a participant's track: read it with
    /// [`AudioStream::from_track`](crate::AudioStream::from_track).
    TrackSubscribed {
        /// The publisher.
        participant_identity: String,
        /// The track.
        track: RemoteTrack,
    },
    /// We unsubscribed from a track (it was unpublished, or its participant left).
    TrackUnsubscribed {
        /// The publisher.
        participant_identity: String,
        /// The track's sid.
        track_sid: String,
    },
    /// Subscribing to a track failed.
    TrackSubscriptionFailed {
        /// The publisher.
        participant_identity: String,
        /// The track's sid.
        track_sid: String,
        /// The library's message.
        error: String,
    },
    /// A track was muted.
    TrackMuted {
        /// The publisher.
        participant_identity: String,
        /// The track's sid.
        track_sid: String,
    },
    /// A track was unmuted.
    TrackUnmuted {
        /// The publisher.
        participant_identity: String,
        /// The track's sid.
        track_sid: String,
    },
    /// The participants speaking now changed.
    ActiveSpeakersChanged {
        /// Their identities, loudest first.
        identities: Vec<String>,
    },
    /// A participant's attributes changed.
    ParticipantAttributesChanged {
        /// The participant (possibly us).
        identity: String,
        /// The attributes that changed (an empty value: removed).
        changed: HashMap<String, String>,
    },
    /// A participant's metadata changed.
    ParticipantMetadataChanged {
        /// The participant.
        identity: String,
        /// The new metadata.
        metadata: String,
    },
    /// A participant's name changed.
    ParticipantNameChanged {
        /// The participant.
        identity: String,
        /// The new name.
        name: String,
    },
    /// A data packet arrived.
    DataReceived {
        /// The payload.
        data: Vec<u8>,
        /// Its topic.
        topic: Option<String>,
        /// The sender (empty for the server).
        participant_identity: String,
        /// Reliable or lossy.
        kind: DataPacketKind,
    },
    /// The connection's state changed.
    ConnectionStateChanged(ConnectionState),
    /// The connection dropped; the library is reconnecting.
    Reconnecting,
    /// The connection is back.
    Reconnected,
    /// We left the room (the last event).
    Disconnected {
        /// Why.
        reason: DisconnectReason,
    },
    /// The library panicked with this text: the room is dead and the library cannot be
    /// used again in this process (the last event).
    Fatal {
        /// The panic's text.
        message: String,
    },
}

/// A connected LiveKit room (Python's `rtc.Room`). Clones share the room; it is left when
/// [`Room::disconnect`] is called or the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Room {
    inner: Arc<RoomInner>,
}

#[derive(Debug)]
struct RoomInner {
    handle: FfiOwnedHandle,
    sid: String,
    name: String,
    metadata: String,
    local: LocalParticipant,
    remotes: Mutex<HashMap<String, RemoteParticipant>>,
    disconnected: std::sync::atomic::AtomicBool,
    /// Bumped when a participant joins, and set to `None` when the room's events end: what
    /// [`Room::wait_for_participant`] waits on.
    presence: watch::Sender<Option<u64>>,
}

/// The events of a [`Room`], in order. Reading them also keeps
/// [`Room::remote_participants`] current.
#[derive(Debug)]
pub struct RoomEvents {
    room: std::sync::Weak<RoomInner>,
    events: mpsc::UnboundedReceiver<RoomMessage>,
    ended: bool,
}

impl Room {
    /// Joins the room that `token` grants on the server at `url` (`ws[s]://` or
    /// `http[s]://`), retrying as `options` say, within [`RoomOptions::timeout`].
    pub async fn connect(
        url: &str,
        token: &str,
        options: RoomOptions,
    ) -> Result<(Room, RoomEvents), ConnectError> {
        let shown_url = redact_url(url);
        let scheme_ok = ["ws://", "wss://", "http://", "https://"]
            .iter()
            .any(|scheme| url.get(..scheme.len()).is_some_and(|s| s.eq_ignore_ascii_case(scheme)));
        if !scheme_ok {
            return Err(ConnectError::InvalidUrl { url: shown_url });
        }
        client::load_off_executor().await?;
        let waiter = client::Waiter::new("connect");
        let message = ffi_request::Message::Connect(proto::ConnectRequest {
            url: url.to_owned(),
            token: token.to_owned(),
            options: options.to_proto(),
            request_async_id: Some(waiter.async_id()),
        });
        match client::request("connect", message)? {
            ffi_response::Message::Connect(_) => {}
            _ => return Err(unexpected("connect").into()),
        }
        let reply = match tokio::time::timeout(options.timeout, waiter.wait()).await {
            Ok(reply) => reply?,
            // The waiter is gone: a late answer leaves the room (`leave_orphaned`).
            Err(_) => return Err(ConnectError::Timeout { url: shown_url, after: options.timeout }),
        };
        let ffi_event::Message::Connect(callback) = reply else {
            return Err(unexpected("connect").into());
        };
        match callback.message {
            Some(connect_callback::Message::Result(result)) => Ok(Self::joined(result)?),
            Some(connect_callback::Message::Error(message)) => {
                let message = redact(&message, token);
                let refused = is_refusal(&message);
                Err(if refused {
                    ConnectError::Unauthorized { url: shown_url, message }
                } else {
                    ConnectError::Failed { url: shown_url, message }
                })
            }
            None => Err(unexpected("connect").into()),
        }
    }

    fn joined(result: connect_callback::Result) -> Result<(Room, RoomEvents), RtcError> {
        let room_handle = result.room.handle;
        let (sender, events) = mpsc::unbounded_channel();
        dispatch::dispatcher().register_room(room_handle.id, sender);
        let remotes = result
            .participants
            .into_iter()
            .map(|p| {
                // The publications' handles are released here: tracks come as events.
                let participant = RemoteParticipant::from_owned(p.participant);
                (participant.identity().to_owned(), participant)
            })
            .collect();
        let inner = Arc::new(RoomInner {
            sid: result.room.info.sid.unwrap_or_default(),
            name: result.room.info.name,
            metadata: result.room.info.metadata,
            local: LocalParticipant::from_owned(result.local_participant),
            remotes: Mutex::new(remotes),
            handle: room_handle,
            disconnected: std::sync::atomic::AtomicBool::new(false),
            presence: watch::Sender::new(Some(0)),
        });
        // Events were held back until now, when their route exists.
        let message = ffi_request::Message::ReadyForRoomEvent(proto::ReadyForRoomEventRequest {
            room_handle: inner.handle.id,
        });
        match client::request("ready_for_room_event", message)? {
            ffi_response::Message::ReadyForRoomEvent(_) => {}
            _ => return Err(unexpected("ready_for_room_event")),
        }
        let events = RoomEvents { room: Arc::downgrade(&inner), events, ended: false };
        Ok((Room { inner }, events))
    }

    /// The room's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The room's sid (`RM_…`; may be empty until the server assigns it).
    pub fn sid(&self) -> &str {
        &self.inner.sid
    }

    /// The room's metadata when we joined.
    pub fn metadata(&self) -> &str {
        &self.inner.metadata
    }

    /// Us.
    pub fn local_participant(&self) -> &LocalParticipant {
        &self.inner.local
    }

    /// The other participants, as of the last event read from [`RoomEvents`].
    pub fn remote_participants(&self) -> HashMap<String, RemoteParticipant> {
        self.inner.remotes.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The text streams opened on `topic` (e.g. `lk.chat`) from now on. One receiver per
    /// topic; streams on topics nobody receives are dropped, as in Python.
    pub fn register_text_stream_handler(
        &self,
        topic: &str,
    ) -> Result<TextStreamReceiver, RtcError> {
        let (sender, readers) = mpsc::unbounded_channel();
        if dispatch::dispatcher().register_text_topic(self.inner.handle.id, topic, sender) {
            Ok(TextStreamReceiver { readers })
        } else {
            Err(RtcError::InvalidArgument {
                what: "text stream topic",
                problem: format!(
                    "`{topic}` already has a receiver (drop it first), or the room is disconnected"
                ),
            })
        }
    }

    /// Waits until a remote participant for which `matches` holds is in the room — already,
    /// or when it joins — and returns it (what Python's `wait_for_participant` does).
    ///
    /// The room's participants are kept current by reading its [`RoomEvents`]: someone must
    /// read them (the agent's room IO does).
    ///
    /// # Errors
    ///
    /// [`RtcError::Closed`] when the room is disconnected first, or its [`RoomEvents`] ended
    /// or were dropped (no join can be seen any more).
    pub async fn wait_for_participant(
        &self,
        matches: impl Fn(&RemoteParticipant) -> bool,
    ) -> Result<RemoteParticipant, RtcError> {
        let mut presence = self.inner.presence.subscribe();
        loop {
            // Marked seen before the look, so a join after it wakes the wait.
            let open = presence.borrow_and_update().is_some();
            let found = self.remote_participants().into_values().find(|p| matches(p));
            if let Some(participant) = found {
                return Ok(participant);
            }
            let disconnected = self.inner.disconnected.load(std::sync::atomic::Ordering::Acquire);
            if !open || disconnected || presence.changed().await.is_err() {
                return Err(RtcError::Closed { operation: "wait_for_participant" });
            }
        }
    }

    /// Leaves the room; its [`RoomEvents`] end with [`RoomEvent::Disconnected`].
    pub async fn disconnect(&self) -> Result<(), RtcError> {
        if self.inner.disconnected.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return Ok(());
        }
        // Waits for a participant end now.
        self.inner.presence.send_replace(None);
        let room_handle = self.inner.handle.id;
        let reply = client::request_async("disconnect", |async_id| {
            ffi_request::Message::Disconnect(proto::DisconnectRequest {
                room_handle,
                request_async_id: Some(async_id),
                reason: Some(proto::DisconnectReason::ClientInitiated as i32),
            })
        })
        .await?;
        match reply {
            ffi_event::Message::Disconnect(_) => Ok(()),
            _ => Err(unexpected("disconnect")),
        }
    }
}

impl Drop for RoomInner {
    fn drop(&mut self) {
        dispatch::dispatcher().unregister_room(self.handle.id);
        let handle = std::mem::take(&mut self.handle);
        if !self.disconnected.load(std::sync::atomic::Ordering::Acquire) {
            leave_without_waiting(handle);
        }
    }
}

/// Leaves room `handle` without waiting for the answer: the handle is kept (in the
/// dispatcher, under the disconnect's async id) until the library answers, as its disconnect
/// still looks the room up by handle.
fn leave_without_waiting(handle: FfiOwnedHandle) {
    let async_id = dispatch::next_async_id();
    let message = ffi_request::Message::Disconnect(proto::DisconnectRequest {
        room_handle: handle.id,
        request_async_id: Some(async_id),
        reason: Some(proto::DisconnectReason::ClientInitiated as i32),
    });
    // Parked before the request: the answer may come before `request` returns.
    dispatch::dispatcher().park(async_id, Box::new(handle));
    if client::request("disconnect", message).is_err() {
        // No answer will come: release the handle now.
        dispatch::dispatcher().unpark(async_id);
    }
}

/// Leaves the room a connect nobody waits for any more joined (it timed out or was
/// cancelled): the library waits for `ReadyForRoomEvent` before anything else, then the room
/// is left. Called outside the dispatcher's lock.
pub(crate) fn leave_orphaned(callback: proto::ConnectCallback) {
    let Some(connect_callback::Message::Result(result)) = callback.message else { return };
    let handle = result.room.handle;
    let message = ffi_request::Message::ReadyForRoomEvent(proto::ReadyForRoomEventRequest {
        room_handle: handle.id,
    });
    let _ = client::request("ready_for_room_event", message);
    leave_without_waiting(handle);
}

impl Drop for RoomEvents {
    fn drop(&mut self) {
        // Nobody keeps the participants current any more: a wait would never end.
        if let Some(room) = self.room.upgrade() {
            room.presence.send_replace(None);
        }
    }
}

impl RoomEvents {
    /// The next event; `None` after [`RoomEvent::Disconnected`] or [`RoomEvent::Fatal`].
    pub async fn recv(&mut self) -> Option<RoomEvent> {
        let event = self.next_event().await;
        if self.ended
            && let Some(room) = self.room.upgrade()
        {
            // No participant can join any more.
            room.presence.send_replace(None);
        }
        event
    }

    async fn next_event(&mut self) -> Option<RoomEvent> {
        while !self.ended {
            let Some(message) = self.events.recv().await else {
                self.ended = true;
                return None;
            };
            let event = match message {
                RoomMessage::Fatal(message) => {
                    self.ended = true;
                    // The library's panic text can quote a URL with its password or token:
                    // it goes to logs and to the job's failure status, so it is scrubbed.
                    RoomEvent::Fatal { message: crate::error::redact(&message, "") }
                }
                RoomMessage::Event(event) => match self.convert(event) {
                    Some(event) => event,
                    None => continue,
                },
            };
            if matches!(event, RoomEvent::Disconnected { .. }) {
                self.ended = true;
            }
            return Some(event);
        }
        None
    }

    fn with_remotes(&self, update: impl FnOnce(&mut HashMap<String, RemoteParticipant>)) {
        if let Some(room) = self.room.upgrade() {
            update(&mut room.remotes.lock().unwrap_or_else(PoisonError::into_inner));
        }
    }

    fn convert(&mut self, event: room_event::Message) -> Option<RoomEvent> {
        use room_event::Message as M;
        Some(match event {
            M::ParticipantConnected(connected) => {
                let participant = RemoteParticipant::from_owned(connected.info);
                let copy = participant.clone();
                self.with_remotes(|remotes| {
                    remotes.insert(copy.identity().to_owned(), copy);
                });
                if let Some(room) = self.room.upgrade() {
                    room.presence.send_modify(|version| {
                        if let Some(version) = version {
                            *version += 1;
                        }
                    });
                }
                RoomEvent::ParticipantConnected(participant)
            }
            M::ParticipantDisconnected(left) => {
                self.with_remotes(|remotes| {
                    remotes.remove(&left.participant_identity);
                });
                RoomEvent::ParticipantDisconnected {
                    identity: left.participant_identity,
                    reason: DisconnectReason::from_proto(left.disconnect_reason),
                }
            }
            M::TrackPublished(published) => RoomEvent::TrackPublished {
                participant_identity: published.participant_identity,
                publication: TrackPublication::from_owned(published.publication),
            },
            M::TrackUnpublished(e) => RoomEvent::TrackUnpublished {
                participant_identity: e.participant_identity,
                track_sid: e.publication_sid,
            },
            M::TrackSubscribed(e) => RoomEvent::TrackSubscribed {
                participant_identity: e.participant_identity,
                track: RemoteTrack::from_owned(e.track),
            },
            M::TrackUnsubscribed(e) => RoomEvent::TrackUnsubscribed {
                participant_identity: e.participant_identity,
                track_sid: e.track_sid,
            },
            M::TrackSubscriptionFailed(e) => RoomEvent::TrackSubscriptionFailed {
                participant_identity: e.participant_identity,
                track_sid: e.track_sid,
                error: e.error,
            },
            M::TrackMuted(e) => RoomEvent::TrackMuted {
                participant_identity: e.participant_identity,
                track_sid: e.track_sid,
            },
            M::TrackUnmuted(e) => RoomEvent::TrackUnmuted {
                participant_identity: e.participant_identity,
                track_sid: e.track_sid,
            },
            M::ActiveSpeakersChanged(e) => {
                RoomEvent::ActiveSpeakersChanged { identities: e.participant_identities }
            }
            M::ParticipantAttributesChanged(e) => {
                let all: HashMap<String, String> =
                    e.attributes.into_iter().map(|a| (a.key, a.value)).collect();
                let identity = e.participant_identity;
                self.with_remotes(|remotes| {
                    if let Some(participant) = remotes.get_mut(&identity) {
                        participant.info_mut().attributes = all;
                    }
                });
                RoomEvent::ParticipantAttributesChanged {
                    identity,
                    changed: e.changed_attributes.into_iter().map(|a| (a.key, a.value)).collect(),
                }
            }
            M::ParticipantMetadataChanged(e) => {
                let (identity, metadata) = (e.participant_identity, e.metadata);
                self.with_remotes(|remotes| {
                    if let Some(participant) = remotes.get_mut(&identity) {
                        participant.info_mut().metadata.clone_from(&metadata);
                    }
                });
                RoomEvent::ParticipantMetadataChanged { identity, metadata }
            }
            M::ParticipantNameChanged(e) => {
                let (identity, name) = (e.participant_identity, e.name);
                self.with_remotes(|remotes| {
                    if let Some(participant) = remotes.get_mut(&identity) {
                        participant.info_mut().name.clone_from(&name);
                    }
                });
                RoomEvent::ParticipantNameChanged { identity, name }
            }
            M::DataPacketReceived(packet) => {
                let proto::DataPacketReceived { kind, participant_identity, value } = packet;
                let Some(proto::data_packet_received::Value::User(user)) = value else {
                    return None;
                };
                let data = crate::sys::read_bytes(&user.data.handle, &user.data.data);
                RoomEvent::DataReceived {
                    data,
                    topic: user.topic,
                    participant_identity,
                    kind: if kind == proto::DataPacketKind::KindLossy as i32 {
                        DataPacketKind::Lossy
                    } else {
                        DataPacketKind::Reliable
                    },
                }
            }
            M::ConnectionStateChanged(e) => {
                RoomEvent::ConnectionStateChanged(match proto::ConnectionState::try_from(e.state) {
                    Ok(proto::ConnectionState::ConnConnected) => ConnectionState::Connected,
                    Ok(proto::ConnectionState::ConnReconnecting) => ConnectionState::Reconnecting,
                    _ => ConnectionState::Disconnected,
                })
            }
            M::Reconnecting(_) => RoomEvent::Reconnecting,
            M::Reconnected(_) => RoomEvent::Reconnected,
            M::Disconnected(e) => {
                RoomEvent::Disconnected { reason: DisconnectReason::from_proto(e.reason) }
            }
            // The library's last event after a disconnect: the channel ends with it.
            M::Eos(_) => {
                self.ended = true;
                return None;
            }
            M::ConnectionQualityChanged(_) | M::TextStreamOpened(_) => return None,
        })
    }
}

/// Whether the library's connect error says the server refused the token (an HTTP 401/403).
fn is_refusal(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    // The library's HTTP errors read "client error: 401 Unauthorized - ..."; a
    // bare "401" could be part of a port or an address.
    [
        " 401 ",
        " 403 ",
        "status 401",
        "status 403",
        "status: 401",
        "status: 403",
        "unauthorized",
        "forbidden",
        "invalid token",
        "permission denied",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
}

#[cfg(test)]
mod refusal_tests {
    use super::is_refusal;

    #[test]
    fn a_refusal_is_the_http_status_not_any_401_in_the_text() {
        assert!(is_refusal(
            "engine: signal failure: client error: 401 Unauthorized - invalid token: signature"
        ));
        assert!(is_refusal("server responded with status 403"));
        assert!(!is_refusal("failed to connect to ws://10.0.0.1:14010/rtc: connection refused"));
        assert!(!is_refusal("io error on 127.0.0.1:4031: timed out"));
    }
}
