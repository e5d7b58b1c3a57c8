//! A LiveKit server for media tests (until it joins [`TestServer`](super::TestServer)): [`RtcTestServer`] serves `/rtc` (the signal endpoint and SFU of
//! [`rtc`]) on a local TCP port.



use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::rtc::{RtcConfig, RtcService};

/// A LiveKit-compatible test server on a TCP port. Dropping it stops it.
#[derive(Debug)]
pub struct RtcTestServer {
    addr: SocketAddr,
    rtc: RtcService,
    accept: JoinHandle<()>,
}

impl RtcTestServer {
    /// Serves `/rtc` with `config` on `addr` (e.g. `127.0.0.1:0`).
    ///
    /// # Errors
    ///
    /// The error of binding `addr`.
    pub async fn start(addr: SocketAddr, config: RtcConfig) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let rtc = RtcService::new(config);
        let service = rtc.clone();
        let accept = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let service = service.clone();
                connections.spawn(async move { service.accept(stream).await });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Self { addr, rtc, accept })
    }

    /// The URL clients connect to (`ws://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `/rtc` service: rooms, server-side participants, faults.
    pub fn rtc(&self) -> &RtcService {
        &self.rtc
    }
}

impl Drop for RtcTestServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
