//! `#[function_tools]`: expands the `#[function_tool]` methods of an impl block and collects
//! them into `function_tools()`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{ImplItem, ItemImpl, Meta};

use crate::function_tool::{self, Site, ToolFn};
use crate::options::{ImplOptions, ToolOptions};
use crate::paths::Root;

fn is_tool_attribute(attr: &syn::Attribute) -> bool {
    attr.path().segments.last().is_some_and(|segment| segment.ident == "function_tool")
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut impl_block: ItemImpl = match syn::parse2(item.clone()) {
        Ok(block) => block,
        Err(_) => {
            let error = syn::Error::new(
                proc_macro2::Span::call_site(),
                "`#[function_tools]` goes on an `impl` block whose methods carry `#[function_tool]`",
            );
            let error = error.to_compile_error();
            return quote!(#error #item);
        }
    };
    let mut errors: Option<syn::Error> = None;
    let mut push = |error: syn::Error| match &mut errors {
        Some(existing) => existing.combine(error),
        None => errors = Some(error),
    };

    let options = ImplOptions::parse(attr).unwrap_or_else(|error| {
        push(error);
        ImplOptions::default()
    });
    // Constructors and `function_tools()` are generated only where they can compile; otherwise
    // the methods are still emitted (cleaned of the attributes this macro consumes), beside the
    // one error that says why.
    let mut generate = true;
    if let Some((_, path, _)) = &impl_block.trait_ {
        push(syn::Error::new(
            path.span(),
            "`#[function_tools]` goes on an inherent impl block (`impl MyAgent { ... }`), not on a \
             trait impl; move the `#[function_tool]` methods into one",
        ));
        generate = false;
    }
    let root = Root::resolve(options.krate.as_ref(), impl_block.impl_token.span()).unwrap_or_else(
        |error| {
            push(error);
            generate = false;
            Root { path: quote!(::agents_core), string: "::agents_core".to_owned() }
        },
    );

    let generics = impl_block.generics.clone();
    let self_ty = (*impl_block.self_ty).clone();
    let mut constructors = Vec::new();
    let mut constructor_names = Vec::new();
    let mut items = Vec::with_capacity(impl_block.items.len());
    for impl_item in std::mem::take(&mut impl_block.items) {
        let ImplItem::Fn(mut method) = impl_item else {
            items.push(impl_item);
            continue;
        };
        let Some(position) = method.attrs.iter().position(is_tool_attribute) else {
            items.push(ImplItem::Fn(method));
            continue;
        };
        let tool_attr = method.attrs.remove(position);
        // A second `#[function_tool]` would expand on its own, as if outside this block.
        while let Some(position) = method.attrs.iter().position(is_tool_attribute) {
            let again = method.attrs.remove(position);
            push(syn::Error::new(
                again.path().span(),
                "`#[function_tool]` is given twice; put all the options in one \
                 `#[function_tool(...)]`",
            ));
        }
        let tool_options = match &tool_attr.meta {
            Meta::Path(_) => Ok(ToolOptions::default()),
            Meta::List(list) => ToolOptions::parse(list.tokens.clone()),
            Meta::NameValue(name_value) => Err(syn::Error::new(
                name_value.span(),
                "write `#[function_tool]` or `#[function_tool(name = \"...\")]`",
            )),
        };
        let mut tool_options = tool_options.unwrap_or_else(|error| {
            push(error);
            ToolOptions::incomplete()
        });
        if let Some(krate) = tool_options.krate.take() {
            push(syn::Error::new(
                krate.span(),
                "inside `#[function_tools]`, the crate path is set once, on the impl block: \
                 `#[function_tools(crate = \"...\")]`",
            ));
        }
        let defaultness =
            method.defaultness.map(|token| token.to_token_stream()).unwrap_or_default();
        let tool_fn = ToolFn {
            attrs: method.attrs,
            vis: method.vis,
            sig: method.sig,
            prefix: defaultness,
            body: method.block.to_token_stream(),
        };
        let expansion = function_tool::expand(
            tool_options,
            tool_fn,
            Site::Impl { generics: &generics, self_ty: &self_ty, root: &root },
        );
        items.push(ImplItem::Verbatim(expansion.function));
        if !generate {
            // The placement error says it all; the tool's own errors can wait until it moves.
            continue;
        }
        if let Some(error) = expansion.errors {
            push(error);
        }
        if let Some(constructor) = expansion.constructor {
            constructors.push(ImplItem::Verbatim(constructor));
            constructor_names.push(expansion.constructor_name);
        }
    }
    if generate {
        items.extend(constructors);
        let root_path = &root.path;
        let collector = quote! {
            /// The function tools of this type's `#[function_tool]` methods, in declaration
            /// order, each bound to `self`.
            #[allow(unreachable_pub, dead_code)]
            pub fn function_tools(self: &::std::sync::Arc<Self>) -> ::std::vec::Vec<#root_path::llm::FunctionTool> {
                ::std::vec![#(Self::#constructor_names(::std::sync::Arc::clone(self))),*]
            }
        };
        items.push(ImplItem::Verbatim(collector));
    }
    impl_block.items = items;
    let errors = errors.map(|error| error.to_compile_error());
    quote!(#errors #impl_block)
}
