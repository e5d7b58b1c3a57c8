//! `#[derive(Agent)]`: an agent type's instructions, tools and hooks.
//!
//! Parse the `#[agent(...)]` options (every error collected, each unknown key named), validate
//! the type, then generate the `AgentDefinition` impl, or, when there were errors, a fallback
//! impl, so that the type still has `into_agent()` and a mistake in the attribute is the only
//! error the user sees.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{DeriveInput, Expr, Lit, LitStr, Meta, Token};

use crate::errors::Errors;
use crate::paths::Root;

/// The options of `#[agent(...)]`.
#[derive(Default)]
struct AgentOptions {
    instructions: Option<Expr>,
    id: Option<LitStr>,
    krate: Option<syn::Path>,
    /// An attribute did not parse: `instructions` may have been in it.
    incomplete: bool,
}

const KEYS: &str = "`#[agent]` takes `instructions = ...`, `id = \"...\"` and `crate = \"...\"`";
const KNOWN: [&str; 3] = ["instructions", "id", "crate"];

/// The error for an unknown key: its name, the nearest known key if it looks like a typo of
/// one, and the keys there are.
fn unknown(key: &str) -> String {
    let suggestion = KNOWN
        .iter()
        .map(|known| (edit_distance(key, known), known))
        .filter(|(distance, known)| *distance <= known.len() / 3)
        .min()
        .map(|(_, known)| format!(" (did you mean `{known}`?)"))
        .unwrap_or_default();
    format!("unknown option `{key}`{suggestion}; {KEYS}")
}

/// The Levenshtein distance between `a` and `b`, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The key of an option, as written.
fn key(meta: &Meta) -> String {
    let path = meta.path();
    path.get_ident()
        .map_or_else(|| path.to_token_stream().to_string().replace(' ', ""), ToString::to_string)
}

/// A string literal value, or an error at `meta` saying which option wanted one.
fn string_value(meta: &syn::MetaNameValue, key: &str) -> syn::Result<LitStr> {
    match &meta.value {
        Expr::Lit(syn::ExprLit { lit: Lit::Str(text), .. }) => Ok(text.clone()),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{key}` takes a string literal: `{key} = \"...\"`"),
        )),
    }
}

fn parse_options(input: &DeriveInput, errors: &mut Errors) -> AgentOptions {
    let mut options = AgentOptions::default();
    for attr in input.attrs.iter().filter(|attr| attr.path().is_ident("agent")) {
        let list = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated);
        let Some(list) = errors.ok(list) else {
            options.incomplete = true;
            continue;
        };
        for meta in list {
            let key = key(&meta);
            let Meta::NameValue(name_value) = &meta else {
                let message = if KNOWN.contains(&key.as_str()) {
                    format!("`{key}` takes a value: `{key} = ...`")
                } else {
                    unknown(&key)
                };
                errors.at(meta.path().span(), message);
                options.incomplete = true;
                continue;
            };
            let twice = |errors: &mut Errors| {
                errors.at(meta.path().span(), format!("`{key}` is given twice"));
            };
            match key.as_str() {
                "instructions" if options.instructions.is_some() => twice(errors),
                "instructions" => options.instructions = Some(name_value.value.clone()),
                "id" if options.id.is_some() => twice(errors),
                "id" => options.id = errors.ok(string_value(name_value, "id")),
                "crate" if options.krate.is_some() => twice(errors),
                "crate" => {
                    let path = string_value(name_value, "crate").and_then(|text| text.parse());
                    options.krate = errors.ok(path);
                }
                _ => {
                    errors.at(meta.path().span(), unknown(&key));
                    // A misspelled `instructions` is reported once, as unknown.
                    options.incomplete = true;
                }
            }
        }
    }
    options
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    let options = parse_options(&input, &mut errors);
    let generic = !input.generics.params.is_empty();
    if generic {
        errors.at(
            input.generics.span(),
            "`#[derive(Agent)]` supports types without generic parameters; for a generic agent \
             type, implement `AgentDefinition` by hand",
        );
    }
    if options.instructions.is_none() && !options.incomplete {
        errors.at(
            input.ident.span(),
            "`#[derive(Agent)]` needs the agent's instructions: add \
             `#[agent(instructions = \"You are a helpful assistant.\")]`",
        );
    }
    let root = errors.ok(Root::resolve(options.krate.as_ref(), input.ident.span()));
    let implementation = match (&root, &options.instructions, errors.is_empty()) {
        (Some(root), Some(instructions), true) => {
            definition(&input, root, instructions, options.id.as_ref())
        }
        // A generic type gets no impl: the fallback's would not have the bounds it needs.
        (Some(root), _, false) if !generic => fallback(&input, root),
        _ => TokenStream::new(),
    };
    let errors = errors.to_compile_errors();
    quote!(#errors #implementation)
}

