//! The library's floor for `room_latency`: the same room, the same user, but the agent is
//! only `agents_rtc` (the FFI crate over `liblivekit_ffi.so`: `Room`, `AudioStream`,
//! `AudioSource`), with no session, no VAD and no room IO. It forwards every 10 ms frame of
//! the user's microphone (24 kHz, as room IO reads it) straight into its published source
//! (24 kHz, the default queue of 1000 ms, as room IO publishes it): an echo. What the user
//! hears back late is what any agent on liblivekit_ffi pays, Python's included.
//!
//! The edge is the same as `room_latency`'s: the user's end of speech (its last loud packet
//! sent), through the library's input path, and then one sample through the library's output
//! path into a packet the user receives (here the echo's last loud sample; there the agent's
//! first). Per turn: the user's last loud packet sent → the packet holding the echo's last
//! loud sample arrives at the server. Split at the agent: the frame holding the last loud
//! sample out of the agent's `AudioStream` (the input), then → that arrival (the output).
//!
//! Needs root (a network namespace) and the library (`cargo xtask setup`).
//!
//! `cargo bench -p agents-bench --bench room_echo` (about a minute).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agents_bench::measure::load_average;
use agents_rtc::{
    AudioSource, AudioSourceOptions, AudioStream, AudioStreamOptions, LocalAudioTrack,
    TrackPublishOptions, TrackSource,
};
use agents_test_support::livekit::rtc::{RtcConfig, ServerParticipant};
use agents_test_support::{NetNs, TestServer};
use livekit_api::access_token::{AccessToken, VideoGrants};

const KEY: &str = "devkey";
const SECRET: &str = "secret-secret-secret-secret-secret";
const WAIT: Duration = Duration::from_secs(30);
const WARM_UP: usize = 3;
const TURNS: usize = 40;
/// The user's utterance: a 300 Hz tone (as in `room_latency`).
const SPEECH: Duration = Duration::from_millis(400);
/// Silence after it, long enough for the echo to come back whole.
const AFTER: Duration = Duration::from_millis(600);
/// A sample louder than this (of an 8000-peak tone, after Opus) is the voice.
const AUDIBLE: i32 = 1_000;
/// The user's PCM rate (the server's).
const RATE: u32 = 48_000;
/// Room IO's rates (`RoomOptions::default()`): the microphone read at 24 kHz, the voice
/// published at 24 kHz.
const AGENT_RATE: u32 = 24_000;

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

/// A frame out of the agent's `AudioStream`: when, and the time of its last loud sample had
/// the frame come out sample by sample (`at` − the samples after it).
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

/// One measured turn, in ms from the user's last loud packet sent.
#[derive(Debug, Clone, Copy)]
struct Turn {
    /// → the packet holding the echo's last loud sample arrives at the server.
    total: f64,
    /// → the frame holding the last loud sample comes out of the agent's `AudioStream`.
    input_frame: f64,
    /// → the last loud sample, had that frame come out sample by sample.
    input_sample: f64,
}

