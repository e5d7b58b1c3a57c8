//! `#[function_tools]`: expands the `#[function_tool]` methods of an impl block and collects
//! them into `function_tools()`.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{ImplItem, ItemImpl, Meta};

use crate::errors::Errors;
use crate::function_tool::{self, Site, ToolFn};
use crate::options::{ImplOptions, ToolOptions};
use crate::paths::Root;

fn is_tool_attribute(attr: &syn::Attribute) -> bool {
    attr.path().segments.last().is_some_and(|segment| segment.ident == "function_tool")
}

/// The options of a method's `#[function_tool]`, removing it (and any repeat) from `attrs`;
/// `None` when the method is not a tool.
fn take_tool_options(attrs: &mut Vec<syn::Attribute>, errors: &mut Errors) -> Option<ToolOptions> {
    let position = attrs.iter().position(is_tool_attribute)?;
    let tool_attr = attrs.remove(position);
    // A second `#[function_tool]` would expand on its own, as if outside this block.
    while let Some(position) = attrs.iter().position(is_tool_attribute) {
        let again = attrs.remove(position);
        errors.at(
            again.path().span(),
            "`#[function_tool]` is given twice; put all the options in one `#[function_tool(...)]`",
        );
    }
    let options = match &tool_attr.meta {
        Meta::Path(_) => Ok(ToolOptions::default()),
        Meta::List(list) => ToolOptions::parse(list.tokens.clone()),
        Meta::NameValue(name_value) => Err(syn::Error::new(
            name_value.span(),
            "write `#[function_tool]` or `#[function_tool(name = \"...\")]`",
        )),
    };
    let mut options = errors.ok(options).unwrap_or_else(ToolOptions::incomplete);
    if let Some(krate) = options.krate.take() {
        errors.at(
            krate.span(),
            "inside `#[function_tools]`, the crate path is set once, on the impl block: \
             `#[function_tools(crate = \"...\")]`",
        );
    }
    Some(options)
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut impl_block: ItemImpl = match syn::parse2(item.clone()) {
        Ok(block) => block,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "`#[function_tools]` goes on an `impl` block whose methods carry `#[function_tool]`",
            );
            let error = error.to_compile_error();
            return quote!(#error #item);
        }
    };
    let mut errors = Errors::default();
    let options = errors.ok(ImplOptions::parse(attr)).unwrap_or_default();
    // Constructors and `function_tools()` are generated only where they can compile; otherwise
    // the methods are still emitted (cleaned of the attributes this macro consumes), beside the
    // one error that says why.
    let mut generate = true;
    if let Some((_, path, _)) = &impl_block.trait_ {
        errors.at(
            path.span(),
            "`#[function_tools]` goes on an inherent impl block (`impl MyAgent { ... }`), not on \
             a trait impl; move the `#[function_tool]` methods into one",
        );
        generate = false;
    }
    let root = Root::resolve(options.krate.as_ref(), impl_block.impl_token.span());
    let root = errors.ok(root).unwrap_or_else(|| {
        generate = false;
        Root { path: quote!(::agents_core), string: "::agents_core".to_owned() }
    });

    let generics = impl_block.generics.clone();
    let self_ty = (*impl_block.self_ty).clone();
    let mut constructors = Vec::new();
    let mut constructor_names = Vec::new();
    // Each tool name, with the method that has it: two tools of one type cannot share one.
    let mut names: HashMap<String, String> = HashMap::new();
    let mut items = Vec::with_capacity(impl_block.items.len());
    for impl_item in std::mem::take(&mut impl_block.items) {
        let ImplItem::Fn(mut method) = impl_item else {
            items.push(impl_item);
            continue;
        };
        let Some(tool_options) = take_tool_options(&mut method.attrs, &mut errors) else {
            items.push(ImplItem::Fn(method));
            continue;
        };
        let tool_fn = ToolFn {
            attrs: method.attrs,
            vis: method.vis,
            prefix: method.defaultness.map(|token| token.to_token_stream()).unwrap_or_default(),
            body: method.block.to_token_stream(),
            sig: method.sig,
        };
        let method_name = tool_fn.sig.ident.to_string();
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
        errors.append(expansion.errors);
        let (name, name_span) = expansion.name;
        match names.get(&name) {
            Some(first) => errors.at(
                name_span,
                format!(
                    "duplicate function tool name `{name}`: method `{first}` already has it, and \
                     the model could not tell the two apart; give one of them another name \
                     (`#[function_tool(name = \"...\")]`)"
                ),
            ),
            None => {
                names.insert(name, method_name);
            }
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
            pub fn function_tools(self: &::std::sync::Arc<Self>) -> ::std::vec::Vec<#root_path::__private::FunctionTool> {
                ::std::vec![#(Self::#constructor_names(::std::sync::Arc::clone(self))),*]
            }
        };
        items.push(ImplItem::Verbatim(collector));
    }
    impl_block.items = items;
    let errors = errors.to_compile_errors();
    quote!(#errors #impl_block)
}
