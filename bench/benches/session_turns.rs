//! Per-turn CPU time and latency of `AgentSession` turns in text; prints Markdown tables.
//!
//! Run with `cargo bench -p agents-bench --bench session_turns` (all parts), or name parts:
//! `cargo bench -p agents-bench --bench session_turns -- loopback growth` (words filter part
//! names, as divan's filters do). Add `--sessions N` to change how many sessions each part
//! runs (defaults: 20, 10 and 5). Results are in `BENCHMARKS.md`.
//!
//! A turn is `session.run(USER_INPUT)` in which the model calls `get_weather`, then
//! `get_time`, then answers with text: three LLM steps (see `agents_bench::turn`). Every
//! session runs on a current-thread Tokio runtime on the main thread, so the session, its
//! tasks, the HTTP client and its connection all run on one thread, whose CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`) is measured around each `block_on(session.run(..))` along with
//! the wall time. One unmeasured warm-up session runs before each part's measured ones.
//!
//! Parts:
//!
//! * `in-process`: turns 1–50 of sessions whose model is [`InstantLlm`] (answers at once, no
//!   I/O), so all the time is the framework's; the LLM adds nothing, so the wall time of a
//!   turn is the latency the framework adds. Next to it, the same turn hand-written
//!   ([`bare_turn`]), the least work any agent loop does.
//! * `loopback`: turns 1–50 of sessions whose model is `agents_inference::openai::Llm`
//!   talking to `FakeOpenAi` (from `agents-test-support`) over loopback HTTP. The server runs
//!   on its own runtime in another thread, so its CPU time is not counted; the CPU time of
//!   threads other than the session's and the server's is reported too (it should be zero:
//!   nothing else should work). A [`TimedLlm`] wrapper sums the time the three requests take
//!   (from `chat` to the end of the stream), so `turn wall − LLM time` is the latency the
//!   session adds beyond the model. After each session, a *bare client* baseline replays the
//!   exact request bodies that session sent (three per turn, each with the whole history)
//!   with `reqwest` on the same runtime and thread, reading and JSON-parsing the SSE events,
//!   so `session − baseline` is the framework's share (agents-core and agents-inference).
//! * `growth`: 1000 turns in one session with [`InstantLlm`] (the history grows by six items
//!   per turn), per-turn CPU at turns 1, 10, 50, 100, 500 and 1000, and where the growth comes
//!   from: the cost of copying the agent's chat context, and of building and encoding one
//!   OpenAI request body, at each of those history lengths.

use std::hint::black_box;
use std::sync::mpsc as std_mpsc;
use std::thread;
use std::time::Duration;

use agents_bench::measure::{
    Cost, Summary, clock_overhead, current_tid, load_average, measure, median, micros, process_cpu,
    task_cpu, thread_cpu,
};
use agents_bench::turn::{
    INSTRUCTIONS, InstantLlm, TimedLlm, USER_INPUT, bare_history, bare_turn, fake_openai_response,
    final_text, turn_agent,
};
use agents_core::llm::{ChatContext, ChatItem, ChatMessage, ChatOptions, ChatRole, Llm as _};
use agents_core::voice::{AgentSession, RunResult};
use agents_inference::openai;
use agents_test_support::{FakeOpenAi, RecordedRequest};
use serde_json::Value;
use tokio::runtime::Runtime;

/// Turns per session in the `in-process` and `loopback` parts.
const TURNS: usize = 50;
/// Turns of the `growth` session.
const GROWTH_TURNS: usize = 1000;
/// The turns the `growth` part reports (50 links it to the `loopback` part).
const CHECKPOINTS: [usize; 6] = [1, 10, 50, 100, 500, 1000];
/// The model name sent to the fake server.
const MODEL: &str = "gpt-4.1-mini";
/// The API key sent to the fake server (it accepts any).
const API_KEY: &str = "bench-key";

/// What to run, from the command line.
struct Options {
    in_process: bool,
    loopback: bool,
    growth: bool,
    /// Sessions per part (each part has its own default).
    sessions: Option<usize>,
}

