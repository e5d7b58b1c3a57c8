//! In a LiveKit room, end to end: from the moment a participant stops speaking to the first
//! packet of the agent's answer that the participant receives, with instant fakes
//! (agents_core::testing's FakeVad, a streaming FakeStt, FakeLlm and FakeTts, no delays).
//! The configured `min_endpointing_delay` is subtracted: what is left is the framework's
//! share (issue 13: p50 under 30 ms).
//!
//! The room is the test server's `/rtc` (tests/support) in a network namespace of its own
//! (libwebrtc ignores loopback), the agent is the real `liblivekit_ffi.so` driven by room IO,
//! and the user is a participant inside the server: it publishes a tone, then silence, in
//! real time (20 ms Opus packets), and records when each packet of the agent's track arrives
//! (before decoding). No jitter buffer on the user's side: the packet's arrival at the server
//! is what a client would receive a forwarding hop later.
//!
//! Per turn it also timestamps the session's events (a task reading `session.subscribe()`):
//! the VAD's end of speech (user state `listening`), the turn committed (agent state
//! `thinking`) and the first TTS frame handed to the room's audio output (agent state
//! `speaking`), so the total splits into the input path, the endpointing wait, the pipeline
//! and the output path.
//!
//! Needs root (to create the network namespace) and the library (`cargo xtask setup`);
//! without either it fails saying so.
//!
//! `cargo bench -p agents-bench --bench room_latency` (about 2 minutes).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agents_bench::measure::{load_average, percentile};
use agents_core::prelude::*;
use agents_core::room_io::{RoomOptions, room_io};
use agents_core::testing::{FakeLlm, FakeLlmResponse, FakeStt, FakeTts, FakeVad};
use agents_core::voice::{AgentState, SessionEvent, UserState};
use agents_test_support::livekit::rtc::{RtcConfig, ServerParticipant};
use agents_test_support::{NetNs, TestServer};
use livekit_api::access_token::{AccessToken, VideoGrants};

const KEY: &str = "devkey";
const SECRET: &str = "secret-secret-secret-secret-secret";
const WAIT: Duration = Duration::from_secs(30);
const WARM_UP: usize = 3;
const TURNS: usize = 40;
/// The session's `min_endpointing_delay` (Python's default).
const ENDPOINTING: Duration = Duration::from_millis(500);
/// FakeVad's minimum silence (its default).
const VAD_SILENCE: Duration = Duration::from_millis(200);
/// The user's utterance: a 300 Hz tone.
const SPEECH: Duration = Duration::from_millis(400);
/// The agent's answer: 5 characters at FakeTts's 50 ms = 250 ms of a 440 Hz tone.
const ANSWER: &str = "Sure.";
/// A sample louder than this (of the agent's 8000-peak tone, after Opus) is its voice.
const AUDIBLE: i32 = 1_000;
/// The user's PCM rate (the server's: no resampling).
const RATE: u32 = 48_000;

fn token(identity: &str) -> String {
    AccessToken::with_api_key(KEY, SECRET)
        .with_identity(identity)
        .with_grants(VideoGrants { room_join: true, room: "bench".into(), ..Default::default() })
        .to_jwt()
        .unwrap()
}

fn tone(duration: Duration) -> Vec<i16> {
    let samples = (duration.as_secs_f64() * f64::from(RATE)) as usize;
    let step = 300.0 * std::f64::consts::TAU / f64::from(RATE);
    (0..samples).map(|i| ((i as f64 * step).sin() * 8_000.0) as i16).collect()
}

fn silence(duration: Duration) -> Vec<i16> {
    vec![0; (duration.as_secs_f64() * f64::from(RATE)) as usize]
}

/// When the session's events of one turn were seen (the first of each kind).
#[derive(Debug, Default, Clone, Copy)]
struct Marks {
    vad_end: Option<Instant>,
    committed: Option<Instant>,
    first_frame: Option<Instant>,
    listening_again: Option<Instant>,
}

/// The user's audio as the library delivers it to a second `AudioStream` of the agent's
/// room (no session behind it): when each 10 ms frame came out, and whether it was loud.
type Probe = Arc<Mutex<Vec<(Instant, bool)>>>;

/// One measured turn.
#[derive(Debug, Clone, Copy)]
struct Turn {
    /// The user's last loud packet sent → the agent's first loud packet received.
    total: Duration,
    marks: Marks,
    speech_end: Instant,
    first_packet: Instant,
    /// When the probe stream gave the last loud frame of the user's speech.
    probe_last_loud: Option<Instant>,
}

fn main() {
    let ns = match NetNs::create() {
        Ok(ns) => ns,
        Err(error) => {
            eprintln!(
                "room_latency needs a network namespace of its own (libwebrtc ignores loopback): \
                 {error}. Run it as root (sudo -E cargo bench -p agents-bench --bench room_latency)."
            );
            std::process::exit(1);
        }
    };
    let turns = ns
        .spawn_thread(|| {
            // Loaded inside the namespace: the library's threads (its sockets) live there.
            if let Err(error) = agents_rtc::library_path() {
                eprintln!(
                    "room_latency needs liblivekit_ffi.so: {error}. Run `cargo xtask setup`."
                );
                std::process::exit(1);
            }
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(scenario())
        })
        .unwrap()
        .join()
        .unwrap()
        .unwrap();
    report(&turns);
}

