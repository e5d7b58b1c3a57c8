//! The test server's SFU with a WebRTC client (webrtc-rs on loopback) speaking the LiveKit
//! signal protocol as livekit-ffi does: it answers the subscriber offer, publishes an Opus
//! track (AddTrackRequest, then a publisher offer), sends a text stream on its `_reliable`
//! data channel, and receives a server-side participant's audio and `lk.chat` text.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_test_support::TestServer;
use agents_test_support::livekit::rtc::RtcConfig;
use bytes::{Bytes, BytesMut};
use futures::{SinkExt as _, StreamExt as _};
use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_protocol::data_packet::Value;
use livekit_protocol::{
    AddTrackRequest, DataPacket, SessionDescription, SignalRequest, SignalResponse, TrackSource,
    TrackType, data_stream, signal_request, signal_response::Message,
};
use prost::Message as _;
use rtc::data_channel::RTCDataChannelInit;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::MediaStreamTrack;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceGatheringState, RTCSessionDescription, Registry,
    SettingEngineBuilder, register_default_interceptors,
};

const KEY: &str = "devkey";
const SECRET: &str = "secret-secret-secret-secret-secret";
const WAIT: Duration = Duration::from_secs(15);

fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.into(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
        rtcp_feedback: vec![],
    }
}

#[derive(Default)]
struct Received {
    pcm: Vec<i16>,
    packets: Vec<DataPacket>,
    track_stream_ids: Vec<String>,
}

struct Handler {
    gathering: watch::Sender<RTCIceGatheringState>,
    received: Arc<Mutex<Received>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.gathering.send_replace(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let stream_id = track.stream_id().await;
        self.received.lock().unwrap().track_stream_ids.push(stream_id);
        let received = Arc::clone(&self.received);
        tokio::spawn(async move {
            let mut decoder = opus::Decoder::new(48_000, opus::Channels::Mono).unwrap();
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                    let mut pcm = [0_i16; 5760];
                    if let Ok(n) = decoder.decode(&packet.payload, &mut pcm, false) {
                        received.lock().unwrap().pcm.extend_from_slice(&pcm[..n]);
                    }
                }
            }
        });
    }

    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        let received = Arc::clone(&self.received);
        tokio::spawn(async move {
            while let Some(event) = channel.poll().await {
                if let DataChannelEvent::OnMessage(message) = event {
                    received
                        .lock()
                        .unwrap()
                        .packets
                        .push(DataPacket::decode(message.data.as_ref()).unwrap());
                }
            }
        });
    }
}

async fn peer(
    received: Arc<Mutex<Received>>,
) -> (Arc<dyn PeerConnection>, watch::Receiver<RTCIceGatheringState>) {
    let mut media_engine = MediaEngine::default();
    media_engine
        .register_codec(
            RTCRtpCodecParameters { rtp_codec: opus(), payload_type: 111 },
            RtpCodecKind::Audio,
        )
        .unwrap();
    let registry = register_default_interceptors(Registry::new(), &mut media_engine).unwrap();
    let (gathering, gathered) = watch::channel(RTCIceGatheringState::New);
    let pc = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(media_engine)
        .with_setting_engine(
            SettingEngineBuilder::new().with_multicast_dns_mode(MulticastDnsMode::Disabled).build(),
        )
        .with_interceptor_registry(registry)
        .with_handler(Arc::new(Handler { gathering, received }))
        .with_udp_addrs(vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 0))])
        .build()
        .await
        .unwrap();
    (Arc::new(pc), gathered)
}

async fn complete(
    pc: &Arc<dyn PeerConnection>,
    gathered: &mut watch::Receiver<RTCIceGatheringState>,
    description: RTCSessionDescription,
) -> String {
    pc.set_local_description(description).await.unwrap();
    tokio::time::timeout(WAIT, gathered.wait_for(|s| *s == RTCIceGatheringState::Complete))
        .await
        .unwrap()
        .unwrap();
    pc.local_description().await.unwrap().sdp
}

fn pitch(pcm: &[i16]) -> f64 {
    let crossings = pcm.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (pcm.len() as f64 / 48_000.0)
}

