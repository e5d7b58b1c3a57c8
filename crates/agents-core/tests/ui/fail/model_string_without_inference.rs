// A model string given to the session builder without agents-inference: the error says which
// crate to add and the line that makes its conversions visible.
use agents_core::prelude::*;

fn main() {
    let _ = AgentSession::builder().stt("deepgram/nova-3:en").build();
}
