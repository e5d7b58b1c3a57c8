//! `#[derive(Agent)]`: an agent type's instructions, tools and hooks.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{DeriveInput, Expr, LitStr};

use crate::paths::Root;

#[derive(Default)]
struct AgentOptions {
    instructions: Option<Expr>,
    id: Option<LitStr>,
    krate: Option<syn::Path>,
}

fn parse_options(input: &DeriveInput) -> syn::Result<AgentOptions> {
    let mut options = AgentOptions::default();
    for attr in input.attrs.iter().filter(|attr| attr.path().is_ident("agent")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("instructions") {
                if options.instructions.is_some() {
                    return Err(meta.error("`instructions` is given twice"));
                }
                options.instructions = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("id") {
                if options.id.is_some() {
                    return Err(meta.error("`id` is given twice"));
                }
                options.id = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("crate") {
                if options.krate.is_some() {
                    return Err(meta.error("`crate` is given twice"));
                }
                let path: LitStr = meta.value()?.parse()?;
                options.krate = Some(path.parse()?);
            } else {
                return Err(meta.error(
                    "unknown option; `#[agent]` takes `instructions = ...`, `id = \"...\"` and \
                     `crate = \"...\"`",
                ));
            }
            Ok(())
        })?;
    }
    Ok(options)
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    match try_expand(&input) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

fn try_expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let options = parse_options(input)?;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "`#[derive(Agent)]` supports types without generic parameters; for a generic agent \
             type, implement `AgentDefinition` by hand",
        ));
    }
    let Some(instructions) = options.instructions else {
        return Err(syn::Error::new(
            input.ident.span(),
            "`#[derive(Agent)]` needs the agent's instructions: add \
             `#[agent(instructions = \"You are a helpful assistant.\")]`",
        ));
    };
    let root = Root::resolve(options.krate.as_ref(), input.ident.span())?.path;
    let ident = &input.ident;
    let id = options.id.map(|id| {
        quote! {
            fn id(&self) -> ::std::string::String {
                ::std::string::String::from(#id)
            }
        }
    });
    Ok(quote! {
        impl #root::voice::AgentDefinition for #ident {
            #id

            fn instructions(&self) -> ::std::string::String {
                ::core::convert::Into::into(#instructions)
            }

            fn tools(
                self: &::std::sync::Arc<Self>,
            ) -> ::std::vec::Vec<#root::llm::FunctionTool> {
                // `function_tools()` from `#[function_tools]`, when the type has one; an
                // inherent method wins over this fallback trait.
                #[allow(unused_imports)]
                use #root::__private::NoFunctionTools as _;
                self.function_tools()
            }

            fn hooks(
                self: &::std::sync::Arc<Self>,
            ) -> ::std::sync::Arc<dyn #root::voice::AgentHooks> {
                // The type's `AgentHooks` impl, when it has one; no hooks otherwise.
                #[allow(unused_imports)]
                use #root::__private::{ViaAgentHooks as _, ViaNoHooks as _};
                #[allow(clippy::needless_borrow)]
                let hooks = (&#root::__private::HooksProbe(::std::sync::Arc::clone(self))).__hooks();
                hooks
            }
        }
    })
}
