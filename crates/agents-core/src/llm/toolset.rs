//! Toolsets: named groups of tools with a lifecycle, whose tools may change while they run
//! (Python's `Toolset`; MCP servers are the main kind).
//!
//! * [`Toolset`]: the trait — an id, the [`LiveTools`] it publishes, `setup` and `aclose`.
//! * [`LiveTools`]: a toolset's current tool list; setting it swaps it atomically and tells
//!   every agent and session that offers the toolset's tools, so their next LLM request sees
//!   the change (a request in flight keeps its snapshot).
//! * [`StaticToolset`]: a fixed group of tools with a name.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use arc_swap::ArcSwap;
use tokio::sync::broadcast;

use super::tool_set::ToolSetInner;
use super::{FunctionTool, IntoToolSet, ToolSet, ToolSetError};

/// A named group of tools with an async lifecycle (Python's `Toolset`).
///
/// Give toolsets to an agent ([`Agent::with_toolsets`](crate::Agent::with_toolsets)) or to the
/// whole session (`AgentSession::builder().toolsets(...)`): an agent's toolsets are set up
/// when the agent becomes active and closed when it hands off (or the session closes); the
/// session's are set up by `start` and closed by `close`.
///
/// The tools are whatever [`tools`](Self::tools) holds at the time of each LLM request: a
/// toolset changes them with [`LiveTools::set`], and the agents and sessions offering them
/// follow atomically.
///
/// ```
/// use agents_core::llm::{LiveTools, Toolset, ToolsetError};
/// use agents_core::prelude::*;
///
/// struct Clock { tools: LiveTools }
///
/// #[async_trait]
/// impl Toolset for Clock {
///     fn id(&self) -> &str { "clock" }
///     fn tools(&self) -> &LiveTools { &self.tools }
///     async fn setup(&self) -> Result<(), ToolsetError> {
///         async fn now() -> &'static str { "12:00" }
///         let failed = |error: &dyn std::error::Error| ToolsetError::new("clock", error.to_string());
///         let now = function_tool(now, "now", "The time.").map_err(|e| failed(&e))?;
///         self.tools.set([now]).map_err(|e| failed(&e))
///     }
/// }
///
/// # futures::executor::block_on(async {
/// let clock = std::sync::Arc::new(Clock { tools: LiveTools::new() });
/// let agent = Agent::new("Tell the time.").with_toolsets([clock.clone() as _])?;
/// assert!(agent.tools().is_empty());
/// clock.setup().await?;
/// assert!(agent.tools().contains("now"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[crate::async_trait]
pub trait Toolset: Send + Sync + 'static {
    /// The toolset's name, for logs, errors and events.
    fn id(&self) -> &str;

    /// The live list of the toolset's tools.
    fn tools(&self) -> &LiveTools;

    /// Prepares the toolset (connects to a server, lists its tools). Called when the agent
    /// or session that owns it starts; may be called again after [`aclose`](Self::aclose).
    async fn setup(&self) -> Result<(), ToolsetError> {
        Ok(())
    }

    /// Releases what `setup` acquired (closes connections, stops child processes).
    async fn aclose(&self) {}
}

impl fmt::Debug for dyn Toolset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Toolset")
            .field("id", &self.id())
            .field("tools", &self.tools().get())
            .finish()
    }
}

/// A toolset could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("toolset `{toolset}` could not be set up: {reason}")]
#[non_exhaustive]
pub struct ToolsetError {
    /// The toolset's id.
    pub toolset: String,
    /// What went wrong and what to do about it.
    pub reason: String,
}

impl ToolsetError {
    /// An error of the toolset `toolset`.
    pub fn new(toolset: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { toolset: toolset.into(), reason: reason.into() }
    }
}

/// Something that happened to a toolset while it runs, reported by sessions as
/// `SessionEvent::Error` with `ErrorSource::Toolset`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolsetEvent {
    /// The toolset lost its source (an MCP server exited): its tools are withdrawn until it
    /// is back.
    Unavailable {
        /// Why, and what the toolset does about it.
        reason: String,
    },
    /// The toolset is back, with its tools offered again.
    Restored {
        /// What happened.
        message: String,
    },
}

type Listener = dyn Fn() + Send + Sync;

/// A toolset's current tools: a validated [`ToolSet`] that can be swapped atomically.
///
/// Cheap to clone (an `Arc` inside); clones are the same list. Every agent and session
/// offering the toolset follows [`set`](Self::set) at once: the next LLM request sees the new
/// tools, and a request already made keeps the snapshot it was offered.
#[derive(Clone)]
pub struct LiveTools {
    inner: Arc<LiveInner>,
}

struct LiveInner {
    current: ArcSwap<ToolSetInner>,
    listeners: Mutex<Vec<Weak<Listener>>>,
    events: broadcast::Sender<ToolsetEvent>,
}

impl Default for LiveTools {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LiveTools {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LiveTools").field(&self.get()).finish()
    }
}