async fn scenario() -> Vec<Turn> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let server = TestServer::start_with(address, RtcConfig::new(KEY, SECRET)).await.unwrap();
    let user = server.rtc().join("bench", "user").unwrap();

    let (rtc_room, events) =
        agents_rtc::Room::connect(&server.ws_url(), &token("agent"), Default::default())
            .await
            .unwrap();
    let room = room_io(rtc_room.clone(), events, RoomOptions::default()).await.unwrap();

    let all = WARM_UP + TURNS;
    let mut llm = FakeLlm::new();
    for _ in 0..all {
        llm = llm.then(FakeLlmResponse::text(ANSWER));
    }
    let transcripts: Vec<String> = (0..all).map(|turn| format!("Question {turn}.")).collect();
    let session = AgentSession::builder()
        .llm(llm)
        .stt(Arc::new(FakeStt::streaming(transcripts)))
        .tts(Arc::new(FakeTts::new()))
        .vad(Arc::new(FakeVad::new().with_min_silence_duration(VAD_SILENCE)))
        .min_endpointing_delay(ENDPOINTING)
        .build();
    let marks = Arc::new(Mutex::new(Marks::default()));
    let mut session_events = session.subscribe();
    let watcher = {
        let marks = marks.clone();
        tokio::spawn(async move {
            while let Ok(event) = session_events.recv().await {
                let now = Instant::now();
                let mut marks = marks.lock().unwrap();
                match event {
                    SessionEvent::UserStateChanged { new_state: UserState::Listening, .. } => {
                        marks.vad_end.get_or_insert(now);
                    }
                    SessionEvent::AgentStateChanged { new_state: AgentState::Thinking, .. } => {
                        marks.committed.get_or_insert(now);
                    }
                    SessionEvent::AgentStateChanged { new_state: AgentState::Speaking, .. } => {
                        marks.first_frame.get_or_insert(now);
                    }
                    SessionEvent::AgentStateChanged {
                        new_state: AgentState::Listening, ..
                    } if marks.first_frame.is_some() => {
                        marks.listening_again.get_or_insert(now);
                    }
                    _ => {}
                }
            }
        })
    };
    session.start(Agent::new("Answer briefly.")).room(&room).await.unwrap();
    user.wait_participant("agent", WAIT).await.unwrap();
    // The agent subscribes to the user's microphone once it exists: publish some silence.
    user.publish_pcm(&silence(Duration::from_millis(500)), RATE).await.unwrap();

    let probe: Probe = Arc::default();
    let user_in_room =
        rtc_room.remote_participants().remove("user").expect("the user is in the room");
    let mut options = agents_rtc::AudioStreamOptions::default();
    options.sample_rate = RoomOptions::default().input_sample_rate;
    let mut stream = agents_rtc::AudioStream::from_participant(
        &user_in_room,
        agents_rtc::TrackSource::Microphone,
        options,
    )
    .unwrap();
    let prober = {
        let probe = probe.clone();
        tokio::spawn(async move {
            while let Some(frame) = stream.next().await {
                let loud = frame.data.iter().any(|&s| i32::from(s).abs() > AUDIBLE);
                probe.lock().unwrap().push((Instant::now(), loud));
            }
        })
    };

    let mut turns = Vec::with_capacity(TURNS);
    for index in 0..all {
        let turn = one_turn(&user, &marks, &probe).await;
        if index >= WARM_UP {
            turns.push(turn);
        }
    }
    drop(user);
    session.close().await;
    watcher.abort();
    prober.abort();
    rtc_room.disconnect().await.unwrap();
    turns
}

async fn one_turn(user: &ServerParticipant, marks: &Mutex<Marks>, probe: &Probe) -> Turn {
    user.clear_captured();
    *marks.lock().unwrap() = Marks::default();
    probe.lock().unwrap().clear();
    // `publish_pcm` returns once the last packet is sent: a client sends a 20 ms packet once
    // its audio was captured, so this is when the user stopped speaking.
    user.publish_pcm(&tone(SPEECH), RATE).await.unwrap();
    let speech_end = Instant::now();
    // The microphone goes on with silence until the answer was played and a little after.
    let deadline = speech_end + WAIT;
    loop {
        user.publish_pcm(&silence(Duration::from_millis(100)), RATE).await.unwrap();
        let done = marks.lock().unwrap().listening_again.is_some();
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no answer within {WAIT:?}: {:?}",
            marks.lock().unwrap()
        );
    }
    user.publish_pcm(&silence(Duration::from_millis(300)), RATE).await.unwrap();

    let pcm = user.captured("agent");
    let arrivals = user.captured_arrivals("agent");
    let loud = pcm
        .iter()
        .position(|&s| i32::from(s).abs() > AUDIBLE)
        .unwrap_or_else(|| panic!("the agent's answer was silent ({} samples)", pcm.len()));
    let first_packet = arrivals
        .iter()
        .find(|(_, end)| *end > loud)
        .map(|(at, _)| *at)
        .expect("an arrival for every captured sample");
    assert!(first_packet > speech_end, "the agent answered before the user finished");
    // The last loud frame of the speech: the last loud one before the agent's answer could
    // have been heard back (the probe hears only the user).
    let probe_last_loud = probe
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, loud)| *loud && *at < first_packet)
        .map(|(at, _)| *at)
        .next_back();
    Turn {
        probe_last_loud,
        total: first_packet - speech_end,
        marks: *marks.lock().unwrap(),
        speech_end,
        first_packet,
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

/// `later - earlier` in ms, signed.
fn signed_ms(later: Instant, earlier: Instant) -> f64 {
    if later >= earlier {
        (later - earlier).as_secs_f64() * 1e3
    } else {
        -((earlier - later).as_secs_f64() * 1e3)
    }
}

fn row(name: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
        values[rank.clamp(1, values.len()) - 1]
    };
    println!(
        "| {name} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
        values[0],
        at(50.0),
        at(90.0),
        at(99.0),
        values[values.len() - 1]
    );
}

