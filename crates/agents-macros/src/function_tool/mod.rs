//! One function tool — a method collected by `#[function_tools]`, or a free `async fn` — in
//! four stages: [`parse`] the item into a typed [`ast::Tool`], [`validate`] it, then
//! [`expand`] it into its constructor, or, when any stage found an error, emit the
//! [`fallback`] constructor, so that the errors are the only ones the user sees.

mod ast;
mod expand;
mod fallback;
mod parse;
mod validate;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Attribute, Generics, Ident, Signature, Type, Visibility};

use crate::errors::Errors;
use crate::options::ToolOptions;
use crate::paths::Root;

/// Where the function stands.
pub(crate) enum Site<'a> {
    /// A free function (or an associated function outside `#[function_tools]`).
    Free,
    /// A method or associated function inside a `#[function_tools]` impl block.
    Impl { generics: &'a Generics, self_ty: &'a Type, root: &'a Root },
}

impl Site<'_> {
    fn in_impl(&self) -> bool {
        matches!(self, Self::Impl { .. })
    }
}

/// The parts of a function item, free or in an impl block.
pub(crate) struct ToolFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    /// Everything between the visibility and the signature (e.g. `default`), then the body.
    pub(crate) prefix: TokenStream,
    pub(crate) body: TokenStream,
}

impl ToolFn {
    /// The function as written, minus the parameter attributes this macro consumes.
    ///
    /// `clippy::unused_async` is allowed: a tool must be `async` even when it awaits nothing.
    pub(crate) fn to_tokens(&self) -> TokenStream {
        let Self { attrs, vis, sig, prefix, body } = self;
        quote!(#(#attrs)* #[allow(clippy::unused_async)] #vis #prefix #sig #body)
    }
}

/// The result of expanding one tool.
pub(crate) struct Expansion {
    /// The user's function, cleaned of parameter attributes.
    pub(crate) function: TokenStream,
    /// The constructor: generated when the tool had no error, a fallback otherwise (none when
    /// the path of `agents-core` is unknown).
    pub(crate) constructor: Option<TokenStream>,
    /// The name of the constructor.
    pub(crate) constructor_name: Ident,
    /// The tool's name, and the token it comes from (the `name = "..."` literal or the fn name).
    pub(crate) name: (String, Span),
    /// Every error found.
    pub(crate) errors: Errors,
}

/// Expands one tool. Never fails: errors are returned beside a fallback expansion.
pub(crate) fn expand(options: ToolOptions, item: ToolFn, site: Site<'_>) -> Expansion {
    let mut errors = Errors::default();
    let tool = parse::tool(options, item, &mut errors);
    validate::tool(&tool, &site, &mut errors);
    let root = match &site {
        Site::Impl { root, .. } => Some((*root).clone()),
        Site::Free => errors.ok(Root::resolve(tool.krate.as_ref(), tool.ident.span())),
    };
    let constructor_name = if site.in_impl() {
        format_ident!("__function_tool_{}", tool.plain_name)
    } else {
        format_ident!("{}_tool", tool.plain_name, span = tool.ident.span())
    };
    let constructor = root.map(|root| match (&tool.description, errors.is_empty()) {
        (Some(description), true) => {
            expand::constructor(&tool, description, &site, &root, &constructor_name)
        }
        _ => fallback::constructor(&tool, &site, &root, &constructor_name),
    });
    Expansion {
        function: tool.item.to_tokens(),
        constructor,
        constructor_name,
        name: (tool.name.clone(), tool.name_span),
        errors,
    }
}
