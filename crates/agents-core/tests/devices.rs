//! The audio console on real ALSA devices, made of ALSA's own plugins: a microphone that
//! reads a raw file (`type file` with `infile`, over the `null` PCM) and speakers that write
//! 24 kHz mono 16-bit samples to a FIFO this test reads at four times real time (which also
//! paces the playback). cpal opens them as any other device, in their default configuration
//! (stereo `f32` at 48 kHz; for the speakers through `type plug`), so the console's down-mix
//! and resampling run too.
//!
//! alsa-lib reads its configuration from `ALSA_CONFIG_PATH`, which must be set before the
//! process first uses ALSA and cannot be set from safe code: the test runs its ignored twin
//! in a child process with the variable set. The `null` PCM does not keep time, so the
//! microphone delivers its file as fast as it is read, then silence; the console's 5 s frame
//! queue holds all of it.

#![cfg(all(feature = "audio-devices", target_os = "linux"))]
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used, missing_docs)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use agents_core::cli::{
    ConsoleError, DeviceError, DeviceOptions, list_devices, run_console_devices,
};
use agents_core::llm::{ChatContext, ChatMessage};
use agents_core::prelude::*;
use agents_core::testing::{FakeStt, FakeTts, FakeVad};
use agents_core::voice::{AgentHooks, StopResponse};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The variable that tells the child where the devices' files are.
const DIR_VAR: &str = "AGENTS_TEST_ALSA_DIR";
/// The microphone's file: 48 kHz stereo `f32`, the configuration cpal picks by default for a
/// device that takes any (the `null` PCM below it); the file is read as is. (Not behind
/// `type plug`: alsa-lib's conversion plugins read a `file` PCM's `infile` ahead and lose
/// part of it.)
const MIC_RATE: usize = 48_000;

/// The ALSA configuration: the system's, then the two test devices.
fn alsa_config(dir: &Path) -> String {
    let dir = dir.display();
    format!(
        r#"</usr/share/alsa/alsa.conf>
pcm.agents_test_mic {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{dir}/mic.raw"
    format "raw"
    hint {{ show on description "Agents test microphone" }}
}}
pcm.agents_test_speakers_file {{
    type file
    slave.pcm "null"
    file "{dir}/speakers.fifo"
    format "raw"
}}
pcm.agents_test_speakers {{
    type plug
    slave {{ pcm "agents_test_speakers_file" format S16_LE rate 24000 channels 1 }}
    hint {{ show on description "Agents test speakers" }}
}}
"#
    )
}

/// 0.3 s of silence, 1 s of a 440 Hz tone (the user "speaking"), 2 s of silence: one
/// channel's samples.
fn microphone_samples() -> Vec<f32> {
    let mut samples = vec![0.0; MIC_RATE * 3 / 10];
    samples.extend((0..MIC_RATE).map(|i| {
        ((i as f64 * 440.0 * std::f64::consts::TAU / MIC_RATE as f64).sin() * 8_000.0 / 32_768.0)
            as f32
    }));
    samples.extend(vec![0.0; MIC_RATE * 2]);
    samples
}

#[test]
fn the_console_runs_on_alsa_devices() {
    if !Path::new("/usr/share/alsa/alsa.conf").exists() {
        panic!("alsa-lib's configuration is missing: apt-get install libasound2-dev");
    }
    let dir = std::env::temp_dir().join(format!("agents-alsa-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("asound.conf"), alsa_config(&dir)).unwrap();
    // Both channels alike.
    let raw: Vec<u8> = microphone_samples()
        .iter()
        .flat_map(|s| [s.to_le_bytes(), s.to_le_bytes()])
        .flatten()
        .collect();
    std::fs::write(dir.join("mic.raw"), raw).unwrap();
    let fifo = dir.join("speakers.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", fifo.display());

    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "in_a_child_with_alsa_config", "--ignored", "--nocapture"])
        .env("ALSA_CONFIG_PATH", dir.join("asound.conf"))
        .env(DIR_VAR, &dir)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the child failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "the child ran its test:\n{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by `the_console_runs_on_alsa_devices` in a child process with ALSA_CONFIG_PATH set"]
