//! Examples of LiveKit Agents for Rust. Each one's header says what it shows, what it needs
//! and how to run it; each runs in a test of this package against the tests' fakes.
//!
//! | example | what it shows | command |
//! |---|---|---|
//! | `basic_agent` | the smallest voice agent: instructions, one tool, LiveKit Inference STT/LLM/TTS by model strings, Silero VAD | `cargo run --example basic_agent -- console --text` |
//! | `weather_tools` | method tools with typed arguments: optional, enum, nested struct, a `ToolError`, structured (JSON) output | `cargo run --example weather_tools -- console --text` |
//! | `handoff` | two agents handing the conversation over through a tool | `cargo run --example handoff -- console --text` |
//! | `testing_agents` | an agent tested with `session.run(...)` and `result.expect()` on the in-process fakes | `cargo test -p examples --test testing_agents` |
//! | `mcp_tools` | tools from an MCP server, following its changes | `MCP_SERVER=http://127.0.0.1:8000/mcp cargo run --example mcp_tools -- console --text` |
//! | `local_llm` | the text console against any OpenAI-compatible server (Ollama, llama.cpp, vLLM) | `OPENAI_BASE_URL=http://localhost:11434/v1 LLM_MODEL=llama3.2 cargo run --example local_llm -- console --text` |
//! | `update_tools` | tools added at run time (`update_tools`), the Python seed example | `cargo run --example update_tools -- console --text` |
//! | `vad_file` | the Silero VAD over a WAV file, no credentials | `cargo run --release --example vad_file -- speech.wav` |
