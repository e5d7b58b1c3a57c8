#![doc = include_str!("../README.md")]

mod agent_derive;
mod docs;
mod errors;
mod function_tool;
mod function_tools;
mod options;
mod paths;

use proc_macro::TokenStream;
use quote::quote;

use crate::errors::Errors;

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
    let mut errors = Errors::default();
    let options = errors
        .ok(options::ToolOptions::parse(attr))
        .unwrap_or_else(options::ToolOptions::incomplete);
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
    errors.append(expansion.errors);
    let errors = errors.to_compile_errors();
    let function = expansion.function;
    let constructor = expansion.constructor;
    quote!(#errors #function #constructor)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// Every path into `agents-core` in `tokens`, past the crate name: `__private` must be the
    /// only door.
    fn paths_into_agents_core(tokens: &proc_macro2::TokenStream) -> Vec<String> {
        let text = tokens.to_string();
        text.split("agents_core ::")
            .skip(1)
            .map(|rest| rest.split_whitespace().next().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn generated_code_reaches_agents_core_only_through_private() {
        let free = super::free_function(
            quote!(),
            quote! {
                /// Plot a point.
                async fn plot(ctx: RunContext, x: i64) -> Result<String, ToolError> {
                    Ok(x.to_string())
                }
            },
        );
        let methods = crate::function_tools::expand(
            quote!(),
            quote! {
                impl Shop {
                    /// Check the stock.
                    #[function_tool]
                    async fn in_stock(&self, item: String) -> bool { true }
                    /// Broken: no `async`.
                    #[function_tool]
                    fn broken(&self) {}
                }
            },
        );
        let agent = crate::agent_derive::expand(quote! {
            #[agent(instructions = "Be helpful.")]
            struct Shop;
        });
        let broken_agent = crate::agent_derive::expand(quote! {
            #[agent(instruction = "Be helpful.")]
            struct Shop;
        });
        for tokens in [free, methods, agent, broken_agent] {
            let paths = paths_into_agents_core(&tokens);
            assert!(!paths.is_empty(), "{tokens}");
            assert!(paths.iter().all(|path| path == "__private"), "{paths:?} in {tokens}");
        }
    }
}
