//! Room IO against the test server's `/rtc` with the real `liblivekit_ffi.so`: a user in the
//! room speaks, the session (on in-process fakes) hears it through the linked participant's
//! microphone, answers, and the user hears the agent's voice track; the user leaving closes
//! the session.
//!
//! libwebrtc ignores loopback, so the test runs in a network namespace of its own: it needs
//! root and the library (`cargo xtask setup` installs it; without root the test fails saying
//! so, it never skips).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use agents_core::llm::{ChatItem, ChatRole};
use agents_core::prelude::*;
use agents_core::room_io::{RoomOptions, room_io};
use agents_core::testing::{FakeLlm, FakeLlmResponse, FakeStt, FakeTts, FakeVad, silence, tone};
use agents_core::tts::{ChunkedStream, Tts, TtsCapabilities, TtsError, TtsOptions};
use agents_core::voice::{AgentState, SayOptions, SessionEvent, UserState};
use agents_test_support::NetNs;
use agents_test_support::TestServer;
use agents_test_support::livekit::rtc::RtcConfig;
use futures::StreamExt;
use livekit_api::access_token::{AccessToken, VideoGrants};

const KEY: &str = "devkey";
const SECRET: &str = "secret-secret-secret-secret-secret";
const WAIT: Duration = Duration::from_secs(30);

/// The agent's token: an agent participant (LiveKit's server lets agents send text streams
/// on behalf of the user).
fn token(identity: &str) -> String {
    AccessToken::with_api_key(KEY, SECRET)
        .with_identity(identity)
        .with_kind("agent")
        .with_grants(VideoGrants { room_join: true, room: "demo".into(), ..Default::default() })
        .to_jwt()
        .unwrap()
}

fn transcript(session: &AgentSession) -> Vec<(ChatRole, String)> {
    session
        .history()
        .items()
        .iter()
        .filter_map(|item| match item {
            ChatItem::Message(m) if m.role != ChatRole::System => Some((m.role, m.text())),
            _ => None,
        })
        .collect()
}

fn peak(pcm: &[i16]) -> i32 {
    pcm.iter().map(|&s| i32::from(s).abs()).max().unwrap_or(0)
}

/// Runs `scenario` on a runtime of its own, in the process's network namespace (the
/// library's threads live in the namespace of the first test to use it), one scenario at a
/// time (the interruption test measures latencies).
fn in_netns<F: std::future::Future<Output = ()>>(scenario: impl FnOnce() -> F + Send + 'static) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let ns = NetNs::shared().expect("root, for a network namespace");
    let thread = ns
        .spawn_thread(|| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(scenario());
        })
        .unwrap();
    thread.join().unwrap().unwrap();
}

#[test]
fn a_user_in_the_room_talks_with_the_session_and_leaving_closes_it() {
    in_netns(scenario);
}

