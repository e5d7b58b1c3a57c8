//! Audio through liblivekit_ffi (agents-rtc): what an agent's voice costs on its way out to
//! a track, and what a participant's voice costs on its way in to the session.
//!
//! **Out** (no room; the track is created but not published, so Opus encoding is not
//! included; see `room_latency` for the room):
//!
//! * `capture latency`: one frame through `AudioSource::capture_frame` while the source's
//!   queue has room — the request, the library's copy, and its `capture_audio_frame`
//!   callback routed back to the awaiting task: the latency added between a TTS frame and
//!   the library holding it. p50/p90/p99 per sample rate and frame length.
//! * `CPU per second of audio`: 5 s of mono audio per configuration (24 kHz and 48 kHz,
//!   10 ms and 20 ms frames), sent two ways:
//!   - `paced`: one frame per frame duration (a tokio interval), as a TTS streaming in real
//!     time delivers it: the queue stays nearly empty;
//!   - `back-pressure`: as fast as the source takes them (queue 1000 ms, as in Python): the
//!     first second goes at once, then each capture waits for room.
//!
//!   The process's CPU time (every thread, the library's included) over the run, plus the
//!   time the queue takes to play out after the last capture, minus the idle process's CPU
//!   rate over the same wall time, divided by the audio's length. The calling thread (a
//!   current-thread runtime: our side of the FFI — requests encoded, responses decoded, the
//!   futures woken, the pacing timer) is split from the rest (the library's threads: its
//!   async runtime, the callback thread that hands the responses over, the native source's
//!   10 ms playout task).
//!
//! **In** (a room: the test server's `/rtc` in a network namespace of its own, as in
//! `room_latency`):
//!
//! * `the event callback`: what our side of the library's callback costs per received frame
//!   — the `FfiEvent` decoded, routed by stream handle, sent on the stream's channel, and
//!   received and dropped — measured alone (`agents_rtc::fuzzing::dispatch_event` on the
//!   bytes the library sends for a 10 ms frame, minus the same call on an empty event).
//! * `CPU per second of audio in`: a participant inside the test server publishes 7.8 s of
//!   espeak-ng speech (`speech_48k.wav`, 48 kHz, Opus in 20 ms packets, real time); the
//!   agent joins with `agents_rtc::Room` and reads it
//!   - through an `AudioStream` at 48 kHz, and at 24 kHz and 16 kHz (the library resamples),
//!     counting the frames;
//!   - through room IO (`agents_core::room_io`, input 24 kHz, its default) into a session
//!     whose streaming STT (agents_core::testing's `FakeStt`) only watches the loudness:
//!     the path a session's microphone takes.
//!
//!   The process's CPU is split by thread: our runtime's (a 2-worker multi-thread runtime,
//!   its threads registered from its start hook: the stream's consumer, room IO, the
//!   session), the test server's (a runtime of its own, excluded: it encodes the Opus and
//!   plays the SFU), and the rest — the library's threads (its async runtime, libwebrtc's
//!   network and worker threads, Opus decoding, the resampler, the callback that runs our
//!   routing). Each consumer is first watched for 3 s while no packet arrives (the idle
//!   rates: the library delivers 10 ms frames of silence all the same); the table gives CPU
//!   per second of speech received, the idle rates, and their difference.
//!
//! Needs the library (`cargo xtask setup`), and root for the network namespace of **in**.
//! `cargo bench -p agents-bench --bench rtc_audio` runs both (about two minutes); `-- out` or
//! `-- in` runs one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use agents_bench::measure::{ThreadGroup, load_average, percentile, process_cpu, thread_cpu};
use agents_core::prelude::*;
use agents_core::room_io::{RoomOptions, room_io};
use agents_core::testing::{FakeLlm, FakeStt, FakeTts, FakeVad};
use agents_core::voice::{SessionEvent, UserState};
use agents_rtc::{AudioFrame, AudioSource, AudioSourceOptions, LocalAudioTrack};
use agents_test_support::livekit::rtc::{RtcConfig, ServerParticipant};
use agents_test_support::{NetNs, TestServer};
use livekit_api::access_token::{AccessToken, VideoGrants};
use tokio::time::MissedTickBehavior;

/// The sample rates and frame lengths measured.
const CONFIGS: [(u32, u64); 4] = [(24_000, 10), (24_000, 20), (48_000, 10), (48_000, 20)];
/// Audio sent per CPU measurement.
const SECONDS: u64 = 5;