impl Options {
    /// Parses the arguments. Words are filters, as divan's: a part runs when there are none or
    /// one of them is in its name (so `cargo bench -p agents-bench -- invoke`, meant for the
    /// `tools` bench, runs no part here). Flags other than `--sessions N` (cargo passes
    /// `--bench`) are ignored.
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let sessions_at = args.iter().position(|arg| arg == "--sessions");
        let sessions =
            sessions_at.and_then(|at| args.get(at + 1)).and_then(|count| count.parse().ok());
        let filters: Vec<&str> = args
            .iter()
            .enumerate()
            .filter(|(index, arg)| {
                !arg.starts_with('-') && sessions_at.is_none_or(|at| *index != at + 1)
            })
            .map(|(_, arg)| arg.as_str())
            .collect();
        let runs = |part: &str| filters.is_empty() || filters.iter().any(|f| part.contains(f));
        Self {
            in_process: runs("in-process"),
            loopback: runs("loopback"),
            growth: runs("growth"),
            sessions,
        }
    }

    /// Whether no part runs.
    fn nothing(&self) -> bool {
        !(self.in_process || self.loopback || self.growth)
    }
}

fn main() {
    let options = Options::from_args();
    if options.nothing() {
        return;
    }
    println!("# session_turns");
    println!();
    println!(
        "1-min load average at start: {}; a pair of thread-CPU clock reads costs {} of CPU \
         (included in every per-turn CPU figure).",
        load_average(),
        micros(clock_overhead(10_000))
    );
    let rt = runtime();
    if options.in_process {
        in_process(&rt, options.sessions.unwrap_or(20));
    }
    if options.loopback {
        loopback(&rt, options.sessions.unwrap_or(10));
    }
    if options.growth {
        growth(&rt, options.sessions.unwrap_or(5));
    }
    println!();
    println!("1-min load average at end: {}", load_average());
}

/// A current-thread runtime with I/O and time enabled, as an application has.
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime")
}

/// A started, idle session with `llm` and the turn's agent.
fn start_session(rt: &Runtime, llm: impl agents_core::llm::Llm) -> AgentSession {
    rt.block_on(async {
        let session = AgentSession::builder().llm(llm).build();
        session.start(turn_agent()).await.expect("the session starts");
        session.wait_for_idle().await;
        session
    })
}

/// Runs one turn, measured; checks (outside the measurement) that it made the two calls and
/// answered.
fn timed_turn(rt: &Runtime, session: &AgentSession) -> Cost {
    let (result, cost) = measure(|| rt.block_on(session.run(USER_INPUT)));
    check_turn(&result.expect("the turn runs"));
    cost
}

fn check_turn(result: &RunResult) {
    assert!(result.errors().is_empty(), "the turn failed: {:?}", result.errors());
    assert_eq!(result.events().len(), 5, "two calls, two outputs, one answer");
    assert_eq!(result.last_message(), Some(final_text()));
}

/// The per-turn costs of a session that ran `turns` turns with an [`InstantLlm`].
fn instant_session(rt: &Runtime, turns: usize) -> Vec<Cost> {
    let session = start_session(rt, InstantLlm::new());
    let costs = (0..turns).map(|_| timed_turn(rt, &session)).collect();
    rt.block_on(session.close());
    costs
}

/// The per-turn costs of `turns` hand-written turns ([`bare_turn`]) on one history.
fn bare_turns(rt: &Runtime, turns: usize) -> Vec<Cost> {
    let (llm, agent) = (InstantLlm::new(), turn_agent());
    let mut history = bare_history(&agent);
    (0..turns)
        .map(|_| {
            let (text, cost) = measure(|| rt.block_on(bare_turn(&llm, &agent, &mut history)));
            assert_eq!(text, final_text());
            cost
        })
        .collect()
}

fn cpus(costs: &[Cost]) -> Vec<Duration> {
    costs.iter().map(|cost| cost.cpu).collect()
}

