//! One module per fuzz target, each with `run(&[u8])` and, for the new ones, `seeds()`.

pub mod chat_chunks;
pub mod console_keys;
pub mod console_lines;
pub mod env_file;
pub mod ffi_events;
pub mod inference_messages;
pub mod job_host_lines;
pub mod mcp_results;
pub mod mcp_schema;
pub mod retry_after;
pub mod seeds;
pub mod sse_parser;
pub mod tool_arguments;
pub mod wav_read;
pub mod worker_messages;
pub mod worker_url;