fn frames(rate: u32, frame_ms: u64, count: usize) -> Vec<AudioFrame> {
    let samples = (u64::from(rate) * frame_ms / 1000) as usize;
    (0..count)
        .map(|index| {
            let pcm = (0..samples)
                .map(|i| {
                    let t = (index * samples + i) as f64 / f64::from(rate);
                    (f64::sin(t * 440.0 * std::f64::consts::TAU) * 8000.0) as i16
                })
                .collect();
            AudioFrame::new(pcm, rate, 1)
        })
        .collect()
}

fn us(duration: Duration) -> String {
    format!("{:.1} µs", duration.as_secs_f64() * 1e6)
}

/// Capture latency with a queue far longer than the audio sent, so no capture waits.
async fn latency(rate: u32, frame_ms: u64) {
    let mut options = AudioSourceOptions::default();
    options.queue_size_ms = 600_000;
    let source = AudioSource::new(rate, 1, options).expect("source");
    let _track = LocalAudioTrack::create_audio_track("bench", &source).expect("track");
    let frames = frames(rate, frame_ms, 100);
    let mut samples = Vec::new();
    for round in 0..30 {
        for frame in &frames {
            let start = Instant::now();
            source.capture_frame(frame).await.expect("capture");
            if round >= 3 {
                samples.push(start.elapsed());
            }
        }
    }
    source.clear_queue().expect("clear");
    samples.sort_unstable();
    println!(
        "| {} kHz | {frame_ms} ms | {} | {} | {} | {} | {} | {} |",
        rate / 1000,
        samples.len(),
        us(samples[0]),
        us(percentile(&samples, 50.0)),
        us(percentile(&samples, 90.0)),
        us(percentile(&samples, 99.0)),
        us(samples[samples.len() - 1]),
    );
}

/// CPU per second of audio for one configuration; `idle_rate` is the idle process's CPU per
/// wall second.
async fn cpu(rate: u32, frame_ms: u64, paced: bool, idle_rate: f64) {
    let options = AudioSourceOptions::default();
    let queue = Duration::from_millis(u64::from(options.queue_size_ms));
    let source = AudioSource::new(rate, 1, options).expect("source");
    let _track = LocalAudioTrack::create_audio_track("bench", &source).expect("track");
    let frames = frames(rate, frame_ms, 50);
    let count = (SECONDS * 1000 / frame_ms) as usize;
    let mut pacer = tokio::time::interval(Duration::from_millis(frame_ms));
    pacer.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let (cpu_start, ours_start, wall_start) = (process_cpu(), thread_cpu(), Instant::now());
    for index in 0..count {
        if paced {
            pacer.tick().await;
        }
        source.capture_frame(&frames[index % frames.len()]).await.expect("capture");
    }
    let sent = wall_start.elapsed();
    // What is queued plays out before the clocks are read: its CPU belongs to this audio.
    tokio::time::sleep(if paced { Duration::from_millis(100) } else { queue }).await;
    let (cpu, ours, wall) =
        (process_cpu() - cpu_start, thread_cpu() - ours_start, wall_start.elapsed());
    let audio = SECONDS as f64;
    let total_ms = (cpu.as_secs_f64() - idle_rate * wall.as_secs_f64()) * 1e3 / audio;
    let ours_ms = ours.as_secs_f64() * 1e3 / audio;
    println!(
        "| {} kHz | {frame_ms} ms | {} | **{total_ms:.2} ms** | {ours_ms:.2} ms | {:.2} ms | {:.1} µs | {:.2} s | {:.2} s |",
        rate / 1000,
        if paced { "paced" } else { "back-pressure" },
        total_ms - ours_ms,
        ours.as_secs_f64() * 1e6 / count as f64,
        sent.as_secs_f64(),
        wall.as_secs_f64(),
    );
}