/// The `AgentDefinition` impl of a valid agent type.
fn definition(
    input: &DeriveInput,
    root: &Root,
    instructions: &Expr,
    id: Option<&LitStr>,
) -> TokenStream {
    let root = &root.path;
    let ident = &input.ident;
    let id = id.map(|id| {
        quote! {
            fn id(&self) -> ::std::string::String {
                ::std::string::String::from(#id)
            }
        }
    });
    quote! {
        impl #root::__private::AgentDefinition for #ident {
            #id

            fn instructions(&self) -> ::std::string::String {
                ::core::convert::Into::into(#instructions)
            }

            fn tools(
                self: &::std::sync::Arc<Self>,
            ) -> ::std::vec::Vec<#root::__private::FunctionTool> {
                // `function_tools()` from `#[function_tools]`, when the type has one; an
                // inherent method wins over this fallback trait.
                #[allow(unused_imports)]
                use #root::__private::NoFunctionTools as _;
                self.function_tools()
            }

            fn hooks(
                self: &::std::sync::Arc<Self>,
            ) -> ::std::sync::Arc<dyn #root::__private::AgentHooks> {
                // The type's `AgentHooks` impl, when it has one; no hooks otherwise.
                #[allow(unused_imports)]
                use #root::__private::{ViaAgentHooks as _, ViaNoHooks as _};
                #[allow(clippy::needless_borrow)]
                let hooks = (&#root::__private::HooksProbe(::std::sync::Arc::clone(self))).__hooks();
                hooks
            }
        }
    }
}

/// The impl that stands in for the real one while the derive has errors, so that
/// `into_agent()` and the other trait methods still resolve at the call sites. It never runs:
/// the crate does not compile.
fn fallback(input: &DeriveInput, root: &Root) -> TokenStream {
    let root = &root.path;
    let ident = &input.ident;
    let span = Span::call_site();
    quote::quote_spanned! {span=>
        #[allow(unreachable_code, clippy::panic)]
        impl #root::__private::AgentDefinition for #ident {
            fn instructions(&self) -> ::std::string::String {
                ::core::unreachable!("`#[derive(Agent)]` has compile errors")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named_with_a_suggestion() {
        assert_eq!(edit_distance("instruction", "instructions"), 1);
        assert_eq!(edit_distance("", "id"), 2);
        assert_eq!(edit_distance("crate", "crate"), 0);
        assert!(unknown("instruction").starts_with(
            "unknown option `instruction` (did you mean `instructions`?); `#[agent]` takes"
        ));
        assert!(unknown("voice").starts_with("unknown option `voice`; `#[agent]` takes"));
        assert!(!unknown("ids").contains("did you mean"), "too short to guess: {}", unknown("ids"));
    }

    #[test]
    fn every_error_is_collected_and_a_fallback_impl_emitted() {
        let input: TokenStream = quote! {
            #[agent(instruction = "Be helpful.", voice = "alloy", id = 7)]
            struct Assistant;
        };
        let output = expand(input).to_string();
        assert_eq!(output.matches("compile_error").count(), 3, "{output}");
        assert!(output.contains("unknown option `instruction`"), "{output}");
        assert!(output.contains("unknown option `voice`"), "{output}");
        assert!(output.contains("`id` takes a string literal"), "{output}");
        assert!(!output.contains("needs the agent's instructions"), "{output}");
        assert!(output.contains("AgentDefinition for Assistant"), "{output}");
        assert!(output.contains("unreachable"), "{output}");
    }
}
