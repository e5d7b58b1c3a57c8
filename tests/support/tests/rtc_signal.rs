//! The test server's `/rtc` through its public API: the signal exchange a client sees, token
//! refusal, the injected faults, and server-side participants exchanging audio, text streams
//! and attributes through the SFU. Loopback only (no WebRTC client here; the Python SDK test
//! covers one).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use agents_test_support::TestServer;
use agents_test_support::livekit::rtc::{RtcConfig, RtcFault};
use futures::{SinkExt as _, StreamExt as _};
use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_protocol::{
    Ping, SignalRequest, SignalResponse, UpdateParticipantMetadata, participant_info,
    signal_request, signal_response::Message,
};
use prost::Message as _;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

const KEY: &str = "devkey";
const SECRET: &str = "secret-secret-secret-secret-secret";
const WAIT: Duration = Duration::from_secs(10);

async fn server() -> TestServer {
    let config =
        RtcConfig::new(KEY, SECRET).with_udp_addr(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    TestServer::start_with(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await.unwrap()
}

fn token(identity: &str, room: &str, secret: &str) -> String {
    AccessToken::with_api_key(KEY, secret)
        .with_identity(identity)
        .with_grants(VideoGrants { room_join: true, room: room.into(), ..Default::default() })
        .to_jwt()
        .unwrap()
}

type Socket = WebSocketStream<TcpStream>;

/// Connects as a signal client does (protocol 18, the token as a bearer header).
async fn connect(
    server: &TestServer,
    path: &str,
    token: &str,
) -> Result<Socket, tungstenite::Error> {
    let url = format!(
        "{}{path}?sdk=rust&protocol=18&client_protocol=2&auto_subscribe=1",
        server.ws_url()
    );
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let stream = TcpStream::connect(server.address()).await.unwrap();
    tokio_tungstenite::client_async(request, stream).await.map(|(socket, _)| socket)
}

async fn next(socket: &mut Socket) -> Option<Message> {
    loop {
        match tokio::time::timeout(WAIT, socket.next()).await.expect("a signal message within 10 s")
        {
            Some(Ok(WsMessage::Binary(bytes))) => {
                return SignalResponse::decode(bytes.as_ref()).unwrap().message;
            }
            Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn send(socket: &mut Socket, message: signal_request::Message) {
    let request = SignalRequest { message: Some(message) };
    socket.send(WsMessage::binary(request.encode_to_vec())).await.unwrap();
}

fn status(result: Result<Socket, tungstenite::Error>) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, got an upgrade"),
    }
}

#[tokio::test]
async fn a_client_gets_a_complete_join_response_then_a_subscriber_offer_and_pongs() {
    let server = server().await;
    let bot = server.rtc().join("demo", "bot").unwrap();
    let mut socket = connect(&server, "/rtc", &token("alice", "demo", SECRET)).await.unwrap();

    let Some(Message::Join(join)) = next(&mut socket).await else {
        panic!("no JoinResponse first")
    };
    let room = join.room.unwrap();
    assert_eq!(room.name, "demo");
    assert!(room.sid.starts_with("RM_"), "{}", room.sid);
    let me = join.participant.unwrap();
    assert!(me.sid.starts_with("PA_"), "{}", me.sid);
    assert_eq!(me.identity, "alice");
    assert!(join.subscriber_primary);
    assert!(join.ping_interval > 0 && join.ping_timeout > join.ping_interval);
    let others: Vec<_> = join.other_participants.iter().map(|p| p.identity.as_str()).collect();
    assert_eq!(others, ["bot"]);

    // The subscriber offer carries the data channels (an SCTP section), candidates included.
    let Some(Message::Offer(offer)) = next(&mut socket).await else {
        panic!("no subscriber offer")
    };
    assert_eq!(offer.r#type, "offer");
    assert!(offer.sdp.contains("m=application"), "{}", offer.sdp);
    assert!(offer.sdp.contains("a=candidate"), "{}", offer.sdp);

    send(&mut socket, signal_request::Message::PingReq(Ping { timestamp: 1234, rtt: 0 })).await;
    let Some(Message::PongResp(pong)) = next(&mut socket).await else { panic!("no PongResp") };
    assert_eq!(pong.last_ping_timestamp, 1234);
    assert!(pong.timestamp > 0);

    // The server-side participant was told about alice.
    let alice = bot.wait_participant("alice", WAIT).await.unwrap();
    assert_eq!(alice.sid, me.sid);
    send(&mut socket, signal_request::Message::Leave(Default::default())).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.rtc().participants("demo").len() != 1 {
        assert!(tokio::time::Instant::now() < deadline, "alice did not leave");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = bot.participant_updates().pop().unwrap();
    assert_eq!(
        (last.identity.as_str(), last.state),
        ("alice", participant_info::State::Disconnected as i32)
    );
}

#[tokio::test]
async fn a_bad_token_is_refused_with_401_and_the_reason() {
    let server = server().await;
    assert_eq!(
        status(
            connect(&server, "/rtc", &token("alice", "demo", "another-secret-of-enough-length"))
                .await
        ),
        401
    );
    assert_eq!(status(connect(&server, "/rtc", "not-a-jwt").await), 401);
    let no_join = AccessToken::with_api_key(KEY, SECRET)
        .with_identity("alice")
        .with_grants(VideoGrants { room: "demo".into(), ..Default::default() })
        .to_jwt()
        .unwrap();
    assert_eq!(status(connect(&server, "/rtc", &no_join).await), 401);
    let refusals: Vec<_> =
        server.rtc().connections().into_iter().map(|c| c.refused.unwrap()).collect();
    assert_eq!(refusals.len(), 3);
    assert!(refusals[0].1.contains("does not verify"), "{:?}", refusals[0]);
    assert!(refusals[2].1.contains("roomJoin"), "{:?}", refusals[2]);
    // The secret never appears in a refusal or in the service's Debug output.
    assert!(refusals.iter().all(|(_, reason)| !reason.contains(SECRET)));
    assert!(!format!("{:?}", server.rtc()).contains(SECRET));
    assert!(!format!("{:?}", RtcConfig::new(KEY, SECRET)).contains(SECRET));
}

#[tokio::test]
async fn the_single_peer_connection_path_gets_404_so_clients_fall_back() {
    let server = server().await;
    assert_eq!(status(connect(&server, "/rtc/v1", &token("alice", "demo", SECRET)).await), 404);
    let connection = &server.rtc().connections()[0];
    assert_eq!(connection.path, "/rtc/v1");
    assert_eq!(connection.protocol, Some(18));
}

#[tokio::test]
async fn an_injected_refusal_hits_the_next_connection_only() {
    let server = server().await;
    server.rtc().inject(RtcFault::RefuseToken);
    assert_eq!(status(connect(&server, "/rtc", &token("alice", "demo", SECRET)).await), 401);
    let mut socket = connect(&server, "/rtc", &token("alice", "demo", SECRET)).await.unwrap();
    assert!(matches!(next(&mut socket).await, Some(Message::Join(_))));
}

#[tokio::test]
async fn the_aborting_join_response_has_no_room_and_a_zero_ping_interval() {
    let server = server().await;
    server.rtc().inject(RtcFault::AbortingJoinResponse);
    let mut socket = connect(&server, "/rtc", &token("alice", "demo", SECRET)).await.unwrap();
    let Some(Message::Join(join)) = next(&mut socket).await else { panic!("no JoinResponse") };
    assert!(join.room.is_none());
    assert_eq!(join.ping_interval, 0);
    // It does not join the room.
    assert!(server.rtc().participants("demo").is_empty());
}

#[tokio::test]
async fn the_signal_socket_is_dropped_after_the_injected_delay_and_on_demand() {
    let server = server().await;
    server.rtc().inject(RtcFault::DropSignalAfter(Duration::from_millis(300)));
    let mut socket = connect(&server, "/rtc", &token("alice", "demo", SECRET)).await.unwrap();
    assert!(matches!(next(&mut socket).await, Some(Message::Join(_))));
    let started = tokio::time::Instant::now();
    while next(&mut socket).await.is_some() {}
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "dropped after {:?}",
        started.elapsed()
    );

    let mut socket = connect(&server, "/rtc", &token("bob", "demo", SECRET)).await.unwrap();
    assert!(matches!(next(&mut socket).await, Some(Message::Join(_))));
    assert!(server.rtc().drop_signal("bob"));
    while next(&mut socket).await.is_some() {}
    assert!(!server.rtc().drop_signal("bob"), "the session is gone");
    // A dropped session leaves the room.
    let deadline = tokio::time::Instant::now() + WAIT;
    while !server.rtc().participants("demo").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the dropped sessions stayed in the room");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_client_attribute_update_reaches_the_others_and_is_acknowledged() {
    let server = server().await;
    let bot = server.rtc().join("demo", "bot").unwrap();
    let mut socket = connect(&server, "/rtc", &token("agent", "demo", SECRET)).await.unwrap();
    for state in ["listening", "thinking", "speaking"] {
        let attributes = HashMap::from([("lk.agent.state".to_owned(), state.to_owned())]);
        let update = UpdateParticipantMetadata { attributes, request_id: 7, ..Default::default() };
        send(&mut socket, signal_request::Message::UpdateMetadata(update)).await;
    }
    bot.wait_attribute("agent", "lk.agent.state", "speaking", WAIT).await.unwrap();
    assert_eq!(
        bot.attribute_history("agent", "lk.agent.state"),
        ["listening", "thinking", "speaking"]
    );
    // The client itself gets the update and the acknowledgment of its request.
    let mut acknowledged = false;
    let mut echoed = false;
    while !(acknowledged && echoed) {
        match next(&mut socket).await.expect("the session stays open") {
            Message::RequestResponse(response) => acknowledged |= response.request_id == 7,
            Message::Update(update) => {
                echoed |= update.participants.iter().any(|p| {
                    p.identity == "agent"
                        && p.attributes.get("lk.agent.state").is_some_and(|v| v == "speaking")
                });
            }
            _ => {}
        }
    }
}

fn tone(frequency: f64, seconds: f64) -> Vec<i16> {
    (0..(16_000.0 * seconds) as usize)
        .map(|i| {
            ((2.0 * std::f64::consts::PI * frequency * i as f64 / 16_000.0).sin() * 8000.0) as i16
        })
        .collect()
}

/// The frequency of a 48 kHz tone from its zero crossings.
fn pitch(pcm: &[i16]) -> f64 {
    let crossings = pcm.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (pcm.len() as f64 / 48_000.0)
}

#[tokio::test]
async fn audio_published_by_one_server_participant_is_captured_by_another() {
    let server = server().await;
    let alice = server.rtc().join("demo", "alice").unwrap();
    let bob = server.rtc().join("demo", "bob").unwrap();
    // 16 kHz PCM in, 48 kHz out: resampled, Opus-encoded, forwarded, decoded.
    alice.publish_pcm(&tone(440.0, 1.0), 16_000).await.unwrap();
    let heard = bob.wait_captured("alice", Duration::from_millis(900), WAIT).await.unwrap();
    let body = &heard[heard.len() / 4..];
    assert!((pitch(body) - 440.0).abs() < 10.0, "bob heard {} Hz", pitch(body));
    assert!(bob.captured("nobody").is_empty());
    // bob was told about alice's track before its audio.
    let announced = bob
        .participant_updates()
        .into_iter()
        .find(|p| p.identity == "alice" && !p.tracks.is_empty());
    assert!(announced.unwrap().tracks[0].sid.starts_with("TR_"));
    // A newcomer is routed the tracks published before it joined.
    let carol = server.rtc().join("demo", "carol").unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    alice.publish_pcm(&tone(880.0, 0.5), 16_000).await.unwrap();
    let heard = carol.wait_captured("alice", Duration::from_millis(400), WAIT).await.unwrap();
    assert!((pitch(&heard[heard.len() / 4..]) - 880.0).abs() < 15.0);
}

#[tokio::test]
async fn text_streams_and_data_reach_the_others_with_the_sender_stamped() {
    let server = server().await;
    let agent = server.rtc().join("demo", "agent").unwrap();
    let user = server.rtc().join("demo", "user").unwrap();
    let other = server.rtc().join("demo", "other").unwrap();
    let attributes = HashMap::from([("lk.transcription_final".to_owned(), "true".to_owned())]);
    agent.send_text("lk.transcription", "Hello there.", attributes.clone(), &[]);
    user.send_chat("print to the console");
    agent.publish_data(b"only for user", Some("t"), true);

    let stream = user.wait_text_stream("lk.transcription", |_| true, WAIT).await.unwrap();
    assert_eq!((stream.text.as_str(), stream.sender_identity.as_str()), ("Hello there.", "agent"));
    assert_eq!(stream.attributes, attributes);
    let chat = agent.wait_text_stream("lk.chat", |_| true, WAIT).await.unwrap();
    assert_eq!(
        (chat.text.as_str(), chat.sender_identity.as_str()),
        ("print to the console", "user")
    );
    // A sender does not receive its own packets.
    assert!(agent.text_streams().iter().all(|s| s.sender_identity != "agent"));
    assert_eq!(other.text_streams().len(), 2);

    // Destinations limit who receives a stream.
    agent.send_text("lk.chat", "just you", HashMap::new(), &["user"]);
    user.wait_text_stream("lk.chat", |s| s.text == "just you", WAIT).await.unwrap();
    assert!(other.text_streams().iter().all(|s| s.text != "just you"));
}

#[tokio::test]
async fn refusing_all_tokens_lasts_until_the_faults_are_cleared() {
    let server = server().await;
    server.rtc().inject(RtcFault::RefuseAllTokens);
    for _ in 0..3 {
        assert_eq!(status(connect(&server, "/rtc", &token("alice", "demo", SECRET)).await), 401);
    }
    server.rtc().clear_faults();
    let mut socket = connect(&server, "/rtc", &token("alice", "demo", SECRET)).await.unwrap();
    assert!(matches!(next(&mut socket).await, Some(Message::Join(_))));
}

#[tokio::test]
async fn a_resume_is_refused_so_the_client_rejoins() {
    let server = server().await;
    let token = token("alice", "demo", SECRET);
    let url =
        format!("{}/rtc?protocol=18&reconnect=1&sid=PA_old&reconnect_reason=1", server.ws_url());
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let stream = TcpStream::connect(server.address()).await.unwrap();
    let result = tokio_tungstenite::client_async(request, stream).await.map(|(socket, _)| socket);
    assert_eq!(status(result), 401);
    assert!(server.rtc().connections()[0].refused.as_ref().unwrap().1.contains("not resumed"));
}

#[tokio::test]
async fn the_disconnect_fault_sends_a_leave_request_then_closes() {
    let server = server().await;
    server.rtc().inject(RtcFault::DisconnectAfter(Duration::from_millis(200)));
    let mut socket = connect(&server, "/rtc", &token("alice", "demo", SECRET)).await.unwrap();
    let mut leave = None;
    while let Some(message) = next(&mut socket).await {
        if let Message::Leave(request) = message {
            leave = Some(request);
        }
    }
    let leave = leave.expect("a LeaveRequest before the close");
    assert!(!leave.can_reconnect);
    assert_eq!(leave.action, livekit_protocol::leave_request::Action::Disconnect as i32);
    assert_eq!(leave.reason, livekit_protocol::DisconnectReason::ParticipantRemoved as i32);
}

#[tokio::test]
async fn joining_again_with_the_same_identity_replaces_the_old_session() {
    let server = server().await;
    let mut first = connect(&server, "/rtc", &token("alice", "demo", SECRET)).await.unwrap();
    let Some(Message::Join(first_join)) = next(&mut first).await else { panic!("no JoinResponse") };
    let mut second = connect(&server, "/rtc", &token("alice", "demo", SECRET)).await.unwrap();
    let Some(Message::Join(second_join)) = next(&mut second).await else {
        panic!("no JoinResponse")
    };
    assert_ne!(first_join.participant.unwrap().sid, second_join.participant.as_ref().unwrap().sid);
    // The old session was dropped; the room holds the new one only.
    while next(&mut first).await.is_some() {}
    let participants = server.rtc().participants("demo");
    assert_eq!(participants.len(), 1);
    assert_eq!(participants[0].sid, second_join.participant.unwrap().sid);
    // The new session is served.
    send(&mut second, signal_request::Message::PingReq(Ping { timestamp: 5, rtt: 0 })).await;
    loop {
        if let Some(Message::PongResp(pong)) = next(&mut second).await {
            assert_eq!(pong.last_ping_timestamp, 5);
            break;
        }
    }
}

#[tokio::test]
async fn captured_audio_keeps_the_senders_timeline_with_silence_in_pauses() {
    let server = server().await;
    let alice = server.rtc().join("demo", "alice").unwrap();
    let bob = server.rtc().join("demo", "bob").unwrap();
    alice.publish_pcm(&tone(440.0, 0.4), 16_000).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    alice.publish_pcm(&tone(440.0, 0.4), 16_000).await.unwrap();
    let heard = bob.wait_captured("alice", Duration::from_millis(1700), WAIT).await.unwrap();
    let seconds = heard.len() as f64 / 48_000.0;
    assert!((1.7..2.0).contains(&seconds), "captured {seconds} s");
    let loud = |from: f64, to: f64| {
        let part = &heard[(from * 48_000.0) as usize..(to * 48_000.0) as usize];
        part.iter().map(|&s| i32::from(s).abs()).max().unwrap_or(0) > 2000
    };
    assert!(loud(0.1, 0.3), "the first tone");
    assert!(!loud(0.6, 1.2), "the pause is silent");
    assert!(loud(seconds - 0.3, seconds - 0.1), "the second tone");
}

#[tokio::test]
async fn a_malformed_single_peer_connection_join_request_gets_400_with_the_reason() {
    let config = RtcConfig::new(KEY, SECRET)
        .with_udp_addr(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .with_single_peer_connection(true);
    let server =
        TestServer::start_with(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await.unwrap();
    let token = token("alice", "demo", SECRET);
    assert_eq!(status(connect(&server, "/rtc/v1", &token).await), 400);
    let url = format!("{}/rtc/v1?join_request=not*base64", server.ws_url());
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let stream = TcpStream::connect(server.address()).await.unwrap();
    assert_eq!(status(tokio_tungstenite::client_async(request, stream).await.map(|(s, _)| s)), 400);
    let reasons: Vec<_> =
        server.rtc().connections().into_iter().map(|c| c.refused.unwrap().1).collect();
    assert!(reasons[0].contains("needs a join_request"), "{reasons:?}");
    assert!(reasons[1].contains("not base64"), "{reasons:?}");
}

#[tokio::test]
async fn one_listener_serves_agent_and_rtc_with_either_token_carrier() {
    let server = server().await;
    // The LiveKit client library sends its token as the `access_token` query parameter.
    let token = token("alice", "demo", SECRET);
    let url = format!("{}/rtc?protocol=18&access_token={token}", server.ws_url());
    let stream = TcpStream::connect(server.address()).await.unwrap();
    let (mut rtc, _) =
        tokio_tungstenite::client_async(url.into_client_request().unwrap(), stream).await.unwrap();
    let Some(Message::Join(join)) = next(&mut rtc).await else { panic!("no JoinResponse") };
    assert_eq!(join.participant.unwrap().identity, "alice");

    // A worker, on the same port, sends a bearer header with the `agent` grant.
    let worker = AccessToken::with_api_key(KEY, SECRET)
        .with_grants(VideoGrants { agent: true, ..Default::default() })
        .to_jwt()
        .unwrap();
    let mut request = format!("{}/agent", server.ws_url()).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {worker}").parse().unwrap());
    let stream = TcpStream::connect(server.address()).await.unwrap();
    tokio_tungstenite::client_async(request, stream).await.unwrap();

    // An `/rtc` token in the query of `/agent` is not a worker's credential.
    let url = format!("{}/agent?access_token={token}", server.ws_url());
    let stream = TcpStream::connect(server.address()).await.unwrap();
    assert_eq!(
        status(
            tokio_tungstenite::client_async(url.into_client_request().unwrap(), stream)
                .await
                .map(|(socket, _)| socket)
        ),
        401
    );

    let routed: Vec<_> =
        server.upgrades().into_iter().map(|upgrade| (upgrade.path, upgrade.refused)).collect();
    assert_eq!(
        routed,
        [("/rtc".to_owned(), None), ("/agent".to_owned(), None), ("/agent".to_owned(), Some(401))]
    );
    assert_eq!(server.rtc().participants("demo").len(), 1);
}

#[tokio::test]
async fn an_unpublished_track_is_withdrawn_and_a_republished_one_routed_again() {
    let server = server().await;
    let alice = server.rtc().join("demo", "alice").unwrap();
    let bob = server.rtc().join("demo", "bob").unwrap();
    let mut socket = connect(&server, "/rtc", &token("carol", "demo", SECRET)).await.unwrap();
    alice.publish_pcm(&tone(440.0, 0.5), 16_000).await.unwrap();
    let first = alice.track_sid().await.unwrap();
    bob.wait_captured("alice", Duration::from_millis(400), WAIT).await.unwrap();

    assert_eq!(alice.unpublish().await.as_deref(), Some(first.as_str()));
    assert_eq!(alice.track_sid().await, None);
    let latest =
        bob.participant_updates().into_iter().rev().find(|p| p.identity == "alice").unwrap();
    assert!(latest.tracks.is_empty(), "bob was told the track is gone");
    // The signal client is told with TrackUnpublished.
    loop {
        match next(&mut socket).await.expect("the session stays open") {
            Message::TrackUnpublished(unpublished) => {
                assert_eq!(unpublished.track_sid, first);
                break;
            }
            _ => continue,
        }
    }

    bob.clear_captured();
    alice.publish_pcm(&tone(880.0, 0.5), 16_000).await.unwrap();
    let second = alice.track_sid().await.unwrap();
    assert_ne!(second, first);
    let heard = bob.wait_captured("alice", Duration::from_millis(400), WAIT).await.unwrap();
    assert!(
        (pitch(&heard[heard.len() / 4..]) - 880.0).abs() < 15.0,
        "bob heard {} Hz",
        pitch(&heard)
    );
}