async fn in_a_child_with_alsa_config() {
    let dir = PathBuf::from(std::env::var_os(DIR_VAR).expect("run by the parent test"));
    let _ =
        tracing_subscriber::fmt().with_env_filter("debug").with_writer(std::io::stderr).try_init(); // DEBUG-TMP

    // The devices are listed, the defaults marked.
    let mut listed = Vec::new();
    list_devices(&mut listed).unwrap();
    let listed = String::from_utf8(listed).unwrap();
    let (inputs, outputs) = listed.split_once("Output devices").expect(&listed);
    assert!(inputs.starts_with("Input devices"), "{listed}");
    assert!(inputs.contains("* default"), "{listed}");
    assert!(inputs.contains("  agents_test_mic  (Agents test microphone)"), "{listed}");
    assert!(outputs.contains("  agents_test_speakers  (Agents test speakers)"), "{listed}");

    // A name that is not there says which are.
    let server = AgentServer::new().rtc_session(entrypoint);
    let wrong = DeviceOptions::new().input_device("no_such_mic");
    let error = run_console_devices(&server, &wrong, std::io::empty(), Vec::new(), async {})
        .await
        .unwrap_err();
    assert!(matches!(error, ConsoleError::Device(DeviceError::UnknownDevice { .. })), "{error:?}");
    let message = error.to_string();
    assert!(message.starts_with("no input device named `no_such_mic`"), "{message}");
    assert!(message.contains("agents_test_mic") && message.contains("--list-devices"), "{message}");

    // The speakers' FIFO, read at four times real time until the device closes it.
    let fifo = dir.join("speakers.fifo");
    let played = Arc::new(Mutex::new(Vec::<i16>::new()));
    let reader = std::thread::spawn({
        let (fifo, played) = (fifo.clone(), played.clone());
        move || {
            let mut file = std::fs::File::open(&fifo).unwrap();
            let mut chunk = [0u8; 480]; // 10 ms at 24 kHz
            loop {
                let read = file.read(&mut chunk).unwrap();
                if read == 0 {
                    return;
                }
                let samples = chunk[..read - read % 2]
                    .chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]]));
                played.lock().unwrap().extend(samples);
                std::thread::sleep(Duration::from_micros(2_500));
            }
        }
    });

    // The keyboard: nothing until the spoken turn is answered, then text mode and a line.
    let (keys, typing) = KeyboardPipe::new();
    let transcript = SharedText::default();
    let options =
        DeviceOptions::new().input_device("agents_test_mic").output_device("agents_test_speakers");
    let driver = tokio::spawn({
        let (transcript, played) = (transcript.clone(), played.clone());
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while !(transcript.text().contains("● Agent: You said: Hi there.")
                && loud_blocks(&played.lock().unwrap()) > 100)
            {
                assert!(tokio::time::Instant::now() < deadline, "{}", transcript.text());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            typing.send(b"/text\ntyped hello\n".to_vec()).unwrap();
            drop(typing); // Ctrl+D: the end of the console in text mode
        }
    });
    let run =
        run_console_devices(&server, &options, keys, transcript.clone(), std::future::pending());
    let result = tokio::time::timeout(Duration::from_secs(30), run).await;
    if result.is_err() || driver.is_finished() && !transcript.text().contains("typed hello") {
        // Unblock the reader if the device never opened the FIFO.
        drop(std::fs::OpenOptions::new().write(true).open(&fifo));
    }
    result.expect("the console ended in time").expect("the console ran");
    driver.await.unwrap();
    reader.join().unwrap();

    // The user's spoken turn came from the ALSA microphone, the typed one from the keyboard.
    // (The echo stops the reply in `on_user_turn_completed`, so the user's messages are not
    // in the history: only the agent's lines are printed.)
    assert_eq!(transcript.text(), "● Agent: You said: Hi there.\n● Agent: You said: typed hello\n");
    let (utterances, peaks) = (STT.utterances(), STT.peaks());
    assert_eq!(utterances.len(), 1, "{utterances:?}");
    let (duration, peak) = (utterances[0], peaks[0]);
    // The tone (1 s) and the silence the VAD waited for (0.2 s), through two resamplers.
    assert!(
        duration > Duration::from_millis(1_100) && duration < Duration::from_millis(1_400),
        "{duration:?}"
    );
    assert!((7_000..=9_000).contains(&peak), "the tone's amplitude: {peak}");

    // The agent's two replies reached the ALSA speakers: "You said: Hi there." (19
    // characters) and "You said: typed hello" (21), 80 ms of tone per character: 320 blocks.
    let played = played.lock().unwrap();
    let loud = loud_blocks(&played);
    assert!((310..=330).contains(&loud), "{loud} loud 10 ms blocks of {}", played.len() / 240);
    let peak = played.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    assert!((7_000..=9_000).contains(&peak), "the reply's amplitude: {peak}");
}

/// 10 ms blocks (24 kHz) loud enough to be the tone.
fn loud_blocks(samples: &[i16]) -> usize {
    samples
        .chunks_exact(240)
        .filter(|block| {
            let energy: f64 = block.iter().map(|&s| f64::from(s).powi(2)).sum();
            (energy / 240.0).sqrt() > 2_000.0
        })
        .count()
}

async fn entrypoint(ctx: JobContext) -> Result<(), BoxError> {
    let session = AgentSession::builder()
        .vad(Arc::new(FakeVad::new()))
        .stt(Arc::new(STT.clone()))
        .tts(Arc::new(FakeTts::new().with_char_duration(Duration::from_millis(80))))
        .min_endpointing_delay(Duration::from_millis(100))
        .build();
    let agent = Agent::from_parts("echo", "Echo the user.", Vec::new(), Arc::new(Echo))?;
    session.start(agent).room(ctx.room()).await?;
    ctx.connect().await?;
    Ok(())
}

/// Says what the user said.
struct Echo;

#[async_trait]
impl AgentHooks for Echo {
    async fn on_user_turn_completed(
        &self,
        ctx: AgentContext,
        _turn_ctx: &mut ChatContext,
        new_message: &ChatMessage,
    ) -> Result<(), StopResponse> {
        ctx.session().say(format!("You said: {}", new_message.text()));
        Err(StopResponse)
    }
}

/// The STT of the entrypoint: hears "Hi there." and records each utterance's length and
/// loudest sample. (The entrypoint is a function, so the test reads it from here.)
static STT: LazyLock<FakeStt> = LazyLock::new(|| FakeStt::new(["Hi there."]));

/// The keyboard: bytes sent from the test, the end when the sender is dropped.
struct KeyboardPipe {
    receiver: std::sync::mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
}

impl KeyboardPipe {
    fn new() -> (Self, std::sync::mpsc::Sender<Vec<u8>>) {
        let (sender, receiver) = std::sync::mpsc::channel();
        (Self { receiver, pending: Vec::new() }, sender)
    }
}

impl Read for KeyboardPipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            match self.receiver.recv() {
                Ok(bytes) => self.pending = bytes,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// The transcript, shared with the test while the console writes it.
#[derive(Clone, Default)]
struct SharedText(Arc<Mutex<Vec<u8>>>);

impl SharedText {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for SharedText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
