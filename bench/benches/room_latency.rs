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
//! The input path is dissected with two bare `AudioStream`s of the user's microphone opened
//! in the agent's room (no session behind them), at room IO's 24 kHz and at the track's 48 kHz:
//! each frame's last loud sample is timed as if the frame had come out sample by sample, so
//! the 10 ms frames' granularity, the library's resampling and (with Opus's own delay, computed
//! offline with the same encoder settings) the jitter buffer each get their exact share. The
//! library's floor for the whole path is `room_echo` (the same room, an agent that echoes).
//!
//! Needs root (to create the network namespace) and the library (`cargo xtask setup`);
//! without either it fails saying so.
//!
//! `cargo bench -p agents-bench --bench room_latency` (about 2 minutes).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod room_common;

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
use room_common::{KEY, RATE, SECRET, row, signed_ms, silence, token, tone};

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

/// When the session's events of one turn were seen (the first of each kind).
#[derive(Debug, Default, Clone, Copy)]
struct Marks {
    vad_end: Option<Instant>,
    committed: Option<Instant>,
    first_frame: Option<Instant>,
    listening_again: Option<Instant>,
}

/// A frame of the user's audio as the library delivers it to a bare `AudioStream` of the
/// agent's room (no session behind it): when it came out, and the time of its last loud
/// sample had the frame come out sample by sample (`at` − the samples after it), which
/// takes the 10 ms frames' granularity out of the latency.
#[derive(Debug, Clone, Copy)]
struct Heard {
    at: Instant,
    last_loud: Option<Instant>,
}

fn heard(frame: &agents_rtc::AudioFrame, at: Instant) -> Heard {
    let channels = frame.num_channels.max(1) as usize;
    let last_loud = frame.data.iter().rposition(|&s| i32::from(s).abs() > AUDIBLE).map(|i| {
        let after = frame.data.len() / channels - 1 - i / channels;
        at - Duration::from_secs_f64(after as f64 / f64::from(frame.sample_rate.max(1)))
    });
    Heard { at, last_loud }
}

/// The frames of one probe stream.
type Probe = Arc<Mutex<Vec<Heard>>>;

/// The last loud frame heard before `before`.
fn last_loud(probe: &Probe, before: Instant) -> Option<Heard> {
    probe
        .lock()
        .unwrap()
        .iter()
        .rfind(|frame| frame.last_loud.is_some() && frame.at < before)
        .copied()
}

/// One measured turn.
#[derive(Debug, Clone, Copy)]
struct Turn {
    /// The user's last loud packet sent → the agent's first loud packet received.
    total: Duration,
    marks: Marks,
    speech_end: Instant,
    first_packet: Instant,
    /// The probe (24 kHz, room IO's rate) frame holding the user's last loud sample.
    probe: Option<Heard>,
    /// The same from a probe at 48 kHz (the track's rate: the library does not resample).
    probe_48k: Option<Heard>,
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

    let user_in_room =
        rtc_room.remote_participants().remove("user").expect("the user is in the room");
    let probe_at = |rate: u32| {
        let probe: Probe = Arc::default();
        let mut options = agents_rtc::AudioStreamOptions::default();
        options.sample_rate = rate;
        let mut stream = agents_rtc::AudioStream::from_participant(
            &user_in_room,
            agents_rtc::TrackSource::Microphone,
            options,
        )
        .unwrap();
        let task = {
            let probe = probe.clone();
            tokio::spawn(async move {
                while let Some(frame) = stream.next().await {
                    let frame = heard(&frame, Instant::now());
                    probe.lock().unwrap().push(frame);
                }
            })
        };
        (probe, task)
    };
    let (probe, prober) = probe_at(RoomOptions::default().input_sample_rate);
    let (probe_48k, prober_48k) = probe_at(RATE);
    let probes = [probe, probe_48k];

    let mut turns = Vec::with_capacity(TURNS);
    for index in 0..all {
        let turn = one_turn(&user, &marks, &probes).await;
        if index >= WARM_UP {
            turns.push(turn);
        }
    }
    drop(user);
    session.close().await;
    watcher.abort();
    prober.abort();
    prober_48k.abort();
    rtc_room.disconnect().await.unwrap();
    turns
}

