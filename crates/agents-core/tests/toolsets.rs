//! Toolsets: live tool groups offered by agents and sessions, their lifecycle, and the tool
//! events of the session.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agents_core::llm::{
    LiveTools, StaticToolset, ToolSetError, Toolset, ToolsetError, ToolsetEvent,
};
use agents_core::prelude::*;
use agents_core::testing::{FakeLlm, FakeLlmResponse};
use agents_core::voice::{ErrorSource, SessionErrorEvent, SessionEvent};

fn tool(name: &str, answer: &'static str) -> FunctionTool {
    function_tool(move || async move { answer }, name, "A tool.").unwrap()
}

/// A toolset that counts its lifecycle calls, and may fail its setup.
struct Counted {
    id: String,
    tools: LiveTools,
    setups: AtomicUsize,
    closes: AtomicUsize,
    fail: bool,
}

impl Counted {
    fn new(id: &str, tools: Vec<FunctionTool>) -> Arc<Self> {
        let live = LiveTools::new();
        live.set(tools).unwrap();
        Arc::new(Self {
            id: id.to_owned(),
            tools: live,
            setups: AtomicUsize::new(0),
            closes: AtomicUsize::new(0),
            fail: false,
        })
    }

    fn failing(id: &str) -> Arc<Self> {
        Arc::new(Self {
            id: id.to_owned(),
            tools: LiveTools::new(),
            setups: AtomicUsize::new(0),
            closes: AtomicUsize::new(0),
            fail: true,
        })
    }
}