fn walls(costs: &[Cost]) -> Vec<Duration> {
    costs.iter().map(|cost| cost.wall).collect()
}

/// The median over sessions of turn `turn` (from 1) of `runs`' values.
fn turn_median(runs: &[Vec<Duration>], turn: usize) -> Duration {
    let values: Vec<Duration> = runs.iter().filter_map(|run| run.get(turn - 1).copied()).collect();
    median(&values)
}

/// A table row: turn 1 (median over sessions), then the summary of every turn of every session.
fn row(label: &str, runs: &[Vec<Duration>]) {
    let all: Vec<Duration> = runs.iter().flatten().copied().collect();
    let summary = Summary::of(&all);
    println!(
        "| {label} | {} | **{}** | {} | {} | {} |",
        micros(turn_median(runs, 1)),
        micros(summary.mean),
        micros(summary.p50),
        micros(summary.p99),
        micros(summary.max),
    );
}

fn table_head(sessions: usize) {
    println!(
        "| per turn | turn 1 (median of {sessions} sessions) | turns 1–{TURNS}: mean | p50 | p99 | max |"
    );
    println!("|---|---|---|---|---|---|");
}

/// Part 1: turns 1–50 with [`InstantLlm`], and the hand-written turn.
fn in_process(rt: &Runtime, sessions: usize) {
    let mut session_runs = Vec::new();
    let mut bare_runs = Vec::new();
    for index in 0..=sessions {
        let session = instant_session(rt, TURNS);
        let bare = bare_turns(rt, TURNS);
        if index > 0 {
            session_runs.push(session);
            bare_runs.push(bare);
        }
    }
    let cpu = |runs: &[Vec<Cost>]| runs.iter().map(|run| cpus(run)).collect::<Vec<_>>();
    let wall = |runs: &[Vec<Cost>]| runs.iter().map(|run| walls(run)).collect::<Vec<_>>();
    println!();
    println!("## in-process: InstantLlm, {sessions} sessions × {TURNS} turns");
    println!();
    table_head(sessions);
    row("session: thread CPU", &cpu(&session_runs));
    row("session: wall (= latency added beyond the LLM)", &wall(&session_runs));
    row("bare loop: thread CPU", &cpu(&bare_runs));
    row("bare loop: wall", &wall(&bare_runs));
}

/// Commands to the fake server's thread.
enum Command {
    /// Replace the server with a new one (no requests recorded); reply with its base URL.
    Start(std_mpsc::Sender<String>),
    /// Reply with the requests the current server received.
    Requests(std_mpsc::Sender<Vec<RecordedRequest>>),
}

/// `FakeOpenAi` on its own current-thread runtime in its own thread, so that its CPU time is
/// not the session thread's; its thread id lets [`task_cpu`] take it out of the process's.
struct ServerThread {
    commands: tokio::sync::mpsc::UnboundedSender<Command>,
    tid: i32,
    handle: thread::JoinHandle<()>,
}

impl ServerThread {
    fn spawn() -> Self {
        let (commands, mut receiver) = tokio::sync::mpsc::unbounded_channel::<Command>();
        let (tid_sender, tid_receiver) = std_mpsc::channel();
        let handle = thread::Builder::new()
            .name("fake-openai".to_owned())
            .spawn(move || {
                let _ = tid_sender.send(current_tid());
                runtime().block_on(async move {
                    let mut fake: Option<FakeOpenAi> = None;
                    while let Some(command) = receiver.recv().await {
                        match command {
                            Command::Start(reply) => {
                                // Free the previous server (its recorded requests: tens of
                                // ms at 300 requests) before answering, or the freeing would
                                // delay the first request of the next session.
                                drop(fake.take());
                                tokio::time::sleep(Duration::from_millis(200)).await;
                                let server = FakeOpenAi::with_handler(fake_openai_response)
                                    .await
                                    .expect("the fake server starts");
                                let _ = reply.send(server.base_url());
                                fake = Some(server);
                            }
                            Command::Requests(reply) => {
                                let requests = fake.as_ref().map(FakeOpenAi::requests);
                                let _ = reply.send(requests.unwrap_or_default());
                            }
                        }
                    }
                });
            })
            .expect("the server thread starts");
        let tid = tid_receiver.recv().expect("the server thread reports its id");
        Self { commands, tid, handle }
    }

