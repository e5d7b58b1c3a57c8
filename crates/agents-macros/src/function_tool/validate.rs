//! Validation: every rule a function tool must follow, each broken rule a spanned error on
//! the offending token that says what to do.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::Ident;
use syn::spanned::Spanned;

use super::Site;
use super::ast::{ReceiverKind, Tool};
use crate::errors::Errors;

/// Records every rule `tool` breaks.
pub(super) fn tool(tool: &Tool, site: &Site<'_>, errors: &mut Errors) {
    signature(tool, errors);
    receiver(tool, site, errors);
    contexts(tool, errors);
    arguments(tool, site, errors);
    name_and_description(tool, errors);
}

fn signature(tool: &Tool, errors: &mut Errors) {
    let sig = &tool.item.sig;
    if sig.asyncness.is_none() {
        errors.at(
            sig.fn_token.span(),
            "a function tool must be an `async fn` (the session awaits each call): add `async`",
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.at(
            unsafety.span,
            "a function tool cannot be `unsafe`: the model calls it with any arguments; keep \
             the `unsafe` block inside a safe `async fn`",
        );
    }
    if let Some(param) = sig.generics.params.first() {
        errors.at(
            param.span(),
            "a function tool cannot be generic: its arguments are deserialized from the model's \
             JSON, so their types must be concrete",
        );
    }
}

fn receiver(tool: &Tool, site: &Site<'_>, errors: &mut Errors) {
    let Some(receiver) = &tool.receiver else { return };
    match receiver.kind {
        ReceiverKind::Shared => {}
        ReceiverKind::Mutable => errors.at(
            receiver.span,
            "a tool method takes `&self`, not `&mut self`: calls may run concurrently; keep \
             mutable state behind a `Mutex` or an atomic",
        ),
        ReceiverKind::Other => errors.at(
            receiver.span,
            "a tool method takes `&self`: the value is shared (in an `Arc`) between concurrent \
             calls, so it cannot be taken by value",
        ),
    }
    if !site.in_impl() {
        errors.at(
            tool.ident.span(),
            "`#[function_tool]` on a method needs `#[function_tools]` on its `impl` block, which \
             collects the tools into `function_tools()`",
        );
    }
}

fn contexts(tool: &Tool, errors: &mut Errors) {
    for (index, context) in tool.contexts.iter().enumerate() {
        if let Some(span) = context.by_ref {
            errors.at(
                span,
                "a function tool takes `RunContext` by value (it is an `Arc` inside, cheap to \
                 clone): write `ctx: RunContext`",
            );
        }
        if index > 0 {
            errors.at(
                context.ty_span,
                format!(
                    "a function tool takes at most one `RunContext` parameter, and `{}` already \
                     is one; remove this one",
                    tool.contexts[0].pattern
                ),
            );
        }
        if let Some(span) = context.arg_attr {
            errors.at(span, "`RunContext` is not an argument of the tool; it takes no `#[arg]`");
        }
        for attr in &context.field_attrs {
            errors.at(
                attr.path().span(),
                format!(
                    "`RunContext` is not an argument of the tool; it takes no `#[{}]`",
                    attr.path().to_token_stream()
                ),
            );
        }
    }
}

fn arguments(tool: &Tool, site: &Site<'_>, errors: &mut Errors) {
    let generic_names: Vec<Ident> = match site {
        Site::Impl { generics, .. } => generics
            .params
            .iter()
            .filter_map(|param| match param {
                syn::GenericParam::Type(ty) => Some(ty.ident.clone()),
                syn::GenericParam::Const(konst) => Some(konst.ident.clone()),
                syn::GenericParam::Lifetime(_) => None,
            })
            .collect(),
        Site::Free => Vec::new(),
    };
    for param in &tool.params {
        if let Err(span) = &param.ident {
            errors.at(
                *span,
                "unsupported parameter pattern: a tool argument is a plain name with a type, \
                 such as `location: String` (the name is the JSON property the model fills)",
            );
        }
        if let Some((span, token)) = forbidden_token(param.ty.to_token_stream(), &generic_names) {
            let message = match token.as_str() {
                "&" => "tool argument types must be owned (`String`, not `&str`): they are \
                        deserialized from the model's JSON"
                    .to_owned(),
                "impl" => "tool argument types must be concrete, not `impl Trait`: they are \
                           deserialized from the model's JSON"
                    .to_owned(),
                lifetime if lifetime.starts_with('\'') => format!(
                    "tool argument types must be owned, without the lifetime `{lifetime}`: they \
                     are deserialized from the model's JSON"
                ),
                other => format!(
                    "tool argument types cannot mention `{other}`: the arguments struct is \
                     generated outside the impl's generics; use a concrete type"
                ),
            };
            errors.at(span, message);
        }
    }
}

fn name_and_description(tool: &Tool, errors: &mut Errors) {
    if tool.options_incomplete {
        // The options did not parse: the name and description may have been among them.
        return;
    }
    if let Err(reason) = check_name(&tool.name) {
        errors.at(
            tool.name_span,
            format!(
                "invalid function tool name `{}`: {reason}; a tool name must match \
                 ^[a-zA-Z_][a-zA-Z0-9_-]{{0,63}}$",
                tool.name
            ),
        );
    }
    if let Some(span) = tool.empty_description {
        errors.at(
            span,
            "a function tool's description cannot be empty: it tells the model when to call \
             the tool; say what the tool does",
        );
    } else if tool.description.is_none() {
        errors.at(
            tool.ident.span(),
            "a function tool needs a description, which tells the model when to call it: add a \
             doc comment (`/// What the tool does.`) or `#[function_tool(description = \"...\")]`",
        );
    }
}

/// Checks a tool name against `^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$`; `Err` says what is wrong.
fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Err("it is empty".to_owned()),
        Some(first) if !(first.is_ascii_alphabetic() || first == '_') => {
            return Err(format!("it starts with `{first}`"));
        }
        Some(_) => {}
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
        return Err(format!("it contains `{bad}`"));
    }
    if name.len() > 64 {
        return Err(format!("it is {} characters long (at most 64)", name.len()));
    }
    Ok(())
}

