//! Expansion of one function tool: a method collected by `#[function_tools]`, or a free `async fn`.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Generics, Ident, Pat, ReturnType, Signature, Type, Visibility};

use crate::docs;
use crate::options::{ArgOptions, ToolOptions};
use crate::paths::Root;

/// Where the function stands.
pub(crate) enum Site<'a> {
    /// A free function (or an associated function outside `#[function_tools]`).
    Free,
    /// A method or associated function inside a `#[function_tools]` impl block.
    Impl { generics: &'a Generics, self_ty: &'a Type, root: &'a Root },
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
    /// The generated constructor, when the tool had no error.
    pub(crate) constructor: Option<TokenStream>,
    /// The name of the generated constructor.
    pub(crate) constructor_name: Ident,
    /// Every error found, combined.
    pub(crate) errors: Option<syn::Error>,
}

struct Param {
    ident: Ident,
    ty: Type,
    description: Option<TokenStream>,
    default: Option<syn::Expr>,
    /// `#[arg(required)]`: required although optional.
    required: bool,
    /// `#[serde(...)]` and `#[schemars(...)]` attributes, moved onto the arguments field.
    field_attrs: Vec<Attribute>,
}

enum CallArg {
    Context,
    Param(usize),
}

fn push_error(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(existing) => existing.combine(error),
        None => *errors = Some(error),
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

fn is_run_context(ty: &Type) -> bool {
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

/// Expands one tool. Never fails: errors are returned beside a best-effort expansion.
pub(crate) fn expand(options: ToolOptions, mut item: ToolFn, site: Site<'_>) -> Expansion {
    let mut errors = None;
    let ident = item.sig.ident.clone();
    let plain_name = ident.to_string().trim_start_matches("r#").to_owned();

    if item.sig.asyncness.is_none() {
        push_error(
            &mut errors,
            syn::Error::new(
                item.sig.fn_token.span(),
                "a function tool must be an `async fn` (the session awaits each call): add `async`",
            ),
        );
    }
    if let Some(unsafety) = &item.sig.unsafety {
        push_error(
            &mut errors,
            syn::Error::new(
                unsafety.span,
                "a function tool cannot be `unsafe`: the model calls it with any arguments; \
                 keep the `unsafe` block inside a safe `async fn`",
            ),
        );
    }
    if let Some(param) = item.sig.generics.params.first() {
        push_error(
            &mut errors,
            syn::Error::new(
                param.span(),
                "a function tool cannot be generic: its arguments are deserialized from the \
                 model's JSON, so their types must be concrete",
            ),
        );
    }

    // Parameters: the receiver, the context, the arguments.
    let mut has_receiver = false;
    let mut params: Vec<Param> = Vec::new();
    let mut call_args: Vec<CallArg> = Vec::new();
    // The pattern of the `RunContext` parameter, once seen.
    let mut context_seen: Option<String> = None;
    let generic_names: Vec<Ident> = match &site {
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
    for input in item.sig.inputs.iter_mut() {
        match input {
            FnArg::Receiver(receiver) => {
                has_receiver = true;
                let by_shared_ref = receiver.reference.is_some()
                    && receiver.mutability.is_none()
                    && receiver.colon_token.is_none();
                if !by_shared_ref {
                    let message = if receiver.reference.is_some() && receiver.mutability.is_some() {
                        "a tool method takes `&self`, not `&mut self`: calls may run concurrently; \
                         keep mutable state behind a `Mutex` or an atomic"
                    } else {
                        "a tool method takes `&self`: the value is shared (in an `Arc`) between \
                         concurrent calls, so it cannot be taken by value"
                    };
                    let span = match (&receiver.reference, &receiver.mutability) {
                        (Some(_), Some(mutability)) => mutability.span(),
                        _ => receiver.span(),
                    };
                    push_error(&mut errors, syn::Error::new(span, message));
                }
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
                        if let Err(error) = arg_options.merge(&attr) {
                            push_error(&mut errors, error);
                        }
                    } else {
                        kept.push(attr);
                    }
                }
                typed.attrs = kept;

                let context_by_ref = match &*typed.ty {
                    Type::Reference(reference) if is_run_context(&reference.elem) => {
                        Some(reference.and_token.span)
                    }
                    _ => None,
                };
                if let Some(span) = context_by_ref {
                    push_error(
                        &mut errors,
                        syn::Error::new(
                            span,
                            "a function tool takes `RunContext` by value (it is an `Arc` \
                             inside, cheap to clone): write `ctx: RunContext`",
                        ),
                    );
                }
                if context_by_ref.is_some() || is_run_context(&typed.ty) {
                    if let Some(first) = &context_seen {
                        push_error(
                            &mut errors,
                            syn::Error::new(
                                typed.ty.span(),
                                format!(
                                    "a function tool takes at most one `RunContext` parameter, \
                                     and `{first}` already is one; remove this one"
                                ),
                            ),
                        );
                    } else {
                        context_seen = Some(typed.pat.to_token_stream().to_string());
                    }
                    if let Some(span) = arg_options.span {
                        push_error(
                            &mut errors,
                            syn::Error::new(
                                span,
                                "`RunContext` is not an argument of the tool; it takes no `#[arg]`",
                            ),
                        );
                    }
                    for attr in &field_attrs {
                        push_error(
                            &mut errors,
                            syn::Error::new(
                                attr.path().span(),
                                format!(
                                    "`RunContext` is not an argument of the tool; it takes no \
                                     `#[{}]`",
                                    attr.path().to_token_stream()
                                ),
                            ),
                        );
                    }
                    call_args.push(CallArg::Context);
                    continue;
                }

                let param_ident = match &*typed.pat {
                    Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                        Some(pat.ident.clone())
                    }
                    other => {
                        push_error(
                            &mut errors,
                            syn::Error::new(
                                other.span(),
                                "unsupported parameter pattern: a tool argument is a plain name \
                                 with a type, such as `location: String` (the name is the JSON \
                                 property the model fills)",
                            ),
                        );
                        None
                    }
                };
                if let Some((span, token)) =
                    forbidden_token(typed.ty.to_token_stream(), &generic_names)
                {
                    let message = match token.as_str() {
                        "&" => {
                            "tool argument types must be owned (`String`, not `&str`): they are \
                                deserialized from the model's JSON"
                                .to_owned()
                        }
                        "impl" => "tool argument types must be concrete, not `impl Trait`: they \
                                   are deserialized from the model's JSON"
                            .to_owned(),
                        lifetime if lifetime.starts_with('\'') => format!(
                            "tool argument types must be owned, without the lifetime \
                             `{lifetime}`: they are deserialized from the model's JSON"
                        ),
                        other => format!(
                            "tool argument types cannot mention `{other}`: the arguments struct is \
                             generated outside the impl's generics; use a concrete type"
                        ),
                    };
                    push_error(&mut errors, syn::Error::new(span, message));
                }
                let description = match (&arg_options.description, docs::collect(&doc_attrs)) {
                    (Some(text), _) => Some(text.to_token_stream()),
                    (None, Some(doc)) if !doc.is_empty() => Some(doc.to_tokens()),
                    _ => None,
                };
                if let Some(param_ident) = param_ident {
                    call_args.push(CallArg::Param(params.len()));
                    params.push(Param {
                        ident: param_ident,
                        ty: (*typed.ty).clone(),
                        description,
                        default: arg_options.default.clone(),
                        required: arg_options.required,
                        field_attrs,
                    });
                }
            }
        }
    }

    let in_impl = matches!(site, Site::Impl { .. });
    if has_receiver && !in_impl {
        push_error(
            &mut errors,
            syn::Error::new(
                ident.span(),
                "`#[function_tool]` on a method needs `#[function_tools]` on its `impl` block, \
                 which collects the tools into `function_tools()`",
            ),
        );
    }

    // Name and description.
    let name = options.name.as_ref().map_or_else(|| plain_name.clone(), syn::LitStr::value);
    if let (Err(reason), false) = (check_name(&name), options.incomplete) {
        let span = options.name.as_ref().map_or_else(|| ident.span(), syn::LitStr::span);
        push_error(
            &mut errors,
            syn::Error::new(
                span,
                format!(
                    "invalid function tool name `{name}`: {reason}; a tool name must match \
                     ^[a-zA-Z_][a-zA-Z0-9_-]{{0,63}}$"
                ),
            ),
        );
    }
    let description = match (&options.description, docs::collect(&item.attrs)) {
        (Some(text), _) => Some(text.to_token_stream()),
        (None, Some(doc)) if !doc.is_empty() => Some(doc.to_tokens()),
        _ => None,
    };
    if description.is_none() && !options.incomplete {
        push_error(
            &mut errors,
            syn::Error::new(
                ident.span(),
                "a function tool needs a description, which tells the model when to call it: \
                 add a doc comment (`/// What the tool does.`) or \
                 `#[function_tool(description = \"...\")]`",
            ),
        );
    }

    let root = match &site {
        Site::Impl { root, .. } => {
            Ok(Root { path: root.path.clone(), string: root.string.clone() })
        }
        Site::Free => Root::resolve(options.krate.as_ref(), ident.span()),
    };
    let root = match root {
        Ok(root) => Some(root),
        Err(error) => {
            push_error(&mut errors, error);
            None
        }
    };

    let constructor_name = if in_impl {
        format_ident!("__function_tool_{}", plain_name)
    } else {
        format_ident!("{}_tool", plain_name, span = ident.span())
    };
    let function = item.to_tokens();
    let (Some(root), Some(description), None) = (root, description, &errors) else {
        return Expansion { function, constructor: None, constructor_name, errors };
    };

    let constructor = generate(GenerateInput {
        item: &item,
        site: &site,
        root: &root,
        name: &name,
        description,
        params: &params,
        call_args: &call_args,
        has_receiver,
        constructor_name: &constructor_name,
    });
    Expansion { function, constructor: Some(constructor), constructor_name, errors: None }
}