    fn ask<T>(&self, command: impl FnOnce(std_mpsc::Sender<T>) -> Command) -> T {
        let (reply, answer) = std_mpsc::channel();
        self.commands.send(command(reply)).expect("the server thread runs");
        answer.recv().expect("the server thread answers")
    }

    /// Starts a new server; returns its base URL.
    fn start(&self) -> String {
        self.ask(Command::Start)
    }

    /// The requests the current server received.
    fn requests(&self) -> Vec<RecordedRequest> {
        self.ask(Command::Requests)
    }

    /// The server thread's CPU time so far.
    fn cpu(&self) -> Duration {
        task_cpu(self.tid).expect("the server thread's schedstat is readable")
    }

    fn stop(self) {
        drop(self.commands);
        self.handle.join().expect("the server thread ends cleanly");
    }
}

/// What one loopback session measured.
struct LoopbackRun {
    /// Per turn.
    costs: Vec<Cost>,
    /// Per turn: the time the three requests took, from `chat` to the end of the stream.
    llm: Vec<Duration>,
    /// CPU time of threads other than this one and the server's, over the whole session.
    other_threads: Duration,
    /// What the session sent, in order (three requests per turn).
    requests: Vec<RecordedRequest>,
    /// Where it sent them.
    base_url: String,
}

/// A session of `turns` turns against a new fake server, through `openai::Llm`.
fn loopback_session(rt: &Runtime, server: &ServerThread, turns: usize) -> LoopbackRun {
    let base_url = server.start();
    let llm = openai::Llm::builder(MODEL)
        .base_url(base_url.clone())
        .api_key(API_KEY)
        .build()
        .expect("a valid client");
    let timed = TimedLlm::new(llm);
    let clock = timed.clock();
    let session = start_session(rt, timed);
    let (process_before, server_before, thread_before) =
        (process_cpu(), server.cpu(), thread_cpu());
    let mut costs = Vec::with_capacity(turns);
    let mut llm = Vec::with_capacity(turns);
    for _ in 0..turns {
        let llm_before = clock.llm_time();
        costs.push(timed_turn(rt, &session));
        llm.push(clock.llm_time() - llm_before);
    }
    let thread_used = thread_cpu() - thread_before;
    let server_used = server.cpu() - server_before;
    let process_used = process_cpu() - process_before;
    rt.block_on(session.close());
    let requests = server.requests();
    assert_eq!(requests.len(), 3 * turns, "three requests per turn");
    LoopbackRun {
        costs,
        llm,
        other_threads: process_used.saturating_sub(thread_used).saturating_sub(server_used),
        requests,
        base_url,
    }
}

/// The bare client of the baseline: reqwest with the same HTTP/1.1 stack as agents-inference
/// (rustls with `ring`, no roots: the server is plain HTTP).
fn bare_client() -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .expect("ring supports the default versions")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .user_agent("agents-bench baseline")
        .tls_backend_preconfigured(tls)
        .build()
        .expect("a reqwest client")
}

/// Posts `body` and reads the answer's event stream to its end, parsing each event's data as
/// JSON (as any client must); returns the number of events.
async fn post_and_read(client: &reqwest::Client, url: &str, body: Vec<u8>) -> usize {
    let mut response = client
        .post(url)
        .bearer_auth(API_KEY)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(body)
        .send()
        .await
        .expect("the fake server answers");
    assert!(response.status().is_success(), "{}", response.status());
    let mut buffer: Vec<u8> = Vec::new();
    let mut events = 0;
    while let Some(bytes) = response.chunk().await.expect("the body arrives") {
        buffer.extend_from_slice(&bytes);
        while let Some(end) = buffer.windows(2).position(|pair| pair == b"\n\n") {
            if let Some(data) = buffer[..end].strip_prefix(b"data: ") {
                if data != b"[DONE]" {
                    let chunk: Value = serde_json::from_slice(data).expect("a JSON chunk");
                    black_box(chunk);
                }
                events += 1;
            }
            buffer.drain(..end + 2);
        }
    }
    events
}

