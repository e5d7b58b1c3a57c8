//! Code generation for a valid tool: the constructor that builds its `FunctionTool`. Generated
//! code reaches `agents-core` only through its `__private` module, serde and schemars too, so
//! that the calling crate needs neither.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ReturnType, Type};

use super::Site;
use super::ast::{CallArg, Description, Param, Tool};
use crate::paths::Root;

/// The span of the first token of `tokens`: on stable Rust, what `Spanned::span` gives, kept
/// here explicit.
fn first_span<T: ToTokens>(tokens: &T) -> Span {
    tokens.to_token_stream().into_iter().next().map_or_else(Span::call_site, |token| token.span())
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut respanned =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                token = TokenTree::Group(respanned);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// The `T` and `E` of a return type spelled `Result<T, E>` (either may be absent: a
/// `Result<T>` alias, or no arguments at all).
fn result_type_args(ty: &Type) -> (Option<&Type>, Option<&Type>) {
    match ty {
        Type::Path(path) => {
            let Some(segment) = path.path.segments.last() else { return (None, None) };
            let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
                return (None, None);
            };
            let mut types = args.args.iter().filter_map(|arg| match arg {
                syn::GenericArgument::Type(ty) => Some(ty),
                _ => None,
            });
            (types.next(), types.next())
        }
        Type::Paren(inner) => result_type_args(&inner.elem),
        Type::Group(inner) => result_type_args(&inner.elem),
        _ => (None, None),
    }
}

fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => {
            path.path.segments.last().is_some_and(|segment| segment.ident == "Result")
        }
        Type::Paren(inner) => is_result(&inner.elem),
        Type::Group(inner) => is_result(&inner.elem),
        _ => false,
    }
}

