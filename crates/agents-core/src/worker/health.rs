//! The health server: `GET /` (200 `OK`, or 503 with the reason) and `GET /worker` (the
//! worker's info as JSON), as Python's worker serves them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::error::WorkerError;

/// What the health server reports.
pub(crate) trait HealthSource: Send + Sync + 'static {
    /// `Ok`, or why the worker is unhealthy.
    fn health(&self) -> Result<(), String>;
    /// The worker's info (Python's `WorkerInfo` JSON).
    fn info(&self) -> serde_json::Value;
}

/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Listens on `address`.
pub(crate) async fn bind(address: SocketAddr) -> Result<TcpListener, WorkerError> {
    TcpListener::bind(address).await.map_err(|error| WorkerError::Health {
        address: address.to_string(),
        reason: error.to_string(),
    })
}

/// Serves health requests until cancelled.
pub(crate) async fn serve(listener: TcpListener, source: Arc<dyn HealthSource>) {
    let mut clients = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    clients.spawn(answer(stream, source.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = clients.join_next(), if !clients.is_empty() => {}
        }
    }
}

async fn answer(mut stream: TcpStream, source: Arc<dyn HealthSource>) {
    let mut request = Vec::with_capacity(512);
    let mut buffer = [0u8; 512];
    let read = tokio::time::timeout(READ_TIMEOUT, async {
        loop {
            let n = stream.read(&mut buffer).await.ok()?;
            if n == 0 {
                return None;
            }
            request.extend_from_slice(&buffer[..n]);
            if request.windows(4).any(|w| w == b"\r\n\r\n") || request.len() > 8192 {
                return Some(());
            }
        }
    })
    .await;
    if !matches!(read, Ok(Some(()))) {
        return;
    }
    let head = String::from_utf8_lossy(&request);
    let mut parts = head.split_whitespace();
    let (method, path) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let path = path.split('?').next().unwrap_or_default();
    let (status, content_type, body) = match (method, path) {
        ("GET", "/") => match source.health() {
            Ok(()) => ("200 OK", "text/plain", "OK".to_owned()),
            Err(reason) => ("503 Service Unavailable", "text/plain", reason),
        },
        ("GET", "/worker") => ("200 OK", "application/json", source.info().to_string()),
        ("GET", _) => ("404 Not Found", "text/plain", "not found".to_owned()),
        _ => ("405 Method Not Allowed", "text/plain", "only GET".to_owned()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