/// The baseline of a loopback session: its request bodies, replayed three per turn with a new
/// [`bare_client`] (so the first turn connects, as the session's did). With `encode`, each
/// body is also serialized in the timed region, from the request's JSON value (as a
/// hand-written client keeping its messages as JSON would); without it, the bytes are ready.
fn baseline_replay(rt: &Runtime, run: &LoopbackRun, encode: bool) -> Vec<Cost> {
    let client = bare_client();
    let url = format!("{}/chat/completions", run.base_url);
    run.requests
        .chunks(3)
        .map(|turn| {
            let bodies: Vec<(Vec<u8>, Value)> = turn
                .iter()
                .map(|request| {
                    if encode {
                        (Vec::new(), request.body.clone())
                    } else {
                        (request.raw_body.clone().into_bytes(), Value::Null)
                    }
                })
                .collect();
            let (events, cost) = measure(|| {
                rt.block_on(async {
                    let mut events = 0;
                    for (bytes, value) in bodies {
                        let body = if encode {
                            serde_json::to_vec(&value).expect("JSON values encode")
                        } else {
                            bytes
                        };
                        events += post_and_read(&client, &url, body).await;
                    }
                    events
                })
            });
            assert!(events >= 3 * 4, "every answer has its events");
            cost
        })
        .collect()
}

/// The agent's conversation after each of `turns` turns (0: before the first) of an unmeasured
/// [`InstantLlm`] session: the same items as a loopback session's, call ids aside.
fn contexts_after(rt: &Runtime, turns: &[usize]) -> Vec<(usize, ChatContext)> {
    let session = start_session(rt, InstantLlm::new());
    let agent = session.current_agent().expect("the session has an agent");
    let last = turns.iter().copied().max().unwrap_or(0);
    let mut contexts = Vec::new();
    for turn in 0..=last {
        if turns.contains(&turn) {
            contexts.push((turn, agent.chat_ctx()));
        }
        if turn < last {
            rt.block_on(session.run(USER_INPUT)).expect("the turn runs");
        }
    }
    rt.block_on(session.close());
    contexts
}

/// An OpenAI client for encoding request bodies (`chat` without polling: nothing is sent).
fn encoding_client() -> openai::Llm {
    openai::Llm::builder(MODEL)
        .base_url("http://127.0.0.1:9/v1")
        .api_key(API_KEY)
        .build()
        .expect("a valid client")
}

/// The request context of a step, as the session builds it: the instructions, then `items`.
fn request_context(items: &[ChatItem]) -> ChatContext {
    let mut request = ChatContext::new();
    request.push(ChatMessage::new(ChatRole::System, INSTRUCTIONS));
    request.extend(items.iter().cloned());
    request
}

