//! Procedural macros of LiveKit Agents for Rust: `#[function_tool]` and `#[function_tools]`.
//!
//! Use them through `agents-core`, which re-exports them (`use agents_core::prelude::*;`).

mod agent_derive;
mod docs;
mod function_tool;
mod function_tools;
mod options;
mod paths;

use proc_macro::TokenStream;
use quote::quote;

#[doc = include_str!("docs/derive_agent.md")]
#[proc_macro_derive(Agent, attributes(agent))]
pub fn derive_agent(input: TokenStream) -> TokenStream {
    agent_derive::expand(input.into()).into()
}

#[doc = include_str!("docs/function_tool.md")]
#[proc_macro_attribute]
pub fn function_tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    free_function(attr.into(), item.into()).into()
}

#[doc = include_str!("docs/function_tools.md")]
#[proc_macro_attribute]
pub fn function_tools(attr: TokenStream, item: TokenStream) -> TokenStream {
    function_tools::expand(attr.into(), item.into()).into()
}

fn free_function(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let mut errors: Option<syn::Error> = None;
    let options = options::ToolOptions::parse(attr).unwrap_or_else(|error| {
        errors = Some(error);
        options::ToolOptions::incomplete()
    });
    let function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new(
                proc_macro2::Span::call_site(),
                "`#[function_tool]` goes on an `async fn`, or on a method inside a \
                 `#[function_tools]` impl block",
            );
            let error = error.to_compile_error();
            return quote!(#error #item);
        }
    };
    let tool_fn = function_tool::ToolFn {
        attrs: function.attrs,
        vis: function.vis,
        sig: function.sig,
        prefix: proc_macro2::TokenStream::new(),
        body: quote::ToTokens::to_token_stream(&function.block),
    };
    let expansion = function_tool::expand(options, tool_fn, function_tool::Site::Free);
    if let Some(error) = expansion.errors {
        match &mut errors {
            Some(existing) => existing.combine(error),
            None => errors = Some(error),
        }
    }
    let errors = errors.map(|error| error.to_compile_error());
    let function = expansion.function;
    let constructor = expansion.constructor;
    quote!(#errors #function #constructor)
}