/// Audio out: capture latency and CPU per second of audio.
fn run_out() {
    let path = agents_rtc::library_path().expect("liblivekit_ffi.so: run `cargo xtask setup`");
    println!("library: {}", path.display());
    println!("load average (1 min) at start: {}", load_average());
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        println!();
        println!(
            "## TTS frame → `capture_audio_frame` callback (capture_frame awaited, queue not full)"
        );
        println!();
        println!("| rate | frame | frames | min | p50 | p90 | p99 | max |");
        println!("|---|---|---|---|---|---|---|---|");
        for (rate, frame_ms) in CONFIGS {
            latency(rate, frame_ms).await;
        }

        // The idle process (the library loaded, its runtime started, no source).
        let idle_wall = Duration::from_secs(SECONDS);
        let idle_start = process_cpu();
        tokio::time::sleep(idle_wall).await;
        let idle_rate = (process_cpu() - idle_start).as_secs_f64() / idle_wall.as_secs_f64();

        println!();
        println!(
            "## CPU per second of audio out ({SECONDS} s each; idle process {:.2} ms CPU per s subtracted)",
            idle_rate * 1e3
        );
        println!();
        println!(
            "| rate | frame | sent | process CPU per s of audio | our thread | the library's threads | our thread per frame | sending took | with playout |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        for paced in [true, false] {
            for (rate, frame_ms) in CONFIGS {
                cpu(rate, frame_ms, paced, idle_rate).await;
            }
        }
        println!();
        println!("load average (1 min) at the end: {}", load_average());
    });
}

// ---------------------------------------------------------------------------------------------
// In: the event callback alone.

/// Appends `value` as a protobuf varint.
fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn varint_field(out: &mut Vec<u8>, field: u64, value: u64) {
    varint(out, field << 3);
    varint(out, value);
}

fn message_field(out: &mut Vec<u8>, field: u64, message: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, message.len() as u64);
    out.extend_from_slice(message);
}

/// The `FfiEvent` the library sends for one received frame of audio stream `stream`
/// (livekit-ffi's ffi.proto and audio_frame.proto: `FfiEvent.audio_stream_event = 4` →
/// `AudioStreamEvent { stream_handle = 1, frame_received = 2 }` → `AudioFrameReceived
/// { frame = 1 }` → `OwnedAudioFrameBuffer { handle = 1, info = 2 }`), encoded by hand: the
/// client's own message types are private.
fn frame_event(stream: u64, handle: u64, rate: u32, samples: u32) -> Vec<u8> {
    let mut owned_handle = Vec::new();
    varint_field(&mut owned_handle, 1, handle);
    let mut info = Vec::new();
    varint_field(&mut info, 1, 0x7f3a_5c01_2340); // data_ptr: a heap address's size
    varint_field(&mut info, 2, 1);
    varint_field(&mut info, 3, u64::from(rate));
    varint_field(&mut info, 4, u64::from(samples));
    let mut buffer = Vec::new();
    message_field(&mut buffer, 1, &owned_handle);
    message_field(&mut buffer, 2, &info);
    let mut received = Vec::new();
    message_field(&mut received, 1, &buffer);
    let mut stream_event = Vec::new();
    varint_field(&mut stream_event, 1, stream);
    message_field(&mut stream_event, 2, &received);
    let mut event = Vec::new();
    message_field(&mut event, 4, &stream_event);
    event
}

/// Mean CPU per call of `dispatch_event(bytes)` over `calls` calls (the calling thread).
fn dispatch_cost(bytes: &[u8], calls: u32) -> Duration {
    let start = thread_cpu();
    for _ in 0..calls {
        agents_rtc::fuzzing::dispatch_event(std::hint::black_box(bytes));
    }
    (thread_cpu() - start) / calls
}

/// Our share of the callback per received frame. Runs before the library is loaded: the
/// event's made-up handle is then released without calling it.
fn callback_cost() -> Duration {
    assert!(
        agents_rtc::handle_stats().received == 0,
        "the callback is measured before the library is used"
    );
    const CALLS: u32 = 20_000;
    const ROUNDS: usize = 9;
    let frame = frame_event(1, 0x0001_0000_0042, 48_000, 480);
    let before = agents_rtc::handle_stats();
    dispatch_cost(&frame, CALLS);
    dispatch_cost(&[], CALLS);
    let (mut framed, mut empty): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        framed.push(dispatch_cost(&frame, CALLS));
        empty.push(dispatch_cost(&[], CALLS));
    }
    let after = agents_rtc::handle_stats();
    // Each frame event was decoded and routed with its buffer handle, which was released.
    let events = u64::from(CALLS) * (ROUNDS as u64 + 1);
    assert_eq!(after.received - before.received, events, "every event carried a frame");
    assert_eq!(after.released - before.released, events, "every frame was released");
    framed.sort_unstable();
    empty.sort_unstable();
    let (framed, empty) = (percentile(&framed, 50.0), percentile(&empty, 50.0));
    let ours = framed.saturating_sub(empty);
    println!("## The event callback, per received frame (median of {ROUNDS} × {CALLS} calls)");
    println!();
    println!("| event | `dispatch_event` per call | our callback per frame |");
    println!("|---|---|---|");
    println!("| empty (the routing table's set-up only) | {} | — |", us(empty));
    println!(
        "| a 10 ms frame at 48 kHz ({} bytes) | {} | **{}** |",
        frame.len(),
        us(framed),
        us(ours)
    );
    println!();
    ours
}

