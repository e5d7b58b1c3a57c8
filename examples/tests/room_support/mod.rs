//! What the room tests of the seed share: a network namespace to run in, the LiveKit test
//! server with the fake Inference gateway and model, and the example binary as a child
//! process whose output is kept.

#![allow(dead_code)] // each test file uses its part

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agents_test_support::livekit::rtc::RtcConfig;
use agents_test_support::{
    FakeGateway, FakeOpenAi, FakeResponse, NetNs, RecordedRequest, SttPlan, TestServer, Utterance,
};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use crate::common::{KEY, SECRET, example_binary, last_user_text};

/// How long any one step may take.
pub(crate) const WAIT: Duration = Duration::from_secs(30);
/// What the fake model answers to anything but a request for a tool.
pub(crate) const AGENT_GREETING: &str = "Hello! How can I help you today?";

/// Runs `scenario` on a tokio runtime in a network namespace of its own (libwebrtc ignores
/// loopback); processes it starts live in the namespace too.
pub(crate) fn in_namespace<F, Fut>(scenario: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let ns = NetNs::create().expect("root, for a network namespace");
    let thread = ns
        .spawn_thread(move || {
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

/// A model that greets, calls the tool it is asked for, and reports its output.
fn scripted_model(request: &RecordedRequest) -> FakeResponse {
    let last = request.messages().last().cloned().unwrap_or_default();
    if last["role"] == "tool" {
        return FakeResponse::text(format!("Done: {}", last["content"].as_str().unwrap_or("")));
    }
    if last_user_text(request).contains("print") {
        FakeResponse::tool_call("call_print", "print_to_console", "{}")
    } else {
        FakeResponse::text(AGENT_GREETING)
    }
}

/// "Please print to the console." (espeak-ng, see data/README.md) between 0.3 s and 1.5 s of
/// silence, and its sample rate.
pub(crate) fn spoken_request() -> (Vec<i16>, u32) {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/print_to_the_console.wav");
    let reader = hound::WavReader::open(&path).expect("tests/data/print_to_the_console.wav");
    let rate = reader.spec().sample_rate;
    let speech: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
    let silence = |seconds: f64| vec![0_i16; (f64::from(rate) * seconds) as usize];
    let pcm = [silence(0.3), speech, silence(1.5)].concat();
    (pcm, rate)
}

/// The loudest sample.
pub(crate) fn peak(pcm: &[i16]) -> i32 {
    pcm.iter().map(|&s| i32::from(s).abs()).max().unwrap_or(0)
}

/// The servers of a test, and the example once spawned.
pub(crate) struct World {
    pub(crate) server: TestServer,
    pub(crate) gateway: FakeGateway,
    llm: FakeOpenAi,
    child: tokio::sync::Mutex<Option<Child>>,
    pid: Mutex<Option<u32>>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl World {
    /// The LiveKit test server, and the gateway (STT, TTS, the model behind it) scripted
    /// for one spoken request.
    pub(crate) async fn start() -> Self {
        Self::start_with(RtcConfig::new(KEY, SECRET)).await
    }

    /// [`start`](Self::start) with the `/rtc` service configured by `rtc`.
    pub(crate) async fn start_with(rtc: RtcConfig) -> Self {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let server = TestServer::start_with(address, rtc).await.unwrap();
        let llm = FakeOpenAi::with_handler(scripted_model).await.unwrap();
        let gateway = FakeGateway::start(KEY, SECRET).await.unwrap();
        gateway.forward_http(llm.addr());
        // The request ends 2.25 s into the user's audio (0.3 s of silence, 1.95 s of speech).
        gateway.script_stt(SttPlan::new([Utterance::after(
            Duration::from_millis(2_100),
            "please print to the console",
        )]));
        Self {
            server,
            gateway,
            llm,
            child: tokio::sync::Mutex::new(None),
            pid: Mutex::new(None),
            stdout: Arc::default(),
            stderr: Arc::default(),
        }
    }

    /// Starts the example with `args`, pointed at the test server and the gateway.
    pub(crate) fn spawn_agent(&self, args: &[&str]) {
        let mut child = Command::new(example_binary("update_tools"))
            .args(args)
            .current_dir(std::env::temp_dir())
            .env("LIVEKIT_URL", self.server.url())
            .env("LIVEKIT_API_KEY", KEY)
            .env("LIVEKIT_API_SECRET", SECRET)
            .env("LIVEKIT_INFERENCE_URL", self.gateway.base_url())
            .env(
                "LIVEKIT_LOG_LEVEL",
                // `ROOM_TEST_LOG=debug cargo test …` to see more of the example's log.
                std::env::var("ROOM_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the example starts");
        keep(child.stdout.take().unwrap(), self.stdout.clone());
        keep(child.stderr.take().unwrap(), self.stderr.clone());
        *lock(&self.pid) = child.id();
        *self.child.try_lock().expect("one agent at a time") = Some(child);
    }

    /// What the example wrote so far, and what the gateway and the model saw: the context
    /// of a failure.
    pub(crate) fn agent_output(&self) -> String {
        let gateway: Vec<String> = self
            .gateway
            .connections()
            .iter()
            .map(|c| {
                let kinds: Vec<String> = c.messages.iter().map(|m| m["type"].to_string()).collect();
                format!(
                    "{} (refused: {:?}): {} audio bytes, {kinds:?}",
                    c.path, c.refused, c.audio_bytes
                )
            })
            .collect();
        let requests: Vec<String> =
            self.llm.requests().iter().map(|r| format!("{:?}", r.messages())).collect();
        format!(
            "stdout:\n{}\nstderr:\n{}\ngateway connections: {gateway:#?}\nmodel requests: {requests:#?}",
            lock(&self.stdout),
            lock(&self.stderr),
        )
    }

    /// The example's stdout so far.
    pub(crate) fn stdout(&self) -> String {
        lock(&self.stdout).clone()
    }

    /// The example's stderr so far.
    pub(crate) fn stderr(&self) -> String {
        lock(&self.stderr).clone()
    }

    /// Waits until the example's stdout contains `text`.
    pub(crate) async fn wait_stdout(&self, text: &str) {
        self.wait_output(text, &self.stdout).await;
    }

    /// Waits until the example's stderr (its log) contains `text`.
    pub(crate) async fn wait_stderr(&self, text: &str) {
        self.wait_output(text, &self.stderr).await;
    }

    async fn wait_output(&self, text: &str, output: &Mutex<String>) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !lock(output).contains(text) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {text:?} from the example within {WAIT:?}\n{}",
                self.agent_output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the example to exit (within [`WAIT`]).
    pub(crate) async fn wait_agent_exit(&self) -> ExitStatus {
        let mut child = self.child.lock().await;
        let child = child.as_mut().expect("an agent was started");
        match tokio::time::timeout(WAIT, child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => panic!("the example did not exit within {WAIT:?}\n{}", self.agent_output()),
        }
    }

    /// Sends SIGTERM to the example (Ctrl+C would do the same) and waits for it to exit 0.
    pub(crate) async fn stop_agent(&self) {
        let pid = lock(&self.pid).expect("an agent was started");
        let killed =
            std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
        assert!(killed.success());
        let status = self.wait_agent_exit().await;
        assert!(status.success(), "exit status {status:?}\n{}", self.agent_output());
    }

    /// Neither the server nor the gateway saw the example break their protocols.
    pub(crate) fn check_clean(&self) {
        assert_eq!(self.server.violations(), Vec::<String>::new());
        assert_eq!(self.gateway.violations(), Vec::<String>::new());
        assert_eq!(self.server.rtc().errors(), Vec::<String>::new());
    }
}

/// Appends what `from` writes to `into`, line by line.
fn keep(from: impl AsyncRead + Unpin + Send + 'static, into: Arc<Mutex<String>>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(from).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut kept = lock(&into);
            kept.push_str(&line);
            kept.push('\n');
        }
    });
}
