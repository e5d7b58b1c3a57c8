//! The OpenAI-compatible client against `FakeOpenAi`: what it sends, and what it makes of
//! streamed answers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use agents_core::llm::{
    AgentHandoff, ChatChunk, ChatContext, ChatOptions, ChatRole, CompletionUsage, FunctionCall,
    FunctionCallOutput, FunctionTool, Llm as _, ToolChoice, function_tool,
};
use agents_core::prelude::{Deserialize, JsonSchema};
use agents_inference::openai;
use agents_test_support::{FakeOpenAi, FakeResponse, StreamPart};
use common::{calls, drain, hello, llm, text};
use serde_json::{Value, json};

#[tokio::test]
async fn streams_text_deltas_in_order() {
    let fake = FakeOpenAi::with_responses([FakeResponse::text_deltas(["Hel", "lo", "", " world"])])
        .await
        .unwrap();
    let (chunks, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        chunks,
        ["Hel", "lo", " world"].map(|t| ChatChunk::Text(t.to_owned())),
        "one chunk per non-empty delta"
    );

    let request = fake.last_request().unwrap();
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/v1/chat/completions"));
    assert_eq!(request.bearer_token(), Some("sk-test"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    let user_agent = request.header("user-agent").unwrap();
    assert_eq!(user_agent, format!("LiveKit Agents Rust/{}", env!("CARGO_PKG_VERSION")));
}

#[tokio::test]
async fn assembles_two_parallel_tool_calls_from_their_fragments() {
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([
        StreamPart::text("Checking both."),
        StreamPart::tool_call_fragments(
            "call_a",
            "get_weather",
            [r#"{"ci"#, r#"ty":"Pa"#, r#"ris"}"#],
        ),
        StreamPart::tool_call_fragments("call_b", "get_time", [r#"{"tz":"#, r#""CET"}"#]),
        StreamPart::finish("tool_calls"),
        StreamPart::Done,
    ])])
    .await
    .unwrap();
    let (chunks, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&chunks), "Checking both.");
    assert_eq!(
        calls(&chunks),
        [
            ("call_a".into(), "get_weather".into(), r#"{"city":"Paris"}"#.into()),
            ("call_b".into(), "get_time".into(), r#"{"tz":"CET"}"#.into()),
        ]
    );
    assert!(matches!(chunks[0], ChatChunk::Text(_)), "text first, then the calls");
}

#[tokio::test]
async fn interleaved_fragments_of_parallel_calls() {
    let fragment = |index: u64, value: Value| {
        StreamPart::chunk(json!({
            "id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": {"tool_calls": [{"index": index, "function": value}]}, "finish_reason": null}],
        }))
    };
    let start = |index: u64, id: &str, name: &str| {
        StreamPart::chunk(json!({
            "choices": [{"index": 0, "delta": {"tool_calls": [{"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}, "finish_reason": null}],
        }))
    };
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([
        start(0, "call_0", "first"),
        start(1, "call_1", "second"),
        fragment(1, json!({"arguments": "{\"b\":"})),
        fragment(0, json!({"arguments": "{\"a\":"})),
        fragment(0, json!({"arguments": "1}"})),
        fragment(1, json!({"arguments": "2}"})),
        StreamPart::Done,
    ])])
    .await
    .unwrap();
    let (chunks, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        calls(&chunks),
        [
            ("call_0".into(), "first".into(), r#"{"a":1}"#.into()),
            ("call_1".into(), "second".into(), r#"{"b":2}"#.into()),
        ],
        "emitted at [DONE], in index order"
    );
}

#[tokio::test]
async fn the_usage_chunk_becomes_usage() {
    let fake = FakeOpenAi::with_responses([FakeResponse::text("hi").with_usage(100, 40, 7)])
        .await
        .unwrap();
    let (chunks, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        chunks,
        [ChatChunk::Text("hi".into()), ChatChunk::Usage(CompletionUsage::new(100, 40, 7))]
    );
    let ChatChunk::Usage(usage) = &chunks[1] else { unreachable!() };
    assert_eq!(usage.total_tokens, 107);
}

#[tokio::test]
async fn comments_and_pauses_between_events_are_fine() {
    let fake = FakeOpenAi::with_responses([FakeResponse::stream([
        StreamPart::Comment("keep-alive".into()),
        StreamPart::text("a"),
        StreamPart::text("b"),
        StreamPart::finish("stop"),
        StreamPart::Done,
    ])
    .paced(std::time::Duration::from_millis(20))])
    .await
    .unwrap();
    let (chunks, error) = drain(llm(&fake).chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text(&chunks), "ab");
}

async fn lookup_weather(location: Location) -> String {
    format!("sunny in {} for {:?} days", location.location, location.days)
}

#[derive(Deserialize, JsonSchema)]
#[serde(crate = "agents_core::serde")]
#[schemars(crate = "agents_core::schemars")]
struct Location {
    /// City and country.
    location: String,
    /// Days ahead.
    days: Option<u8>,
}

fn weather_tool() -> FunctionTool {
    function_tool(lookup_weather, "lookup_weather", "Look up the weather.").unwrap()
}

/// A conversation with every kind of item.
fn conversation() -> ChatContext {
    let mut ctx = ChatContext::new();
    ctx.push(AgentHandoff::new(None, "agent_1"));
    ctx.add_message(ChatRole::System, "You are terse.");
    ctx.add_message(ChatRole::User, "Weather in Paris and Rome?");
    ctx.add_message(ChatRole::Assistant, "Let me check.");
    ctx.push(FunctionCall::new("call_1", "lookup_weather", r#"{"location":"Paris"}"#));
    ctx.push(FunctionCall::new("call_2", "lookup_weather", r#"{"location":"Rome"}"#));
    ctx.push(FunctionCallOutput::new("call_2", "lookup_weather", "rainy", false));
    ctx.push(FunctionCallOutput::new("call_1", "lookup_weather", "no such city", true));
    ctx.push(FunctionCall::new("call_3", "lookup_weather", r#"{"location":"Oslo"}"#));
    ctx.push(FunctionCallOutput::new("call_3", "lookup_weather", "snowy", false));
    ctx.add_message(ChatRole::Assistant, "Rainy in Rome, snowy in Oslo.");
    ctx.add_message(ChatRole::User, "Thanks!");
    ctx
}

#[tokio::test]
async fn the_request_body_has_the_openai_shape() {
    let fake = FakeOpenAi::with_responses([FakeResponse::text("ok")]).await.unwrap();
    let llm = openai::Llm::builder("gpt-test")
        .base_url(fake.base_url())
        .api_key("sk-test")
        .body_option("temperature", 0.2)
        .body_option("stream", false)
        .conn_options(common::fast())
        .build()
        .unwrap();
    let tool = weather_tool();
    let mut options = ChatOptions::default().with_tool_choice(ToolChoice::Required);
    options.parallel_tool_calls = Some(false);
    let (_, error) = drain(llm.chat(&conversation(), std::slice::from_ref(&tool), &options)).await;
    assert!(error.is_none(), "{error:?}");

    let body = fake.last_request().unwrap().body;
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "model",
            "messages",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "stream",
            "stream_options",
            "temperature"
        ]
    );
    assert_eq!(body["model"], "gpt-test");
    assert_eq!(body["stream"], true, "extra options cannot turn streaming off");
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(body["tool_choice"], "required");
    assert_eq!(body["parallel_tool_calls"], false);
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["tools"], json!([openai::chat_tool(&tool, true)]));
    assert_eq!(body["tools"][0]["function"]["strict"], true);
    assert_eq!(body["tools"][0]["function"]["parameters"]["additionalProperties"], false);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup_weather", "arguments": "{\"location\":\"Paris\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "lookup_weather", "arguments": "{\"location\":\"Rome\"}"}},
            ]},
            {"role": "tool", "tool_call_id": "call_2", "content": "rainy"},
            {"role": "tool", "tool_call_id": "call_1", "content": "no such city"},
            {"role": "assistant", "tool_calls": [
                {"id": "call_3", "type": "function", "function": {"name": "lookup_weather", "arguments": "{\"location\":\"Oslo\"}"}},
            ]},
            {"role": "tool", "tool_call_id": "call_3", "content": "snowy"},
            {"role": "assistant", "content": "Rainy in Rome, snowy in Oslo."},
            {"role": "user", "content": "Thanks!"},
        ])
    );
}

#[tokio::test]
async fn without_tools_no_tool_keys_are_sent() {
    let fake = FakeOpenAi::with_responses([FakeResponse::text("ok")]).await.unwrap();
    let options = ChatOptions::default().with_tool_choice(ToolChoice::Named("x".into()));
    let (_, error) = drain(llm(&fake).chat(&hello(), &[], &options)).await;
    assert!(error.is_none(), "{error:?}");
    let body = fake.last_request().unwrap().body;
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["model", "messages", "stream", "stream_options"]);
}

#[tokio::test]
async fn named_tool_choice_and_non_strict_tools() {
    let fake = FakeOpenAi::with_responses([FakeResponse::text("ok")]).await.unwrap();
    let llm = openai::Llm::builder("gpt-test")
        .base_url(fake.base_url())
        .strict_tools(false)
        .build()
        .unwrap();
    let options =
        ChatOptions::default().with_tool_choice(ToolChoice::Named("lookup_weather".into()));
    let (_, error) = drain(llm.chat(&hello(), &[weather_tool()], &options)).await;
    assert!(error.is_none(), "{error:?}");
    let request = fake.last_request().unwrap();
    assert_eq!(request.header("authorization"), None, "no key, no Authorization header");
    assert_eq!(
        request.body["tool_choice"],
        json!({"type": "function", "function": {"name": "lookup_weather"}})
    );
    assert!(request.body["tools"][0]["function"].get("strict").is_none());
    assert_eq!(request.body["tools"][0]["function"]["parameters"]["required"], json!(["location"]));
    assert!(request.body.get("parallel_tool_calls").is_none());
}

#[tokio::test]
async fn the_connection_is_reused_across_requests() {
    let fake = FakeOpenAi::with_responses([FakeResponse::text("one"), FakeResponse::text("two")])
        .await
        .unwrap();
    let llm = llm(&fake);
    for expected in ["one", "two"] {
        let (chunks, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(text(&chunks), expected);
    }
    assert_eq!(fake.request_count(), 2);
    assert_eq!(fake.connection_count(), 1, "the second request reuses the connection");
}

#[test]
fn the_client_reports_model_and_provider() {
    let llm = openai::Llm::builder("gpt-4.1-mini").build().unwrap();
    assert_eq!(llm.model(), "gpt-4.1-mini");
    assert_eq!(llm.provider(), "openai");
    assert_eq!(llm.base_url(), openai::DEFAULT_BASE_URL);
}
