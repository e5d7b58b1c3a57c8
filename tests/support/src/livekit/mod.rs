//! A LiveKit test server on `127.0.0.1`: one listener whose WebSocket upgrades are routed by
//! path, each path an endpoint of the real server's protocol.
//!
//! | path | endpoint |
//! |---|---|
//! | `/agent` | the agent worker protocol ([`AgentEndpoint`]): registration, dispatch, job status |
//! | `/rtc`, `/rtc/v1` | the signal endpoint and SFU ([`rtc::RtcService`]): rooms, media, data |
//!
//! Every upgrade must carry a JWT signed with the server's API key and secret (checked with the
//! LiveKit SDK's verifier): on `/agent` as `Authorization: Bearer <JWT>` (what a worker sends),
//! on `/rtc` as that header or the `access_token` query parameter (what the LiveKit client
//! library sends). An `/agent` upgrade without a token, with a bad one, or to an unknown path is
//! refused (401 / 404) and recorded in [`violations`](TestServer::violations); `/rtc` upgrades
//! are admitted by the [`rtc`] service, which records them in its own
//! [`connections`](rtc::RtcService::connections) (its refusals are often the test's intent:
//! injected faults, the `/rtc/v1` fallback).
//!
//! Media tests run the server inside a [`NetNs`](crate::NetNs) (libwebrtc ignores loopback):
//! [`TestServer::start_with`] binds any address with an [`rtc::RtcConfig`].
//!
//! ```
//! use agents_test_support::livekit::TestServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let server = TestServer::start("APIkey", "secret-secret-secret").await?;
//! assert!(server.url().starts_with("http://127.0.0.1:"));
//! let job = server.agent().new_job("my-room");
//! assert_eq!(job.room.as_ref().map(|room| room.name.as_str()), Some("my-room"));
//! # Ok(())
//! # }
//! ```

mod agent;
pub mod rtc;

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

pub use agent::{AgentEndpoint, AnyMessage, Direction, Exchange, JobRecord, WorkerHandle};
use rtc::{Admission, RtcConfig, RtcService};

/// A LiveKit server for tests: see the [module documentation](self).
pub struct TestServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    agent: AgentEndpoint,
    rtc: RtcService,
    task: JoinHandle<()>,
}

/// What the listener and every endpoint share.
struct Shared {
    api_key: String,
    api_secret: String,
    state: Mutex<ServerState>,
}

#[derive(Default)]
struct ServerState {
    /// Statuses the next upgrades are refused with, whatever their path.
    refusals: VecDeque<u16>,
    upgrades: Vec<Upgrade>,
    violations: Vec<String>,
}

/// A WebSocket upgrade the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Upgrade {
    /// The request's path, e.g. `/agent` or `/rtc`.
    pub path: String,
    /// The query string, if any (`worker_token=…`, `access_token=…`).
    pub query: Option<String>,
    /// The status it was refused with, or `None` when it was accepted.
    pub refused: Option<u16>,
}

/// Where an upgrade goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Agent,
    Rtc,
}

impl Route {
    fn of(path: &str) -> Option<Self> {
        // A server URL may have a path (`wss://host/prefix`): the endpoint is its last part
        // (`/rtc/v1` is the signal endpoint's single-peer-connection version).
        let path = path.strip_suffix('/').unwrap_or(path);
        let path = path.strip_suffix("/v1").unwrap_or(path);
        match path.rsplit('/').next() {
            Some("agent") => Some(Self::Agent),
            Some("rtc") => Some(Self::Rtc),
            _ => None,
        }
    }
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer").field("address", &self.address).finish_non_exhaustive()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
        self.agent.close_all();
    }
}

impl TestServer {
    /// Starts a server on `127.0.0.1` (a random port) that accepts tokens signed with
    /// `api_key` and `api_secret`; its `/rtc` media use every non-loopback interface (see
    /// [`RtcConfig::udp_addr`]).
    pub async fn start(api_key: &str, api_secret: &str) -> io::Result<Self> {
        let address = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
        Self::start_with(address, RtcConfig::new(api_key, api_secret)).await
    }

