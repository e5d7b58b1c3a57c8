//! `function_tool(f, name, description)`: free async functions and closures as tools.

use std::future::Future;
use std::sync::Arc;

use futures::FutureExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::schema::{self, empty_parameters_schema, is_object_schema};
use super::tool::{ErasedHandler, ToolArguments, ToolFuture, validate_tool_name};
use super::{FunctionTool, IntoToolOutput, RunContext, ToolDefinitionError, ToolKind};

/// Marker types telling the four handler shapes apart. Never constructed.
#[doc(hidden)]
pub mod shape {
    use std::marker::PhantomData;

    /// `async fn()`.
    #[allow(missing_debug_implementations)]
    pub enum NoArgs {}
    /// `async fn(RunContext)`.
    #[allow(missing_debug_implementations)]
    pub enum Context {}
    /// `async fn(Args)`.
    #[allow(missing_debug_implementations)]
    pub struct Args<A>(std::convert::Infallible, PhantomData<A>);
    /// `async fn(RunContext, Args)`.
    #[allow(missing_debug_implementations)]
    pub struct ContextArgs<A>(std::convert::Infallible, PhantomData<A>);
}

/// Seals [`ToolHandler`]: only the four shapes below implement it.
mod sealed {
    /// Implemented for the handler shapes of this module only.
    #[allow(unreachable_pub)]
    pub trait Sealed<M> {}
}

/// An async function or closure usable as a function tool.
///
/// Sealed: it is implemented for every function and closure of the shapes below and cannot be
/// implemented for other types; a tool called some other way is built with
/// [`FunctionTool::raw`] or `#[function_tool]`.
///
/// Implemented for functions and closures of four shapes, each returning a future that is
/// `Send + 'static` and whose output implements [`IntoToolOutput`]:
///
/// | shape | schema |
/// |---|---|
/// | `async fn()` | no parameters |
/// | `async fn(RunContext)` | no parameters |
/// | `async fn(Args)` | the fields of `Args` |
/// | `async fn(RunContext, Args)` | the fields of `Args` |
///
/// `Args` is a struct deriving `Deserialize` and `JsonSchema`; its field doc comments become the
/// parameter descriptions and `Option` fields are optional. `M` is inferred; it only tells the
/// shapes apart.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a valid function tool",
    label = "not a valid function tool",
    note = "a function tool is an `async fn` (or a closure returning a `Send + 'static` future) \
            taking `()`, `(RunContext)`, `(Args)` or `(RunContext, Args)`, where `Args` is a \
            struct deriving `Deserialize` and `JsonSchema`",
    note = "its output must implement `IntoToolOutput`: `()`, text, numbers, `ToolOutput`, \
            `Json<T>`, or `Result<T, E>` with `E: Into<ToolError>`"
)]
pub trait ToolHandler<M>: sealed::Sealed<M> + Send + Sync + Sized + 'static {
    /// The arguments type the model's JSON is deserialized into.
    #[doc(hidden)]
    type Args: DeserializeOwned + JsonSchema + Send + 'static;

    /// Calls the handler.
    #[doc(hidden)]
    fn call(&self, ctx: RunContext, args: Self::Args) -> ToolFuture;

    /// Whether the handler takes arguments (its schema is that of `Args`).
    #[doc(hidden)]
    fn takes_arguments() -> bool;
}

/// The arguments of a tool without parameters: any JSON object, contents ignored.
#[doc(hidden)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(crate = "serde")]
pub struct NoArguments {}

impl<F, Fut> sealed::Sealed<shape::NoArgs> for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoToolOutput,
{
}

impl<F, Fut> ToolHandler<shape::NoArgs> for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoToolOutput,
{
    type Args = NoArguments;
    fn call(&self, _ctx: RunContext, _args: NoArguments) -> ToolFuture {
        let future = self();
        async move { future.await.into_tool_output() }.boxed()
    }
    fn takes_arguments() -> bool {
        false
    }
}

impl<F, Fut> sealed::Sealed<shape::Context> for F
where
    F: Fn(RunContext) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoToolOutput,
{
}

impl<F, Fut> ToolHandler<shape::Context> for F
where
    F: Fn(RunContext) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoToolOutput,
{
    type Args = NoArguments;
    fn call(&self, ctx: RunContext, _args: NoArguments) -> ToolFuture {
        let future = self(ctx);
        async move { future.await.into_tool_output() }.boxed()
    }
    fn takes_arguments() -> bool {
        false
    }
}

impl<F, Fut, A> sealed::Sealed<shape::Args<A>> for F
where
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoToolOutput,
    A: DeserializeOwned + JsonSchema + Send + 'static,
{
}

