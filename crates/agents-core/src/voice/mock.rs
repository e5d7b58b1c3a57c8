//! Tool mocks for tests (Python's `mock_tools`), bound by tool name.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;

use crate::llm::{IntoToolOutput, RunContext, ToolError, ToolOutput};

type MockFn =
    dyn Fn(RunContext, Value) -> BoxFuture<'static, Result<ToolOutput, ToolError>> + Send + Sync;

/// One tool's mock.
#[derive(Clone)]
pub struct MockTool {
    handler: Arc<MockFn>,
}

impl MockTool {
    pub(crate) fn call(
        &self,
        ctx: RunContext,
        arguments: Value,
    ) -> BoxFuture<'static, Result<ToolOutput, ToolError>> {
        (self.handler)(ctx, arguments)
    }
}

/// Replacements for tools' execution, by tool name; give them to
/// [`AgentSession::mock_tools`](super::AgentSession::mock_tools).
///
/// The model still sees the real tools, and a call's arguments are still parsed by the real
/// tool; the mock receives them as a JSON object (by name, not by position — unlike Python's).
///
/// ```
/// use agents_core::prelude::*;
/// use agents_core::voice::MockTools;
///
/// let mocks = MockTools::new()
///     .with("lookup_weather", |args: serde_json::Value| async move {
///         format!("It is always sunny in {}", args["location"].as_str().unwrap_or("?"))
///     })
///     .with("book", |_| async { Err::<String, _>(ToolError::message("fully booked")) });
/// assert_eq!(mocks.len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct MockTools {
    mocks: HashMap<String, MockTool>,
}

impl fmt::Debug for MockTools {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.mocks.keys()).finish()
    }
}

impl MockTools {
    /// No mocks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Mocks tool `name` with `mock`, which receives the parsed arguments.
    pub fn with<F, Fut>(mut self, name: impl Into<String>, mock: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoToolOutput,
    {
        let handler: Arc<MockFn> = Arc::new(move |_ctx, arguments| {
            let future = mock(arguments);
            async move { future.await.into_tool_output() }.boxed()
        });
        self.mocks.insert(name.into(), MockTool { handler });
        self
    }

    /// The mock of tool `name`.
    pub fn get(&self, name: &str) -> Option<MockTool> {
        self.mocks.get(name).cloned()
    }

    /// How many tools are mocked.
    pub fn len(&self) -> usize {
        self.mocks.len()
    }

    /// Whether no tool is mocked.
    pub fn is_empty(&self) -> bool {
        self.mocks.is_empty()
    }
}