// ---------------------------------------------------------------------------------------------
// In: the room.

const KEY: &str = "devkey";
const SECRET: &str = "secret-secret-secret-secret-secret";
const ROOM: &str = "bench-in";
/// The test server's PCM rate (the speech file's too).
const RATE: u32 = 48_000;
/// How long each consumer is watched without audio.
const IDLE: Duration = Duration::from_secs(3);
/// After the last packet: what the library still holds (its jitter buffer) comes out.
const DRAIN: Duration = Duration::from_millis(300);

fn token(identity: &str) -> String {
    AccessToken::with_api_key(KEY, SECRET)
        .with_identity(identity)
        .with_grants(VideoGrants { room_join: true, room: ROOM.into(), ..Default::default() })
        .to_jwt()
        .unwrap()
}

/// The espeak-ng speech the Silero tests use, 48 kHz mono.
fn speech() -> Vec<i16> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/agents-plugins-silero/tests/data/speech_48k.wav");
    let wav = agents_core::audio::read_wav(&path).expect("speech_48k.wav");
    assert_eq!((wav.sample_rate(), wav.num_channels()), (RATE, 1), "{}", path.display());
    wav.data().to_vec()
}

/// The CPU clocks of one instant.
#[derive(Debug, Clone, Copy)]
struct Clocks {
    process: Duration,
    ours: Duration,
    server: Duration,
    wall: Instant,
    frames: u64,
}

/// CPU seconds used between two [`Clocks`], by whom.
#[derive(Debug, Clone, Copy)]
struct Used {
    ours: f64,
    library: f64,
    server: f64,
    wall: f64,
    frames: u64,
}

#[derive(Clone)]
struct Threads {
    ours: ThreadGroup,
    server: ThreadGroup,
}

impl Threads {
    fn now(&self, frames: &AtomicU64) -> Clocks {
        Clocks {
            process: process_cpu(),
            ours: self.ours.cpu(),
            server: self.server.cpu(),
            wall: Instant::now(),
            frames: frames.load(Ordering::Relaxed),
        }
    }
}

impl Used {
    fn between(start: Clocks, end: Clocks) -> Self {
        let ours = (end.ours - start.ours).as_secs_f64();
        let server = (end.server - start.server).as_secs_f64();
        let process = (end.process - start.process).as_secs_f64();
        Self {
            ours,
            server,
            library: process - ours - server,
            wall: (end.wall - start.wall).as_secs_f64(),
            frames: end.frames - start.frames,
        }
    }
}

/// One measured consumer.
struct Row {
    name: String,
    rate: u32,
    idle: Used,
    active: Used,
    audio: f64,
    /// Whether the frames were counted (the streams; the session's are not).
    counted: bool,
}

struct Scene {
    threads: Threads,
    server: tokio::runtime::Handle,
    user: Arc<ServerParticipant>,
    speech: Arc<Vec<i16>>,
}

impl Scene {
    /// Idle, then the speech published; the clocks around each.
    async fn watch(&self, frames: &AtomicU64) -> (Used, Used) {
        // The stream subscribes and the library's pipeline settles.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let start = self.threads.now(frames);
        tokio::time::sleep(IDLE).await;
        let idle = Used::between(start, self.threads.now(frames));

        let start = self.threads.now(frames);
        let (user, pcm) = (self.user.clone(), self.speech.clone());
        self.server
            .spawn(async move { user.publish_pcm(&pcm, RATE).await })
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(DRAIN).await;
        let active = Used::between(start, self.threads.now(frames));
        (idle, active)
    }