async fn one_turn(user: &ServerParticipant, marks: &Mutex<Marks>, probes: &[Probe; 2]) -> Turn {
    user.clear_captured();
    *marks.lock().unwrap() = Marks::default();
    for probe in probes {
        probe.lock().unwrap().clear();
    }
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
    // have been heard back (the probes hear only the user).
    Turn {
        probe: last_loud(&probes[0], first_packet),
        probe_48k: last_loud(&probes[1], first_packet),
        total: first_packet - speech_end,
        marks: *marks.lock().unwrap(),
        speech_end,
        first_packet,
    }
}

/// How much later than in the input the tone's last loud sample comes out of an Opus
/// encoder and decoder set as the test server's participant encodes (48 kHz mono, VoIP,
/// 20 ms frames), in ms: the codec's share of the input path, the same in any client.
fn opus_trailing_delay() -> f64 {
    let mut encoder =
        opus::Encoder::new(RATE, opus::Channels::Mono, opus::Application::Voip).unwrap();
    let mut decoder = opus::Decoder::new(RATE, opus::Channels::Mono).unwrap();
    let mut input = silence(Duration::from_millis(200));
    input.extend(tone(SPEECH));
    input.extend(silence(Duration::from_millis(200)));
    let frame = (RATE / 50) as usize;
    let mut output = Vec::with_capacity(input.len());
    for chunk in input.chunks(frame) {
        let mut padded = vec![0_i16; frame];
        padded[..chunk.len()].copy_from_slice(chunk);
        let mut packet = [0_u8; 1500];
        let len = encoder.encode(&padded, &mut packet).unwrap();
        let mut pcm = [0_i16; 5760];
        let decoded = decoder.decode(&packet[..len], &mut pcm, false).unwrap();
        output.extend_from_slice(&pcm[..decoded]);
    }
    let last = |pcm: &[i16]| pcm.iter().rposition(|&s| i32::from(s).abs() > AUDIBLE).unwrap();
    (last(&output) as f64 - last(&input) as f64) * 1e3 / f64::from(RATE)
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
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
    let probed: Vec<(&Turn, Heard, Heard)> =
        complete.iter().filter_map(|t| Some((*t, t.probe?, t.probe_48k?))).collect();
    let sample = |h: Heard| h.last_loud.unwrap();
    let silence_ms = VAD_SILENCE.as_secs_f64() * 1e3;
    row(
        "  of which: last loud packet sent → last loud 10 ms frame out of a bare AudioStream at 24 kHz (SFU, libwebrtc's jitter buffer, the FFI)",
        probed.iter().map(|(t, p, _)| signed_ms(p.at, t.speech_end)).collect(),
    );
    row(
        "    the same, sample-exact: → the last loud sample, had the frame come out sample by sample",
        probed.iter().map(|(t, p, _)| signed_ms(sample(*p), t.speech_end)).collect(),
    );
    row(
        "    the same at 48 kHz (the track's rate, no resampling), sample-exact",
        probed.iter().map(|(t, _, p)| signed_ms(sample(*p), t.speech_end)).collect(),
    );
    row(
        "    the library's resampling to 24 kHz: sample-exact 24 kHz − 48 kHz",
        probed.iter().map(|(_, p, p48)| signed_ms(sample(*p), sample(*p48))).collect(),
    );
    row(
        "    the 10 ms frames' granularity: frame − sample-exact (24 kHz)",
        probed.iter().map(|(_, p, _)| signed_ms(p.at, sample(*p))).collect(),
    );
    let codec = opus_trailing_delay();
    row(
        "    jitter buffer (NetEq), playout pull and FFI: sample-exact 48 kHz − Opus's delay (offline, below)",
        probed.iter().map(|(t, _, p)| signed_ms(sample(*p), t.speech_end) - codec).collect(),
    );
    row(
        "  of which: that frame → VAD end of speech, minus the VAD's silence window (room IO, the session's input, the VAD's frames)",
        probed.iter().map(|(t, p, _)| signed_ms(vad_end(t), p.at) - silence_ms).collect(),
    );
    row(
        "  the last loud sample (sample-exact, 24 kHz) → VAD end − its silence window: ours, with the VAD's 10 ms frame granularity",
        probed.iter().map(|(t, p, _)| signed_ms(vad_end(t), sample(*p)) - silence_ms).collect(),
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
    println!();
    println!(
        "Opus (as the test server's participant encodes: 48 kHz mono, VoIP, 20 ms), offline: the tone's last loud sample comes out of the decoder {codec:.2} ms late (the encoder's look-ahead, the decoder)"
    );
    if complete.len() < turns.len() {
        println!(
            "({} turns missed a session event and are left out of the pieces)",
            turns.len() - complete.len()
        );
    }
}