#[async_trait]
impl Toolset for Counted {
    fn id(&self) -> &str {
        &self.id
    }
    fn tools(&self) -> &LiveTools {
        &self.tools
    }
    async fn setup(&self) -> Result<(), ToolsetError> {
        self.setups.fetch_add(1, Ordering::SeqCst);
        if self.fail {
            return Err(ToolsetError::new(&self.id, "the server is not installed"));
        }
        Ok(())
    }
    async fn aclose(&self) {
        self.closes.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn an_agent_offers_its_toolsets_tools_and_follows_their_changes() {
    let live = Counted::new("weather", vec![tool("forecast", "sunny")]);
    let agent = Agent::new("x")
        .with_tools([tool("ping", "pong")])
        .unwrap()
        .with_toolsets([live.clone() as Arc<dyn Toolset>])
        .unwrap();
    assert_eq!(agent.tools().names().collect::<Vec<_>>(), ["ping", "forecast"]);
    let before = agent.tools();
    live.tools.set([tool("forecast", "sunny"), tool("alerts", "none")]).unwrap();
    let after = agent.tools();
    assert_eq!(after.names().collect::<Vec<_>>(), ["ping", "forecast", "alerts"]);
    assert_eq!(
        before.names().collect::<Vec<_>>(),
        ["ping", "forecast"],
        "a snapshot taken before keeps its tools"
    );
    live.tools.clear();
    assert_eq!(agent.tools().names().collect::<Vec<_>>(), ["ping"]);
}

#[tokio::test]
async fn update_tools_with_the_offered_set_keeps_toolset_tools_with_their_toolset() {
    let live = Counted::new("weather", vec![tool("forecast", "sunny")]);
    let agent = Agent::new("x").with_toolsets([live.clone() as Arc<dyn Toolset>]).unwrap();
    agent.update_tools(agent.tools() + [tool("ping", "pong")]).await.unwrap();
    assert_eq!(agent.tools().names().collect::<Vec<_>>(), ["ping", "forecast"]);
    // The toolset still owns `forecast`: withdrawing it removes it from the agent.
    live.tools.clear();
    assert_eq!(agent.tools().names().collect::<Vec<_>>(), ["ping"]);
}

#[test]
fn two_toolsets_with_one_tool_name_are_rejected_naming_both() {
    let a = StaticToolset::new("a", [tool("lookup", "a")]).unwrap();
    let b = StaticToolset::new("b", [tool("lookup", "b")]).unwrap();
    let agent = Agent::new("x");
    let error = agent
        .update_toolsets([Arc::new(a) as Arc<dyn Toolset>, Arc::new(b) as Arc<dyn Toolset>])
        .unwrap_err();
    assert!(matches!(error, ToolSetError::DuplicateName { ref name, .. } if name == "lookup"));
    assert!(agent.toolsets().is_empty(), "rejected whole");
    assert!(agent.tools().is_empty());
}

#[test]
fn a_clashing_change_of_a_toolset_keeps_the_offered_set() {
    let a = Counted::new("a", vec![tool("lookup", "a")]);
    let b = Counted::new("b", vec![tool("other", "b")]);
    let agent = Agent::new("x")
        .with_toolsets([a.clone() as Arc<dyn Toolset>, b.clone() as Arc<dyn Toolset>])
        .unwrap();
    let before = agent.tools();
    b.tools.set([tool("lookup", "b")]).unwrap();
    assert!(agent.tools().same_snapshot(&before), "the clash is not offered");
}

#[tokio::test]
async fn a_session_turn_calls_a_toolset_tool_and_reports_its_events() {
    let weather = Counted::new("weather", vec![tool("forecast", "sunny")]);
    let llm = FakeLlm::new()
        .on_input("Weather?", FakeLlmResponse::tool_call("forecast", serde_json::json!({})))
        .on_input("sunny", FakeLlmResponse::text("It is sunny."));
    let session = AgentSession::builder()
        .llm(llm.clone())
        .toolsets([weather.clone() as Arc<dyn Toolset>])
        .build();
    let mut events = session.subscribe();
    session.start(Agent::new("x")).await.unwrap();
    assert_eq!(weather.setups.load(Ordering::SeqCst), 1, "set up by start");
    session.run("Weather?").await.unwrap();
    assert_eq!(llm.requests()[0].tools, ["forecast"]);
    let mut started = false;
    let mut finished = None;
    while let Ok(event) = events.try_recv() {
        match event {
            SessionEvent::FunctionToolStarted { function_call } => {
                started |= function_call.name == "forecast";
            }
            SessionEvent::FunctionToolFinished { function_call, output, duration } => {
                finished = Some((function_call.name, output.output, output.is_error, duration));
            }
            _ => {}
        }
    }
    assert!(started);
    let (name, output, is_error, duration) = finished.expect("a finished event");
    assert_eq!((name.as_str(), output.as_str(), is_error), ("forecast", "sunny", false));
    assert!(duration < Duration::from_secs(5));
    session.close().await;
    assert_eq!(weather.closes.load(Ordering::SeqCst), 1, "closed by close");
}

#[tokio::test]
async fn a_toolset_change_mid_turn_is_offered_to_the_next_step() {
    let live = Counted::new("live", vec![]);
    let adder = {
        let live = live.clone();
        function_tool(
            move || {
                let live = live.clone();
                async move {
                    live.tools.set([tool("fresh", "new")]).unwrap();
                    "added"
                }
            },
            "add_tool",
            "Adds a tool.",
        )
        .unwrap()
    };
    let llm = FakeLlm::new()
        .on_input("go", FakeLlmResponse::tool_call("add_tool", serde_json::json!({})))
        .on_input("added", FakeLlmResponse::tool_call("fresh", serde_json::json!({})))
        .on_input("new", FakeLlmResponse::text("done"));
    let agent = Agent::new("x")
        .with_tools([adder])
        .unwrap()
        .with_toolsets([live.clone() as Arc<dyn Toolset>])
        .unwrap();
    let session = AgentSession::builder().llm(llm.clone()).build();
    session.start(agent).await.unwrap();
    session.run("go").await.unwrap();
    let offered: Vec<Vec<String>> = llm.requests().into_iter().map(|r| r.tools).collect();
    assert_eq!(offered, [vec!["add_tool"], vec!["add_tool", "fresh"], vec!["add_tool", "fresh"]]);
    session.close().await;
}

#[tokio::test]
async fn an_agent_toolset_is_closed_on_handoff_and_the_new_agents_set_up() {
    let first = Counted::new("first", vec![]);
    let second = Counted::new("second", vec![tool("lookup", "found")]);
    let second_agent = Agent::new("second").with_toolsets([second.clone() as _]).unwrap();
    let handoff = {
        let second_agent = second_agent.clone();
        function_tool(
            move |ctx: RunContext| {
                let second_agent = second_agent.clone();
                async move {
                    ctx.session().unwrap().update_agent(second_agent);
                    "handing off"
                }
            },
            "handoff",
            "Hands off.",
        )
        .unwrap()
    };
    let llm = FakeLlm::new()
        .on_input("switch", FakeLlmResponse::tool_call("handoff", serde_json::json!({})))
        .on_input("handing off", FakeLlmResponse::text("ok"));
    let first_agent =
        Agent::new("first").with_tools([handoff]).unwrap().with_toolsets([first.clone() as _]);
    let session = AgentSession::builder().llm(llm).build();
    session.start(first_agent.unwrap()).await.unwrap();
    assert_eq!(first.setups.load(Ordering::SeqCst), 1);
    assert_eq!(second.setups.load(Ordering::SeqCst), 0);
    session.run("switch").await.unwrap();
    assert_eq!(first.closes.load(Ordering::SeqCst), 1, "the old agent's toolsets are closed");
    assert_eq!(second.setups.load(Ordering::SeqCst), 1, "the new agent's are set up");
    session.close().await;
    assert_eq!(second.closes.load(Ordering::SeqCst), 1);
    assert_eq!(first.closes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_toolset_that_cannot_be_set_up_fails_start_and_closes_the_others() {
    let fine = Counted::new("fine", vec![]);
    let broken = Counted::failing("broken");
    let session = AgentSession::builder()
        .llm(FakeLlm::new())
        .toolsets([fine.clone() as Arc<dyn Toolset>, broken.clone() as Arc<dyn Toolset>])
        .build();
    let error = session.start(Agent::new("x")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "toolset `broken` could not be set up: the server is not installed"
    );
    assert_eq!(fine.closes.load(Ordering::SeqCst), 1, "what was set up is closed again");
    assert!(session.run("hello").await.is_err(), "the session did not start");
}

#[tokio::test]
async fn session_tools_are_offered_after_the_agents_and_toolset_events_become_errors() {
    let live = Counted::new("remote", vec![tool("remote_lookup", "x")]);
    let llm = FakeLlm::new().on_input("hi", FakeLlmResponse::text("hello"));
    let session = AgentSession::builder()
        .llm(llm.clone())
        .tools([tool("session_tool", "s")])
        .toolsets([live.clone() as Arc<dyn Toolset>])
        .build();
    let mut events = session.subscribe();
    session.start(Agent::new("x").with_tools([tool("own", "o")]).unwrap()).await.unwrap();
    session.run("hi").await.unwrap();
    assert_eq!(llm.requests()[0].tools, ["own", "session_tool", "remote_lookup"]);
    live.tools.report(ToolsetEvent::Unavailable { reason: "the server exited".into() });
    let error = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(SessionEvent::Error { error, source }) = events.recv().await {
                return (error, source);
            }
        }
    })
    .await
    .expect("an error event");
    assert_eq!(error.1, ErrorSource::Toolset);
    assert!(matches!(
        error.0,
        SessionErrorEvent::Toolset { ref toolset, ref message }
            if toolset == "remote" && message == "the server exited"
    ));
    session.close().await;
}

#[test]
fn session_tools_that_clash_fail_start() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let session = AgentSession::builder()
            .llm(FakeLlm::new())
            .tools([tool("same", "a"), tool("same", "b")])
            .build();
        let error = session.start(Agent::new("x")).await.unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the session's tools: duplicate function tool name `same`")
        );
    });
}