    async fn stream(&self, room: &agents_rtc::Room, rate: u32) -> Row {
        let participant = room.remote_participants().remove("user").expect("the user is in");
        let mut options = agents_rtc::AudioStreamOptions::default();
        options.sample_rate = rate;
        let mut stream = agents_rtc::AudioStream::from_participant(
            &participant,
            agents_rtc::TrackSource::Microphone,
            options,
        )
        .unwrap();
        let frames = Arc::new(AtomicU64::new(0));
        let delivered_rate = Arc::new(AtomicU32::new(0));
        let reader = {
            let (frames, delivered_rate) = (frames.clone(), delivered_rate.clone());
            tokio::spawn(async move {
                while let Some(frame) = stream.next().await {
                    frames.fetch_add(1, Ordering::Relaxed);
                    delivered_rate.store(frame.sample_rate, Ordering::Relaxed);
                }
            })
        };
        let (idle, active) = self.watch(&frames).await;
        reader.abort();
        let _ = reader.await;
        assert_eq!(delivered_rate.load(Ordering::Relaxed), rate, "the library resampled");
        Row {
            name: "`AudioStream`".into(),
            rate,
            idle,
            active,
            audio: self.speech.len() as f64 / f64::from(RATE),
            counted: true,
        }
    }

    async fn session(&self, room: agents_rtc::Room, events: agents_rtc::RoomEvents) -> Row {
        let options = RoomOptions::default();
        let rate = options.input_sample_rate;
        let session_room = room_io(room, events, options).await.unwrap();
        // A streaming STT that only watches the loudness: it reports the start of speech
        // (the user speaking proves the audio arrived) and never an end, so no turn runs.
        let stt = FakeStt::streaming(Vec::<String>::new())
            .with_vad(FakeVad::new().with_min_silence_duration(Duration::from_secs(3_600)));
        let session = AgentSession::builder()
            .llm(FakeLlm::new())
            .stt(Arc::new(stt))
            .tts(Arc::new(FakeTts::new()))
            .build();
        let heard = Arc::new(AtomicBool::new(false));
        let mut session_events = session.subscribe();
        let watcher = {
            let heard = heard.clone();
            tokio::spawn(async move {
                while let Ok(event) = session_events.recv().await {
                    if let SessionEvent::UserStateChanged {
                        new_state: UserState::Speaking, ..
                    } = event
                    {
                        heard.store(true, Ordering::Relaxed);
                    }
                }
            })
        };
        session.start(Agent::new("Listen.")).room(&session_room).await.unwrap();
        let frames = AtomicU64::new(0);
        let (idle, active) = self.watch(&frames).await;
        assert!(heard.load(Ordering::Relaxed), "the session heard the user speak");
        session.close().await;
        watcher.abort();
        Row {
            name: "room IO → session".into(),
            rate,
            idle,
            active,
            audio: self.speech.len() as f64 / f64::from(RATE),
            counted: false,
        }
    }
}

fn print_rows(rows: &[Row], callback: Duration) {
    println!("## CPU per second of audio in (7.8 s of speech each; the test server excluded)");
    println!();
    println!(
        "| consumer | rate | frames per s: speech / idle | process CPU per s of speech | our runtime | the library's threads | our runtime per frame | our callback (est.) | idle, no packets: process / ours per s | speech − idle: process | test server (excluded) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        let per_audio = |seconds: f64| seconds * 1e3 / row.audio;
        let Used { ours, library, server, wall, frames } = row.active;
        let total = ours + library;
        let idle_ours = row.idle.ours / row.idle.wall;
        let idle_total = idle_ours + row.idle.library / row.idle.wall;
        let rate = |used: &Used| {
            if row.counted {
                format!("{:.0}", used.frames as f64 / used.wall)
            } else {
                "—".into()
            }
        };
        // The session's frames are not counted: the streams show the library's 10 ms frames,
        // delivered whether packets arrive or not.
        let frames = if row.counted { frames } else { (wall * 100.0) as u64 };
        println!(
            "| {} | {} kHz | {} / {} | **{:.2} ms** | {:.2} ms | {:.2} ms | {:.1} µs{} | {:.2} ms | {:.2} ms / {:.2} ms | {:.2} ms | {:.2} ms |",
            row.name,
            row.rate / 1000,
            rate(&row.active),
            rate(&row.idle),
            per_audio(total),
            per_audio(ours),
            per_audio(library),
            ours * 1e6 / frames.max(1) as f64,
            if row.counted { "" } else { " (10 ms frames)" },
            per_audio(callback.as_secs_f64() * frames as f64),
            idle_total * 1e3,
            idle_ours * 1e3,
            per_audio(total) - idle_total * 1e3 * wall / row.audio,
            per_audio(server),
        );
    }
    println!();
}

