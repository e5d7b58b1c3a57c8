//! The text console (`console --text`) end to end, in-process: an `AgentServer` shaped like the
//! seed example, scripted user lines, and the OpenAI client talking to a protocol-faithful fake
//! OpenAI server on 127.0.0.1.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use agents_core::cli::{ConsoleError, run_console_text};
use agents_core::llm::ApiConnectOptions;
use agents_core::prelude::*;
use agents_core::voice::ErrorSource;
use agents_core::worker::JobError;
use agents_inference::openai;
use agents_test_support::{FakeOpenAi, FakeResponse, RecordedRequest};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const INSTRUCTIONS: &str = "You are a helpful assistant. If asked to print to the console, use \
    the `print_to_console` function.";

/// The seed's agent: one static tool, and a greeting in `on_enter`.
struct AddFunctionAgent;

#[function_tools]
impl AddFunctionAgent {
    /// Print to the console.
    #[function_tool]
    async fn print_to_console(&self, _context: RunContext) -> &'static str {
        "I've printed to the console."
    }

    /// Look up the weather.
    #[function_tool]
    async fn lookup_weather(&self) -> Result<String, ToolError> {
        Err(ToolError::message("the weather service is down"))
    }
}

#[async_trait]
impl AgentHooks for AddFunctionAgent {
    async fn on_enter(&self, ctx: AgentContext) {
        ctx.session().generate_reply(ReplyOptions::default());
    }
}

async fn random_number() -> i64 {
    42
}

/// The seed's server: a prewarmed value in the process userdata, an entrypoint that builds the
/// session on the fake server, adds a tool at run time and starts the agent in the room.
fn server(fake: &FakeOpenAi) -> AgentServer {
    let base_url = fake.base_url();
    AgentServer::new()
        .setup_fnc(|proc: &mut JobProcess| proc.userdata.insert("model", "gpt-4.1-mini".to_owned()))
        .rtc_session(move |ctx: JobContext| {
            let base_url = base_url.clone();
            async move {
                ctx.set_log_context_fields([("room", ctx.room().name())]);
                let model = ctx.proc().userdata.try_get::<String>("model")?;
                let llm = openai::Llm::builder(model).base_url(base_url).api_key("test").build()?;
                let session = AgentSession::builder()
                    .llm(llm)
                    .conn_options(ApiConnectOptions::new(
                        1,
                        Duration::from_millis(10),
                        Duration::from_secs(5),
                    ))
                    .build();
                let this = Arc::new(AddFunctionAgent);
                let agent = Agent::from_parts(
                    "add_function_agent",
                    INSTRUCTIONS,
                    this.function_tools(),
                    this,
                )?;
                agent
                    .update_tools(
                        agent.tools()
                            + [function_tool(
                                random_number,
                                "random_number",
                                "Get a random number",
                            )?],
                    )
                    .await?;
                session.start(agent).room(ctx.room()).await?;
                ctx.connect().await?;
                Ok::<(), BoxError>(())
            }
        })
}

async fn console(server: &AgentServer, input: &str) -> (Result<(), ConsoleError>, String) {
    let mut output = Vec::new();
    let run = run_console_text(server, input.as_bytes(), &mut output);
    let result =
        tokio::time::timeout(Duration::from_secs(20), run).await.expect("the console ended");
    (result, String::from_utf8(output).unwrap())
}

