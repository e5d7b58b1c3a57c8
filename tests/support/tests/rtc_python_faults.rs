//! The test server's faults against the real LiveKit client library (Python SDK `livekit`
//! 1.2.1, liblivekit_ffi.so), in a network namespace of the test's own.
//!
//! Ignored in plain `cargo test`, like `rtc_python_sdk.rs` (same set-up): they need root and
//! a Python with the SDK. `cargo xtask test` runs them, with `LK_PYTHON` set to the venv it
//! keeps in the per-user cache (`cargo xtask setup` makes it); by hand:
//! `LK_PYTHON=~/.cache/livekit-agents/python-livekit-1.2.1/bin/python cargo test -p agents-test-support --test rtc_python_faults -- --ignored`.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use agents_test_support::livekit::rtc::{RtcConfig, RtcFault, SignalConnection};
use agents_test_support::{NetNs, TestServer};
use livekit_api::access_token::{AccessToken, VideoGrants};

const KEY: &str = "devkey";
const SECRET: &str = "secret-secret-secret-secret-secret";

/// Runs `rtc_connect.py` against a server with `fault` injected; returns the client's output
/// and the server's record of the signal connections.
fn run(fault: RtcFault, wait_s: u32) -> (Output, Vec<SignalConnection>) {
    let python = std::env::var("LK_PYTHON").expect(
        "set LK_PYTHON to a Python with livekit==1.2.1 (`cargo xtask test` sets it to the venv \
         it makes)",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/rtc_connect.py");
    let ns = NetNs::create().expect("a network namespace (run as root)");
    let token = AccessToken::with_api_key(KEY, SECRET)
        .with_identity("py")
        .with_grants(VideoGrants { room_join: true, room: "demo".into(), ..Default::default() })
        .to_jwt()
        .unwrap();
    let mut command = ns.command(python);
    command.arg(script).env("LK_TOKEN", token).env("LK_WAIT", wait_s.to_string());
    ns.spawn_thread(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            let server = TestServer::start_with(addr, RtcConfig::new(KEY, SECRET)).await.unwrap();
            server.rtc().inject(fault);
            command.env("LK_URL", server.ws_url());
            let output =
                tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
            (output, server.rtc().connections())
        })
    })
    .unwrap()
    .join()
    .unwrap()
    .unwrap()
}

fn last_result(output: &Output) -> Option<serde_json::Value> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find_map(|line| line.strip_prefix("RESULT "))?;
    Some(serde_json::from_str(line).unwrap())
}

fn events(result: &serde_json::Value) -> Vec<String> {
    result["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect()
}

fn joined(connections: &[SignalConnection]) -> usize {
    connections.iter().filter(|c| c.path == "/rtc" && c.refused.is_none()).count()
}

#[test]
#[ignore = "needs root and LK_PYTHON (a Python with livekit==1.2.1); `cargo xtask test` runs it"]
fn refusing_every_token_fails_the_clients_connect_with_401() {
    let (output, connections) = run(RtcFault::RefuseAllTokens, 1);
    let result = last_result(&output).expect("the client reports");
    assert_eq!(result["connected"], false);
    let error = result["error"].as_str().unwrap();
    assert!(error.contains("401"), "{error}");
    // The client tried 4 times (v1, 404, then /rtc refused), then gave up.
    let refused =
        connections.iter().filter(|c| c.refused.as_ref().is_some_and(|r| r.0 == 401)).count();
    assert_eq!(refused, 4, "{connections:#?}");
    assert_eq!(joined(&connections), 0);
}

#[test]
#[ignore = "needs root and LK_PYTHON (a Python with livekit==1.2.1); `cargo xtask test` runs it"]
fn one_refused_token_is_retried_by_the_client() {
    let (output, connections) = run(RtcFault::RefuseToken, 1);
    let result = last_result(&output).expect("the client reports");
    assert_eq!(result["connected"], true);
    assert_eq!(joined(&connections), 1);
}

#[test]
#[ignore = "needs root and LK_PYTHON (a Python with livekit==1.2.1); `cargo xtask test` runs it"]
fn the_aborting_join_response_kills_the_client_process() {
    let (output, _) = run(RtcFault::AbortingJoinResponse, 1);
    assert_eq!(output.status.signal(), Some(6), "SIGABRT expected, got {:?}", output.status);
    assert!(last_result(&output).is_none());
    assert!(String::from_utf8_lossy(&output.stderr).contains("must be non-zero"));
}

#[test]
#[ignore = "needs root and LK_PYTHON (a Python with livekit==1.2.1); `cargo xtask test` runs it"]
fn a_dropped_signal_socket_makes_the_client_reconnect_by_rejoining() {
    let (output, connections) = run(RtcFault::DropSignalAfter(Duration::from_secs(2)), 8);
    let result = last_result(&output).expect("the client reports");
    assert_eq!(
        events(&result)
            .iter()
            .filter(|e| *e == "reconnecting" || *e == "reconnected")
            .collect::<Vec<_>>(),
        ["reconnecting", "reconnected"]
    );
    // Its resume was refused and it joined again.
    assert!(
        connections.iter().any(|c| c.refused.as_ref().is_some_and(|r| r.1.contains("not resumed")))
    );
    assert_eq!(joined(&connections), 2);
}

#[test]
#[ignore = "needs root and LK_PYTHON (a Python with livekit==1.2.1); `cargo xtask test` runs it"]
fn a_leave_request_disconnects_the_client_for_good() {
    let (output, connections) = run(RtcFault::DisconnectAfter(Duration::from_secs(2)), 4);
    let result = last_result(&output).expect("the client reports");
    let disconnected =
        result["events"].as_array().unwrap().iter().find(|e| e["event"] == "disconnected").unwrap();
    assert_eq!(disconnected["detail"], "4", "reason ParticipantRemoved");
    assert_eq!(joined(&connections), 1);
}
