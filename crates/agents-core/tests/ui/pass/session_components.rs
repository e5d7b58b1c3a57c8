// Every shape the session builder's `.stt`, `.llm` and `.tts` accept without agents-inference:
// the client itself, an `Arc` of it, and an `Arc<dyn ...>`.
use std::sync::Arc;

use agents_core::llm::Llm;
use agents_core::prelude::*;
use agents_core::stt::Stt;
use agents_core::testing::{FakeLlm, FakeStt, FakeTts};
use agents_core::tts::Tts;

fn main() {
    let shared_stt: Arc<dyn Stt> = Arc::new(FakeStt::new(["hello"]));
    let shared_llm: Arc<dyn Llm> = Arc::new(FakeLlm::new());
    let shared_tts: Arc<dyn Tts> = Arc::new(FakeTts::new());
    let _ = AgentSession::builder().stt(FakeStt::new(["hello"])).llm(FakeLlm::new()).tts(FakeTts::new());
    let _ = AgentSession::builder()
        .stt(Arc::new(FakeStt::new(["hello"])))
        .llm(Arc::new(FakeLlm::new()))
        .tts(Arc::new(FakeTts::new()));
    let _ = AgentSession::builder().stt(shared_stt).llm(shared_llm).tts(shared_tts).build();
}
