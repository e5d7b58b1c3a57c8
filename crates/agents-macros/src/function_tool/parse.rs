//! Parsing: a function item and its options into the typed [`Tool`]. Only malformed
//! attributes are errors here; whether the tool is valid is [`super::validate`]'s business.

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, Pat, Type};

use super::ToolFn;
use super::ast::{CallArg, Context, Description, Param, Receiver, ReceiverKind, Tool};
use crate::docs;
use crate::errors::Errors;
use crate::options::{ArgOptions, ToolOptions};

/// Whether `ty` names `RunContext` (by its last path segment, without generic arguments).
pub(super) fn is_run_context(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "RunContext" && segment.arguments.is_none()),
        Type::Paren(inner) => is_run_context(&inner.elem),
        Type::Group(inner) => is_run_context(&inner.elem),
        _ => false,
    }
}

/// Parses the tool; malformed `#[arg(...)]` attributes are recorded in `errors`.
pub(super) fn tool(options: ToolOptions, mut item: ToolFn, errors: &mut Errors) -> Tool {
    let ident = item.sig.ident.clone();
    let plain_name = ident.to_string().trim_start_matches("r#").to_owned();
    let (name, name_span) = match &options.name {
        Some(literal) => (literal.value(), literal.span()),
        None => (plain_name.clone(), ident.span()),
    };
    let (description, empty_description) = match (&options.description, docs::collect(&item.attrs))
    {
        (Some(text), _) if text.value().trim().is_empty() => (None, Some(text.span())),
        (Some(text), _) => (Some(Description::Explicit(text.clone())), None),
        (None, Some(doc)) if !doc.is_empty() => (Some(Description::Doc(doc)), None),
        _ => (None, None),
    };

    let mut receiver = None;
    let mut contexts = Vec::new();
    let mut params = Vec::new();
    let mut call_args = Vec::new();
    for input in &mut item.sig.inputs {
        match input {
            FnArg::Receiver(this) => {
                let kind = match (&this.reference, &this.mutability, &this.colon_token) {
                    (Some(_), None, None) => ReceiverKind::Shared,
                    (Some(_), Some(_), None) => ReceiverKind::Mutable,
                    _ => ReceiverKind::Other,
                };
                let span = match (&kind, &this.mutability) {
                    (ReceiverKind::Mutable, Some(mutability)) => mutability.span(),
                    _ => this.span(),
                };
                receiver = Some(Receiver { kind, span });
            }
            FnArg::Typed(typed) => {
                let mut arg_options = ArgOptions::default();
                let mut kept = Vec::new();
                let mut doc_attrs = Vec::new();
                let mut field_attrs = Vec::new();
                for attr in typed.attrs.drain(..) {
                    if docs::is_doc(&attr) {
                        doc_attrs.push(attr);
                    } else if attr.path().is_ident("serde") || attr.path().is_ident("schemars") {
                        field_attrs.push(attr);
                    } else if attr.path().is_ident("arg") {
                        errors.ok(arg_options.merge(&attr));
                    } else {
                        kept.push(attr);
                    }
                }
                typed.attrs = kept;

                let by_ref = match &*typed.ty {
                    Type::Reference(reference) if is_run_context(&reference.elem) => {
                        Some(reference.and_token.span)
                    }
                    _ => None,
                };
                if by_ref.is_some() || is_run_context(&typed.ty) {
                    contexts.push(Context {
                        pattern: typed.pat.to_token_stream().to_string(),
                        ty_span: typed.ty.span(),
                        by_ref,
                        arg_attr: arg_options.span,
                        field_attrs,
                    });
                    call_args.push(CallArg::Context);
                    continue;
                }

                let ident = match &*typed.pat {
                    Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                        Ok(pat.ident.clone())
                    }
                    other => Err(other.span()),
                };
                let description = match (&arg_options.description, docs::collect(&doc_attrs)) {
                    (Some(text), _) => Some(text.to_token_stream()),
                    (None, Some(doc)) if !doc.is_empty() => Some(doc.to_tokens()),
                    _ => None,
                };
                call_args.push(CallArg::Param(params.len()));
                params.push(Param {
                    ident,
                    ty: (*typed.ty).clone(),
                    description,
                    default: arg_options.default,
                    required: arg_options.required,
                    field_attrs,
                });
            }
        }
    }

    Tool {
        item,
        ident,
        plain_name,
        name,
        name_span,
        description,
        empty_description,
        krate: options.krate,
        options_incomplete: options.incomplete,
        receiver,
        contexts,
        params,
        call_args,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_context_types() {
        assert!(is_run_context(&syn::parse_quote!(RunContext)));
        assert!(is_run_context(&syn::parse_quote!(agents_core::llm::RunContext)));
        assert!(!is_run_context(&syn::parse_quote!(RunContext<T>)));
        assert!(!is_run_context(&syn::parse_quote!(&RunContext)));
    }
}
