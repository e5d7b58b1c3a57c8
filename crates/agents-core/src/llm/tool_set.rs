//! An immutable, validated set of tools with lookup by name.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::ops::Add;
use std::sync::Arc;

use super::{FunctionTool, RunContext, ToolError, ToolOutput, ToolSetError};

/// A set of function tools with unique names, in order.
///
/// This is what an LLM request is offered and what its tool calls are executed against.
/// Building one validates it (no two tools share a name); after that it is immutable, and
/// cloning it is an `Arc` clone — a *snapshot* that stays valid whatever later updates do.
///
/// ```
/// use agents_core::prelude::*;
///
/// async fn ping() -> &'static str { "pong" }
/// async fn time() -> &'static str { "12:00" }
///
/// let tools = ToolSet::new([
///     function_tool(ping, "ping", "Answer pong.")?,
///     function_tool(time, "time", "The time.")?,
/// ])?;
/// assert_eq!(tools.names().collect::<Vec<_>>(), ["ping", "time"]);
///
/// let clash = ToolSet::new([
///     function_tool(ping, "ping", "Answer pong.")?,
///     function_tool(time, "ping", "The time.")?,
/// ]);
/// assert!(clash.unwrap_err().to_string().starts_with("duplicate function tool name `ping`"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct ToolSet {
    pub(crate) inner: Arc<ToolSetInner>,
}

#[derive(Default)]
pub(crate) struct ToolSetInner {
    tools: Vec<FunctionTool>,
    index: HashMap<Arc<str>, usize>,
}

impl ToolSet {
    /// Validates `tools` into a set: two tools with one name are an error naming both, one tool
    /// listed twice an error saying so.
    pub fn new(tools: impl IntoIterator<Item = FunctionTool>) -> Result<Self, ToolSetError> {
        let tools: Vec<FunctionTool> = tools.into_iter().collect();
        let mut index = HashMap::with_capacity(tools.len());
        for (position, tool) in tools.iter().enumerate() {
            if let Some(&first) = index.get(tool.name()) {
                let first: &FunctionTool = &tools[first];
                let name = tool.name().to_owned();
                // The same tool listed twice has one origin, and nothing to rename.
                return Err(if first.same_tool(tool) {
                    ToolSetError::ListedTwice { name, origin: first.origin().to_owned() }
                } else {
                    ToolSetError::DuplicateName {
                        name,
                        first: first.origin().to_owned(),
                        second: tool.origin().to_owned(),
                    }
                });
            }
            index.insert(tool.shared_name().clone(), position);
        }
        Ok(Self { inner: Arc::new(ToolSetInner { tools, index }) })
    }

    /// The empty set.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Number of tools.
    pub fn len(&self) -> usize {
        self.inner.tools.len()
    }

    /// Whether there are no tools.
    pub fn is_empty(&self) -> bool {
        self.inner.tools.is_empty()
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<&FunctionTool> {
        self.inner.index.get(name).map(|&position| &self.inner.tools[position])
    }

    /// Whether a tool called `name` is in the set.
    pub fn contains(&self, name: &str) -> bool {
        self.inner.index.contains_key(name)
    }

    /// The tools, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, FunctionTool> {
        self.inner.tools.iter()
    }

    /// The tools as a slice, in order.
    pub fn as_slice(&self) -> &[FunctionTool] {
        &self.inner.tools
    }

    /// The tool names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.inner.tools.iter().map(FunctionTool::name)
    }

    /// The tools as a new list (Python's `agent.tools`, a copy).
    pub fn to_vec(&self) -> Vec<FunctionTool> {
        self.inner.tools.clone()
    }

    /// Whether `self` and `other` are the same snapshot (not merely equal contents).
    pub fn same_snapshot(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Executes the call in `ctx` (its tool name and argument text) against this set.
    ///
    /// A name that is not in the set gives [`ToolError::UnknownTool`], listing the tools that
    /// are; everything else is as [`FunctionTool::invoke`].
    pub fn invoke(
        &self,
        ctx: RunContext,
    ) -> impl Future<Output = Result<ToolOutput, ToolError>> + Send + 'static + use<> {
        let call = ctx.function_call();
        let started = match self.get(&call.name) {
            Some(tool) => Ok(tool.invoke(ctx.clone(), &call.arguments)),
            None => Err(ToolError::UnknownTool {
                name: call.name.clone(),
                available: self.names().collect::<Vec<_>>().join(", "),
            }),
        };
        async move { started?.await }
    }
}

impl fmt::Debug for ToolSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl<'a> IntoIterator for &'a ToolSet {
    type Item = &'a FunctionTool;
    type IntoIter = std::slice::Iter<'a, FunctionTool>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl IntoIterator for ToolSet {
    type Item = FunctionTool;
    type IntoIter = std::vec::IntoIter<FunctionTool>;
    fn into_iter(self) -> Self::IntoIter {
        self.to_vec().into_iter()
    }
}

/// `tools + tool`: the tools followed by `tool`, as a list to validate
/// (Python's `agent.tools + [tool]`).
impl Add<FunctionTool> for ToolSet {
    type Output = Vec<FunctionTool>;
    fn add(self, tool: FunctionTool) -> Vec<FunctionTool> {
        let mut tools = self.to_vec();
        tools.push(tool);
        tools
    }
}

/// `tools + [a, b]`: the tools followed by `a` and `b`, as a list to validate.
impl<const N: usize> Add<[FunctionTool; N]> for ToolSet {
    type Output = Vec<FunctionTool>;
    fn add(self, more: [FunctionTool; N]) -> Vec<FunctionTool> {
        let mut tools = self.to_vec();
        tools.extend(more);
        tools
    }
}

/// `tools + vec![a, b]`: the tools followed by `a` and `b`, as a list to validate.
impl Add<Vec<FunctionTool>> for ToolSet {
    type Output = Vec<FunctionTool>;
    fn add(self, more: Vec<FunctionTool>) -> Vec<FunctionTool> {
        let mut tools = self.to_vec();
        tools.extend(more);
        tools
    }
}

/// Values that can become a [`ToolSet`]: a set (already valid), or a list of tools (validated).
pub trait IntoToolSet {
    /// Validates the tools into a set.
    fn into_tool_set(self) -> Result<ToolSet, ToolSetError>;
}

impl IntoToolSet for ToolSet {
    fn into_tool_set(self) -> Result<ToolSet, ToolSetError> {
        Ok(self)
    }
}

impl IntoToolSet for Vec<FunctionTool> {
    fn into_tool_set(self) -> Result<ToolSet, ToolSetError> {
        ToolSet::new(self)
    }
}

impl<const N: usize> IntoToolSet for [FunctionTool; N] {
    fn into_tool_set(self) -> Result<ToolSet, ToolSetError> {
        ToolSet::new(self)
    }
}

impl IntoToolSet for &[FunctionTool] {
    fn into_tool_set(self) -> Result<ToolSet, ToolSetError> {
        ToolSet::new(self.iter().cloned())
    }
}
