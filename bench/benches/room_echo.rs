//! The library's floor for `room_latency`: the same room, the same user, but the agent is
//! only `agents_rtc` (the FFI crate over `liblivekit_ffi.so`: `Room`, `AudioStream`,
//! `AudioSource`), with no session, no VAD and no room IO. It forwards every loud 10 ms frame
//! of the user's microphone (24 kHz, as room IO reads it) straight into its published source
//! (24 kHz, the default queue of 1000 ms, as room IO publishes it): an echo of the speech.
//! Quiet frames are not forwarded, so each echo starts on an idle source as an agent's answer
//! does (forwarding them too keeps a standing queue in the source, a frame or two, that no
//! agent has), and each echo starts 0–20 ms late, a different offset each turn, so that its
//! first frame meets the source's 10 ms tick and the encoder's 20 ms packet at every phase, as
//! an answer does (the echo's frames come in phase with the jitter buffer's pull: without the
//! offset, one run measures one phase, 10 ms in one run and 22 ms in the next). What the user hears back late is what any agent on liblivekit_ffi pays,
//! Python's included.
//!
//! The edges are `room_latency`'s. The input: the user's end of speech (its last loud packet
//! sent) → the frame holding the last loud sample out of the agent's `AudioStream` (the
//! earliest an agent can know). The output: a frame captured into the idle source → the first
//! packet of it holding a loud sample arrives at the server (here the echo's first frame;
//! there the first TTS frame). The floor is their sum, per turn. The echo's own end (the
//! packet with its last loud sample) is shown too: it crosses the output on the trailing
//! edge, which waits for the rest of its 20 ms packet and Opus's look-ahead, and behind the
//! start's offset, which the frames after the first keep in the source's queue.
//!
//! Needs root (a network namespace) and the library (`cargo xtask setup`).
//!
//! `cargo bench -p agents-bench --bench room_echo` (about a minute).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod room_common;

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
use room_common::{KEY, RATE, SECRET, row, signed_ms, silence, token, tone};

const WAIT: Duration = Duration::from_secs(30);
const WARM_UP: usize = 3;
const TURNS: usize = 40;
/// The user's utterance: a 300 Hz tone (as in `room_latency`).
const SPEECH: Duration = Duration::from_millis(400);
/// Silence after it, long enough for the echo to come back whole.
const AFTER: Duration = Duration::from_millis(600);
/// A sample louder than this (of an 8000-peak tone, after Opus) is the voice.
const AUDIBLE: i32 = 1_000;
/// Room IO's rates (`RoomOptions::default()`): the microphone read at 24 kHz, the voice
/// published at 24 kHz.
const AGENT_RATE: u32 = 24_000;

/// A frame out of the agent's `AudioStream`: when, the time of its last loud sample had the
/// frame come out sample by sample (`at` − the samples after it), and when it was captured
/// into the source (loud frames only).
#[derive(Debug, Clone, Copy)]
struct Heard {
    at: Instant,
    last_loud: Option<Instant>,
    captured: Option<Instant>,
    /// Where its first loud sample is, from its start.
    first_loud: Duration,
}

fn heard(frame: &agents_rtc::AudioFrame, at: Instant) -> Heard {
    let channels = frame.num_channels.max(1) as usize;
    let last_loud = frame.data.iter().rposition(|&s| i32::from(s).abs() > AUDIBLE).map(|i| {
        let after = frame.data.len() / channels - 1 - i / channels;
        at - Duration::from_secs_f64(after as f64 / f64::from(frame.sample_rate.max(1)))
    });
    let first_loud =
        frame.data.iter().position(|&s| i32::from(s).abs() > AUDIBLE).map_or(Duration::ZERO, |i| {
            Duration::from_secs_f64((i / channels) as f64 / f64::from(frame.sample_rate.max(1)))
        });
    Heard { at, last_loud, captured: None, first_loud }
}

/// One measured turn, in ms from the user's last loud packet sent.
#[derive(Debug, Clone, Copy)]
struct Turn {
    /// → the packet holding the echo's last loud sample arrives at the server.
    echo_end: f64,
    /// The first loud frame captured into the idle source → the first packet holding a loud
    /// sample of the echo arrives at the server.
    output: f64,
    /// The same from the frame's first loud sample (the frame's start + its offset): the edge
    /// of a TTS frame, whose first sample is its answer's first.
    output_sample: f64,
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
            let mut quiet = true;
            let mut echoes = 0u64;
            while let Some(frame) = stream.next().await {
                let mut heard = heard(&frame, Instant::now());
                if heard.last_loud.is_some() && quiet {
                    // An answer starts at any moment of the source's 10 ms tick and of the
                    // encoder's 20 ms packet; the echo's frames come in phase with the
                    // jitter buffer's pull, the same phase every turn. Starting each echo
                    // 0–20 ms later (a different offset each turn) samples all phases, as
                    // answers do; the output is timed from the capture.
                    echoes += 1;
                    let offset = Duration::from_micros(echoes * 7_919 % 20_000);
                    tokio::time::sleep(offset).await;
                }
                quiet = heard.last_loud.is_none();
                if heard.last_loud.is_some() {
                    heard.captured = Some(Instant::now());
                    // (Frames that came during the offset wait in the stream, then follow.)
                    frames.lock().unwrap().push(heard);
                    source.capture_frame(&frame).await.unwrap();
                } else {
                    frames.lock().unwrap().push(heard);
                }
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
    let first = pcm.iter().position(|&s| i32::from(s).abs() > AUDIBLE).unwrap();
    let arrival = |sample: usize| {
        arrivals
            .iter()
            .find(|(_, end)| *end > sample)
            .map(|(at, _)| *at)
            .expect("an arrival for every captured sample")
    };
    let arrived = arrival(last);
    let heard = frames.lock().unwrap();
    let (first_captured, first_offset) = heard
        .iter()
        .find_map(|frame| Some((frame.captured?, frame.first_loud)))
        .expect("the agent echoed the speech");
    let input = heard
        .iter()
        .rfind(|frame| frame.last_loud.is_some() && frame.at < arrived)
        .expect("the agent heard the speech");
    let ms = |at: Instant| signed_ms(at, speech_end);
    Turn {
        echo_end: ms(arrived),
        output: signed_ms(arrival(first), first_captured),
        output_sample: signed_ms(arrival(first), first_captured + first_offset),
        input_frame: ms(input.at),
        input_sample: ms(input.last_loud.unwrap()),
    }
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
        "floor: input + output (sample-exact), per turn",
        turns.iter().map(|t| t.input_frame + t.output_sample).collect(),
    );
    row(
        "  input: last loud packet sent → the frame with the last loud sample out of the agent's AudioStream (24 kHz)",
        turns.iter().map(|t| t.input_frame).collect(),
    );
    row(
        "    the same, sample-exact: → that sample, had the frame come out sample by sample",
        turns.iter().map(|t| t.input_sample).collect(),
    );
    row(
        "  output: first loud frame captured into the idle source → first loud packet received (capture_frame, the source's 10 ms tick, Opus 20 ms)",
        turns.iter().map(|t| t.output).collect(),
    );
    row(
        "    the same from the frame's first loud sample (a TTS frame starts loud)",
        turns.iter().map(|t| t.output_sample).collect(),
    );
    row(
        "the echo's end: last loud packet sent → packet with the echo's last loud sample received",
        turns.iter().map(|t| t.echo_end).collect(),
    );
    row(
        "  of which after the input frame (the trailing edge through the output)",
        turns.iter().map(|t| t.echo_end - t.input_frame).collect(),
    );
}