/// Part 2: turns 1–50 through `openai::Llm` and FakeOpenAi, and the bare-client replay.
fn loopback(rt: &Runtime, sessions: usize) {
    let server = ServerThread::spawn();
    let mut runs = Vec::new();
    let mut baselines = Vec::new();
    let mut encoding_baselines = Vec::new();
    for index in 0..=sessions {
        let run = loopback_session(rt, &server, TURNS);
        let baseline = baseline_replay(rt, &run, false);
        let encoding_baseline = baseline_replay(rt, &run, true);
        if index > 0 {
            runs.push(run);
            baselines.push(baseline);
            encoding_baselines.push(encoding_baseline);
        }
    }
    server.stop();

    let session_cpu: Vec<Vec<Duration>> = runs.iter().map(|run| cpus(&run.costs)).collect();
    let session_wall: Vec<Vec<Duration>> = runs.iter().map(|run| walls(&run.costs)).collect();
    let llm: Vec<Vec<Duration>> = runs.iter().map(|run| run.llm.clone()).collect();
    let added: Vec<Vec<Duration>> = runs
        .iter()
        .map(|run| {
            run.costs
                .iter()
                .zip(&run.llm)
                .map(|(cost, llm)| cost.wall.saturating_sub(*llm))
                .collect()
        })
        .collect();
    let baseline_cpu: Vec<Vec<Duration>> = baselines.iter().map(|run| cpus(run)).collect();
    let baseline_wall: Vec<Vec<Duration>> = baselines.iter().map(|run| walls(run)).collect();
    let encoding_cpu: Vec<Vec<Duration>> = encoding_baselines.iter().map(|run| cpus(run)).collect();
    let turns_measured = u32::try_from(sessions * TURNS).unwrap_or(u32::MAX).max(1);
    let other: Duration =
        runs.iter().map(|run| run.other_threads).sum::<Duration>() / turns_measured;

    println!();
    println!(
        "## loopback: openai::Llm → FakeOpenAi on 127.0.0.1, {sessions} sessions × {TURNS} turns"
    );
    println!();
    table_head(sessions);
    row("session: thread CPU", &session_cpu);
    row("baseline (bare reqwest, same bodies): thread CPU", &baseline_cpu);
    row("baseline + serializing the bodies (`serde_json::to_vec`): thread CPU", &encoding_cpu);
    row("session: wall", &session_wall);
    row("baseline: wall", &baseline_wall);
    row("LLM time (3 requests: chat() to end of stream)", &llm);
    row("session: wall − LLM time (latency added beyond the LLM)", &added);
    println!();
    println!(
        "CPU of other threads (process − session thread − server thread): {} per turn",
        micros(other)
    );
    let mean = |runs: &[Vec<Duration>]| Summary::of(&runs.concat()).mean;
    println!(
        "Framework share of the CPU (session − baseline, means over turns 1–{TURNS}): {}",
        micros(mean(&session_cpu).saturating_sub(mean(&baseline_cpu)))
    );
    println!();
    println!(
        "| turn | session thread CPU (median of {sessions}) | baseline thread CPU | baseline + serializing | session − baseline | building the 3 request bodies (`openai::Llm::chat`, not sent) | body bytes (3 requests) |"
    );
    println!("|---|---|---|---|---|---|---|");
    let client = encoding_client();
    let tools = turn_agent().tools();
    let options = ChatOptions::default();
    for (turn, context) in contexts_after(rt, &[1, 2, 10, 25, 50]) {
        // The turn's three requests: up to its user message, to its first call's output, to
        // its second call's output (the context ends with the turn's answer).
        let items = context.items();
        let requests: Vec<ChatContext> =
            [5, 3, 1].iter().map(|cut| request_context(&items[..items.len() - cut])).collect();
        let encode = per_call(items.len() * 3, || {
            let streams: Vec<_> = requests
                .iter()
                .map(|request| client.chat(request, tools.as_slice(), &options))
                .collect();
            black_box(streams)
        });
        let session = turn_median(&session_cpu, turn);
        let baseline = turn_median(&baseline_cpu, turn);
        let bytes: usize = runs[0].requests[3 * (turn - 1)..3 * turn]
            .iter()
            .map(|request| request.raw_body.len())
            .sum();
        println!(
            "| {turn} | {} | {} | {} | {} | {} | {bytes} |",
            micros(session),
            micros(baseline),
            micros(turn_median(&encoding_cpu, turn)),
            micros(session.saturating_sub(baseline)),
            micros(encode),
        );
    }
}

