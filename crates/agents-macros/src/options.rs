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
    /// The options did not parse (an error was reported): the name or description may have
    /// been among them, so their absence is not an error of its own.
    pub(crate) incomplete: bool,
}

fn duplicate(meta: &syn::meta::ParseNestedMeta<'_>, key: &str) -> syn::Error {
    meta.error(format!("`{key}` is given twice"))
}

/// An option's key as written, for error messages.
fn key(path: &syn::Path) -> String {
    path.get_ident()
        .map_or_else(|| quote::ToTokens::to_token_stream(path).to_string(), ToString::to_string)
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
                return Err(meta.error(format!(
                    "unknown option `{}`; `#[function_tool]` takes `name = \"...\"`, \
                     `description = \"...\"` and `crate = \"...\"`",
                    key(&meta.path)
                )));
            }
            Ok(())
        });
        parser.parse2(tokens)?;
        Ok(options)
    }

    /// The options to go on with after `parse` failed.
    pub(crate) fn incomplete() -> Self {
        Self { incomplete: true, ..Self::default() }
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
                Err(meta.error(format!(
                    "unknown option `{}`; `#[function_tools]` takes only `crate = \"...\"` (tool \
                     options go on each method's `#[function_tool(...)]`)",
                    key(&meta.path)
                )))
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
    /// Listed in `required` even though it is an `Option` (required but nullable, as a
    /// Python `x: Optional[T]` without a default).
    pub(crate) required: bool,
    pub(crate) span: Option<Span>,
}

impl ArgOptions {
    pub(crate) fn merge(&mut self, attr: &syn::Attribute) -> syn::Result<()> {
        self.span = Some(attr.path().span());
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
            } else if meta.path.is_ident("required") {
                if self.required {
                    return Err(duplicate(&meta, "required"));
                }
                self.required = true;
            } else {
                return Err(meta.error(format!(
                    "unknown option `{}`; `#[arg]` takes `description = \"...\"`, \
                     `default = <expr>` and `required`",
                    key(&meta.path)
                )));
            }
            Ok(())
        })
    }
}