impl LiveTools {
    /// An empty list.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(LiveInner {
                current: ArcSwap::new(ToolSet::empty().inner),
                listeners: Mutex::new(Vec::new()),
                events: broadcast::channel(64).0,
            }),
        }
    }

    /// The current tools (a snapshot that never changes).
    pub fn get(&self) -> ToolSet {
        ToolSet { inner: self.inner.current.load_full() }
    }

    /// Replaces the tools: validated first (rejected whole on a name clash, leaving the
    /// current list), then swapped atomically, and every agent and session offering them
    /// updated before this returns.
    pub fn set(&self, tools: impl IntoToolSet) -> Result<(), ToolSetError> {
        self.inner.current.store(tools.into_tool_set()?.inner);
        let listeners: Vec<Arc<Listener>> = {
            let mut listeners = lock(&self.inner.listeners);
            listeners.retain(|listener| listener.strong_count() > 0);
            listeners.iter().filter_map(Weak::upgrade).collect()
        };
        for listener in listeners {
            listener();
        }
        Ok(())
    }

    /// Withdraws every tool (`set` of the empty list).
    pub fn clear(&self) {
        // The empty set is always valid.
        let _ = self.set(ToolSet::empty());
    }

    /// Reports `event` to the sessions offering the toolset.
    pub fn report(&self, event: ToolsetEvent) {
        // No session listening is fine.
        let _ = self.inner.events.send(event);
    }

    /// The toolset's events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ToolsetEvent> {
        self.inner.events.subscribe()
    }

    /// Calls `listener` after every change, as long as it lives.
    fn listen(&self, listener: &Arc<Listener>) {
        lock(&self.inner.listeners).push(Arc::downgrade(listener));
    }
}

/// A fixed, named group of tools (Python's `Toolset(id=..., tools=[...])`).
#[derive(Debug, Clone)]
pub struct StaticToolset {
    id: String,
    tools: LiveTools,
}

impl StaticToolset {
    /// The group `id` of `tools`.
    pub fn new(id: impl Into<String>, tools: impl IntoToolSet) -> Result<Self, ToolSetError> {
        let live = LiveTools::new();
        live.set(tools)?;
        Ok(Self { id: id.into(), tools: live })
    }
}

#[crate::async_trait]
impl Toolset for StaticToolset {
    fn id(&self) -> &str {
        &self.id
    }

    fn tools(&self) -> &LiveTools {
        &self.tools
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Own tools plus the tools of toolsets, combined into one validated, atomically swapped set:
/// what an agent (or a session) offers.
pub(crate) struct ToolHub {
    state: Arc<HubState>,
    /// Kept alive here: the toolsets only hold it weakly.
    listener: Arc<Listener>,
}

struct HubState {
    /// The own tools and the toolsets, under one lock that also serializes recombinations
    /// (one lock, not two: `update_tools` is on a hot path and takes it once).
    parts: Mutex<Parts>,
    offered: ArcSwap<ToolSetInner>,
    /// A label for logs: the agent's id, or `session`.
    owner: String,
}

struct Parts {
    /// The tools given directly.
    own: ToolSet,
    toolsets: Vec<Arc<dyn Toolset>>,
}

impl ToolHub {
    pub(crate) fn new(owner: impl Into<String>, own: ToolSet) -> Self {
        let state = Arc::new(HubState {
            offered: ArcSwap::new(own.inner.clone()),
            parts: Mutex::new(Parts { own, toolsets: Vec::new() }),
            owner: owner.into(),
        });
        let weak = Arc::downgrade(&state);
        let listener: Arc<Listener> = Arc::new(move || {
            if let Some(state) = weak.upgrade() {
                let parts = lock(&state.parts);
                if let Err(error) = state.combine(&parts.own, &parts.toolsets) {
                    tracing::error!(
                        owner = %state.owner,
                        "a toolset's new tools were not offered: {error}"
                    );
                }
            }
        });
        Self { state, listener }
    }

    /// The combined set offered now.
    pub(crate) fn offered(&self) -> ToolSet {
        ToolSet { inner: self.state.offered.load_full() }
    }

    /// The toolsets, in order.
    pub(crate) fn toolsets(&self) -> Vec<Arc<dyn Toolset>> {
        lock(&self.state.parts).toolsets.clone()
    }

    /// Replaces the own tools. Tools that one of the toolsets provides are left to it, so
    /// `update_tools(agent.tools() + [tool])` keeps working with toolsets.
    pub(crate) fn set_own(&self, tools: ToolSet) -> Result<(), ToolSetError> {
        let mut parts = lock(&self.state.parts);
        let tools = if parts.toolsets.is_empty() {
            tools
        } else {
            let provided: Vec<ToolSet> =
                parts.toolsets.iter().map(|toolset| toolset.tools().get()).collect();
            ToolSet::new(tools.into_iter().filter(|tool| {
                !provided.iter().any(|set| set.get(tool.name()).is_some_and(|t| t.same_tool(tool)))
            }))?
        };
        self.state.combine(&tools, &parts.toolsets)?;
        parts.own = tools;
        Ok(())
    }

    /// Replaces the toolsets; rejected whole (nothing changes) if their tools clash.
    pub(crate) fn set_toolsets(
        &self,
        toolsets: impl IntoIterator<Item = Arc<dyn Toolset>>,
    ) -> Result<(), ToolSetError> {
        let mut parts = lock(&self.state.parts);
        let toolsets: Vec<Arc<dyn Toolset>> = toolsets.into_iter().collect();
        self.state.combine(&parts.own, &toolsets)?;
        for toolset in &toolsets {
            if !parts.toolsets.iter().any(|known| Arc::ptr_eq(known, toolset)) {
                toolset.tools().listen(&self.listener);
            }
        }
        parts.toolsets = toolsets;
        Ok(())
    }
}

impl HubState {
    /// Validates `own` plus the toolsets' current tools and offers the result. The caller
    /// holds the `parts` lock.
    fn combine(&self, own: &ToolSet, toolsets: &[Arc<dyn Toolset>]) -> Result<(), ToolSetError> {
        if toolsets.is_empty() {
            self.offered.store(own.inner.clone());
            return Ok(());
        }
        let mut tools: Vec<FunctionTool> = own.to_vec();
        for toolset in toolsets {
            tools.extend(toolset.tools().get());
        }
        self.offered.store(ToolSet::new(tools)?.inner);
        Ok(())
    }
}