/// Part 3: 1000 turns in one session, per-turn CPU at the checkpoints, and where the growth
/// comes from.
fn growth(rt: &Runtime, sessions: usize) {
    let mut session_runs: Vec<Vec<Cost>> = Vec::new();
    let mut bare_runs: Vec<Vec<Cost>> = Vec::new();
    // The agent's conversation before each checkpoint turn, from the first measured session.
    let mut contexts: Vec<(usize, ChatContext)> = Vec::new();
    for index in 0..=sessions {
        let session = start_session(rt, InstantLlm::new());
        let mut costs = Vec::with_capacity(GROWTH_TURNS);
        for turn in 1..=GROWTH_TURNS {
            if index == 1 && CHECKPOINTS.contains(&turn) {
                let agent = session.current_agent().expect("the session has an agent");
                contexts.push((turn, agent.chat_ctx()));
            }
            costs.push(timed_turn(rt, &session));
        }
        rt.block_on(session.close());
        let bare = bare_turns(rt, GROWTH_TURNS);
        if index > 0 {
            session_runs.push(costs);
            bare_runs.push(bare);
        }
    }
    let session_cpu: Vec<Vec<Duration>> = session_runs.iter().map(|run| cpus(run)).collect();
    let session_wall: Vec<Vec<Duration>> = session_runs.iter().map(|run| walls(run)).collect();
    let bare_cpu: Vec<Vec<Duration>> = bare_runs.iter().map(|run| cpus(run)).collect();

    println!();
    println!("## growth: InstantLlm, {sessions} sessions × {GROWTH_TURNS} turns");
    println!();
    println!(
        "| turn | history items before it | session thread CPU (median of {sessions}) | session wall | bare loop CPU | copying the agent's chat context once (clone + drop) | one OpenAI request body (`openai::Llm::chat`, not sent) |"
    );
    println!("|---|---|---|---|---|---|---|");
    let client = encoding_client();
    let tools = turn_agent().tools();
    for (turn, context) in &contexts {
        let items = context.len();
        let copy = per_call(items, || black_box(context.clone()));
        let mut request = request_context(context.items());
        request.push(ChatMessage::new(ChatRole::User, USER_INPUT));
        let options = ChatOptions::default();
        let encode =
            per_call(items, || black_box(client.chat(&request, tools.as_slice(), &options)));
        println!(
            "| {turn} | {items} | {} | {} | {} | {} | {} |",
            micros(turn_median(&session_cpu, *turn)),
            micros(turn_median(&session_wall, *turn)),
            micros(turn_median(&bare_cpu, *turn)),
            micros(copy),
            micros(encode),
        );
    }
    println!();
    println!("| turns | session: mean thread CPU per turn | bare loop: mean CPU per turn |");
    println!("|---|---|---|");
    for turns in [50, 100, 1000] {
        let mean = |runs: &[Vec<Duration>]| {
            let first: Vec<Duration> =
                runs.iter().flat_map(|run| run[..turns].iter().copied()).collect();
            Summary::of(&first).mean
        };
        println!("| 1–{turns} | {} | {} |", micros(mean(&session_cpu)), micros(mean(&bare_cpu)));
    }
    let total: Duration =
        session_cpu.iter().map(|run| run.iter().sum::<Duration>()).sum::<Duration>()
            / u32::try_from(sessions).unwrap_or(1).max(1);
    println!();
    println!(
        "Whole {GROWTH_TURNS}-turn session: {:.1} ms of thread CPU (mean of {sessions}).",
        total.as_secs_f64() * 1e3
    );
}

/// The thread CPU time of one call of `work`, from a loop of calls sized for `items`
/// (results dropped inside the loop, as the session drops its copies).
fn per_call<T>(items: usize, mut work: impl FnMut() -> T) -> Duration {
    let calls = u32::try_from((200_000 / (items + 10)).clamp(10, 2_000)).unwrap_or(10);
    let mut samples = Vec::new();
    for _ in 0..5 {
        let ((), cost) = measure(|| {
            for _ in 0..calls {
                drop(work());
            }
        });
        samples.push(cost.cpu / calls);
    }
    median(&samples)
}
