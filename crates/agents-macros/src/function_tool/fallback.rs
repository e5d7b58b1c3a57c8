//! The fallback expansion of a tool with errors: a constructor with the right signature, so
//! that its callers (`my_tool_tool()`, `function_tools()`) still compile and the errors already
//! reported are the only ones. It never runs: the crate does not compile.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use super::Site;
use super::ast::Tool;
use crate::paths::Root;

/// A constructor that stands in for the one an invalid tool cannot have.
pub(super) fn constructor(
    tool: &Tool,
    site: &Site<'_>,
    root: &Root,
    constructor_name: &Ident,
) -> TokenStream {
    let root_path = &root.path;
    let (vis, this_param, unused_this) = match site {
        Site::Impl { .. } => {
            (quote!(), quote!(__lk_this: ::std::sync::Arc<Self>), quote!(let _ = __lk_this;))
        }
        Site::Free => {
            let vis = &tool.item.vis;
            (quote!(#vis), quote!(), quote!())
        }
    };
    quote! {
        #[doc(hidden)]
        #[allow(dead_code, unreachable_code, clippy::panic, clippy::needless_pass_by_value)]
        #vis fn #constructor_name(#this_param) -> #root_path::__private::FunctionTool {
            #unused_this
            ::core::unreachable!("this function tool has compile errors")
        }
    }
}