fn last_user_message(request: &RecordedRequest) -> Option<String> {
    request
        .messages()
        .iter()
        .rev()
        .find(|message| message["role"] == "user")
        .and_then(|message| message["content"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greeting_tool_calls_and_errors_are_printed_in_order() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::text("Hello! How can I help you today?"),
        FakeResponse::tool_call("call_1", "print_to_console", "{}"),
        FakeResponse::text("Done: I printed to the console."),
        FakeResponse::tool_call("call_2", "random_number", "{}"),
        FakeResponse::text("Your number is 42."),
        FakeResponse::tool_call("call_3", "lookup_weather", "{}"),
        FakeResponse::text("Sorry, I can't get the weather right now."),
    ])
    .await
    .unwrap();
    let input = "Please print to the console.\n\nGive me a random number.\nWhat's the weather?\n";
    let (result, output) = console(&server(&fake), input).await;
    result.unwrap();
    assert_eq!(
        output,
        "● Agent: Hello! How can I help you today?\n\
         ➜ print_to_console\n\
         ✓ I've printed to the console.\n\
         ● Agent: Done: I printed to the console.\n\
         ➜ random_number\n\
         ✓ 42\n\
         ● Agent: Your number is 42.\n\
         ➜ lookup_weather\n\
         ✗ the weather service is down\n\
         ● Agent: Sorry, I can't get the weather right now.\n"
    );

    // The greeting was asked for before any user line; each line was one turn, in order.
    let requests = fake.requests();
    assert_eq!(requests.len(), 7);
    assert_eq!(last_user_message(&requests[0]), None);
    let users: Vec<_> = requests[1..].iter().map(last_user_message).collect();
    let expected = [
        "Please print to the console.",
        "Please print to the console.",
        "Give me a random number.",
        "Give me a random number.",
        "What's the weather?",
        "What's the weather?",
    ];
    assert_eq!(users, expected.map(|text| Some(text.to_owned())));
    assert!(requests[0].tool_names().contains(&"random_number"), "{:?}", requests[0].tool_names());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_of_input_waits_for_the_greeting_then_closes_successfully() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::text_deltas(["Hello", " there", "!"]).paced(Duration::from_millis(20))
    ])
    .await
    .unwrap();
    let (result, output) = console(&server(&fake), "").await;
    result.unwrap();
    assert_eq!(output, "● Agent: Hello there!\n");
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_turn_is_logged_the_console_goes_on_and_fails_at_its_end() {
    let fake = FakeOpenAi::with_responses([
        FakeResponse::text("Hi!"),
        FakeResponse::status(500),
        FakeResponse::status(500),
        FakeResponse::text("I'm back."),
    ])
    .await
    .unwrap();
    let (result, output) = console(&server(&fake), "first\nsecond\n").await;
    assert_eq!(output, "● Agent: Hi!\n● Agent: I'm back.\n");
    assert_eq!(fake.request_count(), 4);
    // The conversation went on; its result says a turn failed.
    let error = result.unwrap_err();
    assert!(
        matches!(error, ConsoleError::SessionErrors { count: 1, origin: ErrorSource::Llm, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with("the session reported 1 error(s), the last from the LLM: "),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entrypoint_that_fails_is_reported() {
    let server = AgentServer::new().rtc_session(|_ctx: JobContext| async move {
        let llm = openai::Llm::builder("gpt-4.1-mini").base_url("not a url").build()?;
        drop(llm);
        Ok::<(), BoxError>(())
    });
    let (result, output) = console(&server, "hello\n").await;
    let error = result.unwrap_err();
    assert!(matches!(error, ConsoleError::Job(JobError::EntrypointFailed(_))), "{error:?}");
    let message = error.to_string();
    assert!(message.starts_with("the job's entrypoint failed: invalid base URL"), "{message}");
    assert_eq!(output, "");
}

/// Says each utterance is the next of the fixture's two sentences, in turn.
struct TwoSentenceStt {
    heard: std::sync::Mutex<usize>,
}

#[async_trait]
impl agents_core::stt::Stt for TwoSentenceStt {
    fn model(&self) -> &str {
        "two-sentences"
    }

    fn provider(&self) -> &str {
        "test"
    }

    fn capabilities(&self) -> agents_core::stt::SttCapabilities {
        agents_core::stt::SttCapabilities::new(false, false)
    }

    async fn recognize(
        &self,
        _: &[agents_core::audio::AudioFrame],
        _: &agents_core::stt::SttOptions,
    ) -> Result<agents_core::stt::SpeechEvent, agents_core::stt::SttError> {
        let mut heard = self.heard.lock().unwrap();
        let text = ["Hello there, how are you today?", "Voice detection works fine."][*heard % 2];
        *heard += 1;
        Ok(agents_core::stt::SpeechEvent::new(agents_core::stt::SpeechEventKind::FinalTranscript)
            .with_alternative(agents_core::stt::SpeechData::new(text)))
    }
}

/// Greets the user, then answers each turn.
struct Greeter;

#[async_trait]
impl AgentHooks for Greeter {
    async fn on_enter(&self, ctx: AgentContext) {
        ctx.session().generate_reply(ReplyOptions::default());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_file_input_keeps_the_files_turns_apart() {
    // The model answers slowly: the file's next sentence must wait for the reply.
    let fake = FakeOpenAi::with_handler(|request| {
        let user = request.messages().iter().rev().find(|m| m["role"] == "user").cloned();
        let reply = match user.and_then(|m| m["content"].as_str().map(str::to_owned)) {
            Some(user) => format!("You said: {user}"),
            None => "Welcome.".to_owned(),
        };
        FakeResponse::text(reply).delayed(Duration::from_millis(300))
    })
    .await
    .unwrap();
    let base_url = fake.base_url();
    let server = AgentServer::new().rtc_session(move |ctx: JobContext| {
        let base_url = base_url.clone();
        async move {
            let llm =
                openai::Llm::builder("gpt-4.1-mini").base_url(base_url).api_key("k").build()?;
            let session = AgentSession::builder()
                .llm(llm)
                .vad(Arc::new(agents_plugins_silero::Vad::load()?))
                .stt(Arc::new(TwoSentenceStt { heard: std::sync::Mutex::new(0) }))
                .build();
            let agent = Agent::from_parts("greeter", "Be brief.", Vec::new(), Arc::new(Greeter))?;
            session.start(agent).room(ctx.room()).await?;
            ctx.connect().await?;
            Ok::<(), BoxError>(())
        }
    });
    // espeak-ng's two sentences 1.5 s apart, twice: four turns, each pause 1.5 s or more.
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/agents-plugins-silero/tests/data/speech_16k.wav");
    let speech = agents_core::audio::read_wav(&fixture).unwrap();
    let input = std::env::temp_dir().join(format!("agents-fast-turns-{}.wav", std::process::id()));
    agents_core::audio::write_wav(&input, [&speech, &speech]).unwrap();

    let mut transcript = Vec::new();
    let run = agents_core::cli::run_console_files(&server, &input, None, true, &mut transcript);
    let result =
        tokio::time::timeout(Duration::from_secs(60), run).await.expect("the console ended");
    std::fs::remove_file(&input).ok();
    result.unwrap();
    let transcript = String::from_utf8(transcript).unwrap();
    let turn = "● You: Hello there, how are you today?\n\
                ● Agent: You said: Hello there, how are you today?\n\
                ● You: Voice detection works fine.\n\
                ● Agent: You said: Voice detection works fine.\n";
    assert_eq!(transcript, format!("● Agent: Welcome.\n{turn}{turn}"));
}
