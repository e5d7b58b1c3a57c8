//! [`RtcService`]: the `/rtc` endpoint: the upgrade's admission (path, token), the rooms, the
//! faults to inject, and what the test can inspect.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

use super::participant::ServerParticipant;
use super::room::{End, LocalEnd, Room, Tasks, lock, spawn};
use super::{RtcError, session};

/// Something the `/rtc` endpoint does wrong on purpose, to the next signal connection that
/// presents a valid token (in the order they were injected).
///
/// What livekit-ffi 0.13.2 (the Python SDK 1.2.1) does with each, as checked by
/// `tests/rtc_python_faults.rs`, is noted on the variants.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcFault {
    /// Refuses this one upgrade with 401 as if the token did not verify. The client retries
    /// its connect (3 attempts), so the next attempt joins.
    RefuseToken,
    /// Refuses this and every later upgrade with 401 until
    /// [`clear_faults`](RtcService::clear_faults): the client's connect fails with the 401.
    RefuseAllTokens,
    /// Sends a `JoinResponse` with `ping_interval: 0` and no `room`: the LiveKit client
    /// library (livekit-ffi 0.13.2) panics on it and aborts its process.
    AbortingJoinResponse,
    /// Joins normally, then drops the signal socket (no close frame) this long after the
    /// `JoinResponse`. The client reports `reconnecting`, tries to resume (refused: the server
    /// does not resume sessions), then rejoins in full, replacing its old participant.
    DropSignalAfter(Duration),
    /// Joins normally, then sends a `LeaveRequest` (action `Disconnect`, reason
    /// `ParticipantRemoved`) this long after the `JoinResponse` and closes: the client
    /// disconnects for good.
    DisconnectAfter(Duration),
    /// Joins normally but never answers the client's publisher offers (its publish times
    /// out).
    WithholdPublisherAnswer,
}

/// One upgrade request to `/rtc`, admitted or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignalConnection {
    /// The request's path (`/rtc`, `/rtc/v1`, …).
    pub path: String,
    /// The room named in the token (empty when the token did not verify).
    pub room: String,
    /// The token's identity (empty when the token did not verify).
    pub identity: String,
    /// The query's `protocol`.
    pub protocol: Option<u32>,
    /// Why it was refused (with the HTTP status), or `None`.
    pub refused: Option<(u16, String)>,
}

/// Where the `/rtc` service binds the media of its peer connections, and its credentials.
#[derive(Clone)]
#[non_exhaustive]
pub struct RtcConfig {
    /// The API key tokens must be signed for.
    pub api_key: String,
    /// The API secret (HS256). Never logged.
    pub api_secret: String,
    /// The UDP address of every peer connection: `0.0.0.0:0` (the default) uses every
    /// non-loopback interface, which is what libwebrtc needs (run in a
    /// [`NetNs`](crate::NetNs)); `127.0.0.1:0` for webrtc-rs clients on loopback.
    pub udp_addr: SocketAddr,
    /// `ping_interval` of the `JoinResponse`, in seconds.
    pub ping_interval: i32,
    /// `ping_timeout` of the `JoinResponse`, in seconds.
    pub ping_timeout: i32,
    /// Serves the single-peer-connection path `/rtc/v1` (the client's first choice). Off by
    /// default: `/rtc/v1` is answered 404 and clients fall back to `/rtc` (two connections).
    pub single_peer_connection: bool,
}

impl std::fmt::Debug for RtcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret stays out of Debug output.
        f.debug_struct("RtcConfig")
            .field("api_key", &self.api_key)
            .field("api_secret", &"<redacted>")
            .field("udp_addr", &self.udp_addr)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("single_peer_connection", &self.single_peer_connection)
            .finish()
    }
}

impl RtcConfig {
    /// The defaults with these credentials.
    pub fn new(api_key: impl Into<String>, api_secret: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            udp_addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
            ping_interval: 10,
            ping_timeout: 20,
            single_peer_connection: false,
        }
    }

    /// Serves `/rtc/v1` (one peer connection) as well.
    pub fn with_single_peer_connection(mut self, enabled: bool) -> Self {
        self.single_peer_connection = enabled;
        self
    }

    /// Binds the media to `udp_addr`.
    pub fn with_udp_addr(mut self, udp_addr: SocketAddr) -> Self {
        self.udp_addr = udp_addr;
        self
    }
}