async fn scenario() {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let server = TestServer::start_with(address, RtcConfig::new(KEY, SECRET)).await.unwrap();
    let user = server.rtc().join("demo", "user").unwrap();

    let (rtc_room, events) =
        agents_rtc::Room::connect(&server.ws_url(), &token("agent"), Default::default())
            .await
            .unwrap();
    let room = room_io(rtc_room.clone(), events, RoomOptions::default()).await.unwrap();

    let llm = FakeLlm::new().on_input("Hello.", FakeLlmResponse::text("Hi there, how are you?"));
    let session = AgentSession::builder()
        .llm(llm.clone())
        .stt(Arc::new(FakeStt::new(["Hello."])))
        .tts(Arc::new(FakeTts::new().with_char_duration(Duration::from_millis(20))))
        .vad(Arc::new(FakeVad::new()))
        .min_endpointing_delay(Duration::from_millis(200))
        .build();
    session.start(Agent::new("You are friendly.")).room(&room).await.unwrap();

    // The agent's voice track reaches the user before anyone speaks: it is silent.
    user.wait_participant("agent", WAIT).await.unwrap();
    let rate = 16_000;
    let speech: Vec<i16> = tone(Duration::from_millis(700), 300.0, rate)
        .into_iter()
        .chain(silence(Duration::from_millis(1_500), rate))
        .flat_map(|frame| frame.data().to_vec())
        .collect();
    user.publish_pcm(&speech, rate).await.unwrap();

    let deadline = tokio::time::Instant::now() + WAIT;
    while transcript(&session).len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "turns so far: {:?}", transcript(&session));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        transcript(&session),
        [
            (ChatRole::User, "Hello.".to_owned()),
            (ChatRole::Assistant, "Hi there, how are you?".to_owned()),
        ]
    );
    // 22 characters at 20 ms: 440 ms of the agent's voice, heard by the user.
    let voice = user.wait_captured("agent", Duration::from_millis(400), WAIT).await.unwrap();
    assert!(peak(&voice) > 1_000, "the agent's audio is silent (peak {})", peak(&voice));

    // The user's final transcript and the agent's reply on `lk.transcription`.
    let heard = user
        .wait_text_stream(
            "lk.transcription",
            |s| {
                s.text == "Hello."
                    && s.attributes.get("lk.transcription_final").is_some_and(|f| f == "true")
            },
            WAIT,
        )
        .await
        .unwrap();
    // Under the user's identity, naming the user's microphone track.
    assert_eq!(heard.sender_identity, "user");
    assert!(heard.attributes.contains_key("lk.segment_id"));
    let microphone = user.track_sid().await.unwrap();
    assert_eq!(heard.attributes.get("lk.transcribed_track_id"), Some(&microphone));
    // The agent's reply, written word by word as it was heard, final at the end.
    let reply = user
        .wait_text_stream("lk.transcription", |s| s.text.trim() == "Hi there, how are you?", WAIT)
        .await
        .unwrap();
    assert_eq!(reply.sender_identity, "agent");
    assert_eq!(reply.attributes.get("lk.transcription_final").map(String::as_str), Some("true"));
    assert!(reply.attributes.get("lk.transcribed_track_id").is_some_and(|t| t.starts_with("TR_")));
    // How many chunks carry it is not checked: the reply's audio is 0.2 s long, and on a
    // loaded machine its words are rightly released together (this failed 1 run in 10); the
    // release by the playout clock is checked by the interruption tests, whose transcript
    // must stop at the words heard.

    assert_eq!(transcript(&session).len(), 2, "{:?}", transcript(&session));

    // The agent's state, as the user saw it change: a turn from listening back to listening.
    let deadline = tokio::time::Instant::now() + WAIT;
    let expected = ["listening", "thinking", "speaking", "listening"];
    loop {
        let states = user.attribute_history("agent", "lk.agent.state");
        let mut wanted = expected.iter().peekable();
        for state in &states {
            if wanted.peek().is_some_and(|w| *w == state) {
                wanted.next();
            }
        }
        if wanted.peek().is_none() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "lk.agent.state went {states:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The user leaves: the session closes.
    drop(user);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !session.is_closed() {
        assert!(tokio::time::Instant::now() < deadline, "the session stayed open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rtc_room.disconnect().await.unwrap();
}

/// Waits until `what` holds, polling.
async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !ready() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits for a session event that `matches`.
async fn until_event(
    events: &mut tokio::sync::broadcast::Receiver<SessionEvent>,
    matches: impl Fn(&SessionEvent) -> bool,
) -> SessionEvent {
    loop {
        let event = tokio::time::timeout(WAIT, events.recv()).await.unwrap().unwrap();
        if matches(&event) {
            return event;
        }
    }
}

fn replied_to(session: &AgentSession, input: &str) -> bool {
    let turns = transcript(session);
    turns
        .iter()
        .position(|(role, text)| *role == ChatRole::User && text == input)
        .is_some_and(|at| turns[at + 1..].iter().any(|(role, _)| *role == ChatRole::Assistant))
}

#[test]
fn lk_chat_gets_replies_before_during_and_right_after_a_reply() {
    in_netns(|| async {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let server = TestServer::start_with(address, RtcConfig::new(KEY, SECRET)).await.unwrap();
        let user = server.rtc().join("demo", "user").unwrap();
        let (rtc_room, events) =
            agents_rtc::Room::connect(&server.ws_url(), &token("agent"), Default::default())
                .await
                .unwrap();
        let room = room_io(rtc_room.clone(), events, RoomOptions::default()).await.unwrap();
        let long = "This reply is long enough to be talked over by the user.";
        let llm = FakeLlm::new()
            .on_input("first", FakeLlmResponse::text(long))
            .on_input("second", FakeLlmResponse::text("Second reply."))
            .on_input("third", FakeLlmResponse::text("Third reply."))
            .on_input("fourth", FakeLlmResponse::text("Fourth reply."));
        let session = AgentSession::builder()
            .llm(llm.clone())
            .tts(Arc::new(FakeTts::new().with_char_duration(Duration::from_millis(20))))
            .build();
        user.wait_participant("agent", WAIT).await.unwrap();
        // A message whose end never comes holds up no other.
        user.send_unfinished_text("lk.chat", "lost");
        // Before the session starts: kept until it does.
        user.send_chat("first");
        session.start(Agent::new("You are friendly.")).room(&room).await.unwrap();
        until("a reply to the first message", || replied_to(&session, "first")).await;

        // During the reply to the next one: it is interrupted, the new message answered.
        let mut events = session.subscribe();
        user.send_chat("fourth");
        until_event(&mut events, |event| {
            matches!(event, SessionEvent::AgentStateChanged { new_state: AgentState::Speaking, .. })
        })
        .await;
        user.send_chat("second");
        until("a reply to the message sent during a reply", || replied_to(&session, "second"))
            .await;

        // Right after a reply ends.
        until_event(&mut events, |event| {
            matches!(
                event,
                SessionEvent::AgentStateChanged {
                    old_state: AgentState::Speaking,
                    new_state: AgentState::Listening,
                    ..
                }
            )
        })
        .await;
        user.send_chat("third");
        until("a reply to the message sent right after a reply", || replied_to(&session, "third"))
            .await;
        rtc_room.disconnect().await.unwrap();
    });
}

/// The loudest 10 ms window's RMS of `pcm` (48 kHz), window by window.
fn windows_rms(pcm: &[i16]) -> Vec<f64> {
    pcm.chunks(480)
        .map(|w| (w.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / w.len() as f64).sqrt())
        .collect()
}

fn speech(duration_ms: u64, rate: u32, then_silence_ms: u64) -> Vec<i16> {
    tone(Duration::from_millis(duration_ms), 300.0, rate)
        .into_iter()
        .chain(silence(Duration::from_millis(then_silence_ms), rate))
        .flat_map(|frame| frame.data().to_vec())
        .collect()
}

#[test]
fn the_user_interrupting_stops_the_agents_voice_and_its_transcript_keeps_the_words_heard() {
    in_netns(|| async {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let server = TestServer::start_with(address, RtcConfig::new(KEY, SECRET)).await.unwrap();
        let user = server.rtc().join("demo", "user").unwrap();
        let (rtc_room, events) =
            agents_rtc::Room::connect(&server.ws_url(), &token("agent"), Default::default())
                .await
                .unwrap();
        let room = room_io(rtc_room.clone(), events, RoomOptions::default()).await.unwrap();
        // About 12 s of speech at 25 ms a character: the interruption lands mid-reply.
        let long = "Let me tell you a long story about a lighthouse keeper who lived alone on a \
                    small rocky island far out at sea, and who every night climbed the stairs \
                    to light the lamp for the ships passing by in the dark.";
        let llm = FakeLlm::new()
            .on_input("Hello.", FakeLlmResponse::text(long))
            .on_input("Stop.", FakeLlmResponse::text("Okay.").with_ttft(Duration::from_secs(2)));
        let session = AgentSession::builder()
            .llm(llm.clone())
            .stt(Arc::new(FakeStt::new(["Hello.", "Stop."])))
            .tts(Arc::new(FakeTts::new().with_char_duration(Duration::from_millis(25))))
            .vad(Arc::new(FakeVad::new()))
            .min_endpointing_delay(Duration::from_millis(200))
            .min_interruption_duration(Duration::ZERO)
            .build();
        session.start(Agent::new("You are friendly.")).room(&room).await.unwrap();
        user.wait_participant("agent", WAIT).await.unwrap();
        let rate = 16_000;
        user.publish_pcm(&speech(700, rate, 300), rate).await.unwrap();

        // The agent speaks; the user hears it for a while.
        user.wait_attribute("agent", "lk.agent.state", "speaking", WAIT).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Audible in most of the last 20 windows: one lost packet (the client library may
        // resume its connection under load) is not what this test is about, nor how soon
        // the agent's track reaches the user (its first packets came seconds late in 2 of 16
        // runs, with the publisher's connection slow to come up).
        until("the agent audible to the user before the interruption", || {
            let heard = windows_rms(&user.captured("agent"));
            heard.iter().rev().take(20).filter(|&&rms| rms > 1_000.0).count() >= 16
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;

        // The user speaks over it; the session detects the speech.
        let mut events = session.subscribe();
        let detected = async {
            until_event(&mut events, |event| {
                matches!(
                    event,
                    SessionEvent::UserStateChanged { new_state: UserState::Speaking, .. }
                )
            })
            .await;
            user.captured("agent").len()
        };
        let interruption = speech(600, rate, 1_000);
        let (published, detected_at) =
            tokio::join!(user.publish_pcm(&interruption, rate), detected);
        published.unwrap();

        // The agent's audio stops within 300 ms of the detection (the next reply waits 2 s).
        let windows = windows_rms(&user.captured("agent"));
        let from = detected_at / 480;
        let loud_after: Vec<usize> = windows
            .iter()
            .enumerate()
            .skip(from)
            .take(70)
            .filter(|(_, rms)| **rms > 1_000.0)
            .map(|(index, _)| index)
            .collect();
        let tail_ms = loud_after.last().map_or(0, |last| (last + 1 - from) * 10);
        eprintln!("the agent's voice went on {tail_ms} ms after the user's speech was detected");
        assert!(tail_ms <= 300, "the agent's voice went on {tail_ms} ms after the user's speech");
        assert!(
            windows.iter().skip(from + 30).take(40).all(|&rms| rms < 1_000.0),
            "the agent's voice came back before its next reply"
        );

        // Its state went from speaking to listening at the interruption (the reply had 10 s
        // more to go).
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let states = user.attribute_history("agent", "lk.agent.state");
            let speaking = states.iter().position(|s| s == "speaking").unwrap();
            if states.get(speaking + 1).is_some() {
                assert_eq!(states[speaking + 1], "listening", "{states:?}");
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "lk.agent.state went {states:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        // Its transcript of the interrupted reply keeps only the words heard, as the history.
        let kept = until_value("the interrupted reply in the history", || {
            session.history().items().iter().find_map(|item| match item {
                ChatItem::Message(m) if m.role == ChatRole::Assistant && m.interrupted => {
                    Some(m.text())
                }
                _ => None,
            })
        })
        .await;
        assert!(!kept.is_empty() && kept.len() < long.len(), "kept {kept:?}");
        let stream = user
            .wait_text_stream(
                "lk.transcription",
                |s| {
                    s.sender_identity == "agent"
                        && !s.text.trim().is_empty()
                        && long.starts_with(s.text.trim())
                },
                WAIT,
            )
            .await
            .unwrap();
        eprintln!("kept {kept:?}; lk.transcription {:?}", stream.text);
        assert_eq!(stream.text.trim(), kept.trim());
        assert_eq!(
            stream.attributes.get("lk.transcription_final").map(String::as_str),
            Some("true")
        );
        rtc_room.disconnect().await.unwrap();
    });
}

/// Waits until `value` gives something.
async fn until_value<T>(what: &str, mut value: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(value) = value() {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn a_reply_with_no_audio_is_transcribed_whole() {
    in_netns(|| async {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let server = TestServer::start_with(address, RtcConfig::new(KEY, SECRET)).await.unwrap();
        let user = server.rtc().join("demo", "user").unwrap();
        let (rtc_room, events) =
            agents_rtc::Room::connect(&server.ws_url(), &token("agent"), Default::default())
                .await
                .unwrap();
        let room = room_io(rtc_room.clone(), events, RoomOptions::default()).await.unwrap();
        let llm = FakeLlm::new().on_input("hi", FakeLlmResponse::text("Hello in text only."));
        // No TTS: the agent answers in text.
        let session = AgentSession::builder().llm(llm).build();
        session.start(Agent::new("You are friendly.")).room(&room).await.unwrap();
        user.wait_participant("agent", WAIT).await.unwrap();
        user.send_chat("hi");
        until("a reply to the chat message", || replied_to(&session, "hi")).await;
        let reply = user
            .wait_text_stream("lk.transcription", |s| s.sender_identity == "agent", WAIT)
            .await
            .unwrap();
        assert_eq!(reply.text, "Hello in text only.");
        assert_eq!(
            reply.attributes.get("lk.transcription_final").map(String::as_str),
            Some("true")
        );
        rtc_room.disconnect().await.unwrap();
    });
}

/// A TTS that speaks as [`FakeTts`] does, but fails the texts containing `fail_on` and, unless
/// `timed`, gives no word timings (it has no aligned transcript: its text comes as whole
/// chunks, one per sentence).
#[derive(Debug, Clone)]
struct TestTts {
    voice: FakeTts,
    timed: bool,
    fail_on: Option<&'static str>,
}

impl Tts for TestTts {
    fn capabilities(&self) -> TtsCapabilities {
        TtsCapabilities::new(false, self.timed)
    }

    fn sample_rate(&self) -> u32 {
        self.voice.sample_rate()
    }

    fn num_channels(&self) -> u16 {
        1
    }

    fn synthesize(&self, text: &str, options: &TtsOptions) -> ChunkedStream {
        if self.fail_on.is_some_and(|fail_on| text.contains(fail_on)) {
            return ChunkedStream::failed(text, TtsError::bad_response("no voice for this text"));
        }
        let timed = self.timed;
        let audio = self.voice.synthesize(text, options).map(move |audio| {
            audio.map(|mut audio| {
                if !timed {
                    audio.timed_transcript.clear();
                }
                audio
            })
        });
        ChunkedStream::new(text, audio)
    }
}

fn is_final(stream: &agents_test_support::livekit::rtc::TextStream) -> bool {
    stream.attributes.get("lk.transcription_final").is_some_and(|f| f == "true")
}

#[test]
fn a_say_left_out_of_the_history_does_not_hide_the_next_reply_from_the_transcript() {
    in_netns(|| async {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let server = TestServer::start_with(address, RtcConfig::new(KEY, SECRET)).await.unwrap();
        let user = server.rtc().join("demo", "user").unwrap();
        let (rtc_room, events) =
            agents_rtc::Room::connect(&server.ws_url(), &token("agent"), Default::default())
                .await
                .unwrap();
        let room = room_io(rtc_room.clone(), events, RoomOptions::default()).await.unwrap();
        let llm = FakeLlm::new().on_input("hi", FakeLlmResponse::text("Sorry, text only."));
        // The reply has no audio (its synthesis fails): the room shows it whole.
        let tts = TestTts {
            voice: FakeTts::new().with_char_duration(Duration::from_millis(10)),
            timed: true,
            fail_on: Some("text only"),
        };
        let session = AgentSession::builder().llm(llm).tts(Arc::new(tts)).build();
        session.start(Agent::new("You are friendly.")).room(&room).await.unwrap();
        user.wait_participant("agent", WAIT).await.unwrap();

        // Spoken and shown in the room, but not added to the history.
        let welcome =
            session.say_with("Welcome aboard.", SayOptions::default().with_add_to_chat_ctx(false));
        tokio::time::timeout(WAIT, welcome.wait_for_playout()).await.unwrap();
        let shown = user
            .wait_text_stream(
                "lk.transcription",
                |s| s.sender_identity == "agent" && is_final(s),
                WAIT,
            )
            .await
            .unwrap();
        assert_eq!(shown.text.trim(), "Welcome aboard.");
        assert!(transcript(&session).is_empty(), "{:?}", transcript(&session));

        // The next message added is not the welcome's: it is shown, whole.
        user.send_chat("hi");
        until("a reply to the chat message", || replied_to(&session, "hi")).await;
        let reply = user
            .wait_text_stream(
                "lk.transcription",
                |s| s.sender_identity == "agent" && s.text == "Sorry, text only.",
                WAIT,
            )
            .await
            .expect("the reply with no audio was not shown in the room");
        assert!(is_final(&reply));
        rtc_room.disconnect().await.unwrap();
    });
}

#[test]
fn an_interrupted_reply_of_a_tts_without_word_timings_is_transcribed_as_the_history_keeps_it() {
    in_netns(|| async {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let server = TestServer::start_with(address, RtcConfig::new(KEY, SECRET)).await.unwrap();
        let user = server.rtc().join("demo", "user").unwrap();
        let (rtc_room, events) =
            agents_rtc::Room::connect(&server.ws_url(), &token("agent"), Default::default())
                .await
                .unwrap();
        let room = room_io(rtc_room.clone(), events, RoomOptions::default()).await.unwrap();
        // No word timings: the TTS gives its text a sentence at a time. About 8 s of speech.
        let long = "Let me tell you a long story about a lighthouse keeper who lived alone on a \
                    small rocky island far out at sea.";
        let tts = TestTts {
            voice: FakeTts::new().with_char_duration(Duration::from_millis(70)),
            timed: false,
            fail_on: None,
        };
        let session = AgentSession::builder().llm(FakeLlm::new()).tts(Arc::new(tts)).build();
        session.start(Agent::new("You are friendly.")).room(&room).await.unwrap();
        user.wait_participant("agent", WAIT).await.unwrap();

        // A first sentence, heard whole (the room's first text stream is open when the long
        // one starts: its words are not held up by it).
        let hello = session.say("Hello.");
        tokio::time::timeout(WAIT, hello.wait_for_playout()).await.unwrap();
        let shown = user
            .wait_text_stream(
                "lk.transcription",
                |s| s.sender_identity == "agent" && is_final(s),
                WAIT,
            )
            .await
            .unwrap();
        assert_eq!(shown.text, "Hello.");

        let speech = session.say(long);
        user.wait_attribute("agent", "lk.agent.state", "speaking", WAIT).await.unwrap();
        tokio::time::sleep(Duration::from_millis(3_000)).await;
        session.interrupt();
        tokio::time::timeout(WAIT, speech.wait_for_playout()).await.unwrap();

        let kept = until_value("the interrupted say in the history", || {
            session.history().items().iter().find_map(|item| match item {
                ChatItem::Message(m) if m.role == ChatRole::Assistant && m.interrupted => {
                    Some(m.text())
                }
                _ => None,
            })
        })
        .await;
        assert!(!kept.is_empty() && kept.len() < long.len(), "kept {kept:?}");
        let shown = user
            .wait_text_stream(
                "lk.transcription",
                |s| s.sender_identity == "agent" && is_final(s) && s.text != "Hello.",
                WAIT,
            )
            .await
            .unwrap();
        eprintln!("kept {kept:?}; lk.transcription {:?}", shown.text);
        // The words heard, as the history keeps them (not the whole sentence shown when its
        // audio started). How many chunks carry them is not checked: words released together
        // (a late wake-up on a loaded machine) rightly go out in one chunk, and that failed
        // this test in a loaded run.
        assert_eq!(shown.text.trim(), kept.trim());
        rtc_room.disconnect().await.unwrap();
    });
}

#[test]
fn interrupted_after_its_audio_played_a_sentence_of_a_tts_without_word_timings_is_kept_whole() {
    in_netns(|| async {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let server = TestServer::start_with(address, RtcConfig::new(KEY, SECRET)).await.unwrap();
        let user = server.rtc().join("demo", "user").unwrap();
        let (rtc_room, events) =
            agents_rtc::Room::connect(&server.ws_url(), &token("agent"), Default::default())
                .await
                .unwrap();
        let room = room_io(rtc_room.clone(), events, RoomOptions::default()).await.unwrap();
        // A fast voice (the estimate times its words past the end of their audio) that takes
        // 3 s to start each sentence: the user interrupts between the two (0.7 s after the
        // first one's 135 ms of audio started, 2.3 s before the second one's would: room for
        // a late wake-up on a loaded machine).
        let tts = TestTts {
            voice: FakeTts::new()
                .with_char_duration(Duration::from_millis(5))
                .with_ttfb(Duration::from_millis(3_000)),
            timed: false,
            fail_on: None,
        };
        let session = AgentSession::builder().llm(FakeLlm::new()).tts(Arc::new(tts)).build();
        session.start(Agent::new("You are friendly.")).room(&room).await.unwrap();
        user.wait_participant("agent", WAIT).await.unwrap();

        let speech = session.say("Here is the first sentence. And here comes the second one.");
        user.wait_attribute("agent", "lk.agent.state", "speaking", WAIT).await.unwrap();
        tokio::time::sleep(Duration::from_millis(700)).await;
        session.interrupt();
        tokio::time::timeout(WAIT, speech.wait_for_playout()).await.unwrap();

        // The first sentence played to its end: heard whole, in the history and the room.
        let kept = until_value("the interrupted say in the history", || {
            session.history().items().iter().find_map(|item| match item {
                ChatItem::Message(m) if m.role == ChatRole::Assistant && m.interrupted => {
                    Some(m.text())
                }
                _ => None,
            })
        })
        .await;
        assert_eq!(kept, "Here is the first sentence.");
        let shown = user
            .wait_text_stream(
                "lk.transcription",
                |s| s.sender_identity == "agent" && is_final(s),
                WAIT,
            )
            .await
            .unwrap();
        assert_eq!(shown.text, kept);
        rtc_room.disconnect().await.unwrap();
    });
}