fn tone(frequency: f64, seconds: f64) -> Vec<i16> {
    (0..(48_000.0 * seconds) as usize)
        .map(|i| {
            ((2.0 * std::f64::consts::PI * frequency * i as f64 / 48_000.0).sin() * 8000.0) as i16
        })
        .collect()
}

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webrtc_client_exchanges_audio_and_text_streams_through_the_sfu() {
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let server =
        TestServer::start_with(loopback, RtcConfig::new(KEY, SECRET).with_udp_addr(loopback))
            .await
            .unwrap();
    let bot = server.rtc().join("demo", "bot").unwrap();

    // Signal.
    let token = AccessToken::with_api_key(KEY, SECRET)
        .with_identity("alice")
        .with_grants(VideoGrants { room_join: true, room: "demo".into(), ..Default::default() })
        .to_jwt()
        .unwrap();
    let mut request = format!("{}/rtc?protocol=18", server.ws_url()).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (socket, _) = tokio_tungstenite::client_async(
        request,
        TcpStream::connect(server.address()).await.unwrap(),
    )
    .await
    .unwrap();
    let (mut sink, mut stream) = socket.split();
    let (request_tx, mut request_rx) = mpsc::unbounded_channel::<signal_request::Message>();
    tokio::spawn(async move {
        while let Some(message) = request_rx.recv().await {
            let frame = WsMessage::binary(SignalRequest { message: Some(message) }.encode_to_vec());
            if sink.send(frame).await.is_err() {
                break;
            }
        }
    });
    // The subscriber connection answers every offer of the server (the first one and each
    // renegotiation as tracks come); the other messages go to the test.
    let received = Arc::new(Mutex::new(Received::default()));
    let (subscriber, mut sub_gathered) = peer(Arc::clone(&received)).await;
    let (signal_tx, mut signal_rx) = mpsc::unbounded_channel::<Message>();
    let offers = Arc::new(Mutex::new(0));
    let answerer = Arc::clone(&subscriber);
    let answered = Arc::clone(&offers);
    let requests = request_tx.clone();
    tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            let WsMessage::Binary(bytes) = message else { continue };
            match SignalResponse::decode(bytes.as_ref()).unwrap().message {
                Some(Message::Offer(offer)) => {
                    answerer
                        .set_remote_description(RTCSessionDescription::offer(offer.sdp).unwrap())
                        .await
                        .unwrap();
                    let answer = answerer.create_answer(None).await.unwrap();
                    let sdp = complete(&answerer, &mut sub_gathered, answer).await;
                    let answer =
                        SessionDescription { r#type: "answer".into(), sdp, ..Default::default() };
                    let _ = requests.send(signal_request::Message::Answer(answer));
                    *answered.lock().unwrap() += 1;
                }
                Some(message) => {
                    let _ = signal_tx.send(message);
                }
                None => {}
            }
        }
    });
    let mut expect = async |what: &str| -> Message {
        tokio::time::timeout(WAIT, signal_rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what}"))
            .unwrap()
    };
    let Message::Join(join) = expect("JoinResponse").await else { panic!("not a JoinResponse") };
    let bot_sid = join.other_participants[0].sid.clone();
    eventually("the first subscriber offer", || *offers.lock().unwrap() == 1).await;

    // The publisher connection: announce the track, then offer it with a `_reliable` channel.
    let (publisher, mut pub_gathered) = peer(Arc::new(Mutex::new(Received::default()))).await;
    let ssrc = 4242;
    let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "stream-1".into(),
        "mic-cid".into(),
        "mic".into(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: opus(),
            ..Default::default()
        }],
    )));
    publisher.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>).await.unwrap();
    let reliable = publisher
        .create_data_channel("_reliable", Some(RTCDataChannelInit::default()))
        .await
        .unwrap();
    let add = AddTrackRequest {
        cid: "mic-cid".into(),
        name: "mic".into(),
        r#type: TrackType::Audio as i32,
        source: TrackSource::Microphone as i32,
        ..Default::default()
    };
    request_tx.send(signal_request::Message::AddTrack(add)).unwrap();
    let published = loop {
        match expect("TrackPublishedResponse").await {
            Message::TrackPublished(published) => break published,
            Message::Update(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(published.cid, "mic-cid");
    let track_sid = published.track.unwrap().sid;
    assert!(track_sid.starts_with("TR_"));
    let offer = publisher.create_offer(None).await.unwrap();
    let sdp = complete(&publisher, &mut pub_gathered, offer).await;
    let offer = SessionDescription { r#type: "offer".into(), sdp, id: 1, ..Default::default() };
    request_tx.send(signal_request::Message::Offer(offer)).unwrap();
    let answer = loop {
        match expect("publisher answer").await {
            Message::Answer(answer) => break answer,
            Message::Update(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(answer.id, 1);
    publisher
        .set_remote_description(RTCSessionDescription::answer(answer.sdp).unwrap())
        .await
        .unwrap();

    // The client's microphone: a 440 Hz tone, 20 ms Opus packets in real time.
    let mut encoder =
        opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip).unwrap();
    let pcm = tone(440.0, 1.5);
    let mut pacer = tokio::time::interval(Duration::from_millis(20));
    for (i, frame) in pcm.chunks(960).enumerate() {
        pacer.tick().await;
        let mut out = [0_u8; 1500];
        let n = encoder.encode(frame, &mut out).unwrap();
        let packet = rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                payload_type: 111,
                sequence_number: i as u16,
                timestamp: (i * 960) as u32,
                ssrc,
                ..Default::default()
            },
            payload: Bytes::copy_from_slice(&out[..n]),
        };
        let _ = track.write_rtp(packet).await;
    }
    let heard = bot.wait_captured("alice", Duration::from_millis(800), WAIT).await.unwrap();
    let body = &heard[heard.len() / 4..];
    assert!((pitch(body) - 440.0).abs() < 10.0, "the server heard {} Hz", pitch(body));
    assert_eq!(server.rtc().participants("demo")[1].tracks[0].sid, track_sid);

    // The server-side participant's audio reaches the client, as `PA_…|TR_…`.
    bot.publish_pcm(&tone(660.0, 1.5), 48_000).await.unwrap();
    // Its track was offered to the client in a renegotiation.
    assert_eq!(*offers.lock().unwrap(), 2);
    eventually("the bot's audio at the client", || {
        received.lock().unwrap().pcm.len() >= 48_000 * 8 / 10
    })
    .await;
    let heard = received.lock().unwrap().pcm.clone();
    assert!(
        (pitch(&heard[heard.len() / 4..]) - 660.0).abs() < 10.0,
        "the client heard {} Hz",
        pitch(&heard)
    );
    let stream_id = received.lock().unwrap().track_stream_ids[0].clone();
    assert!(stream_id.starts_with(&format!("{bot_sid}|TR_")), "{stream_id}");

    // lk.chat from the bot arrives on the client's subscriber `_reliable` channel, stamped.
    bot.send_chat("hi alice");
    eventually("the chat at the client", || {
        received
            .lock()
            .unwrap()
            .packets
            .iter()
            .any(|p| matches!(&p.value, Some(Value::StreamChunk(c)) if c.content == b"hi alice"))
    })
    .await;
    assert!(received.lock().unwrap().packets.iter().all(|p| p.participant_identity == "bot"));

    // A text stream from the client reaches the bot, with the client's identity stamped.
    let packets = [
        Value::StreamHeader(data_stream::Header {
            stream_id: "S1".into(),
            topic: "lk.transcription".into(),
            content_header: Some(
                data_stream::header::ContentHeader::TextHeader(Default::default()),
            ),
            ..Default::default()
        }),
        Value::StreamChunk(data_stream::Chunk {
            stream_id: "S1".into(),
            content: b"hello bot".to_vec(),
            ..Default::default()
        }),
        Value::StreamTrailer(data_stream::Trailer { stream_id: "S1".into(), ..Default::default() }),
    ];
    for value in packets {
        let bytes = DataPacket { value: Some(value), ..Default::default() }.encode_to_vec();
        let deadline = tokio::time::Instant::now() + WAIT;
        while reliable.send(BytesMut::from(bytes.as_slice())).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "the data channel never opened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let text = bot.wait_text_stream("lk.transcription", |_| true, WAIT).await.unwrap();
    assert_eq!((text.text.as_str(), text.sender_identity.as_str()), ("hello bot", "alice"));
    assert!(server.rtc().errors().is_empty(), "{:?}", server.rtc().errors());
    let _ = publisher.close().await;
    let _ = subscriber.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withheld_answer_leaves_the_publisher_offer_unanswered_while_signal_goes_on() {
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let server =
        TestServer::start_with(loopback, RtcConfig::new(KEY, SECRET).with_udp_addr(loopback))
            .await
            .unwrap();
    server.rtc().inject(agents_test_support::livekit::rtc::RtcFault::WithholdPublisherAnswer);
    let token = AccessToken::with_api_key(KEY, SECRET)
        .with_identity("alice")
        .with_grants(VideoGrants { room_join: true, room: "demo".into(), ..Default::default() })
        .to_jwt()
        .unwrap();
    let mut request = format!("{}/rtc", server.ws_url()).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::client_async(
        request,
        TcpStream::connect(server.address()).await.unwrap(),
    )
    .await
    .unwrap();

    let (publisher, mut gathered) = peer(Arc::new(Mutex::new(Received::default()))).await;
    publisher.create_data_channel("_reliable", None).await.unwrap();
    let offer = publisher.create_offer(None).await.unwrap();
    let sdp = complete(&publisher, &mut gathered, offer).await;
    let requests = [
        signal_request::Message::Offer(SessionDescription {
            r#type: "offer".into(),
            sdp,
            id: 1,
            ..Default::default()
        }),
        signal_request::Message::PingReq(livekit_protocol::Ping { timestamp: 99, rtt: 0 }),
    ];
    for message in requests {
        let frame = WsMessage::binary(SignalRequest { message: Some(message) }.encode_to_vec());
        socket.send(frame).await.unwrap();
    }
    // Everything up to the pong: no answer among it.
    loop {
        let Some(Ok(WsMessage::Binary(bytes))) =
            tokio::time::timeout(WAIT, socket.next()).await.unwrap()
        else {
            panic!("the signal socket closed");
        };
        match SignalResponse::decode(bytes.as_ref()).unwrap().message {
            Some(Message::Answer(_)) => panic!("the answer was not withheld"),
            Some(Message::PongResp(pong)) => {
                assert_eq!(pong.last_ping_timestamp, 99);
                break;
            }
            _ => {}
        }
    }
    assert!(server.rtc().errors().is_empty(), "{:?}", server.rtc().errors());
    let _ = publisher.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_single_peer_connection_the_join_offer_is_answered_with_the_tracks_bound() {
    use base64::Engine as _;
    use std::io::Write as _;

    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let config =
        RtcConfig::new(KEY, SECRET).with_udp_addr(loopback).with_single_peer_connection(true);
    let server = TestServer::start_with(loopback, config).await.unwrap();
    let bot = server.rtc().join("demo", "bot").unwrap();
    bot.publish_pcm(&tone(660.0, 0.1), 48_000).await.unwrap();
    let bot_track = server.rtc().participants("demo")[0].tracks[0].sid.clone();

    // The client's one connection offers receive-only audio and its data channel.
    let received = Arc::new(Mutex::new(Received::default()));
    let (pc, mut gathered) = peer(Arc::clone(&received)).await;
    let recvonly = rtc::rtp_transceiver::RTCRtpTransceiverInit {
        direction: rtc::rtp_transceiver::RTCRtpTransceiverDirection::Recvonly,
        ..Default::default()
    };
    pc.add_transceiver_from_kind(RtpCodecKind::Audio, Some(recvonly)).await.unwrap();
    pc.create_data_channel("_reliable", None).await.unwrap();
    let offer = pc.create_offer(None).await.unwrap();
    let sdp = complete(&pc, &mut gathered, offer).await;
    let join = livekit_protocol::JoinRequest {
        publisher_offer: Some(SessionDescription {
            r#type: "offer".into(),
            sdp,
            id: 1,
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&join.encode_to_vec()).unwrap();
    let wrapped = livekit_protocol::WrappedJoinRequest {
        compression: livekit_protocol::wrapped_join_request::Compression::Gzip as i32,
        join_request: gzip.finish().unwrap(),
    };
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(wrapped.encode_to_vec());
    let token = AccessToken::with_api_key(KEY, SECRET)
        .with_identity("alice")
        .with_grants(VideoGrants { room_join: true, room: "demo".into(), ..Default::default() })
        .to_jwt()
        .unwrap();
    let mut request =
        format!("{}/rtc/v1?join_request={encoded}", server.ws_url()).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::client_async(
        request,
        TcpStream::connect(server.address()).await.unwrap(),
    )
    .await
    .unwrap();
    let mut next = async || loop {
        let Some(Ok(WsMessage::Binary(bytes))) =
            tokio::time::timeout(WAIT, socket.next()).await.unwrap()
        else {
            panic!("the signal socket closed");
        };
        if let Some(message) = SignalResponse::decode(bytes.as_ref()).unwrap().message {
            return message;
        }
    };
    let Message::Join(join) = next().await else { panic!("no JoinResponse first") };
    assert!(!join.subscriber_primary, "one connection: the publisher one is primary");
    let answer = loop {
        if let Message::Answer(answer) = next().await {
            break answer;
        }
    };
    assert_eq!(answer.id, 1);
    // The bot's track is bound to the offered receive-only section, and said so.
    let bound: Vec<_> = answer.mid_to_track_id.values().cloned().collect();
    assert_eq!(bound, [bot_track]);
    pc.set_remote_description(RTCSessionDescription::answer(answer.sdp).unwrap()).await.unwrap();

    bot.publish_pcm(&tone(660.0, 1.5), 48_000).await.unwrap();
    eventually("the bot's audio at the client", || {
        received.lock().unwrap().pcm.len() >= 48_000 * 8 / 10
    })
    .await;
    let heard = received.lock().unwrap().pcm.clone();
    assert!(
        (pitch(&heard[heard.len() / 4..]) - 660.0).abs() < 10.0,
        "the client heard {} Hz",
        pitch(&heard)
    );
    // Data to the client goes on the client's own `_reliable` channel.
    bot.send_chat("one connection");
    eventually("the chat at the client", || {
        received.lock().unwrap().packets.iter().any(
            |p| matches!(&p.value, Some(Value::StreamChunk(c)) if c.content == b"one connection"),
        )
    })
    .await;
    assert!(server.rtc().errors().is_empty(), "{:?}", server.rtc().errors());
    let _ = pc.close().await;
}