fn main() {
    let ns = match NetNs::create() {
        Ok(ns) => ns,
        Err(error) => {
            eprintln!(
                "room_echo needs a network namespace of its own (libwebrtc ignores loopback): \
                 {error}. Run it as root (sudo -E cargo bench -p agents-bench --bench room_echo)."
            );
            std::process::exit(1);
        }
    };
    let turns = ns
        .spawn_thread(|| {
            if let Err(error) = agents_rtc::library_path() {
                eprintln!("room_echo needs liblivekit_ffi.so: {error}. Run `cargo xtask setup`.");
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

    let (room, mut events) =
        agents_rtc::Room::connect(&server.ws_url(), &token("agent"), Default::default())
            .await
            .unwrap();
    // The room's view of its participants and publications is kept by reading its events.
    let events = tokio::spawn(async move { while events.recv().await.is_some() {} });
    // Published as room IO publishes the agent's voice.
    let source = AudioSource::new(AGENT_RATE, 1, AudioSourceOptions::default()).unwrap();
    let track = LocalAudioTrack::create_audio_track("echo", &source).unwrap();
    let mut publish = TrackPublishOptions::default();
    publish.source = TrackSource::Microphone;
    room.local_participant().publish_track(&track, publish).await.unwrap();

    user.wait_participant("agent", WAIT).await.unwrap();
    user.publish_pcm(&silence(Duration::from_millis(500)), RATE).await.unwrap();
    let deadline = Instant::now() + WAIT;
    let user_in_room = loop {
        if let Some(user) = room.remote_participants().remove("user") {
            break user;
        }
        assert!(Instant::now() < deadline, "the user never showed in the agent's room");
        user.publish_pcm(&silence(Duration::from_millis(100)), RATE).await.unwrap();
    };
    // Read as room IO reads the linked participant's microphone.
    let mut options = AudioStreamOptions::default();
    options.sample_rate = AGENT_RATE;
    let mut stream =
        AudioStream::from_participant(&user_in_room, TrackSource::Microphone, options).unwrap();
    let frames: Arc<Mutex<Vec<Heard>>> = Arc::default();
    let echo = {
        let frames = frames.clone();
        tokio::spawn(async move {
            while let Some(frame) = stream.next().await {
                frames.lock().unwrap().push(heard(&frame, Instant::now()));
                source.capture_frame(&frame).await.unwrap();
            }
        })
    };

    let mut turns = Vec::with_capacity(TURNS);
    for index in 0..WARM_UP + TURNS {
        let turn = one_turn(&user, &frames).await;
        if index >= WARM_UP {
            turns.push(turn);
        }
    }
    drop(user);
    echo.abort();
    drop(track);
    room.disconnect().await.unwrap();
    events.abort();
    turns
}

async fn one_turn(user: &ServerParticipant, frames: &Mutex<Vec<Heard>>) -> Turn {
    // The previous echo has played out (AFTER is longer than the round trip).
    user.clear_captured();
    frames.lock().unwrap().clear();
    user.publish_pcm(&tone(SPEECH), RATE).await.unwrap();
    let speech_end = Instant::now();
    // Continuous silence, in 100 ms calls as in `room_latency`.
    for _ in 0..AFTER.as_millis() / 100 {
        user.publish_pcm(&silence(Duration::from_millis(100)), RATE).await.unwrap();
    }
    let pcm = user.captured("agent");
    let arrivals = user.captured_arrivals("agent");
    let last = pcm
        .iter()
        .rposition(|&s| i32::from(s).abs() > AUDIBLE)
        .unwrap_or_else(|| panic!("no echo came back ({} samples)", pcm.len()));
    let arrived = arrivals
        .iter()
        .find(|(_, end)| *end > last)
        .map(|(at, _)| *at)
        .expect("an arrival for every captured sample");
    let heard = frames.lock().unwrap();
    let input = heard
        .iter()
        .filter(|frame| frame.last_loud.is_some() && frame.at < arrived)
        .next_back()
        .expect("the agent heard the speech");
    let ms = |at: Instant| signed_ms(at, speech_end);
    Turn {
        total: ms(arrived),
        input_frame: ms(input.at),
        input_sample: ms(input.last_loud.unwrap()),
    }
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
    println!(
        "# room_echo: the library's floor, user's end of speech → the echo's end received, {} turns (after {WARM_UP} warm-up)",
        turns.len()
    );
    println!("load average (1 min) {}", load_average());
    println!();
    println!("| piece | min | p50 | p90 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    row(
        "floor: last loud packet sent → packet with the echo's last loud sample received",
        turns.iter().map(|t| t.total).collect(),
    );
    row(
        "  input: → the frame with the last loud sample out of the agent's AudioStream (24 kHz)",
        turns.iter().map(|t| t.input_frame).collect(),
    );
    row(
        "  input, sample-exact: → that sample, had the frame come out sample by sample",
        turns.iter().map(|t| t.input_sample).collect(),
    );
    row(
        "  output: that frame → its packet received (capture_frame, the source's queue and 10 ms tick, Opus 20 ms)",
        turns.iter().map(|t| t.total - t.input_frame).collect(),
    );
}
