//! The test server's `/rtc` against the real LiveKit client library: a participant of the
//! Python SDK (PyPI `livekit` 1.2.1, liblivekit_ffi.so) in a network namespace of the test's
//! own exchanges audio, text streams, data and attributes with a server-side participant, over
//! two peer connections (`/rtc`) and over one (`/rtc/v1`).
//!
//! Ignored in plain `cargo test`: it needs root (for the namespace) and a Python with the SDK.
//! `cargo xtask test` runs it after the workspace's tests, with `LK_PYTHON` set to the venv it
//! keeps in the per-user cache (`livekit==1.2.1`, numpy, pinned; `cargo xtask setup` makes
//! it). By hand:
//! `LK_PYTHON=~/.cache/livekit-agents/python-livekit-1.2.1/bin/python cargo test -p agents-test-support --test rtc_python_sdk -- --ignored`.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use agents_test_support::livekit::rtc::RtcConfig;
use agents_test_support::{NetNs, TestServer};
use livekit_api::access_token::{AccessToken, VideoGrants};

const KEY: &str = "devkey";
const SECRET: &str = "secret-secret-secret-secret-secret";

fn tone(frequency: f64, seconds: f64) -> Vec<i16> {
    (0..(48_000.0 * seconds) as usize)
        .map(|i| {
            ((2.0 * std::f64::consts::PI * frequency * i as f64 / 48_000.0).sin() * 8000.0) as i16
        })
        .collect()
}

/// The frequency of a tone from its zero crossings.
fn pitch(pcm: &[i16]) -> f64 {
    let crossings = pcm.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (pcm.len() as f64 / 48_000.0)
}

fn rms(pcm: &[i16]) -> f64 {
    (pcm.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / pcm.len().max(1) as f64).sqrt()
}

#[test]
#[ignore = "needs root and LK_PYTHON (a Python with livekit==1.2.1 and numpy); `cargo xtask test` runs it"]
fn a_python_sdk_participant_exchanges_audio_text_and_attributes() {
    run(false);
}

#[test]
#[ignore = "needs root and LK_PYTHON (a Python with livekit==1.2.1 and numpy); `cargo xtask test` runs it"]
fn the_same_over_a_single_peer_connection() {
    run(true);
}

fn run(single_pc: bool) {
    let python = std::env::var("LK_PYTHON")
        .expect("set LK_PYTHON to a Python with livekit==1.2.1 and numpy (`cargo xtask test` sets it to the venv it makes)");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/rtc_client.py");
    let ns = NetNs::create().expect("a network namespace (run as root)");
    let token = AccessToken::with_api_key(KEY, SECRET)
        .with_identity("py")
        .with_grants(VideoGrants { room_join: true, room: "demo".into(), ..Default::default() })
        .to_jwt()
        .unwrap();
    let mut command = ns.command(python);
    command.arg(script).env("LK_TOKEN", token).env("RUST_LOG", "warn");
    let handle = ns
        .spawn_thread(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(scenario(command, single_pc))
        })
        .unwrap();
    handle.join().unwrap().unwrap();
}