/// What an admitted upgrade carries into the session.
#[derive(Debug, Clone)]
pub struct Admission {
    pub(crate) room: String,
    pub(crate) identity: String,
    pub(crate) name: String,
    pub(crate) attributes: HashMap<String, String>,
    /// Its kind, from the token's `kind` claim (`agent`, `sip`, …; standard otherwise).
    pub(crate) kind: livekit_protocol::participant_info::Kind,
    pub(crate) fault: Option<RtcFault>,
    /// The join request of `/rtc/v1` (single peer connection); `None` on `/rtc`.
    pub(crate) join_request: Option<Box<livekit_protocol::JoinRequest>>,
}

pub(crate) struct Inner {
    pub(crate) config: RtcConfig,
    rooms: Mutex<HashMap<String, Arc<Room>>>,
    faults: Mutex<VecDeque<RtcFault>>,
    refuse_all: Mutex<bool>,
    connections: Mutex<Vec<SignalConnection>>,
    /// Kill switches of the live signal sessions, by identity.
    pub(crate) sessions: Mutex<HashMap<String, Arc<Notify>>>,
    pub(crate) tasks: Tasks,
    pub(crate) errors: Mutex<Vec<String>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Sessions, forwarders and relays hold the rooms, and the rooms hold this task set:
        // aborting the tasks breaks that cycle, so the peer connections are closed and freed.
        lock(&self.tasks).abort_all();
        lock(&self.rooms).clear();
    }
}

/// The LiveKit signal endpoint `/rtc` and its SFU.
///
/// A router hands it each upgrade: [`admit`](Self::admit) in the handshake callback (it checks
/// the path and the `Authorization: Bearer` token with livekit-api's verifier, and answers
/// 404 for `/rtc/v1` so the client falls back to `/rtc`), then [`serve`](Self::serve) with the
/// upgraded socket; or [`accept`](Self::accept) does both on a TCP stream. Clones share the
/// rooms. Dropping the last clone aborts every session and forwarding task.
#[derive(Clone)]
pub struct RtcService {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for RtcService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret stays out of Debug output.
        f.debug_struct("RtcService")
            .field("api_key", &self.inner.config.api_key)
            .field("udp_addr", &self.inner.config.udp_addr)
            .finish_non_exhaustive()
    }
}