#[tokio::test]
async fn a_start_refused_for_its_components_leaves_no_toolset_set_up() {
    let session_wide = Counted::new("session-wide", vec![]);
    let own = Counted::new("own", vec![]);
    let session =
        AgentSession::builder().llm(FakeLlm::new()).toolsets([session_wide.clone() as _]).build();
    let agent = Agent::new("x").with_toolsets([own.clone() as _]).unwrap();
    let output = Arc::new(agents_core::testing::FakeAudioOutput::new());
    let error = session.start(agent).audio_output(output).await.unwrap_err();
    assert!(error.to_string().contains("text-to-speech"), "{error}");
    for toolset in [&session_wide, &own] {
        assert_eq!(
            toolset.setups.load(Ordering::SeqCst),
            toolset.closes.load(Ordering::SeqCst),
            "`{}` is not left set up",
            toolset.id
        );
    }
}

/// Hooks whose `on_exit` panics.
struct PanicsOnExit;

#[async_trait]
impl AgentHooks for PanicsOnExit {
    async fn on_exit(&self, _ctx: AgentContext) {
        panic!("on_exit fell over");
    }
}

#[tokio::test]
async fn a_panicking_on_exit_is_reported_and_the_handoff_still_moves_the_toolsets() {
    let first = Counted::new("first", vec![]);
    let second = Counted::new("second", vec![]);
    let second_agent = Agent::new("second").with_toolsets([second.clone() as _]).unwrap();
    let handoff = function_tool(
        move |ctx: RunContext| {
            let second_agent = second_agent.clone();
            async move {
                ctx.session().unwrap().update_agent(second_agent);
                "handing off"
            }
        },
        "handoff",
        "Hands off.",
    )
    .unwrap();
    let first_agent = Agent::from_parts("first", "x", vec![handoff], Arc::new(PanicsOnExit))
        .unwrap()
        .with_toolsets([first.clone() as _])
        .unwrap();
    let llm = FakeLlm::new()
        .on_input("switch", FakeLlmResponse::tool_call("handoff", serde_json::json!({})))
        .on_input("handing off", FakeLlmResponse::text("ok"));
    let session = AgentSession::builder().llm(llm).build();
    let mut events = session.subscribe();
    session.start(first_agent).await.unwrap();
    let _ = session.run("switch").await;
    session.wait_for_idle().await;
    assert_eq!(first.closes.load(Ordering::SeqCst), 1, "the old agent's toolsets are closed");
    assert_eq!(second.setups.load(Ordering::SeqCst), 1, "the new agent's are set up");
    let mut reported = false;
    while let Ok(event) = events.try_recv() {
        if let SessionEvent::Error { error, source } = event {
            reported |= source == ErrorSource::Hook
                && error.to_string().contains("the agent `first`'s on_exit hook panicked");
        }
    }
    assert!(reported, "the panic is reported");
    session.close().await;
}

