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
    pub(crate) fn to_tokens(&self) -> TokenStream {
        let Self { attrs, vis, sig, prefix, body } = self;
        quote!(#(#attrs)* #vis #prefix #sig #body)
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

/// The first token of `tokens` that is `&`, `impl`, `Self` or one of `generic_names`.
fn forbidden_token(tokens: TokenStream, generic_names: &[Ident]) -> Option<(Span, String)> {
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                if let Some(found) = forbidden_token(group.stream(), generic_names) {
                    return Some(found);
                }
            }
            TokenTree::Punct(punct) if punct.as_char() == '&' => {
                return Some((punct.span(), "&".to_owned()));
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
                "a function tool must be an `async fn`: the session awaits it",
            ),
        );
    }
    if !item.sig.generics.params.is_empty() {
        push_error(
            &mut errors,
            syn::Error::new(
                item.sig.generics.span(),
                "a function tool cannot be generic: its arguments are deserialized from the \
                 model's JSON, so their types must be concrete",
            ),
        );
    }

    // Parameters: the receiver, the context, the arguments.
    let mut has_receiver = false;
    let mut params: Vec<Param> = Vec::new();
    let mut call_args: Vec<CallArg> = Vec::new();
    let mut context_seen: Option<Span> = None;
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
                    push_error(&mut errors, syn::Error::new(receiver.span(), message));
                }
            }
            FnArg::Typed(typed) => {
                let mut arg_options = ArgOptions::default();
                let mut kept = Vec::new();
                let mut doc_attrs = Vec::new();
                for attr in typed.attrs.drain(..) {
                    if docs::is_doc(&attr) {
                        doc_attrs.push(attr);
                    } else if attr.path().is_ident("arg") {
                        if let Err(error) = arg_options.merge(&attr) {
                            push_error(&mut errors, error);
                        }
                    } else {
                        kept.push(attr);
                    }
                }
                typed.attrs = kept;

                if is_run_context(&typed.ty) {
                    if let Some(first) = context_seen {
                        let mut error = syn::Error::new(
                            typed.ty.span(),
                            "a function tool takes at most one `RunContext` parameter",
                        );
                        error.combine(syn::Error::new(first, "the first `RunContext` is here"));
                        push_error(&mut errors, error);
                    }
                    context_seen = Some(typed.ty.span());
                    if let Some(span) = arg_options.span {
                        push_error(
                            &mut errors,
                            syn::Error::new(
                                span,
                                "`RunContext` is not an argument of the tool; it takes no `#[arg]`",
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
    if let Err(reason) = check_name(&name) {
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
    if description.is_none() {
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
        let Param { ident: field, ty, description, default } = param;
        let description = description.as_ref().map(|text| quote!(#[schemars(description = #text)]));
        let default = default.as_ref().map(|expr| {
            let default_fn =
                format_ident!("__lk_default_{}", field.to_string().trim_start_matches("r#"));
            let default_path = default_fn.to_string();
            let value = match expr {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(_), .. }) => {
                    quote!(::core::convert::Into::into(#expr))
                }
                other => quote!(#other),
            };
            defaults.push(quote! {
                fn #default_fn() -> #ty { #value }
            });
            quote!(#[serde(default = #default_path)])
        });
        quote! { #description #default #field: #ty }
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
            (quote!(#ident(#(#args),*)), quote!(), quote!(), origin)
        }
    };
    let unused_this =
        (matches!(site, Site::Impl { .. }) && !has_receiver).then(|| quote!(let _ = &__lk_this;));

    let convert = |value: TokenStream| {
        quote! {{
            #[allow(unused_imports)]
            use #root_path::__private::{ViaIntoToolOutput as _, ViaSerialize as _};
            (&#root_path::__private::OutputValue::new(#value)).__into_tool_result()
        }}
    };
    let returns_result = match &item.sig.output {
        ReturnType::Type(_, ty) => is_result(ty),
        ReturnType::Default => false,
    };
    let conversion = if returns_result {
        let ok = convert(quote!(__lk_value));
        quote! {
            match __lk_returned {
                ::core::result::Result::Ok(__lk_value) => #ok,
                ::core::result::Result::Err(__lk_error) => ::core::result::Result::Err(
                    #root_path::__private::tool_error(__lk_error)
                ),
            }
        }
    } else {
        convert(quote!(__lk_returned))
    };

    // Spanned on the user's fn name, so that a `!Send` future or a bad return type is reported
    // on the tool itself.
    let build = quote_spanned! {ident.span()=>
        #root_path::__private::macro_tool::<__LkToolArgs, _, _>(
            #name,
            #description,
            #origin,
            move |__lk_ctx: #root_path::llm::RunContext, __lk_args: __LkToolArgs| {
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