impl RtcService {
    /// A service with `config`.
    pub fn new(config: RtcConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                rooms: Mutex::default(),
                faults: Mutex::default(),
                refuse_all: Mutex::default(),
                connections: Mutex::default(),
                sessions: Mutex::default(),
                tasks: Arc::new(Mutex::new(JoinSet::new())),
                errors: Mutex::default(),
            }),
        }
    }

    /// Injects a fault for the next signal connection (faults are used in order).
    pub fn inject(&self, fault: RtcFault) {
        lock(&self.inner.faults).push_back(fault);
    }

    /// Forgets the faults not yet used and ends [`RtcFault::RefuseAllTokens`].
    pub fn clear_faults(&self) {
        lock(&self.inner.faults).clear();
        *lock(&self.inner.refuse_all) = false;
    }

    /// Every upgrade request so far.
    pub fn connections(&self) -> Vec<SignalConnection> {
        lock(&self.inner.connections).clone()
    }

    /// What went wrong in sessions (a failed answer, a failed renegotiation), for the test.
    pub fn errors(&self) -> Vec<String> {
        lock(&self.inner.errors).clone()
    }

    /// Drops the signal socket of `identity` now (no close frame, as a network failure
    /// would); false when it has no live session.
    pub fn drop_signal(&self, identity: &str) -> bool {
        match lock(&self.inner.sessions).get(identity) {
            Some(kill) => {
                kill.notify_one();
                true
            }
            None => false,
        }
    }

    /// The participants of `room` (empty when there is no such room).
    pub fn participants(&self, room: &str) -> Vec<livekit_protocol::ParticipantInfo> {
        lock(&self.inner.rooms).get(room).map(|room| room.participants()).unwrap_or_default()
    }

    /// Joins `room` as the server-side participant `identity`.
    ///
    /// # Errors
    ///
    /// [`RtcError::DuplicateIdentity`] when `identity` is already in the room.
    pub fn join(&self, room: &str, identity: &str) -> Result<ServerParticipant, RtcError> {
        let room = self.room(room);
        let end = Arc::new(LocalEnd::default());
        let (info, _) = room.join(
            identity,
            identity,
            HashMap::new(),
            livekit_protocol::participant_info::Kind::Standard,
            End::Local(Arc::clone(&end)),
        )?;
        let participant = ServerParticipant::new(
            Arc::clone(&room),
            info,
            Arc::clone(&end),
            Arc::clone(&self.inner.tasks),
        );
        let subscriber = Arc::clone(&room);
        let sid = participant.sid().to_owned();
        spawn(&self.inner.tasks, async move {
            subscriber.subscribe_existing(&sid, &End::Local(end)).await
        });
        Ok(participant)
    }

    pub(crate) fn room(&self, name: &str) -> Arc<Room> {
        let mut rooms = lock(&self.inner.rooms);
        rooms.retain(|_, room| Arc::strong_count(room) > 1 || !room.is_empty());
        Arc::clone(
            rooms
                .entry(name.to_owned())
                .or_insert_with(|| Arc::new(Room::new(name, Arc::clone(&self.inner.tasks)))),
        )
    }

    /// Checks an upgrade request: the path (`/rtc`; `/rtc/v1` is answered 404 so the client
    /// falls back to `/rtc`), the bearer token (HS256 with the service's key and secret, the
    /// `roomJoin` grant and a room) and the faults. Call it in the handshake callback.
    ///
    /// # Errors
    ///
    /// The response to send instead of upgrading: 404 or 401 with the reason as its body.
    #[allow(clippy::result_large_err)] // tungstenite's callback type
    pub fn admit(&self, request: &Request) -> Result<Admission, ErrorResponse> {
        let path = request.uri().path().to_owned();
        let protocol = request.uri().query().and_then(|query| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("protocol="))
                .and_then(|v| v.parse().ok())
        });
        let mut record = SignalConnection {
            path: path.clone(),
            room: String::new(),
            identity: String::new(),
            protocol,
            refused: None,
        };
        let result = self.check(request, &path, &mut record);
        if let Err((status, reason)) = &result {
            record.refused = Some((status.as_u16(), reason.clone()));
        }
        lock(&self.inner.connections).push(record);
        result.map_err(|(status, reason)| {
            let mut response = ErrorResponse::new(Some(reason));
            *response.status_mut() = status;
            response
        })
    }

    fn check(
        &self,
        request: &Request,
        path: &str,
        record: &mut SignalConnection,
    ) -> Result<Admission, (StatusCode, String)> {
        let single_pc = path == "/rtc/v1" && self.inner.config.single_peer_connection;
        if path != "/rtc" && path != "/rtc/" && !single_pc {
            // The single-peer-connection path (`/rtc/v1`) when it is not served: a 404 (and
            // only a 404) makes the client fall back to `/rtc`.
            return Err((StatusCode::NOT_FOUND, format!("{path} is not served; use /rtc")));
        }
        let join_request = if single_pc {
            let query = request.uri().query().unwrap_or_default();
            let encoded = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("join_request="))
                .ok_or((StatusCode::BAD_REQUEST, "/rtc/v1 needs a join_request".to_owned()))?;
            Some(Box::new(
                decode_join_request(encoded).map_err(|reason| (StatusCode::BAD_REQUEST, reason))?,
            ))
        } else {
            None
        };
        let token = request
            .headers()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::to_owned)
            .or_else(|| {
                request.uri().query().and_then(|query| {
                    query
                        .split('&')
                        .find_map(|pair| pair.strip_prefix("access_token="))
                        .map(str::to_owned)
                })
            })
            .ok_or((
                StatusCode::UNAUTHORIZED,
                "no token: send `Authorization: Bearer <jwt>`".to_owned(),
            ))?;
        let claims = livekit_api::access_token::TokenVerifier::with_api_key(
            &self.inner.config.api_key,
            &self.inner.config.api_secret,
        )
        .verify(&token)
        .map_err(|error| {
            (StatusCode::UNAUTHORIZED, format!("the token does not verify: {error}"))
        })?;
        if !claims.video.room_join {
            return Err((
                StatusCode::UNAUTHORIZED,
                "the token lacks the roomJoin grant".to_owned(),
            ));
        }
        if claims.video.room.is_empty() {
            return Err((StatusCode::UNAUTHORIZED, "the token names no room".to_owned()));
        }
        if claims.sub.is_empty() {
            return Err((StatusCode::UNAUTHORIZED, "the token has no identity (sub)".to_owned()));
        }
        record.room.clone_from(&claims.video.room);
        record.identity.clone_from(&claims.sub);
        let query = request.uri().query().unwrap_or_default();
        if query.split('&').any(|pair| pair == "reconnect=1") {
            // A resume of a session the server no longer has: refused, so the client rejoins.
            return Err((
                StatusCode::UNAUTHORIZED,
                "sessions are not resumed; join again".to_owned(),
            ));
        }
        if *lock(&self.inner.refuse_all) {
            return Err((
                StatusCode::UNAUTHORIZED,
                "every token is refused (injected fault)".to_owned(),
            ));
        }
        let fault = lock(&self.inner.faults).pop_front();
        match fault {
            Some(RtcFault::RefuseToken) => {
                return Err((
                    StatusCode::UNAUTHORIZED,
                    "the token was refused (injected fault)".to_owned(),
                ));
            }
            Some(RtcFault::RefuseAllTokens) => {
                *lock(&self.inner.refuse_all) = true;
                return Err((
                    StatusCode::UNAUTHORIZED,
                    "every token is refused (injected fault)".to_owned(),
                ));
            }
            _ => {}
        }
        Ok(Admission {
            room: claims.video.room,
            name: if claims.name.is_empty() { claims.sub.clone() } else { claims.name },
            identity: claims.sub,
            attributes: claims.attributes,
            kind: livekit_protocol::participant_info::Kind::from_str_name(
                &claims.kind.to_uppercase(),
            )
            .unwrap_or_default(),
            fault,
            join_request,
        })
    }

    /// Runs the signal session of an admitted, upgraded socket until it ends.
    pub async fn serve(&self, admission: Admission, socket: WebSocketStream<TcpStream>) {
        session::run(self.clone(), admission, socket).await;
    }

    /// Handshakes `stream` (admitting or refusing it) and serves the session.
    #[allow(clippy::result_large_err)] // tungstenite's callback type
    pub async fn accept(&self, stream: TcpStream) {
        let mut admission = None;
        let callback = |request: &Request, response: Response| match self.admit(request) {
            Ok(admitted) => {
                admission = Some(admitted);
                Ok(response)
            }
            Err(refusal) => Err(refusal),
        };
        let Ok(socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
            return;
        };
        if let Some(admission) = admission {
            self.serve(admission, socket).await;
        }
    }
}

