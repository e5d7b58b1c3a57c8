//! The LiveKit Inference LLM against `FakeOpenAi`: credentials, the per-request JWT, headers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use agents_core::llm::{ChatOptions, Llm as _, function_tool};
use agents_inference::{ConfigError, inference};
use agents_test_support::{FakeOpenAi, FakeResponse};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{drain, fast, hello, text};
use serde_json::{Value, json};

const API_KEY: &str = "APItestkey";
const API_SECRET: &str = "test-secret-that-is-long-enough-for-hs256";

fn llm(fake: &FakeOpenAi) -> inference::Llm {
    inference::Llm::builder("openai/gpt-4.1-mini")
        .base_url(fake.base_url())
        .api_key(API_KEY)
        .api_secret(API_SECRET)
        .provider("openai")
        .conn_options(fast())
        .build()
        .unwrap()
}

/// The JSON of a JWT segment.
fn segment(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three segments");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn each_request_carries_a_fresh_inference_jwt() {
    let fake = FakeOpenAi::with_responses([FakeResponse::text("one"), FakeResponse::text("two")])
        .await
        .unwrap();
    let llm = llm(&fake);
    for expected in ["one", "two"] {
        let (chunks, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(text(&chunks), expected);
    }
    for request in fake.requests() {
        let token = request.bearer_token().expect("a bearer token");
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(segment(token, 0)["alg"], "HS256");
        let claims = segment(token, 1);
        assert_eq!(claims["sub"], "agent");
        assert_eq!(claims["iss"], API_KEY);
        assert_eq!(claims["inference"], json!({"perform": true}));
        let (nbf, exp) = (claims["nbf"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
        assert_eq!(exp - nbf, 600, "valid for 600 s");
        assert!((now() - nbf).abs() <= 5, "minted now: nbf {nbf}");
        // The signature is the secret's.
        let verified = livekit_api::access_token::TokenVerifier::with_api_key(API_KEY, API_SECRET)
            .verify(token)
            .expect("a valid signature");
        assert!(verified.inference.perform);
    }
}

#[tokio::test]
async fn headers_model_and_strict_tools() {
    async fn ping() -> &'static str {
        "pong"
    }
    let tool = function_tool(ping, "ping", "Ping.").unwrap();
    let fake = FakeOpenAi::with_responses([FakeResponse::tool_call("call_1", "ping", "{}")])
        .await
        .unwrap();
    let llm = llm(&fake);
    assert_eq!(llm.provider(), "livekit");
    assert_eq!(llm.model(), "openai/gpt-4.1-mini");
    let (chunks, error) = drain(llm.chat(&hello(), &[tool], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(common::calls(&chunks), [("call_1".into(), "ping".into(), "{}".into())]);

    let request = fake.last_request().unwrap();
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.model(), Some("openai/gpt-4.1-mini"));
    assert_eq!(request.header("x-livekit-inference-provider"), Some("openai"));
    let user_agent = request.header("user-agent").unwrap();
    assert!(user_agent.starts_with("LiveKit Agents Rust/"), "{user_agent}");
    assert_eq!(request.body["tools"][0]["function"]["strict"], true);
    assert_eq!(request.body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn without_a_provider_there_is_no_provider_header() {
    let fake = FakeOpenAi::with_responses([FakeResponse::text("ok")]).await.unwrap();
    let llm = inference::Llm::builder("google/gemini-2.5-flash")
        .base_url(fake.base_url())
        .api_key(API_KEY)
        .api_secret(API_SECRET)
        .body_option("temperature", 0.5)
        .build()
        .unwrap();
    let (_, error) = drain(llm.chat(&hello(), &[], &ChatOptions::default())).await;
    assert!(error.is_none(), "{error:?}");
    let request = fake.last_request().unwrap();
    assert_eq!(request.header("x-livekit-inference-provider"), None);
    assert_eq!(request.body["temperature"], 0.5);
}

#[test]
fn missing_credentials_name_the_variables_to_set() {
    // Tests must not change the environment: only check what the environment allows.
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let key_set = set("LIVEKIT_INFERENCE_API_KEY") || set("LIVEKIT_API_KEY");
    let secret_set = set("LIVEKIT_INFERENCE_API_SECRET") || set("LIVEKIT_API_SECRET");
    if !secret_set {
        let error =
            inference::Llm::builder("openai/gpt-4.1-mini").api_key(API_KEY).build().unwrap_err();
        assert!(matches!(error, ConfigError::MissingCredential { .. }));
        let message = error.to_string();
        assert!(
            message.contains("LIVEKIT_INFERENCE_API_SECRET or LIVEKIT_API_SECRET"),
            "{message}"
        );
        assert!(message.contains("inference::LlmBuilder::api_secret"), "{message}");
    }
    if !key_set {
        let error = inference::Llm::new("openai/gpt-4.1-mini").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("LIVEKIT_INFERENCE_API_KEY or LIVEKIT_API_KEY"), "{message}");
    }
}

#[test]
fn an_invalid_base_url_is_reported() {
    let error = inference::Llm::builder("m")
        .base_url("agent-gateway.livekit.cloud")
        .api_key(API_KEY)
        .api_secret(API_SECRET)
        .build()
        .unwrap_err();
    assert!(matches!(error, ConfigError::InvalidBaseUrl { .. }), "{error:?}");
}
