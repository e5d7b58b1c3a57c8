//! `/rtc`: a LiveKit-compatible signal endpoint and SFU for tests, on webrtc-rs.
//!
//! [`RtcService`] serves the signal WebSocket (`SignalRequest`/`SignalResponse` protobufs,
//! client protocol 18). On `/rtc` a client has two peer connections: its publisher
//! connection, which it offers, and its subscriber connection, which the server offers with
//! `_reliable` and `_lossy` data channels. With
//! [`RtcConfig::with_single_peer_connection`], `/rtc/v1` is served too (the client's first
//! choice): one connection, always offered by the client (the join request carries the first
//! offer); the server binds the tracks it sends to the offer's receive-only sections
//! (`mid_to_track_id`), asks for a new offer with `MediaSectionsRequirement` when a track
//! comes, and sends data on the client's own channels. Otherwise `/rtc/v1` gets 404 and
//! clients fall back to `/rtc`. Tokens are checked with livekit-api's verifier. Audio published by
//! one participant is forwarded to every other; data packets are relayed with the sender's
//! identity stamped on them; attribute updates are broadcast as `ParticipantUpdate`s.
//!
//! [`ServerParticipant`]s live inside the server: a test joins one, publishes PCM, captures
//! what the others published, sends `lk.chat` text and reads the `lk.transcription` text
//! streams and `lk.agent.state` attribute changes it receives. [`RtcFault`]s refuse the
//! token, drop the signal socket, or send the `JoinResponse` that aborts livekit-ffi.
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use std::time::Duration;
//!
//! use agents_test_support::livekit::rtc::RtcConfig;
//! use agents_test_support::{NetNs, TestServer};
//!
//! // libwebrtc ignores loopback: run the server (and the client) in a namespace of the test's own.
//! let ns = NetNs::create().expect("root, for a network namespace");
//! let thread = ns.spawn_thread(|| {
//!     let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//!     runtime.block_on(async {
//!         let addr = SocketAddr::from(([127, 0, 0, 1], 0));
//!         let server = TestServer::start_with(addr, RtcConfig::new("devkey", "a-secret-of-32-characters-or-more")).await?;
//!         let user = server.rtc().join("demo", "user").map_err(std::io::Error::other)?;
//!         // … start the agent with `server.url()` and a token for the room `demo` …
//!         user.publish_pcm(&vec![0_i16; 16_000], 16_000).await.map_err(std::io::Error::other)?;
//!         user.send_chat("print to the console");
//!         let reply = user.wait_text_stream("lk.transcription", |s| s.sender_identity == "agent", Duration::from_secs(10));
//!         let _transcript = reply.await.map_err(std::io::Error::other)?;
//!         let _voice = user.captured("agent"); // 48 kHz mono PCM
//!         let _states = user.attribute_history("agent", "lk.agent.state");
//!         Ok::<_, std::io::Error>(())
//!     })
//! });
//! thread.unwrap().join().unwrap().unwrap().unwrap();
//! ```
//!
//! Not served: resume (refused, so clients rejoin; a rejoin replaces the old session),
//! simulcast, video, TURN, selective subscription (everything is auto-subscribed), track
//! unpublication by a client.

mod error;
mod media;
mod participant;
mod peer;
mod room;
mod service;
mod session;
mod text_stream;

pub use error::RtcError;
pub use media::SAMPLE_RATE;
pub use participant::ServerParticipant;
pub use service::{Admission, RtcConfig, RtcFault, RtcService, SignalConnection};
pub use text_stream::TextStream;