struct GenerateInput<'a> {
    item: &'a ToolFn,
    site: &'a Site<'a>,
    root: &'a Root,
    name: &'a str,
    description: TokenStream,
    params: &'a [Param],
    call_args: &'a [CallArg],
    has_receiver: bool,
    constructor_name: &'a Ident,
}

fn generate(input: GenerateInput<'_>) -> TokenStream {
    let GenerateInput {
        item,
        site,
        root,
        name,
        description,
        params,
        call_args,
        has_receiver,
        constructor_name,
    } = input;
    let root_path = &root.path;
    let serde_crate = format!("{}::__private::serde", root.string);
    let schemars_crate = format!("{}::__private::schemars", root.string);
    let ident = &item.sig.ident;
    let plain_name = ident.to_string().trim_start_matches("r#").to_owned();

    let mut defaults = Vec::new();
    let fields = params.iter().map(|param| {
        let Param { ident: field, ty, description, default, field_attrs, .. } = param;
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
        quote! { #description #default #(#field_attrs)* #field: #ty }
    });
    let fields: Vec<TokenStream> = fields.collect();
    let field_idents: Vec<&Ident> = params.iter().map(|param| &param.ident).collect();
    let args: Vec<TokenStream> = call_args
        .iter()
        .map(|arg| match arg {
            CallArg::Context => quote!(__lk_ctx),
            CallArg::Param(index) => {
                let field = &params[*index].ident;
                quote!(#field)
            }
        })
        .collect();
    let uses_context = call_args.iter().any(|arg| matches!(arg, CallArg::Context));
    let unused_context = (!uses_context).then(|| quote!(let _ = __lk_ctx;));

    let (call, this_param, this_clone, origin) = match site {
        Site::Impl { self_ty, .. } => {
            let type_name = self_ty.to_token_stream().to_string().replace(' ', "");
            let origin = quote!(::core::concat!(
                "method `", ::core::module_path!(), "::", #type_name, "::", #plain_name, "`"
            ));
            let call = if has_receiver {
                quote!(__lk_this.#ident(#(#args),*))
            } else {
                quote!(Self::#ident(#(#args),*))
            };
            (
                call,
                quote!(__lk_this: ::std::sync::Arc<Self>),
                quote!(let __lk_this = ::std::sync::Arc::clone(&__lk_this);),
                origin,
            )
        }
        Site::Free => {
            let origin = quote!(::core::concat!(
                "function `", ::core::module_path!(), "::", #plain_name, "`"
            ));
            // Called through a copy of the fn item taken before the arguments are bound, so that
            // an argument named like the function does not shadow it.
            (
                quote!(__lk_function(#(#args),*)),
                quote!(),
                quote!(let __lk_function = #ident;),
                origin,
            )
        }
    };
    let unused_this =
        (matches!(site, Site::Impl { .. }) && !has_receiver).then(|| quote!(let _ = &__lk_this;));
    let required_names: Vec<String> = params
        .iter()
        .filter(|param| param.required)
        .map(|param| param.ident.to_string().trim_start_matches("r#").to_owned())
        .collect();

    // The return value converts by autoref specialization: through `IntoToolOutput` (on
    // `&OutputValue<T>`), else as JSON through `Serialize` (on `&&OutputValue<T>`), else through
    // `ReturnValueFallback` (on `&mut &OutputValue<T>`), whose method cannot be called: its
    // where-clause reports the type, on the user's return type, with what to do. Every token is
    // spanned there, the crate path too.
    let convert = |value: TokenStream, span: Span| {
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
                ) -> ::core::result::Result<#root_path::llm::ToolOutput, #root_path::llm::ToolError>
                where
                    T: IntoToolOutputOrSerialize;
            }
            #[allow(dead_code)]
            impl<T> ReturnValueFallback<T> for &#root_path::__private::OutputValue<T> {
                fn __into_tool_result(
                    &mut self,
                ) -> ::core::result::Result<#root_path::llm::ToolOutput, #root_path::llm::ToolError>
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
    };
    let conversion = match &item.sig.output {
        ReturnType::Type(_, ty) if is_result(ty) => {
            let (ok_ty, error_ty) = result_type_args(ty);
            let ok = convert(quote!(__lk_value), ok_ty.map_or_else(|| first_span(ty), first_span));
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
        ReturnType::Type(_, ty) => convert(quote!(__lk_returned), first_span(ty)),
        ReturnType::Default => convert(quote!(__lk_returned), ident.span()),
    };

    // Spanned on the user's fn name (the crate path too), so that a `!Send` future is reported
    // on the tool itself.
    let build_root = respan(root_path.clone(), ident.span());
    let build = quote_spanned! {ident.span()=>
        #build_root::__private::macro_tool::<__LkToolArgs, _, _>(
            #name,
            #description,
            #origin,
            &[#(#required_names),*],
            move |__lk_ctx: #build_root::llm::RunContext, __lk_args: __LkToolArgs| {
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
        #vis fn #constructor_name(#this_param) -> #root_path::llm::FunctionTool {
            #unused_this
            #(#defaults)*
            #[derive(#root_path::__private::serde::Deserialize, #root_path::__private::schemars::JsonSchema)]
            #[serde(crate = #serde_crate)]
            #[schemars(crate = #schemars_crate)]
            struct __LkToolArgs {
                #(#fields,)*
            }
            #build
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn run_context_types() {
        assert!(is_run_context(&syn::parse_quote!(RunContext)));
        assert!(is_run_context(&syn::parse_quote!(agents_core::llm::RunContext)));
        assert!(!is_run_context(&syn::parse_quote!(RunContext<T>)));
        assert!(!is_run_context(&syn::parse_quote!(&RunContext)));
    }

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
