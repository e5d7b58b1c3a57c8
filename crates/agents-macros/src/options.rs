//! The options of `#[function_tool(...)]`, `#[function_tools(...)]` and `#[arg(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Expr, LitStr};

/// Options of `#[function_tool(...)]`.
#[derive(Default)]
pub(crate) struct ToolOptions {
    pub(crate) name: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) krate: Option<syn::Path>,
}

fn duplicate(meta: &syn::meta::ParseNestedMeta<'_>, key: &str) -> syn::Error {
    meta.error(format!("`{key}` is given twice"))
}

impl ToolOptions {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut options = Self::default();
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("name") {
                if options.name.is_some() {
                    return Err(duplicate(&meta, "name"));
                }
                options.name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("description") {
                if options.description.is_some() {
                    return Err(duplicate(&meta, "description"));
                }
                options.description = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("crate") {
                if options.krate.is_some() {
                    return Err(duplicate(&meta, "crate"));
                }
                let path: LitStr = meta.value()?.parse()?;
                options.krate = Some(path.parse()?);
            } else {
                let key = meta.path.get_ident().map_or_else(
                    || quote::ToTokens::to_token_stream(&meta.path).to_string(),
                    ToString::to_string,
                );
                return Err(meta.error(format!(
                    "unknown option `{key}`; `#[function_tool]` takes `name = \"...\"`, \
                     `description = \"...\"` and `crate = \"...\"`"
                )));
            }
            Ok(())
        });
        parser.parse2(tokens)?;
        Ok(options)
    }
}

/// Options of `#[function_tools(...)]`.
#[derive(Default)]
pub(crate) struct ImplOptions {
    pub(crate) krate: Option<syn::Path>,
}

impl ImplOptions {
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut options = Self::default();
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("crate") {
                if options.krate.is_some() {
                    return Err(duplicate(&meta, "crate"));
                }
                let path: LitStr = meta.value()?.parse()?;
                options.krate = Some(path.parse()?);
                Ok(())
            } else {
                Err(meta.error("unknown option; `#[function_tools]` takes only `crate = \"...\"`"))
            }
        });
        parser.parse2(tokens)?;
        Ok(options)
    }
}

/// Options of `#[arg(...)]` on a tool parameter.
#[derive(Default)]
pub(crate) struct ArgOptions {
    pub(crate) description: Option<LitStr>,
    pub(crate) default: Option<Expr>,
    pub(crate) span: Option<Span>,
}

impl ArgOptions {
    pub(crate) fn merge(&mut self, attr: &syn::Attribute) -> syn::Result<()> {
        self.span = Some(attr.span());
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("description") {
                if self.description.is_some() {
                    return Err(duplicate(&meta, "description"));
                }
                self.description = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("default") {
                if self.default.is_some() {
                    return Err(duplicate(&meta, "default"));
                }
                self.default = Some(meta.value()?.parse()?);
            } else {
                return Err(meta.error(
                    "unknown option; `#[arg]` takes `description = \"...\"` and `default = <expr>`",
                ));
            }
            Ok(())
        })
    }
}
