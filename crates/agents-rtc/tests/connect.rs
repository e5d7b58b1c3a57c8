//! Connecting to servers that are not there or refuse us: clean, typed errors that never
//! show the token.

#![allow(clippy::panic)]

mod common;

use std::time::Duration;

use agents_rtc::{ConnectError, Room, RoomOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A token-shaped secret that must appear in no error.
const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2VjcmV0LXNpZ25hdHVyZQ";

fn quick() -> RoomOptions {
    let mut options = RoomOptions::default();
    options.join_retries = Some(0);
    options.attempt_timeout = Some(Duration::from_secs(3));
    options.timeout = Duration::from_secs(20);
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_a_connect_failure() {
    common::require_library();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    let url = format!("ws://127.0.0.1:{port}");
    let error = Room::connect(&url, TOKEN, quick()).await.expect_err("nothing listens");
    let message = error.to_string();
    assert!(matches!(error, ConnectError::Failed { .. }), "{error:?}");
    assert!(message.contains(&url), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(!message.contains(TOKEN) && !format!("{error:?}").contains(TOKEN));
}

/// An HTTP server that answers every request with 401, as LiveKit does for a bad token;
/// returns its URL and the requests it saw.
async fn refusing_server() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("ws://127.0.0.1:{}", listener.local_addr().expect("address").port());
    let (seen, requests) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let _ = seen.send(String::from_utf8_lossy(&request).into_owned());
                let body = "invalid token: signature is invalid";
                let response = format!(
                    "HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, requests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_unauthorized() {
    common::require_library();
    let (url, mut requests) = refusing_server().await;
    let error = Room::connect(&url, TOKEN, quick()).await.expect_err("the server refuses");
    let message = error.to_string();
    assert!(matches!(error, ConnectError::Unauthorized { .. }), "{error:?}");
    assert!(message.contains("LIVEKIT_API_SECRET"), "says what to check: {message}");
    assert!(!message.contains(TOKEN) && !format!("{error:?}").contains(TOKEN));
    // The token went to the server, as a bearer header.
    let first = requests.recv().await.expect("a request");
    assert!(first.starts_with("GET /rtc"), "{first}");
    assert!(
        first.to_lowercase().contains(&format!("authorization: bearer {}", TOKEN.to_lowercase())),
        "{first}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_that_is_not_a_livekit_url_is_refused_before_connecting() {
    let error = Room::connect("ftp://user:hunter22@example.com", TOKEN, quick())
        .await
        .expect_err("not a ws:// URL");
    assert!(matches!(error, ConnectError::InvalidUrl { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("LIVEKIT_URL") && !message.contains("hunter22"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out() {
    common::require_library();
    // Accepts the TCP connection and says nothing.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("ws://127.0.0.1:{}", listener.local_addr().expect("address").port());
    let _keep = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            sockets.push(socket);
        }
    });
    let mut options = quick();
    options.attempt_timeout = Some(Duration::from_secs(30));
    options.timeout = Duration::from_millis(700);
    let error = Room::connect(&url, TOKEN, options).await.expect_err("no answer");
    assert!(matches!(error, ConnectError::Timeout { .. }), "{error:?}");
    assert!(error.to_string().contains("RoomOptions::timeout"), "{error}");
}