/// The first token of `tokens` that is `&`, a lifetime other than `'static`, `impl`, `Self` or
/// one of `generic_names`.
fn forbidden_token(tokens: TokenStream, generic_names: &[Ident]) -> Option<(Span, String)> {
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Group(group) => {
                if let Some(found) = forbidden_token(group.stream(), generic_names) {
                    return Some(found);
                }
            }
            TokenTree::Punct(punct) if punct.as_char() == '&' => {
                return Some((punct.span(), "&".to_owned()));
            }
            TokenTree::Punct(punct) if punct.as_char() == '\'' => {
                if let Some(TokenTree::Ident(name)) = tokens.next()
                    && name != "static"
                {
                    return Some((punct.span(), format!("'{name}")));
                }
            }
            TokenTree::Ident(ident)
                if ident == "impl" || ident == "Self" || generic_names.contains(&ident) =>
            {
                return Some((ident.span(), ident.to_string()));
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::Type;

    #[test]
    fn tool_names() {
        for name in ["get_weather", "_private", "a", "kebab-case", "x9", &"n".repeat(64)] {
            assert_eq!(check_name(name), Ok(()), "{name}");
        }
        assert_eq!(check_name(""), Err("it is empty".to_owned()));
        assert_eq!(check_name("9lives"), Err("it starts with `9`".to_owned()));
        assert_eq!(check_name("-x"), Err("it starts with `-`".to_owned()));
        assert_eq!(check_name("get weather"), Err("it contains ` `".to_owned()));
        assert_eq!(check_name("café"), Err("it contains `é`".to_owned()));
        assert_eq!(
            check_name(&"n".repeat(65)),
            Err("it is 65 characters long (at most 64)".to_owned())
        );
    }

    fn forbidden(ty: Type, generics: &[&str]) -> Option<String> {
        let generics: Vec<Ident> =
            generics.iter().map(|name| Ident::new(name, Span::call_site())).collect();
        forbidden_token(ty.to_token_stream(), &generics).map(|(_, token)| token)
    }

    #[test]
    fn forbidden_argument_types() {
        assert_eq!(forbidden(syn::parse_quote!(Vec<Option<String>>), &["S"]), None);
        assert_eq!(forbidden(syn::parse_quote!(Cow<'static, str>), &[]), None);
        assert_eq!(forbidden(syn::parse_quote!(&str), &[]).as_deref(), Some("&"));
        assert_eq!(forbidden(syn::parse_quote!(Cow<'a, str>), &[]).as_deref(), Some("'a"));
        assert_eq!(forbidden(syn::parse_quote!(impl Into<String>), &[]).as_deref(), Some("impl"));
        assert_eq!(forbidden(syn::parse_quote!(Vec<Self>), &[]).as_deref(), Some("Self"));
        assert_eq!(forbidden(syn::parse_quote!([(u8, S); 2]), &["S"]).as_deref(), Some("S"));
        assert_eq!(forbidden(syn::parse_quote!(Store), &["S"]), None);
    }
}