/// `join_request` of `/rtc/v1`: URL-safe base64 (percent-encoded) of a `WrappedJoinRequest`
/// whose `JoinRequest` may be gzipped.
fn decode_join_request(encoded: &str) -> Result<livekit_protocol::JoinRequest, String> {
    use base64::Engine as _;
    use prost::Message as _;
    use std::io::Read as _;
    let text =
        encoded.replace("%3D", "=").replace("%3d", "=").replace("%2B", "+").replace("%2F", "/");
    let text = text.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
        .map_err(|e| format!("join_request is not base64: {e}"))?;
    let wrapped = livekit_protocol::WrappedJoinRequest::decode(bytes.as_slice())
        .map_err(|e| format!("join_request is not a WrappedJoinRequest: {e}"))?;
    let inner = if wrapped.compression
        == livekit_protocol::wrapped_join_request::Compression::Gzip as i32
    {
        let mut inner = Vec::new();
        flate2::read::GzDecoder::new(wrapped.join_request.as_slice())
            .read_to_end(&mut inner)
            .map_err(|e| format!("join_request does not gunzip: {e}"))?;
        inner
    } else {
        wrapped.join_request
    };
    livekit_protocol::JoinRequest::decode(inner.as_slice())
        .map_err(|e| format!("not a JoinRequest: {e}"))
}
