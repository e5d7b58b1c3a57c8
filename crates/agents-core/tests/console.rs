//! The text console and the job API, driven in-process: jobs, setup, failures, shutdown.
//! These agents need no LLM (they `say` things); the console with a model and tools is
//! tested in the workspace's `tests/console.rs`.

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents_core::cli::{ConsoleError, run_console_text, run_console_text_until};
use agents_core::llm::{ChatContext, ChatMessage};
use agents_core::prelude::*;
use agents_core::voice::{AgentHooks, StopResponse};
use agents_core::worker::JobError;
use tokio::io::BufReader;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Greets with `say` in `on_enter`, echoes each user turn with `say`.
struct Echo {
    greeting: String,
}

#[async_trait]
impl AgentHooks for Echo {
    async fn on_enter(&self, ctx: AgentContext) {
        ctx.session().say(self.greeting.clone());
    }

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

fn echo_agent(greeting: &str) -> Agent {
    let hooks = Arc::new(Echo { greeting: greeting.to_owned() });
    Agent::from_parts("echo", "Echo the user.", Vec::new(), hooks).unwrap()
}

async fn echo_entrypoint(ctx: JobContext) -> Result<(), BoxError> {
    let session = AgentSession::builder().build();
    session.start(echo_agent("Hello from the console!")).room(ctx.room()).await?;
    ctx.connect().await?;
    Ok(())
}

async fn console(server: &AgentServer, input: &str) -> (Result<(), ConsoleError>, String) {
    let mut output = Vec::new();
    let result = run_console_text(server, input.as_bytes(), &mut output).await;
    (result, String::from_utf8(output).unwrap())
}

/// An input that never ends (its writing half is kept open).
fn endless_input() -> (BufReader<tokio::io::DuplexStream>, tokio::io::DuplexStream) {
    let (reader, writer) = tokio::io::duplex(64);
    (BufReader::new(reader), writer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greeting_then_one_turn_per_line_and_end_of_input_closes() {
    let server = AgentServer::new().rtc_session(echo_entrypoint);
    let (result, output) = console(&server, "first\n\n   \nsecond\r\nthird").await;
    result.unwrap();
    assert_eq!(
        output,
        "● Agent: Hello from the console!\n\
         ● Agent: You said: first\n\
         ● Agent: You said: second\n\
         ● Agent: You said: third\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_runs_in_the_console_room_with_a_mock_job_id() {
    let seen = Arc::new(Mutex::new(None));
    let server = AgentServer::new().rtc_session({
        let seen = seen.clone();
        move |ctx: JobContext| {
            let seen = seen.clone();
            async move {
                ctx.set_log_context_fields([("room", ctx.room().name())]);
                let connected_before = ctx.is_connected();
                echo_entrypoint(ctx.clone()).await?;
                *seen.lock().unwrap() = Some((
                    ctx.job_id().to_owned(),
                    ctx.room().name().to_owned(),
                    ctx.job().fake,
                    connected_before,
                    ctx.is_connected(),
                    ctx.log_context_fields(),
                ));
                Ok::<(), BoxError>(())
            }
        }
    });
    console(&server, "").await.0.unwrap();
    let (job_id, room, fake, connected_before, connected_after, fields) =
        seen.lock().unwrap().clone().unwrap();
    assert!(job_id.starts_with("mock-job-"), "{job_id}");
    assert_eq!(room, "console-room");
    assert!(fake && !connected_before && connected_after);
    assert_eq!(fields, [("room".to_owned(), "console-room".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_runs_once_per_process_and_its_userdata_reaches_jobs() {
    let setups = Arc::new(AtomicUsize::new(0));
    let server = AgentServer::new()
        .setup_fnc({
            let setups = setups.clone();
            move |proc: &mut JobProcess| {
                setups.fetch_add(1, Ordering::SeqCst);
                proc.userdata.insert("greeting", String::from("Prewarmed hello!"));
            }
        })
        .rtc_session(|ctx: JobContext| async move {
            let greeting = ctx.proc().userdata.try_get::<String>("greeting")?.clone();
            assert_eq!(ctx.proc().pid(), std::process::id());
            let session = AgentSession::builder().build();
            session.start(echo_agent(&greeting)).room(ctx.room()).await?;
            ctx.connect().await?;
            Ok::<(), BoxError>(())
        });
    for _ in 0..2 {
        let (result, output) = console(&server, "").await;
        result.unwrap();
        assert_eq!(output, "● Agent: Prewarmed hello!\n");
    }
    assert_eq!(setups.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entrypoint_error_is_reported() {
    let server = AgentServer::new().rtc_session(|_ctx: JobContext| async move {
        Err::<(), BoxError>("LIVEKIT_API_KEY is not set".into())
    });
    let (result, output) = console(&server, "hello\n").await;
    let error = result.unwrap_err();
    assert!(matches!(error, ConsoleError::Job(JobError::EntrypointFailed(_))), "{error:?}");
    assert_eq!(error.to_string(), "the job's entrypoint failed: LIVEKIT_API_KEY is not set");
    assert_eq!(output, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entrypoint_panic_is_caught_and_reported() {
    async fn panicking(_ctx: JobContext) {
        panic!("the entrypoint fell over");
    }
    let server = AgentServer::new().rtc_session(panicking);
    let error = console(&server, "").await.0.unwrap_err();
    assert!(
        matches!(&error, ConsoleError::Job(JobError::EntrypointPanicked { message })
            if message == "the entrypoint fell over"),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entrypoint_that_starts_no_session_is_reported() {
    let server = AgentServer::new().rtc_session(|ctx: JobContext| async move {
        ctx.connect().await?;
        Ok::<(), JobError>(())
    });
    let error = console(&server, "hello\n").await.0.unwrap_err();
    assert!(matches!(error, ConsoleError::Job(JobError::NoAgentSession)), "{error:?}");
    assert!(error.to_string().contains("session.start(agent).room(ctx.room())"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entrypoint_failing_after_connecting_is_logged_and_the_console_goes_on() {
    let server = AgentServer::new().rtc_session(|ctx: JobContext| async move {
        echo_entrypoint(ctx).await?;
        Err::<(), BoxError>("failed after connecting".into())
    });
    let (result, output) = console(&server, "still here?\n").await;
    result.unwrap();
    assert_eq!(output, "● Agent: Hello from the console!\n● Agent: You said: still here?\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_entrypoint_or_with_a_failing_setup_is_reported() {
    let error = console(&AgentServer::new(), "").await.0.unwrap_err();
    assert!(matches!(error, ConsoleError::Job(JobError::NoEntrypoint)), "{error:?}");
    assert!(error.to_string().contains("rtc_session(entrypoint)"), "{error}");

    let failing = AgentServer::new()
        .setup_fnc(|_proc: &mut JobProcess| Err::<(), BoxError>("model file missing".into()))
        .rtc_session(echo_entrypoint);
    let error = console(&failing, "").await.0.unwrap_err();
    assert_eq!(error.to_string(), "the setup function (`setup_fnc`) failed: model file missing");

    fn panicking_setup(_proc: &mut JobProcess) {
        panic!("setup fell over");
    }
    let panicking = AgentServer::new().setup_fnc(panicking_setup).rtc_session(echo_entrypoint);
    let error = console(&panicking, "").await.0.unwrap_err();
    assert!(
        matches!(&error, ConsoleError::Job(JobError::SetupPanicked { message })
            if message == "setup fell over"),
        "{error:?}"
    );

    let slow = AgentServer::new()
        .setup_fnc(|_proc: &mut JobProcess| std::thread::sleep(Duration::from_millis(300)))
        .initialize_process_timeout(Duration::from_millis(50))
        .rtc_session(echo_entrypoint);
    let error = console(&slow, "").await.0.unwrap_err();
    assert!(matches!(error, ConsoleError::Job(JobError::SetupTimedOut { .. })), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_from_the_job_ends_the_console_and_runs_the_callbacks() {
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let server = AgentServer::new().rtc_session({
        let reasons = reasons.clone();
        move |ctx: JobContext| {
            let reasons = reasons.clone();
            async move {
                ctx.add_shutdown_callback(move |reason| async move {
                    reasons.lock().unwrap().push(reason);
                });
                echo_entrypoint(ctx.clone()).await?;
                ctx.room().wait_for_agent_session().await.wait_for_idle().await;
                ctx.shutdown("the call is over");
                Ok::<(), BoxError>(())
            }
        }
    });
    let (input, _keep_open) = endless_input();
    let mut output = Vec::new();
    let run = run_console_text(&server, input, &mut output);
    tokio::time::timeout(Duration::from_secs(10), run).await.unwrap().unwrap();
    assert_eq!(String::from_utf8(output).unwrap(), "● Agent: Hello from the console!\n");
    assert_eq!(*reasons.lock().unwrap(), ["the call is over"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_closes_the_session_cleanly() {
    let (session_tx, session_rx) = tokio::sync::oneshot::channel();
    let session_tx = Arc::new(Mutex::new(Some(session_tx)));
    let server = AgentServer::new().rtc_session(move |ctx: JobContext| {
        let session_tx = session_tx.clone();
        async move {
            echo_entrypoint(ctx.clone()).await?;
            let session = ctx.room().agent_session().unwrap();
            if let Some(sender) = session_tx.lock().unwrap().take() {
                let _ = sender.send(session);
            }
            Ok::<(), BoxError>(())
        }
    });
    let (input, _keep_open) = endless_input();
    let mut output = Vec::new();
    let (interrupt_tx, interrupt_rx) = tokio::sync::oneshot::channel::<()>();
    let interrupt = async move {
        let _ = interrupt_rx.await;
    };
    let run = run_console_text_until(&server, input, &mut output, interrupt);
    let driver = async {
        let session = session_rx.await.unwrap();
        session.wait_for_idle().await;
        let mut events = session.subscribe();
        interrupt_tx.send(()).unwrap();
        loop {
            if let agents_core::voice::SessionEvent::Close { .. } = events.recv().await.unwrap() {
                break;
            }
        }
    };
    let (result, ()) =
        tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(run, driver) })
            .await
            .unwrap();
    result.unwrap();
    assert_eq!(String::from_utf8(output).unwrap(), "● Agent: Hello from the console!\n");
}

/// Says goodbye and closes the session at the user's first turn.
struct HangUp;

#[async_trait]
impl AgentHooks for HangUp {
    async fn on_user_turn_completed(
        &self,
        ctx: AgentContext,
        _turn_ctx: &mut ChatContext,
        _new_message: &ChatMessage,
    ) -> Result<(), StopResponse> {
        ctx.session().say("Goodbye!");
        let session = ctx.session().clone();
        // Not from inside the turn: `close` waits for the turn to end.
        tokio::spawn(async move {
            session.wait_for_idle().await;
            session.close().await;
        });
        Err(StopResponse)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_closed_by_the_agent_ends_the_console() {
    let server = AgentServer::new().rtc_session(|ctx: JobContext| async move {
        let agent = Agent::from_parts("hang_up", "Hang up.", Vec::new(), Arc::new(HangUp))?;
        AgentSession::builder().build().start(agent).room(ctx.room()).await?;
        ctx.connect().await?;
        Ok::<(), BoxError>(())
    });
    let (input, mut user) = endless_input();
    tokio::io::AsyncWriteExt::write_all(&mut user, b"bye\n").await.unwrap();
    let mut output = Vec::new();
    let run = run_console_text(&server, input, &mut output);
    tokio::time::timeout(Duration::from_secs(10), run).await.unwrap().unwrap();
    assert_eq!(String::from_utf8(output).unwrap(), "● Agent: Goodbye!\n");
}