/// Audio in: run inside the network namespace, the library loaded there.
fn run_in(callback: Duration) {
    if let Err(error) = agents_rtc::library_path() {
        eprintln!("rtc_audio needs liblivekit_ffi.so: {error}. Run `cargo xtask setup`.");
        std::process::exit(1);
    }
    println!("load average (1 min) at the start of audio in: {}", load_average());
    let threads = Threads { ours: ThreadGroup::new(), server: ThreadGroup::new() };
    // This thread only waits in `block_on`; it counts as ours.
    threads.ours.join();
    let server_runtime = {
        let (join, leave) = (threads.server.clone(), threads.server.clone());
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("test-server")
            .on_thread_start(move || join.join())
            .on_thread_stop(move || leave.leave())
            .enable_all()
            .build()
            .unwrap()
    };
    let runtime = {
        let (join, leave) = (threads.ours.clone(), threads.ours.clone());
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("agent")
            .on_thread_start(move || join.join())
            .on_thread_stop(move || leave.leave())
            .enable_all()
            .build()
            .unwrap()
    };
    let server_handle = server_runtime.handle().clone();
    let rows = runtime.block_on(async move {
        let (server, user) = server_handle
            .spawn(async {
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
                let server =
                    TestServer::start_with(address, RtcConfig::new(KEY, SECRET)).await.unwrap();
                let user = server.rtc().join(ROOM, "user").unwrap();
                (server, Arc::new(user))
            })
            .await
            .unwrap();
        let (room, events) =
            agents_rtc::Room::connect(&server.ws_url(), &token("agent"), Default::default())
                .await
                .unwrap();
        {
            let user = user.clone();
            server_handle
                .spawn(async move {
                    user.wait_participant("agent", Duration::from_secs(30)).await.unwrap();
                    // The microphone track exists before the agent reads it.
                    user.publish_pcm(&[0; 24_000], RATE).await.unwrap();
                })
                .await
                .unwrap();
        }
        let scene =
            Scene { threads, server: server_handle.clone(), user, speech: Arc::new(speech()) };
        let mut rows = Vec::new();
        for rate in [48_000, 24_000, 16_000] {
            rows.push(scene.stream(&room, rate).await);
        }
        rows.push(scene.session(room.clone(), events).await);
        room.disconnect().await.unwrap();
        drop(scene);
        server_handle.spawn(async move { drop(server) }).await.unwrap();
        rows
    });
    drop(runtime);
    drop(server_runtime);
    print_rows(&rows, callback);
    println!("load average (1 min) at the end of audio in: {}", load_average());
}

fn main() {
    let parts: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with('-')).collect();
    let (run_in_part, run_out_part) = match parts.iter().map(String::as_str).collect::<Vec<_>>()[..]
    {
        [] => (true, true),
        ["in"] => (true, false),
        ["out"] => (false, true),
        _ => {
            eprintln!("usage: cargo bench -p agents-bench --bench rtc_audio [-- in | out]");
            std::process::exit(2);
        }
    };
    if !run_in_part {
        run_out();
        return;
    }
    println!("load average (1 min) at start: {}", load_average());
    // Before anything loads the library (see `callback_cost`).
    let callback = callback_cost();
    let ns = match NetNs::create() {
        Ok(ns) => ns,
        Err(error) => {
            eprintln!(
                "rtc_audio's audio in needs a network namespace of its own (libwebrtc ignores \
                 loopback): {error}. Run it as root (sudo -E cargo bench -p agents-bench --bench \
                 rtc_audio), or `-- out` alone."
            );
            std::process::exit(1);
        }
    };
    // Loaded inside the namespace: the library's threads (its sockets) live there. Audio out
    // uses no network and runs there too.
    ns.spawn_thread(move || {
        run_in(callback);
        if run_out_part {
            println!();
            run_out();
        }
    })
    .unwrap()
    .join()
    .unwrap()
    .unwrap();
}