impl<F, Fut, A> ToolHandler<shape::Args<A>> for F
where
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoToolOutput,
    A: DeserializeOwned + JsonSchema + Send + 'static,
{
    type Args = A;
    fn call(&self, _ctx: RunContext, args: A) -> ToolFuture {
        let future = self(args);
        async move { future.await.into_tool_output() }.boxed()
    }
    fn takes_arguments() -> bool {
        true
    }
}

impl<F, Fut, A> sealed::Sealed<shape::ContextArgs<A>> for F
where
    F: Fn(RunContext, A) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoToolOutput,
    A: DeserializeOwned + JsonSchema + Send + 'static,
{
}

impl<F, Fut, A> ToolHandler<shape::ContextArgs<A>> for F
where
    F: Fn(RunContext, A) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoToolOutput,
    A: DeserializeOwned + JsonSchema + Send + 'static,
{
    type Args = A;
    fn call(&self, ctx: RunContext, args: A) -> ToolFuture {
        let future = self(ctx, args);
        async move { future.await.into_tool_output() }.boxed()
    }
    fn takes_arguments() -> bool {
        true
    }
}

/// Wraps an async function or closure as a function tool (Python's
/// `function_tool(f, name=..., description=...)`).
///
/// `handler` takes `()`, `(RunContext)`, `(Args)` or `(RunContext, Args)` — see
/// [`ToolHandler`]. The name must match `^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$`; the description
/// must not be empty (as `#[function_tool]` requires one); `Args` must be a struct. The
/// parameters schema is computed here, once.
///
/// ```
/// use agents_core::prelude::*;
///
/// async fn random_number() -> i64 {
///     4 // chosen by fair dice roll
/// }
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Greeting {
///     /// Who to greet.
///     name: String,
/// }
///
/// let tools = vec![
///     function_tool(random_number, "random_number", "Get a random number")?,
///     function_tool(
///         |ctx: RunContext, args: Greeting| async move {
///             format!("Hello, {} (call {})", args.name, ctx.function_call().call_id)
///         },
///         "greet",
///         "Greet someone by name.",
///     )?,
/// ];
/// assert_eq!(tools[1].parameters()["required"], serde_json::json!(["name"]));
/// # Ok::<(), agents_core::llm::ToolDefinitionError>(())
/// ```
pub fn function_tool<H, M>(
    handler: H,
    name: impl Into<String>,
    description: impl Into<String>,
) -> Result<FunctionTool, ToolDefinitionError>
where
    H: ToolHandler<M>,
{
    let name = name.into();
    validate_tool_name(&name)?;
    let description = description.into();
    if description.trim().is_empty() {
        return Err(ToolDefinitionError::EmptyDescription { tool: name });
    }
    let parameters = if H::takes_arguments() {
        schema::parameters_schema::<H::Args>()
    } else {
        empty_parameters_schema()
    };
    if !is_object_schema(&parameters) {
        return Err(ToolDefinitionError::ArgumentsNotAnObject {
            tool: name,
            found: parameters.to_string(),
        });
    }
    let erased: Arc<ErasedHandler> = Arc::new(move |ctx, args: ToolArguments<'_>| {
        Ok(handler.call(ctx, args.deserialize::<H::Args>()?))
    });
    Ok(FunctionTool::from_parts(
        name,
        description,
        format!("function `{}`", std::any::type_name::<H>()),
        ToolKind::Function,
        parameters,
        erased,
    ))
}

/// Builds a method or function tool for `#[function_tool]`; the macro has validated the name.
///
/// `required` names optional arguments marked `#[arg(required)]`: they are listed as required
/// and stay nullable.
pub(crate) fn macro_tool<A, F, Fut>(
    name: &'static str,
    description: &'static str,
    origin: &'static str,
    required: &'static [&'static str],
    handler: F,
) -> FunctionTool
where
    A: DeserializeOwned + JsonSchema + Send + 'static,
    F: Fn(RunContext, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<super::ToolOutput, super::ToolError>> + Send + 'static,
{
    let mut parameters = schema::parameters_schema::<A>();
    if !required.is_empty() {
        schema::require(&mut parameters, required);
    }
    let erased: Arc<ErasedHandler> = Arc::new(move |ctx, args: ToolArguments<'_>| {
        Ok(handler(ctx, args.deserialize::<A>()?).boxed())
    });
    FunctionTool::from_parts(
        name.to_owned(),
        description.to_owned(),
        origin.to_owned(),
        ToolKind::Function,
        parameters,
        erased,
    )
}