/// Hooks whose `on_exit` says it started, then never ends.
struct StuckOnExit(Arc<tokio::sync::Notify>);

#[async_trait]
impl AgentHooks for StuckOnExit {
    async fn on_exit(&self, _ctx: AgentContext) {
        self.0.notify_one();
        std::future::pending::<()>().await;
    }
}

#[tokio::test]
async fn closing_during_a_handoff_closes_the_old_agents_toolsets() {
    let first = Counted::new("first", vec![]);
    let second = Counted::new("second", vec![]);
    let second_agent = Agent::new("second").with_toolsets([second.clone() as _]).unwrap();
    let handoff = function_tool(
        move |ctx: RunContext| {
            let second_agent = second_agent.clone();
            async move {
                ctx.session().unwrap().update_agent(second_agent);
                "handing off"
            }
        },
        "handoff",
        "Hands off.",
    )
    .unwrap();
    let exiting = Arc::new(tokio::sync::Notify::new());
    let hooks = Arc::new(StuckOnExit(exiting.clone()));
    let first_agent = Agent::from_parts("first", "x", vec![handoff], hooks)
        .unwrap()
        .with_toolsets([first.clone() as _])
        .unwrap();
    let llm = FakeLlm::new()
        .on_input("switch", FakeLlmResponse::tool_call("handoff", serde_json::json!({})))
        .on_input("handing off", FakeLlmResponse::text("ok"));
    let session = AgentSession::builder().llm(llm).build();
    session.start(first_agent).await.unwrap();
    let running = {
        let session = session.clone();
        tokio::spawn(async move { session.run("switch").await })
    };
    tokio::time::timeout(Duration::from_secs(5), exiting.notified()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), session.close()).await.unwrap();
    assert_eq!(
        first.setups.load(Ordering::SeqCst),
        first.closes.load(Ordering::SeqCst),
        "the old agent's toolsets are closed"
    );
    assert_eq!(second.setups.load(Ordering::SeqCst), second.closes.load(Ordering::SeqCst));
    running.abort();
}

/// A toolset whose setup takes a while, so that two `start` calls overlap in it.
struct SlowSetup(LiveTools);

#[async_trait]
impl Toolset for SlowSetup {
    fn id(&self) -> &str {
        "slow"
    }
    fn tools(&self) -> &LiveTools {
        &self.0
    }
    async fn setup(&self) -> Result<(), ToolsetError> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(())
    }
}

#[tokio::test]
async fn two_concurrent_starts_report_each_toolset_event_once() {
    let slow = Arc::new(SlowSetup(LiveTools::new()));
    let session = AgentSession::builder().llm(FakeLlm::new()).toolsets([slow.clone() as _]).build();
    let mut events = session.subscribe();
    let (first, second) =
        tokio::join!(session.start(Agent::new("x")), session.start(Agent::new("y")));
    assert!(first.is_ok() != second.is_ok(), "exactly one start succeeds: {first:?}, {second:?}");
    slow.0.report(ToolsetEvent::Unavailable { reason: "the server exited".into() });
    let mut reported = 0;
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            if let Ok(SessionEvent::Error { error: SessionErrorEvent::Toolset { .. }, .. }) =
                events.recv().await
            {
                reported += 1;
            }
        }
    })
    .await;
    assert_eq!(reported, 1, "the event is reported once");
    session.close().await;
}