    /// Starts a server on `address` (port 0 for a random one) whose endpoints accept tokens
    /// signed with `rtc`'s API key and secret, and whose `/rtc` service runs with `rtc`.
    ///
    /// # Errors
    ///
    /// The error of binding `address`.
    pub async fn start_with(address: SocketAddr, rtc: RtcConfig) -> io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            api_key: rtc.api_key.clone(),
            api_secret: rtc.api_secret.clone(),
            state: Mutex::new(ServerState::default()),
        });
        let agent = AgentEndpoint::new(format!("http://{address}"), &rtc.api_key, &rtc.api_secret);
        let rtc = RtcService::new(rtc);
        let endpoints = Endpoints { agent: agent.clone(), rtc: rtc.clone() };
        let task = tokio::spawn(accept_loop(listener, shared.clone(), endpoints));
        Ok(Self { address, shared, agent, rtc, task })
    }

    /// The server's URL, `http://127.0.0.1:<port>`, as `LIVEKIT_URL` gives it.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The server's URL with the WebSocket scheme, `ws://127.0.0.1:<port>`, as a room client
    /// is given it.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.address)
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The API key tokens must be signed for.
    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// The API secret tokens must be signed with.
    pub fn api_secret(&self) -> &str {
        &self.shared.api_secret
    }

    /// The `/agent` endpoint: its workers, jobs, and the messages exchanged.
    pub fn agent(&self) -> &AgentEndpoint {
        &self.agent
    }

    /// The `/rtc` endpoint: rooms, server-side participants, faults.
    pub fn rtc(&self) -> &RtcService {
        &self.rtc
    }

    /// Refuses the next upgrade (any path) with `status`, e.g. 503 for a server that is
    /// down, or 401 for credentials it rejects.
    pub fn refuse_next(&self, status: u16) {
        lock(&self.shared.state).refusals.push_back(status);
    }

    /// Every upgrade received, in order.
    pub fn upgrades(&self) -> Vec<Upgrade> {
        lock(&self.shared.state).upgrades.clone()
    }

    /// Protocol violations: upgrades with a bad token or to an unknown path, and those
    /// recorded by the endpoints. A faithful client leaves this empty.
    pub fn violations(&self) -> Vec<String> {
        let mut violations = lock(&self.shared.state).violations.clone();
        violations.extend(self.agent.violations());
        violations
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The endpoints upgrades are routed to.
#[derive(Clone)]
struct Endpoints {
    agent: AgentEndpoint,
    rtc: RtcService,
}

/// What an accepted upgrade goes on to.
enum Accepted {
    Agent(Option<String>, Box<livekit_api::access_token::Claims>),
    Rtc(Admission),
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, endpoints: Endpoints) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // E.g. out of file descriptors: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                connections.spawn(serve(stream, shared.clone(), endpoints.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Checks the upgrade (path, token), records it, and runs its endpoint.
#[allow(clippy::result_large_err)] // tungstenite's callback signature
async fn serve(stream: TcpStream, shared: Arc<Shared>, endpoints: Endpoints) {
    let mut accepted = None;
    let callback = |request: &Request, response: Response| {
        let path = request.uri().path().to_owned();
        let query = request.uri().query().map(str::to_owned);
        if Route::of(&path) == Some(Route::Rtc) {
            let refused = lock(&shared.state).refusals.pop_front();
            let admitted = match refused {
                Some(status) => Err(refusal(status)),
                None => endpoints.rtc.admit(request),
            };
            let status = admitted.as_ref().err().map(|error| error.status().as_u16());
            lock(&shared.state).upgrades.push(Upgrade { path, query, refused: status });
            return admitted.map(|admission| {
                accepted = Some(Accepted::Rtc(admission));
                response
            });
        }
        let token = request
            .headers()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::to_owned);
        let mut state = lock(&shared.state);
        let mut refused = state.refusals.pop_front();
        let route = Route::of(&path);
        if route.is_none() {
            state.violations.push(format!("upgrade to an unknown path {path}"));
            refused.get_or_insert(404);
        }
        let claims = match check_token(token.as_deref(), &shared, route) {
            Ok(claims) => Some(claims),
            Err(problem) => {
                state.violations.push(format!("{path}: {problem}"));
                refused.get_or_insert(401);
                None
            }
        };
        state.upgrades.push(Upgrade { path, query: query.clone(), refused });
        match (refused, route, claims) {
            (None, Some(_), Some(claims)) => {
                accepted = Some(Accepted::Agent(query, Box::new(claims)));
                Ok(response)
            }
            (status, _, _) => Err(refusal(status.unwrap_or(500))),
        }
    };
    let Ok(socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else { return };
    match accepted {
        Some(Accepted::Agent(query, claims)) => endpoints.agent.serve(socket, query, *claims).await,
        Some(Accepted::Rtc(admission)) => endpoints.rtc.serve(admission, socket).await,
        None => {}
    }
}

/// The response refusing an upgrade with `status`.
fn refusal(status: u16) -> ErrorResponse {
    let mut error = ErrorResponse::new(Some(format!("refused with {status}")));
    *error.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error
}

/// The token's claims, if it verifies and grants what the route needs.
fn check_token(
    token: Option<&str>,
    shared: &Shared,
    route: Option<Route>,
) -> Result<livekit_api::access_token::Claims, String> {
    let token = token.ok_or("no bearer token")?;
    let claims =
        livekit_api::access_token::TokenVerifier::with_api_key(&shared.api_key, &shared.api_secret)
            .verify(token)
            .map_err(|error| format!("the token does not verify: {error}"))?;
    if route == Some(Route::Agent) && !claims.video.agent {
        return Err("the token lacks the `video.agent` grant a worker needs".into());
    }
    Ok(claims)
}