/// The constructor of a tool that passed validation: the arguments struct, then the call of
/// `__private::macro_tool` with a handler that destructures the arguments, calls the function
/// and converts what it returns.
pub(super) fn constructor(
    tool: &Tool,
    description: &Description,
    site: &Site<'_>,
    root: &Root,
    constructor_name: &Ident,
) -> TokenStream {
    let Tool { item, name, plain_name, .. } = tool;
    let ident = &item.sig.ident;
    let root_path = &root.path;
    let description = match description {
        Description::Explicit(text) => text.to_token_stream(),
        Description::Doc(doc) => doc.to_tokens(),
    };
    // Validation refused every parameter pattern that is not a plain name.
    let params: Vec<(&Ident, &Param)> =
        tool.params.iter().filter_map(|param| Some((param.ident.as_ref().ok()?, param))).collect();
    let arguments = arguments_struct(&params, root);
    let field_idents: Vec<&Ident> = params.iter().map(|(field, _)| *field).collect();
    let required_names: Vec<String> = params
        .iter()
        .filter(|(_, param)| param.required)
        .map(|(field, _)| field.to_string().trim_start_matches("r#").to_owned())
        .collect();
    let Call { call, this_param, this_clone, unused_this, origin } = call(tool, site);
    let uses_context = tool.call_args.iter().any(|arg| matches!(arg, CallArg::Context));
    let unused_context = (!uses_context).then(|| quote!(let _ = __lk_ctx;));
    let conversion = return_conversion(tool, root_path);

    // Spanned on the user's fn name (the crate path too), so that a `!Send` future is reported
    // on the tool itself.
    let build_root = respan(root_path.clone(), ident.span());
    let build = quote_spanned! {ident.span()=>
        #build_root::__private::macro_tool::<__LkToolArgs, _, _>(
            #name,
            #description,
            #origin,
            &[#(#required_names),*],
            move |__lk_ctx: #build_root::__private::RunContext, __lk_args: __LkToolArgs| {
                #this_clone
                async move {
                    #unused_context
                    let __LkToolArgs { #(#field_idents),* } = __lk_args;
                    let __lk_returned = #call.await;
                    #conversion
                }
            },
        )
    };
    let (vis, doc) = match site {
        Site::Impl { .. } => (quote!(), quote!(#[doc(hidden)])),
        Site::Free => {
            let vis = &item.vis;
            let doc = format!("The function tool of [`{plain_name}`], named `{name}`.");
            (quote!(#vis), quote!(#[doc = #doc]))
        }
    };
    quote! {
        #doc
        #[allow(clippy::too_many_lines, clippy::items_after_statements, non_snake_case)]
        #vis fn #constructor_name(#this_param) -> #root_path::__private::FunctionTool {
            #unused_this
            #arguments
            #build
        }
    }
}

/// `struct __LkToolArgs`, deriving `Deserialize` and `JsonSchema` through `__private`, with the
/// functions that give the `#[arg(default = ...)]` values.
fn arguments_struct(params: &[(&Ident, &Param)], root: &Root) -> TokenStream {
    let root_path = &root.path;
    let serde_crate = format!("{}::__private::serde", root.string);
    let schemars_crate = format!("{}::__private::schemars", root.string);
    let mut defaults = Vec::new();
    let mut fields = Vec::with_capacity(params.len());
    for (field, param) in params {
        let Param { ty, description, default, field_attrs, .. } = param;
        let description = description.as_ref().map(|text| quote!(#[schemars(description = #text)]));
        let default = default.as_ref().map(|expr| {
            let default_fn =
                format_ident!("__lk_default_{}", field.to_string().trim_start_matches("r#"));
            let default_path = default_fn.to_string();
            let value = match expr {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(_), .. }) => {
                    quote_spanned!(expr.span()=> ::core::convert::Into::into(#expr))
                }
                other => quote!(#other),
            };
            defaults.push(quote! {
                fn #default_fn() -> #ty { #value }
            });
            quote!(#[serde(default = #default_path)])
        });
        fields.push(quote! { #description #default #(#field_attrs)* #field: #ty });
    }
    quote! {
        #(#defaults)*
        #[derive(#root_path::__private::serde::Deserialize, #root_path::__private::schemars::JsonSchema)]
        #[serde(crate = #serde_crate)]
        #[schemars(crate = #schemars_crate)]
        struct __LkToolArgs {
            #(#fields,)*
        }
    }
}

/// How the handler reaches the function.
struct Call {
    /// The call expression (not yet awaited).
    call: TokenStream,
    /// The constructor's parameter: the `Arc` of the value, for methods.
    this_param: TokenStream,
    /// What the handler does before each call: clone the `Arc`, or copy the fn item.
    this_clone: TokenStream,
    /// Silences an unused `Arc` in associated functions without `self`.
    unused_this: Option<TokenStream>,
    /// The tool's origin, for error messages: `method `path::Type::name``.
    origin: TokenStream,
}

fn call(tool: &Tool, site: &Site<'_>) -> Call {
    let ident = &tool.item.sig.ident;
    let plain_name = &tool.plain_name;
    let args: Vec<TokenStream> = tool
        .call_args
        .iter()
        .map(|arg| match arg {
            CallArg::Context => quote!(__lk_ctx),
            CallArg::Param(index) => {
                let field = tool.params.get(*index).and_then(|param| param.ident.as_ref().ok());
                quote!(#field)
            }
        })
        .collect();
    let has_receiver = tool.receiver.is_some();
    match site {
        Site::Impl { self_ty, .. } => {
            let type_name = self_ty.to_token_stream().to_string().replace(' ', "");
            Call {
                call: if has_receiver {
                    quote!(__lk_this.#ident(#(#args),*))
                } else {
                    quote!(Self::#ident(#(#args),*))
                },
                this_param: quote!(__lk_this: ::std::sync::Arc<Self>),
                this_clone: quote!(let __lk_this = ::std::sync::Arc::clone(&__lk_this);),
                unused_this: (!has_receiver).then(|| quote!(let _ = &__lk_this;)),
                origin: quote!(::core::concat!(
                    "method `", ::core::module_path!(), "::", #type_name, "::", #plain_name, "`"
                )),
            }
        }
        // Called through a copy of the fn item taken before the arguments are bound, so that
        // an argument named like the function does not shadow it.
        Site::Free => Call {
            call: quote!(__lk_function(#(#args),*)),
            this_param: quote!(),
            this_clone: quote!(let __lk_function = #ident;),
            unused_this: None,
            origin: quote!(::core::concat!(
                "function `", ::core::module_path!(), "::", #plain_name, "`"
            )),
        },
    }
}

/// The conversion of `__lk_returned` into `Result<ToolOutput, ToolError>`: `Result`s split into
/// their value (converted) and their error (`Into<ToolError>`), anything else converted.
fn return_conversion(tool: &Tool, root_path: &TokenStream) -> TokenStream {
    match &tool.item.sig.output {
        ReturnType::Type(_, ty) if is_result(ty) => {
            let (ok_ty, error_ty) = result_type_args(ty);
            let ok_span = ok_ty.map_or_else(|| first_span(ty), first_span);
            let ok = convert_value(quote!(__lk_value), ok_span, root_path);
            let error_span = error_ty.map_or_else(|| first_span(ty), first_span);
            let error_root = respan(root_path.clone(), error_span);
            let error = quote_spanned! {error_span=>
                #error_root::__private::tool_error(__lk_error)
            };
            quote! {
                match __lk_returned {
                    ::core::result::Result::Ok(__lk_value) => #ok,
                    ::core::result::Result::Err(__lk_error) => ::core::result::Result::Err(#error),
                }
            }
        }
        ReturnType::Type(_, ty) => convert_value(quote!(__lk_returned), first_span(ty), root_path),
        ReturnType::Default => {
            convert_value(quote!(__lk_returned), tool.item.sig.ident.span(), root_path)
        }
    }
}

/// The conversion of `value` into `Result<ToolOutput, ToolError>`, by autoref specialization:
/// through `IntoToolOutput` (on `&OutputValue<T>`), else as JSON through `Serialize` (on
/// `&&OutputValue<T>`), else through `ReturnValueFallback` (on `&mut &OutputValue<T>`), whose
/// method cannot be called: its where-clause reports the type, on the user's return type
/// (`span`), with what to do. Every token is spanned there, the crate path too.
fn convert_value(value: TokenStream, span: Span, root_path: &TokenStream) -> TokenStream {
    let root_path = respan(root_path.clone(), span);
    quote_spanned! {span=> {
        #[allow(unused_imports)]
        use #root_path::__private::{ViaIntoToolOutput as _, ViaSerialize as _};
        #[diagnostic::on_unimplemented(
            message = "`{Self}` cannot be returned from a function tool",
            label = "neither `IntoToolOutput` nor `Serialize`",
            note = "return `()`, text, a number, `ToolOutput`, a type implementing \
                    `IntoToolOutput`, or a type implementing `Serialize` (sent as JSON); \
                    fallible tools return `Result<T, E>` with `E: Into<ToolError>`"
        )]
        trait IntoToolOutputOrSerialize {}
        enum __LkNever {}
        #[diagnostic::do_not_recommend]
        impl IntoToolOutputOrSerialize for __LkNever {}
        #[allow(dead_code)]
        trait ReturnValueFallback<T> {
            fn __into_tool_result(
                &mut self,
            ) -> ::core::result::Result<#root_path::__private::ToolOutput, #root_path::__private::ToolError>
            where
                T: IntoToolOutputOrSerialize;
        }
        #[allow(dead_code)]
        impl<T> ReturnValueFallback<T> for &#root_path::__private::OutputValue<T> {
            fn __into_tool_result(
                &mut self,
            ) -> ::core::result::Result<#root_path::__private::ToolOutput, #root_path::__private::ToolError>
            where
                T: IntoToolOutputOrSerialize,
            {
                ::core::result::Result::Err(#root_path::__private::tool_error(""))
            }
        }
        // The borrow picks the conversion; clippy can't see that.
        #[allow(clippy::needless_borrow)]
        let __lk_result = (&#root_path::__private::OutputValue::new(#value)).__into_tool_result();
        __lk_result
    }}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_types() {
        let ty: Type = syn::parse_quote!(std::result::Result<Forecast, MyError>);
        assert!(is_result(&ty));
        let (ok, error) = result_type_args(&ty);
        assert_eq!(ok.map(|ty| ty.to_token_stream().to_string()).as_deref(), Some("Forecast"));
        assert_eq!(error.map(|ty| ty.to_token_stream().to_string()).as_deref(), Some("MyError"));

        let ty: Type = syn::parse_quote!(anyhow::Result<u8>);
        assert!(is_result(&ty));
        assert!(matches!(result_type_args(&ty), (Some(_), None)));
        assert!(!is_result(&syn::parse_quote!(Option<u8>)));
    }
}