async fn scenario(mut command: std::process::Command, single_pc: bool) {
    let server = TestServer::start_with(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        RtcConfig::new(KEY, SECRET).with_single_peer_connection(single_pc),
    )
    .await
    .unwrap();
    let bot = server.rtc().join("demo", "bot").unwrap();
    command.env("LK_URL", server.ws_url());
    let child = tokio::task::spawn_blocking(move || command.output().unwrap());

    bot.wait_participant("py", Duration::from_secs(30)).await.unwrap();
    let heard = bot.wait_captured("py", Duration::from_secs(2), Duration::from_secs(30)).await;
    let reply = tone(660.0, 4.0);
    let playing = bot.publish_pcm(&reply, 48_000);
    let chat = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        bot.send_chat("hello from the server");
    };
    let data = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        bot.publish_data(b"pong from the server", Some("probe"), true);
    };
    let (played, (), ()) = tokio::join!(playing, chat, data);
    played.unwrap();

    let output = child.await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stdout.lines().find_map(|line| line.strip_prefix("RESULT ")).unwrap_or_else(|| {
        panic!(
            "the Python participant failed:\n{stdout}\n{stderr}\nserver errors: {:?}",
            server.rtc().errors()
        )
    });
    let result: serde_json::Value = serde_json::from_str(line).unwrap();
    eprintln!("python: {result}");
    eprintln!("server errors: {:?}", server.rtc().errors());

    // The client connected and saw the server-side participant and its track.
    assert_eq!(result["connected"], true);
    assert_eq!(result["room"], "demo");
    assert_eq!(result["remote_participants"], serde_json::json!(["bot"]));
    assert_eq!(result["subscribed"][0]["participant"], "bot");
    assert!(result["published_sid"].as_str().unwrap().starts_with("TR_"));
    // The server's 660 Hz tone reached the client's audio stream.
    let captured_pitch = result["captured_pitch"].as_f64().unwrap();
    assert!((captured_pitch - 660.0).abs() < 15.0, "client heard {captured_pitch} Hz");
    assert!(result["captured_rms"].as_f64().unwrap() > 1000.0, "client heard silence");
    // lk.chat from the server reached the client's text stream handler, with the sender.
    assert_eq!(result["chat"]["text"], "hello from the server");
    assert_eq!(result["chat"]["from"], "bot");

    // A user data packet reached the client with its topic and sender.
    assert_eq!(
        result["data"],
        serde_json::json!({"payload": "pong from the server", "topic": "probe", "from": "bot"})
    );
    // And the client's reached the server-side participant, the sender stamped.
    let user = bot
        .data_packets()
        .into_iter()
        .find_map(|p| match p.value {
            Some(livekit_protocol::data_packet::Value::User(user)) => {
                Some((p.participant_identity, user))
            }
            _ => None,
        })
        .expect("the client's data packet");
    assert_eq!(user.0, "py");
    assert_eq!(
        (user.1.payload.as_slice(), user.1.topic.as_deref()),
        (&b"ping from python"[..], Some("probe"))
    );

    // The client's 440 Hz tone reached the server-side participant.
    let heard = heard.unwrap();
    let body = &heard[heard.len() / 4..];
    assert!((pitch(body) - 440.0).abs() < 15.0, "server heard {} Hz", pitch(body));
    assert!(rms(body) > 1000.0, "server heard silence");
    // Its lk.transcription text stream, with attributes, reached the server-side participant.
    let stream =
        bot.wait_text_stream("lk.transcription", |_| true, Duration::from_secs(5)).await.unwrap();
    assert_eq!(stream.text, "hello from python");
    assert_eq!(stream.sender_identity, "py");
    let expected = HashMap::from([
        ("lk.transcription_final".to_owned(), "true".to_owned()),
        ("lk.segment_id".to_owned(), "SG_1".to_owned()),
    ]);
    for (key, value) in expected {
        assert_eq!(stream.attributes.get(&key), Some(&value), "attribute {key}");
    }
    // Its attribute changes arrived in order.
    assert_eq!(bot.attribute_history("py", "lk.agent.state"), ["listening", "speaking", "idle"]);
    // The client tried the single-peer-connection path first and fell back on its 404.
    let paths: Vec<_> =
        server.rtc().connections().into_iter().map(|c| (c.path, c.refused.map(|r| r.0))).collect();
    if single_pc {
        // One peer connection: the client's first choice, served.
        assert_eq!(paths, [("/rtc/v1".to_owned(), None)]);
    } else {
        assert_eq!(paths, [("/rtc/v1".to_owned(), Some(404)), ("/rtc".to_owned(), None)]);
        assert_eq!(server.rtc().connections()[1].protocol, Some(18));
    }
    // Its Leave removed it from the room.
    let left = bot.participant_updates().into_iter().rev().find(|p| p.identity == "py").unwrap();
    assert_eq!(left.state, livekit_protocol::participant_info::State::Disconnected as i32);
}