fn report(turns: &[Turn]) {
    let mut totals: Vec<Duration> = turns.iter().map(|turn| turn.total).collect();
    totals.sort_unstable();
    let share = |d: Duration| d.saturating_sub(ENDPOINTING);
    println!(
        "# room_latency: user's end of speech → agent's first audio packet, {} turns (after {WARM_UP} warm-up)",
        turns.len()
    );
    println!(
        "min_endpointing_delay {}, FakeVad min silence {}; load average (1 min) {}",
        ms(ENDPOINTING),
        ms(VAD_SILENCE),
        load_average()
    );
    println!();
    println!(
        "framework's share (total − min_endpointing_delay): p50 {} p90 {} (total p50 {} p90 {})",
        ms(share(percentile(&totals, 50.0))),
        ms(share(percentile(&totals, 90.0))),
        ms(percentile(&totals, 50.0)),
        ms(percentile(&totals, 90.0)),
    );
    println!();
    println!("| piece | min | p50 | p90 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    let complete: Vec<&Turn> = turns
        .iter()
        .filter(|t| {
            t.marks.vad_end.is_some()
                && t.marks.committed.is_some()
                && t.marks.first_frame.is_some()
        })
        .collect();
    let vad_end = |t: &Turn| t.marks.vad_end.unwrap();
    let committed = |t: &Turn| t.marks.committed.unwrap();
    let first_frame = |t: &Turn| t.marks.first_frame.unwrap();
    row(
        "total: last loud packet sent → first loud agent packet received",
        turns.iter().map(|t| t.total.as_secs_f64() * 1e3).collect(),
    );
    row(
        "framework's share: total − min_endpointing_delay",
        turns
            .iter()
            .map(|t| t.total.as_secs_f64() * 1e3 - ENDPOINTING.as_secs_f64() * 1e3)
            .collect(),
    );
    row(
        "input: last loud packet sent → VAD end of speech, minus the VAD's silence window",
        complete
            .iter()
            .map(|t| signed_ms(vad_end(t), t.speech_end) - VAD_SILENCE.as_secs_f64() * 1e3)
            .collect(),
    );
    row(
        "last loud packet sent → VAD end of speech",
        complete.iter().map(|t| signed_ms(vad_end(t), t.speech_end)).collect(),
    );
    let probed: Vec<&&Turn> = complete.iter().filter(|t| t.probe_last_loud.is_some()).collect();
    row(
        "  of which: last loud packet sent → last loud 10 ms frame out of a bare AudioStream (SFU, libwebrtc's jitter buffer, the FFI)",
        probed.iter().map(|t| signed_ms(t.probe_last_loud.unwrap(), t.speech_end)).collect(),
    );
    row(
        "  of which: that frame → VAD end of speech, minus the VAD's silence window (room IO, the session's input, the VAD's frames)",
        probed
            .iter()
            .map(|t| {
                signed_ms(vad_end(t), t.probe_last_loud.unwrap()) - VAD_SILENCE.as_secs_f64() * 1e3
            })
            .collect(),
    );
    row(
        "VAD end of speech → turn committed (agent `thinking`)",
        complete.iter().map(|t| signed_ms(committed(t), vad_end(t))).collect(),
    );
    row(
        "last loud packet sent → turn committed, minus min_endpointing_delay",
        complete
            .iter()
            .map(|t| signed_ms(committed(t), t.speech_end) - ENDPOINTING.as_secs_f64() * 1e3)
            .collect(),
    );
    row(
        "turn committed → first TTS frame to the room's output (agent `speaking`)",
        complete.iter().map(|t| signed_ms(first_frame(t), committed(t))).collect(),
    );
    row(
        "first TTS frame to the output → first loud packet received",
        complete.iter().map(|t| signed_ms(t.first_packet, first_frame(t))).collect(),
    );
    if complete.len() < turns.len() {
        println!(
            "({} turns missed a session event and are left out of the pieces)",
            turns.len() - complete.len()
        );
    }
}
