//! The typed form of one function tool, as parsed and before validation.

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Expr, Ident, LitStr, Type};

use super::ToolFn;
use crate::docs::Doc;

/// One function tool.
pub(super) struct Tool {
    /// The function, cleaned of the parameter attributes this macro consumes.
    pub(super) item: ToolFn,
    /// The function's name.
    pub(super) ident: Ident,
    /// The function's name without `r#`.
    pub(super) plain_name: String,
    /// The tool's name: `name = "..."`, else the function's name.
    pub(super) name: String,
    /// Where the name comes from: the `name = "..."` literal, else the function's name.
    pub(super) name_span: Span,
    /// The tool's description, when it has a non-empty one.
    pub(super) description: Option<Description>,
    /// `description = ""` (or only blanks), which is refused.
    pub(super) empty_description: Option<Span>,
    /// `crate = "..."`.
    pub(super) krate: Option<syn::Path>,
    /// The options did not parse (an error was reported): the name or description may have
    /// been among them, so their absence is not an error of its own.
    pub(super) options_incomplete: bool,
    /// The `self` parameter, if any.
    pub(super) receiver: Option<Receiver>,
    /// The `RunContext` parameters (one at most is valid).
    pub(super) contexts: Vec<Context>,
    /// The arguments the model fills.
    pub(super) params: Vec<Param>,
    /// The function's parameters after `self`, in order.
    pub(super) call_args: Vec<CallArg>,
}

/// A tool's description.
pub(super) enum Description {
    /// `#[function_tool(description = "...")]`.
    Explicit(LitStr),
    /// The doc comment.
    Doc(Doc),
}

/// How a method takes `self`.
pub(super) struct Receiver {
    pub(super) kind: ReceiverKind,
    /// The token to report an error on.
    pub(super) span: Span,
}

pub(super) enum ReceiverKind {
    /// `&self`: the only valid form.
    Shared,
    /// `&mut self`.
    Mutable,
    /// `self`, `mut self` or `self: Type`.
    Other,
}

/// A `RunContext` parameter.
pub(super) struct Context {
    /// The parameter's pattern, as written.
    pub(super) pattern: String,
    pub(super) ty_span: Span,
    /// The `&` of `&RunContext`.
    pub(super) by_ref: Option<Span>,
    /// An `#[arg(...)]` on it.
    pub(super) arg_attr: Option<Span>,
    /// `#[serde(...)]` / `#[schemars(...)]` on it.
    pub(super) field_attrs: Vec<Attribute>,
}

/// An argument of the tool: a field of the generated arguments struct.
pub(super) struct Param {
    /// The parameter's name, or the span of a pattern that is not a plain name.
    pub(super) ident: Result<Ident, Span>,
    pub(super) ty: Type,
    pub(super) description: Option<TokenStream>,
    /// `#[arg(default = ...)]`.
    pub(super) default: Option<Expr>,
    /// `#[arg(required)]`: required although optional.
    pub(super) required: bool,
    /// `#[serde(...)]` and `#[schemars(...)]` attributes, moved onto the arguments field.
    pub(super) field_attrs: Vec<Attribute>,
}

/// A parameter of the function after `self`.
pub(super) enum CallArg {
    Context,
    /// The index of the argument in [`Tool::params`].
    Param(usize),
}
